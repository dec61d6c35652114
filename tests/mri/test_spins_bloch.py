"""Bloch engine: Curie-law M0, exact rotations and relaxation, gradients, invalid input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H, HBAR, K_B

Z3 = jnp.zeros((1, 3))


def _spins(n=1, T1=1.0, T2=0.1, **kw):
    return mri.Spins(jnp.zeros((n, 3)), T1, T2, M0=1.0, **kw)


def test_curie_law_water_3T_310K():
    """M0 = n gamma^2 hbar^2 B0 / (4 k_B T) (high-T limit of n gamma hbar/2 tanh x), ~9.3e-3 A/m."""
    m0 = float(mri.equilibrium_magnetization(3.0, 310.0))
    curie = 6.69e28 * GAMMA_1H**2 * HBAR**2 * 3.0 / (4 * K_B * 310.0)
    assert m0 == pytest.approx(curie, rel=1e-10)
    assert m0 == pytest.approx(9.33e-3, rel=2e-3)
    # Spins default M0 is the Curie value times the relative proton density
    sp = mri.Spins(jnp.zeros((2, 3)), 1.0, 0.1, proton_density=jnp.array([1.0, 0.5]))
    np.testing.assert_allclose(sp.M0, [m0, 0.5 * m0], rtol=1e-12)


def test_curie_exact_two_level_at_low_temperature():
    """At x ~ 1 the exact value is n gamma hbar/2 tanh(x), not the linear Curie law."""
    T = GAMMA_1H * HBAR * 10.0 / (2 * K_B)  # x = 1 at B0 = 10 T
    m = float(mri.equilibrium_magnetization(10.0, T, proton_density=1.0))
    assert m == pytest.approx(0.5 * GAMMA_1H * HBAR * math.tanh(1.0), rel=1e-12)


def test_hard_pulse_flip_is_gamma_B1_t():
    """A hard pulse of B1 for tau rotates M by gamma B1 tau about x (left-handed: z -> +y)."""
    alpha = 1.234
    tau = 1e-4
    rf = mri.hard(alpha, tau, n=7)
    assert float(mri.flip_angle(rf, tau / 7)) == pytest.approx(alpha, rel=1e-14)
    sp = mri.Spins(Z3, 1e9, 1e9, M0=1.0)
    M = mri.simulate(rf, jnp.zeros((7, 3)), tau / 7, sp).M[0]
    np.testing.assert_allclose(M, [0.0, math.sin(alpha), math.cos(alpha)], atol=1e-9)


def test_off_resonance_precession_and_relaxation_closed_form():
    """After 90_x: Mxy(t) = i M0 exp(-t/T2) exp(-i 2 pi df t), Mz(t) = M0 (1 - exp(-t/T1))."""
    df, T1, T2 = 37.0, 0.3, 0.05
    sp = mri.Spins(Z3, T1, T2, M0=1.0, off_resonance=df)
    n = 50
    dt = 1e-3
    rf = jnp.zeros(n, jnp.complex128)
    M_init = jnp.array([[0.0, 1.0, 0.0]])
    res = mri.simulate(
        rf,
        jnp.zeros((n, 3)),
        dt,
        sp,
        adc=np.ones(n, bool),
        M_init=M_init,
        record_magnetization=True,
    )
    t = dt * np.arange(1, n + 1)
    np.testing.assert_allclose(res.signal, 1j * np.exp(-t / T2 - 2j * np.pi * df * t), atol=1e-12)
    np.testing.assert_allclose(res.M_adc[:, 0, 2], 1 - np.exp(-t / T1), atol=1e-12)


def test_chemical_shift_adds_ppm_of_larmor():
    """cs ppm at B0 shifts the frequency by cs 1e-6 gamma_bar B0 (fat -3.4 ppm at 3 T ~ -434 Hz)."""
    sp = mri.Spins(Z3, 1.0, 0.1, M0=1.0, chemical_shift=-3.4, B0=3.0)
    assert float(sp.frequency_offset()[0]) == pytest.approx(-3.4e-6 * GAMMA_1H / (2 * np.pi) * 3.0)


def test_gradient_encodes_position():
    """Under G, Mxy at z acquires exp(-i gamma G z t) (k-space phase convention)."""
    z = jnp.linspace(-0.01, 0.01, 5)
    sp = mri.Spins(z, 1e3, 1e3, M0=1.0)
    G, t = 5e-3, 1e-3
    M0 = jnp.tile(jnp.array([[1.0, 0.0, 0.0]]), (5, 1))
    res = mri.simulate(jnp.zeros(1), jnp.array([[0.0, 0.0, G]]), t, sp, M_init=M0)
    M = np.asarray(res.M)
    mxy = M[:, 0] + 1j * M[:, 1]
    np.testing.assert_allclose(
        mxy, np.exp(-1j * GAMMA_1H * G * np.asarray(z) * t) * np.exp(-t / 1e3), atol=1e-12
    )


@pytest.mark.parametrize("TI", [0.05, 0.4, 1.5])
def test_inversion_recovery(TI):
    """IR signal M0 (1 - 2 exp(-TI/T1)) (ideal pulses)."""
    sp = _spins(1, T1=0.7, T2=0.1)
    s = mri.inversion_recovery(TI, pulse_duration=1e-8).simulate(sp).signal[0]
    assert float(s.imag) == pytest.approx(1 - 2 * math.exp(-TI / 0.7), abs=1e-6)


def test_rotate_finite_gradient_at_zero_field():
    """Rodrigues rotation has finite first and second derivatives at w = 0 (series branch)."""
    M = jnp.array([0.3, -0.2, 0.9])
    rot = jax.jit(lambda w: mri.rotate(M, w))
    check_grads(rot, (jnp.array([0.4, -1.3, 2.0]),), order=1, modes=("rev",))
    # at w = 0: R(w) M = M + w x M + (w (w.M) - M |w|^2) / 2 + O(w^3)
    g = jax.jit(jax.jacfwd(rot))(jnp.zeros(3))
    m = np.asarray(M)
    np.testing.assert_allclose(
        g, -np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]]), atol=1e-14
    )
    H = jax.jit(jax.hessian(rot))(jnp.zeros(3))
    eye = np.eye(3)
    H_ref = 0.5 * (np.einsum("ij,k->ijk", eye, m) + np.einsum("ik,j->ijk", eye, m)) - np.einsum(
        "i,jk->ijk", m, eye
    )
    np.testing.assert_allclose(H, H_ref, atol=1e-12)


def _small_problem():
    sp = mri.Spins(
        jnp.array([[0.0, 0.0, -1e-3], [0.0, 0.0, 2e-3]]),
        0.5,
        0.05,
        M0=1.0,
        off_resonance=jnp.array([3.0, -5.0]),
    )
    rf = mri.sinc(0.8, 1e-3, 4.0, n=8)
    g = jnp.zeros((8, 3)).at[:, 2].set(2e-3)
    return sp, rf, g


def test_gradients_match_finite_differences():
    """d signal / d(rf samples, T1, T2, flip angle) by reverse-mode autodiff equals central
    finite differences (jax.test_util.check_grads)."""
    sp, rf, g = _small_problem()
    adc = np.zeros(8, bool)
    adc[[3, 7]] = True

    @jax.jit
    def signal(re, im, T1, T2, flip):
        s = mri.Spins(sp.positions, T1, T2, M0=1.0, off_resonance=sp.off_resonance)
        pulse = 1e-6 * jax.lax.complex(re, im) + mri.hard(flip, 1e-3, 8)  # re, im in uT
        r = mri.simulate(pulse, g, 1.25e-4, s, adc=adc)
        return jnp.concatenate([r.signal.real, r.signal.imag, r.M[:, 2]])

    args = (1e6 * rf.real, 1e6 * rf.imag, jnp.array(0.5), jnp.array(0.05), jnp.array(0.7))
    check_grads(signal, args, order=1, modes=("rev",), eps=1e-6)


def test_jit_vmap_eager_and_checkpoint_agree():
    """Eager, jit, vmap over T2 and the checkpointed scan give identical results and gradients."""
    sp, rf, g = _small_problem()
    adc = np.arange(8)

    def f(T2, checkpoint):
        s = mri.Spins(sp.positions, 0.5, T2, M0=1.0)
        return jnp.sum(
            jnp.abs(mri.simulate(rf, g, 1.25e-4, s, adc=adc, checkpoint=checkpoint).signal)
        )

    T2s = jnp.array([0.02, 0.05])
    eager = f(T2s[1], None)
    np.testing.assert_allclose(jax.vmap(lambda t: f(t, 3))(T2s)[1], eager, rtol=1e-13)
    df = jax.jit(jax.grad(f, argnums=0), static_argnums=1)
    np.testing.assert_allclose(df(T2s[1], 3), df(T2s[1], None), rtol=1e-12)


def test_float32_matches_float64():
    """float32 engine agrees with float64 to ~1e-5 (relative to M0) over 400 steps."""
    sp64, rf, g = _small_problem()
    sp32 = mri.Spins(
        sp64.positions.astype(jnp.float32),
        0.5,
        0.05,
        M0=1.0,
        off_resonance=sp64.off_resonance.astype(jnp.float32),
    )
    rf = jnp.tile(rf, 50) * 0.05
    g = jnp.tile(g, (50, 1))
    M64 = mri.simulate(rf, g, 1.25e-4, sp64).M
    M32 = mri.simulate(
        rf.astype(jnp.complex64), g.astype(jnp.float32), jnp.float32(1.25e-4), sp32
    ).M
    assert M32.dtype == jnp.float32
    np.testing.assert_allclose(M32, M64, atol=2e-5)


def test_cayley_klein_matches_simulate_without_relaxation():
    """Mxy = 2 conj(a) b, Mz = |a|^2 - |b|^2 (SLR relations) vs the Rodrigues engine."""
    z = jnp.linspace(-5e-3, 5e-3, 11)
    pos = jnp.stack([jnp.zeros(11), jnp.zeros(11), z], -1)
    rf = mri.sinc(math.pi / 2, 2e-3, 6.0, n=64)
    g = jnp.zeros((64, 3)).at[:, 2].set(mri.slice_select_gradient(6.0, 2e-3, 5e-3))
    a, b = mri.cayley_klein(rf, g, 2e-3 / 64, pos)
    M = mri.simulate(rf, g, 2e-3 / 64, mri.Spins(pos, 1e9, 1e9, M0=1.0)).M
    a, b, M = np.asarray(a), np.asarray(b), np.asarray(M)
    np.testing.assert_allclose(2 * np.conj(a) * b, M[:, 0] + 1j * M[:, 1], atol=1e-12)
    np.testing.assert_allclose(np.abs(a) ** 2 - np.abs(b) ** 2, M[:, 2], atol=1e-11)


def test_matches_sigpy_abrm_on_slr_pulse():
    """On sigpy's SLR pulse (dzrf), our engine reproduces sigpy's abrm profile (1e-10, float64).

    sigpy rotates by +rf (radians) and +x * 2 pi / n per sample; our rotation vector is
    -gamma B dt, so we feed B1 = -rf / (gamma dt) and a gradient giving -2 pi x / n per step.
    """
    rfmod = pytest.importorskip("sigpy.mri.rf")
    n = 128
    pulse = rfmod.dzrf(n=n, tb=4, ptype="ex", ftype="ls", d1=0.01, d2=0.01)
    x = np.linspace(-4, 4, 101)
    a_s, b_s = rfmod.sim.abrm(pulse, x)
    dt = 1e-5
    B1 = -np.asarray(pulse) / (GAMMA_1H * dt)
    G = -2 * np.pi / n / (GAMMA_1H * dt)  # rotation -2 pi / n per metre per step
    pos = np.stack([np.zeros_like(x), np.zeros_like(x), x], -1)
    grad = np.tile([[0.0, 0.0, G]], (n, 1))
    M = mri.simulate(
        jnp.asarray(B1), jnp.asarray(grad), dt, mri.Spins(jnp.asarray(pos), 1e9, 1e9, M0=1.0)
    ).M
    M = np.asarray(M)
    np.testing.assert_allclose(M[:, 0] + 1j * M[:, 1], 2 * np.conj(a_s) * b_s, atol=1e-10)
    np.testing.assert_allclose(M[:, 2], np.abs(a_s) ** 2 - np.abs(b_s) ** 2, atol=1e-10)


# --- invalid input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "T1,T2,msg",
    [
        (0.0, 0.1, "T1"),
        (-1.0, 0.1, "T1"),
        (1.0, 0.0, "T2"),
        (1.0, 2.5, "2 T1"),
        (float("nan"), 0.1, "T1"),
    ],
)
def test_invalid_relaxation_times(T1, T2, msg):
    with pytest.raises(eqx.EquinoxRuntimeError, match=msg):
        mri.Spins(Z3, T1, T2, M0=1.0)


def test_invalid_shapes_and_values():
    sp = _spins(2)
    with pytest.raises(ValueError, match="gradient"):
        mri.simulate(jnp.zeros(4), jnp.zeros((3, 3)), 1e-3, sp)
    with pytest.raises(ValueError, match="dt"):
        mri.simulate(jnp.zeros(4), jnp.zeros((4, 3)), jnp.ones(5), sp)
    with pytest.raises(ValueError, match="outside the sequence"):
        mri.simulate(jnp.zeros(4), jnp.zeros((4, 3)), 1e-3, sp, adc=np.array([1, 4]))
    with pytest.raises(ValueError, match="adc mask"):
        mri.simulate(jnp.zeros(4), jnp.zeros((4, 3)), 1e-3, sp, adc=np.ones(3, bool))
    with pytest.raises(ValueError, match="positions"):
        mri.Spins(jnp.zeros((2, 2)), 1.0, 0.1)
    with pytest.raises(ValueError, match="T1"):
        mri.Spins(jnp.zeros((2, 3)), jnp.ones(3), 0.1)
    with pytest.raises(ValueError, match="coils"):
        mri.simulate(
            jnp.zeros(4), jnp.zeros((4, 3)), 1e-3, sp, adc=np.arange(4), coils=jnp.ones((2, 3))
        )
    with pytest.raises(TypeError):
        mri.simulate(jnp.zeros(4), jnp.zeros((4, 3)), 1e-3, None)
    with pytest.raises(eqx.EquinoxRuntimeError, match="rf must be finite"):
        mri.simulate(jnp.array([0.0, jnp.nan]), jnp.zeros((2, 3)), 1e-3, sp)
    with pytest.raises(eqx.EquinoxRuntimeError, match="dt must be"):
        mri.simulate(jnp.zeros(2), jnp.zeros((2, 3)), jnp.array([1e-3, 0.0]), sp)
    with pytest.raises(eqx.EquinoxRuntimeError, match="positions"):
        mri.Spins(jnp.array([[0.0, jnp.nan, 0.0]]), 1.0, 0.1)


@pytest.mark.parametrize(
    "method,module,kernel", [("reference", "_bloch", "_step"), ("fast", "_fast", "_rf_update")]
)
def test_simulate_second_call_does_not_recompile(monkeypatch, method, module, kernel):
    """mri.simulate with new values of the same shapes (RF, gradients, dt, tissue, positions)
    reuses the compiled engine: the per-step kernel, wrapped by a Python counter, is traced
    in the first call only."""
    import importlib

    mod = importlib.import_module(f"netmag_jax.mri.{module}")
    traces = []
    step = getattr(mod, kernel)

    def counted(*args):
        traces.append(1)
        return step(*args)

    monkeypatch.setattr(mod, kernel, counted)
    rng = np.random.default_rng(5)
    n, N = 13, 7  # shapes no other test uses: the first call compiles

    def run(scale):
        spins = mri.Spins(
            jnp.asarray(rng.normal(size=(N, 3)) * 1e-3), 0.5 * scale, 0.05 * scale, M0=1.0
        )
        rf = jnp.asarray(scale * 1e-6 * (rng.normal(size=n) + 1j * rng.normal(size=n)))
        grad = jnp.asarray(scale * 1e-3 * rng.normal(size=(n, 3)))
        adc = np.arange(n) % 2 == 1
        return mri.simulate(rf, grad, scale * 1e-4, spins, adc=adc, method=method)

    r1 = run(1.0)
    first = len(traces)
    r2 = run(1.7)
    assert first >= 1
    assert len(traces) == first
    assert r1.signal.shape == r2.signal.shape == (6,)
    assert not np.allclose(np.asarray(r1.M), np.asarray(r2.M))
