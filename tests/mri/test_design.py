"""Tests of netmag_jax.mri.design: the Cayley–Klein kernel and the optax pulse designer.

Reference values: the hard-pulse rotation (M_z = cos(gamma B1 T) on resonance), sigpy's
``abrm`` (an independent SLR simulator), the repository's Bloch engine ``mri.simulate``
(Rodrigues rotations of M, a different algorithm), finite differences for gradients, and the
bound theta <= gamma B1max T for the feasibility check.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H, GAMMA_1H_HZ
from netmag_jax.mri import design
from netmag_jax.mri._spinor import magnetization

RNG = np.random.default_rng(1)


def _random_pulse(n, peak=10e-6):
    return peak * (RNG.standard_normal(n) + 1j * RNG.standard_normal(n)) / 2


def _on_z(values):
    """[k, 3] vectors with ``values`` [k] on the z axis (positions or gradients)."""
    return jnp.zeros((len(values), 3)).at[:, 2].set(jnp.asarray(values))


@pytest.mark.parametrize("rule", ["hard", "exact"])
def test_hard_pulse_flip_angle(rule):
    """Constant on-resonance B1 for T rotates by gamma B1 T about +x: M = (0, sin, cos)."""
    n, T, b1 = 16, 1e-3, 5e-6
    theta = GAMMA_1H * b1 * T
    a, b = mri.cayley_klein(
        jnp.full(n, b1 + 0j), jnp.zeros((n, 3)), T / n, jnp.zeros((1, 3)), rule=rule
    )
    mxy, mz = magnetization(a, b)
    np.testing.assert_allclose(float(mz[0]), math.cos(theta), atol=1e-12)
    np.testing.assert_allclose(complex(mxy[0]), 1j * math.sin(theta), atol=1e-12)


def test_exact_kernel_matches_sigpy_abrm():
    """Exact step rule = sigpy abrm with rf -> -gamma B1 dt and x -> -gamma_bar G z T."""
    sim = pytest.importorskip("sigpy.mri.rf.sim")
    n, T, G = 64, 2e-3, 10e-3
    rf = _random_pulse(n)
    z = np.linspace(-4e-3, 4e-3, 33)
    a_s, b_s = sim.abrm(-GAMMA_1H * (T / n) * rf, -GAMMA_1H_HZ * G * z * T)
    a, b = mri.cayley_klein(jnp.asarray(rf), _on_z(np.full(n, G)), T / n, _on_z(z))
    np.testing.assert_allclose(np.asarray(a), a_s, atol=1e-12)
    np.testing.assert_allclose(np.asarray(b), b_s, atol=1e-12)


def test_slr_pulse_profile_matches_sigpy():
    """slr_pulse in our convention: alpha(z) = alpha_sigpy(-x), beta(z) = -beta_sigpy(-x)."""
    sim = pytest.importorskip("sigpy.mri.rf.sim")
    slr = pytest.importorskip("sigpy.mri.rf.slr")
    n, T, tb, dz = 64, 2e-3, 4, 5e-3
    G = tb / T / GAMMA_1H_HZ / dz
    z = np.linspace(-6e-3, 6e-3, 25)
    rf = design.slr_pulse(n, T, tb, "ex")
    a_s, b_s = sim.abrm(slr.dzrf(n, tb, "ex", "ls"), -GAMMA_1H_HZ * G * z * T)
    out = design.simulate_pulse(rf, G, T / n, z)
    np.testing.assert_allclose(np.asarray(out["alpha"][0, 0]), a_s, atol=1e-12)
    np.testing.assert_allclose(np.asarray(out["beta"][0, 0]), -b_s, atol=1e-12)


def _engine_profile(rf, g, dt, z, df, s):
    """M after the pulse from mri.simulate (relaxation made negligible), grid (S, F, P)."""
    S, F, P = len(s), len(df), len(z)
    zz = np.broadcast_to(z, (S, F, P)).ravel()
    ff = np.broadcast_to(np.asarray(df)[:, None], (S, F, P)).ravel()
    ss = np.broadcast_to(np.asarray(s)[:, None, None], (S, F, P)).ravel()
    spins = mri.Spins(
        jnp.asarray(zz), 1e9, 1e9, M0=1.0, off_resonance=jnp.asarray(ff), b1=jnp.asarray(ss)
    )
    grad3 = jnp.zeros((len(rf), 3)).at[:, 2].set(jnp.asarray(g))
    M = np.asarray(mri.simulate(jnp.asarray(rf), grad3, dt, spins).M).reshape(S, F, P, 3)
    return M[..., 0] + 1j * M[..., 1], M[..., 2]


def test_kernel_matches_bloch_engine():
    """Exact kernel = mri.simulate (Rodrigues); hard-pulse kernel converges as O(dt^2)."""
    n, T = 64, 2e-3
    rf = _random_pulse(n)
    g = np.linspace(-8e-3, 12e-3, n)
    z = np.linspace(-5e-3, 5e-3, 11)
    df, s = np.array([-150.0, 0.0, 220.0]), np.array([0.8, 1.1])
    mxy_ref, mz_ref = _engine_profile(rf, g, T / n, z, df, s)
    out = design.simulate_pulse(rf, g, T / n, z, df, s, rule="exact")
    np.testing.assert_allclose(np.asarray(out["mxy"]), mxy_ref, atol=1e-9)
    np.testing.assert_allclose(np.asarray(out["mz"]), mz_ref, atol=1e-9)
    errs = []
    for k in (1, 2):  # same waveform, sampled k times finer
        rk, gk = np.repeat(rf, k), np.repeat(g, k)
        hard = design.simulate_pulse(rk, gk, T / n / k, z, df, s, rule="hard")
        errs.append(np.max(np.abs(np.asarray(hard["mz"]) - mz_ref)))
    assert errs[0] < 2e-2
    assert 3.0 < errs[0] / errs[1] < 5.0  # second order: halving dt quarters the error


@pytest.mark.parametrize("rule", ["hard", "exact"])
def test_float32_kernel_agrees_with_float64(rule):
    """float32 accumulates rounding over 64 steps: agreement to 1e-5 with float64, on a grid
    of spin axes (B1 scale, off-resonance, position) as pulse design uses it."""
    n, T, G = 64, 2e-3, 8e-3
    rf = _random_pulse(n)
    pos = _on_z(jnp.linspace(-4e-3, 4e-3, 9))[None, None]  # (1, 1, P, 3)
    args = (_on_z(jnp.full(n, G)), T / n, pos, jnp.array([0.0, 100.0])[None, :, None])
    a64, b64 = mri.cayley_klein(jnp.asarray(rf), *args, rule=rule)
    a32, b32 = mri.cayley_klein(
        jnp.asarray(rf, jnp.complex64),
        *[a.astype(jnp.float32) if isinstance(a, jax.Array) else a for a in args],
        rule=rule,
    )
    assert a32.dtype == jnp.complex64 and a32.shape == (1, 2, 9)
    np.testing.assert_allclose(np.asarray(a32), np.asarray(a64), atol=1e-5)
    np.testing.assert_allclose(np.asarray(b32), np.asarray(b64), atol=1e-5)


def test_constant_gradient_path_equals_general_path():
    """The hard rule's precomputed-phasor path (constant G) equals its per-step path; the
    nutation is computed per B1 scale (axis of size 2) and broadcast over the other axes."""
    n, T, G = 32, 1e-3, 6e-3
    rf = jnp.asarray(_random_pulse(n))
    pos = _on_z(jnp.linspace(-3e-3, 3e-3, 7))[None, None]
    df, s = jnp.array([0.0, 80.0])[None, :, None], jnp.array([1.0, 0.9])[:, None, None]
    g = _on_z(jnp.full(n, G))
    a1, b1 = mri.cayley_klein(rf, g, T / n, pos, df, s, rule="hard", constant_gradient=True)
    a2, b2 = mri.cayley_klein(rf, g, T / n, pos, df, s, rule="hard", constant_gradient=False)
    assert a1.shape == (2, 2, 7)
    np.testing.assert_allclose(np.asarray(a1), np.asarray(a2), atol=1e-13)
    np.testing.assert_allclose(np.asarray(b1), np.asarray(b2), atol=1e-13)


@pytest.mark.parametrize(
    "kind,rule", [("mxy", "hard"), ("mz", "exact"), ("beta_sq", "hard"), ("mxy_abs", "exact")]
)
def test_loss_gradient_matches_finite_differences(kind, rule):
    """d(loss)/d(B1 samples, gradient samples) = central finite differences (check_grads)."""
    n, T = 12, 1e-3
    pulse = {
        "mxy": "excitation",
        "mz": "inversion",
        "beta_sq": "refocusing",
        "mxy_abs": "excitation",
    }[kind]
    tgt = design.slice_target(
        pulse, 4e-3, n_positions=9, kind=kind, off_resonance=[0.0, 50.0], b1_scale=[0.9, 1.1]
    )
    rf0 = _random_pulse(n, 20e-6)
    g0 = np.linspace(5e-3, 9e-3, n)

    def f(re, im, g):  # B1 in uT, G in mT/m: O(1) variables for the finite differences
        return design.profile_loss(tgt, jax.lax.complex(re, im) * 1e-6, g * 1e-3, T / n, rule)

    check_grads(
        f,
        (jnp.asarray(rf0.real * 1e6), jnp.asarray(rf0.imag * 1e6), jnp.asarray(g0 * 1e3)),
        order=1,
        modes=["rev"],
        eps=1e-5,
        atol=1e-6,
        rtol=1e-5,
    )


def test_squash_gradient_finite_at_zero():
    """The peak-B1 map u tanh|u|/|u| has finite value and gradient at u = 0 (double-where)."""
    from netmag_jax.mri.design._waveform import squash

    def f(x):
        return jnp.real(squash(jax.lax.complex(x, 0.0 * x), 2.0))

    assert float(jax.grad(f)(0.0)) == pytest.approx(2.0)
    assert float(jax.grad(f)(1e-9)) == pytest.approx(2.0)


def _small_problem():
    n, T, tb, dz = 48, 2e-3, 4, 6e-3
    G = tb / T / GAMMA_1H_HZ / dz
    tgt = design.slice_target("excitation", dz, transition=0.4, n_positions=41)
    return n, T, G, tgt


def test_optimisation_improves_and_respects_peak_b1():
    """A few L-BFGS iterations reduce the error from the sinc start; |B1| <= B1max; the
    optimised profile, re-simulated by mri.simulate, has the reported target error."""
    n, T, G, tgt = _small_problem()
    b1_max = 14e-6
    rf0 = design.sinc_pulse(math.pi / 2, T, 4, n)
    err0 = design.target_error(tgt, rf0, G, T / n)
    stop = design.Stopping(max_iter=25)
    res = design.optimize_pulse(tgt, T, n, b1_max=b1_max, gradient=G, stop=stop)
    assert res.target_error < 0.5 * err0
    assert res.peak_b1 <= b1_max
    assert res.loss_history[-1] <= res.loss_history[0]
    mxy, _ = _engine_profile(
        np.asarray(res.rf), np.full(n, G), T / n, np.asarray(tgt.positions), [0.0], [1.0]
    )
    mxy = mxy * np.exp(0.5j * GAMMA_1H * G * T * np.asarray(tgt.positions))  # rewinder
    w = np.asarray(tgt.weight)
    err = np.sqrt(np.sum(w * np.abs(mxy - np.asarray(tgt.value)) ** 2) / np.sum(w))
    assert err == pytest.approx(res.target_error, rel=1e-6)


@pytest.mark.parametrize("basis", ["fourier", "spline"])
def test_smooth_bases_with_adam(basis):
    """Adam on 12 basis coefficients lowers the loss and keeps |B1| <= B1max."""
    n, T, G, tgt = _small_problem()
    res = design.optimize_pulse(
        tgt,
        T,
        n,
        b1_max=14e-6,
        gradient=G,
        waveform=design.Waveform(basis=basis, n_basis=12, real_rf=True),
        loss=design.DesignLoss(energy_weight=1e-3),
        optimizer=optax.adam(0.05),
        stop=design.Stopping(max_iter=40),
    )
    assert res.loss_history.min() < 0.7 * res.loss_history[0]
    assert res.peak_b1 <= 14e-6
    assert np.allclose(np.asarray(res.rf).imag, 0.0)


def test_gradient_optimisation_respects_amplitude_limit():
    """Optimising the gradient too keeps |G| < Gmax and lowers the loss."""
    n, T, G, tgt = _small_problem()
    g_max = 1.5 * G
    res = design.optimize_pulse(
        tgt,
        T,
        n,
        b1_max=14e-6,
        gradient=G,
        waveform=design.Waveform(optimize_gradient=True, g_max=g_max),
        loss=design.DesignLoss(slew_max=200.0),
        optimizer=optax.adam(0.02),
        stop=design.Stopping(max_iter=15),
    )
    assert np.max(np.abs(np.asarray(res.gradient))) < g_max
    assert res.loss_history.min() < res.loss_history[0]


def test_reproducible_with_the_same_key():
    """Random initialisation: same key -> identical pulse; another key -> another pulse."""
    n, T, G, tgt = _small_problem()
    kw = dict(b1_max=14e-6, gradient=G, init="random", stop=design.Stopping(max_iter=3))
    r1 = design.optimize_pulse(tgt, T, n, key=jax.random.PRNGKey(3), **kw)
    r2 = design.optimize_pulse(tgt, T, n, key=jax.random.PRNGKey(3), **kw)
    r3 = design.optimize_pulse(tgt, T, n, key=jax.random.PRNGKey(4), **kw)
    np.testing.assert_array_equal(np.asarray(r1.rf), np.asarray(r2.rf))
    assert np.max(np.abs(np.asarray(r1.rf) - np.asarray(r3.rf))) > 1e-7


def test_infeasible_peak_b1_is_reported():
    """theta = 180 deg in 1 ms needs B1 >= pi/(gamma T) = 11.7 uT: 5 uT is infeasible."""
    tgt = design.uniform_target("inversion")
    with pytest.raises(ValueError, match="infeasible.*180.0 deg"):
        design.optimize_pulse(tgt, 1e-3, 32, b1_max=5e-6)
    # B1 scale 0.8 lowers the reach: 12 uT suffices at s = 1 but not at s = 0.8
    tgt = design.uniform_target("inversion", b1_scale=[0.8, 1.0])
    with pytest.raises(ValueError, match="infeasible"):
        design.optimize_pulse(tgt, 1e-3, 32, b1_max=12e-6)
    assert design.max_flip_angle(12e-6, 1e-3) > math.pi


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="target value must have shape"):
        design.Target("mz", np.linspace(-1e-3, 1e-3, 5), np.zeros(4))
    with pytest.raises(ValueError, match="target weight must have shape"):
        design.Target("mz", np.zeros(3), np.zeros(3), weight=np.ones((2, 3)))
    with pytest.raises(ValueError, match="kind"):
        design.Target("mx", np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="real"):
        design.Target("mz", np.zeros(3), np.zeros(3) + 1j)
    with pytest.raises(ValueError, match="finite"):
        design.Target("mz", np.zeros(3), np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="weights"):
        design.Target("mz", np.zeros(3), np.zeros(3), weight=np.zeros(3))
    n, T, G, tgt = _small_problem()
    with pytest.raises(ValueError, match="gradient must be a scalar or have shape"):
        design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=np.ones(n + 1))
    with pytest.raises(ValueError, match="init waveform must have shape"):
        design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, init=np.ones(3))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, init="random")
    with pytest.raises(ValueError, match="g_max"):
        design.Waveform(optimize_gradient=True)
    with pytest.raises(ValueError, match="initial gradient"):
        waveform = design.Waveform(optimize_gradient=True, g_max=0.5 * G)
        design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, waveform=waveform)
    with pytest.raises(ValueError, match="energy_weight"):
        design.DesignLoss(energy_weight=-1.0)
    with pytest.raises(ValueError, match="rule"):
        design.DesignLoss(rule="midpoint")
    with pytest.raises(ValueError, match="duration"):
        design.optimize_pulse(tgt, -1.0, n, b1_max=14e-6)
    with pytest.raises(TypeError, match="optimizer"):
        design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, optimizer=3)


def test_nan_gradient_is_a_clear_error():
    """An optimizer step that produces NaN parameters stops with FloatingPointError."""
    n, T, G, tgt = _small_problem()
    with pytest.raises(FloatingPointError, match="non-finite design loss"):
        design.optimize_pulse(
            tgt,
            T,
            n,
            b1_max=14e-6,
            gradient=G,
            optimizer=optax.sgd(np.nan),
            stop=design.Stopping(max_iter=5),
        )


def test_pulseq_shape_round_trip():
    """Magnitude/phase shapes and amplitude in Hz rebuild B1; the Pulseq reader's
    decompression inverts our compression."""
    n, T = 100, 2e-3
    rf = design.sinc_pulse(math.pi / 2, T, 4, n) * np.exp(1j * np.linspace(0, 3, n))
    rf[40:60] = rf[40]  # a run of equal samples exercises the run-length code
    sh = design.pulseq_shape(rf, T / n)
    assert np.max(sh["magnitude"]) == pytest.approx(1.0)
    assert np.all((sh["phase"] >= 0) & (sh["phase"] < 1))
    rebuilt = sh["amplitude_hz"] / GAMMA_1H_HZ * sh["magnitude"] * np.exp(2j * np.pi * sh["phase"])
    np.testing.assert_allclose(rebuilt, rf, atol=1e-12 * np.max(np.abs(rf)) + 1e-18)
    num, data = sh["magnitude_compressed"]
    assert data.size < n
    # decoded by the Pulseq reader of netmag_jax.mri (independent implementation)
    np.testing.assert_allclose(mri.decompress_shape(data, num), sh["magnitude"], atol=1e-7)
    num, data = sh["phase_compressed"]
    np.testing.assert_allclose(mri.decompress_shape(data, num), sh["phase"], atol=1e-7)
    with pytest.raises(ValueError, match="zero"):
        design.pulseq_shape(np.zeros(4), 1e-5)


def test_plot_writes_png(tmp_path):
    n, T, G, tgt = _small_problem()
    stop = design.Stopping(max_iter=2)
    res = design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, stop=stop)
    design.plot_design(res, tmp_path / "p.png", compare=design.sinc_pulse(math.pi / 2, T, n=n))
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_target_constructors_ideal_values():
    """Ideal rotations: excitation M_xy = i sin(theta) (B1 along +x tips z to +y), inversion
    M_z = -1, refocusing beta^2 = -1 (Pauly 1991), saturation M_z = 0; outside: no rotation."""
    cases = [
        ("excitation", "mxy", 1j, 0.0),
        ("inversion", "mz", -1.0, 1.0),
        ("refocusing", "beta_sq", -1.0, 0.0),
        ("saturation", "mz", 0.0, 1.0),
        ("refocusing", "beta", 1j, 0.0),
        ("inversion", "alpha", 0.0, 1.0),
    ]
    for pulse, kind, inside, outside in cases:
        t = design.slice_target(
            pulse, 4e-3, n_positions=41, kind=kind if kind not in ("mxy", "mz", "beta_sq") else None
        )
        assert t.kind == kind
        v = np.asarray(t.value)[0, 0]
        assert v[20] == pytest.approx(inside, abs=1e-12)
        assert v[0] == pytest.approx(outside, abs=1e-12)
    assert design.slice_target("excitation", 4e-3, n_positions=41).rewind == 0.5
    t = design.uniform_target("excitation", flip_angle=math.pi / 6, phase=math.pi / 2)
    assert complex(t.value[0, 0, 0]) == pytest.approx(-0.5, abs=1e-12)
    assert t.required_flip_angle() == pytest.approx(math.pi / 6)


def test_progress_callback_and_early_stopping(capsys):
    """progress prints the loss; callback sees every iteration; a loose tolerance stops early."""
    n, T, G, tgt = _small_problem()
    seen = []
    res = design.optimize_pulse(
        tgt,
        T,
        n,
        b1_max=14e-6,
        gradient=G,
        stop=design.Stopping(max_iter=50, tol=0.5, patience=2),
        progress=1,
        callback=lambda i, v: seen.append(v),
    )
    assert res.converged and res.n_iter < 50
    assert seen == list(res.loss_history)
    assert "loss" in capsys.readouterr().out


def test_sinc_pulse_is_mri_sinc():
    """design.sinc_pulse takes mri.sinc's arguments in mri.sinc's order and returns its pulse
    (as complex128 NumPy), with on-resonance area gamma |sum B1| dt = flip angle."""
    rf = design.sinc_pulse(math.pi / 3, 2e-3, 6.0, 64, "hann")
    np.testing.assert_array_equal(rf, np.asarray(mri.sinc(math.pi / 3, 2e-3, 6.0, 64, "hann")))
    assert isinstance(rf, np.ndarray) and rf.dtype == np.complex128
    assert GAMMA_1H * abs(rf.sum()) * 2e-3 / 64 == pytest.approx(math.pi / 3, rel=1e-12)


def test_optimize_pulse_step_compiles_once():
    """A second design with new numbers of the same shapes (slice thickness, B1 limit,
    gradient) and the same optimiser object reuses the compiled step and initial state: the
    optimiser's update (a Python counter) is traced in the first design only."""
    traces = []
    base = optax.adam(1e-2)

    def update(updates, state, params=None, **extra):
        traces.append(1)
        return base.update(updates, state, params)

    opt = optax.GradientTransformationExtraArgs(base.init, update)
    n, T, G, tgt = _small_problem()
    stop = design.Stopping(max_iter=3, patience=5)
    r1 = design.optimize_pulse(tgt, T, n, b1_max=14e-6, gradient=G, optimizer=opt, stop=stop)
    first = len(traces)
    tgt2 = design.slice_target("excitation", 5e-3, transition=0.4, n_positions=41)
    r2 = design.optimize_pulse(tgt2, T, n, b1_max=15e-6, gradient=1.1 * G, optimizer=opt, stop=stop)
    assert first >= 1
    assert len(traces) == first
    assert r1.n_iter == r2.n_iter == 3
    assert not np.allclose(np.asarray(r1.rf), np.asarray(r2.rf))


def test_initial_pulses():
    """initial_pulse: "hard" is the constant B1 of the target's flip angle; an explicit
    waveform is checked and returned; "random" needs a key."""
    tgt = design.uniform_target("inversion")
    hard = design.initial_pulse("hard", tgt, 32, 2e-3, 20e-6)
    np.testing.assert_allclose(hard, math.pi / (GAMMA_1H * 2e-3), rtol=1e-14)
    np.testing.assert_array_equal(design.initial_pulse(hard, tgt, 32, 2e-3, 20e-6), hard)
    with pytest.raises(ValueError, match="finite"):
        design.initial_pulse(np.full(32, np.nan), tgt, 32, 2e-3, 20e-6)
    with pytest.raises(ValueError, match="PRNG key"):
        design.initial_pulse("random", tgt, 32, 2e-3, 20e-6)
