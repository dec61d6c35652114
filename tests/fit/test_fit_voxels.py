"""fit_voxels (maps: vmap + chunks + flags + sharding) and dictionary_match."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

import netmag_jax.fit as nf

TE = np.arange(1, 33) * 0.01  # 32 echoes, 10 ms spacing (as the relaxometry workflow)
mono = nf.exponential_decay  # the library's model: compiled solvers are shared across tests


def test_map_matches_scipy_and_flags_bad_voxels():
    """A (2, 3) map: every good voxel equals scipy's fit (1e-6); NaN, all-zero and masked
    voxels are flagged (status 4, NaN params) without disturbing the others; chunking with a
    chunk size that does not divide the voxel count gives the same numbers."""
    kw = dict(bounds=([0, 1e-3], [np.inf, 5.0]), ftol=1e-14, xtol=1e-14, gtol=1e-14)
    rng = np.random.default_rng(0)
    T2 = np.array([[0.05, 0.08, 0.1], [0.2, 0.03, 0.06]])
    Y = 100 * np.exp(-TE / T2[..., None]) + rng.standard_normal((2, 3, 32))
    Y[0, 1, 4] = np.nan
    Y[1, 0] = 0.0
    mask = np.ones((2, 3), bool)
    mask[1, 2] = False
    r = nf.fit_voxels(mono, TE, Y, [50.0, 0.05], mask=mask, **kw)
    assert r.params.shape == (2, 3, 2) and r.covariance.shape == (2, 3, 2, 2)
    bad = np.zeros((2, 3), bool)
    bad[0, 1] = bad[1, 0] = bad[1, 2] = True
    assert np.all(np.asarray(r.status)[bad] == 4) and not np.any(np.asarray(r.converged)[bad])
    assert np.all(np.isnan(np.asarray(r.params)[bad]))
    assert np.all(np.asarray(r.converged)[~bad])
    for i, j in zip(*np.nonzero(~bad), strict=False):
        p, cov = so.curve_fit(
            lambda t, a, b: a * np.exp(-t / b), TE, Y[i, j], p0=[50.0, 0.05], xtol=1e-15, ftol=1e-15
        )
        np.testing.assert_allclose(r.params[i, j], p, rtol=1e-6)
        np.testing.assert_allclose(r.stderr[i, j], np.sqrt(np.diag(cov)), rtol=1e-6)
    Yb = np.concatenate([Y.reshape(6, 32)] * 120)  # 720 voxels: two chunks of 512
    mb = np.concatenate([mask.reshape(6)] * 120)
    r2 = nf.fit_voxels(mono, TE, Yb, [50.0, 0.05], mask=mb, **kw)
    np.testing.assert_allclose(
        np.asarray(r2.params)[-6:], np.asarray(r.params).reshape(6, 2), rtol=1e-12
    )
    assert "bad data" in r.message()


def test_invalid_map_inputs():
    Y = np.ones((4, 32))
    with pytest.raises(ValueError, match="same data length"):
        nf.fit_voxels(mono, TE[:-1], Y, [1.0, 0.05])
    with pytest.raises(ValueError, match="p0"):
        nf.fit_voxels(mono, TE, Y, np.ones((3, 2)))
    with pytest.raises(ValueError, match="mask"):
        nf.fit_voxels(mono, TE, Y, [1.0, 0.05], mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="lower bound"):
        nf.fit_voxels(mono, TE, Y, [1.0, 0.05], bounds=([2.0, 0.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="sigma"):
        nf.fit_voxels(mono, TE, Y, [1.0, 0.05], sigma=0.0)
    with pytest.raises(TypeError, match="sharding"):
        nf.fit_voxels(mono, TE, Y, [1.0, 0.05], sharding="cpu")


@pytest.mark.slow
def test_rician_fit_unbiased_and_calibrated():
    """Magnitude decay at low SNR (noise floor): the Gaussian fit overestimates T2; the Rician
    maximum-likelihood fit recovers T2 = 60 ms within 3 standard errors of the mean, and its
    reported standard errors match the scatter over 300 noise realisations within 20%."""
    rng = np.random.default_rng(1)
    sigma, T2, M0, n = 4.0, 0.06, 100.0, 300
    S = M0 * np.exp(-TE / T2)
    Y = np.abs(S + sigma * rng.standard_normal((n, 32)) + 1j * sigma * rng.standard_normal((n, 32)))
    ric = nf.fit_voxels(
        mono, TE, Y, [80.0, 0.05], sigma=sigma, noise="rician", bounds=([0.0, 1e-3], [1e3, 1.0])
    )
    gau = nf.fit_voxels(mono, TE, Y, [80.0, 0.05], bounds=([0.0, 1e-3], [1e3, 1.0]))
    assert np.all(np.asarray(ric.converged))
    t2 = np.asarray(ric.params[:, 1])
    sem = t2.std() / np.sqrt(n)
    assert abs(t2.mean() - T2) < 3 * sem
    assert np.asarray(gau.params[:, 1]).mean() - T2 > 5 * sem
    ratio = np.median(np.asarray(ric.stderr[:, 1])) / t2.std()
    assert 0.8 < ratio < 1.2


def test_sharded_map_equals_unsharded():
    """fit_voxels with a device Mesh (all local devices; on a multi-device host the chunk is
    split across them) gives the unsharded answer, for a voxel count that needs padding."""
    rng = np.random.default_rng(0)
    Y = 100 * np.exp(-TE / rng.uniform(0.03, 0.2, (7, 1))) + rng.standard_normal((7, 32))
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("v",))
    kw = dict(bounds=([0, 1e-3], [np.inf, 5.0]), ftol=1e-14, xtol=1e-14, gtol=1e-14)
    a = nf.fit_voxels(mono, TE, Y, [50.0, 0.05], sharding=mesh, **kw)
    b = nf.fit_voxels(mono, TE, Y, [50.0, 0.05], **kw)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    assert np.all(np.asarray(a.converged))


def test_dictionary_match_recovers_entries():
    """Signals equal to dictionary rows times a complex scale are matched exactly, with the
    scale and correlation 1; an all-zero voxel is flagged; chunking does not matter."""
    T2 = np.linspace(0.01, 0.3, 59)
    D = np.exp(-TE[None] / T2[:, None])
    idx = np.array([[3, 40], [17, 58]])
    scale = np.array([[2.0, 0.5j], [1.0 - 1.0j, 3.0]])
    Y = D[idx] * scale[..., None]
    Y[1, 1] = 0.0
    r = nf.dictionary_match(D, T2, Y, chunk_size=3)
    np.testing.assert_array_equal(np.asarray(r.index)[[0, 0, 1], [0, 1, 0]], [3, 40, 17])
    np.testing.assert_allclose(np.asarray(r.params)[0, :, 0], T2[[3, 40]])
    np.testing.assert_allclose(np.asarray(r.scale)[0], scale[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(r.correlation)[0], 1.0, rtol=1e-12)
    assert not bool(r.matched[1, 1]) and np.isnan(float(r.correlation[1, 1]))
    r1 = nf.dictionary_match(D, T2, Y, chunk_size=100)
    np.testing.assert_array_equal(r1.index, r.index)
    with pytest.raises(ValueError, match="shape"):
        nf.dictionary_match(D, T2, Y[..., :-1])
    with pytest.raises(ValueError, match="non-zero"):
        nf.dictionary_match(np.zeros_like(D), T2, Y)


def test_fit_voxels_does_not_retrace():
    """A second map of new data, of the same shape or with another voxel count that fits the
    same chunk, reuses the compiled chunk solver: the model is traced only by the input
    validation's shape check (once per call)."""
    calls = []

    def model(t, M0, T2):
        calls.append(1)
        return M0 * jnp.exp(-t / T2)

    rng = np.random.default_rng(3)

    def data(n):
        return 100 * np.exp(-TE / rng.uniform(0.03, 0.2, (n, 1))) + rng.standard_normal((n, 32))

    nf.fit_voxels(model, TE, data(6), [50.0, 0.05])
    first = len(calls)
    again = nf.fit_voxels(model, TE, data(6), [50.0, 0.05], ftol=1e-12, max_iter=100)
    other = nf.fit_voxels(model, TE, data(9).reshape(3, 3, 32), [50.0, 0.05])
    assert first > 1 and len(calls) - first == 2
    assert np.all(np.asarray(again.converged)) and other.params.shape == (3, 3, 2)


def test_map_result_is_one_module_sliced_with_tree_map():
    """A map's FitResult slices leaf by leaf (jax.tree.map) into the per-voxel curve_fit
    answer, result enumeration included."""
    rng = np.random.default_rng(4)
    Y = 100 * np.exp(-TE / rng.uniform(0.03, 0.2, (3, 1))) + rng.standard_normal((3, 32))
    Y[1] = np.nan
    r = nf.fit_voxels(mono, TE, Y, [50.0, 0.05])
    one = jax.tree.map(lambda a: a[2], r)
    ref = nf.curve_fit(mono, TE, Y[2], [50.0, 0.05])
    np.testing.assert_allclose(one.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(one.covariance, ref.covariance, rtol=1e-8)
    assert one.result == nf.RESULTS.successful and one.dof == ref.dof == 30
    bad = jax.tree.map(lambda a: a[1], r)
    assert bad.result == nf.RESULTS.bad_data and int(bad.n_iter) == 0
