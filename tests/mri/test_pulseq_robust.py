"""Pulseq reader: extensions, ADC offsets, signatures, and malformed or hostile files.

Each hostile file must give a ValueError naming the file and line, before any allocation of
the size it declares (issue: run-length counts or ADC sizes of 1e9, zero rasters, inf RF).
"""

import hashlib
import math
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H_HZ
from netmag_jax.mri._pulseq import parse_pulseq_bytes
from netmag_jax.mri._pulseq_convert import sequence_arrays
from netmag_jax.mri._pulseq_fuzz import check_case, fuzz

from ._pypulseq_corpus import corpus

DATA = Path(__file__).parent / "data"

# v1.5: 100 us hard pulse (2500 Hz x 100 us = 90 deg), then a trapezoid on x under 10 ADC
# samples; EXT, ADC freq / ppm and rasters are filled in per test.
TEMPLATE = """[VERSION]
major 1
minor 5
revision 0
[DEFINITIONS]
AdcRasterTime 1e-07
B0 3
BlockDurationRaster 1e-05
GradientRasterTime {graster}
RadiofrequencyRasterTime 1e-06
[BLOCKS]
1 10 1 0 0 0 0 0
2 100 0 1 0 0 1 {ext}
[RF]
1 {rf_amp} 1 0 0 50 0 0 0 0 0 e
[TRAP]
1 1000 100 800 100 0
[ADC]
1 {num} 10000 100 {ppm} 0 {freq} 0 0
{extensions}
[SHAPES]
shape_id 1
num_samples 100
{mag0}
0
0
{count}
"""


def _text(**kw):
    fields = dict(
        graster="1e-05", ext=0, rf_amp=2500, num=10, ppm=0, freq=0, extensions="", count=97, mag0=1
    )
    fields.update(kw)
    return TEMPLATE.format(**fields)


def _parse(text, name="t.seq", **kw):
    return parse_pulseq_bytes(text.encode(), name, **kw)


def test_template_reads():
    a = sequence_arrays(_parse(_text()))
    assert len(a.adc) == 10 and abs(2 * np.pi * np.sum(a.rf * a.dt)) == pytest.approx(np.pi / 2)


def test_rotation_extension_rotates_the_gradients():
    """ROTATIONS quaternion (cos 45, 0, 0, sin 45) = 90 deg about z: gx -> +gy."""
    ext = (
        "[EXTENSIONS]\n1 1 1 0\nextension ROTATIONS 1\n"
        f"1 {math.cos(math.pi / 4)!r} 0 0 {math.sin(math.pi / 4)!r}"
    )
    a = sequence_arrays(_parse(_text(ext=1, extensions=ext)))
    b = sequence_arrays(_parse(_text()))
    np.testing.assert_allclose(a.gradient[:, 1], b.gradient[:, 0], atol=1e-9)
    np.testing.assert_allclose(a.gradient[:, 0], 0.0, atol=1e-9)


def test_unsupported_or_broken_extensions_name_the_line():
    ext = "[EXTENSIONS]\n1 1 1 0\nextension RF_SHIMS 1\n1 2 1 0 1 0"
    with pytest.raises(ValueError, match=r"t\.seq:\d+: .*RF_SHIMS"):
        _parse(_text(ext=1, extensions=ext))
    with pytest.raises(ValueError, match=r"t\.seq:\d+: .*undefined extension 3"):
        _parse(_text(ext=3, extensions="[EXTENSIONS]\n1 1 1 0\nextension TRIGGERS 1\n1 1 1 0 10"))
    loop = "[EXTENSIONS]\n1 1 1 2\n2 1 1 1\nextension TRIGGERS 1\n1 1 1 0 10"
    with pytest.raises(ValueError, match="loops"):
        _parse(_text(ext=1, extensions=loop))
    rot = "[EXTENSIONS]\n1 1 1 0\nextension ROTATIONS 1\n1 1 1 0 0"
    with pytest.raises(ValueError, match="unit norm"):
        _parse(_text(ext=1, extensions=rot))


def test_adc_ppm_equals_its_frequency_and_demodulates_the_spin():
    """v1.5 ADC freqPPM is applied: -3.45 ppm at 3 T = -3.45e-6 gamma_bar 3 T in Hz; a spin at
    the ADC's offset (the engine's +f) is demodulated to a constant phase."""
    f = -3.45e-6 * GAMMA_1H_HZ * 3.0
    a = sequence_arrays(_parse(_text(ppm=-3.45)))
    b = sequence_arrays(_parse(_text(freq=repr(f))))
    np.testing.assert_allclose(a.adc_phase, b.adc_phase, atol=1e-12)
    assert np.ptp(np.diff(a.adc_phase)) < 1e-12 and abs(np.diff(a.adc_phase)[0]) > 0.01
    seq = mri.pulseq_to_sequence(_parse(_text(freq=400)))
    spins = mri.Spins(jnp.zeros((2, 3)), 1e3, 1e3, M0=1.0, off_resonance=jnp.array([400.0, -400]))
    res = mri.simulate(
        seq.rf,
        seq.gradient * 0,
        seq.dt,
        spins,
        adc=np.asarray(seq.adc),
        coils=jnp.eye(2, dtype=complex),
    )
    sig = np.asarray(res.signal) * np.exp(-1j * np.asarray(seq.adc_phase))
    assert np.ptp(np.unwrap(np.angle(sig[0]))) < 1e-6  # the +400 Hz spin: constant phase
    assert np.ptp(np.unwrap(np.angle(sig[1]))) > 0.4  # its mirror keeps turning


