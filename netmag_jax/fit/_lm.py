"""Levenberg-Marquardt for one small least-squares / likelihood problem, written to be vmapped.

One problem: parameters p (n,), data y (m,), model f(x, *p) (m,). The loop is a
``lax.while_loop`` (batched by ``vmap``: finished lanes are frozen by the batching rule).

Each iteration, at the current point p with cost c, gradient g and (Gauss-Newton or Newton)
Hessian H, solves the damped system

    (H + lambda D) delta = -g,     D = running max of diag(H)  (Marquardt scaling, as MINPACK)

with the components that sit on a bound and whose gradient pushes outwards frozen (active
set), projects the trial point p + delta onto the box [lo, hi], and accepts it if the cost
decreases. lambda follows Nielsen's rule (gain ratio rho = actual / predicted reduction):
accepted -> lambda *= max(1/3, 1 - (2 rho - 1)^3); rejected -> lambda *= nu, nu *= 2.

Stopping (MINPACK-like): relative cost reduction and predicted reduction both <= ftol; step
<= xtol (|p| + xtol); scaled gradient <= gtol; zero residual; or max_iter (not converged).
The options travel as one ``LevenbergMarquardt`` Module; the outcome is a ``RESULTS`` item.

Why a hand-written LM and not ``optimistix.LevenbergMarquardt``: the box constraints are
handled exactly by projection (no transformation that only reaches a bound asymptotically),
the Rician likelihood needs a Newton Hessian rather than a residual Jacobian, and the per-voxel
loop state stays minimal (n x n matrices), which is what makes 1e5 vmapped fits fast; the
benchmark (benchmarks/bench_fit.py) times it against vmapped optimistix LM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._checks import check_real, is_concrete, require
from ._special import rician_nll


class RESULTS(eqx.Enumeration):
    """Outcome of one fit; the integer code (``FitResult.status``) is the definition order."""

    successful = "converged"
    max_iter = "maximum number of iterations reached"
    nonfinite = "non-finite cost or model values"
    singular = "parameters not determined by the data (singular Jacobian / Hessian)"
    bad_data = "bad data (NaN/inf, all zero, or masked out)"


def status_code(result: RESULTS) -> jax.Array:
    """The integer code(s) of a (possibly batched) ``RESULTS`` item: 0 = successful."""
    return jnp.asarray(result._value)


_NAMES = ("successful", "max_iter", "nonfinite", "singular", "bad_data")
#: Status code -> message, derived from ``RESULTS`` (0 = converged, ..., 4 = bad data).
STATUS_MESSAGES = {
    int(status_code(getattr(RESULTS, k))): RESULTS[getattr(RESULTS, k)] for k in _NAMES
}


def default_tol(dtype) -> float:
    """Default ftol = xtol = gtol: 1e-8 (as scipy) or 30 machine eps, whichever is larger."""
    return max(1e-8, 30.0 * float(jnp.finfo(dtype).eps))


class LevenbergMarquardt(eqx.Module):
    """Options of the bounded Levenberg-Marquardt solver of ``curve_fit`` / ``fit_voxels``.

    Attributes:
        ftol: stop when the relative cost reduction and the predicted one are both <= ftol.
            ftol, xtol, gtol are relative: each must satisfy 0 <= tol < 1 (checked, also under
            jit: a tolerance >= 1, inf or NaN would stop at the first step).
        xtol: stop when the step is <= xtol (|p| + xtol).
        gtol: stop when the scaled gradient of the free parameters is <= gtol.
            ``None`` (default): max(1e-8, 30 eps) of the data's float type, for all three.
        max_iter: iteration limit (Jacobian evaluations), >= 0; reaching it is reported as
            ``RESULTS.max_iter``.

    All four are array leaves inside the solver: changing them does not recompile.
    """

    ftol: float | jax.Array | None = None
    xtol: float | jax.Array | None = None
    gtol: float | jax.Array | None = None
    max_iter: int | jax.Array = 200

    def __check_init__(self):
        for name in ("ftol", "xtol", "gtol"):
            v = getattr(self, name)
            if v is not None:
                check_real(name, v)
            if v is not None and is_concrete(v) and not np.all(_tol_ok(np.asarray(v))):
                raise ValueError(f"{name} must be a relative tolerance 0 <= {name} < 1, got {v}")
        m = self.max_iter
        if is_concrete(m) and (np.ndim(m) != 0 or int(m) != m or int(m) < 0):
            raise ValueError(f"max_iter must be an integer >= 0, got {m}")

    def resolved(self, dtype) -> LMOptions:
        """The same options as arrays: tolerances of ``dtype`` (None -> ``default_tol``),
        max_iter int32."""
        d = default_tol(dtype)
        ftol, xtol, gtol = (
            require(
                jnp.asarray(d if t is None else t, dtype),
                _tol_ok(jnp.asarray(d if t is None else t, dtype)),
                f"{name} must be a relative tolerance 0 <= {name} < 1",
            )
            for name, t in (("ftol", self.ftol), ("xtol", self.xtol), ("gtol", self.gtol))
        )
        max_iter = jnp.asarray(self.max_iter)
        max_iter = require(max_iter, max_iter >= 0, "max_iter must be >= 0")
        return LMOptions(ftol, xtol, gtol, max_iter.astype(jnp.int32))


def _tol_ok(t):
    """A relative tolerance is finite with 0 <= t < 1 (>= 1 would stop at the first step)."""
    return (t >= 0) & (t < 1)


class LMOptions(eqx.Module):
    """``LevenbergMarquardt`` options resolved for one float type: all array leaves (traced
    inside the solver, so new values do not recompile)."""

    ftol: jax.Array
    xtol: jax.Array
    gtol: jax.Array
    max_iter: jax.Array


def with_options(solver: LevenbergMarquardt, **overrides) -> LevenbergMarquardt:
    """``solver`` with the given fields replaced (``None`` values are ignored): the one place
    where the convenience keywords ``max_iter``, ``ftol``, ``xtol``, ``gtol`` of ``curve_fit``
    and ``fit_voxels`` fold into the options Module."""
    if not isinstance(solver, LevenbergMarquardt):
        raise TypeError(f"solver must be a LevenbergMarquardt, got {type(solver).__name__}")
    return dataclasses.replace(solver, **{k: v for k, v in overrides.items() if v is not None})


def weighted_residual(y, f, w):
    """(y - f) w; complex residuals -> [Re, Im] stacked (each complex point counts as two
    data, both with weight w)."""
    d = y - f
    if jnp.iscomplexobj(d):
        return jnp.concatenate([jnp.real(d) * w, jnp.imag(d) * w])
    return d * w


def make_objective(model: Callable, x, y, w, noise: str):
    """Return f(p) -> (cost, grad, H) for one problem.

    gaussian: r = (y - model) * w, cost = r.r / 2, grad = J^T r, H = J^T J (Gauss-Newton),
      J = dr/dp. rician: cost = sum of the Rician NLL (w = 1/sigma), grad and H exact.
    """
    if noise == "gaussian":

        def resid(p):
            r = weighted_residual(y, model(x, *p), w)
            return r, r

        def obj(p):
            J, r = jax.jacfwd(resid, has_aux=True)(p)
            return 0.5 * jnp.sum(r * r), J.T @ r, J.T @ J

        return obj

    sigma = 1.0 / w

    def cost(p):
        return jnp.sum(rician_nll(model(x, *p), y, sigma))

    grad = jax.grad(cost)

    def obj(p):
        H, g = jax.jacfwd(lambda q: (grad(q), grad(q)), has_aux=True)(p)
        return cost(p), g, 0.5 * (H + H.T)

    return obj


class _State(eqx.Module):
    """Loop state: point, cost, gradient, Hessian, Marquardt scale, damping, its growth."""

    p: jax.Array
    c: jax.Array
    g: jax.Array
    H: jax.Array
    D: jax.Array
    lam: jax.Array
    nu: jax.Array
    it: jax.Array
    done: jax.Array
    result: RESULTS


def _adjugate(A):
    """(adjugate, determinant) of a 1x1, 2x2 or 3x3 matrix, in closed form (cofactors)."""
    n = A.shape[0]
    if n == 1:
        return jnp.ones_like(A), A[0, 0]
    if n == 2:
        adj = jnp.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])
        return adj, A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    c = [[None] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            r, k = [a for a in range(3) if a != i], [a for a in range(3) if a != j]
            minor = A[r[0], k[0]] * A[r[1], k[1]] - A[r[0], k[1]] * A[r[1], k[0]]
            c[i][j] = minor if (i + j) % 2 == 0 else -minor
    adj = jnp.array([[c[j][i] for j in range(3)] for i in range(3)])  # transpose of cofactors
    return adj, A[0, 0] * c[0][0] + A[0, 1] * c[0][1] + A[0, 2] * c[0][2]


def solve_small(A, b):
    """Solve A x = b for a symmetric positive (semi-)definite A (n, n).

    n <= 3 (the mono-exponential, inversion-recovery and EPG fits): the system is scaled to
    unit diagonal (A_s = D^-1/2 A D^-1/2) and solved by the adjugate, x = D^-1/2 adj(A_s)
    D^-1/2 b / det(A_s): a few fused multiply-adds instead of a batched LAPACK LU per voxel.
    Larger n: ``jnp.linalg.solve``. A singular A gives non-finite x (callers check)."""
    n = A.shape[0]
    if n > 3:
        return jnp.linalg.solve(A, b)
    d = jnp.sqrt(jnp.abs(jnp.diagonal(A)))
    d = jnp.where(d > 0, d, 1.0)
    As = A / (d[:, None] * d[None, :])
    adj, det = _adjugate(As)
    return (adj @ (b / d)) / (det * d)


def _min_eig_ratio(Ns):
    """lambda_min / lambda_max of a symmetric unit-diagonal matrix, n <= 3, in closed form
    (n = 2: (1 - |c|) / (1 + |c|); n = 3: the trigonometric solution of the characteristic
    cubic, Smith, Commun. ACM 4:168, 1961); absolute accuracy ~eps."""
    n = Ns.shape[0]
    if n == 1:
        return jnp.ones((), Ns.dtype)
    if n == 2:
        c = jnp.abs(Ns[0, 1])
        return (1.0 - c) / (1.0 + c)
    p1 = Ns[0, 1] ** 2 + Ns[0, 2] ** 2 + Ns[1, 2] ** 2
    pp = jnp.sqrt(p1 / 3.0)
    ok = pp > 0
    B = (Ns - jnp.eye(3, dtype=Ns.dtype)) / jnp.where(ok, pp, 1.0)
    _, detB = _adjugate(B)
    phi = jnp.arccos(jnp.clip(0.5 * detB, -1.0, 1.0)) / 3.0
    lmax = 1.0 + 2.0 * pp * jnp.cos(phi)
    lmin = 1.0 + 2.0 * pp * jnp.cos(phi + 2.0 * jnp.pi / 3.0)
    return jnp.where(ok, lmin / lmax, 1.0)


def _inverse_small(JTJ, ratio_svd, ratio_floor):
    """(J^T J)^-1 for n <= 3 in closed form, and the rank flag (all kept).

    Scaled to unit diagonal (as the SVD path scales J's columns); the matrix counts as
    singular when lambda_min / lambda_max <= max(ratio_svd, ratio_floor): ratio_svd =
    (eps max(m, n))^2 is the SVD path's cut on singular values, squared; ratio_floor = n eps
    is the precision of eigenvalues of a normal matrix in the working float type."""
    d = jnp.sqrt(jnp.abs(jnp.diagonal(JTJ)))
    dsafe = jnp.where(d > 0, d, 1.0)
    Ns = JTJ / (dsafe[:, None] * dsafe[None, :])
    adj, det = _adjugate(Ns)
    ok = (_min_eig_ratio(Ns) > jnp.maximum(ratio_svd, ratio_floor)) & jnp.all(d > 0)
    cov = adj / (jnp.where(ok, det, 1.0) * dsafe[:, None] * dsafe[None, :])
    return cov, jnp.broadcast_to(ok, d.shape)


def _active(p, g, lo, hi):
    """Components on a bound with the descent direction -g pointing outside."""
    return ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))


def _trial(objective, lo, hi, s: _State):
    """The damped, projected trial step from ``s.p`` (zero at the first iteration, which only
    evaluates the objective at p0); returns (p_new, step, predicted reduction, c_new, g_new,
    H_new, finite)."""
    free = (~_active(s.p, s.g, lo, hi)).astype(s.p.dtype)
    A = s.H + s.lam * jnp.diag(s.D)
    A = A * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
    delta = solve_small(A, -s.g * free)
    delta = jnp.where(jnp.isfinite(delta) & (s.it > 0), delta, 0.0)
    p_new = jnp.clip(s.p + delta, lo, hi)
    step = p_new - s.p
    pred = -(s.g @ step + 0.5 * step @ (s.H @ step))
    c_new, g_new, H_new = objective(p_new)
    ok = jnp.isfinite(c_new) & jnp.all(jnp.isfinite(g_new)) & jnp.all(jnp.isfinite(H_new))
    return p_new, step, pred, jnp.where(ok, c_new, jnp.inf), g_new, H_new, ok


def _gradient_small(s: _State, lo, hi, gtol, tiny, gaussian: bool):
    """Scaled-gradient and zero-residual tests at the accepted point."""
    g_free = jnp.where(_active(s.p, s.g, lo, hi), 0.0, s.g)
    if gaussian:
        conv_g = jnp.max(jnp.abs(g_free) / jnp.sqrt(s.D * jnp.maximum(2.0 * s.c, tiny))) <= gtol
        return conv_g | (s.c <= tiny)
    return jnp.max(jnp.abs(g_free) / jnp.sqrt(s.D)) <= gtol


def _iterate(objective, lo, hi, opts: LMOptions, gaussian: bool, s: _State):
    """One Levenberg-Marquardt iteration (Nielsen's damping update, MINPACK-like tests)."""
    tiny = jnp.asarray(jnp.finfo(s.p.dtype).tiny ** 0.5, s.p.dtype)
    first = s.it == 0
    p_new, step, pred, c_new, g_new, H_new, ok = _trial(objective, lo, hi, s)
    actual = jnp.where(first, 0.0, s.c - c_new)
    accept = ok & (first | ((actual > 0) & (pred > 0)))
    rho = actual / jnp.where(pred > 0, pred, 1.0)
    lam_acc = s.lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
    lam_acc = jnp.where(first, s.lam, jnp.maximum(lam_acc, 1e-15))
    lam = jnp.where(accept, lam_acc, s.lam * s.nu)
    nu = jnp.where(accept, 2.0, s.nu * 2.0)

    scale = jnp.maximum(jnp.abs(jnp.where(first, c_new, s.c)), tiny)
    conv_f = accept & ~first & (actual <= opts.ftol * scale) & (pred <= opts.ftol * scale)
    conv_x = ~first & (jnp.sqrt(step @ step) <= opts.xtol * (jnp.sqrt(s.p @ s.p) + opts.xtol))
    dH = jnp.abs(jnp.diagonal(H_new))
    D = jnp.where(first, jnp.maximum(dH, tiny), jnp.maximum(s.D, dH))
    new = _State(p_new, c_new, g_new, H_new, D, lam, nu, s.it + 1, s.done, s.result)
    old = _State(s.p, s.c, s.g, s.H, s.D, lam, nu, s.it + 1, s.done, s.result)
    s = jax.tree.map(lambda a, b: jnp.where(accept, a, b), new, old)
    bad_start = first & ~ok
    stuck = lam > 1e30  # damping exploded: no descent found
    conv_g = _gradient_small(s, lo, hi, opts.gtol, tiny, gaussian)
    done = conv_f | conv_x | conv_g | stuck | bad_start
    result = RESULTS.where(done, RESULTS.successful, RESULTS.max_iter)
    result = RESULTS.where(stuck, RESULTS.singular, result)
    result = RESULTS.where(bad_start, RESULTS.nonfinite, result)
    return dataclasses.replace(s, done=done, result=result)


def lm_solve(objective, p0, lo, hi, opts: LMOptions, noise: str):
    """Minimise one problem from ``p0`` inside the box [lo, hi].

    Args:
        objective: ``p -> (cost, grad, H)`` from ``make_objective``.
        p0: (n,) start (clipped into the box). lo, hi: (n,) bounds.
        opts: ``LevenbergMarquardt.resolved`` options (arrays, traced: no recompilation).
        noise: "gaussian" or "rician" (selects the gradient and zero-residual tests).
    Returns:
        (p, cost, n_iter, result before the covariance check, H at p: J^T J for gaussian).
    """
    dt = p0.dtype
    n = p0.shape[0]
    init = _State(
        jnp.clip(p0, lo, hi),
        jnp.asarray(jnp.inf, dt),
        jnp.zeros((n,), dt),
        jnp.eye(n, dtype=dt),
        jnp.ones((n,), dt),
        jnp.asarray(1e-3, dt),
        jnp.asarray(2.0, dt),
        jnp.asarray(0, jnp.int32),
        jnp.asarray(False),
        RESULTS.max_iter,
    )

    def body(s):
        return _iterate(objective, lo, hi, opts, noise == "gaussian", s)

    s = lax.while_loop(lambda s: (~s.done) & (s.it < opts.max_iter), body, init)
    return s.p, s.c, s.it, s.result, s.H


def covariance(model: Callable, x, y, w, p, *, noise: str, absolute_sigma, JTJ=None):
    """Covariance of the parameters at the optimum, chi2, and a rank-deficiency flag.

    ``absolute_sigma`` may be a traced bool.

    gaussian: cov = (J^T J)^+ (pseudo-inverse by SVD of J with its columns scaled to unit
    norm, singular values below eps * max(m, n) * s_max dropped, as scipy.optimize.curve_fit
    does without the scaling), times chi2 / (m - n) unless ``absolute_sigma``; with n <= 3
    and the Gauss-Newton matrix ``JTJ`` of the solver at p, the same in closed form
    (``_inverse_small``: no per-voxel SVD). rician: cov = inverse of the Hessian of the NLL
    (observed Fisher information; sigma is the known noise level, so the scale is absolute),
    the Hessian scaled to unit diagonal before the eigenvalue cut (units-independent rank).
    chi2 = sum(((y - f) w)^2) in both cases.
    """
    n = p.shape[0]
    dt = p.dtype
    eps = jnp.finfo(dt).eps

    def resid(q):
        return weighted_residual(y, model(x, *q), w)

    r = resid(p)
    m = r.shape[0]
    chi2 = jnp.sum(r * r)
    if noise == "gaussian" and n <= 3 and JTJ is not None:
        cov, keep = _inverse_small(JTJ, (eps * max(m, n)) ** 2, n * eps)
        scale = chi2 / (m - n) if m > n else jnp.asarray(jnp.inf, dt)
        cov = jnp.where(absolute_sigma, cov, cov * scale)
    elif noise == "gaussian":
        J = jax.jacfwd(resid)(p)
        # columns scaled to unit norm first (equal to scipy's unscaled SVD when the problem
        # is well conditioned; keeps float32 fits with disparate parameter scales usable)
        cn = jnp.sqrt(jnp.sum(J * J, axis=0))
        cn = jnp.where(cn > 0, cn, 1.0)
        _, s, vt = jnp.linalg.svd(J / cn[None, :], full_matrices=False)
        keep = s > eps * max(m, n) * s[0]
        inv_s2 = jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0) ** 2, 0.0)
        cov = ((vt.T * inv_s2[None, :]) @ vt) / (cn[:, None] * cn[None, :])
        scale = chi2 / (m - n) if m > n else jnp.asarray(jnp.inf, dt)
        cov = jnp.where(absolute_sigma, cov, cov * scale)
    else:
        sigma = 1.0 / w
        H = jax.hessian(lambda q: jnp.sum(rician_nll(model(x, *q), y, sigma)))(p)
        # scaled to unit diagonal first (as the gaussian columns): the rank decision must not
        # depend on the units of the parameters (M0 ~ 1e3 next to T2 ~ 0.05 in float32)
        dg = jnp.sqrt(jnp.abs(jnp.diagonal(H)))
        dg = jnp.where(dg > 0, dg, 1.0)
        Hs = H / (dg[:, None] * dg[None, :])
        evals, evecs = jnp.linalg.eigh(0.5 * (Hs + Hs.T))
        keep = evals > eps * max(m, n) * jnp.max(jnp.abs(evals))
        inv_e = jnp.where(keep, 1.0 / jnp.where(keep, evals, 1.0), 0.0)
        cov = ((evecs * inv_e[None, :]) @ evecs.T) / (dg[:, None] * dg[None, :])
    singular = ~jnp.all(keep)
    cov = jnp.where(singular, jnp.inf, cov)
    return cov, chi2, singular
