"""Pulseq reader against pypulseq on a corpus pypulseq writes itself (v1.5 and v1.4.1).

Peer: pypulseq 1.5 (``calculate_kspace``, ``get_block`` RF samples, ``rf_times`` slice
positions, ``evaluate_labels``). Physics checks (slice and fat selectivity, flip angles)
use the Bloch engine against the pulse's nominal design.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H_HZ
from netmag_jax.mri._pulseq import parse_pulseq_bytes
from netmag_jax.mri._pulseq_convert import sequence_arrays
from netmag_jax.mri._pulseq_ext import adc_labels

from ._pypulseq_corpus import CORPUS, corpus, read_with_pypulseq

NAMES = [f"{n}_v15" for n in CORPUS] + [
    f"{n}_v141" for n in CORPUS if n not in ("spiral_os", "fatsat")
]


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    return corpus(tmp_path_factory)


@pytest.mark.parametrize("name", NAMES)
def test_kspace_matches_pypulseq(files, name):
    """k at every ADC sample = pypulseq's calculate_kspace()[0] to 1e-6 of k_max.

    v1.4.1 files store no RF use and pypulseq 1.5.0 reads them with every pulse 'undefined'
    (= excitation); the reference then is pypulseq's reading of the v1.4.1 file with the RF
    uses of its v1.5 twin (our reader infers them by pypulseq's detect_rf_use rule; the pulse
    centre of a v1.4 file is pypulseq's peak rule in both)."""
    pf = mri.parse_pulseq(files[name])
    k = mri.kspace_trajectory(pf)
    ref = read_with_pypulseq(files[name])
    if name.endswith("_v141"):
        twin = read_with_pypulseq(files[name.replace("_v141", "_v15")])
        assert set(twin.rf_library.type) == set(ref.rf_library.data)
        ref.rf_library.type = dict(twin.rf_library.type)
        ref.block_cache.clear()
    k_ref = ref.calculate_kspace()[0].T
    assert k.shape == k_ref.shape
    kmax = np.abs(k_ref).max()
    if kmax == 0:  # FID-like file without gradients during the ADC
        np.testing.assert_array_equal(k, 0.0)
        return
    assert np.abs(k - k_ref).max() <= 1e-6 * kmax


def test_kspace_refocusing_negates_inversion_keeps(files):
    """Spin echo: k after the 180 is minus k before it (echo at k = 0 when balanced); the
    MPRAGE inversion does not reset k while the excitations do (pypulseq's semantics)."""
    pf = mri.parse_pulseq(files["se_block_v15"])
    a = sequence_arrays(pf)
    kinds = [kind for _, kind, _ in a.rf_events]
    assert kinds[:2] == ["excitation", "refocusing"]
    pf = mri.parse_pulseq(files["mprage_v15"])
    kinds = [kind for _, kind, _ in sequence_arrays(pf).rf_events]
    assert kinds[0] is None and set(kinds[1:]) == {"excitation"}


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith("_v15")])
def test_rf_samples_match_pypulseq(files, name):
    """Engine RF = conj(pypulseq's complex RF) / gamma_bar (mirror frame, see _pulseq_events):
    regular-raster samples exactly, time-shaped pulses by complex area (amplitude and phase)."""
    pf = mri.parse_pulseq(files[name])
    ref = read_with_pypulseq(files[name])
    B0 = ref.system.B0
    a = sequence_arrays(pf, B0=B0)
    t_step = np.concatenate([[0.0], np.cumsum(a.dt)])
    t_block = 0.0
    n_checked = 0
    wave_t, wave = ref.waveforms(append_RF=True)[3]
    for b, bid in enumerate(ref.block_events):
        blk = ref.get_block(bid)
        if blk.rf is not None:
            rf = blk.rf
            # our reading of pypulseq's RF = pypulseq's own Sequence.waveforms (its gamma)
            g_pp = ref.system.gamma
            f_pp = rf.freq_offset + rf.freq_ppm * 1e-6 * g_pp * B0
            ph_pp = rf.phase_offset + rf.phase_ppm * 1e-6 * g_pp * B0
            j = np.searchsorted(wave_t.real, t_block + rf.delay + rf.t - 1e-12)
            np.testing.assert_allclose(
                wave[j], rf.signal * np.exp(1j * (ph_pp + 2 * np.pi * f_pp * rf.t)), rtol=1e-12
            )
            # pypulseq's formula, with CODATA gamma_bar (the engine's) instead of its 42.576 MHz/T
            f = rf.freq_offset + rf.freq_ppm * 1e-6 * GAMMA_1H_HZ * B0
            ph = rf.phase_offset + rf.phase_ppm * 1e-6 * GAMMA_1H_HZ * B0
            sig = rf.signal * np.exp(1j * (ph + 2 * np.pi * f * rf.t))  # as pypulseq waveforms
            lo, hi = a.block_start[b], a.block_start[b + 1]
            ours = np.conj(a.rf[lo:hi])
            ras = ref.system.rf_raster_time
            if np.allclose(np.diff(rf.t), ras):  # samples held for one raster each
                steps = lo + np.searchsorted(t_step[lo + 1 : hi + 1], t_block + rf.delay + rf.t)
                np.testing.assert_allclose(np.conj(a.rf[steps]), sig, rtol=1e-9, atol=1e-9)
                area = np.sum(sig) * ras
            else:  # time shape: linear between the points
                area = np.sum(0.5 * (sig[1:] + sig[:-1]) * np.diff(rf.t))
            np.testing.assert_allclose(np.sum(ours * a.dt[lo:hi]), area, rtol=1e-9)
            n_checked += 1
        t_block += ref.block_durations[bid]
    assert n_checked > 0


