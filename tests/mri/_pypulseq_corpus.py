"""Pulseq test corpus written by pypulseq itself, like pypulseq's own example scripts.

Each ``make_*`` function builds a small ``pypulseq.Sequence`` (matrix 16, few slices, short
TR) of one sequence type; :func:`write_corpus` writes every one as Pulseq v1.5 and, where
pypulseq's v1.4.1 writer can express it, as v1.4.1. Nothing here is committed as a file:
the tests generate the corpus into a temporary folder once per session.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pypulseq as pp

FOV, N, THK = 0.2, 16, 5e-3


def _system(**kw):
    opts = dict(
        max_grad=28,
        grad_unit="mT/m",
        max_slew=150,
        slew_unit="T/m/s",
        rf_ringdown_time=20e-6,
        rf_dead_time=100e-6,
        adc_dead_time=10e-6,
    )
    opts.update(kw)
    return pp.Opts(**opts)


def _new(system):
    seq = pp.Sequence(system)
    seq.set_definition("FOV", [FOV, FOV, THK])
    return seq


def make_gre(slice_offset=0.0, labels=False):
    """Spoiled 2D GRE (write_gre.py): sinc excitation, RF spoiling, rewinders, spoilers."""
    system = _system()
    seq = _new(system)
    rf, gz, gzr = pp.make_sinc_pulse(
        flip_angle=15 * math.pi / 180,
        duration=2e-3,
        slice_thickness=THK,
        apodization=0.5,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="excitation",
    )
    rf.freq_offset = gz.amplitude * slice_offset
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=2.56e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=-gx.area / 2, duration=1e-3, system=system)
    gzs = pp.make_trapezoid(channel="z", area=4 / THK, system=system)
    gxs = pp.make_trapezoid(channel="x", area=2 * N * dk, system=system)
    phase = 0.0
    for i in range(N):
        phase_inc = 117.0 * (i + 1)
        phase = (phase + phase_inc) % 360
        rf.phase_offset = phase * math.pi / 180
        adc.phase_offset = rf.phase_offset
        gy = pp.make_trapezoid(channel="y", area=(i - N / 2) * dk, duration=1e-3, system=system)
        gyr = pp.make_trapezoid(channel="y", area=-(i - N / 2) * dk, duration=1e-3, system=system)
        seq.add_block(rf, gz)
        seq.add_block(gxp, gy, gzr)
        if labels:
            seq.add_block(gx, adc, pp.make_label(type="SET", label="LIN", value=i))
        else:
            seq.add_block(gx, adc)
        seq.add_block(gxs, gyr, gzs)
    return seq


def make_se_block():
    """Spin echo with block pulses (90_x, 180_y) and crushers, one line of k-space per TR."""
    system = _system()
    seq = _new(system)
    rf90 = pp.make_block_pulse(math.pi / 2, duration=200e-6, system=system, use="excitation")
    rf180 = pp.make_block_pulse(
        math.pi, duration=400e-6, phase_offset=math.pi / 2, system=system, use="refocusing"
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=2.56e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=gx.area / 2, duration=1e-3, system=system)
    crush = pp.make_trapezoid(channel="z", area=4 / THK, system=system)
    for i in range(4):
        gy = pp.make_trapezoid(channel="y", area=(i - 2) * 4 * dk, duration=1e-3, system=system)
        seq.add_block(rf90)
        seq.add_block(gxp, gy)
        seq.add_block(pp.make_delay(2e-3))
        seq.add_block(crush)
        seq.add_block(rf180)
        seq.add_block(crush)
        seq.add_block(pp.make_delay(2e-3))
        seq.add_block(gx, adc)
        seq.add_block(pp.make_delay(5e-3))
    return seq


def _tse(n_echo, n_lines):
    """Turbo spin echo train (write_tse.py style): sinc 90/180 pulses with extended crushers."""
    system = _system()
    seq = _new(system)
    rf90, gz90, _ = pp.make_sinc_pulse(
        math.pi / 2,
        duration=2e-3,
        slice_thickness=THK,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="excitation",
    )
    rf180, gz180, _ = pp.make_sinc_pulse(
        math.pi,
        duration=2e-3,
        slice_thickness=THK,
        phase_offset=math.pi / 2,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="refocusing",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=1.28e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=gx.area / 2, duration=1e-3, system=system)
    gzr = pp.make_trapezoid(channel="z", area=-gz90.area / 2, duration=1e-3, system=system)
    crush = 1.5 * gz180.amplitude
    gcl = pp.make_extended_trapezoid(
        channel="z",
        times=np.array([0, 300e-6, 500e-6, 500e-6 + gz180.rise_time]),
        amplitudes=np.array([0, crush, crush, gz180.amplitude]),
        system=system,
    )
    gcr = pp.make_extended_trapezoid(
        channel="z",
        times=np.array([0, gz180.fall_time, gz180.fall_time + 200e-6, gz180.fall_time + 500e-6]),
        amplitudes=np.array([gz180.amplitude, crush, crush, 0]),
        system=system,
    )
    rf180.delay = system.rf_dead_time
    t_flat = rf180.delay + rf180.shape_dur + system.rf_ringdown_time
    gz_flat = pp.make_extended_trapezoid(
        channel="z",
        times=np.array([0, math.ceil(t_flat / 10e-6 - 1e-9) * 10e-6]),
        amplitudes=np.array([gz180.amplitude, gz180.amplitude]),
        system=system,
    )
    line = 0
    for _ in range(n_lines // n_echo):
        seq.add_block(rf90, gz90)
        seq.add_block(gxp, gzr)
        for _e in range(n_echo):
            ky = (line - n_lines // 2) * (N // n_lines) * dk
            gy = pp.make_trapezoid(channel="y", area=ky, duration=0.8e-3, system=system)
            gyr = pp.make_trapezoid(channel="y", area=-ky, duration=0.8e-3, system=system)
            seq.add_block(gcl)
            seq.add_block(rf180, gz_flat)
            seq.add_block(gcr)
            seq.add_block(gy)
            seq.add_block(gx, adc)
            seq.add_block(gyr)
            line += 1
        seq.add_block(pp.make_delay(10e-3))
    return seq


def make_tse():
    """TSE: 4 echoes per excitation, 8 lines."""
    return _tse(4, 8)


def make_haste():
    """HASTE-like single-shot TSE: all 8 lines in one echo train."""
    return _tse(8, 8)


def make_epi(labels=False, spin_echo=False):
    """Single-shot 2D EPI (write_epi.py), blips on y, optional labels / 180 refocusing pulse."""
    system = _system()
    seq = _new(system)
    rf, gz, gzr = pp.make_sinc_pulse(
        math.pi / 2,
        duration=2e-3,
        slice_thickness=THK,
        apodization=0.5,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="excitation",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=N * 20e-6, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    pre_time = 8e-4
    gxp = pp.make_trapezoid(channel="x", area=-gx.area / 2, duration=pre_time, system=system)
    gyp = pp.make_trapezoid(channel="y", area=-N / 2 * dk, duration=pre_time, system=system)
    dur = math.ceil(2 * math.sqrt(dk / system.max_slew) / 10e-6) * 10e-6
    gy = pp.make_trapezoid(channel="y", area=dk, duration=dur, system=system)
    seq.add_block(rf, gz)
    if spin_echo:
        rf180 = pp.make_block_pulse(
            math.pi, duration=500e-6, phase_offset=math.pi / 2, system=system, use="refocusing"
        )
        crush = pp.make_trapezoid(channel="z", area=4 / THK, system=system)
        seq.add_block(gxp, gzr)
        seq.add_block(crush)
        seq.add_block(rf180)
        seq.add_block(crush)
        seq.add_block(gyp)
        gxp_after = pp.make_trapezoid(
            channel="x", area=gx.area / 2, duration=pre_time, system=system
        )
        seq.add_block(gxp_after)
    else:
        seq.add_block(gxp, gyp, gzr)
    for i in range(N):
        ev = [gx, adc]
        if labels:
            ev.append(pp.make_label(type="SET", label="LIN", value=i))
            ev.append(pp.make_label(type="SET", label="REV", value=i % 2))
        seq.add_block(*ev)
        if i < N - 1:
            seq.add_block(gy)
        gx.amplitude = -gx.amplitude
    seq.add_block(pp.make_delay(1e-3))
    return seq


def make_bssfp():
    """Balanced SSFP (write_trufi.py): alternating-phase sinc pulses, fully balanced TR."""
    system = _system()
    seq = _new(system)
    rf, gz, _ = pp.make_sinc_pulse(
        math.pi / 3,
        duration=1e-3,
        slice_thickness=THK,
        apodization=0.5,
        time_bw_product=2,
        system=system,
        return_gz=True,
        use="excitation",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=0.64e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=-gx.area / 2, duration=0.5e-3, system=system)
    gzr = pp.make_trapezoid(channel="z", area=-gz.area / 2, duration=0.5e-3, system=system)
    for i in range(N):
        rf.phase_offset = math.pi * (i % 2)
        adc.phase_offset = rf.phase_offset
        gy = pp.make_trapezoid(channel="y", area=(i - N / 2) * dk, duration=0.5e-3, system=system)
        gyr = pp.make_trapezoid(channel="y", area=-(i - N / 2) * dk, duration=0.5e-3, system=system)
        seq.add_block(rf, gz)
        seq.add_block(gxp, gy, gzr)
        seq.add_block(gx, adc)
        seq.add_block(gxp, gyr, gzr)
    return seq


def make_mprage():
    """2D MPRAGE: adiabatic (hyperbolic secant) inversion, spoiler, then a GRE train."""
    system = _system()
    seq = _new(system)
    inv = pp.make_adiabatic_pulse("hypsec", duration=10.24e-3, dwell=1e-5, system=system)
    spoil = pp.make_trapezoid(channel="z", area=8 / THK, duration=2e-3, system=system)
    rf, gz, gzr = pp.make_sinc_pulse(
        8 * math.pi / 180,
        duration=1e-3,
        slice_thickness=THK,
        time_bw_product=2,
        system=system,
        return_gz=True,
        use="excitation",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=0.64e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=-gx.area / 2, duration=0.5e-3, system=system)
    gxs = pp.make_trapezoid(channel="x", area=2 * N * dk, system=system)
    seq.add_block(inv)
    seq.add_block(spoil)
    seq.add_block(pp.make_delay(20e-3))
    for i in range(N):
        gy = pp.make_trapezoid(channel="y", area=(i - N / 2) * dk, duration=0.5e-3, system=system)
        seq.add_block(rf, gz)
        seq.add_block(gxp, gy, gzr)
        seq.add_block(gx, adc)
        seq.add_block(gxs, pp.scale_grad(gy, -1))
    return seq


def make_radial():
    """Radial GRE (write_radial_gre.py): rotated readout trapezoids, 8 spokes."""
    system = _system()
    seq = _new(system)
    rf, gz, gzr = pp.make_sinc_pulse(
        10 * math.pi / 180,
        duration=1e-3,
        slice_thickness=THK,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="excitation",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N * dk, flat_time=1.28e-3, system=system)
    adc = pp.make_adc(num_samples=N, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gxp = pp.make_trapezoid(channel="x", area=-gx.area / 2, duration=0.6e-3, system=system)
    spoil = pp.make_trapezoid(channel="z", area=4 / THK, system=system)
    n_spokes = 8
    for i in range(n_spokes):
        phi = math.pi * i / n_spokes
        seq.add_block(rf, gz)
        seq.add_block(*pp.rotate(gxp, gzr, angle=phi, axis="z"))
        seq.add_block(*pp.rotate(gx, adc, angle=phi, axis="z"))
        seq.add_block(spoil)
    return seq


def make_spiral(oversampling=False):
    """Archimedean spiral readout from arbitrary gradients (optionally half-raster samples)."""
    system = _system()
    seq = _new(system)
    rf, gz, gzr = pp.make_sinc_pulse(
        math.pi / 2,
        duration=1e-3,
        slice_thickness=THK,
        time_bw_product=4,
        system=system,
        return_gz=True,
        use="excitation",
    )
    ras = system.grad_raster_time / (2 if oversampling else 1)
    n = 2 * 401 if oversampling else 401
    tt = np.arange(n) / (n - 1)
    kmax = N / (2 * FOV)
    k = kmax * tt**1.5 * np.exp(2j * math.pi * 3 * tt)
    g = np.diff(np.concatenate([[0], k])) / ras  # Hz/m, g[i] between k[i-1] and k[i]
    ramp = np.linspace(1, 0, 40 if oversampling else 20)[1:]
    # two final zeros: v1.4 files store no 'last' and readers extrapolate it from the
    # final two samples (pypulseq, MATLAB Pulseq), which then gives exactly 0
    gxw = np.concatenate([g.real, g.real[-1] * ramp, [0.0]])
    gyw = np.concatenate([g.imag, g.imag[-1] * ramp, [0.0]])
    if oversampling and len(gxw) % 2 == 0:
        gxw, gyw = np.append(gxw, 0.0), np.append(gyw, 0.0)
    gx = pp.make_arbitrary_grad("x", gxw, first=0, last=0, oversampling=oversampling, system=system)
    gy = pp.make_arbitrary_grad("y", gyw, first=0, last=0, oversampling=oversampling, system=system)
    adc = pp.make_adc(num_samples=100, dwell=10e-6, system=system)
    for i in range(2):
        seq.add_block(rf, gz)
        seq.add_block(gzr)
        rot = pp.rotate(gx, gy, adc, angle=math.pi * i, axis="z")
        seq.add_block(*rot)
        seq.add_block(pp.make_trapezoid(channel="z", area=4 / THK, system=system))
    return seq


def make_ute():
    """UTE (write_ute.py style): half sinc pulse, slice gradient ramp-down, centre-out readout."""
    system = _system()
    seq = _new(system)
    rf, gz, gzr = pp.make_sinc_pulse(
        10 * math.pi / 180,
        duration=1e-3,
        slice_thickness=THK,
        time_bw_product=4,
        center_pos=1.0,
        system=system,
        return_gz=True,
        use="excitation",
    )
    dk = 1 / FOV
    gx = pp.make_trapezoid(channel="x", flat_area=N / 2 * dk, flat_time=0.64e-3, system=system)
    adc = pp.make_adc(num_samples=N // 2, duration=gx.flat_time, delay=gx.rise_time, system=system)
    gz_ramp = pp.make_extended_trapezoid(
        channel="z",
        times=np.array([0, gz.fall_time]),
        amplitudes=np.array([gz.amplitude, 0]),
        system=system,
    )
    ras = system.grad_raster_time
    t_end = math.ceil((rf.delay + rf.shape_dur + system.rf_ringdown_time) / ras - 1e-9) * ras
    gz_flat = pp.make_extended_trapezoid(
        channel="z",
        times=np.array([0, gz.rise_time, t_end]),
        amplitudes=np.array([0, gz.amplitude, gz.amplitude]),
        system=system,
    )
    for i in range(4):
        phi = math.pi / 2 * i
        seq.add_block(rf, gz_flat)
        seq.add_block(gz_ramp, *pp.rotate(gx, adc, angle=phi, axis="z"))
        seq.add_block(pp.make_delay(3e-3))
    return seq


def make_fatsat_gre():
    """GRE with a Gaussian fat-saturation pulse at -3.45 ppm (B0 = 3 T) and a spoiler."""
    system = _system(B0=3.0)
    seq = _new(system)
    seq.set_definition("B0", 3.0)
    fs = pp.make_gauss_pulse(
        110 * math.pi / 180,
        duration=8e-3,
        bandwidth=abs(3.45e-6 * 3.0 * system.gamma) / 2,
        freq_ppm=-3.45,
        system=system,
        use="saturation",
    )
    spoil = pp.make_trapezoid(channel="z", area=8 / THK, system=system)
    rf = pp.make_block_pulse(math.pi / 2, duration=200e-6, system=system, use="excitation")
    adc = pp.make_adc(num_samples=8, dwell=50e-6, delay=200e-6, system=system)
    seq.add_block(fs)
    seq.add_block(spoil)
    seq.add_block(rf)
    seq.add_block(adc)
    return seq


CORPUS = {
    "gre": make_gre,
    "gre_offcentre": lambda: make_gre(slice_offset=0.01),
    "gre_labels": lambda: make_gre(labels=True),
    "se_block": make_se_block,
    "tse": make_tse,
    "haste": make_haste,
    "epi": make_epi,
    "epi_labels": lambda: make_epi(labels=True),
    "epi_se": lambda: make_epi(spin_echo=True),
    "bssfp": make_bssfp,
    "mprage": make_mprage,
    "radial": make_radial,
    "spiral": make_spiral,
    "spiral_os": lambda: make_spiral(oversampling=True),
    "ute": make_ute,
    "fatsat": make_fatsat_gre,
}


def write_corpus(folder) -> dict:
    """Write every corpus sequence into ``folder``; {"name_v15": path, "name_v141": path}.

    v1.4.1 copies are written for every sequence whose events v1.4.1 can express (the v1.4
    format has no RF use, ppm offsets or oversampled gradients).
    """
    folder = Path(folder)
    out = {}
    for name, make in CORPUS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seq = make()
            p = folder / f"{name}_v15.seq"
            seq.write(str(p), remove_duplicates=name != "spiral_os")
            out[f"{name}_v15"] = p
            if name not in ("spiral_os", "fatsat"):
                p = folder / f"{name}_v141.seq"
                seq.write(str(p), v141_compat=True)
                out[f"{name}_v141"] = p
    return out


_CACHE: dict = {}


def corpus(tmp_path_factory) -> dict:
    """The corpus written once per test session (``write_corpus`` into a session tmp dir)."""
    if "files" not in _CACHE:
        _CACHE["files"] = write_corpus(tmp_path_factory.mktemp("pypulseq_corpus"))
    return _CACHE["files"]


def read_with_pypulseq(path):
    """pypulseq's own reading of ``path`` (duplicates kept: pypulseq 1.5.0's
    ``remove_duplicates`` fails on half-raster gradients, time id -1)."""
    seq = pp.Sequence()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq.read(str(path), remove_duplicates=False)
    return seq
