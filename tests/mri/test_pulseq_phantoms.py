"""Pulseq reader (v1.4, v1.5, malformed files, fuzzing) and phantoms."""

import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H, HBAR, K_B

DATA = Path(__file__).parent / "data"


def test_decompress_shape():
    """Pulseq compression: derivative with 'v v count' runs; uncompressed when lengths agree."""
    np.testing.assert_allclose(mri.decompress_shape([1, 0, 0, 3], 6), np.ones(6))
    np.testing.assert_allclose(
        mri.decompress_shape([0.5, 0.25, 0.25, 2, -1], 6), [0.5, 0.75, 1.0, 1.25, 1.5, 0.5]
    )
    np.testing.assert_allclose(mri.decompress_shape([3, 1, 2], 3), [3, 1, 2])
    with pytest.raises(ValueError):
        mri.decompress_shape([1, 0, 0, 9], 6)


def test_fid_v14_matches_builder():
    """FID file: 90 deg hard pulse (2500 Hz x 100 us = 1/4 turn), ADC at (k + 1/2) dwell."""
    seq = mri.read_pulseq(DATA / "fid_v14.seq")
    assert len(seq.adc) == 64
    assert float(seq.duration) == pytest.approx(740e-6)
    assert float(mri.flip_angle(seq.rf, seq.dt)) == pytest.approx(math.pi / 2, rel=1e-12)
    b = mri.SequenceBuilder()
    b.pulse(jnp.full(100, 2500.0 * 2 * math.pi / GAMMA_1H), 1e-4)
    b.readout(1, 5e-6)
    b.readout(63, 1e-5)
    ref = b.build()
    sp = mri.Spins(jnp.zeros((2, 3)), 1.0, 0.05, M0=1.0, off_resonance=jnp.array([0.0, 100.0]))
    np.testing.assert_allclose(seq.simulate(sp).signal, ref.simulate(sp).signal, atol=1e-12)


def test_spin_echo_v15_extended_trapezoid_crushers():
    """v1.5 spin echo (TE 20 ms, crushers as time-shaped gradients, [EXTENSIONS] skipped):
    echo ~ exp(-TE/T2) for isochromats spread over the crusher's 6 cycles and +-50 Hz."""
    pf = mri.parse_pulseq(DATA / "se_v15.seq")
    assert pf.version[:2] == (1, 5) and pf.rf[2]["use"] == "r"
    seq = mri.pulseq_to_sequence(pf)
    np.testing.assert_allclose(seq.adc_times(), [0.02005], rtol=1e-12)
    area = GAMMA_1H / (2 * math.pi) * np.sum(np.asarray(seq.gradient[:, 2] * seq.dt))
    assert area == pytest.approx(12.0, rel=1e-12)  # two crushers of 6 cycles/m
    N = 24
    sp = mri.Spins(
        jnp.linspace(0, 1 / 6, N, endpoint=False),
        1.0,
        0.05,
        M0=1.0,
        off_resonance=jnp.linspace(-50, 50, N),
    )
    s = complex(seq.simulate(sp).signal[0]) / N
    assert s.imag == pytest.approx(math.exp(-0.02 / 0.05), rel=2e-3)


def test_simulate_seq_cartesian_gre_image():
    """8 x 8 Cartesian GRE file on a disc: k-space on the grid, FFT image = the disc."""
    ph = mri.cylinder(8, 0.2, 0.06)
    spins = mri.Spins(ph.spins.positions, 0.3, 1e-3, M0=1.0)
    out = mri.simulate_seq(DATA / "gre_8x8_v14.seq", spins)
    assert isinstance(out, mri.SeqSimulation) and len(out.sequence.adc) == 64
    k = out.kspace
    assert k is not None and out.image is not None
    np.testing.assert_allclose(k[:8, 0], (np.arange(8) - 4) / 0.2, atol=1e-9)
    np.testing.assert_allclose(k[::8, 1], (np.arange(8) - 4) / 0.2, atol=1e-9)
    img = np.abs(np.asarray(out.image))
    mask = ph.labels > 0
    assert img[mask].min() > 0.5 * img.max()
    assert img[~mask].max() < 0.15 * img.max()


