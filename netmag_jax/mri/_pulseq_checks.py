r"""Consistency checks of a parsed Pulseq file, run once all sections are read.

Every event a block names is defined; every shape an event names is defined and has the
right length; time shapes are non-decreasing; decoded RF and gradient amplitudes are finite;
RF uses are Pulseq's letters; block durations lie within ``MAX_TIME``; event timing is on
the file's rasters (``check_rasters``, optional). Each failure is a
``ValueError`` naming the file and the line of the offending event or block.
"""

from __future__ import annotations

import numpy as np

from ._pulseq_ext import check_extensions

MAX_SAMPLES = 1 << 24  # largest shape / ADC the reader accepts (16.8 M samples)
MAX_TIME = 1e5  # largest time [s] of any event or block (about a day)
MAX_RASTER = 1e-2  # largest raster time [s] the reader accepts
RF_USES = "erispou"  # excitation refocusing inversion saturation preparation other undefined


def _check_blocks(pf, src):
    block_raster = pf.raster("BlockDurationRaster")
    for lineno, b in pf.blocks:
        _, dur, r, gx, gy, gz, a, _ = b
        if r and r not in pf.rf:
            raise src.error(lineno, f"block refers to undefined RF event {r}")
        for g in (gx, gy, gz):
            if g and g not in pf.gradients and g not in pf.trap:
                raise src.error(lineno, f"block refers to undefined gradient event {g}")
        if a and a not in pf.adc:
            raise src.error(lineno, f"block refers to undefined ADC event {a}")
        if pf.version[:2] < (1, 4):
            if dur and dur not in pf.delays:
                raise src.error(lineno, f"block refers to undefined delay {dur}")
        elif dur * block_raster > MAX_TIME:
            raise src.error(lineno, f"block duration exceeds {MAX_TIME:g} s")


def _check_time_shape(pf, src, ev, n, raster):
    tid = ev["time"]
    if tid > 0:
        t = pf.shapes[tid]
        if len(t) != n:
            raise src.error(ev["line"], f"time shape {tid} has {len(t)} samples, expected {n}")
        if np.any(np.diff(t) < 0) or t[0] < 0 or t[-1] * raster > MAX_TIME:
            raise src.error(
                ev["line"], f"time shape {tid} must be non-negative, non-decreasing, bounded"
            )


def _check_rf(pf, src):
    for ev in pf.rf.values():
        if ev["mag"] == 0:
            raise src.error(ev["line"], "RF event needs a magnitude shape")
        mag = pf.shapes[ev["mag"]]
        if ev["phase_shape"] and len(pf.shapes[ev["phase_shape"]]) != len(mag):
            raise src.error(ev["line"], "RF magnitude and phase shapes differ in length")
        _check_time_shape(pf, src, ev, len(mag), pf.raster("RadiofrequencyRasterTime"))
        with np.errstate(over="ignore"):
            peak = ev["amp"] * np.max(np.abs(mag))
        if not np.isfinite(peak):
            raise src.error(ev["line"], "RF amplitude times its shape is not finite")
        use = ev["use"]
        if len(use) != 1 or use not in RF_USES:
            raise src.error(ev["line"], f"RF use must be one of the letters {RF_USES}, got {use!r}")


def _check_gradients(pf, src):
    for ev in pf.gradients.values():
        if ev["shape"] == 0:
            raise src.error(ev["line"], "arbitrary gradient needs a shape")
        g = pf.shapes[ev["shape"]]
        if ev["time"] == -1 and len(g) % 2 != 1:
            raise src.error(ev["line"], "half-raster gradient (time id -1) needs an odd length")
        if ev["time"] > 0 and len(g) < 2:
            raise src.error(ev["line"], "time-shaped gradient needs at least 2 samples")
        _check_time_shape(pf, src, ev, len(g), pf.raster("GradientRasterTime"))
        with np.errstate(over="ignore"):
            peak = ev["amp"] * np.max(np.abs(g))
        if not np.isfinite(peak):
            raise src.error(ev["line"], "gradient amplitude times its shape is not finite")


def _check_raster(src, ev, what, fields, raster, raster_name):
    for field in fields:
        t = ev[field]
        if abs(t / raster - round(t / raster)) > 1e-6:
            raise src.error(
                ev["line"],
                f"{what} {field} {t * 1e6:.4g} us is not on the {raster_name} "
                f"({raster * 1e6:.4g} us); pass check_raster=False to read it anyway",
            )


def check_rasters(pf, src):
    """Event timing on the rasters, as pypulseq's ``check_timing``: RF and ADC delays on the
    RF raster, ADC dwell on the ADC raster, gradient delays and ramps on the gradient raster."""
    rf_r = pf.raster("RadiofrequencyRasterTime")
    g_r = pf.raster("GradientRasterTime")
    for ev in pf.rf.values():
        _check_raster(src, ev, "RF", ("delay",), rf_r, "RadiofrequencyRasterTime")
    for ev in pf.adc.values():
        _check_raster(src, ev, "ADC", ("delay",), rf_r, "RadiofrequencyRasterTime")
        _check_raster(src, ev, "ADC", ("dwell",), pf.raster("AdcRasterTime"), "AdcRasterTime")
    for ev in pf.gradients.values():
        _check_raster(src, ev, "gradient", ("delay",), g_r, "GradientRasterTime")
    for ev in pf.trap.values():
        fields = ("delay", "rise", "flat", "fall")
        _check_raster(src, ev, "trapezoid", fields, g_r, "GradientRasterTime")


def check_tables(pf, src, check_raster=True):
    """Run every check on the parsed file ``pf`` (``src`` names the lines in errors)."""
    for table in (pf.rf, pf.gradients, pf.adc):
        for ev in table.values():
            for key in ("mag", "phase_shape", "shape", "time"):
                sid = ev.get(key, 0)
                if sid and sid > 0 and sid not in pf.shapes:
                    raise src.error(ev["line"], f"refers to undefined shape {sid}")
    for ev in pf.adc.values():
        if ev["phase_shape"] and len(pf.shapes[ev["phase_shape"]]) != ev["num"]:
            raise src.error(ev["line"], "ADC phase shape length differs from its sample count")
    _check_blocks(pf, src)
    _check_rf(pf, src)
    _check_gradients(pf, src)
    check_extensions(pf.extensions, src, pf.blocks)
    if check_raster:
        check_rasters(pf, src)
