"""Named parameters of a FitResult (users should not count columns)."""

import functools

import jax.numpy as jnp
import numpy as np
import pytest

import netmag_jax.fit as nf

TE = np.arange(1, 33) * 0.01


def test_names_from_the_model_signature_and_named_views():
    """exponential_decay(t, M0, T2) -> names (M0, T2); named_params["T2"] is params[..., 1];
    array access keeps working; a partial (spgr with TR bound) names what *p binds."""
    Y = 100 * np.exp(-TE / np.array([[0.05], [0.1]]))  # exact data: the fit returns the truth
    r = nf.fit_voxels(nf.exponential_decay, TE, Y, [80.0, 0.07])
    assert r.names == ("M0", "T2") and r.index("T2") == 1
    np.testing.assert_array_equal(r.named_params["T2"], r.params[:, 1])
    np.testing.assert_array_equal(r.named_stderr["M0"], r.stderr[:, 0])
    np.testing.assert_allclose(r.named_params["T2"], [0.05, 0.1], rtol=1e-8)
    one = nf.curve_fit(nf.exponential_decay, TE, Y[0], [80.0, 0.07])
    assert one.names == ("M0", "T2") and one.params.shape == (2,)
    spgr = functools.partial(nf.spgr, TR=0.015)
    alpha = np.deg2rad([3.0, 10.0, 20.0])
    y = np.asarray(nf.spgr(alpha, 2.0, 0.8, 0.015))
    assert nf.curve_fit(spgr, alpha, y, [1.0, 1.0]).names == ("M0", "T1")
    with pytest.raises(KeyError, match="M0"):
        r.index("T1")


def test_explicit_names_and_star_args_models():
    """param_names overrides; a model taking *p gets p0, p1; wrong names fail before fitting."""
    y = 3.0 * np.exp(-TE / 0.2)

    def model(t, *p):
        return p[0] * jnp.exp(-t / p[1])

    assert nf.curve_fit(model, TE, y, [1.0, 0.1]).names == ("p0", "p1")
    r = nf.curve_fit(model, TE, y, [1.0, 0.1], param_names=["S0", "T2star"])
    np.testing.assert_allclose(r.named_params["T2star"], 0.2, rtol=1e-8)
    for bad in (["a"], ["a", "a"], ["a", 1]):
        with pytest.raises(ValueError, match="param_names"):
            nf.curve_fit(model, TE, y, [1.0, 0.1], param_names=bad)