def test_block_pulse_lasts_its_duration(files):
    """make_block_pulse writes time shape [0, d]: the 90 and 180 deg pulses last exactly 200
    and 400 us and have those flip angles (nominal design values)."""
    a = sequence_arrays(mri.parse_pulseq(files["se_block_v15"]))
    for b, (flip, dur) in [(0, (math.pi / 2, 200e-6)), (4, (math.pi, 400e-6))]:
        lo, hi = a.block_start[b], a.block_start[b + 1]
        on = np.abs(a.rf[lo:hi]) > 0
        assert np.sum(a.dt[lo:hi][on]) == pytest.approx(dur, rel=1e-12)
        area = abs(np.sum(a.rf[lo:hi] * a.dt[lo:hi]))
        assert 2 * np.pi * area == pytest.approx(flip, rel=1e-9)


def test_v14_and_v15_play_the_same_rf(files):
    """The same sequence written as v1.4.1 and v1.5 gives the same RF (phase referenced to the
    shape start in both, as pypulseq and MATLAB Pulseq), also off-centre with RF spoiling."""
    a = sequence_arrays(mri.parse_pulseq(files["gre_offcentre_v15"]))
    b = sequence_arrays(mri.parse_pulseq(files["gre_offcentre_v141"]))
    np.testing.assert_allclose(a.rf, b.rf, rtol=0, atol=1e-9 * np.abs(a.rf).max())
    np.testing.assert_allclose(a.adc_phase, b.adc_phase, atol=1e-12)


def _first_blocks(pf, n_blocks, B0=None):
    a = sequence_arrays(pf, B0=B0)
    end = a.block_start[n_blocks]
    return mri.Sequence(
        jnp.asarray(a.rf[:end] / GAMMA_1H_HZ),
        jnp.asarray(a.gradient[:end] / GAMMA_1H_HZ),
        jnp.asarray(a.dt[:end]),
        jnp.zeros((0,)),
        (),
    )


