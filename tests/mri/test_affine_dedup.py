"""Repeated RF blocks share one class map (``_affine_maps``): identical blocks, and blocks
whose RF differs by a global phase (RF spoiling, phase cycling), whose maps are conjugated by
a rotation about z. Checked against stepping every block with the reference rule (float64,
1e-12: the conjugation is exact, the Bloch equation commutes with rotations about z)."""

import math

import jax.numpy as jnp
import numpy as np

from netmag_jax import mri
from netmag_jax.mri._affine_maps import plan_affine
from netmag_jax.mri._fast import class_maps


def _train(phases, ramp=0.0, n=64):
    """Slice-selective sinc pulses of n steps with the given RF phases [rad] (``ramp``: extra
    linear phase [rad] across the last pulse, which makes it no global-phase copy)."""
    b = mri.SequenceBuilder()
    base = np.asarray(mri.sinc(0.5, 2e-3, 4.0, n=n))
    for k, phi in enumerate(phases):
        extra = np.linspace(0, ramp, n) if k == len(phases) - 1 else 0.0
        b.pulse(base * np.exp(1j * (phi + extra)), 2e-3, gradient=(0.0, 0.0, 5e-3))
        b.delay(1e-3, gradient=(0.0, 0.0, -5e-3))
        b.readout(8, 2e-5, gradient=(3e-3, 1e-3, 0.0))
    return b.build()


def test_repeated_blocks_share_conjugated_maps():
    phases = (0.0, 1.0, 2.0, -2.5, 1.0)
    seq = _train(phases)
    sp = mri.shepp_logan(16).spins
    plan = plan_affine(seq.rf, seq.gradient, seq.dt, np.asarray(seq.adc), sp)
    assert plan is not None and plan.source == (0,) * len(phases)
    # the phases relative to the first block are the construction's (to rounding)
    np.testing.assert_allclose(plan.phase, phases, atol=1e-12)
    shared = class_maps(
        seq.rf, seq.gradient, seq.dt, sp, (plan.blocks, plan.source, plan.phase), plan.u, plan.reps
    )
    n = len(plan.blocks)
    each = class_maps(
        seq.rf,
        seq.gradient,
        seq.dt,
        sp,
        (plan.blocks, tuple(range(n)), (0.0,) * n),
        plan.u,
        plan.reps,
    )
    np.testing.assert_allclose(shared, each, atol=1e-12)
    # a 1 rad RF phase rotates the map: the conjugation is not the identity here
    assert float(jnp.max(jnp.abs(each[1] - each[0]))) > 1e-2


def test_phase_ramp_is_not_a_copy():
    """A linear phase across the pulse (a frequency offset) is no global phase: own map."""
    seq = _train((0.0, 0.0, 0.0), ramp=math.pi / 3)
    sp = mri.shepp_logan(16).spins
    plan = plan_affine(seq.rf, seq.gradient, seq.dt, np.asarray(seq.adc), sp)
    assert plan is not None and plan.source == (0, 0, 2)
    fast = seq.simulate(sp)
    ref = seq.simulate(sp, method="reference")
    np.testing.assert_allclose(fast.signal, ref.signal, atol=1e-12 * float(jnp.sum(sp.M0)))


def test_blocks_cut_into_padded_pieces_equal_reference():
    """Class maps are composed from ~sqrt(L) pieces; L = 37 (7 pieces of 6 steps, the last
    padded with identity steps, composed in 3 rounds padded to 8) and L = 50: equal to the
    reference engine (float64, 1e-12 M0)."""
    sp = mri.shepp_logan(16).spins
    for n in (37, 50):
        seq = _train((0.0, 0.7), n=n)
        plan = plan_affine(seq.rf, seq.gradient, seq.dt, np.asarray(seq.adc), sp)
        assert plan is not None and plan.blocks[0][1] - plan.blocks[0][0] == n
        fast, ref = seq.simulate(sp), seq.simulate(sp, method="reference")
        np.testing.assert_allclose(fast.M, ref.M, atol=1e-12 * float(jnp.max(sp.M0)))
        np.testing.assert_allclose(fast.signal, ref.signal, atol=1e-12 * float(jnp.sum(sp.M0)))


