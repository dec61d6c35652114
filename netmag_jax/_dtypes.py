"""Float and complex dtype helpers: the one place where the package pairs real and complex.

The library never switches x64 on; every function follows the precision of its input:
float64 (or complex128) input gives complex128, anything narrower gives complex64, and an
integer or boolean input is promoted to JAX's default float (float64 only with x64 enabled).
"""

from __future__ import annotations

import jax.numpy as jnp


def complex_dtype(dtype):
    """complex128 for float64 or complex128 ``dtype``, complex64 otherwise.

    Args:
        dtype: a real or complex dtype (anything ``jnp.dtype`` accepts).
    Returns:
        the complex dtype of matching precision.
    """
    return jnp.complex128 if jnp.dtype(dtype) in (jnp.float64, jnp.complex128) else jnp.complex64


def as_floating(x):
    """``x`` as a JAX array of a floating (or complex) dtype.

    Floating and complex arrays keep their dtype; integer and boolean ones become JAX's default
    float (float32, or float64 with x64 enabled).

    Args:
        x: array-like, any shape.
    Returns:
        jax.Array, same shape.
    """
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.complexfloating):
        return x
    return x.astype(jnp.result_type(float))
