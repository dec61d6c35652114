r"""Langevin integrator for charges in a uniform field inside a hard-walled box (reduced units).

Reduced units: lengths in :math:`\ell` (disk radius or half the square side), velocities in
:math:`v_\mathrm{th} = \sqrt{k_BT/m}`, times in :math:`\ell/v_\mathrm{th}`. The equation of motion

.. math:: d\mathbf v = \omega\,(v_y, -v_x)\,dt - \gamma\,\mathbf v\,dt + \sqrt{2\gamma}\,d\mathbf W,
          \qquad d\mathbf r = \mathbf v\,dt,

with :math:`\omega = qB\ell/(m v_\mathrm{th})` (signed) and friction :math:`\gamma`, plus
specular reflection at the wall, has the stationary density
:math:`\pi \propto 1_\mathrm{box}(\mathbf r)\,e^{-v^2/2}` for every B (Bohr-van Leeuwen).

Scheme (one step of length h), an "O + B/2 A B/2" splitting:

1. O: exact Ornstein-Uhlenbeck update :math:`\mathbf v \leftarrow c\mathbf v + \sqrt{1-c^2}\,\boldsymbol\xi`,
   :math:`c = e^{-\gamma h}`, :math:`\boldsymbol\xi \sim N(0, 1)^2`;
2. B/2: exact rotation of v by the angle :math:`-\omega h/2` (the magnetic force alone);
3. A: free flight for h with exact specular reflections at the wall;
4. B/2: the second half rotation.

B/2 A B/2 is the Boris kick-drift-kick with the exact rotation angle (instead of Boris'
:math:`2\arctan(\omega h/2)`); it is second order, time-reversible and volume preserving, and
traces a closed polygon inscribed in the cyclotron circle. Why it samples Maxwell-Boltzmann
exactly, for any h: each sub-step leaves :math:`\pi` invariant by itself. (O) is the exact OU
transition, whose invariant law is N(0, 1) in each velocity component; (B) is a rotation of v
(Jacobian 1, |v| unchanged) and maps an isotropic velocity law to itself; (A) is the
billiard flow, volume preserving (Liouville) and |v|-conserving, so it maps
uniform(box) x f(|v|) to itself. The composition therefore has :math:`\pi` as invariant law
with no time-step bias; the noise makes it ergodic. The only dt error is in the shape of the
orbits (polygon vs circle, relative O((ωh)^2)), which affects time correlations, not averages.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rotate(v, angle):
    """Rotate 2-vectors ``v`` (..., 2) counter-clockwise by ``angle`` (radians, scalar)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _fold(x, v):
    """Specular reflections between walls at -1 and +1 for one coordinate (any overshoot)."""
    s = jnp.mod(x + 1.0, 4.0)
    back = s > 2.0
    return jnp.where(back, 3.0 - s, s - 1.0), jnp.where(back, -v, v)


def drift_square(r, v, h):
    """Free flight for time h in the square max(|x|, |y|) <= 1, exact specular reflections."""
    r = r + h * v
    x, vx = _fold(r[..., 0], v[..., 0])
    y, vy = _fold(r[..., 1], v[..., 1])
    return jnp.stack([x, y], axis=-1), jnp.stack([vx, vy], axis=-1)


def drift_disk(r, v, h, n_bounce: int = 3):
    """Free flight for time h in the unit disk with up to ``n_bounce`` specular reflections.

    Each bounce: the exit time t* solves |r + v t|^2 = 1 (larger root), the velocity is
    mirrored in the normal at the hit point and the flight continues for h - t*. With
    |v| h << 1 a second bounce is already rare; a final radial clamp guards round-off.
    """
    def body(_, state):
        r, v, t_left = state
        end = r + t_left[..., None] * v
        out = jnp.sum(end * end, axis=-1) > 1.0
        a = jnp.sum(v * v, axis=-1)
        b = jnp.sum(r * v, axis=-1)
        c = jnp.sum(r * r, axis=-1) - 1.0
        a_safe = jnp.where(out, a, jnp.ones_like(a))
        disc = jnp.maximum(b * b - a_safe * c, 0.0)
        t_hit = jnp.clip((-b + jnp.sqrt(disc)) / a_safe, 0.0, t_left)
        hit = r + t_hit[..., None] * v
        n = hit / jnp.maximum(jnp.sqrt(jnp.sum(hit * hit, axis=-1, keepdims=True)), 1e-30)
        v_ref = v - 2.0 * jnp.sum(v * n, axis=-1, keepdims=True) * n
        o = out[..., None]
        r_new = jnp.where(o, hit, end)
        v_new = jnp.where(o, v_ref, v)
        t_new = jnp.where(out, t_left - t_hit, jnp.zeros_like(t_left))
        return r_new, v_new, t_new

    t0 = jnp.full(r.shape[:-1], h, dtype=r.dtype)
    r, v, t_left = jax.lax.fori_loop(0, n_bounce, body, (r, v, t0))
    r = r + t_left[..., None] * v
    rad = jnp.sqrt(jnp.sum(r * r, axis=-1, keepdims=True))
    r = jnp.where(rad > 1.0, r / jnp.maximum(rad, 1.0), r)
    return r, v


def step(r, v, xi, omega, h, c_ou, geometry: str):
    """One O + B/2 A B/2 step (module docstring); ``xi`` standard normals shaped like v.

    Args:
        r, v: positions, velocities (N, 2), reduced units.
        xi: N(0, 1) draws, (N, 2).
        omega: reduced cyclotron frequency q B l / (m v_th), signed scalar.
        h: reduced time step.
        c_ou: exp(-gamma h).
        geometry: "disk" or "square".
    Returns:
        (r, v) after the step.
    """
    v = c_ou * v + jnp.sqrt(1.0 - c_ou * c_ou) * xi
    half = -0.5 * omega * h
    v = rotate(v, half)
    r, v = (drift_disk if geometry == "disk" else drift_square)(r, v, h)
    v = rotate(v, half)
    return r, v
