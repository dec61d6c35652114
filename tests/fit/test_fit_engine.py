"""netmag_jax.fit.curve_fit / fit_voxels against scipy.optimize.curve_fit (an independent
implementation: MINPACK lmdif and the trust-region-reflective solver) and analytic cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so
import scipy.special as ss
from jax.test_util import check_grads

import netmag_jax.fit as nf
from netmag_jax import constants as c

T = np.linspace(0.01, 0.3, 32)
TIGHT = dict(ftol=1e-14, xtol=1e-14, gtol=1e-14)


def expo(t, a, T2, b):
    return a * jnp.exp(-t / T2) + b


def expo_np(t, a, T2, b):
    return a * np.exp(-t / T2) + b


def _data(seed=0, n=None):
    rng = np.random.default_rng(seed)
    shape = (32,) if n is None else (n, 32)
    return expo_np(T, 1.0, 0.08, 0.05) + 0.01 * rng.standard_normal(shape)


def test_exponential_matches_scipy_lm():
    """Parameters and standard errors equal scipy's MINPACK LM to 1e-6 relative."""
    y = _data()
    r = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0], **TIGHT)
    p, cov = so.curve_fit(expo_np, T, y, p0=[0.5, 0.05, 0.0], xtol=1e-15, ftol=1e-15)
    assert bool(r.converged) and int(r.status) == 0
    np.testing.assert_allclose(r.params, p, rtol=1e-6)
    np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov)), rtol=1e-6)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(r.chi2, np.sum((y - expo_np(T, *p)) ** 2), rtol=1e-9)
    assert r.dof == 29 and 0 < int(r.n_iter) < 50


def test_weights_and_absolute_sigma_match_scipy():
    """sigma weights the residuals; absolute_sigma=True leaves the covariance unscaled."""
    y = _data(1)
    sig = 0.01 * (1.0 + T / T.max())
    for absolute in (False, True):
        r = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0], sigma=sig, absolute_sigma=absolute, **TIGHT)
        p, cov = so.curve_fit(
            expo_np,
            T,
            y,
            p0=[0.5, 0.05, 0.0],
            sigma=sig,
            absolute_sigma=absolute,
            xtol=1e-15,
            ftol=1e-15,
        )
        np.testing.assert_allclose(r.params, p, rtol=1e-6)
        np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov)), rtol=1e-6)


def brill(x, Ms, g):
    """M(B, T) = Ms B_J(g mu_B J B / k_B T), J = 7/2, x = (B [T], T [K]) stacked."""
    J = 3.5
    return Ms * nf.brillouin_moment(x[:, 0], x[:, 1], g, J) / (g * J)


def brill_np(x, Ms, g):
    """Independent NumPy Brillouin (coth form), J = 7/2."""
    J = 3.5
    y = g * c.MU_B * J * x[:, 0] / (c.K_B * x[:, 1])
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    return Ms * (a / np.tanh(a * y) - b / np.tanh(b * y))


def test_brillouin_fit_matches_scipy():
    """Brillouin M(B, T) at 2, 5 K (Gd3+-like J = 7/2): g and Ms agree with scipy to 1e-6."""
    B = np.tile(np.linspace(0.2, 7.0, 20), 2)
    TT = np.repeat([2.0, 5.0], 20)
    x = np.stack([B, TT], 1)
    rng = np.random.default_rng(2)
    y = brill_np(x, 7.0, 2.0) + 0.02 * rng.standard_normal(40)
    r = nf.curve_fit(brill, x, y, [5.0, 1.8], **TIGHT)
    p, cov = so.curve_fit(
        lambda xx, Ms, g: brill_np(x, Ms, g), x, y, p0=[5.0, 1.8], xtol=1e-15, ftol=1e-15
    )
    np.testing.assert_allclose(r.params, p, rtol=1e-6)
    np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov)), rtol=1e-6)
    assert abs(float(r.params[1]) - 2.0) < 4 * float(r.stderr[1])


