r"""Closed-form signals of the standard sequences: the references the engine is tested against.

Spoiled gradient echo (Ernst), inversion recovery, the Hahn spin echo and balanced SSFP
(Freeman-Hill steady state), in the package's conventions (left-handed precession, pulses
about +x tip +z towards +y); times in s, angles in rad, off-resonance in Hz, signals in the
unit of M0. All are jnp expressions: differentiable and vmappable over their arguments.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._dtypes import as_floating
from .._numerics import cis


def ernst_signal(flip_angle, TR, T1, M0=1.0, TE=0.0, T2star=None):
    r"""Spoiled-GRE steady state (Ernst & Anderson 1966):
    ``S = M0 sin(a) (1 - E1) / (1 - E1 cos a) exp(-TE/T2*)``, ``E1 = exp(-TR/T1)``."""
    E1 = jnp.exp(-TR / T1)
    s = M0 * jnp.sin(flip_angle) * (1 - E1) / (1 - E1 * jnp.cos(flip_angle))
    return s if T2star is None else s * jnp.exp(-TE / T2star)


def ernst_angle(TR, T1):
    """Flip angle maximising the spoiled-GRE signal: ``arccos(exp(-TR/T1))`` [rad]."""
    return jnp.arccos(jnp.exp(-TR / T1))


def inversion_recovery_signal(TI, T1, M0=1.0):
    """Ideal inversion recovery (full relaxation before inversion): ``M0 (1 - 2 exp(-TI/T1))``."""
    return M0 * (1 - 2 * jnp.exp(-TI / T1))


def spin_echo_signal(TE, T2, M0=1.0, flip_angle=math.pi / 2, refocus_angle=math.pi):
    """Hahn echo amplitude ``M0 sin(a) sin^2(b/2) exp(-TE/T2)`` (single shot from equilibrium)."""
    return M0 * jnp.sin(flip_angle) * jnp.sin(refocus_angle / 2) ** 2 * jnp.exp(-TE / T2)


def bssfp_signal(flip_angle, TR, T1, T2, off_resonance=0.0, TE=None, M0=1.0, alternate=True):
    r"""Balanced-SSFP steady state (Freeman & Hill, JMR 4, 366 (1971)), complex ``Mxy`` at TE.

    Instantaneous pulses about x every TR (phase alternating 0, pi if ``alternate``), free
    precession ``-2 pi df t`` and relaxation between them. The steady state just after the
    pulse solves the 3x3 linear fixed point ``M = R_x(a) [E(TR) R_z(theta) M + (1 - E1) M0 z]``
    with ``theta = -2 pi df TR (+ pi)``; returned as the receiver sees it (ADC phase = RF phase).

    Args:
        flip_angle, TR, T1, T2, off_resonance, TE: in rad, s, s, s, Hz, s (TE default TR/2).
    Returns:
        complex Mxy at TE (same unit as M0); broadcast over the arguments via vmap if needed.
    """
    TE = TR / 2 if TE is None else TE
    a = as_floating(flip_angle)
    dtype = a.dtype
    c, s = jnp.cos(a), jnp.sin(a)
    one, zero = jnp.ones((), dtype), jnp.zeros((), dtype)
    # left-handed rotation about +x by a: z -> +y
    Rx = jnp.array([[one, zero, zero], [zero, c, s], [zero, -s, c]], dtype=dtype)

    def Rz(phi):  # right-handed rotation about z by phi
        cp, sp = jnp.cos(phi), jnp.sin(phi)
        return jnp.array([[cp, -sp, zero], [sp, cp, zero], [zero, zero, one]], dtype=dtype)

    E1, E2 = jnp.exp(-TR / T1), jnp.exp(-TR / T2)
    E = jnp.diag(jnp.stack([E2, E2, E1]).astype(dtype))
    theta = -2 * jnp.pi * off_resonance * TR + (jnp.pi if alternate else 0.0)
    b = jnp.stack([zero, zero, (1 - E1) * M0 * one])
    A = jnp.eye(3, dtype=dtype) - Rx @ E @ Rz(theta)
    M = jnp.linalg.solve(A, Rx @ b)
    e2 = jnp.exp(-TE / T2)
    phi = -2 * jnp.pi * off_resonance * TE
    mxy = jax.lax.complex(M[0], M[1]) * (e2 * cis(phi))
    return mxy


def bssfp_signal_on_resonance(flip_angle, TR, T1, T2, M0=1.0):
    r"""Closed form of the on-resonance, phase-alternated bSSFP magnitude at TE = TR/2:
    ``|M| = M0 sin(a) (1 - E1) sqrt(E2) / (1 - (E1 - E2) cos(a) - E1 E2)``."""
    E1, E2 = jnp.exp(-TR / T1), jnp.exp(-TR / T2)
    return (
        M0
        * jnp.sin(flip_angle)
        * (1 - E1)
        * jnp.sqrt(E2)
        / (1 - (E1 - E2) * jnp.cos(flip_angle) - E1 * E2)
    )
