"""Safe special functions for the Rician likelihood.

``log_i0(z) = log I0(z)`` without overflow (I0 grows like e^z / sqrt(2 pi z)), with derivative
``I1(z)/I0(z)`` supplied by a custom JVP so that all orders of derivatives are finite at z = 0
(the naive ``|z| + log i0e(z)`` form has a kink term at 0 that autodiff mishandles).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import i0e, i1e

_SMALL = 1e-3


@jax.custom_jvp
def bessel_ratio(z):
    r"""Ratio :math:`R(z) = I_1(z)/I_0(z)` of modified Bessel functions, odd in z, |R| < 1.

    Derivative :math:`R'(z) = 1 - R/z - R^2` (from the Bessel recurrences), with the series
    :math:`R'(z) = 1/2 - 3 z^2/16 + O(z^4)` near 0 (double-where, finite at z = 0).

    Args:
        z: any shape, dimensionless.
    """
    z = jnp.asarray(z)
    return i1e(z) / i0e(z)


@bessel_ratio.defjvp
def _bessel_ratio_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    r = bessel_ratio(z)
    small = jnp.abs(z) < _SMALL
    z_safe = jnp.where(small, jnp.ones_like(z), z)
    dr = jnp.where(small, 0.5 - 3.0 * z * z / 16.0, 1.0 - r / z_safe - r * r)
    return r, dr * dz


@jax.custom_jvp
def log_i0(z):
    r"""Overflow-free log of the Bessel function, :math:`\log I_0(z) = |z| + \log(I_0 e^{-|z|})`.

    Overflow-free for any finite z; derivative :math:`I_1(z)/I_0(z)` (``bessel_ratio``).

    Args:
        z: any shape, dimensionless.
    """
    z = jnp.asarray(z)
    return jnp.abs(z) + jnp.log(i0e(z))


@log_i0.defjvp
def _log_i0_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    return log_i0(z), bessel_ratio(z) * dz


def rician_nll(A, y, sigma):
    r"""Rician negative log-likelihood of magnitude data, per point, up to A-independent terms.

    .. math::
        \ell(A) = \frac{A^2}{2\sigma^2} - \log I_0\!\Big(\frac{y A}{\sigma^2}\Big)

    (the full density is :math:`p(y|A) = (y/\sigma^2) e^{-(y^2+A^2)/2\sigma^2} I_0(yA/\sigma^2)`;
    the dropped terms do not depend on A).

    Args:
        A: noise-free signal magnitude (model), any shape.
        y: measured magnitude, broadcast with A.
        sigma: noise standard deviation of each real channel (> 0), broadcast with A.
    """
    s2 = sigma * sigma
    return 0.5 * A * A / s2 - log_i0(y * A / s2)
