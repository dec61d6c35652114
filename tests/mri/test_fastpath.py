"""The fast Bloch engine (default) against the reference engine (method="reference").

The reference applies the full Rodrigues rotation and relaxation at every step (checked in
test_spins_bloch.py against closed forms, sigpy and Cayley-Klein); the fast engine merges
RF-free runs and picks cheaper exact rules, so both must agree to rounding: 1e-12 M0 in
float64; in float32 to 1e-6 M0 or, on sequences with large accumulated phases where the
float32 reference itself is off float64 by more, to within the reference's own float32 error.
"""

import math
import re
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri

DATA = Path(__file__).parent / "data"


def _spins(dtype=jnp.float64, n=12):
    rng = np.random.default_rng(3)
    pos = rng.uniform(-4e-3, 4e-3, size=(n, 3))
    return mri.Spins(
        jnp.asarray(pos, dtype),
        jnp.asarray(rng.uniform(0.3, 1.5, n), dtype),
        jnp.asarray(rng.uniform(0.02, 0.2, n), dtype),
        M0=jnp.asarray(rng.uniform(0.5, 1.0, n), dtype),
        off_resonance=jnp.asarray(rng.uniform(-40, 40, n), dtype),
        b1=jnp.asarray(rng.uniform(0.8, 1.1, n), dtype),
    )


def _slice_select():
    n = 96
    rf = mri.sinc(math.pi / 2, 2e-3, 4.0, n=n)
    g = jnp.zeros((n, 3)).at[:, 2].set(mri.slice_select_gradient(4.0, 2e-3, 5e-3))
    b = mri.SequenceBuilder()
    b.pulse(np.asarray(rf), 2e-3, gradient=(0.0, 0.0, float(g[0, 2])))
    b.delay(1e-3, gradient=(0.0, 0.0, -float(g[0, 2])))
    b.readout(16, 2e-5, gradient=(3e-3, 0.0, 0.0))
    return b.build()


SEQUENCES = {
    "fid": lambda: mri.fid(n_samples=32, dwell=1e-4),
    "spin_echo": lambda: mri.spin_echo(20e-3, n_samples=5),
    "inversion_recovery": lambda: mri.inversion_recovery(0.3, spoiler=((0.0, 0.0, 5e-3), 2e-3)),
    "cpmg": lambda: mri.cpmg(6, 10e-3, refocus_angle=2.5, crusher_moment=(0.0, 0.0, 300.0)),
    "gre_spoiled": lambda: mri.gre(0.4, 8e-3, 3e-3, 12, spoiler_moment=(0.0, 0.0, 400.0)),
    "bssfp": lambda: mri.bssfp(0.7, 5e-3, 12),
    "cartesian_gre": lambda: mri.cartesian_gre((0.01, 0.01), (8, 8)),
    "slice_select_readout": _slice_select,
}


def _both(seq, spins, **kw):
    fast = seq.simulate(spins, **kw)
    ref = seq.simulate(spins, method="reference", **kw)
    return fast, ref


def _to32(seq):
    return mri.Sequence(
        seq.rf.astype(jnp.complex64),
        seq.gradient.astype(jnp.float32),
        seq.dt.astype(jnp.float32),
        seq.adc_phase.astype(jnp.float32),
        seq.adc,
    )


def _maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_fast_equals_reference(name):
    """Every sequence of the tests: fast == reference to 1e-12 M0 in float64 (M and signal,
    a sum over 12 spins). float32: within 1e-6 M0 per spin, or within twice the float32
    reference's own distance from float64 (large accumulated phases, where neither is
    better)."""
    seq = SEQUENCES[name]()
    sp = _spins()
    fast, ref = _both(seq, sp)
    np.testing.assert_allclose(fast.M, ref.M, atol=1e-12)
    np.testing.assert_allclose(fast.signal, ref.signal, atol=1e-12 * 12)
    fast32, ref32 = _both(_to32(seq), _spins(jnp.float32))
    assert fast32.M.dtype == jnp.float32
    np.testing.assert_allclose(fast32.M, ref32.M, atol=max(1e-6, 2 * _maxdiff(ref32.M, ref.M)))
    tol_s = max(12e-6, 2 * _maxdiff(ref32.signal, ref.signal))
    np.testing.assert_allclose(fast32.signal, ref32.signal, atol=tol_s)


