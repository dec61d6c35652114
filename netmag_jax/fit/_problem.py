"""One input validation for ``curve_fit`` (one data set) and ``fit_voxels`` (a map).

``make_problem`` checks shapes, options and concrete values before tracing (tier 1:
``ValueError`` / ``TypeError``) and returns the problem as two Modules: ``Problem`` (what all
voxels share: bounds, extra starts, the noise model, a shared x) and ``Data`` (what each voxel
owns: data, weights, start, a good-data flag, a per-voxel x), with the voxels flattened to one
leading axis so the engine can ``vmap``, chunk and shard ``Data``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_option, check_real, is_concrete, require


class Data(eqx.Module):
    """Per-voxel arrays (leading axis V for a map, none for one data set).

    Attributes:
        y: (V, m) data (real or complex); bad voxels of a map hold ones.
        w: (V, m) weights 1 / sigma (ones for bad voxels).
        p0: (V, n) starting parameters.
        good: (V,) bool, False for NaN/inf, all-zero or masked-out voxels (not fitted).
        x: (V, ...) per-voxel independent variable, or None when x is shared.
    """

    y: jax.Array
    w: jax.Array
    p0: jax.Array
    good: jax.Array
    x: jax.Array | None


class Problem(eqx.Module):
    """What all voxels share.

    Attributes:
        x: shared independent variable, or None when it is per voxel (``Data.x``).
        lo, hi: (n,) bounds (+-inf where unbounded).
        starts: (S, n) extra starting points (multi-start), or None.
        absolute_sigma: bool scalar, True: sigma is absolute (covariance not rescaled).
        noise: "gaussian" or "rician" (static: it selects the objective).
        dof: number of real data minus number of parameters (static).
    """

    x: jax.Array | None
    lo: jax.Array
    hi: jax.Array
    starts: jax.Array | None
    absolute_sigma: jax.Array
    noise: str = eqx.field(static=True)
    dof: int = eqx.field(static=True)

    @property
    def dtype(self):
        """Float type of the parameters."""
        return self.lo.dtype


def _float_dtype(y, p0):
    """Working float type: the precision of complex data, else the widest float input."""
    y = jnp.asarray(y)
    if jnp.iscomplexobj(y):
        return jnp.finfo(y.dtype).dtype
    fl = [d for d in (y.dtype, jnp.asarray(p0).dtype) if jnp.issubdtype(d, jnp.floating)]
    return jnp.result_type(*fl) if fl else jnp.result_type(float)


def _bounds(bounds, n, dtype):
    if bounds is None:
        return jnp.full((n,), -jnp.inf, dtype), jnp.full((n,), jnp.inf, dtype)
    if len(bounds) != 2:
        raise ValueError("bounds must be a pair (lower, upper)")
    for name, b in zip(("lower bound", "upper bound"), bounds, strict=True):
        if np.shape(b) not in ((), (n,)):
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {np.shape(b)}")
    lo, hi = (jnp.broadcast_to(jnp.asarray(b, dtype), (n,)) for b in bounds)
    if is_concrete(lo) and is_concrete(hi):
        lo_np, hi_np = np.asarray(lo), np.asarray(hi)
        if np.any(np.isnan(lo_np)) or np.any(np.isnan(hi_np)):
            raise ValueError("bounds must not be NaN")
        if np.any(lo_np >= hi_np):
            raise ValueError(f"each lower bound must be < its upper bound, got {lo} and {hi}")
    return lo, hi


def _check_in_bounds(p, lo, hi, name):
    """Starting points (..., n) must be finite and inside [lo, hi] (checked when concrete)."""
    if not (is_concrete(p) and is_concrete(lo) and is_concrete(hi)):
        return
    p, lo, hi = np.asarray(p), np.asarray(lo), np.asarray(hi)
    if np.any(~np.isfinite(p)):
        raise ValueError(f"{name} must be finite")
    rows = p.reshape(-1, p.shape[-1])
    out = np.any((rows < lo) | (rows > hi), axis=1)
    if np.any(out):
        raise ValueError(
            f"{name} lies outside the bounds ({int(out.sum())} start(s), e.g. {rows[out][0]}; "
            f"lower = {lo}, upper = {hi})"
        )


def _initial(p0, vox, dtype):
    p0 = jnp.asarray(p0, dtype)
    if p0.ndim == 0 or p0.shape[-1] == 0 or (p0.ndim > 1 and p0.shape[:-1] != vox):
        raise ValueError(f"p0 must have shape (n,) or {vox} + (n,) with n >= 1, got {p0.shape}")
    return p0


def _independent(x, y, x_per_voxel, dtype):
    """x as an array of the working float type, and whether it is per voxel."""
    vox, m = y.shape[:-1], y.shape[-1]
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(dtype)
    if x_per_voxel is None:
        x_per_voxel = len(vox) > 0 and x.shape == y.shape
    if x_per_voxel and x.shape[: len(vox)] != vox:
        raise ValueError(f"per-voxel x must have leading shape {vox}, got {x.shape}")
    x1 = x[(0,) * len(vox)] if x_per_voxel else x
    if x1.ndim == 1 and x1.shape[0] != m:
        raise ValueError(f"x and y must have the same data length, got {x1.shape[0]} and {m}")
    return x, x1, bool(x_per_voxel)


def _check_model(model, x1, p, m):
    try:
        out = jax.eval_shape(lambda xx, pp: model(xx, *pp), x1, p)
    except TypeError as e:
        raise TypeError(f"model(x, *p0) failed with {p.shape[0]} parameters: {e}") from e
    if out.shape != (m,):
        raise ValueError(f"model(x, *p0) has shape {out.shape}, one data set has shape ({m},)")


def _weights(sigma, noise, y, dtype, per_voxel_ok=False):
    """1 / sigma broadcast to y's shape, after the noise-model and sigma checks.

    ``per_voxel_ok`` (a map): a sigma of y's full shape is not checked here; a voxel with a
    non-finite or non-positive sigma is flagged as bad data instead (``_good_voxels``)."""
    if noise == "rician" and sigma is None:
        raise ValueError("noise='rician' needs sigma (noise standard deviation)")
    if noise == "rician" and jnp.iscomplexobj(y):
        raise ValueError("noise='rician' needs real magnitude data")
    if sigma is None:
        return jnp.ones(y.shape, dtype)
    full = per_voxel_ok and np.shape(sigma) == y.shape
    if not full and is_concrete(sigma) and not np.all(np.isfinite(sigma) & (np.asarray(sigma) > 0)):
        raise ValueError("sigma must be finite and > 0")
    sig = jnp.asarray(sigma, dtype)
    if sig.shape not in ((), y.shape[-1:], y.shape):
        raise ValueError(f"sigma must be a scalar, {y.shape[-1:]} or {y.shape}, got {sig.shape}")
    return jnp.broadcast_to(1.0 / sig, y.shape)


def _starts(starts, n, dtype, lo, hi):
    if starts is None:
        return None
    starts = jnp.asarray(starts, dtype)
    if starts.ndim != 2 or starts.shape[1] != n:
        raise ValueError(f"starts must have shape (S, {n}), got {starts.shape}")
    _check_in_bounds(starts, lo, hi, "starts")
    return starts


def _good_voxels(y, w, mask):
    """(V,) flags: finite data and weights, not all zero, not masked out."""
    good = jnp.all(jnp.isfinite(y), axis=-1) & jnp.all(jnp.isfinite(w) & (w > 0), axis=-1)
    good = good & jnp.any(y != 0, axis=-1)
    if mask is not None:
        mask = jnp.asarray(mask, bool)
        if mask.shape != y.shape[:-1]:
            raise ValueError(f"mask must have shape {y.shape[:-1]}, got {mask.shape}")
        good = good & mask
    return good


def _check_start(x, y, w, p0):
    """``p0`` after the run-time checks of one data set (also under jit): x and p0 finite,
    sigma within ``finfo.max^(1/4)`` (1e77 in float64) of the data scale max|y| either way,
    so that chi^2 = sum |(y - f) / sigma|^2 neither over- nor underflows (the finite cost at
    p0 is checked inside the compiled fit, ``checked_start``)."""
    p0 = require(p0, jnp.isfinite(p0), "p0 must be finite")
    if jnp.issubdtype(x.dtype, jnp.inexact):  # tied to p0, which the fit uses
        p0 = require(p0, jnp.all(jnp.isfinite(x)), "x must be finite (got NaN or inf)")
    big = jnp.asarray(jnp.finfo(w.dtype).max, w.dtype) ** 0.25
    scale = jnp.max(jnp.abs(y)) * w  # data scale in units of sigma
    ok = (scale <= big) & ((scale >= 1.0 / big) | (jnp.max(jnp.abs(y)) == 0))
    return require(p0, ok, "sigma must be within 1e77 (finfo.max^(1/4)) of the data scale max|y|")


def checked_start(model, x, d: Data) -> Data:
    """``d`` after checking that the cost sum |(y - f(x, p0)) / sigma|^2 at p0 is finite
    (else p0 is outside the range where the model is computable, e.g. 1e300); called inside
    the compiled fit, so the model is not traced once more."""
    r = (d.y - model(x, *d.p0)) * d.w
    cost = jnp.sum(jnp.real(r * jnp.conj(r)))
    p0 = require(
        d.p0, jnp.isfinite(cost), "p0: the cost at p0 is not finite (p0 out of the model's range)"
    )
    return eqx.tree_at(lambda q: q.p0, d, p0)


def make_problem(
    model: Callable, x, y, p0, bounds, sigma, noise, starts, absolute_sigma, voxels=None
) -> tuple[Problem, Data]:
    """Validate a fit and return it as (Problem, Data); see ``curve_fit`` / ``fit_voxels``.

    Args:
        model, x, y, p0, bounds, sigma, noise, starts, absolute_sigma: as ``curve_fit``
            (for a map, y is (..., m) and p0 (n,) or (..., n)).
        voxels: None for one data set (y must be 1-D; NaN/inf data or sigma raise at run
            time through ``eqx.error_if``), or ``(mask, x_per_voxel)`` (as ``fit_voxels``)
            for a map: any number of leading voxel axes, bad voxels flagged in ``Data.good``.
    Raises:
        ValueError, TypeError: shapes, options, bounds, p0 or starts outside the bounds,
            sigma <= 0, a model that does not accept p0 or returns the wrong shape.
    """
    check_option("noise", noise, ("gaussian", "rician"))
    for name, v in (("p0", p0), ("sigma", sigma), ("bounds", bounds), ("starts", starts)):
        if v is not None and not callable(v):
            check_real(name, v)  # a complex value would lose its imaginary part in the cast
    if isinstance(x, (np.ndarray, jax.Array, float, int)):
        check_real("x", x)
    y = jnp.asarray(y)
    if voxels is None and y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if y.ndim < 1:
        raise ValueError("Y must have at least one axis (the data axis)")
    mask, x_per_voxel = (None, False) if voxels is None else voxels
    dt = _float_dtype(y, p0)
    y = y if jnp.iscomplexobj(y) else y.astype(dt)
    vox, m = y.shape[:-1], y.shape[-1]
    p0 = _initial(p0, vox, dt)
    n = p0.shape[-1]
    x, x1, x_per_voxel = _independent(x, y, x_per_voxel, dt)
    _check_model(model, x1, p0.reshape(-1, n)[0], m)
    lo, hi = _bounds(bounds, n, dt)
    w = _weights(sigma, noise, y, dt, per_voxel_ok=voxels is not None)
    if voxels is None or p0.ndim == 1:
        _check_in_bounds(p0, lo, hi, "p0")
    starts = _starts(starts, n, dt, lo, hi)
    m_real = m * (2 if jnp.iscomplexobj(y) else 1)
    x_shared = None if x_per_voxel else x
    absolute = jnp.asarray(bool(absolute_sigma))
    prob = Problem(x_shared, lo, hi, starts, absolute, noise, m_real - n)
    if voxels is None:
        y = require(y, jnp.isfinite(y), "y must be finite (got NaN or inf)")
        w = require(w, jnp.isfinite(w) & (w > 0), "sigma must be finite and > 0")
        p0 = _check_start(x, y, w, p0)
        return prob, Data(y, w, p0, jnp.asarray(True), None)
    good = _good_voxels(y, w, mask).reshape(-1)
    V = math.prod(vox)
    y, w = y.reshape(V, m), w.reshape(V, m)
    p0 = jnp.broadcast_to(p0, vox + (n,)).reshape(V, n)
    if is_concrete(good):  # per-voxel starts: only the voxels that will be fitted must be valid
        _check_in_bounds(p0[np.asarray(good)], lo, hi, "p0")
    p0 = jnp.where(good[:, None], p0, jnp.clip(jnp.zeros((), dt), lo, hi))
    data = Data(
        jnp.where(good[:, None], y, jnp.ones((), y.dtype)),  # harmless values in bad voxels
        jnp.where(good[:, None], w, jnp.ones((), w.dtype)),
        p0,
        good,
        x.reshape((V,) + x.shape[len(vox) :]) if x_per_voxel else None,
    )
    return prob, data
