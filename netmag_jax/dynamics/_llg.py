r"""Landau-Lifshitz-Gilbert dynamics with thermal field and spin-transfer torque.

Equation (Gilbert form, unit vector m, field H in A/m, gamma > 0 in rad s^-1 T^-1)::

    dm/dt = -gamma mu0 m x H + alpha m x dm/dt
            - gamma mu0 H_dl m x (m x p) - gamma mu0 H_fl m x p,

with Slonczewski damping-like (H_dl) and field-like (H_fl) spin torques of polarizer p.
Solved for dm/dt it is the Landau-Lifshitz form with gamma' = gamma / (1 + alpha^2)::

    dm/dt = -gamma' mu0 [ m x H_a + m x (m x H_b) ] = omega x m,
    H_a = H + (H_fl - alpha H_dl) p,   H_b = alpha H + (H_dl + alpha H_fl) p,
    omega = gamma' mu0 (H_a + m x H_b).

Integration: the geometric (Lie-)Heun scheme. Each step rotates m about an axis, so |m| = 1
to round-off for any time step: predictor m* = R(omega(m_n) dt) m_n, corrector
m_{n+1} = R((omega(m_n) + omega(m*)) dt / 2) m_n, with R the exact (Rodrigues) rotation
``netmag_jax._numerics.rotate`` (re-exported as ``dynamics.rotate``).
It is second order for smooth fields.

Step-size bound (checked, ``eqx.error_if``, naming dt and the field): linearised about the
field direction, a deviation from m || H evolves as exp(lambda t) with
lambda = gamma' mu0 |H| (-alpha +- i), so one step has stiffness
|lambda| dt = gamma mu0 |H| dt / sqrt(1 + alpha^2) (plus the spin-torque fields |H_dl|,
|H_fl| in |H|). The relaxing part is integrated by Heun's method, whose amplification
1 - x + x^2/2 stays <= 1 in modulus only for x <= 2 on the negative real axis, and a rotation
by more than pi per step aliases (R is 2 pi-periodic). So every step must satisfy::

    s = gamma mu0 (|H + H_th| + |H_dl| + |H_fl|) dt / sqrt(1 + alpha^2) <= LLG_MAX_STEP = 2,

checked on the predictor field of every step (for a macrospin the scheme then follows the
exact relaxation; at s = 3 it does not). With the stochastic field held fixed over the step it
converges to the Stratonovich solution, the interpretation under which Brown's thermal field
gives the Boltzmann distribution. The thermal field is Gaussian white noise with Brown's
fluctuation-dissipation amplitude::

    <H_th,i(t) H_th,j(t')> = 2 alpha k_B T / (gamma mu0^2 Ms V) delta_ij delta(t - t'),

drawn per cell and step as sqrt(2 alpha k_B T / (gamma mu0^2 Ms V dt)) * N(0, 1).

Precision: follows the dtype of m0; in float32 |m| stays 1 to ~1e-7 per step (round-off only).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .. import constants as C
from .._checks import (
    check_count,
    check_real,
    check_static_positive,
    finite,
    finite_result,
    nonnegative,
    positive,
    require,
)
from .._numerics import rotate, safe_norm
from ..constants import GAMMA_E


#: largest per-step stiffness gamma mu0 |H| dt / sqrt(1 + alpha^2) of ``llg`` (dimensionless,
#: rad): Heun's real-axis stability limit, which also keeps each rotation below pi
LLG_MAX_STEP = 2.0


def cross(a, b):
    """Cross product over the last axis (size 3)."""
    return jnp.cross(a, b)


def llg_rhs(m, H, *, alpha, gamma=GAMMA_E, p=None, h_dl=0.0, h_fl=0.0):
    r"""dm/dt of the LLG equation in Landau-Lifshitz form (see module docstring).

    dm/dt = -gamma/(1+alpha^2) mu0 [m x H_a + m x (m x H_b)].

    Args:
        m: unit magnetization, shape (..., 3).
        H: effective field [A/m], shape (..., 3).
        alpha: Gilbert damping (dimensionless).
        gamma: gyromagnetic ratio [rad s^-1 T^-1].
        p: spin polarization unit vector, shape (3,) or (..., 3); None for no spin torque.
        h_dl, h_fl: damping-like and field-like spin-torque fields [A/m].
    Returns:
        dm/dt [1/s], shape of m.
    """
    return cross(_omega(m, H, alpha, gamma, p, h_dl, h_fl), m)


def _step_stiffness(H, alpha, gamma, dt, h_dl, h_fl):
    """Largest per-cell stiffness s = gamma mu0 (|H| + |h_dl| + |h_fl|) dt / sqrt(1 + alpha^2)
    of one step (see the module docstring), a scalar; NaN fields are left to the NaN check."""
    h = safe_norm(H, axis=-1) + jnp.abs(h_dl) + jnp.abs(h_fl)
    s = gamma * C.MU_0 * jnp.max(h) * dt / jnp.sqrt(1.0 + alpha * alpha)
    return jnp.where(jnp.isnan(s), 0.0, s)


def _omega(m, H, alpha, gamma, p, h_dl, h_fl):
    """Angular velocity omega with dm/dt = omega x m [rad/s]."""
    Ha, Hb = H, alpha * H
    if p is not None:
        Ha = Ha + (h_fl - alpha * h_dl) * p
        Hb = Hb + (h_dl + alpha * h_fl) * p
    return (gamma * C.MU_0 / (1.0 + alpha * alpha)) * (Ha + cross(m, Hb))


class LLGSolution(NamedTuple):
    """Trajectory of an LLG integration.

    Attributes:
        t: save times [s], shape (n_save,).
        m: magnetization at those times, shape (n_save,) + m0.shape.
    """

    t: jax.Array
    m: jax.Array


def thermal_sigma(alpha, temperature, Ms, volume, dt, gamma=GAMMA_E):
    r"""Standard deviation of each Cartesian component of Brown's thermal field [A/m].

    sigma = sqrt(2 alpha k_B T / (gamma mu0^2 Ms V dt)).

    Args:
        alpha: Gilbert damping; temperature: T [K]; Ms: saturation magnetization [A/m];
        volume: cell or particle volume V [m^3]; dt: time step [s]; gamma [rad s^-1 T^-1].
        Checked: alpha, temperature >= 0; Ms, volume, dt, gamma > 0 (all finite).
    """
    alpha, temperature = nonnegative(alpha, "alpha"), nonnegative(temperature, "temperature")
    Ms, volume = positive(Ms, "Ms"), positive(volume, "volume")
    dt, gamma = positive(dt, "dt"), positive(gamma, "gamma")
    # in steps that cannot overflow for any finite positive input that has a finite answer
    s = jnp.sqrt(2.0 * C.K_B / (gamma * C.MU_0**2)) * jnp.sqrt(alpha) * jnp.sqrt(temperature)
    s = s / jnp.sqrt(Ms) / jnp.sqrt(volume) / jnp.sqrt(dt)
    names = ("alpha", "temperature", "Ms", "volume", "dt", "gamma")
    return finite_result(s, "thermal_sigma", names)


def llg(
    m0,
    field,
    dt,
    n_steps: int,
    *,
    alpha,
    gamma=GAMMA_E,
    save_every: int = 1,
    temperature=0.0,
    Ms=None,
    volume=None,
    key=None,
    p=None,
    h_dl=0.0,
    h_fl=0.0,
    t0=0.0,
) -> LLGSolution:
    r"""Integrate the stochastic LLG equation with spin torque (geometric Heun, see module doc).

    dm/dt = -gamma' mu0 [m x H_a + m x (m x H_b)],  H = field(m, t) + H_th.

    Args:
        m0: initial unit magnetization, shape (3,) (macrospin) or (..., 3) (any field of
            spins, e.g. a mesh (nx, ny, nz, 3) or a batch of macrospins). Checked: finite
            and |m| = 1 within 1e-6.
        field: effective field [A/m]: a callable ``field(m, t) -> H`` (H shaped like m), or
            an array broadcastable to m (constant applied field).
        dt: time step [s] (> 0).
        n_steps: total number of steps (static); must be a multiple of ``save_every``.
        alpha: Gilbert damping (>= 0).
        gamma: gyromagnetic ratio [rad s^-1 T^-1], default |gamma_e| = 1.7609e11.
        save_every: save the state every this many steps (static).
        temperature: T [K] (>= 0); with T > 0, ``Ms``, ``volume`` and ``key`` are required.
        Ms: saturation magnetization [A/m], scalar or broadcastable to m[..., 0].
        volume: volume of each spin (cell or particle) [m^3], scalar or broadcastable to
            m[..., 0].
        key: ``jax.random`` key for the thermal field (same key -> same trajectory).
        p: spin-polarization unit vector, shape (3,); None disables spin torque.
        h_dl, h_fl: damping-like / field-like spin-torque fields [A/m] (see ``stt_field``).
        t0: initial time [s]; checked finite and small enough that t0 + dt > t0 (the clock
            advances in m0's dtype).
    Raises:
        equinox.EquinoxRuntimeError: (also under jit) when a step is too stiff,
            gamma mu0 |H| dt / sqrt(1 + alpha^2) > ``LLG_MAX_STEP`` = 2 for the field H of
            any cell at any step (see module docstring): reduce dt (or the field).
    Returns:
        LLGSolution(t (n_save,), m (n_save,) + m0.shape) at t0 + k save_every dt, k = 1..n_save.
    """
    m0, field, thermal = _check_static(
        m0, field, n_steps, save_every, temperature, Ms, volume, key, p, (dt, alpha, t0)
    )
    if isinstance(dt, (int, float)):
        check_static_positive("dt", dt)
    key = jax.random.PRNGKey(0) if key is None else key
    cast = lambda x: jnp.asarray(x, dtype=m0.dtype)
    opt = lambda x: None if x is None else cast(x)
    dt, alpha, gamma, temperature, h_dl, h_fl, t0 = map(
        cast, (dt, alpha, gamma, temperature, h_dl, h_fl, t0)
    )
    drive = _Drive(dt, alpha, gamma, temperature, opt(Ms), opt(volume), opt(p), h_dl, h_fl, t0)
    return _llg_jit(m0, field, drive, key, n_steps, save_every, thermal)


def _check_static(m0, field, n_steps, save_every, temperature, Ms, volume, key, p, scalars):
    """Shape and configuration checks before tracing: (m0, field callable, thermal flag);
    ``scalars`` = (dt, alpha, t0), checked to be real."""
    dt, alpha, t0 = scalars
    n_steps, save_every = check_count("n_steps", n_steps), check_count("save_every", save_every)
    if n_steps <= 0 or save_every <= 0 or n_steps % save_every:
        raise ValueError(
            f"n_steps ({n_steps}) must be a positive multiple of save_every ({save_every})"
        )
    m0 = jnp.asarray(m0)
    if m0.ndim < 1 or m0.shape[-1] != 3:
        raise ValueError(f"m0 must have shape (..., 3), got {m0.shape}")
    thermal = not (isinstance(temperature, (int, float)) and temperature == 0)
    if thermal and (Ms is None or volume is None or key is None):
        raise ValueError("a thermal field (temperature > 0) needs Ms, volume and key")
    if p is not None and jnp.shape(p) != (3,):
        raise ValueError(f"p must have shape (3,), got {jnp.shape(p)}")
    for name, v in (("m0", m0), ("dt", dt), ("alpha", alpha), ("t0", t0), ("field", field)):
        if not callable(v):
            check_real(name, v)
    if not callable(field):
        H_const = jnp.asarray(field, dtype=m0.dtype)
        if jnp.broadcast_shapes(H_const.shape, m0.shape) != m0.shape:
            raise ValueError(f"field of shape {H_const.shape} does not broadcast to m0 {m0.shape}")
        field = _ConstantField(finite(H_const, "field"))
    return m0, field, thermal


class _ConstantField(eqx.Module):
    H: jax.Array

    def __call__(self, m, t):
        return jnp.broadcast_to(self.H, m.shape).astype(m.dtype)


class _Drive(eqx.Module):
    """The numbers of one ``llg`` run as one pytree (arrays in m0's dtype, None if absent):
    dt [s], alpha, gamma [rad s^-1 T^-1], temperature [K], Ms [A/m], volume [m^3], p,
    h_dl, h_fl [A/m], t0 [s]."""

    dt: jax.Array
    alpha: jax.Array
    gamma: jax.Array
    temperature: jax.Array
    Ms: jax.Array | None
    volume: jax.Array | None
    p: jax.Array | None
    h_dl: jax.Array
    h_fl: jax.Array
    t0: jax.Array


@eqx.filter_jit
def _llg_jit(m0, field, d: _Drive, key, n_steps, save_every, thermal):
    dtype = m0.dtype
    norm = safe_norm(m0, axis=-1)
    m0 = require(
        m0, jnp.isfinite(m0).all() & (jnp.abs(norm - 1.0) < 1e-6), "m0 must be finite unit vectors"
    )
    dt = positive(d.dt, "dt")
    alpha = nonnegative(d.alpha, "alpha")
    gamma = positive(d.gamma, "gamma")
    h_dl = finite(d.h_dl, "h_dl")
    h_fl = finite(d.h_fl, "h_fl")
    p = d.p
    if p is not None:
        p = require(p, jnp.abs(safe_norm(p) - 1.0) < 1e-6, "p must be a unit vector")
    if thermal:
        T = nonnegative(d.temperature, "temperature")
        Ms = positive(jnp.asarray(d.Ms), "Ms")
        volume = positive(jnp.asarray(d.volume), "volume")
        sigma = thermal_sigma(alpha, T, Ms, volume, dt, gamma)
        sigma = jnp.broadcast_to(sigma, m0.shape[:-1])[..., None]
    t0 = finite(d.t0, "t0")
    m0 = require(m0, jnp.isfinite(t0), "t0 must be finite")  # also when only m is used
    m0 = require(
        m0,
        t0 + dt > t0,
        "t0 is too large for the time step: t0 + dt == t0 in this dtype (reduce |t0| or raise dt)",
    )

    def step(m, t, xi):
        Hth = sigma * xi if thermal else 0.0
        H1 = field(m, t) + Hth
        w1 = _omega(m, H1, alpha, gamma, p, h_dl, h_fl)
        ms = rotate(m, w1 * dt)
        w2 = _omega(ms, field(ms, t + dt) + Hth, alpha, gamma, p, h_dl, h_fl)
        return rotate(m, 0.5 * (w1 + w2) * dt), _step_stiffness(H1, alpha, gamma, dt, h_dl, h_fl)

    def block(carry, k_block):
        m, t, s = carry
        if thermal:  # all normals of the block in one call (faster than per step)
            xis = jax.random.normal(k_block, (save_every,) + m.shape, dtype)
        else:
            xis = jnp.zeros((save_every,), dtype)

        def inner(c, xi):
            mm, tt, ss = c
            mm, s_step = step(mm, tt, xi)
            return (mm, tt + dt, jnp.maximum(ss, s_step)), None

        (m, t, s), _ = jax.lax.scan(inner, (m, t, s), xis)
        return (m, t, s), (m, t)

    n_save = n_steps // save_every
    s0 = jnp.zeros((), dtype)
    (_, _, s_max), (ms, ts) = jax.lax.scan(block, (m0, t0, s0), jax.random.split(key, n_save))
    ms = require(
        ms,
        s_max <= LLG_MAX_STEP,
        "llg: a time step is too stiff for the Heun scheme: gamma mu0 |H| dt / sqrt(1 + alpha^2)"
        " exceeds 2 (reduce dt, or the field is far too large)",
    )
    ms = require(
        ms,
        jnp.isfinite(ms).all(),
        "llg: m became NaN/inf (the field returned NaN or inf, or dt is far too large)",
    )
    return LLGSolution(t=ts, m=ms)
