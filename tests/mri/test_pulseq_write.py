"""Pulseq writer (mri._pulseq_write): files that pypulseq (a peer) reads back and that
netmag_jax's reader re-simulates to the same signal."""

import hashlib
import math

import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri
from netmag_jax.mri import design

pp = pytest.importorskip("pypulseq")


def _slab(n, thickness, t1=0.8, t2=0.08):
    """n isochromats evenly spread over ``thickness`` [m] in z, total M0 = 1."""
    z = (np.arange(n) + 0.5) / n * thickness - thickness / 2
    pos = jnp.asarray(np.stack([np.zeros(n), np.zeros(n), z], -1))
    return mri.Spins(pos, t1, t2, M0=1.0 / n)


def _signature_ok(path):
    """pypulseq's rule: md5 of the text before the newline that precedes [SIGNATURE]."""
    text = path.read_text()
    body, _, sig = text.partition("\n[SIGNATURE]")
    return hashlib.md5(body.encode()).hexdigest() == sig.split("Hash")[1].split()[0]


def test_spoiled_gre_round_trip_pypulseq_and_resimulation(tmp_path):
    """mri.gre (RF-spoiled, z spoiler 2 cycles / 5 mm, ADC 5 ms after the pulse, off the
    10 us raster): pypulseq reads the file (5 pulses, 5 ADC events, the FOV and the
    receiver phases of RF spoiling), the md5 signature is pypulseq's, and netmag_jax's
    reader re-simulates the same signal to 1e-3 of M0 (the spoiler moved by < 10 us)."""
    seq = mri.gre(math.radians(30), 10e-3, 3e-3, 5, spoiler_moment=(0.0, 0.0, 400.0))
    out = mri.write_pulseq(seq, tmp_path / "gre.seq", fov=(0.2, 0.2, 5e-3), name="gre")
    assert out.path.exists() and _signature_ok(out.path)
    assert out.rf_error < 1e-6 and out.adc_shift < 1e-9
    assert 0 < out.gradient_error < 0.05  # the spoiler starts 5 us into a raster interval
    ps = pp.Sequence()
    ps.read(str(out.path))
    assert ps.get_definition("FOV") == pytest.approx([0.2, 0.2, 5e-3])
    blocks = [ps.get_block(i) for i in ps.block_events]
    assert sum(b.rf is not None for b in blocks) == 5
    adcs = [b.adc for b in blocks if b.adc is not None]
    # pypulseq keeps 6 significant digits of event values when it reads; Pulseq's frame is
    # the engine's mirror image, so the file's receiver phases are the engine's negated
    np.testing.assert_allclose(
        [a.phase_offset for a in adcs], -np.asarray(mri.rf_spoiling_phases(5)), rtol=1e-5
    )
    sp = _slab(40, 5e-3)
    a = np.asarray(seq.simulate(sp).signal)
    b = np.asarray(mri.read_pulseq(out.path).simulate(sp).signal)
    np.testing.assert_allclose(b, a, atol=1e-3)


@pytest.mark.slow
def test_designed_slice_pulse_round_trips_through_seq(tmp_path):
    """A designed 2 ms slice-selective 90 deg pulse (64 samples of 31.25 us, off the 1 us
    RF raster) with its rewinder: pypulseq reads it back with the same RF area (flip) to
    1e-6; resampled onto the RF raster it re-simulates to the same transverse
    magnetization across the slice profile to 1e-3 of M0 (the "Done when" bound)."""
    target = design.slice_target("excitation", 5e-3, n_positions=41)
    res = design.optimize_pulse(
        target,
        2e-3,
        64,
        b1_max=20e-6,
        gradient=4.0 / (2e-3 * 42.577e6 * 5e-3),
        stop=design.Stopping(max_iter=5),
    )
    seq = design.pulse_sequence(res)
    out = mri.write_pulseq(res, tmp_path / "pulse.seq")
    assert out.rf_error < 0.05 and _signature_ok(out.path)
    ps = pp.Sequence()
    ps.read(str(out.path))
    rf = [ps.get_block(i).rf for i in ps.block_events if ps.get_block(i).rf is not None]
    assert len(rf) == 1
    area_pp = abs(np.sum(rf[0].signal)) * 1e-6  # samples on the 1 us raster: Hz s = turns
    area = abs(np.sum(np.asarray(res.rf))) * res.dt * 42.577478e6
    assert area_pp == pytest.approx(area, rel=1e-6)
    sp = _slab(81, 20e-3, t1=1.0, t2=0.1)  # +-2 slice thicknesses: passband and stopband
    a = np.asarray(seq.simulate(sp).M)
    b = np.asarray(mri.read_pulseq(out.path).simulate(sp).M)
    assert np.max(np.abs(a - b)) * 81 < 1e-3  # per isochromat, in units of its M0


def test_write_pulseq_rejects_what_the_rasters_cannot_hold(tmp_path):
    b = mri.SequenceBuilder()
    b.pulse(jnp.full(1, 1e-6), 2e-6)
    b.delay(3e-6)
    b.pulse(jnp.full(1, 1e-6), 2e-6)
    b.delay(1e-3)
    b.pulse(jnp.full(1, 1e-6), 2e-6)
    b.delay(30e-6)  # far enough: a separate block
    b.pulse(jnp.full(1, 1e-6), 2e-6)
    # the first two pulses (3 us apart) are one pulse with a zero sample inside
    out = mri.write_pulseq(b.build(), tmp_path / "ok.seq")
    assert out.n_blocks >= 3
    uneven = mri.SequenceBuilder()
    uneven.readout(3, 1e-5)
    uneven.delay(1e-6)
    uneven.readout(3, 1e-5)  # a 1 us hiccup within one readout
    with pytest.raises(ValueError, match="not evenly spaced"):
        mri.write_pulseq(uneven.build(), tmp_path / "bad.seq")
    b.readout(3, 1e-6)
    b.delay(1.5e-6)
    b.readout(3, 1e-6)  # 2.5 dwells apart: two readouts in one 10 us block
    with pytest.raises(ValueError, match="two RF pulses or two readouts"):
        mri.write_pulseq(b.build(), tmp_path / "bad.seq")
    with pytest.raises(ValueError, match="rf_use"):
        mri.write_pulseq(mri.gre(0.5, 1e-2, 3e-3, 2), tmp_path / "x.seq", rf_use=["e"])
    assert not (tmp_path / "bad.seq").exists()
