r"""Per-spin pieces shared by the reference and the fast Bloch engines.

* :func:`rodrigues`: ``R M = C M + A (w x M) + B (w . M) w`` for the rotation vector w,
  with ``A = sin(t)/t``, ``B = (1 - cos t)/t^2``, ``C = cos t``, ``t = |w|``.
* :func:`series_coefficients`: the same (A, B, C) as truncated Taylor series in ``s = t^2``
  (no square root, no sine), exact to the working precision for ``s <= SERIES_MAX``.
* :func:`spin_params`: the per-spin arrays the steps use.
* :func:`emit` / :func:`gather_signal`: the coil sums at ADC samples and their assembly.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .._numerics import cis

#: largest squared rotation angle per step [rad^2] for which the series branch is used
SERIES_MAX = 1.0


def rodrigues(mx, my, mz, wx, wy, wz, A, B, C):
    """Rotate (mx, my, mz) by the rotation vector (wx, wy, wz) given its (A, B, C)."""
    wm = B * (wx * mx + wy * my + wz * mz)
    nx = C * mx + A * (wy * mz - wz * my) + wm * wx
    ny = C * my + A * (wz * mx - wx * mz) + wm * wy
    nz = C * mz + A * (wx * my - wy * mx) + wm * wz
    return nx, ny, nz


def _n_terms(dtype) -> int:
    """Series terms so that the first omitted one, <= 1/(2K+1)! at s <= 1, is below eps/10:
    K = 6 (1/13! = 1.6e-10) in float32, K = 9 (1/19! = 8.2e-18) in float64."""
    eps = float(jnp.finfo(dtype).eps)
    k = 1
    while 1.0 / math.factorial(2 * k + 1) > eps / 10:
        k += 1
    return k


def series_coefficients(s):
    r"""Rodrigues coefficients from ``s = t^2 <= SERIES_MAX`` by Horner sums:

    .. math:: A = \sum_{k\ge0} \frac{(-s)^k}{(2k+1)!},\qquad
              B = \sum_{k\ge0} \frac{(-s)^k}{(2k+2)!},\qquad C = 1 - B s,

    truncated where the next term is below eps/10 for s <= 1 (so equal to sin t / t,
    (1 - cos t)/t^2 and cos t to rounding). Smooth in s: all derivatives are finite at 0.
    """
    K = _n_terms(s.dtype)
    A = jnp.ones_like(s) / math.factorial(2 * K - 1)
    B = jnp.ones_like(s) / math.factorial(2 * K)
    for k in range(K - 2, -1, -1):
        A = 1.0 / math.factorial(2 * k + 1) - s * A
        B = 1.0 / math.factorial(2 * k + 2) - s * B
    return A, B, 1.0 - B * s


def spin_params(spins):
    """(x, y, z, b1, omega_off [rad/s], 1/T1, 1/T2, M0), each [N]."""
    pos = spins.positions
    return (
        pos[:, 0],
        pos[:, 1],
        pos[:, 2],
        spins.b1,
        2 * jnp.pi * spins.frequency_offset(),
        1.0 / spins.T1,
        1.0 / spins.T2,
        spins.M0,
    )


def emit(mxy, mz, coils, record_magnetization):
    """Coil sums ``[C]`` (``[1]`` without coils) of ``Mxy`` [N] (complex) and optionally
    ``M`` [N, 3]."""
    out = {"s": coils @ mxy if coils is not None else jnp.sum(mxy)[None]}
    if record_magnetization:
        out["M"] = jnp.stack([mxy.real, mxy.imag, mz], axis=-1)
    return out


def gather_signal(ys, sel, adc_phase, coils, record_magnetization):
    """Signal ``[n_adc]`` or ``[C, n_adc]`` (receiver phase removed) and M at the samples.

    Args:
        ys: per-step emissions of :func:`emit` stacked over steps; sel: [n_adc] step rows.
    """
    sel = jnp.asarray(sel, dtype=jnp.int32)
    sig = ys["s"][sel]  # [n_adc, C]
    if adc_phase is not None:
        sig = sig * cis(-adc_phase)[:, None]
    sig = sig.T if coils is not None else sig[:, 0]
    M_adc = ys["M"][sel] if record_magnetization else None
    return sig, M_adc


def empty_signal(coils, cdtype):
    """The signal of a sequence with an empty ADC list."""
    return jnp.zeros((0,) if coils is None else (coils.shape[0], 0), cdtype)