def test_pulseq_files_fast_equals_reference():
    """The test .seq files (FID, spin echo with extended trapezoids, 8x8 GRE) via simulate_seq."""
    for f in ("fid_v14.seq", "se_v15.seq", "gre_8x8_v14.seq"):
        sp = _spins()
        fast = mri.simulate_seq(DATA / f, sp).signal
        ref = mri.simulate_seq(DATA / f, sp, method="reference").signal
        np.testing.assert_allclose(fast, ref, atol=1e-11, err_msg=f)


def test_coils_phase_record_spin_chunks_checkpoint():
    """Coils, receiver phase, recorded M, spin chunks (with padding) and checkpointed chunks
    all give the reference's values."""
    seq = SEQUENCES["cartesian_gre"]()
    sp = _spins(n=11)
    coils = jnp.asarray(np.random.default_rng(1).normal(size=(2, 11)) + 0j)
    kw = {"coils": coils, "record_magnetization": True}
    ref = seq.simulate(sp, method="reference", **kw)
    for extra in ({"spin_chunk": 4}, {"checkpoint": 7}, {"checkpoint": None}):
        fast = seq.simulate(sp, **kw, **extra)
        np.testing.assert_allclose(fast.signal, ref.signal, atol=1e-12)
        np.testing.assert_allclose(fast.M_adc, ref.M_adc, atol=1e-12)
        np.testing.assert_allclose(fast.M, ref.M, atol=1e-12)


def test_gradients_equal_reference():
    """d loss / d(T1 map, T2 map, gradient waveform, rf) agree with the reference (1e-9 rel)."""
    b = mri.SequenceBuilder()
    b.pulse(np.asarray(mri.sinc(1.0, 1e-3, 4.0, n=24)), 1e-3, gradient=(0.0, 0.0, 2e-3))
    b.delay(5e-4, gradient=(0.0, 0.0, -2e-3), n_steps=3)
    b.readout(10, 2e-5, gradient=(3e-3, 0.0, 0.0))
    seq = b.build()
    sp = _spins()
    adc = np.asarray(seq.adc)

    def loss(T1, T2, g, rf, method):
        s = mri.Spins(sp.positions, T1, T2, M0=sp.M0, off_resonance=sp.off_resonance)
        r = mri.simulate(rf, g, seq.dt, s, adc=adc, method=method)
        return jnp.sum(jnp.abs(r.signal) ** 2) + jnp.sum(r.M[:, 2])

    # rf concrete (merged RF-free runs) for T1, T2, gradient; traced rf (all steps RF)
    g1 = jax.jit(jax.grad(lambda *a: loss(*a, seq.rf, "fast"), argnums=(0, 1, 2)))
    g2 = jax.jit(jax.grad(lambda *a: loss(*a, seq.rf, "reference"), argnums=(0, 1, 2)))
    r1 = jax.jit(jax.grad(lambda rf: loss(sp.T1, sp.T2, seq.gradient, rf, "fast")))
    r2 = jax.jit(jax.grad(lambda rf: loss(sp.T1, sp.T2, seq.gradient, rf, "reference")))
    args = (sp.T1, sp.T2, seq.gradient)
    pairs = [*zip(g1(*args), g2(*args), strict=True), (r1(seq.rf), r2(seq.rf))]
    for a, b in pairs:
        scale = float(np.max(np.abs(np.asarray(b))))
        assert scale > 0
        np.testing.assert_allclose(a, b, atol=1e-9 * scale)


