r"""Stoner-Wohlfarth particle and thermal stability of a single-domain grain.

Reduced energy of a uniaxial single-domain particle (Stoner & Wohlfarth, Phil. Trans. R. Soc.
A 240, 599 (1948)); theta = angle of m from the easy axis, psi = angle of the applied field,
h = H / H_K with the anisotropy field H_K = 2K / (mu0 Ms)::

    e(theta) = E / (2 K V) = sin^2(theta) / 2 - h cos(theta - psi).

Metastable branches end where e' = e'' = 0, at the astroid
h_sw(psi) = (|cos psi|^(2/3) + |sin psi|^(2/3))^(-3/2).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import constants as C
from .._checks import angle, finite, finite_result, positive, require
from ._llg import GAMMA_E

#: Neel-Arrhenius attempt time tau0 [s] used by default (1 ns, the customary recording value)
TAU0 = 1e-9


def switching_field(psi):
    r"""Stoner-Wohlfarth switching field in units of H_K (the astroid).

    h_sw(psi) = (|cos psi|^(2/3) + |sin psi|^(2/3))^(-3/2); h_sw(0) = 1, h_sw(45 deg) = 1/2.

    Args:
        psi: angle between field and easy axis [rad], any shape; finite and resolvable
            (|psi| eps <= 1e-3 rad, ``_checks.angle``: 1e300 rad is an error).
    Returns:
        h_sw, same shape (dimensionless). The astroid has cusps at psi = k pi/2, where the
        derivative is infinite.
    """
    psi = angle(psi, "psi")
    c = jnp.abs(jnp.cos(psi)) ** (2.0 / 3.0)
    s = jnp.abs(jnp.sin(psi)) ** (2.0 / 3.0)
    return (c + s) ** (-1.5)


def coercivity(psi):
    r"""Coercive field of the SW hysteresis loop in units of H_K.

    h_c = h_sw(psi) for |psi| <= 45 deg (m jumps past zero at switching), and
    h_c = |sin psi cos psi| for 45 deg < |psi| <= 90 deg (m . h crosses zero on the branch).

    Args:
        psi: field angle from the easy axis [rad], in [0, pi/2] (reduced by symmetry).
    """
    psi = angle(psi, "psi")
    a = jnp.arccos(jnp.abs(jnp.cos(psi)))  # fold into [0, pi/2]
    return jnp.where(a <= jnp.pi / 4, switching_field(a), jnp.abs(jnp.sin(a) * jnp.cos(a)))


def sw_energy(theta, h, psi):
    """Reduced SW energy e = sin^2(theta)/2 - h cos(theta - psi) (dimensionless)."""
    theta, h, psi = angle(theta, "theta"), finite(h, "h"), angle(psi, "psi")
    return 0.5 * jnp.sin(theta) ** 2 - h * jnp.cos(theta - psi)


class SWBranches(NamedTuple):
    """Equilibria of the SW particle at one (h, psi).

    Attributes:
        theta_up: angle [rad] of the minimum with the larger m . u (the branch reached from
            positive saturation), in (-pi, pi].
        theta_down: angle of the minimum with the smaller m . u (from negative saturation).
        up_exists, down_exists: whether each metastable minimum exists (when only one
            minimum exists both angles equal it and one flag is False).
        m_up, m_down: projection of m on the field direction, cos(theta - psi).
    """

    theta_up: jax.Array
    theta_down: jax.Array
    up_exists: jax.Array
    down_exists: jax.Array
    m_up: jax.Array
    m_down: jax.Array


_N_GRID = 4096


def _polish(theta, h, psi):
    """Newton-polish a minimum; the last step carries the implicit-function derivative."""
    de = lambda t: 0.5 * jnp.sin(2 * t) + h * jnp.sin(t - psi)
    d2e = lambda t: jnp.cos(2 * t) + h * jnp.cos(t - psi)

    def newton(t, _):
        curv = d2e(t)
        curv = jnp.where(curv > 1e-12, curv, 1e-12)
        return t - de(t) / curv, None

    t, _ = jax.lax.scan(newton, jax.lax.stop_gradient(theta), None, length=4)
    t = jax.lax.stop_gradient(t)
    curv = d2e(t)
    return t - de(t) / jnp.where(curv > 1e-12, curv, 1e-12)


@jax.jit
def stoner_wohlfarth(h, psi) -> SWBranches:
    r"""Stable equilibria of the Stoner-Wohlfarth particle (both hysteresis branches).

    Minima of e(theta) = sin^2(theta)/2 - h cos(theta - psi), bracketed by sign changes of
    e'(theta) on a 4096-point grid and polished by Newton's method (gradients w.r.t. h and psi
    by the implicit function theorem).
    A minimum closer than ~1e-5 (in h) to its switching field may be missed by the grid.

    Args:
        h: field in units of H_K = 2K/(mu0 Ms), scalar (vmap for arrays).
        psi: field angle from the easy axis [rad], scalar.
    Returns:
        SWBranches.
    """
    h = finite(h, "h")
    psi = angle(psi, "psi").astype(h.dtype)
    grid = jnp.linspace(-jnp.pi, jnp.pi, _N_GRID, endpoint=False, dtype=h.dtype)
    # minima bracketed by a sign change - -> + of e'(theta) (robust in float32, unlike
    # comparing energies that differ by less than the round-off of e itself)
    de = 0.5 * jnp.sin(2.0 * grid) + h * jnp.sin(grid - psi)
    is_min = (de < 0) & (jnp.roll(de, -1) >= 0)
    cu = jnp.cos(grid)
    up_score = jnp.where(is_min, cu, -jnp.inf)
    dn_score = jnp.where(is_min, -cu, -jnp.inf)
    i_up, i_dn = jnp.argmax(up_score), jnp.argmax(dn_score)
    n_min = jnp.sum(is_min)
    t_up = _polish(grid[i_up], h, psi)
    t_dn = _polish(grid[i_dn], h, psi)
    two = n_min >= 2
    up_exists = two | (cu[i_up] > 0)
    down_exists = two | (cu[i_dn] <= 0)
    wrap = lambda t: jnp.arctan2(jnp.sin(t), jnp.cos(t))
    t_up, t_dn = wrap(t_up), wrap(t_dn)
    return SWBranches(t_up, t_dn, up_exists, down_exists, jnp.cos(t_up - psi), jnp.cos(t_dn - psi))


class SWLoop(NamedTuple):
    """A Stoner-Wohlfarth hysteresis loop (fields in units of H_K).

    Attributes:
        h: field values, descending then ascending, shape (2n,).
        m: m . h_hat along the loop, shape (2n,).
        coercivity: field where the descending branch crosses m . h_hat = 0 (positive number).
        remanence: m . h_hat at h = 0 on the descending branch.
    """

    h: jax.Array
    m: jax.Array
    coercivity: jax.Array
    remanence: jax.Array


@functools.partial(jax.jit, static_argnames=("n",))
def sw_loop(psi, h_max: float = 2.0, n: int = 401) -> SWLoop:
    """Hysteresis loop of the SW particle at field angle psi [rad] (fields in units of H_K).

    The descending sweep h_max -> -h_max follows the up branch while it exists, then the down
    branch; the ascending sweep is its mirror image.

    Args:
        psi: field angle from the easy axis [rad], scalar.
        h_max: sweep amplitude (> h_sw(psi) to close the loop).
        n: points per half loop (static).
    """
    h_max = positive(h_max, "h_max")
    hs = jnp.linspace(h_max, -h_max, n)
    br = jax.vmap(lambda h: stoner_wohlfarth(h, psi))(hs)
    m_desc = jnp.where(br.up_exists, br.m_up, br.m_down)
    m_asc = jnp.where(br.down_exists, br.m_down, br.m_up)[::-1]
    # coercivity: first sign change of the descending branch, interpolated
    s = jnp.sign(m_desc)
    i = jnp.argmax((s[:-1] > 0) & (s[1:] <= 0))
    f = m_desc[i] / (m_desc[i] - m_desc[i + 1])
    hc = -(hs[i] + f * (hs[i + 1] - hs[i]))
    rem = stoner_wohlfarth(jnp.zeros_like(hs[0]), psi)
    return SWLoop(jnp.concatenate([hs, hs[::-1]]), jnp.concatenate([m_desc, m_asc]), hc, rem.m_up)


def anisotropy_field(K, Ms):
    """Anisotropy field H_K = 2 K / (mu0 Ms) [A/m]; K [J/m^3], Ms [A/m] (> 0)."""
    Ms = positive(Ms, "Ms")
    return finite_result(2.0 * finite(K, "K") / (C.MU_0 * Ms), "anisotropy_field", ("K", "Ms"))


def thermal_stability(K, V, T):
    r"""Thermal stability factor Delta = K V / (k_B T) (zero-field barrier over k_B T).

    Args:
        K: uniaxial anisotropy constant [J/m^3] (> 0).
        V: grain volume [m^3] (> 0).
        T: temperature [K] (> 0).
    """
    K, V, T = positive(K, "K"), positive(V, "V"), positive(T, "T")
    # K (V / k_B T): no intermediate underflow for K or V as small as 1e-300
    delta = K * (V / (C.K_B * T))
    return finite_result(delta, "thermal_stability K V / k_B T", ("K", "V", "T"))


def energy_barrier(K, V, h=0.0):
    """Barrier of a uniaxial grain in an easy-axis field opposing m: K V (1 - h)^2 [J].

    h = H/H_K (Stoner-Wohlfarth, psi = 0), finite: h < 0 is a field along m (a higher
    barrier, the same formula), h >= 1 leaves no metastable state (barrier 0).
    K [J/m^3], V [m^3] (> 0).
    """
    h = finite(h, "h")
    return positive(K, "K") * positive(V, "V") * jnp.where(h < 1.0, (1.0 - h) ** 2, 0.0)


def retention_time(K, V, T, tau0=TAU0):
    r"""Neel-Arrhenius retention (relaxation) time tau = tau0 exp(K V / (k_B T)) [s].

    Args:
        K: anisotropy constant [J/m^3]; V: grain volume [m^3]; T: temperature [K];
        tau0: attempt time [s], default 1 ns.
    """
    tau = positive(tau0, "tau0") * jnp.exp(thermal_stability(K, V, T))
    return finite_result(tau, "retention_time", ("K", "V", "T", "tau0"))


def brown_escape_time(K, Ms, V, T, alpha, gamma=None):
    r"""Brown's high-barrier escape time from one well of a uniaxial particle (zero field).

    1/tau = (alpha gamma mu0 H_K / (1 + alpha^2)) sqrt(Delta / pi) exp(-Delta),
    Delta = K V / (k_B T), H_K = 2K/(mu0 Ms) (Brown, Phys. Rev. 130, 1677 (1963); the
    relaxation time of <m_z> is tau / 2). Valid for Delta >~ 3; Delta < 1 is an error
    (``eqx.error_if``): the asymptotic tau ~ Delta^(-1/2) e^Delta turns at Delta = 1/2 and
    grows as the barrier vanishes, which no escape time does.

    Args:
        K [J/m^3], Ms [A/m], V [m^3], T [K], alpha (dimensionless),
        gamma [rad s^-1 T^-1] (default |gamma_e|).
    """
    gamma = GAMMA_E if gamma is None else positive(gamma, "gamma")
    delta = thermal_stability(K, V, T)
    delta = require(
        delta,
        delta >= 1.0,
        "brown_escape_time: Delta = K V / (k_B T) must be >= 1 (high-barrier formula; check K,"
        " V, T)",
    )
    alpha = positive(alpha, "alpha")
    rate = (
        alpha
        * gamma
        * C.MU_0
        * anisotropy_field(K, Ms)
        / (1.0 + alpha**2)
        * jnp.sqrt(delta / jnp.pi)
        * jnp.exp(-delta)
    )
    return finite_result(1.0 / rate, "brown_escape_time", ("K", "Ms", "V", "T", "alpha", "gamma"))
