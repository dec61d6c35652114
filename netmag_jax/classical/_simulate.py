r"""``simulate_charges``: Langevin simulation of classical charges in a field (Bohr-van Leeuwen).

Scaling between SI and the reduced units of the integrator (see ``_langevin``):
length :math:`\ell` = disk radius or half the square side [m]; velocity
:math:`v_\mathrm{th} = \sqrt{k_BT/m}` [m/s]; time :math:`\ell/v_\mathrm{th}` [s]; moment
:math:`|q|\,\ell\,v_\mathrm{th}` [A m^2]; reduced field :math:`\omega = qB\ell/(m v_\mathrm{th})
= \ell/r_c` (signed), where :math:`r_c = m v_\mathrm{th}/(|q|B)` is the thermal cyclotron radius.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as const
from .._checks import (
    check_ndim,
    check_option,
    check_shape,
    finite,
    is_concrete,
    nonnegative,
    positive,
    require,
)
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


class _Setup(NamedTuple):
    """Static configuration of one run: what fixes shapes and branches."""

    n_particles: int
    n_steps: int
    n_burn: int
    n_record: int
    geometry: str
    init: str
    dt_given: bool
    friction_given: bool


class _Reduced(NamedTuple):
    """Checked parameters in the integrator's reduced units (module docstring)."""

    ell: jax.Array  # length unit l [m]
    v_th: jax.Array  # velocity unit sqrt(k_B T / m) [m/s]
    h: jax.Array  # reduced time step dt v_th / l
    omega: jax.Array  # reduced field l / r_c (signed)
    c_ou: jax.Array  # exp(-gamma dt)
    sgn: jax.Array  # sign of the charge
    unit_m: jax.Array  # moment unit |q| l v_th [A m^2]


def _reduce(p, setup: _Setup) -> _Reduced:
    """Tier-2 value checks (their return values are used) and the reduced parameters.

    ``p`` holds B, T, size, dt, friction, charge, mass (SI scalars); dt and friction are only
    read when given (else dt = min(0.2/|omega_c|, 0.02 l/v_th) and gamma = v_th / l).
    """
    T, mass, size = positive(p["T"], "T"), positive(p["mass"], "mass"), positive(p["size"], "size")
    B, charge = finite(p["B"], "B"), p["charge"]
    ell = size * (1.0 if setup.geometry == "disk" else 0.5)
    v_th = jnp.sqrt(const.K_B * T / mass)
    omega_c = charge * B / mass  # signed SI cyclotron frequency
    if setup.dt_given:
        dt = positive(p["dt"], "dt")
    else:  # 0.2 rad of rotation per step, and at most 0.02 l of thermal flight
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
    friction = nonnegative(p["friction"], "friction") if setup.friction_given else v_th / ell
    return _Reduced(
        ell=ell,
        v_th=v_th,
        h=dt * v_th / ell,
        omega=omega_c * ell / v_th,
        c_ou=jnp.exp(-friction * dt),
        sgn=jnp.sign(charge),
        unit_m=jnp.abs(charge) * ell * v_th,
    )


def _initial_state(k_pos, k_vel, red: _Reduced, setup: _Setup, positions, velocities, dtype):
    """Reduced (r, v), each (N, 2): uniform in the box, Maxwell (thermal) or at rest (cold)
    velocities; given positions [m] / velocities [m/s] replace the draws."""
    n = setup.n_particles
    if setup.geometry == "disk":
        u = jax.random.uniform(k_pos, (n,), dtype=dtype)
        phi = jax.random.uniform(
            jax.random.fold_in(k_pos, 1), (n,), dtype=dtype, maxval=2.0 * math.pi
        )
        r = jnp.sqrt(u)[:, None] * jnp.stack([jnp.cos(phi), jnp.sin(phi)], axis=-1)
    else:
        r = jax.random.uniform(k_pos, (n, 2), dtype=dtype, minval=-1.0, maxval=1.0)
    if setup.init == "thermal":
        v = jax.random.normal(k_vel, (n, 2), dtype=dtype)
    else:
        v = jnp.zeros((n, 2), dtype=dtype)
    if positions is not None:
        r = positions / red.ell
        if setup.geometry == "disk":
            reach = jnp.sqrt(jnp.sum(r * r, axis=-1))
        else:
            reach = jnp.max(jnp.abs(r), axis=-1)
        r = require(r, reach <= 1.0, "positions must lie inside the box")
    if velocities is not None:
        v = finite(velocities, "velocities") / red.v_th
    return r, v


