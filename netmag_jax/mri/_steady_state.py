r"""Closed-form signals of the standard sequences: the references the engine is tested against.

Spoiled gradient echo (Ernst), inversion recovery, the Hahn spin echo and balanced SSFP
(Freeman-Hill steady state), in the package's conventions (left-handed precession, pulses
about +x tip +z towards +y); times in s, angles in rad, off-resonance in Hz, signals in the
unit of M0. All are jnp expressions: differentiable and vmappable over their arguments.

Every argument is checked (``eqx.error_if``, also under jit/vmap; complex values raise
TypeError): angles finite and resolvable in their dtype (``_checks.angle``: |a| eps <= 1e-3
rad, so 1e300 rad is an error), M0 and off-resonance finite (and the bSSFP phase
2 pi df TR resolvable); TR, T1, T2, T2* finite and > 0; TE, TI
finite and >= 0; 0 < T2 <= 2 T1 (the physical bound) where both appear.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._checks import (
    angle,
    angle_ok,
    finite,
    finite_result,
    nonnegative,
    positive,
    relaxation_times,
    require,
)
from .._dtypes import complex_dtype
from .._numerics import cis


def ernst_unchecked(flip_angle, TR, T1, M0):
    """The Ernst formula of :func:`ernst_signal` without value checks (NaN in, NaN out): the
    kernel of the fit model ``fit.spgr``, whose trial steps may leave the physical range."""
    # 1 - E1 by expm1: full relative precision also for TR << T1
    one_m_e1 = -jnp.expm1(-TR / T1)
    return (
        M0
        * jnp.sin(flip_angle)
        * one_m_e1
        / (one_m_e1 + (1 - one_m_e1) * 2.0 * jnp.sin(0.5 * flip_angle) ** 2)
    )


def ernst_signal(flip_angle, TR, T1, M0=1.0, TE=0.0, T2star=None):
    r"""Spoiled-GRE steady state (Ernst & Anderson 1966):
    ``S = M0 sin(a) (1 - E1) / (1 - E1 cos a) exp(-TE/T2*)``, ``E1 = exp(-TR/T1)``."""
    flip_angle, M0 = angle(flip_angle, "flip_angle"), finite(M0, "M0")
    TR, T1 = positive(TR, "TR"), positive(T1, "T1")
    s = ernst_unchecked(flip_angle, TR, T1, M0)
    if T2star is None:
        return s
    return s * jnp.exp(-nonnegative(TE, "TE") / positive(T2star, "T2star"))


def ernst_angle(TR, T1):
    """Flip angle maximising the spoiled-GRE signal: ``arccos(exp(-TR/T1))`` [rad], computed
    as ``2 arcsin(sqrt((1 - exp(-TR/T1)) / 2))`` (exact also for TR << T1, ~sqrt(2 TR/T1))."""
    one_m_e1 = -jnp.expm1(-positive(TR, "TR") / positive(T1, "T1"))
    return 2.0 * jnp.arcsin(jnp.sqrt(0.5 * one_m_e1))


def inversion_recovery_signal(TI, T1, M0=1.0):
    """Ideal inversion recovery (full relaxation before inversion): ``M0 (1 - 2 exp(-TI/T1))``."""
    TI, T1, M0 = nonnegative(TI, "TI"), positive(T1, "T1"), finite(M0, "M0")
    return M0 * (1 - 2 * jnp.exp(-TI / T1))


def spin_echo_signal(TE, T2, M0=1.0, flip_angle=math.pi / 2, refocus_angle=math.pi):
    """Hahn echo amplitude ``M0 sin(a) sin^2(b/2) exp(-TE/T2)`` (single shot from equilibrium)."""
    TE, T2, M0 = nonnegative(TE, "TE"), positive(T2, "T2"), finite(M0, "M0")
    flip_angle = angle(flip_angle, "flip_angle")
    refocus_angle = angle(refocus_angle, "refocus_angle")
    return M0 * jnp.sin(flip_angle) * jnp.sin(refocus_angle / 2) ** 2 * jnp.exp(-TE / T2)


def bssfp_signal(flip_angle, TR, T1, T2, off_resonance=0.0, TE=None, M0=1.0, alternate=True):
    r"""Balanced-SSFP steady state (Freeman & Hill, JMR 4, 366 (1971)), complex ``Mxy`` at TE.

    Instantaneous pulses about x every TR (phase alternating 0, pi if ``alternate``), free
    precession ``-2 pi df t`` and relaxation between them. The steady state just after the
    pulse solves the 3x3 linear fixed point ``M = R_x(a) [E(TR) R_z(theta) M + (1 - E1) M0 z]``
    with ``theta = -2 pi df TR (+ pi)``; returned as the receiver sees it (ADC phase = RF phase).

    Args:
        flip_angle, TR, T1, T2, off_resonance, TE: in rad, s, s, s, Hz, s (TE default TR/2).
            Checked also: 1 - exp(-TR/T2) >= 1e3 eps (the 3x3 solve is singular as TR -> 0;
            relative round-off ~ eps / (1 - E2)), and 2 pi off_resonance TR (and TE) a
            resolvable angle (``_checks.angle_ok``).
    Returns:
        complex Mxy at TE (same unit as M0); broadcast over the arguments via vmap if needed.
    """
    a, TR, T1, T2, off_resonance, M0 = _bssfp_args(flip_angle, TR, T1, T2, off_resonance, M0)
    TE = TR / 2 if TE is None else nonnegative(TE, "TE")
    # the precession phases 2 pi df TR and 2 pi df TE must be resolvable angles
    off_resonance = require(
        off_resonance,
        angle_ok(2 * jnp.pi * off_resonance * TR) & angle_ok(2 * jnp.pi * off_resonance * TE),
        "off_resonance: the precession phase 2 pi off_resonance TR (or TE) is not a resolvable"
        " angle (|phase| eps <= 1e-3 rad)",
    )
    dtype = a.dtype
    c, s = jnp.cos(a), jnp.sin(a)
    one, zero = jnp.ones((), dtype), jnp.zeros((), dtype)
    # left-handed rotation about +x by a: z -> +y
    Rx = jnp.array([[one, zero, zero], [zero, c, s], [zero, -s, c]], dtype=dtype)

    def Rz(phi):  # right-handed rotation about z by phi
        cp, sp = jnp.cos(phi), jnp.sin(phi)
        return jnp.array([[cp, -sp, zero], [sp, cp, zero], [zero, zero, one]], dtype=dtype)

    E1, E2 = jnp.exp(-TR / T1), jnp.exp(-TR / T2)
    # conditioning of the solve: A = I - Rx E Rz is singular at E = I (a rotation has a fixed
    # axis), its smallest singular value ~ 1 - E2, so the relative round-off of M is
    # ~ eps / (1 - E2): TR / T2 must keep 1 - E2 >= 1e3 eps (0.1 % accuracy)
    TR = require(
        TR,
        -jnp.expm1(-TR / T2) >= 1e3 * jnp.finfo(dtype).eps,
        "TR / T2 too small for the bSSFP steady-state solve: need 1 - exp(-TR/T2) >= 1e3 eps"
        " (use bssfp_signal_on_resonance, exact for TR -> 0)",
    )
    E = jnp.diag(jnp.stack([E2, E2, E1]).astype(dtype))
    theta = -2 * jnp.pi * off_resonance * TR + (jnp.pi if alternate else 0.0)
    b = jnp.stack([zero, zero, -jnp.expm1(-TR / T1) * M0 * one])
    A = jnp.eye(3, dtype=dtype) - Rx @ E @ Rz(theta)
    M = jnp.linalg.solve(A, Rx @ b)
    e2 = jnp.exp(-TE / T2)
    phi = -2 * jnp.pi * off_resonance * TE
    mxy = jax.lax.complex(M[0], M[1]) * cis(phi) * e2.astype(complex_dtype(dtype))
    return finite_result(
        mxy, "bssfp_signal", ("flip_angle", "TR", "T1", "T2", "off_resonance", "TE", "M0")
    )


def _bssfp_args(flip_angle, TR, T1, T2, off_resonance, M0):
    """The checked arguments of the bSSFP closed forms (see module docstring)."""
    T1, T2 = relaxation_times(T1, T2)
    return (
        angle(flip_angle, "flip_angle"),
        positive(TR, "TR"),
        T1,
        T2,
        finite(off_resonance, "off_resonance"),
        finite(M0, "M0"),
    )


def bssfp_signal_on_resonance(flip_angle, TR, T1, T2, M0=1.0):
    r"""Closed form of the on-resonance, phase-alternated bSSFP magnitude at TE = TR/2:
    ``|M| = M0 sin(a) (1 - E1) sqrt(E2) / (1 - (E1 - E2) cos(a) - E1 E2)``."""
    flip_angle, TR, T1, T2, _, M0 = _bssfp_args(flip_angle, TR, T1, T2, 0.0, M0)
    # 1 - E1 and the denominator by expm1: exact also for TR << T1, T2 (no 0/0)
    one_m_e1 = -jnp.expm1(-TR / T1)
    e1_m_e2 = jnp.expm1(-TR / T1) - jnp.expm1(-TR / T2)
    den = -jnp.expm1(-TR / T1 - TR / T2) - e1_m_e2 * jnp.cos(flip_angle)
    s = M0 * jnp.sin(flip_angle) * one_m_e1 * jnp.exp(-0.5 * TR / T2) / den
    return finite_result(s, "bssfp_signal_on_resonance", ("flip_angle", "TR", "T1", "T2", "M0"))
