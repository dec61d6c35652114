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

Why a hand-written LM and not ``optimistix.LevenbergMarquardt``: the box constraints are
handled exactly by projection (no transformation that only reaches a bound asymptotically),
the Rician likelihood needs a Newton Hessian rather than a residual Jacobian, and the per-voxel
loop state stays minimal (n x n matrices), which is what makes 1e5 vmapped fits fast; the
benchmark (benchmarks/bench_fit.py) times it against vmapped optimistix LM.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from ._special import rician_nll

# status codes (0 = success); ``FitResult.converged`` is ``status == SUCCESS``
SUCCESS = 0
MAX_ITER = 1
NONFINITE = 2
SINGULAR = 3
BAD_DATA = 4
STATUS_MESSAGES = {
    SUCCESS: "converged",
    MAX_ITER: "maximum number of iterations reached",
    NONFINITE: "non-finite cost or model values",
    SINGULAR: "parameters not determined by the data (singular Jacobian / Hessian)",
    BAD_DATA: "bad data (NaN/inf, all zero, or masked out)",
}


def default_tol(dtype) -> float:
    """Default ftol = xtol = gtol: 1e-8 (as scipy) or 30 machine eps, whichever is larger."""
    return max(1e-8, 30.0 * float(jnp.finfo(dtype).eps))


def _make_objective(model: Callable, x, y, w, noise: str):
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


def weighted_residual(y, f, w):
    """(y - f) w; complex residuals -> [Re, Im] stacked (each complex point counts as two
    data, both with weight w)."""
    d = y - f
    if jnp.iscomplexobj(d):
        return jnp.concatenate([jnp.real(d) * w, jnp.imag(d) * w])
    return d * w


def _finite_or_inf(c):
    return jnp.where(jnp.isfinite(c), c, jnp.inf)


def lm_solve(
    model: Callable,
    x,
    y,
    w,
    p0,
    lo,
    hi,
    *,
    noise: str,
    max_iter: int,
    ftol: float,
    xtol: float,
    gtol: float,
):
    """Minimise one problem. Returns (p, cost, n_iter, status_before_covariance).

    ``max_iter``, ``ftol``, ``xtol``, ``gtol`` may be traced scalars (no recompilation).
    """
    obj = _make_objective(model, x, y, w, noise)
    dt = p0.dtype
    n = p0.shape[0]
    eye = jnp.eye(n, dtype=dt)
    tiny = jnp.asarray(jnp.finfo(dt).tiny ** 0.5, dt)

    p0 = jnp.clip(p0, lo, hi)
    # the first iteration only evaluates the objective at p0 (one copy of the model's
    # Jacobian in the compiled loop, which roughly halves compile time)
    init = dict(
        p=p0,
        c=jnp.asarray(jnp.inf, dt),
        g=jnp.zeros((n,), dt),
        H=eye,
        D=jnp.ones((n,), dt),
        lam=jnp.asarray(1e-3, dt),
        nu=jnp.asarray(2.0, dt),
        it=jnp.asarray(0, jnp.int32),
        done=jnp.asarray(False),
        status=jnp.asarray(MAX_ITER, jnp.int32),
    )

    def cond(s):
        return (~s["done"]) & (s["it"] < max_iter)

    def body(s):
        p, c, g, H, D, lam = s["p"], s["c"], s["g"], s["H"], s["D"], s["lam"]
        first = s["it"] == 0
        # active set: on a bound with the descent direction -g pointing outside
        active = ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
        free = (~active).astype(dt)
        A = H + lam * jnp.diag(D)
        A = A * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
        delta = jnp.linalg.solve(A, -g * free)
        delta = jnp.where(jnp.isfinite(delta) & ~first, delta, 0.0)
        p_new = jnp.clip(p + delta, lo, hi)
        step = p_new - p
        pred = -(g @ step + 0.5 * step @ (H @ step))
        c_new, g_new, H_new = obj(p_new)
        ok_new = jnp.isfinite(c_new) & jnp.all(jnp.isfinite(g_new)) & jnp.all(jnp.isfinite(H_new))
        c_new = jnp.where(ok_new, c_new, jnp.inf)
        actual = jnp.where(first, 0.0, c - c_new)
        accept = ok_new & (first | ((actual > 0) & (pred > 0)))
        rho = actual / jnp.where(pred > 0, pred, 1.0)
        lam_acc = lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        lam_acc = jnp.where(first, lam, jnp.maximum(lam_acc, 1e-15))
        lam = jnp.where(accept, lam_acc, lam * s["nu"])
        nu = jnp.where(accept, 2.0, s["nu"] * 2.0)

        c_old = jnp.where(first, c_new, c)
        scale = jnp.maximum(jnp.abs(c_old), tiny)
        conv_f = accept & ~first & (actual <= ftol * scale) & (pred <= ftol * scale)
        conv_x = ~first & (jnp.sqrt(step @ step) <= xtol * (jnp.sqrt(p @ p) + xtol))
        p = jnp.where(accept, p_new, p)
        c = jnp.where(accept, c_new, c)
        g = jnp.where(accept, g_new, g)
        H = jnp.where(accept, H_new, H)
        dH = jnp.abs(jnp.diagonal(H_new))
        D = jnp.where(accept, jnp.where(first, jnp.maximum(dH, tiny), jnp.maximum(D, dH)), D)
        active = ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
        g_free = jnp.where(active, 0.0, g)
        if noise == "gaussian":
            conv_g = jnp.max(jnp.abs(g_free) / jnp.sqrt(D * jnp.maximum(2.0 * c, tiny))) <= gtol
            conv_zero = c <= tiny
        else:
            conv_g = jnp.max(jnp.abs(g_free) / jnp.sqrt(D)) <= gtol
            conv_zero = jnp.asarray(False)
        bad_start = first & ~ok_new
        stuck = lam > 1e30  # damping exploded: no descent found
        done = conv_f | conv_x | conv_g | conv_zero | stuck | bad_start
        status = jnp.where(
            bad_start, NONFINITE, jnp.where(stuck, SINGULAR, jnp.where(done, SUCCESS, MAX_ITER))
        )
        return dict(
            p=p,
            c=c,
            g=g,
            H=H,
            D=D,
            lam=lam,
            nu=nu,
            it=s["it"] + 1,
            done=done,
            status=status.astype(jnp.int32),
        )

    s = lax.while_loop(cond, body, init)
    return s["p"], s["c"], s["it"], s["status"]


