"""Signal models in the ``model(x, *params)`` form used by ``curve_fit`` / ``fit_voxels``.

Relaxometry signal equations (SI: times in s, angles in rad) and magnetometry models
(fields in T, temperatures in K, moments in Bohr magnetons per ion).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .. import constants as _c
from .. import statmech as _statmech


# --- relaxometry --------------------------------------------------------------------------------
def exponential_decay(t, M0, T2):
    r"""Mono-exponential decay :math:`S(t) = M_0 e^{-t/T_2}` (multi-echo spin echo).

    Args:
        t: (m,) echo times [s]. M0: amplitude [signal units]. T2: decay time [s].
    """
    return M0 * jnp.exp(-t / T2)


def inversion_recovery(TI, a, b, T1):
    r"""Signed inversion recovery :math:`S(TI) = a + b\, e^{-TI/T_1}` (Barral et al. 2010).

    Ideal inversion with full recovery gives b = -2a; imperfect inversion or short TR give
    |b| < 2|a|. The phase-corrected real signal of a complex acquisition follows this model.

    Args:
        TI: (m,) inversion times [s]. a, b: amplitudes [signal units]. T1: [s].
    """
    return a + b * jnp.exp(-TI / T1)


def inversion_recovery_magnitude(TI, a, b, T1):
    r"""Magnitude inversion recovery :math:`|a + b\, e^{-TI/T_1}|` (sign lost at the null).

    Args: as ``inversion_recovery``.
    """
    s = inversion_recovery(TI, a, b, T1)
    return jnp.sqrt(s * s + 1e-30)


def inversion_recovery_complex(TI, a, b, T1, phi):
    r"""Complex inversion recovery :math:`(a + b\, e^{-TI/T_1})\, e^{i\phi}`.

    A single receive phase phi [rad] multiplies the whole signed curve (coil phase, B0 offset),
    so the fit needs no polarity restoration.

    Args: as ``inversion_recovery``, plus phi [rad].
    """
    s = inversion_recovery(TI, a, b, T1)
    return lax.complex(s * jnp.cos(phi), s * jnp.sin(phi))


def spgr(alpha, M0, T1, TR):
    r"""Spoiled gradient echo steady state (Ernst): :math:`S = M_0 \sin\alpha
    \frac{1 - E_1}{1 - E_1\cos\alpha}`, :math:`E_1 = e^{-TR/T_1}` (variable flip angle T1).

    Args:
        alpha: (m,) actual flip angles [rad] (nominal angle times the B1 scale).
        M0: amplitude (includes T2* weighting at TE). T1: [s]. TR: repetition time [s].
    """
    E1 = jnp.exp(-TR / T1)
    return M0 * jnp.sin(alpha) * (1.0 - E1) / (1.0 - E1 * jnp.cos(alpha))


def _cis(r, phi):
    """r e^{i phi} for real r, phi (explicit, valid under strict dtype promotion)."""
    return lax.complex(r * jnp.cos(phi), r * jnp.sin(phi))


def _epg_rotation(alpha, phi):
    """Weigel's EPG RF mixing matrix for flip alpha [rad] about the axis at phase phi."""
    alpha = jnp.asarray(alpha)
    phi = jnp.asarray(phi, alpha.dtype)
    c2 = jnp.cos(alpha / 2) ** 2
    s2 = jnp.sin(alpha / 2) ** 2
    sa = jnp.sin(alpha)
    h = jnp.pi / 2
    return jnp.stack(
        [
            jnp.stack([_cis(c2, 0.0 * phi), _cis(s2, 2 * phi), _cis(sa, phi - h)]),
            jnp.stack([_cis(s2, -2 * phi), _cis(c2, 0.0 * phi), _cis(sa, h - phi)]),
            jnp.stack(
                [_cis(0.5 * sa, -phi - h), _cis(0.5 * sa, phi + h), _cis(jnp.cos(alpha), 0.0 * phi)]
            ),
        ]
    )