def test_row_classes_equal_numpy_unique_and_reject_early():
    """The per-column class codes give the classes of ``np.unique(key, axis=0)`` (an
    independent implementation), and None once the first columns alone reach the limit."""
    from netmag_jax.mri._affine_maps import _row_classes

    rng = np.random.default_rng(3)
    key = rng.integers(0, 4, (500, 3)).astype(np.float64) * np.array([0.5, 1e-3, 7.0])
    reps, cls = _row_classes(key, limit=501)
    uniq, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(key[reps], uniq)
    np.testing.assert_array_equal(cls.reshape(-1), inv.reshape(-1))
    np.testing.assert_array_equal(reps, first)
    assert _row_classes(key, limit=len(uniq)) is None  # reached exactly: rejected
    assert _row_classes(key, limit=len(uniq) + 1) is not None
    distinct = np.stack([np.arange(400.0), np.zeros(400)], axis=1)  # distinct positions
    assert _row_classes(distinct, limit=100) is None


def _plan_slice_pulse(z):
    """The class-map plan (or None) of a 64-step sinc pulse under a z gradient for spins at
    heights ``z`` (on the z axis, T1 = 1 s, T2 = 0.1 s)."""
    b = mri.SequenceBuilder()
    b.pulse(np.asarray(mri.sinc(0.5, 2e-3, 4.0, n=64)), 2e-3, gradient=(0.0, 0.0, 5e-3))
    seq = b.build()
    sp = mri.Spins(np.stack([0 * z, 0 * z, z], -1), 1.0, 0.1)
    return plan_affine(seq.rf, seq.gradient, seq.dt, None, sp)


def test_distinct_positions_plan_no_class_maps():
    """An SLR-like pulse on 2000 distinct positions: classes = spins, so no plan (the
    stepped engine), rejected after one sort of the positions; on 20 positions x 100 spins
    the same pulse is planned with 20 classes."""
    assert _plan_slice_pulse(np.linspace(-0.01, 0.01, 2000)) is None
    plan = _plan_slice_pulse(np.repeat(np.linspace(-0.01, 0.01, 20), 100))  # 20 positions
    assert plan is not None and plan.reps.shape[0] == 20


def test_sampled_rejection_is_exact_on_class_structure():
    """``_surely_distinct`` (a seeded sample of 8 sqrt(N) entries) says "distinct" for 1e5
    distinct float32 positions (a float32 rounding repeat or two is not a class structure)
    and never for N/4 or fewer classes (each repeated value is a class of >= 4 spins: >= 128
    repeats expected in the sample, the bound in its docstring); below 4096 spins it leaves
    the decision to the full classification. On 2e5 distinct positions the planner returns
    no plan."""
    from netmag_jax.mri._affine_maps import _surely_distinct

    def on_z(z):  # the sample's projections on the z axis are the given heights
        return np.stack([0 * z, 0 * z, z], -1), np.array([0.0, 0.0, 1.0])

    rng = np.random.default_rng(5)
    n = 100_000
    z32 = rng.uniform(-0.1, 0.1, n).astype(np.float32).astype(np.float64)
    assert _surely_distinct(*on_z(z32))
    assert _surely_distinct(jnp.asarray(on_z(z32)[0], jnp.float32), on_z(z32)[1])  # on device
    for n_classes in (n // 4, n // 40, 7):
        col = rng.permutation(np.arange(n) % n_classes).astype(np.float64)
        assert not _surely_distinct(*on_z(col))
    assert not _surely_distinct(*on_z(np.arange(4000.0)))  # small N: the full classification
    assert _plan_slice_pulse(rng.uniform(-0.01, 0.01, 200_000)) is None
