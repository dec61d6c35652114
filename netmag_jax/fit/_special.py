"""Safe special functions for the Rician likelihood.

``log_i0(z) = log I0(z)`` without overflow (I0 grows like e^z / sqrt(2 pi z)), with derivative
``I1(z)/I0(z)`` supplied by a custom JVP so that all orders of derivatives are finite at z = 0
(the naive ``|z| + log i0e(z)`` form has a kink term at 0 that autodiff mishandles).

The derivative of the ratio, ``R'(z) = 1 - R/z - R^2``, cancels catastrophically at large z
(three O(1) terms leave O(1/z^2)): above a crossover that depends on the float type it is taken
from the asymptotic (Hankel) expansion instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import i0e, i1e

_SMALL = 1e-3

#: R'(z) = sum_k c_k / z^k for large z, from the Hankel expansions of I0 and I1
#: (R = 1 - 1/(2z) - 1/(8z^2) - 1/(8z^3) - 25/(128z^4) - ..., R' = -(1/z^2) dR/d(1/z)).
_DR_ASYMPTOTIC = (
    (2, 1.0 / 2.0),
    (3, 1.0 / 4.0),
    (4, 3.0 / 8.0),
    (5, 25.0 / 32.0),
    (6, 65.0 / 32.0),
    (7, 3219.0 / 512.0),
    (8, 721.0 / 32.0),
    (9, 375733.0 / 4096.0),
)


def _asymptotic_crossover(dtype) -> float:
    """|z| above which the asymptotic R' is more accurate than 1 - R/z - R^2: the round-off
    of the closed form (~ eps z^2, relative) equals the truncation error of the eight-term
    series (~ 800 / z^8, relative) at z = (800 / eps)^(1/10): ~72 in float64, ~10 in float32
    (relative error there ~1e-12 and ~6e-6)."""
    return float((800.0 / float(jnp.finfo(dtype).eps)) ** 0.1)


def _bessel_ratio_derivative(z, r):
    """R'(z) of ``bessel_ratio``: series near 0, closed form, asymptotic series at large |z|
    (double-where: each branch is evaluated only at arguments where it is finite)."""
    az = jnp.abs(z)
    small = az < _SMALL
    large = az > _asymptotic_crossover(z.dtype)
    z_mid = jnp.where(small | large, jnp.ones_like(z), z)
    u = 1.0 / jnp.where(large, az, jnp.ones_like(az))
    series = sum(c * u**k for k, c in _DR_ASYMPTOTIC)
    closed = 1.0 - r / z_mid - r * r
    return jnp.where(small, 0.5 - 3.0 * z * z / 16.0, jnp.where(large, series, closed))


@jax.custom_jvp
def bessel_ratio(z):
    r"""Ratio :math:`R(z) = I_1(z)/I_0(z)` of modified Bessel functions, odd in z, |R| < 1.

    Derivative :math:`R'(z) = 1 - R/z - R^2` (from the Bessel recurrences), with the series
    :math:`R'(z) = 1/2 - 3 z^2/16 + O(z^4)` near 0 and the asymptotic expansion
    :math:`R'(z) = 1/(2z^2) + 1/(4z^3) + 3/(8z^4) + \dots` at large |z| (where the closed form
    cancels; float32 would give the wrong sign at z = 2500). Finite at every finite z, with
    the limits :math:`R \to 1 - 1/(2z)` as z -> inf and :math:`R \to z/2` as z -> 0.

    Args:
        z: any shape, dimensionless.

    NaN-in/NaN-out adapter: no value checks (it runs inside the Rician cost of the optimiser,
    whose trial steps may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the
    data and p0); a NaN or infinite z gives NaN.
    """
    z = jnp.asarray(z)
    return i1e(z) / i0e(z)


@bessel_ratio.defjvp
def _bessel_ratio_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    r = bessel_ratio(z)
    return r, _bessel_ratio_derivative(z, r) * dz


@jax.custom_jvp
def log_i0(z):
    r"""Overflow-free log of the Bessel function, :math:`\log I_0(z) = |z| + \log(I_0 e^{-|z|})`.

    Overflow-free for any finite z (:math:`\log I_0 \to |z| - \tfrac12\log(2\pi|z|)` as
    |z| -> inf, :math:`\to z^2/4` as z -> 0); derivative :math:`I_1(z)/I_0(z)`
    (``bessel_ratio``).

    Args:
        z: any shape, dimensionless.

    NaN-in/NaN-out adapter: no value checks (it runs inside the Rician cost of the optimiser,
    whose trial steps may leave the physical range); a NaN or infinite z gives NaN.
    """
    z = jnp.asarray(z)
    # below |z| = 1e-3 the two terms cancel (|z| + log(1 - |z| + ...)): the series
    # log I0 = z^2/4 - z^4/64 + z^6/576 (truncation ~ z^8/2200 < 1e-27 relative there)
    z2 = z * z
    series = z2 * (0.25 - z2 * (1.0 / 64.0 - z2 / 576.0))
    return jnp.where(jnp.abs(z) < _SMALL, series, jnp.abs(z) + jnp.log(i0e(z)))


@log_i0.defjvp
def _log_i0_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    return log_i0(z), bessel_ratio(z) * dz


@jax.custom_jvp
def _log_i0_minus_z(z):
    r""":math:`\log I_0(z) - z` without cancellation: ``log(i0e(z))`` exactly for z >= 0
    (``|z| - z`` is exactly 0 there); derivative :math:`R(z) - 1`."""
    return jnp.log(i0e(z)) + (jnp.abs(z) - z)


@_log_i0_minus_z.defjvp
def _log_i0_minus_z_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    return _log_i0_minus_z(z), (bessel_ratio(z) - 1.0) * dz


def rician_nll(A, y, sigma):
    r"""Rician negative log-likelihood of magnitude data, per point, up to A-independent terms.

    .. math::
        \ell(A) = \frac{(A - y)^2}{2\sigma^2} - \Big[\log I_0\!\Big(\frac{y A}{\sigma^2}\Big)
                  - \frac{y A}{\sigma^2}\Big]

    (the full density is :math:`p(y|A) = (y/\sigma^2) e^{-(y^2+A^2)/2\sigma^2} I_0(yA/\sigma^2)`;
    the dropped terms, including :math:`y^2/2\sigma^2`, do not depend on A). Written this way
    the two O(SNR^2) terms :math:`A^2/2\sigma^2` and :math:`\log I_0` do not cancel, so the
    cost keeps its precision in float32 at scanner intensities (A/sigma up to ~1e3).

    Args:
        A: noise-free signal magnitude (model), any shape.
        y: measured magnitude, broadcast with A.
        sigma: noise standard deviation of each real channel (> 0), broadcast with A.

    NaN-in/NaN-out adapter: no value checks (it is the per-point cost inside the optimiser,
    whose trial steps may leave the physical range; ``curve_fit`` / ``fit_voxels`` check the
    data, the weights sigma comes from and p0); a NaN A, y or sigma, or sigma = 0, gives NaN.
    """
    A, y, sigma = jnp.asarray(A), jnp.asarray(y), jnp.asarray(sigma)
    d = (A - y) / sigma
    return 0.5 * d * d - _log_i0_minus_z(y * A / (sigma * sigma))