def cpmg_epg(n_echoes: int, esp, T2, T1, B1, refocus=jnp.pi):
    r"""CPMG echo amplitudes by extended phase graphs, with stimulated echoes (Hennig 1988).

    Excitation B1 * 90 deg about y, then ``n_echoes`` refocusing pulses of B1 * ``refocus``
    about x, spaced ``esp``; each half echo spacing applies relaxation (E2 on transverse
    states, E1 and recovery to 1 on longitudinal states) and one dephasing shift. The echo
    amplitude is |F0+| at each echo time k * esp. With B1 = 1 and refocus = pi it reduces to
    :math:`e^{-k\,esp/T_2}` exactly; B1 < 1 mixes in stimulated echoes (the even/odd pattern
    that makes mono-exponential T2 fits biased).

    Args:
        n_echoes: number of echoes (static int).
        esp: echo spacing [s]. T2, T1: relaxation times [s]. B1: transmit scale (1 = nominal).
        refocus: nominal refocusing angle [rad].
    Returns:
        (n_echoes,) echo amplitudes for unit equilibrium magnetization.
    """
    K = n_echoes + 2  # dephasing orders reachable by the echoes that are read out
    dt = jnp.result_type(T2, float)
    ctype = jnp.complex128 if jnp.dtype(dt) == jnp.float64 else jnp.complex64
    E2 = jnp.exp(-0.5 * esp / T2)
    E1 = jnp.exp(-0.5 * esp / T1)
    B1 = jnp.asarray(B1, dt)
    state = jnp.zeros((3, K), ctype).at[2, 0].set(1.0)
    state = _epg_rotation(B1 * jnp.pi / 2, jnp.pi / 2).astype(ctype) @ state
    R = _epg_rotation(B1 * refocus, 0.0).astype(ctype)

    def relax_shift(s):
        e2, e1 = E2.astype(ctype), E1.astype(ctype)
        fp, fm, z = s[0] * e2, s[1] * e2, s[2] * e1
        z = z.at[0].add(1.0 - e1)
        fp = jnp.concatenate([jnp.zeros((1,), ctype), fp[:-1]])
        fm = jnp.concatenate([fm[1:], jnp.zeros((1,), ctype)])
        fp = fp.at[0].set(jnp.conj(fm[0]))
        return jnp.stack([fp, fm, z])

    def echo(s, _):
        s = relax_shift(s)
        s = R @ s
        s = relax_shift(s)
        return s, jnp.abs(s[0, 0])

    _, amps = lax.scan(echo, state, None, length=n_echoes)
    return amps


# --- magnetometry -------------------------------------------------------------------------------
def brillouin_moment(B, T, g, J, theta=0.0):
    r"""Moment per ion along B of free moments, :math:`m = g J B_J(g\mu_B J B / k_B (T - \theta))`.

    theta [K] is an optional Weiss temperature (mean-field shift, 0 = free ions).

    Args:
        B: field mu0 H [T]. T: temperature [K] (> theta). g: Lande factor. J: angular
        momentum (multiple of 1/2). theta: Weiss temperature [K].
    Returns:
        moment per ion in Bohr magnetons, broadcast shape of the inputs.
    """
    x = g * _c.MU_B * J * B / (_c.K_B * (T - theta))
    return g * J * _statmech.brillouin(J, x)


#: Curie constant per mole and per mu_eff^2 in cgs: N_A mu_B^2 / (3 k_B) = 0.12505 emu K/mol.
CURIE_CGS_PER_MUEFF2 = _c.N_A * (_c.MU_B * 1e3) ** 2 / (3.0 * _c.K_B * 1e7)


def curie_weiss_chi(T, C, theta, chi0):
    r"""Curie-Weiss susceptibility with a temperature-independent term,
    :math:`\chi(T) = C / (T - \theta) + \chi_0`.

    Units are the user's (cgs emu/mol or SI): C has the unit of chi times K.
    mu_eff = sqrt(C / CURIE_CGS_PER_MUEFF2) Bohr magnetons when chi is in emu/mol.

    Args:
        T: temperature [K] (> theta). C: Curie constant. theta: Weiss temperature [K]
        (> 0 ferromagnetic, < 0 antiferromagnetic). chi0: T-independent part (diamagnetism,
        Van Vleck).
    """
    return C / (T - theta) + chi0
