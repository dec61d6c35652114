"""Signal models in the ``model(x, *params)`` form used by ``curve_fit`` / ``fit_voxels``.

Relaxometry signal equations (SI: times in s, angles in rad) and magnetometry models
(fields in T, temperatures in K, moments in Bohr magnetons per ion).

Every model here is a NaN-in/NaN-out adapter (documented as such in each docstring): the
fit engine evaluates it at trial parameters that may leave the physical range (T2 < 0, ...),
so it has no value checks; ``curve_fit`` / ``fit_voxels`` validate the data, sigma and p0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .. import constants as _c, mri, statmech as _statmech
from ..mri._steady_state import ernst_unchecked


# --- relaxometry --------------------------------------------------------------------------------
def exponential_decay(t, M0, T2):
    r"""Mono-exponential decay :math:`S(t) = M_0 e^{-t/T_2}` (multi-echo spin echo).

    Args:
        t: (m,) echo times [s]. M0: amplitude [signal units]. T2: decay time [s].

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    return M0 * jnp.exp(-t / T2)


def inversion_recovery_signed(TI, a, b, T1):
    r"""Signed inversion recovery :math:`S(TI) = a + b\, e^{-TI/T_1}` (Barral et al. 2010).

    Ideal inversion with full recovery gives b = -2a; imperfect inversion or short TR give
    |b| < 2|a|. The phase-corrected real signal of a complex acquisition follows this model.
    (The sequence that produces it is ``mri.inversion_recovery``; its ideal closed form is
    ``mri.inversion_recovery_signal``, the special case a = M0, b = -2 M0.)

    Args:
        TI: (m,) inversion times [s]. a, b: amplitudes [signal units]. T1: [s].

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    return a + b * jnp.exp(-TI / T1)


def inversion_recovery_magnitude(TI, a, b, T1):
    r"""Magnitude inversion recovery :math:`|a + b\, e^{-TI/T_1}|` (sign lost at the null).

    Args: as ``inversion_recovery_signed``.

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    s = inversion_recovery_signed(TI, a, b, T1)
    return jnp.sqrt(s * s + 1e-30)


def inversion_recovery_complex(TI, a, b, T1, phi):
    r"""Complex inversion recovery :math:`(a + b\, e^{-TI/T_1})\, e^{i\phi}`.

    A single receive phase phi [rad] multiplies the whole signed curve (coil phase, B0 offset),
    so the fit needs no polarity restoration.

    Args: as ``inversion_recovery_signed``, plus phi [rad].

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    s = inversion_recovery_signed(TI, a, b, T1)
    return lax.complex(s * jnp.cos(phi), s * jnp.sin(phi))


def spgr(alpha, M0, T1, TR):
    r"""Spoiled gradient echo steady state (Ernst): :math:`S = M_0 \sin\alpha
    \frac{1 - E_1}{1 - E_1\cos\alpha}`, :math:`E_1 = e^{-TR/T_1}` (variable flip angle T1).

    The fitting form (flip angle first) of ``mri.ernst_signal``, NaN in / NaN out (no value
    checks: a trial step of the optimiser may leave the physical range).

    Args:
        alpha: (m,) actual flip angles [rad] (nominal angle times the B1 scale).
        M0: amplitude (includes T2* weighting at TE). T1: [s]. TR: repetition time [s].

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    return ernst_unchecked(alpha, TR, T1, M0)


def cpmg_epg(n_echoes: int, esp, T2, T1, B1, refocus=jnp.pi):
    r"""CPMG echo amplitudes by extended phase graphs, with stimulated echoes (Hennig 1988).

    The fitting form of ``mri.epg_cpmg``: excitation B1 * 90 deg, then ``n_echoes`` refocusing
    pulses of B1 * ``refocus`` about the axis of the excited magnetization (CPMG condition),
    spaced ``esp``; the echo amplitude is :math:`|F_0^+|` at each echo time k * esp (the
    magnitude does not depend on the handedness of the rotations). With B1 = 1 and
    refocus = pi it reduces to :math:`e^{-k\,esp/T_2}` exactly; B1 < 1 mixes in stimulated
    echoes (the even/odd pattern that makes mono-exponential T2 fits biased).

    T2 is clipped into the physical domain (0, 2 T1] that the EPG engine checks, so trial
    steps of a fit outside it give finite values instead of a run-time error (bound T2 in
    the fit to stay inside).

    Args:
        n_echoes: number of echoes (static int).
        esp: echo spacing [s]. T2, T1: relaxation times [s]. B1: transmit scale (1 = nominal).
        refocus: nominal refocusing angle [rad].
    Returns:
        (n_echoes,) echo amplitudes for unit equilibrium magnetization, in the float type of
        T2 and B1.

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    dt = jnp.result_type(T2, float)
    T2 = jnp.clip(jnp.asarray(T2, dt), jnp.finfo(dt).tiny, 2.0 * jnp.asarray(T1, dt))
    B1 = jnp.asarray(B1, dt)
    angles = jnp.full((n_echoes,), B1 * refocus, dt)
    excitation = B1 * (jnp.pi / 2)  # traced: epg_cpmg takes arrays though annotated float
    echoes = mri.epg_cpmg(angles, esp, T1, T2, excitation=excitation)  # pyright: ignore[reportArgumentType]
    return jnp.abs(echoes).astype(dt)


# --- magnetometry -------------------------------------------------------------------------------
def brillouin_moment(B, T, g, J, theta=0.0):
    r"""Moment per ion along B of free moments, :math:`m = g J B_J(g\mu_B J B / k_B (T - \theta))`.

    theta [K] is an optional Weiss temperature (mean-field shift, 0 = free ions).

    Args:
        B: field mu0 H [T]. T: temperature [K] (> theta). g: Lande factor. J: angular
        momentum (multiple of 1/2). theta: Weiss temperature [K].
    Returns:
        moment per ion in Bohr magnetons, broadcast shape of the inputs.

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    x = g * _c.MU_B * J * B / (_c.K_B * (T - theta))
    return g * J * _statmech.brillouin(J, x)