def covariance(model: Callable, x, y, w, p, *, noise: str, absolute_sigma: bool):
    """Covariance of the parameters at the optimum, chi2, and a rank-deficiency flag.

    ``absolute_sigma`` may be a traced bool.

    gaussian: cov = (J^T J)^+ (pseudo-inverse by SVD of J with its columns scaled to unit
    norm, singular values below eps * max(m, n) * s_max dropped, as scipy.optimize.curve_fit
    does without the scaling), times chi2 / (m - n)
    unless ``absolute_sigma``. rician: cov = inverse of the Hessian of the NLL (observed
    Fisher information; sigma is the known noise level, so the scale is absolute).
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
    if noise == "gaussian":
        J = jax.jacfwd(resid)(p)
        # columns scaled to unit norm first (equal to scipy's unscaled SVD when the problem
        # is well conditioned; keeps float32 fits with disparate parameter scales usable)
        cn = jnp.sqrt(jnp.sum(J * J, axis=0))
        cn = jnp.where(cn > 0, cn, 1.0)
        _, s, vt = jnp.linalg.svd(J / cn, full_matrices=False)
        keep = s > eps * max(m, n) * s[0]
        inv_s2 = jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0) ** 2, 0.0)
        cov = ((vt.T * inv_s2) @ vt) / (cn[:, None] * cn[None, :])
        scale = chi2 / (m - n) if m > n else jnp.asarray(jnp.inf, dt)
        cov = jnp.where(absolute_sigma, cov, cov * scale)
        singular = ~jnp.all(keep)
    else:
        sigma = 1.0 / w
        H = jax.hessian(lambda q: jnp.sum(rician_nll(model(x, *q), y, sigma)))(p)
        H = 0.5 * (H + H.T)
        evals, evecs = jnp.linalg.eigh(H)
        keep = evals > eps * max(m, n) * jnp.max(jnp.abs(evals))
        inv_e = jnp.where(keep, 1.0 / jnp.where(keep, evals, 1.0), 0.0)
        cov = (evecs * inv_e) @ evecs.T
        singular = ~jnp.all(keep)
    cov = jnp.where(singular, jnp.inf, cov)
    return cov, chi2, singular