def test_bounds_respected_and_match_trf():
    """With the offset's lower bound above its free optimum the fit sits exactly on the
    bound and the other parameters equal scipy's bounded trf solution."""
    y = _data()
    lo, hi = [0.0, 0.0, 0.06], [2.0, 1.0, 1.0]
    r = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.07], bounds=(lo, hi), **TIGHT)
    p, cov = so.curve_fit(
        expo_np, T, y, p0=[0.5, 0.05, 0.07], bounds=(lo, hi), xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    assert float(r.params[2]) == 0.06
    assert np.all(np.asarray(r.params) >= lo) and np.all(np.asarray(r.params) <= hi)
    np.testing.assert_allclose(r.params, p, rtol=1e-6)
    np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov)), rtol=1e-5)


def test_nonconvergence_flagged():
    """Two iterations from a poor start cannot converge: flagged, status 1 (max_iter)."""
    r = nf.curve_fit(expo, T, _data(), [0.1, 0.5, 0.0], max_iter=2)
    assert not bool(r.converged) and int(r.status) == 1 and int(r.n_iter) == 2
    assert r.result == nf.RESULTS.max_iter


def test_undetermined_parameter_flagged():
    """A parameter the model ignores is not determined: singular, inf stderr."""
    r = nf.curve_fit(
        lambda t, a, T2, b: a * jnp.exp(-t / 0.08) + 0.0 * T2 + b, T, _data(), [0.5, 0.05, 0.0]
    )
    assert int(r.status) == 3 and not bool(r.converged)
    assert np.all(np.isinf(np.asarray(r.stderr)))


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(x=T[:-1]), "same data length"),
        (dict(bounds=([0, 1, 0], [1, 0, 1])), "lower bound"),
        (dict(bounds=([0, 0.06, 0], [2, 1, 1])), "outside the bounds"),
        (dict(sigma=-np.ones(32)), "sigma"),
        (dict(noise="poisson"), "noise"),
        (dict(noise="rician"), "needs sigma"),
        (dict(p0=[1.0, 0.1]), "model"),
        (dict(sigma=np.ones(3)), "sigma"),
    ],
)
def test_invalid_input_raises(kw, msg):
    args = dict(model=expo, x=T, y=_data(), p0=[0.5, 0.05, 0.0])
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=msg):
        nf.curve_fit(**args)


def test_nan_data_raises_at_run_time():
    y = _data()
    y[3] = np.nan
    with pytest.raises(Exception, match="finite"):
        jax.block_until_ready(nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0]).params)


def test_float32_agrees_with_float64():
    y = _data()
    r64 = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0])
    r32 = nf.curve_fit(
        expo, T.astype(np.float32), y.astype(np.float32), np.array([0.5, 0.05, 0.0], np.float32)
    )
    assert r32.params.dtype == jnp.float32 and bool(r32.converged)
    np.testing.assert_allclose(r32.params, r64.params, rtol=2e-4, atol=2e-5)


def test_jit_vmap_and_eager_agree():
    """curve_fit inside jit and vmap gives the eager answer."""
    Y = _data(3, n=3)
    eager = np.stack([nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0]).params for y in Y])
    f = jax.jit(jax.vmap(lambda y: nf.curve_fit(expo, T, y, jnp.array([0.5, 0.05, 0.0])).params))
    np.testing.assert_allclose(f(jnp.asarray(Y)), eager, rtol=1e-10)


def test_log_i0_against_scipy_and_at_zero():
    """log I0 and its derivative I1/I0 against scipy.special; finite derivatives at 0."""
    z = np.array([0.0, 1e-4, 0.3, 2.0, 30.0, 700.0])
    # scipy's log(i0e(z)) + z cancels below z ~ 1e-3 (1.5e-7 relative at z = 1e-4): there the
    # analytic series log I0 = z^2/4 - z^4/64 (next term z^6/576, 1e-17 relative) is the value
    ref = np.where(z < 1e-3, z**2 / 4 - z**4 / 64, np.log(ss.i0e(z)) + z)
    np.testing.assert_allclose(nf.log_i0(z), ref, rtol=1e-13)
    d = jax.vmap(jax.grad(nf.log_i0))(jnp.asarray(z))
    np.testing.assert_allclose(d, ss.i1e(z) / ss.i0e(z), rtol=1e-12, atol=1e-300)
    assert float(jax.grad(jax.grad(nf.log_i0))(0.0)) == 0.5  # series: log I0 = z^2/4 + ...
    check_grads(jax.jit(nf.log_i0), (jnp.array([0.0, 1e-4, 0.5, 5.0]),), order=2, modes=["fwd"])


