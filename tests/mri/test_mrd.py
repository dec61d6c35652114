"""Simulated raw data out as ISMRMRD (mri._mrd), read back by the ismrmrd package (peer)."""

from pathlib import Path

import numpy as np
import pytest

from netmag_jax import cli, mri
from netmag_jax.constants import GAMMA_1H_HZ
from netmag_jax.mri._mrd import readouts

ismrmrd = pytest.importorskip("ismrmrd")

DATA = Path(__file__).parent / "data"


def test_readouts_split_at_gaps():
    """Samples 1 us apart in runs of 4 and 3, 1 ms between them: two readouts."""
    t = np.concatenate([np.arange(4) * 1e-6, 1e-3 + np.arange(3) * 2e-6])
    starts, dwells = readouts(t)
    np.testing.assert_array_equal(starts, [0, 4])
    np.testing.assert_allclose(dwells, [1e-6, 2e-6])


def test_mrd_round_trip_through_ismrmrd(tmp_path):
    """8 x 8 Cartesian GRE file: 8 acquisitions of 8 samples; ismrmrd reads back the samples
    (complex64 round-off, 1e-7 relative), the trajectory in grid units (k FOV, the lines
    -4..3), the dwell, the matrix, the FOV in mm and gamma_bar B0."""
    ph = mri.cylinder(8, 0.2, 0.06, B0=1.5)
    sim = mri.simulate_seq(DATA / "gre_8x8_v14.seq", ph)
    path = mri.write_mrd(sim, tmp_path / "raw.h5", phantom=ph)
    with ismrmrd.Dataset(str(path), "dataset", create_if_needed=False) as dset:
        header = ismrmrd.xsd.CreateFromDocument(dset.read_xml_header())
        n = dset.number_of_acquisitions()
        acqs = [dset.read_acquisition(i) for i in range(n)]
    assert n == 8
    enc = header.encoding[0]
    assert (enc.encodedSpace.matrixSize.x, enc.encodedSpace.matrixSize.y) == (8, 8)
    assert enc.encodedSpace.fieldOfView_mm.x == pytest.approx(200.0)
    assert header.acquisitionSystemInformation.systemFieldStrength_T == pytest.approx(1.5)
    assert header.experimentalConditions.H1resonanceFrequency_Hz == round(GAMMA_1H_HZ * 1.5)
    data = np.concatenate([a.data for a in acqs], axis=-1)[0]
    sig = np.asarray(sim.signal)
    np.testing.assert_allclose(data, sig, rtol=0, atol=1e-6 * np.max(np.abs(sig)))
    traj = np.concatenate([a.traj for a in acqs])
    np.testing.assert_allclose(traj[:, :2], np.asarray(sim.kspace)[:, :2] * 0.2, atol=1e-5)
    np.testing.assert_allclose(traj[::8, 1], np.arange(8) - 4, atol=1e-5)
    assert [a.idx.kspace_encode_step_1 for a in acqs] == list(range(8))
    assert acqs[0].sample_time_us == pytest.approx(50.0)
    assert acqs[-1].is_flag_set(ismrmrd.ACQ_LAST_IN_MEASUREMENT)


def test_cli_simulate_writes_mrd(tmp_path):
    """`netmag simulate --mrd` (simulate_file(mrd=...)): the file names one acquisition per
    phase-encode line."""
    summary = cli.simulate_file(
        DATA / "gre_8x8_v14.seq", "cylinder", 8, tmp_path, 1, tmp_path / "o.h5"
    )
    assert summary["mrd"] == str(tmp_path / "o.h5")
    with ismrmrd.Dataset(summary["mrd"], "dataset", create_if_needed=False) as dset:
        assert dset.number_of_acquisitions() == 8


def test_write_mrd_without_adc_is_an_error(tmp_path):
    sim = mri.simulate_seq(DATA / "fid_v14.seq", mri.cylinder(8, 0.2, 0.06))
    sim = mri.SeqSimulation(sim.sequence, None)
    with pytest.raises(ValueError, match="no ADC"):
        mri.write_mrd(sim, tmp_path / "x.h5")


def test_simulation_passes_through_jit_with_its_definitions():
    """The file's [DEFINITIONS] are a hashable static field: a SeqSimulation goes through
    jax.jit (a dict there raised 'unhashable type'), FOV reads as a tuple (the file's 3
    numbers), and the mapping is read-only."""
    import jax

    sim = mri.simulate_seq(DATA / "gre_8x8_v14.seq", mri.cylinder(8, 0.2, 0.06))
    fov = sim.definitions["FOV"]
    assert isinstance(fov, tuple) and len(fov) == 3 and fov[0] == pytest.approx(0.2)
    doubled = jax.jit(lambda s: 2 * s.signal)(sim)
    np.testing.assert_allclose(doubled, 2 * np.asarray(sim.signal))
    assert hash(sim.definitions) == hash(
        mri.SeqSimulation(None, None, definitions=dict(sim.definitions)).definitions
    )
    with pytest.raises(TypeError):
        sim.definitions["FOV"] = 1.0  # type: ignore[index]
