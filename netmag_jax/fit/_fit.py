"""Public fitting API: ``curve_fit`` (one data set) and ``fit_voxels`` (every voxel of a map)."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_option, is_concrete, require
from ._lm import (
    BAD_DATA,
    NONFINITE,
    SINGULAR,
    STATUS_MESSAGES,
    SUCCESS,
    covariance,
    default_tol,
    lm_solve,
)


class FitResult(eqx.Module):
    """Result of a least-squares / maximum-likelihood fit (one fit, or a map of them).

    Attributes (leading shape ``...`` = the voxel shape, empty for ``curve_fit``):
        params: (..., n) best-fit parameters, in the units of the model's parameters.
        stderr: (..., n) standard errors, sqrt(diag(covariance)); inf where the parameters
            are not determined by the data.
        covariance: (..., n, n) parameter covariance (see ``curve_fit`` for its scaling).
        chi2: (...) sum of squared weighted residuals, sum(((y - f) / sigma)^2).
        converged: (...) bool, True where the fit met a tolerance with finite values and
            determined parameters (``status == 0``); False marks a failed voxel.
        n_iter: (...) int, Levenberg-Marquardt iterations (Jacobian evaluations).
        status: (...) int code, 0 success, 1 max_iter, 2 non-finite values, 3 singular
            (parameters not determined), 4 bad data (NaN/inf, or masked out); see
            ``STATUS_MESSAGES``.
        cost: (...) the minimised objective: chi2 / 2 (gaussian) or the Rician negative
            log-likelihood up to parameter-independent terms.
        dof: number of data minus number of parameters (static).
    """

    params: jax.Array
    stderr: jax.Array
    covariance: jax.Array
    chi2: jax.Array
    converged: jax.Array
    n_iter: jax.Array
    status: jax.Array
    cost: jax.Array
    dof: int = eqx.field(static=True)

    @property
    def chi2_red(self):
        """Reduced chi-square chi2 / (m - n) (inf if there are no degrees of freedom)."""
        return self.chi2 / self.dof if self.dof > 0 else jnp.full_like(self.chi2, jnp.inf)

    def message(self) -> str:
        """Human-readable summary of the status codes (counts per code for a map)."""
        codes, counts = np.unique(np.asarray(self.status), return_counts=True)
        return "; ".join(
            f"{STATUS_MESSAGES[int(c)]}: {int(k)}" for c, k in zip(codes, counts, strict=False)
        )


# --- input checks (tier 1: before tracing) --------------------------------------------------
def _float_dtype(*xs):
    dts = [jnp.asarray(x).dtype for x in xs if x is not None]
    fl = [d for d in dts if jnp.issubdtype(d, jnp.floating)]
    if fl:
        return jnp.result_type(*fl)
    return jnp.result_type(float)


def _prepare_bounds(bounds, n, dtype):
    if bounds is None:
        lo = np.full(n, -np.inf)
        hi = np.full(n, np.inf)
        return jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)
    if len(bounds) != 2:
        raise ValueError("bounds must be a pair (lower, upper)")
    lo, hi = bounds
    for name, b in (("lower bound", lo), ("upper bound", hi)):
        s = np.shape(b)
        if s not in ((), (n,)):
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {s}")
    lo = jnp.broadcast_to(jnp.asarray(lo, dtype), (n,))
    hi = jnp.broadcast_to(jnp.asarray(hi, dtype), (n,))
    if is_concrete(lo) and is_concrete(hi):
        if np.any(np.isnan(np.asarray(lo))) or np.any(np.isnan(np.asarray(hi))):
            raise ValueError("bounds must not be NaN")
        if np.any(np.asarray(lo) >= np.asarray(hi)):
            raise ValueError(f"each lower bound must be < its upper bound, got {lo} and {hi}")
    return lo, hi


def _check_p0_in_bounds(p0, lo, hi):
    if is_concrete(p0):
        p = np.asarray(p0)
        if np.any(~np.isfinite(p)):
            raise ValueError("p0 must be finite")
        out = (p < np.asarray(lo)) | (p > np.asarray(hi))
        if np.any(out):
            first = p.reshape(-1, p.shape[-1])[np.any(out.reshape(-1, p.shape[-1]), 1)][0]
            raise ValueError(
                f"p0 lies outside the bounds ({int(np.any(out, -1).sum())} "
                f"start(s), e.g. {first}; lower = {np.asarray(lo)}, "
                f"upper = {np.asarray(hi)})"
            )


def _check_sigma(sigma):
    if sigma is not None and is_concrete(sigma):
        s = np.asarray(sigma)
        if np.any(~np.isfinite(s)) or np.any(s <= 0):
            raise ValueError("sigma must be finite and > 0")


def _tols(dtype, ftol, xtol, gtol):
    """Tolerances as arrays (traced in the jitted solver, so changing them does not
    recompile)."""
    d = default_tol(dtype)
    return tuple(jnp.asarray(d if t is None else float(t), dtype) for t in (ftol, xtol, gtol))


def _model_out_shape(model, x, p0):
    try:
        out = jax.eval_shape(lambda xx, pp: model(xx, *pp), x, p0)
    except TypeError as e:
        raise TypeError(f"model(x, *p0) failed with {len(p0)} parameters: {e}") from e
    return out.shape, out.dtype


# --- one problem ------------------------------------------------------------------------------
def _fit_one(model, x, y, w, p0, lo, hi, *, noise, absolute_sigma, max_iter, ftol, xtol, gtol):
    p, cost, it, status = lm_solve(
        model, x, y, w, p0, lo, hi, noise=noise, max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol
    )
    cov, chi2, singular = covariance(model, x, y, w, p, noise=noise, absolute_sigma=absolute_sigma)
    status = jnp.where((status == SUCCESS) & singular, SINGULAR, status)
    status = jnp.where(jnp.isfinite(cost) & jnp.all(jnp.isfinite(p)), status, NONFINITE)
    stderr = jnp.sqrt(jnp.abs(jnp.diagonal(cov)))
    return p, stderr, cov, chi2, status, it, cost


def _fit_multistart(model, x, y, w, starts, lo, hi, **kw):
    """Fit from every row of ``starts`` (S, n); keep the converged one with the lowest cost."""
    outs = jax.vmap(lambda s: _fit_one(model, x, y, w, s, lo, hi, **kw))(starts)
    cost, status = outs[6], outs[4]
    key = jnp.where(jnp.isfinite(cost), cost, jnp.inf) + jnp.where(status == SUCCESS, 0.0, jnp.inf)
    fallback = jnp.argmin(jnp.where(jnp.isfinite(cost), cost, jnp.inf))
    best = jnp.where(jnp.isfinite(jnp.min(key)), jnp.argmin(key), fallback)
    return tuple(o[best] for o in outs[:6]) + (outs[6][best],)


def curve_fit(
    model: Callable,
    x,
    y,
    p0,
    bounds=None,
    sigma=None,
    noise: str = "gaussian",
    *,
    absolute_sigma: bool = False,
    starts=None,
    max_iter: int = 200,
    ftol: float | None = None,
    xtol: float | None = None,
    gtol: float | None = None,
) -> FitResult:
    r"""Fit ``model(x, *p)`` to data ``y`` by Levenberg-Marquardt with autodiff Jacobians.

    gaussian noise minimises :math:`\chi^2 = \sum_i ((y_i - f(x_i; p)) / \sigma_i)^2`
    (complex data: real and imaginary parts are separate data); rician noise (magnitude MR
    data, sigma = noise standard deviation of each real channel, required) minimises
    :math:`\sum_i [f_i^2/2\sigma_i^2 - \log I_0(y_i f_i/\sigma_i^2)]`.

    Covariance: gaussian, :math:`(J^T J)^{-1}` with :math:`J = \partial r/\partial p` at the
    optimum, scaled by :math:`\chi^2/(m - n)` unless ``absolute_sigma`` (as
    ``scipy.optimize.curve_fit``); rician, the inverse Hessian of the negative log-likelihood.
    Bounds are exact (projected steps with an active set), as scipy's ``trf`` method.

    Args:
        model: ``model(x, *params) -> (m,)`` array, written with ``jax.numpy``.
        x: independent variable(s), any shape the model accepts; if 1-D, length m.
        y: (m,) data (real or complex).
        p0: (n,) initial parameters (inside the bounds).
        bounds: None or (lower, upper), each a scalar or (n,); use +-inf for no bound.
        sigma: None, scalar, or (m,) standard deviations of y (> 0), in the unit of y.
        noise: "gaussian" or "rician".
        absolute_sigma: if True, sigma is absolute and the covariance is not rescaled.
        starts: optional (S, n) extra starting points (multi-start; p0 is tried too); the
            converged result with the lowest cost is returned.
        max_iter: iteration limit (non-convergence is reported in ``converged``/``status``).
        ftol, xtol, gtol: tolerances on relative cost reduction, step and scaled gradient
            (default 1e-8 or 30 eps).
    Returns:
        FitResult with scalar-shaped fields (params (n,), covariance (n, n)).
    Raises:
        ValueError: bad shapes, lower >= upper, p0 outside bounds, sigma <= 0, unknown noise.
        At run time (``eqx.error_if``): y or sigma not finite.
    """
    check_option("noise", noise, ("gaussian", "rician"))
    y = jnp.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    dt = _float_dtype(y, p0) if not jnp.iscomplexobj(y) else jnp.finfo(y.dtype).dtype
    p0 = jnp.asarray(p0, dt)
    if p0.ndim != 1 or p0.shape[0] == 0:
        raise ValueError(f"p0 must be a non-empty 1-D array, got shape {p0.shape}")
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(dt)
    if x.ndim == 1 and x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    shape, _ = _model_out_shape(model, x, p0)
    if shape != y.shape:
        raise ValueError(f"model(x, *p0) has shape {shape}, y has shape {y.shape}")
    n = p0.shape[0]
    lo, hi = _prepare_bounds(bounds, n, dt)
    _check_p0_in_bounds(p0, lo, hi)
    if noise == "rician":
        if sigma is None:
            raise ValueError("noise='rician' needs sigma (noise standard deviation)")
        if jnp.iscomplexobj(y):
            raise ValueError("noise='rician' needs real magnitude data")
    _check_sigma(sigma)
    if sigma is not None and np.shape(sigma) not in ((), y.shape):
        raise ValueError(f"sigma must be a scalar or have shape {y.shape}, got {np.shape(sigma)}")
    w = (
        jnp.ones(y.shape, dt)
        if sigma is None
        else jnp.broadcast_to(1.0 / jnp.asarray(sigma, dt), y.shape)
    )
    y = require(y, jnp.isfinite(y), "y must be finite (got NaN or inf)")
    w = require(w, jnp.isfinite(w) & (w > 0), "sigma must be finite and > 0")
    if starts is not None:
        starts = jnp.asarray(starts, dt)
        if starts.ndim != 2 or starts.shape[1] != n:
            raise ValueError(f"starts must have shape (S, {n}), got {starts.shape}")
        _check_p0_in_bounds(starts, lo, hi)
        starts = jnp.concatenate([p0[None], starts])
    ftol, xtol, gtol = _tols(dt, ftol, xtol, gtol)
    m_eff = y.shape[0] * (2 if jnp.iscomplexobj(y) else 1)
    out = _curve_fit_jit(
        model,
        x,
        y,
        w,
        p0,
        lo,
        hi,
        starts,
        noise,
        jnp.asarray(bool(absolute_sigma)),
        jnp.asarray(int(max_iter), jnp.int32),
        ftol,
        xtol,
        gtol,
    )
    return FitResult(*out[:4], out[4] == SUCCESS, out[5], out[4], out[6], dof=m_eff - n)


@eqx.filter_jit
def _curve_fit_jit(
    model, x, y, w, p0, lo, hi, starts, noise, absolute_sigma, max_iter, ftol, xtol, gtol
):
    kw = dict(
        noise=noise,
        absolute_sigma=absolute_sigma,
        max_iter=max_iter,
        ftol=ftol,
        xtol=xtol,
        gtol=gtol,
    )
    if starts is None:
        p, se, cov, chi2, st, it, cost = _fit_one(model, x, y, w, p0, lo, hi, **kw)
    else:
        p, se, cov, chi2, st, it, cost = _fit_multistart(model, x, y, w, starts, lo, hi, **kw)
    return p, se, cov, chi2, st, it, cost


# --- many voxels ------------------------------------------------------------------------------
def fit_voxels(
    model: Callable,
    x,
    Y,
    p0,
    bounds=None,
    sigma=None,
    noise: str = "gaussian",
    *,
    mask=None,
    starts=None,
    x_per_voxel: bool | None = None,
    absolute_sigma: bool = False,
    max_iter: int = 200,
    ftol: float | None = None,
    xtol: float | None = None,
    gtol: float | None = None,
    chunk_size: int = 1024,
    sharding=None,
) -> FitResult:
    r"""Fit ``model(x, *p)`` independently in every voxel of ``Y`` (vmap + chunks + sharding).

    Same objective, bounds, covariance and options as ``curve_fit``, for each voxel. Voxels
    whose data contain NaN/inf, or that ``mask`` excludes, are not fitted: their ``status`` is
    4 (bad data), ``converged`` False and ``params`` NaN; so are all-zero voxels (background,
    where no parameter is determined). A map never fails as a whole.

    Args:
        model: ``model(x, *params) -> (m,)`` for one voxel.
        x: (m,) or any shape shared by all voxels, or per voxel with shape (..., m) matching
            Y (see ``x_per_voxel``), e.g. flip angles scaled by a B1 map.
        Y: (..., m) data; the leading axes are voxels (any number, including none).
        p0: (n,) shared or (..., n) per-voxel initial parameters.
        bounds: None or (lower, upper), scalars or (n,).
        sigma: None, scalar, (m,) or (..., m) noise standard deviations (> 0).
        noise: "gaussian" or "rician".
        mask: optional (...) bool; False voxels are skipped.
        starts: optional (S, n) shared extra starting points (multi-start per voxel).
        x_per_voxel: force (True) or forbid (False) treating x as per-voxel; None: per-voxel
            iff x.ndim == Y.ndim and x.shape == Y.shape with Y.ndim > 1.
        chunk_size: voxels per vmapped chunk (memory bound; chunks are dispatched one
            after the other from Python, so under an outer ``jit`` use one chunk).
        sharding: optional ``jax.sharding.Mesh`` (its first axis splits the voxels of each
            chunk across devices) or a ``jax.sharding.Sharding`` for a (chunk, ...) array.
        absolute_sigma, max_iter, ftol, xtol, gtol: as ``curve_fit``.
    Returns:
        FitResult with leading shape Y.shape[:-1].
    Raises:
        ValueError: shape problems, lower >= upper, p0 outside bounds, sigma <= 0.
    """
    check_option("noise", noise, ("gaussian", "rician"))
    Y = jnp.asarray(Y)
    if Y.ndim < 1:
        raise ValueError("Y must have at least one axis (the data axis)")
    vox = Y.shape[:-1]
    m = Y.shape[-1]
    V = math.prod(vox)
    cplx = jnp.iscomplexobj(Y)
    dt = jnp.finfo(Y.dtype).dtype if cplx else _float_dtype(Y, p0)
    Y = Y.astype(Y.dtype if cplx else dt)
    p0 = jnp.asarray(p0, dt)
    if p0.ndim == 0 or (p0.ndim > 1 and p0.shape[:-1] != vox):
        raise ValueError(f"p0 must have shape (n,) or {vox + (p0.shape[-1],)}, got {p0.shape}")
    n = p0.shape[-1]
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(dt)
    if x_per_voxel is None:
        x_per_voxel = len(vox) > 0 and x.shape == Y.shape
    if x_per_voxel and x.shape[: len(vox)] != vox:
        raise ValueError(f"per-voxel x must have leading shape {vox}, got {x.shape}")
    x1 = x[(0,) * len(vox)] if x_per_voxel else x
    if x1.ndim == 1 and x1.shape[0] != m:
        raise ValueError(f"x and Y must have the same data length, got {x1.shape[0]} and {m}")
    shape, _ = _model_out_shape(model, x1, p0.reshape(-1, n)[0])
    if shape != (m,):
        raise ValueError(f"model(x, *p0) has shape {shape}, each voxel of Y has shape ({m},)")
    lo, hi = _prepare_bounds(bounds, n, dt)
    _check_p0_in_bounds(p0, lo, hi)
    if noise == "rician":
        if sigma is None:
            raise ValueError("noise='rician' needs sigma (noise standard deviation)")
        if cplx:
            raise ValueError("noise='rician' needs real magnitude data")
    _check_sigma(sigma)
    sig = jnp.ones((), dt) if sigma is None else jnp.asarray(sigma, dt)
    if sig.shape not in ((), (m,), Y.shape):
        raise ValueError(f"sigma must be a scalar, ({m},) or {Y.shape}, got {sig.shape}")
    if starts is not None:
        starts = jnp.asarray(starts, dt)
        if starts.ndim != 2 or starts.shape[1] != n:
            raise ValueError(f"starts must have shape (S, {n}), got {starts.shape}")
        _check_p0_in_bounds(starts, lo, hi)
    if mask is not None:
        mask = jnp.asarray(mask, bool)
        if mask.shape != vox:
            raise ValueError(f"mask must have shape {vox}, got {mask.shape}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")

    # flatten voxels; per-voxel pieces get a leading V axis
    Yf = Y.reshape(V, m)
    p0f = jnp.broadcast_to(p0, vox + (n,)).reshape(V, n)
    wf = jnp.broadcast_to(1.0 / sig, Y.shape).reshape(V, m)
    good = (
        jnp.all(jnp.isfinite(Yf), axis=1)
        & jnp.all(jnp.isfinite(wf) & (wf > 0), axis=1)
        & jnp.any(Yf != 0, axis=1)
    )
    if mask is not None:
        good = good & mask.reshape(V)
    xf = x.reshape((V,) + x.shape[len(vox) :]) if x_per_voxel else x
    m_eff = m * (2 if cplx else 1)
    ftol, xtol, gtol = _tols(dt, ftol, xtol, gtol)

    # outside jit: fit only the good voxels (background costs nothing), scatter back after
    sel = None
    if is_concrete(good):
        good_np = np.asarray(good)
        if not good_np.all():
            sel = np.nonzero(good_np)[0]
            Yf, wf, p0f, good = Yf[sel], wf[sel], p0f[sel], good[sel]
            if x_per_voxel:
                xf = xf[sel]
    Vf = Yf.shape[0]
    if Vf > 0:
        out = _run_chunks(
            model,
            xf,
            x_per_voxel,
            Yf,
            wf,
            p0f,
            good,
            lo,
            hi,
            starts,
            noise,
            absolute_sigma,
            max_iter,
            ftol,
            xtol,
            gtol,
            chunk_size,
            sharding,
        )
    else:
        out = None
    shapes = ((n,), (n,), (n, n), (), (), (), ())
    fills = (jnp.nan, jnp.nan, jnp.nan, jnp.nan, BAD_DATA, 0, jnp.nan)
    dtypes = (dt, dt, dt, dt, jnp.int32, jnp.int32, dt)
    full = []
    for k in range(7):
        if sel is None and out is not None:
            a = out[k]
        else:
            a = jnp.full((V,) + shapes[k], fills[k], dtypes[k])
            if out is not None:
                a = a.at[sel].set(out[k].astype(dtypes[k]))
        full.append(a.reshape(vox + shapes[k]))
    p, se, cov, chi2, st, it, cost = full
    return FitResult(p, se, cov, chi2, st == SUCCESS, it, st, cost, dof=m_eff - n)


def _run_chunks(
    model,
    xf,
    x_per_voxel,
    Yf,
    wf,
    p0f,
    good,
    lo,
    hi,
    starts,
    noise,
    absolute_sigma,
    max_iter,
    ftol,
    xtol,
    gtol,
    chunk_size,
    sharding,
):
    """Fit the V voxels in chunks of C voxels, one jitted vmapped call per chunk; return
    (V, ...) outputs. C = min(chunk_size, max(512, next power of two >= V)), rounded up to a
    multiple of the device count: maps of any size reuse a few compiled solvers (padding a
    small map to 512 voxels costs milliseconds for cheap models; pass a smaller chunk_size
    for expensive ones). Chunks are dispatched asynchronously.
    """
    V = Yf.shape[0]
    n_dev = 1 if sharding is None else _n_shards(sharding)
    C = min(int(chunk_size), max(_MIN_CHUNK, 1 << max(V - 1, 0).bit_length()))
    C = -(-C // n_dev) * n_dev
    n_chunks = -(-V // C)
    pad = n_chunks * C - V

    def padded(a):
        if pad == 0:
            return a
        return jnp.concatenate([a, jnp.broadcast_to(a[:1], (pad,) + a.shape[1:])])

    # replace bad voxels' data (only under jit) by harmless values so the loop stays finite
    safe_Y = jnp.where(good[:, None], Yf, jnp.ones((), Yf.dtype))
    safe_w = jnp.where(good[:, None], wf, 1.0)
    arrays = dict(Y=padded(safe_Y), w=padded(safe_w), p0=padded(p0f), good=padded(good))
    if x_per_voxel:
        arrays["x"] = padded(xf)
    x_shared = None if x_per_voxel else xf
    absolute_sigma = jnp.asarray(bool(absolute_sigma))
    max_iter = jnp.asarray(int(max_iter), jnp.int32)
    outs = []
    for i in range(n_chunks):
        chunk = {k: v[i * C : (i + 1) * C] for k, v in arrays.items()}
        if sharding is not None:
            chunk = {
                k: jax.device_put(v, _chunk_sharding(sharding, v.ndim)) for k, v in chunk.items()
            }
        outs.append(
            _fit_chunk_jit(
                model,
                x_shared,
                chunk,
                lo,
                hi,
                starts,
                noise,
                absolute_sigma,
                max_iter,
                ftol,
                xtol,
                gtol,
            )
        )
    if n_chunks == 1:
        return tuple(o[:V] for o in outs[0])
    return tuple(jnp.concatenate([o[k] for o in outs])[:V] for k in range(7))


_MIN_CHUNK = 512


def _n_shards(sharding) -> int:
    if isinstance(sharding, jax.sharding.Mesh):
        return int(sharding.devices.shape[0])
    if isinstance(sharding, jax.sharding.Sharding):
        return len(sharding.device_set)
    raise TypeError("sharding must be a jax.sharding.Mesh or jax.sharding.Sharding")


def _chunk_sharding(sharding, ndim):
    P = jax.sharding.PartitionSpec
    if isinstance(sharding, jax.sharding.Mesh):
        spec = P(sharding.axis_names[0], *([None] * (ndim - 1)))
        return jax.sharding.NamedSharding(sharding, spec)
    return sharding


@eqx.filter_jit
def _fit_chunk_jit(
    model, x_shared, arrays, lo, hi, starts, noise, absolute_sigma, max_iter, ftol, xtol, gtol
):
    kw = dict(
        noise=noise,
        absolute_sigma=absolute_sigma,
        max_iter=max_iter,
        ftol=ftol,
        xtol=xtol,
        gtol=gtol,
    )

    def one(a):
        xv = a.get("x", x_shared)
        if starts is None:
            out = _fit_one(model, xv, a["Y"], a["w"], a["p0"], lo, hi, **kw)
        else:
            st = jnp.concatenate([a["p0"][None], starts])
            out = _fit_multistart(model, xv, a["Y"], a["w"], st, lo, hi, **kw)
        p, se, cov, chi2, status, it, cost = out
        g = a["good"]
        nan = jnp.asarray(jnp.nan, p.dtype)
        return (
            jnp.where(g, p, nan),
            jnp.where(g, se, nan),
            jnp.where(g, cov, nan),
            jnp.where(g, chi2, nan),
            jnp.where(g, status, BAD_DATA).astype(jnp.int32),
            jnp.where(g, it, 0),
            jnp.where(g, cost, nan),
        )

    return jax.vmap(one)(arrays)


__all__ = ["FitResult", "curve_fit", "fit_voxels"]