def test_multistart_finds_global_minimum():
    """Magnitude inversion recovery (exact data, T1 = 0.9 s) started with the wrong polarity
    (a > 0 > b swapped) and a short T1: multi-start over T1 and polarity returns the global
    minimum (zero residual), as the truth."""
    TI = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2])
    y = np.abs(1.0 - 2.0 * np.exp(-TI / 0.9))
    starts = [[s * 1.0, -s * 2.0, t1] for s in (1, -1) for t1 in (0.1, 0.5, 2.0)]
    multi = nf.curve_fit(
        nf.inversion_recovery_magnitude, TI, y, [-1.0, 2.0, 0.02], starts=starts, **TIGHT
    )
    assert bool(multi.converged) and float(multi.chi2) < 1e-20
    np.testing.assert_allclose(np.abs(multi.params[:2]), [1.0, 2.0], rtol=1e-8)
    np.testing.assert_allclose(multi.params[2], 0.9, rtol=1e-8)


def test_solver_module_and_shortcut_keywords_agree():
    """``solver=LevenbergMarquardt(...)`` and the ftol/xtol/gtol/max_iter keywords are the same
    options: identical answers; a keyword replaces the solver's field of the same name."""
    y = _data()
    tight = nf.LevenbergMarquardt(ftol=1e-14, xtol=1e-14, gtol=1e-14)
    a = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0], solver=tight)
    b = nf.curve_fit(expo, T, y, [0.5, 0.05, 0.0], **TIGHT)
    np.testing.assert_array_equal(a.params, b.params)
    assert int(a.n_iter) == int(b.n_iter)
    short = nf.curve_fit(expo, T, y, [0.1, 0.5, 0.0], solver=nf.LevenbergMarquardt(max_iter=2))
    over = nf.curve_fit(expo, T, y, [0.1, 0.5, 0.0], solver=tight, max_iter=2)
    assert int(short.n_iter) == int(over.n_iter) == 2
    assert short.result == nf.RESULTS.max_iter and over.result == nf.RESULTS.max_iter


@pytest.mark.parametrize(
    "make, err",
    [
        (lambda: nf.LevenbergMarquardt(max_iter=-1), ValueError),
        (lambda: nf.LevenbergMarquardt(max_iter=2.5), ValueError),
        (lambda: nf.LevenbergMarquardt(ftol=-1e-8), ValueError),
        (lambda: nf.curve_fit(expo, T, _data(), [0.5, 0.05, 0.0], solver="lm"), TypeError),
    ],
)
def test_invalid_solver_options_raise(make, err):
    with pytest.raises(err):
        make()


def test_results_enumeration_and_status_messages():
    """Status codes are the RESULTS definition order; STATUS_MESSAGES is derived from it;
    FitResult.result, .status and .converged say the same thing."""
    assert list(nf.STATUS_MESSAGES) == [0, 1, 2, 3, 4]
    assert nf.STATUS_MESSAGES[0] == nf.RESULTS[nf.RESULTS.successful] == "converged"
    assert nf.STATUS_MESSAGES[4] == nf.RESULTS[nf.RESULTS.bad_data]
    r = nf.curve_fit(expo, T, _data(), [0.5, 0.05, 0.0])
    assert bool(r.result == nf.RESULTS.successful) and int(r.status) == 0 and bool(r.converged)
    assert r.message() == "converged: 1"


def test_curve_fit_does_not_retrace():
    """A second curve_fit with new data of the same shape reuses the compiled solver: the
    model is traced only once more, by the input validation's shape check."""
    calls = []

    def model(t, a, T2, b):
        calls.append(1)
        return a * jnp.exp(-t / T2) + b

    nf.curve_fit(model, T, _data(4), [0.5, 0.05, 0.0])
    first = len(calls)
    r = nf.curve_fit(model, T, _data(5), [0.4, 0.06, 0.01], max_iter=150, ftol=1e-12)
    assert first > 1 and len(calls) - first == 1
    assert bool(r.converged)
