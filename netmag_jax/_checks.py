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
import jax
import jax.numpy as jnp
from jax.core import Tracer
import numpy as np


# --- tier 1: before tracing -----------------------------------------------------------------
def shape_of(x) -> tuple[int, ...]:
    """Shape of an array-like (Python scalars have shape ()); works for sequences of
    tracers too."""
    s = getattr(x, "shape", None)
    if s is not None:
        return tuple(s)
    try:
        return tuple(np.shape(x))
    except Exception:  # a sequence holding tracers
        return tuple(jnp.shape(jnp.asarray(x)))


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
    """Raise ValueError unless a concrete (non-traced) real number is finite and > 0
    (TypeError for a traced or complex value: this argument fixes shapes or runs in NumPy)."""
    if not is_concrete(value):
        raise TypeError(
            f"{name} must be a concrete number (it sets shapes or is used in NumPy), got a traced"
            " value: close over it (or mark it static) instead of passing it through jax.jit"
        )
    check_real(name, value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_static_finite(name: str, value) -> None:
    """Raise (TypeError for traced or complex, ValueError for NaN/inf) unless the concrete
    array-like ``value`` is real and finite (for arguments used in NumPy)."""
    if not is_concrete(value):
        raise TypeError(f"{name} must be concrete (it is used in NumPy), got a traced value")
    check_real(name, value)
    if not np.all(np.isfinite(np.asarray(value, dtype=float))):
        raise ValueError(f"{name} must be finite, got NaN or inf")


def check_count(name: str, n, minimum: int = 1) -> int:
    """Return ``n`` as an int, raising ValueError unless it is an integer >= ``minimum``."""
    try:
        ok = int(n) == n and not isinstance(n, bool)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or int(n) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_real(name: str, x) -> None:
    """Raise TypeError if ``x`` is complex (a physical real quantity given a complex value)."""
    if np.iscomplexobj(x) if is_concrete(x) else jnp.iscomplexobj(x):
        raise TypeError(f"{name} must be real, got a complex value")


def check_nonempty(name: str, x) -> None:
    """Raise ValueError if the array-like ``x`` has no elements."""
    if 0 in shape_of(x):
        raise ValueError(f"{name} must not be empty, got shape {shape_of(x)}")


def is_concrete(x) -> bool:
    """True if ``x`` holds a concrete value (not a JAX tracer). A JAX array is asked
    directly, without copying it to the host (10^7 positions on a GPU: 120 MB per call);
    anything else (NumPy, Python scalars, nested sequences that may hold tracers) by trying
    the conversion to NumPy."""
    if isinstance(x, jax.Array):
        return not isinstance(x, Tracer)
    try:
        np.asarray(x)
        return True
    except Exception:  # jax.errors.TracerArrayConversionError and friends
        return False


# --- tier 2: value checks that survive jit --------------------------------------------------
def require(x, ok, msg: str):
    """Return ``x``, raising ``msg`` at run time (also under jit) wherever ``ok`` is False."""
    return eqx.error_if(x, jnp.logical_not(jnp.all(ok)), msg)


def _real(x, name: str):
    """``x`` as a real JAX array (TypeError for complex; ints and bools become float)."""
    check_real(name, x)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def finite(x, name: str, *, complex_ok: bool = False):
    """Return ``x`` (real unless ``complex_ok``, as a float array) after checking it contains
    no NaN/inf."""
    x = jnp.asarray(x) if complex_ok and jnp.iscomplexobj(x) else _real(x, name)
    return require(x, jnp.isfinite(x), f"{name} must be finite (got NaN or inf)")


def positive(x, name: str):
    """Return ``x`` (real, as a float array) after checking it is finite and > 0."""
    x = _real(x, name)
    return require(x, jnp.isfinite(x) & (x > 0), f"{name} must be finite and > 0")


def nonnegative(x, name: str):
    """Return ``x`` (real, as a float array) after checking it is finite and >= 0."""
    x = _real(x, name)
    return require(x, jnp.isfinite(x) & (x >= 0), f"{name} must be finite and >= 0")


def finite_result(x, what: str, names):
    """Return the computed ``x`` after checking it is finite: a NaN/inf result from finite,
    in-range-looking inputs means one of ``names`` is so large or small that the formula
    overflows (e.g. 1e300); the error names them."""
    x = jnp.asarray(x)
    return require(
        x,
        jnp.isfinite(x),
        f"{what} is NaN or inf: an argument is out of range (check {', '.join(names)})",
    )


def at_most(x, bound, name: str, what: str):
    """Return ``x`` after checking ``x <= bound`` everywhere (``what`` names the bound)."""
    return require(x, x <= bound, f"{name} must not exceed {what}")


def relaxation_times(T1, T2):
    """Return (T1, T2) as float arrays after checking 0 < T1, 0 < T2 <= 2 T1 (finite), the
    physical bound of relaxation theory (T2 <= 2 T1)."""
    T1, T2 = positive(T1, "T1"), positive(T2, "T2")
    return T1, at_most(T2, 2.0 * T1, "T2", "2 T1 (physical bound)")


def is_unit(x, tol: float = 1e-6):
    """Boolean array: the vector(s) ``x`` (last axis) are finite with ``| |x| - 1 | < tol``."""
    norm = jnp.sqrt(jnp.sum(x * x, axis=-1))
    return jnp.all(jnp.isfinite(x), axis=-1) & (jnp.abs(norm - 1.0) < tol)


def unit_norm(x, name: str, tol: float = 1e-6):
    """Return the real vector(s) ``x`` (last axis) after checking they are finite unit vectors
    (``| |x| - 1 | < tol``); a zero or non-normalised vector is an error, not renormalised."""
    x = _real(x, name)
    return require(x, is_unit(x, tol), f"{name} must be a finite unit vector (|{name}| = 1)")


#: largest rounding error [rad] an angle may carry: |x| eps(dtype) <= ANGLE_RESOLUTION
ANGLE_RESOLUTION = 1e-3


def angle_ok(x):
    """Boolean array: the angle(s) ``x`` [rad] are finite and resolvable, ``|x| eps <= 1e-3``
    with eps of x's dtype (|x| <= 4.5e12 rad in float64, 8.4e3 rad in float32): beyond that
    the rounding of x itself exceeds a milliradian and sin/cos of it are noise."""
    x = jnp.asarray(x)
    eps = jnp.finfo(x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else float).eps
    return jnp.isfinite(x) & (jnp.abs(x) * eps <= ANGLE_RESOLUTION)


def angle(x, name: str):
    """Return the real angle(s) ``x`` [rad] (as a float array) after checking they are finite
    and resolvable in their dtype (``|x| eps <= 1e-3 rad``, see ``angle_ok``); e.g. a flip
    angle of 1e300 rad is an error, not a sine of rounding noise."""
    x = _real(x, name)
    return require(
        x,
        angle_ok(x),
        f"{name} must be a finite angle that its dtype resolves to 1 mrad (|{name}| eps <= 1e-3"
        " rad; |x| <= 4.5e12 rad in float64)",
    )