@pytest.mark.parametrize(
    "time_id,first,last,area", [(0, 0, 0, 1.5), (0, 1000, 1000, 2.0), (-1, 0, 0, 1.0)]
)
def test_arbitrary_gradient_first_last_interpolated(time_id, first, last, area):
    """Samples [1, 1] x 1000 Hz/m linear between first (t = 0) and last (shape end), both in
    Hz/m, as pypulseq: regular raster r (samples at r/2, 3r/2, end 2r): area 1.5 r with
    first = last = 0, 2 r with first = last = 1000 Hz/m;
    half raster (samples at r/2, r, end 3r/2): area 1.0 r. (Trapezoid-rule areas.)"""
    grad = f"[GRADIENTS]\n1 1000 {first} {last} 2 {time_id} 0"
    text = _text().replace("[TRAP]\n1 1000 100 800 100 0", grad)
    text = text.replace("1 10 10000 100", "1 1 10000 0") + "shape_id 2\nnum_samples 2\n1\n1\n"
    if time_id == -1:  # odd length required: samples [1, 1, 1] at r/2, r, 3r/2, end 2r
        text = text.replace("num_samples 2\n1\n1\n", "num_samples 3\n1\n1\n1\n")
        area = 1.5
    a = sequence_arrays(_parse(text))
    assert np.sum(a.gradient[:, 0] * a.dt) == pytest.approx(1000 * area * 1e-5, rel=1e-12)


def test_adc_phase_shape_applied():
    """v1.5 ADC phase_id: per-sample receiver phase [rad] (pypulseq's phase_modulation), which
    enters the engine negated like every receiver phase (mirror frame)."""
    text = _text().replace("1 10 10000 100 0 0 0 0 0", "1 10 10000 100 0 0 0 0 2")
    ramp = 0.1 * np.arange(1, 11) ** 2  # stored uncompressed (10 values for 10 samples)
    text += "shape_id 2\nnum_samples 10\n" + "\n".join(map(str, ramp.tolist())) + "\n"
    a = sequence_arrays(_parse(text))
    np.testing.assert_allclose(a.adc_phase, -ramp, atol=1e-12)


def test_signature_md5_checked(tmp_path):
    """A Pulseq-signed file reads; one changed character is a mismatch naming the Hash line;
    check_signature=False reads it anyway."""
    body = _text()
    signed = body + "\n[SIGNATURE]\nType md5\nHash " + hashlib.md5(body.encode()).hexdigest()
    assert _parse(signed).signature == hashlib.md5(body.encode()).hexdigest()
    bad = signed.replace("1 2500 1", "1 2600 1")
    n_line = bad.count("\n") + 1
    with pytest.raises(ValueError, match=rf"t\.seq:{n_line}: md5 signature mismatch"):
        _parse(bad)
    assert _parse(bad, check_signature=False).rf[1]["amp"] == 2600
    p = tmp_path / "bom.seq"
    p.write_bytes(b"\xef\xbb\xbf" + signed.encode())
    assert len(mri.read_pulseq(p).adc) == 10  # a UTF-8 BOM is accepted


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(count="1e9"), "run-length count"),  # would expand to 1e9 samples
        (dict(count="-3"), "run-length count"),
        (dict(num="1e9"), "exceed the limit"),  # ADC of 1e9 samples
        (dict(num="0"), "number of samples"),
        (dict(graster="0"), "GradientRasterTime"),
        (dict(graster="-1e-05"), "GradientRasterTime"),
        (dict(rf_amp="1e300", count="1e300"), "not finite|run-length"),
        (dict(rf_amp="1e308", mag0=10), "not finite"),  # amplitude x shape = inf
        (dict(ext="99999999999999999999"), "integer"),
        (dict(ppm="1e308"), "not finite"),  # ppm -> Hz overflows to inf
    ],
)
def test_hostile_values_rejected_before_allocation(kw, match):
    text = _text(**kw)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=rf"t\.seq:\d+: .*({match})"):
        sequence_arrays(_parse(text))
    assert time.perf_counter() - t0 < 1.0  # nothing of the declared size was built


