r"""Pulseq events -> waveforms on a block's local time axis (times in s from the block start).

Conventions are those of pypulseq and MATLAB Pulseq (file format v1.4 and v1.5):

* RF: sample i of a shape on the RF raster ``r`` lies at ``(i + 1/2) r`` and is held over
  ``[i r, (i + 1) r)``; with a time shape the samples lie at ``t_i = time_i r`` and the RF is
  linear between them (a block pulse ``[0, d]`` lasts exactly ``d``). The scanner's complex
  RF is ``a m_i exp(i 2 pi p_i) exp(i (phi + 2 pi f t))`` with ``t`` from the *shape start* in
  every version, ``f = freq + freq_ppm 1e-6 gamma_bar B0``, ``phi = phase + phase_ppm 1e-6
  gamma_bar B0``.
* Gradients: a trapezoid is linear between its corners; an arbitrary gradient on the regular
  raster has its samples at ``(i + 1/2) r_g``, on the half raster (time id -1, pypulseq's
  ``oversampling=True``) at ``(i + 1) r_g / 2``; both are linear between the samples and
  ``first`` (at 0) / ``last`` (at the shape end); an extended trapezoid (time shape) is
  linear between its points.
* ADC: sample k at ``delay + (k + 1/2) dwell``, demodulated by ``exp(-i(phi + 2 pi f
  (t - t_start) + p_k))`` in the scanner's frame (``p_k``: v1.5 phase shape, rad).

The scanner's frame is right-handed (a spin at offset ``f > 0`` turns as ``exp(+i 2 pi f
t)``); the engine's is the physical left-handed one (``exp(-i 2 pi f t)``, see ``_bloch``).
The two are mirror images (``M_y -> -M_y``), so every complex RF value enters the engine
conjugated and every receiver phase negated: an RF pulse at ``+f`` then excites the spins at
``+f`` (the slice at ``+z`` for ``f = gamma_bar G z``) in both.
"""

from __future__ import annotations

import numpy as np

from ..constants import GAMMA_1H_HZ
from ._pulseq_checks import MAX_SAMPLES

PYPULSEQ_B0 = 1.5  # pypulseq's default B0 [T], used for its v1.4 fat-sat detection rule
PYPULSEQ_GAMMA = 42.576e6  # pypulseq's default gamma_bar [Hz/T] for that rule


def _ppm(pf, value, B0):
    return 1e-6 * value * GAMMA_1H_HZ * B0


def rf_signal(pf, ev, B0):
    """The RF event in the scanner's frame: knot times ``t`` [s] from the shape start, the
    baseband ``a m exp(i (2 pi p + phi))`` [Hz] at them, the frequency ``f`` [Hz], the shape
    duration [s] and whether ``t`` are sample centres on the raster (else a time shape).
    The scanner's RF at ``t`` is ``baseband exp(i 2 pi f t)``."""
    ras = pf.raster("RadiofrequencyRasterTime")
    mag = pf.shapes[ev["mag"]]
    ph = pf.shapes[ev["phase_shape"]] if ev["phase_shape"] else np.zeros_like(mag)
    if ev["time"] > 0:
        t = pf.shapes[ev["time"]] * ras
        dur, regular = float(t[-1]), False
    else:
        t = (np.arange(len(mag)) + 0.5) * ras
        dur, regular = len(mag) * ras, True
    freq = ev["freq"] + _ppm(pf, ev["freq_ppm"], B0)
    phase = ev["phase"] + _ppm(pf, ev["phase_ppm"], B0)
    return t, ev["amp"] * mag * np.exp(1j * (2 * np.pi * ph + phase)), freq, dur, regular


def rf_piece(pf, ev, B0):
    """RF of one event as piecewise-constant intervals in the engine's frame.

    Returns:
        (edges [m + 1] s from the block start, values [m] complex Hz (engine frame), centre s
        from the block start, end s).
    """
    ras = pf.raster("RadiofrequencyRasterTime")
    t, base, freq, dur, regular = rf_signal(pf, ev, B0)
    if regular:
        edges, mid, values = np.arange(len(t) + 1) * ras, t, base
    else:
        # linear between the knots; intervals cut on the RF raster wherever the RF varies
        cuts = [t]
        varies = (np.diff(t) > 0) & ((base[1:] != base[:-1]) | (freq != 0))
        if np.sum(np.diff(t)[varies]) / ras > MAX_SAMPLES:
            raise ValueError(
                f"{pf.path}:{ev['line']}: time-shaped RF spans more than {MAX_SAMPLES} rasters"
            )
        for a, b in zip(t[:-1][varies], t[1:][varies], strict=True):
            cuts.append(np.arange(np.ceil(a / ras), np.floor(b / ras) + 1) * ras)
        edges = np.unique(np.concatenate(cuts))
        mid = 0.5 * (edges[1:] + edges[:-1])
        values = np.interp(mid, t, base.real) + 1j * np.interp(mid, t, base.imag)
    values = values * np.exp(2j * np.pi * freq * mid)
    centre = ev["center"] if ev["center"] is not None else pypulseq_rf_centre(t, base)
    d = ev["delay"]
    return d + edges, np.conj(values), d + centre, d + dur