def test_off_centre_slice_excites_the_slice_not_its_mirror(files):
    """gre_offcentre: slice at +10 mm (pypulseq's slice position freq/G at the excitation);
    after the excitation and its rewinder a spin at +10 mm is tipped by the 15 deg design
    flip, the mirror spin at -10 mm is not."""
    path = files["gre_offcentre_v15"]
    ref = read_with_pypulseq(path)
    t_ex, fp, _, _ = ref.rf_times()
    gz = ref.get_gradients()[2]
    assert fp[0][0] / gz(t_ex[0]) == pytest.approx(0.01, rel=1e-6)
    seq = _first_blocks(mri.parse_pulseq(path), 2)
    z = jnp.array([[0.0, 0.0, 0.01], [0.0, 0.0, -0.01]])
    M = np.asarray(seq.simulate(mri.Spins(z, 1e3, 1e3, M0=1.0)).M)
    assert math.degrees(math.atan2(np.hypot(*M[0, :2]), M[0, 2])) == pytest.approx(15, abs=0.5)
    assert np.hypot(*M[1, :2]) < 0.02


def test_fat_sat_tips_fat_not_water_or_mirror(files):
    """Gaussian pulse at -3.45 ppm (B0 = 3 T): spins at -3.45 ppm get its 110 deg design flip
    (Mz = cos 110 deg); water (0 ppm) and the mirror (+3.45 ppm) stay along z."""
    pf = mri.parse_pulseq(files["fatsat_v15"])
    assert pf.B0 == 3.0
    seq = _first_blocks(pf, 1)
    df = -3.45e-6 * GAMMA_1H_HZ * 3.0
    spins = mri.Spins(jnp.zeros((3, 3)), 1e3, 1e3, M0=1.0, off_resonance=jnp.array([df, 0, -df]))
    mz = np.asarray(seq.simulate(spins).M)[:, 2]
    assert mz[0] == pytest.approx(math.cos(math.radians(110)), abs=0.03)
    assert mz[1] > 0.99 and mz[2] > 0.99


def test_labels_match_pypulseq(files):
    """LIN / REV counters at each ADC = pypulseq evaluate_labels(evolution='adc')."""
    for name in ("epi_labels_v15", "gre_labels_v15", "epi_labels_v141"):
        ours = adc_labels(mri.parse_pulseq(files[name]))
        ref = read_with_pypulseq(files[name]).evaluate_labels(evolution="adc")
        assert set(ref) <= set(ours)
        for key, v in ref.items():
            np.testing.assert_array_equal(ours[key], np.asarray(v))


def test_definitions_exposed(files):
    """FOV and raster times of the file's [DEFINITIONS] (pypulseq's values)."""
    pf = mri.parse_pulseq(files["gre_v15"])
    ref = read_with_pypulseq(files["gre_v15"])
    assert pf.fov == pytest.approx(tuple(ref.get_definition("FOV")))
    assert pf.raster("GradientRasterTime") == ref.grad_raster_time
    assert pf.raster("RadiofrequencyRasterTime") == ref.rf_raster_time
    assert pf.readout_oversampling == 1.0
    text = (
        files["gre_v15"]
        .read_bytes()
        .replace(b"[DEFINITIONS]\n", b"[DEFINITIONS]\nReadoutOversamplingFactor 2\n")
    )
    assert parse_pulseq_bytes(text, check_signature=False).readout_oversampling == 2.0


def test_bare_sequence_kspace_refocusing_and_inversion():
    """Sequence without a file: a 180 deg pulse negates k at its centre, the 90 deg one
    restarts it (pypulseq's rule by flip angle); analytic k = -m1 + m2 after the 180."""
    G, T = 1e-3, 1e-3
    hard = 1.0 / (4 * 1e-4 * GAMMA_1H_HZ)  # 90 deg in 100 us: gamma_bar B1 t = 1/4
    b = mri.SequenceBuilder()
    b.pulse(jnp.full(1, hard), 1e-4)
    b.delay(T, gradient=(G, 0.0, 0.0))
    b.pulse(jnp.full(2, 2 * hard), 1e-4)  # 180 deg
    b.readout(3, 1e-4, gradient=(G, 0.0, 0.0))
    k = mri.kspace_trajectory(b.build())
    expected = -GAMMA_1H_HZ * G * T + GAMMA_1H_HZ * G * np.arange(1, 4) * 1e-4
    np.testing.assert_allclose(k[:, 0], expected, rtol=1e-12)