def _grads_of_every_input(seq, sp, dtype, method, **kw):
    """d loss / d(T1, T2, M0, positions, off-resonance, b1, coils, gradient waveform) with a
    loss over the coil signals, the recorded M and the final M."""
    adc = np.asarray(seq.adc)
    rng = np.random.default_rng(7)
    coils0 = jnp.asarray(rng.normal(size=(2, sp.n)) + 1j * rng.normal(size=(2, sp.n)))
    coils0 = coils0.astype(jnp.complex64 if dtype == jnp.float32 else jnp.complex128)
    c = lambda a: jnp.asarray(a, dtype)  # noqa: E731

    def loss(T1, T2, M0, pos, df, b1, coils, g):
        s = mri.Spins(pos, T1, T2, M0=M0, off_resonance=df, b1=b1)
        r = mri.simulate(
            seq.rf,
            g,
            seq.dt,
            s,
            adc=adc,
            coils=coils,
            record_magnetization=True,
            method=method,
            **kw,
        )
        return (
            jnp.sum(jnp.abs(r.signal) ** 2)
            + jnp.sum(r.M_adc[..., 0] * r.M_adc[..., 2])
            + jnp.sum(r.M[:, 2])
        )

    args = (c(sp.T1), c(sp.T2), c(sp.M0), c(sp.positions), c(sp.off_resonance), c(sp.b1))
    return jax.jit(jax.grad(loss, argnums=tuple(range(8))))(*args, coils0, c(seq.gradient))


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_gradients_of_every_input_checkpointed_and_chunked(dtype):
    """The fast path's own reverse mode (``_adjoint``: per-bundle VJPs from recomputed
    states, checkpointed chunks of bundles, chunks of spins) against JAX's reverse mode of
    the reference engine, for every differentiable input, in float64 (1e-9 of each
    gradient's scale) and float32 (1e-3: float32 rounding of both engines' adjoints over
    ~200 steps)."""
    seq = SEQUENCES["cartesian_gre"]()
    if dtype == jnp.float32:
        seq = _to32(seq)
    sp = _spins(n=11)
    ref = _grads_of_every_input(seq, sp, dtype, "reference")
    tol = 1e-9 if dtype == jnp.float64 else 1e-3
    for kw in ({"checkpoint": 7, "spin_chunk": 4}, {"checkpoint": None}):
        fast = _grads_of_every_input(seq, sp, dtype, "fast", **kw)
        for name, a, b in zip(
            ["T1", "T2", "M0", "r", "df", "b1", "coils", "G"], fast, ref, strict=True
        ):
            scale = float(np.max(np.abs(np.asarray(b))))
            assert scale > 0, name
            np.testing.assert_allclose(a, b, atol=tol * scale, err_msg=f"{name} {kw}")


def _phantom_slices(n):
    """n slice-select sinc pulses (RF phase k rad), each with its rephaser and a 16-sample
    readout: the class maps' test sequence."""
    b = mri.SequenceBuilder()
    for k in range(n):
        rf = np.asarray(mri.sinc(0.5, 2e-3, 4.0, n=64)) * np.exp(1j * k)
        b.pulse(rf, 2e-3, gradient=(0.0, 0.0, 5e-3))
        b.delay(1e-3, gradient=(0.0, 0.0, -5e-3))
        b.readout(16, 2e-5, gradient=(3e-3, 1e-3, 0.0))
    return b.build()


def test_gradient_through_class_maps():
    """d loss / d(M0 map, coils) through RF blocks applied as class maps (the affine branch
    and the maps' own derivative) equals the reference's (1e-9 of the scale)."""
    seq = _phantom_slices(2)
    sp = mri.shepp_logan(16).spins
    coils = jnp.ones((2, sp.n), jnp.complex128) * jnp.asarray([[1.0], [0.5j]])

    def loss(M0, coils, method):
        s = mri.Spins(sp.positions, sp.T1, sp.T2, M0=M0)
        r = seq.simulate(s, coils=coils, method=method)
        return jnp.sum(jnp.abs(r.signal) ** 2) + jnp.sum(r.M[:, 1] ** 2)

    g_fast = jax.grad(lambda *a: loss(*a, "fast"), argnums=(0, 1))(sp.M0, coils)
    g_ref = jax.grad(lambda *a: loss(*a, "reference"), argnums=(0, 1))(sp.M0, coils)
    for a, b in zip(g_fast, g_ref, strict=True):
        scale = float(np.max(np.abs(np.asarray(b))))
        assert scale > 0
        np.testing.assert_allclose(a, b, atol=1e-9 * scale)


def test_class_maps_on_a_phantom_equal_reference():
    """Slice-select pulses on a 2D phantom: one exact affine map per tissue class (4 classes
    for 133 pixels), applied as a 3 x 3 multiply-add; equal to the reference and to per-spin
    stepping (1e-12 float64), and in float32 as the other sequences."""
    from netmag_jax.mri._affine_maps import plan_affine

    seq = _phantom_slices(3)
    sp = mri.shepp_logan(16).spins
    plan = plan_affine(seq.rf, seq.gradient, seq.dt, np.asarray(seq.adc), sp)
    assert plan is not None and len(plan.blocks) == 3 and 4 * plan.reps.shape[0] < sp.n
    fast, ref = _both(seq, sp)
    stepped = seq.simulate(sp, class_maps=False)
    for other in (ref, stepped):
        np.testing.assert_allclose(fast.M, other.M, atol=1e-12 * float(jnp.max(sp.M0)))
        np.testing.assert_allclose(fast.signal, other.signal, atol=1e-12 * float(jnp.sum(sp.M0)))
    m0 = sp.M0 / jnp.max(sp.M0)
    ref64 = seq.simulate(mri.Spins(sp.positions, sp.T1, sp.T2, M0=m0), method="reference")
    fast32, ref32 = _both(
        _to32(seq), mri.Spins(sp.positions.astype(jnp.float32), sp.T1, sp.T2, M0=m0)
    )
    tol = max(1e-6, 2 * _maxdiff(ref32.M, ref64.M))
    np.testing.assert_allclose(fast32.M, ref32.M, atol=tol)