def curie_weiss_chi(T, C, theta, chi0):
    r"""Curie-Weiss susceptibility with a temperature-independent term,
    :math:`\chi(T) = C / (T - \theta) + \chi_0`.

    Units are the user's (cgs emu/mol or SI): C has the unit of chi times K.
    mu_eff = sqrt(C / constants.CURIE_CGS_PER_MUEFF2) Bohr magnetons when chi is in emu/mol.
    The same law as ``statmech.curie_weiss`` plus chi0, without its run-time checks (C > 0,
    T > theta): the trial steps of a fit may leave that domain and must not raise.

    Args:
        T: temperature [K] (> theta). C: Curie constant. theta: Weiss temperature [K]
        (> 0 ferromagnetic, < 0 antiferromagnetic). chi0: T-independent part (diamagnetism,
        Van Vleck).

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    return C / (T - theta) + chi0


def _newton_elementwise(residual, y0, max_steps=60):
    """Newton on an elementwise residual (each point its own scalar equation); derivative
    by one forward-mode pass with unit tangents. Not differentiated (see custom_root)."""
    tol = 1e-12 if y0.dtype == jnp.float64 else 1e-5

    def step(carry):
        m, k, _ = carry
        f, df = jax.jvp(residual, (m,), (jnp.ones_like(m),))
        done = jnp.max(jnp.abs(f)) <= tol * (1.0 + jnp.max(jnp.abs(m)))
        return jnp.where(done, m, m - f / df), k + 1, done

    def more(carry):
        return ~carry[2] & (carry[1] < max_steps)

    m, _, done = lax.while_loop(more, step, (y0, 0, jnp.array(False)))
    return jnp.where(done, m, jnp.nan)


def brillouin_weiss_moment(B, T, g, J, theta):
    r"""Moment per ion of free moments in a Weiss molecular field, solved self-consistently:

    .. math::
        m = g J B_J\!\Big(\frac{g\mu_B J (B + \lambda m)}{k_B T}\Big),\qquad
        \lambda = \frac{3 k_B\theta}{g^2 J(J+1)\mu_B}\ [\mathrm{T}/\mu_B],

    so that the small-field susceptibility is the Curie-Weiss law C / (T - theta). Newton per
    point from the free-ion moment (from saturation g J along B when theta > 0, the ordered
    branch below theta), implicit derivatives by ``jax.lax.custom_root``. NaN where Newton
    fails (a fit rejects the step). The adapter form of ``statmech.MeanFieldIon`` for a free
    ion with a traced J (``MeanFieldIon`` fixes J, for crystal fields).

    Args:
        B: field mu0 H [T]. T: temperature [K] (> 0). g: Lande factor. J: angular momentum
        (multiple of 1/2). theta: Weiss temperature [K] (< 0 antiferromagnetic).
    Returns:
        moment per ion along B [mu_B], broadcast shape of the inputs.

    NaN-in/NaN-out adapter: no value checks (it runs inside the optimiser, whose trial steps
    may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the data and p0).
    """
    B, T, g, J, theta = jnp.broadcast_arrays(
        *(jnp.asarray(a, jnp.result_type(B, float)) for a in (B, T, g, J, theta))
    )
    lam = 3.0 * _c.K_B * theta / (g * g * J * (J + 1.0) * _c.MU_B)
    sat = g * J
    scale = g * _c.MU_B * J / (_c.K_B * T)

    def residual(m):
        return m - sat * _statmech.brillouin(J, scale * (B + lam * m))

    y0 = jnp.where(theta > 0, sat * jnp.sign(B), sat * _statmech.brillouin(J, scale * B))
    return lax.custom_root(
        residual,
        lax.stop_gradient(y0),
        _newton_elementwise,
        lambda linear, rhs: rhs / linear(jnp.ones_like(rhs)),
    )