def test_inf_rf_after_decoding_and_time_shape_rules():
    """Shapes that decode to inf, RF time id -1, half-raster gradients of even length."""
    inf_shape = _text().replace("1\n0\n0\n97\n", "1e308\n1e308\n1e308\n1e308\n" + "0\n" * 96)
    with pytest.raises(ValueError, match="non-finite|not finite"):
        _parse(inf_shape)
    with pytest.raises(ValueError, match=r"t\.seq:\d+: time"):
        _parse(_text().replace("1 2500 1 0 0 50", "1 2500 1 0 -1 50"))
    grad = _text().replace("[TRAP]\n1 1000 100 800 100 0", "[GRADIENTS]\n1 1000 0 0 1 -1 0")
    with pytest.raises(ValueError, match="odd length"):
        _parse(grad)


def test_timing_off_the_raster_names_line_and_raster():
    """As pypulseq's check_timing: an ADC delay of 100.5 us is off the 1 us RF raster, a
    trapezoid rise of 105 us off the 10 us gradient raster; check_raster=False reads them."""
    text = _text().replace("1 10 10000 100", "1 10 10000 100.5")
    with pytest.raises(ValueError, match=r"t\.seq:\d+: ADC delay 100.5 us .*RadiofrequencyRaster"):
        _parse(text)
    assert _parse(text, check_raster=False).adc[1]["delay"] == pytest.approx(100.5e-6)
    with pytest.raises(ValueError, match=r"t\.seq:\d+: trapezoid rise 105 us .*GradientRaster"):
        _parse(_text().replace("1 1000 100 800 100 0", "1 1000 105 795 100 0"))


def test_long_time_shaped_rf_bounded_before_allocation():
    """A block pulse (time shape [0, 1e9] RF rasters = 1000 s) with a frequency offset would
    be cut into 1e9 raster steps: rejected before allocation."""
    text = _text().replace("1 2500 1 0 0 50 0 0 0 0 0 e", "1 1 1 0 3 50 0 0 0 10 0 e")
    text = text.replace("1 10 1 0 0 0 0 0", "1 100000000 1 0 0 0 0 0")
    text += "shape_id 3\nnum_samples 2\n0\n1000000000\n"
    text = text.replace("num_samples 100\n1\n0\n0\n97\n", "num_samples 2\n1\n1\n")
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"t\.seq:\d+: time-shaped RF spans more than"):
        sequence_arrays(_parse(text))
    assert time.perf_counter() - t0 < 1.0


def test_step_bound_and_block_duration_bound():
    with pytest.raises(ValueError, match=r"t\.seq:\d+: .*more than 5 steps"):
        sequence_arrays(_parse(_text()), max_steps=5)
    # the same block repeated: counted every time it is played, not once
    text = _text().replace("2 100 0 1 0 0 1 0", "2 100 0 1 0 0 1 0\n3 100 0 1 0 0 1 0")
    n_one = len(sequence_arrays(_parse(_text())).dt)
    n_two = len(sequence_arrays(_parse(text)).dt)
    with pytest.raises(ValueError, match=r"t\.seq:14: .*more than"):
        sequence_arrays(_parse(text), max_steps=n_two - 1)
    assert n_two > n_one
    with pytest.raises(ValueError, match=r"t\.seq:\d+: block duration exceeds"):
        _parse(_text().replace("2 100 0 1", "2 1e12 0 1"))


def test_adc_times_exact_for_float32_steps():
    """10 s of float32 10 us steps: ADC times = the exact sum of the float32 values (math.fsum),
    not a float32 running sum (which drifts by microseconds)."""
    n = 1_000_000
    dt = jnp.full(n, 1e-5, dtype=jnp.float32)
    seq = mri.Sequence(jnp.zeros(n, jnp.complex64), jnp.zeros((n, 3), jnp.float32), dt,
                       jnp.zeros(2, jnp.float32), (n // 2 - 1, n - 1))  # fmt: skip
    exact = math.fsum([float(np.float32(1e-5))] * n)
    t = seq.adc_times()
    assert t.dtype == np.float64
    assert abs(t[1] - exact) < 1e-12 and abs(t[0] - exact / 2) < 1e-12


@pytest.mark.slow
def test_fuzz_reader_only_value_errors(tmp_path_factory):
    """10^4 seeded mutations of the test files and a pypulseq spin echo: every case reads
    or raises ValueError naming the file; zero foreign exceptions (parse + step grid)."""
    seeds = [p.read_bytes() for p in sorted(DATA.glob("*.seq"))]
    seeds.append(corpus(tmp_path_factory)["se_block_v15"].read_bytes())
    ok, rejected, foreign = fuzz(seeds, 10_000, seed=2026)
    assert not foreign, [repr(e) for _, e in foreign[:5]]
    assert ok + rejected == 10_000 and ok > 1000 and rejected > 1000


def test_check_case_flags_foreign_exceptions():
    """The fuzz oracle itself: a clean rejection and a read are not foreign."""
    assert check_case(b"garbage") == "rejected"
    assert check_case(_text().encode()) == "read"