def test_simulate_seq_without_fov_has_no_image():
    """FID file (no FOV in [DEFINITIONS]): signal and k-space (all 0: no gradients), no image."""
    out = mri.simulate_seq(DATA / "fid_v14.seq", mri.cylinder(8, 0.2, 0.06))
    assert out.signal.shape == (64,) and out.image is None
    assert out.kspace is not None
    np.testing.assert_array_equal(out.kspace, np.zeros((64, 3)))


def _write(tmp_path, text):
    p = tmp_path / "bad.seq"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "old,new,anchor",
    [
        ("1 64 10000 0 0 0", "1 64 10000 0 0", "1 64 10000 0 0"),  # ADC with a missing field
        ("2  64  0   0   0   0  1  0", "2  64  0   0   0   0  7  0", "2  64"),  # undefined ADC
        ("1         2500 1 2 0 0 0 0", "1 2500 1 9 0 0 0 0", "1 2500 1 9"),  # undefined shape
        ("1  10  1   0   0   0  0  0", "1  5  1   0   0   0  0  0", "1  5  1"),  # block too short
        ("num_samples 100\n1\n0\n0\n97", "num_samples 100\n1\n0\n0\n95", "shape_id 1"),
        ("[BLOCKS]", "[BLOCKS", "[BLOCKS"),
        ("1  10  1   0   0   0  0  0", "1  10  x   0   0   0  0  0", "1  10  x"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, old, new, anchor):
    """Each defect raises ValueError naming file:line of the offending line."""
    text = (DATA / "fid_v14.seq").read_text()
    assert old in text
    bad = text.replace(old, new, 1)
    lineno = bad.split(anchor)[0].count("\n") + 1
    with pytest.raises(ValueError, match=f"bad.seq:{lineno}:"):
        mri.read_pulseq(_write(tmp_path, bad))


def test_unsupported_version_and_empty(tmp_path):
    text = (DATA / "fid_v14.seq").read_text()
    with pytest.raises(ValueError, match="version"):
        mri.read_pulseq(_write(tmp_path, text.replace("minor 4", "minor 9")))
    with pytest.raises(ValueError, match="VERSION"):
        mri.read_pulseq(_write(tmp_path, "[BLOCKS]\n1 1 0 0 0 0 0 0\n"))


_FIXTURE_LINES = (DATA / "se_v15.seq").read_text().splitlines()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_FIXTURE_LINES) - 1),
            st.sampled_from(["delete", "dup", "token", "garbage"]),
            st.one_of(
                st.integers(-5, 3000).map(str),
                st.sampled_from(["", "[", "]", "nan", "1e9", "-0", "x", "shape_id", "[RF]", "1.5"]),
            ),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_fuzz_reader_raises_only_value_error(tmp_path, edits):
    """Random line deletions/duplications/token swaps: the reader parses or raises ValueError."""
    lines = list(_FIXTURE_LINES)
    for idx, op, tok in edits:
        idx = idx % len(lines)
        if op == "delete":
            del lines[idx]
        elif op == "dup":
            lines.insert(idx, lines[idx])
        elif op == "token":
            parts = lines[idx].split()
            if parts:
                parts[len(tok) % len(parts)] = tok
            lines[idx] = " ".join(parts)
        else:
            lines[idx] = tok
        if not lines:
            lines = [""]
    p = tmp_path / "fuzz.seq"
    p.write_text("\n".join(lines))
    try:
        seq = mri.read_pulseq(p)
    except ValueError:
        return
    assert seq.n_steps > 0


def test_shepp_logan_tissues_and_curie_m0():
    """Phantom has WM, GM, CSF and fat; M0 = PD x Curie-law water magnetization."""
    ph = mri.shepp_logan(32)
    names = {ph.tissue_names[i] for i in np.unique(ph.labels) if i > 0}
    assert names == {"white_matter", "gray_matter", "csf", "fat"}
    assert np.all(ph.T2 <= 2 * ph.T1)
    m0_water = 6.69e28 * GAMMA_1H**2 * HBAR**2 * 3.0 / (4 * K_B * 310.0)
    csf = ph.labels.ravel()[ph.pixel] == ph.tissue_names.index("csf")
    np.testing.assert_allclose(ph.spins.M0[csf], m0_water, rtol=1e-9)
    with pytest.raises(ValueError):
        mri.cylinder(8, 0.2, 0.06, tissue="bone")