def test_merging_shortens_the_program():
    """A 100-step delay and the first readout step (no ADC in between) are one macro-step;
    the later readout steps repeat its moment and length, so they reuse the phasor."""
    from netmag_jax.mri._segments import EMIT, REUSE, build_program

    b = mri.SequenceBuilder()
    b.pulse(np.full(4, 1e-6), 4e-5)
    b.delay(5e-3, n_steps=100)
    b.readout(8, 1e-5, gradient=(1e-3, 0.0, 0.0))
    seq = b.build()
    p = build_program(seq.rf, seq.gradient, seq.dt, np.asarray(seq.adc))
    assert p.n_macro == 4 + 8
    assert np.all(p.code[4:] & EMIT)
    assert not p.code[4] & REUSE and not p.code[5] & REUSE and np.all(p.code[6:] & REUSE)


def test_rf_runs_are_bundles_of_their_step_count():
    """A 17-step pulse is one full RF bundle (16 steps) and one of 1, a 4-step pulse one
    bundle of 4 (the code carries the count, so the engine computes 4 steps, not 16); M and
    d(sum Mx^2 + Mz)/d(T2 map) equal the reference engine's (float64, 1e-12 and 1e-9 of the
    scale)."""
    from netmag_jax.mri._segments import BUNDLE, COUNT_SHIFT, RFRUN, build_program

    b = mri.SequenceBuilder()
    b.pulse(np.asarray(mri.sinc(0.4, 8.5e-4, 3.0, n=17)), 8.5e-4, gradient=(0.0, 0.0, 3e-3))
    b.delay(1e-3, gradient=(0.0, 0.0, -3e-3))
    b.pulse(np.full(4, 2e-6), 4e-5)
    seq = b.build()
    p = build_program(seq.rf, seq.gradient, seq.dt, None)
    runs = p.bundle_code[(p.bundle_code & RFRUN) > 0]
    assert (runs >> COUNT_SHIFT).tolist() == [BUNDLE, 1, 4]
    sp = _spins()
    fast = mri.simulate(seq.rf, seq.gradient, seq.dt, sp, class_maps=False)
    ref = mri.simulate(seq.rf, seq.gradient, seq.dt, sp, method="reference")
    np.testing.assert_allclose(fast.M, ref.M, atol=1e-12)

    def loss(T2, method):
        s = mri.Spins(sp.positions, sp.T1, T2, M0=sp.M0, off_resonance=sp.off_resonance)
        M = mri.simulate(seq.rf, seq.gradient, seq.dt, s, method=method, class_maps=False).M
        return jnp.sum(M[:, 0] ** 2) + jnp.sum(M[:, 2])

    g_fast = jax.grad(loss)(sp.T2, "fast")
    g_ref = jax.grad(loss)(sp.T2, "reference")
    scale = float(np.max(np.abs(np.asarray(g_ref))))
    assert scale > 0
    np.testing.assert_allclose(g_fast, g_ref, atol=1e-9 * scale)


