"""Input validation, in the three tiers of the package.

1. Shape / type / option problems are known before tracing: raise ``ValueError`` or
   ``TypeError`` right away (``check_ndim``, ``check_shape``, ``check_option``, ...).
2. Value problems (T <= 0, NaN, T2 > 2 T1, ...) depend on traced values: use
   ``eqx.error_if`` through ``positive``, ``finite``, ``nonnegative``, ``require``. These return
   the checked array, which must be used downstream (otherwise XLA removes the check).
3. Solver non-convergence: a result code plus a ``throw`` flag, handled by each solver.
"""

from __future__ import annotations

from collections.abc import Iterable

import equinox as eqx
import jax.numpy as jnp
import numpy as np


# --- tier 1: before tracing -----------------------------------------------------------------
def shape_of(x) -> tuple[int, ...]:
    """Shape of an array-like (Python scalars have shape ())."""
    return tuple(np.shape(x))


def check_ndim(name: str, x, ndim: int | Iterable[int]) -> None:
    """Raise ValueError unless ``x`` has (one of) the given number(s) of dimensions."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    s = shape_of(x)
    if len(s) not in allowed:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {s}"
        )


def check_shape(name: str, x, shape: tuple) -> None:
    """Raise ValueError unless ``x`` has ``shape``; ``None`` entries match any length."""
    s = shape_of(x)
    if len(s) != len(shape) or any(
        e is not None and e != a for e, a in zip(shape, s, strict=False)
    ):
        want = tuple("*" if e is None else e for e in shape)
        raise ValueError(f"{name} must have shape {want}, got {s}")


def check_option(name: str, value, options: Iterable) -> None:
    """Raise ValueError unless ``value`` is one of ``options``."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def check_static_positive(name: str, value) -> None:
    """Raise ValueError unless a concrete (non-traced) number is finite and > 0."""
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def is_concrete(x) -> bool:
    """True if ``x`` holds a concrete value (not a JAX tracer)."""
    try:
        np.asarray(x)
        return True
    except Exception:  # jax.errors.TracerArrayConversionError and friends
        return False


# --- tier 2: value checks that survive jit --------------------------------------------------
def require(x, ok, msg: str):
    """Return ``x``, raising ``msg`` at run time (also under jit) wherever ``ok`` is False."""
    return eqx.error_if(x, jnp.logical_not(jnp.all(ok)), msg)


def finite(x, name: str):
    """Return ``x`` after checking it contains no NaN/inf."""
    x = jnp.asarray(x)
    return require(x, jnp.isfinite(x), f"{name} must be finite (got NaN or inf)")


def positive(x, name: str):
    """Return ``x`` after checking it is finite and > 0."""
    x = jnp.asarray(x)
    return require(x, jnp.isfinite(x) & (x > 0), f"{name} must be finite and > 0")


def nonnegative(x, name: str):
    """Return ``x`` after checking it is finite and >= 0."""
    x = jnp.asarray(x)
    return require(x, jnp.isfinite(x) & (x >= 0), f"{name} must be finite and >= 0")