def pypulseq_rf_centre(t, sig):
    """pypulseq's ``calc_rf_center`` without a stored centre: the middle of the samples
    within 1e-5 of the peak magnitude (times from the shape start) [s]."""
    a = np.abs(sig)
    peak = np.flatnonzero(a >= a.max() * 0.99999)
    return 0.5 * (t[peak[0]] + t[peak[-1]])


def rf_kind(pf, ev, B0):
    """ "excitation", "refocusing" or None (inversion, saturation, ...) as pypulseq's
    ``calculate_kspace`` sees the pulse: v1.5 from the file's use letter (undefined counts as
    excitation); older files by pypulseq's ``detect_rf_use`` rule (flip < 90.01 deg:
    excitation; else saturation for a fat-sat-like pulse, else refocusing)."""
    use = ev["use"]
    if pf.version[:2] < (1, 5):
        t, base, freq, dur, _ = rf_signal(pf, ev, B0)
        sig = base * np.exp(2j * np.pi * freq * t)
        flip_deg = abs(np.sum(sig[:-1] * np.diff(t))) * 360
        ppm = 1e6 * ev["freq"] / (pf.B0 or PYPULSEQ_B0) / PYPULSEQ_GAMMA
        fat_sat = dur > 6e-3 and -3.5 <= ppm <= -3.4
        use = "e" if flip_deg < 90.01 else ("s" if fat_sat else "r")
    return {"e": "excitation", "u": "excitation", "r": "refocusing"}.get(use)


def gradient_knots(pf, ev, first, last):
    """Knot times [s] from the block start and amplitudes [Hz/m] of an arbitrary or
    extended-trapezoid gradient (linear between knots)."""
    ras = pf.raster("GradientRasterTime")
    w = ev["amp"] * pf.shapes[ev["shape"]]
    n = len(w)
    if ev["time"] > 0:
        return ev["delay"] + pf.shapes[ev["time"]] * ras, w
    if ev["time"] == -1:
        t = np.arange(n + 2) * (0.5 * ras)
    else:
        t = np.concatenate([[0.0], (np.arange(n) + 0.5) * ras, [n * ras]])
    return ev["delay"] + t, np.concatenate([[first], w, [last]])


def trapezoid_knots(ev):
    """Corner times [s] from the block start and amplitudes [Hz/m] of a trapezoid."""
    t = ev["delay"] + np.cumsum([0.0, ev["rise"], ev["flat"], ev["fall"]])
    return t, ev["amp"] * np.array([0.0, 1.0, 1.0, 0.0])


def v14_first_last(pf, block_duration):
    """``{gradient id: (first, last)}`` of a v1.3/1.4 file, which does not store them:
    as pypulseq's reader, ``first`` continues the previous block's gradient on the same
    channel if that ended at its block's end (else 0) and ``last`` extrapolates half a raster
    (regular raster) or is the final point (time shape); set at each event's first use."""
    out = {}
    prev = [0.0, 0.0, 0.0]
    ras = pf.raster("GradientRasterTime")
    for lineno, ids in pf.blocks:
        for j, gid in enumerate(ids[3:6]):
            if gid not in pf.gradients:
                prev[j] = 0.0
                continue
            ev = pf.gradients[gid]
            w = ev["amp"] * pf.shapes[ev["shape"]]
            if ev["delay"] > 0:
                prev[j] = 0.0
            if ev["time"] != 0:
                last = w[-1]
                end = ev["delay"] + (pf.shapes[ev["time"]][-1] * ras if ev["time"] > 0 else 0.0)
            else:
                last = 0.5 * (3 * w[-1] - w[-2]) if len(w) > 1 else w[-1]
                end = ev["delay"] + len(w) * ras
            out.setdefault(gid, (prev[j], last))
            prev[j] = out[gid][1] if end + 1e-12 >= block_duration(lineno, ids) else 0.0
    return out


def adc_samples(pf, ev, B0):
    """ADC sample times [s] from the block start and the engine's receiver phases [rad]."""
    k = np.arange(ev["num"])
    t = ev["delay"] + (k + 0.5) * ev["dwell"]
    freq = ev["freq"] + _ppm(pf, ev["freq_ppm"], B0)
    phase = ev["phase"] + _ppm(pf, ev["phase_ppm"], B0)
    scanner = phase + 2 * np.pi * freq * (t - ev["delay"])
    if ev["phase_shape"]:
        scanner = scanner + pf.shapes[ev["phase_shape"]]
    return t, -scanner
