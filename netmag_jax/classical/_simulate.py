r"""``simulate_charges``: Langevin simulation of classical charges in a field (Bohr-van Leeuwen).

Scaling between SI and the reduced units of the integrator (see ``_langevin``):
length :math:`\ell` = disk radius or half the square side [m]; velocity
:math:`v_\mathrm{th} = \sqrt{k_BT/m}` [m/s]; time :math:`\ell/v_\mathrm{th}` [s]; moment
:math:`|q|\,\ell\,v_\mathrm{th}` [A m^2]; reduced field :math:`\omega = qB\ell/(m v_\mathrm{th})
= \ell/r_c` (signed), where :math:`r_c = m v_\mathrm{th}/(|q|B)` is the thermal cyclotron radius.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as const
from .._checks import check_ndim, check_option, check_shape, finite, is_concrete, require
from ._langevin import step
from ._moments import GEOMETRIES, fits_xy

#: Largest allowed |omega_c| dt (radians of cyclotron rotation per step): >= 12.5 steps/period.
MAX_CYCLOTRON_ANGLE = 0.5
#: Largest allowed v_th dt / l (thermal flight per step over the box scale).
MAX_THERMAL_STEP = 0.1
_INITS = ("thermal", "cold")


class ChargeMoments(eqx.Module):
    """Time-averaged orbital moments of N independent classical charges, with errors.

    Moments are along z (the field direction), summed over the N charges, in A m^2 (= J/T).
    Errors are one standard error: the charges are independent runs, so the error of a sum is
    sqrt(N) times the standard deviation over charges of each charge's time average.

    Attributes:
        interior, interior_err: charges whose cyclotron circle lies inside the box.
        edge, edge_err: charges whose circle meets the wall (skipping orbits).
        total, total_err: interior + edge (the full (q/2) sum r x v).
        v2, v2_err: time and particle average of v^2 [m^2/s^2] (2 k_B T / m in equilibrium).
        interior_fraction, interior_fraction_err: time-averaged fraction of interior charges.
        positions: final positions [m], shape (N, 2) (box centred at the origin).
        velocities: final velocities [m/s], shape (N, 2).
        trajectory: positions of the first ``n_record`` charges at every measured step [m],
            shape (n_steps, n_record, 2).
    """

    interior: jax.Array
    interior_err: jax.Array
    edge: jax.Array
    edge_err: jax.Array
    total: jax.Array
    total_err: jax.Array
    v2: jax.Array
    v2_err: jax.Array
    interior_fraction: jax.Array
    interior_fraction_err: jax.Array
    positions: jax.Array
    velocities: jax.Array
    trajectory: jax.Array


def _concrete_checks(T, mass, size, dt, friction, B, charge):
    """Tier-1 checks on concrete inputs: ValueError before tracing."""
    vals = {"T": T, "mass": mass, "size": size}
    for name, x in vals.items():
        if is_concrete(x):
            v = float(np.asarray(x))
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    for name, x in {"B": B, "charge": charge}.items():
        if is_concrete(x) and not math.isfinite(float(np.asarray(x))):
            raise ValueError(f"{name} must be finite, got {x!r}")
    if friction is not None and is_concrete(friction):
        g = float(np.asarray(friction))
        if not math.isfinite(g) or g < 0:
            raise ValueError(f"friction must be finite and >= 0, got {g!r}")
    if dt is not None and is_concrete(dt):
        d = float(np.asarray(dt))
        if not math.isfinite(d) or d <= 0:
            raise ValueError(f"dt must be finite and > 0, got {d!r}")
        if all(is_concrete(x) for x in (B, charge, mass, T, size)):
            omega_c = abs(float(charge) * float(B) / float(mass))
            if omega_c * d > MAX_CYCLOTRON_ANGLE:
                raise ValueError(
                    f"dt = {d:g} s does not resolve the cyclotron period 2 pi m/(|q| B) = "
                    f"{2 * math.pi / omega_c:g} s: need |q B/m| dt <= {MAX_CYCLOTRON_ANGLE}"
                )
            v_th = math.sqrt(const.K_B * float(T) / float(mass))
            if v_th * d > MAX_THERMAL_STEP * float(size):
                raise ValueError(
                    f"dt = {d:g} s too large: thermal flight v_th dt must be "
                    f"<= {MAX_THERMAL_STEP} x size"
                )


@eqx.filter_jit
def _run(
    key,
    B,
    T,
    size,
    dt,
    friction,
    charge,
    mass,
    positions,
    velocities,
    *,
    n_particles,
    n_steps,
    n_burn,
    geometry,
    init,
    n_record,
    dt_given,
    friction_given,
):
    # --- tier-2 value checks (return values used below) ------------------------------------
    T = require(T, jnp.isfinite(T) & (T > 0), "T must be finite and > 0")
    mass = require(mass, jnp.isfinite(mass) & (mass > 0), "mass must be finite and > 0")
    size = require(size, jnp.isfinite(size) & (size > 0), "size must be finite and > 0")
    B = finite(B, "B")
    ell = size * (1.0 if geometry == "disk" else 0.5)
    v_th = jnp.sqrt(const.K_B * T / mass)
    omega_c = charge * B / mass  # signed SI cyclotron frequency
    if dt_given:
        dt = require(dt, jnp.isfinite(dt) & (dt > 0), "dt must be finite and > 0")
    else:
        # default: 0.2 rad of rotation per step, and at most 0.02 l of thermal flight
        w = jnp.abs(omega_c)
        w_safe = jnp.where(w > 0, w, jnp.ones_like(w))
        dt = jnp.where(w > 0, jnp.minimum(0.2 / w_safe, 0.02 * ell / v_th), 0.02 * ell / v_th)
    dt = require(
        dt,
        jnp.abs(omega_c) * dt <= MAX_CYCLOTRON_ANGLE,
        "dt does not resolve the cyclotron period: need |q B/m| dt <= 0.5",
    )
    dt = require(
        dt, v_th * dt <= MAX_THERMAL_STEP * size, "dt too large: v_th dt must be <= 0.1 x size"
    )
    if friction_given:
        friction = require(
            friction, jnp.isfinite(friction) & (friction >= 0), "friction must be finite and >= 0"
        )
    else:
        friction = v_th / ell
    h = dt * v_th / ell  # reduced step
    omega = omega_c * ell / v_th  # reduced field l / r_c (signed)
    c_ou = jnp.exp(-friction * dt)
    sgn = jnp.sign(charge)
    dtype = B.dtype

    # --- initial state: uniform in the box; Maxwell (thermal) or at rest (cold) -------------
    k_pos, k_vel, k_run, k_burn = jax.random.split(key, 4)
    if geometry == "disk":
        u = jax.random.uniform(k_pos, (n_particles,), dtype=dtype)
        phi = jax.random.uniform(
            jax.random.fold_in(k_pos, 1), (n_particles,), dtype=dtype, maxval=2.0 * math.pi
        )
        r = jnp.sqrt(u)[:, None] * jnp.stack([jnp.cos(phi), jnp.sin(phi)], axis=-1)
    else:
        r = jax.random.uniform(k_pos, (n_particles, 2), dtype=dtype, minval=-1.0, maxval=1.0)
    if init == "thermal":
        v = jax.random.normal(k_vel, (n_particles, 2), dtype=dtype)
    else:
        v = jnp.zeros((n_particles, 2), dtype=dtype)
    if positions is not None:
        r = positions / ell
        reach = (
            jnp.sqrt(jnp.sum(r * r, axis=-1))
            if geometry == "disk"
            else jnp.max(jnp.abs(r), axis=-1)
        )
        r = require(r, reach <= 1.0, "positions must lie inside the box")
    if velocities is not None:
        v = finite(velocities, "velocities") / v_th

    def advance(state, k):
        xi = jax.random.normal(k, (2, n_particles), dtype=dtype)
        return step(state, xi, omega, h, c_ou, geometry)

    state = (r[:, 0], r[:, 1], v[:, 0], v[:, 1])
    if n_burn > 0:
        state, _ = jax.lax.scan(
            lambda s, k: (advance(s, k), None), state, jax.random.split(k_burn, n_burn)
        )

    zeros = jnp.zeros((n_particles,), dtype=dtype)

    def body(carry, k):
        state, acc = carry
        state = advance(state, k)
        x, y, vx, vy = state
        mom = 0.5 * sgn * (x * vy - y * vx)
        fi = fits_xy(x, y, vx, vy, omega, geometry).astype(dtype)
        v2 = vx * vx + vy * vy
        acc = (acc[0] + fi * mom, acc[1] + (1.0 - fi) * mom, acc[2] + v2, acc[3] + fi)
        return (state, acc), jnp.stack([x[:n_record], y[:n_record]], axis=-1)

    (state, acc), traj = jax.lax.scan(
        body, (state, (zeros, zeros, zeros, zeros)), jax.random.split(k_run, n_steps)
    )
    r = jnp.stack(state[:2], axis=-1)
    v = jnp.stack(state[2:], axis=-1)
    m_int, m_edge, v2, frac = (a / n_steps for a in acc)
    m_tot = m_int + m_edge
    n = n_particles
    root_n = math.sqrt(n)

    def sum_err(x):  # sum over charges and its error
        return jnp.sum(x), root_n * jnp.std(x, ddof=1)

    def mean_err(x):
        return jnp.mean(x), jnp.std(x, ddof=1) / root_n

    unit_m = jnp.abs(charge) * ell * v_th
    (i_s, i_e), (e_s, e_e), (t_s, t_e) = sum_err(m_int), sum_err(m_edge), sum_err(m_tot)
    v2_m, v2_e = mean_err(v2)
    f_m, f_e = mean_err(frac)
    return ChargeMoments(
        interior=i_s * unit_m,
        interior_err=i_e * unit_m,
        edge=e_s * unit_m,
        edge_err=e_e * unit_m,
        total=t_s * unit_m,
        total_err=t_e * unit_m,
        v2=v2_m * v_th**2,
        v2_err=v2_e * v_th**2,
        interior_fraction=f_m,
        interior_fraction_err=f_e,
        positions=r * ell,
        velocities=v * v_th,
        trajectory=traj * ell,
    )


def simulate_charges(
    key,
    B,
    T,
    size,
    *,
    n_particles: int = 2000,
    n_steps: int = 2000,
    dt=None,
    friction=None,
    geometry: str = "disk",
    charge=-const.E_CHARGE,
    mass=const.M_E,
    n_burn: int = 0,
    init: str = "thermal",
    n_record: int = 0,
    positions=None,
    velocities=None,
) -> ChargeMoments:
    r"""Langevin simulation of N classical charges in a box in the field B ẑ; orbital moments.

    Each charge obeys :math:`m\dot{\mathbf v} = q\,\mathbf v\times B\hat z - m\gamma\mathbf v
    + \sqrt{2 m\gamma k_BT}\,\boldsymbol\eta(t)` in 2D with specular (hard-wall) reflection,
    integrated by the exact-rotation Boris splitting of ``_langevin`` (exact OU friction/noise,
    exact magnetic rotation, exact billiard flight), which leaves the Maxwell-Boltzmann law
    invariant for any dt. Vectorised over charges, ``lax.scan`` over time, jitted. At every
    step it measures :math:`\mu_z = (q/2)(\mathbf r\times\mathbf v)_z` of each charge (about the
    box centre), split into interior (cyclotron circle inside the box) and edge (skipping)
    charges; the result holds time averages summed over charges. Bohr-van Leeuwen:
    total = 0; interior = :math:`-N(k_BT/B)E(b)` (``predicted_moments``); edge = -interior.

    Invalid values raise ``ValueError`` before tracing when concrete, or an ``eqx.error_if``
    runtime error under ``jit``: T, mass, size <= 0; dt <= 0; friction < 0; dt that does not
    resolve the cyclotron period (:math:`|qB/m|\,dt > 0.5`) or the box
    (:math:`v_\mathrm{th}\,dt > 0.1\,\mathrm{size}`); non-finite B.

    Args:
        key: JAX PRNG key (same key -> same result).
        B: field along z [T], scalar, signed (B = 0 allowed).
        T: bath temperature [K], scalar, > 0.
        size: disk radius, or side length of the square [m], scalar, > 0.
        n_particles: number of independent charges N (static).
        n_steps: measured time steps (static).
        dt: time step [s]; default min(0.2/|omega_c|, 0.02 l/v_th), l = radius or half-side.
        friction: Langevin friction rate gamma [1/s], >= 0; default v_th / l.
        geometry: ``"disk"`` or ``"square"`` (hard walls, centred at the origin).
        charge: q [C], default -e.
        mass: m [kg], default m_e.
        n_burn: unmeasured steps before the measurement (static).
        init: ``"thermal"`` (exact equilibrium start: uniform positions, Maxwell velocities)
            or ``"cold"`` (uniform positions, at rest; use n_burn >> 1/(gamma dt)).
        n_record: number of charges whose trajectory is returned (static, <= n_particles).
        positions: optional initial positions [m], shape (n_particles, 2), inside the box
            (replaces the uniform draw of ``init``).
        velocities: optional initial velocities [m/s], shape (n_particles, 2) (replaces the
            draw of ``init``). The error bars assume independent, stationary charges; with a
            hand-made initial state use n_burn to equilibrate first.
    Returns:
        ChargeMoments (moments in A m^2 along z, v2 in m^2/s^2, trajectory in m).
    """
    check_option("geometry", geometry, GEOMETRIES)
    check_option("init", init, _INITS)
    for name, x in {"B": B, "T": T, "size": size, "charge": charge, "mass": mass}.items():
        check_ndim(name, x, 0)
    for name, x in {"dt": dt, "friction": friction}.items():
        if x is not None:
            check_ndim(name, x, 0)
    for name, x, lo in (
        ("n_particles", n_particles, 2),
        ("n_steps", n_steps, 1),
        ("n_burn", n_burn, 0),
        ("n_record", n_record, 0),
    ):
        if not isinstance(x, int) or isinstance(x, bool) or x < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {x!r}")
    if n_record > n_particles:
        raise ValueError(f"n_record = {n_record} exceeds n_particles = {n_particles}")
    for name, x in {"positions": positions, "velocities": velocities}.items():
        if x is not None:
            check_shape(name, x, (n_particles, 2))
    _concrete_checks(T, mass, size, dt, friction, B, charge)
    dtype = jnp.result_type(float)
    f = lambda x: None if x is None else jnp.asarray(x, dtype=dtype)  # noqa: E731
    return _run(
        key,
        f(B),
        f(T),
        f(size),
        f(1.0 if dt is None else dt),
        f(0.0 if friction is None else friction),
        f(charge),
        f(mass),
        f(positions),
        f(velocities),
        n_particles=n_particles,
        n_steps=n_steps,
        n_burn=n_burn,
        geometry=geometry,
        init=init,
        n_record=n_record,
        dt_given=dt is not None,
        friction_given=friction is not None,
    )
