"""Public fitting API: ``curve_fit`` (one data set) and ``fit_voxels`` (every voxel of a map)."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import is_concrete
from ..parallel import map_chunks, n_shards
from ._lm import (
    RESULTS,
    STATUS_MESSAGES,
    LevenbergMarquardt,
    LMOptions,
    covariance,
    lm_solve,
    make_objective,
    status_code,
    with_options,
)
from ._problem import Data, Problem, checked_start, make_problem


class FitResult(eqx.Module):
    """Result of a least-squares / maximum-likelihood fit (one fit, or a map of them).

    Leading shape ``...`` = the voxel shape, empty for ``curve_fit``.

    Attributes:
        params: (..., n) best-fit parameters, in the units of the model's parameters.
        stderr: (..., n) standard errors, sqrt(diag(covariance)); inf where the parameters
            are not determined by the data.
        covariance: (..., n, n) parameter covariance (see ``curve_fit`` for its scaling).
        chi2: (...) sum of squared weighted residuals, sum(((y - f) / sigma)^2).
        n_iter: (...) int, Levenberg-Marquardt iterations (Jacobian evaluations).
        result: (...) ``RESULTS`` item: successful, max_iter, nonfinite, singular
            (parameters not determined), bad_data (NaN/inf, all zero, or masked out).
        cost: (...) the minimised objective: chi2 / 2 (gaussian) or the Rician negative
            log-likelihood up to parameter-independent terms.
        dof: number of real data minus number of parameters (static).
        names: (n,) parameter names (static): ``param_names`` if given, else the model's
            positional parameters after x (``exponential_decay(t, M0, T2)`` -> M0, T2),
            else p0, p1, ...

    Properties: ``status`` (int code of ``result``, see ``STATUS_MESSAGES``), ``converged``
    (``result`` is successful), ``chi2_red``, ``named_params`` / ``named_stderr`` (name ->
    (...) array: ``res.named_params["T2"]`` is ``res.params[..., 1]``).
    """

    params: jax.Array
    stderr: jax.Array
    covariance: jax.Array
    chi2: jax.Array
    n_iter: jax.Array
    result: RESULTS
    cost: jax.Array
    dof: int = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def index(self, name: str) -> int:
        """Column of parameter ``name`` in ``params`` / ``stderr``.

        Raises:
            KeyError: no parameter of that name (the message lists the names).
        """
        if name not in self.names:
            raise KeyError(f"no parameter {name!r}; the parameters are {list(self.names)}")
        return self.names.index(name)

    @property
    def named_params(self) -> dict[str, jax.Array]:
        """Parameter name -> (...) values (a named view of ``params``)."""
        return {k: self.params[..., i] for i, k in enumerate(self.names)}

    @property
    def named_stderr(self) -> dict[str, jax.Array]:
        """Parameter name -> (...) standard errors (a named view of ``stderr``)."""
        return {k: self.stderr[..., i] for i, k in enumerate(self.names)}

    @property
    def status(self) -> jax.Array:
        """(...) int code: 0 success, 1 max_iter, 2 non-finite values, 3 singular
        (parameters not determined), 4 bad data; see ``STATUS_MESSAGES``."""
        return status_code(self.result)

    @property
    def converged(self) -> jax.Array:
        """(...) bool, True where the fit met a tolerance with finite values and determined
        parameters; False marks a failed voxel."""
        return self.status == status_code(RESULTS.successful)

    @property
    def chi2_red(self):
        """Reduced chi-square chi2 / (m - n) (inf if there are no degrees of freedom)."""
        return self.chi2 / self.dof if self.dof > 0 else jnp.full_like(self.chi2, jnp.inf)

    def message(self) -> str:
        """Human-readable summary of the status codes (counts per code for a map)."""
        codes, counts = np.unique(np.asarray(self.status), return_counts=True)
        return "; ".join(
            f"{STATUS_MESSAGES[int(c)]}: {int(k)}" for c, k in zip(codes, counts, strict=True)
        )


def _resolve_names(model: Callable, n: int, names: Sequence[str] | None = None) -> tuple[str, ...]:
    """Names of the n fitted parameters: ``names`` (checked: n distinct strings), else the
    positional parameters of ``model`` after x (the ones ``model(x, *p)`` binds), else
    ``p0 ... p{n-1}`` (a model taking ``*p`` or one whose signature cannot be read)."""
    if names is not None:
        names = tuple(names)
        if len(names) != n or len(set(names)) != n or not all(isinstance(k, str) for k in names):
            raise ValueError(f"param_names must be {n} distinct strings, got {names}")
        return names
    try:
        sig = inspect.signature(model)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        pos = []
        for prm in sig.parameters.values():
            if prm.kind not in kinds:
                break
            pos.append(prm.name)
        if len(pos) >= n + 1:
            return tuple(pos[1 : n + 1])
    return tuple(f"p{i}" for i in range(n))


# --- one voxel --------------------------------------------------------------------------------
def _not_fitted(prob: Problem) -> FitResult:
    """What a voxel that is not fitted reports: NaN values, 0 iterations, bad_data."""
    n, dt = prob.lo.shape[0], prob.dtype
    nan = jnp.full((), jnp.nan, dt)
    vec = jnp.full((n,), jnp.nan, dt)
    zero = jnp.zeros((), jnp.int32)
    return FitResult(
        vec, vec, jnp.full((n, n), jnp.nan, dt), nan, zero, RESULTS.bad_data, nan, prob.dof
    )


def _fit_one(model, opts: LMOptions, prob: Problem, x, y, w, p0) -> FitResult:
    """Levenberg-Marquardt from one start, then the covariance at the optimum."""
    objective = make_objective(model, x, y, w, prob.noise)
    p, cost, it, result, H = lm_solve(objective, p0, prob.lo, prob.hi, opts, prob.noise)
    cov, chi2, singular = covariance(
        model, x, y, w, p, noise=prob.noise, absolute_sigma=prob.absolute_sigma, JTJ=H
    )
    result = RESULTS.where((result == RESULTS.successful) & singular, RESULTS.singular, result)
    finite = jnp.isfinite(cost) & jnp.all(jnp.isfinite(p))
    result = RESULTS.where(finite, result, RESULTS.nonfinite)
    stderr = jnp.sqrt(jnp.abs(jnp.diagonal(cov)))
    return FitResult(p, stderr, cov, chi2, it, result, cost, prob.dof)


def _best(fits: FitResult) -> FitResult:
    """Of a batch of fits from several starts, the converged one with the lowest cost (the
    lowest finite cost if none converged)."""
    cost = jnp.where(jnp.isfinite(fits.cost), fits.cost, jnp.inf)
    key = cost + jnp.where(fits.converged, 0.0, jnp.inf)
    best = jnp.where(jnp.isfinite(jnp.min(key)), jnp.argmin(key), jnp.argmin(cost))
    return jax.tree.map(lambda a: a[best], fits)


def _fit_data(model, opts: LMOptions, prob: Problem, d: Data) -> FitResult:
    """Fit one voxel (from p0 and every extra start); a voxel without good data reports
    ``_not_fitted``."""
    x = prob.x if d.x is None else d.x
    if prob.starts is None:
        fit = _fit_one(model, opts, prob, x, d.y, d.w, d.p0)
    else:
        starts = jnp.concatenate([d.p0[None], prob.starts])
        fit = _best(jax.vmap(lambda s: _fit_one(model, opts, prob, x, d.y, d.w, s))(starts))
    return jax.tree.map(lambda a, b: jnp.where(d.good, a, b), fit, _not_fitted(prob))


def _fit_one_data_set(model, opts: LMOptions, prob: Problem, d: Data) -> FitResult:
    """``curve_fit``'s compiled fit: the cost at p0 checked finite (``checked_start``), then
    ``_fit_data``."""
    x = prob.x if d.x is None else d.x
    return _fit_data(model, opts, prob, checked_start(model, x, d))


_curve_fit_jit = eqx.filter_jit(_fit_one_data_set)


@eqx.filter_jit
def _fit_chunk_jit(model, opts: LMOptions, prob: Problem, chunk: Data) -> FitResult:
    return jax.vmap(lambda d: _fit_data(model, opts, prob, d))(chunk)


# --- public API -------------------------------------------------------------------------------
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
    solver: LevenbergMarquardt = LevenbergMarquardt(),  # noqa: B008 (a frozen Module)
    max_iter: int | None = None,
    ftol: float | None = None,
    xtol: float | None = None,
    gtol: float | None = None,
    param_names: Sequence[str] | None = None,
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
        solver: ``LevenbergMarquardt(ftol, xtol, gtol, max_iter)`` options.
        max_iter, ftol, xtol, gtol: shortcuts that replace the fields of ``solver`` of the
            same name (non-convergence is reported in ``converged`` / ``result``).
        param_names: optional n names of the parameters (``FitResult.names``); default: the
            model's positional parameters after x.
    Returns:
        FitResult with scalar-shaped fields (params (n,), covariance (n, n)).
    Raises:
        ValueError: bad shapes, lower >= upper, p0 outside bounds, sigma <= 0, unknown noise.
        equinox.EquinoxRuntimeError: at run time (``eqx.error_if``), y or sigma not finite.
    """
    prob, data = make_problem(model, x, y, p0, bounds, sigma, noise, starts, absolute_sigma)
    opts = with_options(solver, max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol)
    names = _resolve_names(model, prob.lo.shape[0], param_names)
    res = _curve_fit_jit(model, opts.resolved(prob.dtype), prob, data)
    return dataclasses.replace(res, names=names)


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
    solver: LevenbergMarquardt = LevenbergMarquardt(),  # noqa: B008 (a frozen Module)
    max_iter: int | None = None,
    ftol: float | None = None,
    xtol: float | None = None,
    gtol: float | None = None,
    chunk_size: int = 1024,
    sharding=None,
    param_names: Sequence[str] | None = None,
) -> FitResult:
    r"""Fit ``model(x, *p)`` independently in every voxel of ``Y`` (vmap + chunks + sharding).

    Same objective, bounds, covariance and options as ``curve_fit``, for each voxel. Voxels
    whose data contain NaN/inf, or that ``mask`` excludes, are not fitted: their ``result`` is
    ``RESULTS.bad_data`` (status 4), ``converged`` False and ``params`` NaN; so are all-zero
    voxels (background, where no parameter is determined). A map never fails as a whole.

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
        absolute_sigma, solver, max_iter, ftol, xtol, gtol, param_names: as ``curve_fit``.
    Returns:
        FitResult with leading shape Y.shape[:-1].
    Raises:
        ValueError: shape problems, lower >= upper, p0 outside bounds, sigma <= 0.
        TypeError: ``sharding`` is neither a Mesh nor a Sharding.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if sharding is not None:
        n_shards(sharding)  # TypeError for anything but a Mesh or a Sharding
    prob, data = make_problem(
        model, x, Y, p0, bounds, sigma, noise, starts, absolute_sigma, (mask, x_per_voxel)
    )
    opts = with_options(solver, max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol)
    opts = opts.resolved(prob.dtype)
    names = _resolve_names(model, prob.lo.shape[0], param_names)
    V = data.good.shape[0]
    # outside jit: fit only the good voxels (background costs nothing), scatter back after
    sel = np.nonzero(np.asarray(data.good))[0] if is_concrete(data.good) else np.arange(V)
    fitted = jax.tree.map(lambda a: a[sel], data) if sel.size < V else data
    full = jax.tree.map(lambda a: jnp.broadcast_to(a, (V,) + a.shape), _not_fitted(prob))
    if sel.size > 0:
        fits = map_chunks(
            lambda chunk: _fit_chunk_jit(model, opts, prob, chunk),
            fitted,
            _chunk_rows(chunk_size, sel.size),
            sharding,
        )
        full = fits if sel.size == V else jax.tree.map(lambda f, a: f.at[sel].set(a), full, fits)
    full = jax.tree.map(lambda a: a.reshape(np.shape(Y)[:-1] + a.shape[1:]), full)
    return dataclasses.replace(full, names=names)


_MIN_CHUNK = 512


def _chunk_rows(chunk_size: int, n: int) -> int:
    """Voxels per chunk: min(chunk_size, max(512, next power of two >= n)); maps of any size
    reuse a few compiled solvers (padding a small map to 512 voxels costs milliseconds for
    cheap models; pass a smaller chunk_size for expensive ones)."""
    return min(int(chunk_size), max(_MIN_CHUNK, 1 << max(n - 1, 0).bit_length()))
