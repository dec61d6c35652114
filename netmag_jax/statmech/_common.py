"""Shared private helpers of the statmech modules."""

from __future__ import annotations

import inspect
import re

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_real, is_concrete
from ..constants import K_B, MU_B

#: mu_B / k_B [K/T]
MUB_OVER_KB = MU_B / K_B


def validate_J(J) -> float:
    """Return J as a float, raising ValueError unless it is a positive multiple of 1/2."""
    try:
        Jf = float(J)
    except (TypeError, ValueError):
        raise ValueError(f"J must be a number (a positive multiple of 1/2), got {J!r}") from None
    if not np.isfinite(Jf) or Jf <= 0 or abs(2 * Jf - round(2 * Jf)) > 1e-9:
        raise ValueError(f"J must be a positive multiple of 1/2, got {J!r}")
    return round(2 * Jf) / 2


def scalar_leaf(name: str, value):
    """A physical parameter as an array leaf; concrete values are checked finite and > 0 now."""
    if isinstance(value, (bool, str)) or value is None:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    check_real(name, value)
    arr = jnp.asarray(value)
    if arr.shape != ():
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = jnp.asarray(float(value))
    if is_concrete(arr):
        v = float(arr)
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def float_array(x):
    """``x`` as a JAX array, integers and bools promoted to the default float dtype."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


@eqx.filter_jit
def _vectorized(fn, signature, *args):
    return jnp.vectorize(fn, signature=signature)(*args)


def _core_ndims(signature: str | None, n_args: int) -> tuple[int, ...]:
    """Number of core dimensions of each input of a ``jnp.vectorize`` signature."""
    if signature is None:
        return (0,) * n_args
    groups = re.findall(r"\(([^()]*)\)", signature.split("->")[0])
    return tuple(len([d for d in g.split(",") if d.strip()]) for g in groups)


def broadcast_apply(fn, *args, signature=None):
    """Apply a single-sample function ``fn`` (a bound method of a Module, or a function) over
    broadcast array arguments (``jnp.vectorize`` with ``signature``), compiled once per
    structure and shape (array arguments are traced, so new values do not recompile).

    Batch axes broadcast as in NumPy, made explicit (leading unit axes), so this also works
    with ``jax_numpy_rank_promotion="raise"``: B of shape (3,) with T of shape (n,) gives n
    results for signature ``(3),()->...``.
    """
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # a callable without an inspectable signature
        names = []
    for i, a in enumerate(args):
        check_real(names[i] if i < len(names) else f"argument {i}", a)
    args = [float_array(a) for a in args]
    dtype = jnp.result_type(*args)
    core = _core_ndims(signature, len(args))
    rank = max(a.ndim - k for a, k in zip(args, core, strict=True))
    args = [
        a.astype(dtype).reshape((1,) * (rank - a.ndim + k) + a.shape)
        for a, k in zip(args, core, strict=True)
    ]
    return _vectorized(fn, signature, *args)
