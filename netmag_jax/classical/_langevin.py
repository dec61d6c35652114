r"""Langevin integrator for charges in a uniform field inside a hard-walled box (reduced units).

Reduced units: lengths in :math:`\ell` (disk radius or half the square side), velocities in
:math:`v_\mathrm{th} = \sqrt{k_BT/m}`, times in :math:`\ell/v_\mathrm{th}`. The equation of motion

.. math:: d\mathbf v = \omega\,(v_y, -v_x)\,dt - \gamma\,\mathbf v\,dt + \sqrt{2\gamma}\,d\mathbf W,
          \qquad d\mathbf r = \mathbf v\,dt,

with :math:`\omega = qB\ell/(m v_\mathrm{th})` (signed) and friction :math:`\gamma`, plus
specular reflection at the wall, has the stationary density
:math:`\pi \propto 1_\mathrm{box}(\mathbf r)\,e^{-v^2/2}` for every B (Bohr-van Leeuwen).

Scheme (one step of length h), an "O + B/2 A B/2" splitting:

1. O: exact Ornstein-Uhlenbeck update
   :math:`\mathbf v \leftarrow c\mathbf v + \sqrt{1-c^2}\,\boldsymbol\xi`,
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

import jax.numpy as jnp


def rotate(vx, vy, angle):
    """Rotate the 2-vectors (vx, vy) counter-clockwise by ``angle`` (radians, scalar)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return c * vx - s * vy, s * vx + c * vy


def _fold(x, v):
    """Specular reflections between walls at -1 and +1 for one coordinate (any overshoot)."""
    s = jnp.mod(x + 1.0, 4.0)
    back = s > 2.0
    return jnp.where(back, 3.0 - s, s - 1.0), jnp.where(back, -v, v)


def drift_square(x, y, vx, vy, h):
    """Free flight for time h in the square max(|x|, |y|) <= 1, exact specular reflections."""
    x, vx = _fold(x + h * vx, vx)
    y, vy = _fold(y + h * vy, vy)
    return x, y, vx, vy


def drift_disk(x, y, vx, vy, h, n_bounce: int = 3):
    """Free flight for time h in the unit disk with up to ``n_bounce`` specular reflections.

    Each bounce: the exit time t* solves |r + v t|^2 = 1 (larger root), the velocity is
    mirrored in the normal at the hit point and the flight continues for h - t*. With
    |v| h << 1 a second bounce is already rare; a final radial clamp guards round-off.
    Component arrays (structure of arrays) keep XLA's CPU loops fused.
    """
    t_left = jnp.full_like(x, h)
    for _ in range(n_bounce):
        ex, ey = x + t_left * vx, y + t_left * vy
        out = ex * ex + ey * ey > 1.0
        a = jnp.where(out, vx * vx + vy * vy, 1.0)
        b = x * vx + y * vy
        c = x * x + y * y - 1.0
        t_hit = jnp.clip((-b + jnp.sqrt(jnp.maximum(b * b - a * c, 0.0))) / a, 0.0, t_left)
        hx, hy = x + t_hit * vx, y + t_hit * vy
        inv = 1.0 / jnp.maximum(jnp.sqrt(hx * hx + hy * hy), 1e-30)
        nx, ny = hx * inv, hy * inv
        vn2 = 2.0 * (vx * nx + vy * ny)
        x, y = jnp.where(out, hx, ex), jnp.where(out, hy, ey)
        vx, vy = jnp.where(out, vx - vn2 * nx, vx), jnp.where(out, vy - vn2 * ny, vy)
        t_left = jnp.where(out, t_left - t_hit, 0.0)
    x, y = x + t_left * vx, y + t_left * vy
    rad = jnp.sqrt(x * x + y * y)
    shrink = jnp.where(rad > 1.0, 1.0 / jnp.maximum(rad, 1.0), 1.0)
    return x * shrink, y * shrink, vx, vy


def step(state, xi, omega, h, c_ou, geometry: str):
    """One O + B/2 A B/2 step (module docstring).

    Args:
        state: (x, y, vx, vy), each shape (N,), reduced units.
        xi: (xi_x, xi_y), N(0, 1) draws, each shape (N,).
        omega: reduced cyclotron frequency q B l / (m v_th), signed scalar.
        h: reduced time step.
        c_ou: exp(-gamma h).
        geometry: "disk" or "square".
    Returns:
        the state after the step.
    """
    x, y, vx, vy = state
    s_ou = jnp.sqrt(1.0 - c_ou * c_ou)
    vx, vy = c_ou * vx + s_ou * xi[0], c_ou * vy + s_ou * xi[1]
    half = -0.5 * omega * h
    vx, vy = rotate(vx, vy, half)
    x, y, vx, vy = (drift_disk if geometry == "disk" else drift_square)(x, y, vx, vy, h)
    vx, vy = rotate(vx, vy, half)
    return x, y, vx, vy