def test_jit_sees_the_same_program_as_eager(monkeypatch):
    """Waveforms closed over by ``jax.jit`` as NumPy float64 (cast to float32) with a scalar
    dt stay concrete through the input checks, so the jitted call plans the same merged
    program as the eager one (a staged cast used to make every step an RF step: the same
    numbers, 5-7x slower), and both equal the reference engine (float32 rounding)."""
    from netmag_jax.mri import _bloch

    seen = []
    build = _bloch.build_program

    def spy(*a, **k):
        p = build(*a, **k)
        seen.append(p.bundle_code.shape[0])
        return p

    monkeypatch.setattr(_bloch, "build_program", spy)
    seq = mri.cartesian_gre((0.01, 0.01), (8, 8))
    rf, g = np.asarray(seq.rf, np.complex128), np.asarray(seq.gradient, np.float64)
    dt = float(np.asarray(seq.dt)[0])
    dts = np.asarray(seq.dt, np.float64)
    sp = _spins(jnp.float32, n=64)
    eager = mri.simulate(rf, g, dts, sp, adc=np.asarray(seq.adc))
    jitted = jax.jit(lambda s: mri.simulate(rf, g, dts, s, adc=np.asarray(seq.adc)))(sp)
    assert seen[0] == seen[1] < seq.n_steps
    ref = mri.simulate(rf, g, dts, sp, adc=np.asarray(seq.adc), method="reference")
    np.testing.assert_allclose(jitted.signal, eager.signal, atol=1e-5)
    np.testing.assert_allclose(jitted.signal, ref.signal, atol=1e-4)
    n_rf = 32
    rf1 = np.concatenate([np.full(4, 2e-6), np.zeros(n_rf - 4)])
    jax.jit(lambda s: mri.simulate(rf1, np.zeros((n_rf, 3)), dt, s).M)(sp)
    assert seen[-1] < n_rf // 2  # scalar dt broadcast concretely: the free steps merged


def test_gpu_default_is_all_spins_at_once(monkeypatch):
    """On a GPU backend the automatic spin chunk is None (all spins at once: H200, readout
    5.6e10 vs 2.6e9 spin-steps/s in 16384-spin chunks, benchmarks/README.md); on the CPU,
    equal chunks of at most SPIN_CHUNK."""
    from netmag_jax.mri import _bloch

    assert _bloch._auto_spin_chunk(100_000, True) <= _bloch.SPIN_CHUNK
    monkeypatch.setattr(_bloch.jax, "default_backend", lambda: "gpu")
    assert _bloch._auto_spin_chunk(100_000, True) is None


# --- invalid input on the fast path ----------------------------------------------------------
def test_fast_path_value_errors():
    sp = _spins(n=2)
    z = jnp.zeros((3, 3))
    with pytest.raises(eqx.EquinoxRuntimeError, match="rf must be finite"):
        mri.simulate(jnp.array([0.0, jnp.inf, 0.0]), z, 1e-3, sp)
    with pytest.raises(eqx.EquinoxRuntimeError, match="gradient must be finite"):
        mri.simulate(jnp.zeros(3), z.at[1, 0].set(jnp.nan), 1e-3, sp)
    with pytest.raises(eqx.EquinoxRuntimeError, match="dt must be"):
        mri.simulate(jnp.zeros(3), z, jnp.array([1e-3, -1e-3, 1e-3]), sp)
    with pytest.raises(eqx.EquinoxRuntimeError, match="dt must be"):
        mri.simulate(jnp.zeros(3), z, jnp.array([1e-3, 0.0, 1e-3]), sp)
    bad = eqx.tree_at(lambda s: s.T2, sp, 3.0 * sp.T1)  # bypasses Spins' own check
    with pytest.raises(eqx.EquinoxRuntimeError, match="2 T1"):
        mri.simulate(jnp.zeros(3), z, 1e-3, bad)
    adc = np.arange(3)
    with pytest.raises(eqx.EquinoxRuntimeError, match="coils"):
        mri.simulate(jnp.zeros(3), z, 1e-3, sp, adc=adc, coils=jnp.array([[1.0, jnp.nan]]))
    with pytest.raises(eqx.EquinoxRuntimeError, match="adc_phase"):
        mri.simulate(jnp.zeros(3), z, 1e-3, sp, adc=adc, adc_phase=jnp.array([0, jnp.nan, 0]))
    with pytest.raises(ValueError, match="method"):
        mri.simulate(jnp.zeros(3), z, 1e-3, sp, method="euler")
    with pytest.raises(ValueError, match="spin_chunk"):
        mri.simulate(jnp.zeros(3), z, 1e-3, sp, spin_chunk=0)


def test_progress_is_reported(capsys):
    """progress=True prints one line per checkpointed chunk of steps, ending at n/n; the
    result is unchanged."""
    seq = SEQUENCES["fid"]()
    sp = _spins(n=3)
    quiet = seq.simulate(sp)
    loud = seq.simulate(sp, progress=True)
    jax.effects_barrier()
    err = capsys.readouterr().err
    counts = [tuple(map(int, m)) for m in re.findall(r"Bloch simulation: (\d+)/(\d+)", err)]
    n = counts[-1][1]
    assert n >= 2 and [k for k, _ in counts] == list(range(1, n + 1))
    np.testing.assert_allclose(loud.signal, quiet.signal, atol=1e-14)