def _measure(k_burn, k_run, state, red: _Reduced, setup: _Setup):
    """Burn-in, then n_steps measured steps (``lax.scan``).

    Returns the final state, the time sums per charge of (interior moment, edge moment, v^2,
    fits) in reduced units, and the trajectory (n_steps, n_record, 2) of the first charges.
    """
    dtype = state[0].dtype

    def advance(state, k):
        xi = jax.random.normal(k, (2, setup.n_particles), dtype=dtype)
        return step(state, xi, red.omega, red.h, red.c_ou, setup.geometry)

    if setup.n_burn > 0:
        state, _ = jax.lax.scan(
            lambda s, k: (advance(s, k), None), state, jax.random.split(k_burn, setup.n_burn)
        )

    def body(carry, k):
        state, acc = carry
        state = advance(state, k)
        x, y, vx, vy = state
        mom = 0.5 * red.sgn * (x * vy - y * vx)
        fi = fits_xy(x, y, vx, vy, red.omega, setup.geometry).astype(dtype)
        v2 = vx * vx + vy * vy
        acc = (acc[0] + fi * mom, acc[1] + (1.0 - fi) * mom, acc[2] + v2, acc[3] + fi)
        return (state, acc), jnp.stack([x[: setup.n_record], y[: setup.n_record]], axis=-1)

    zeros = jnp.zeros((setup.n_particles,), dtype=dtype)
    (state, acc), traj = jax.lax.scan(
        body, (state, (zeros,) * 4), jax.random.split(k_run, setup.n_steps)
    )
    return state, acc, traj


def _summarize(state, acc, traj, red: _Reduced, n_steps: int) -> ChargeMoments:
    """Time averages per charge -> sums over charges (moments) and means (v^2, fraction), with
    standard errors over the independent charges, in SI units."""
    m_int, m_edge, v2, frac = (a / n_steps for a in acc)
    root_n = math.sqrt(m_int.shape[0])

    def sum_err(x, unit):  # sum over charges and its standard error
        return jnp.sum(x) * unit, root_n * jnp.std(x, ddof=1) * unit

    def mean_err(x, unit):  # mean over charges and its standard error
        return jnp.mean(x) * unit, jnp.std(x, ddof=1) / root_n * unit

    estimates = {
        "interior": sum_err(m_int, red.unit_m),
        "edge": sum_err(m_edge, red.unit_m),
        "total": sum_err(m_int + m_edge, red.unit_m),
        "v2": mean_err(v2, red.v_th**2),
        "interior_fraction": mean_err(frac, 1.0),
    }
    with_errors = {}
    for name, (value, err) in estimates.items():
        with_errors[name], with_errors[name + "_err"] = value, err
    return ChargeMoments(
        **with_errors,
        positions=jnp.stack(state[:2], axis=-1) * red.ell,
        velocities=jnp.stack(state[2:], axis=-1) * red.v_th,
        trajectory=traj * red.ell,
    )


@eqx.filter_jit
def _run(key, params, positions, velocities, setup: _Setup) -> ChargeMoments:
    """One compiled simulation: checks, initial state, burn-in and measurement, summary."""
    red = _reduce(params, setup)
    k_pos, k_vel, k_run, k_burn = jax.random.split(key, 4)
    r, v = _initial_state(k_pos, k_vel, red, setup, positions, velocities, params["B"].dtype)
    state = (r[:, 0], r[:, 1], v[:, 0], v[:, 1])
    state, acc, traj = _measure(k_burn, k_run, state, red, setup)
    return _summarize(state, acc, traj, red, setup.n_steps)


def _check_static(n_particles, n_steps, n_burn, n_record, geometry, init) -> None:
    """Tier-1 checks of the static configuration: ValueError before tracing."""
    check_option("geometry", geometry, GEOMETRIES)
    check_option("init", init, _INITS)
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
    _check_static(n_particles, n_steps, n_burn, n_record, geometry, init)
    scalars = {"B": B, "T": T, "size": size, "charge": charge, "mass": mass}
    for name, x in {**scalars, "dt": dt, "friction": friction}.items():
        if x is not None:
            check_ndim(name, x, 0)
    for name, x in {"positions": positions, "velocities": velocities}.items():
        if x is not None:
            check_shape(name, x, (n_particles, 2))
    _concrete_checks(T, mass, size, dt, friction, B, charge)
    dtype = jnp.result_type(float)
    f = lambda x: None if x is None else jnp.asarray(x, dtype=dtype)
    params = {
        **{name: f(x) for name, x in scalars.items()},
        "dt": f(1.0 if dt is None else dt),
        "friction": f(0.0 if friction is None else friction),
    }
    setup = _Setup(
        n_particles, n_steps, n_burn, n_record, geometry, init, dt is not None, friction is not None
    )
    return _run(key, params, f(positions), f(velocities), setup)
