r"""Pulseq ``.seq`` writer (format v1.5): any :class:`Sequence`, and designed pulses.

The engine's sequence is piecewise constant on arbitrary steps; a Pulseq file lives on
rasters (RF 1 us, gradients and block durations 10 us, ADC dwell 100 ns, ADC delay 1 us as
pypulseq writes it). The writer

- cuts the time axis into blocks on the 10 us raster: one per RF pulse (a run of non-zero
  B1), one per readout (a run of evenly spaced ADC samples, window ``delay + [0, n dwell]``;
  an RF and a readout that overlap share a block), and between them gradient blocks and
  delays (no gradient);
- resamples B1 onto the RF raster and each gradient axis onto the gradient raster by the
  average over each raster interval, so the RF area (flip) and the gradient moment of every
  interval are kept exactly; the gradient is written as an arbitrary gradient whose
  ``first``/``last`` equal its first/last samples (the area is ``dt sum g`` whether a reader
  holds the samples or interpolates them linearly);
- writes the RF as magnitude and phase shapes (phase in turns, as pypulseq), the ADC phase
  from ``adc_phase``, ``[DEFINITIONS]`` (rasters, ``TotalDuration``, optional FOV and name),
  and the ``[SIGNATURE]`` md5 of the text above it, as pypulseq does.

What moved is reported (:class:`PulseqExport`): the relative L2 error of the resampled B1
and gradients (``||w_raster - w|| / ||w||`` over time) and the largest shift of an ADC
sample [s]. The file is written atomically (temporary file + ``os.replace``).
Unrepresentable input raises ``ValueError`` (two RF pulses or two readouts in one 10 us
block, unevenly spaced ADC samples, a receiver phase that changes within a readout).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from pathlib import Path

import numpy as np

from ..constants import GAMMA_1H, GAMMA_1H_HZ
from .._io import write_text
from ._mrd import readouts, rf_starts
from ._sequences import Sequence

RF_RASTER, GRAD_RASTER, ADC_RASTER = 1e-6, 1e-5, 1e-7
_BLOCK = GRAD_RASTER  # BlockDurationRaster


def compress_shape(w, quantum=1e-9):
    """Pulseq shape compression: derivative, then runs of equal values as v, v, count - 2.

    Args:
        w: shape samples, shape (n,); quantum: quantisation step of the cumulative sum.

    Returns:
        (num_samples, compressed values as a float array).
    """
    w = np.asarray(w, float).ravel()
    q = np.round(w / quantum)
    d = np.diff(np.concatenate([[0.0], q])) * quantum
    out = []
    i = 0
    while i < d.size:
        j = i
        while j + 1 < d.size and d[j + 1] == d[i]:
            j += 1
        run = j - i + 1
        if run >= 2:
            out += [d[i], d[i], float(run - 2)]
        else:
            out.append(d[i])
        i = j + 1
    return w.size, np.asarray(out)


@dataclasses.dataclass(frozen=True)
class PulseqExport:
    """What :func:`write_pulseq` wrote and what the rasters changed.

    Attributes:
        path: the file. md5: its signature. n_blocks: blocks written.
        rf_error: relative L2 error of the RF-raster B1 against the sequence's B1.
        gradient_error: the same for the gradients (all axes together; 0 without gradients).
        adc_shift: largest time shift of an ADC sample [s].
    """

    path: Path
    md5: str
    n_blocks: int
    rf_error: float
    gradient_error: float
    adc_shift: float


def _raster_average(t, values, t0, t1, raster):
    """Averages of a piecewise-constant waveform (edges ``t`` [m+1], ``values`` [m, ...]) over
    the raster intervals of [t0, t1] (t0, t1 on the raster)."""
    n = round((t1 - t0) / raster)
    edges = t0 + raster * np.arange(n + 1)
    cum = np.concatenate(
        [np.zeros((1,) + values.shape[1:]), np.cumsum(values * np.diff(t)[:, None], 0)]
    )
    area = np.stack([np.interp(edges, t, cum[:, j]) for j in range(values.shape[1])], -1)
    return np.diff(area, axis=0) / raster


def _l2_error(t, values, t0, raster, resampled):
    """Relative L2 distance between a piecewise-constant waveform and its raster version."""
    tr = t0 + raster * np.arange(len(resampled) + 1)
    cut = np.union1d(t[(t > tr[0]) & (t < tr[-1])], tr)
    mid = 0.5 * (cut[1:] + cut[:-1])
    i = np.searchsorted(t, mid, "right") - 1
    ok = (i >= 0) & (i < len(values))
    a = np.where(ok[:, None], values[np.clip(i, 0, len(values) - 1)], 0.0)
    b = resampled[np.clip(np.searchsorted(tr, mid, "right") - 1, 0, len(resampled) - 1)]
    w = np.diff(cut)[:, None]
    return float(np.sqrt(np.sum(np.abs(a - b) ** 2 * w))), float(
        np.sqrt(np.sum(np.abs(a) ** 2 * w))
    )


def _runs(mask):
    """(start, stop) step index ranges of the True runs of ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True))


def _events(seq, t):
    """Time windows [s] of the RF pulses and the readouts, snapped outward to the block
    raster and merged where they overlap: [(start, stop, rf (i0, i1) or None, adc or None)]."""
    rf = np.asarray(seq.rf)
    pulses = []
    for a, b in _runs(np.abs(rf) > 0):  # zero samples inside a pulse: one pulse
        if pulses and t[a] - t[pulses[-1][1]] < 2 * _BLOCK:
            pulses[-1] = (pulses[-1][0], b)
        else:
            pulses.append((a, b))
    events: list[tuple] = [(t[a], t[b], (a, b), None) for a, b in pulses]
    idx = np.asarray(seq.adc, int)
    if idx.size:
        times = t[idx + 1]
        starts, dwells = readouts(times, rf_starts(seq))
        bounds = list(starts) + [len(idx)]
        for (a, b), dwell in zip(zip(bounds[:-1], bounds[1:], strict=True), dwells, strict=True):
            dwell = dwell if b - a > 1 else float(t[idx[a] + 1] - t[idx[a]])
            if b - a > 2 and np.max(np.abs(np.diff(times[a:b]) - dwell)) > 1e-9:
                raise ValueError(f"ADC samples {a}..{b - 1} are not evenly spaced")
            w0 = times[a] - dwell / 2
            events.append((w0, w0 + (b - a) * dwell, None, (a, b, dwell)))
    snapped = sorted(
        (math.floor(s / _BLOCK + 1e-6) * _BLOCK, math.ceil(e / _BLOCK - 1e-6) * _BLOCK, r, d)
        for s, e, r, d in events
    )
    merged = []
    for s, e, r, d in snapped:
        if merged and s < merged[-1][1] - 1e-12:
            ps, pe, pr, pd = merged[-1]
            if (r is not None and pr is not None) or (d is not None and pd is not None):
                raise ValueError(
                    f"two RF pulses or two readouts within one {_BLOCK * 1e6:g} us block at "
                    f"t = {s:.6g} s: not representable on the Pulseq block raster"
                )
            merged[-1] = (ps, max(pe, e), pr if pr is not None else r, pd if pd is not None else d)
        else:
            merged.append((s, max(e, s + _BLOCK), r, d))
    return merged


class _Tables:
    """Event tables of the file being written (identical events and shapes are shared)."""

    def __init__(self):
        self.shapes: dict = {}
        self.events: dict = {"RF": {}, "GRADIENTS": {}, "ADC": {}}
        self.blocks: list = []
        self.sums = np.zeros(4)  # rf error^2, rf^2, gradient error^2, gradient^2 (x dt)
        self.adc_shift = 0.0

    def shape(self, w):
        n, comp = compress_shape(w)
        vals = comp if len(comp) < n else np.asarray(w, float)
        key = (n, tuple(float(f"{v:.9g}") for v in vals))
        return self.shapes.setdefault(key, len(self.shapes) + 1)

    def event(self, table, line):
        return self.events[table].setdefault(line, len(self.events[table]) + 1)

    def block(self, duration, rf=0, grads=(0, 0, 0), adc=0):
        ticks = round(duration / _BLOCK)
        self.blocks.append((ticks, rf, *grads, adc))


def _gradients(tab, t, g, t0, t1):
    """Arbitrary-gradient event ids (x, y, z) of [t0, t1] (``g`` in Hz/m)."""
    gr = _raster_average(t, g, t0, t1, GRAD_RASTER)
    err, ref = _l2_error(t, g, t0, GRAD_RASTER, gr) if t1 > t0 else (0.0, 0.0)
    tab.sums[2:] += [err**2, ref**2]
    ids = []
    for ax in range(3):
        w = gr[:, ax]
        amp = float(np.max(np.abs(w)))
        if amp == 0.0:
            ids.append(0)
            continue
        sid = tab.shape(w / amp)
        ids.append(tab.event("GRADIENTS", f"{amp:.12g} {w[0]:.12g} {w[-1]:.12g} {sid} 0 0"))
    return tuple(ids), gr


def _rf_event(tab, t, rf, steps, s, use):
    """RF event id of the pulse on steps [i0, i1) in the block starting at ``s``."""
    i0, i1 = steps
    r0 = math.floor(t[i0] / RF_RASTER + 1e-6) * RF_RASTER
    r1 = math.ceil(t[i1] / RF_RASTER - 1e-6) * RF_RASTER
    parts = np.stack([rf.real, rf.imag], -1)
    sel = slice(i0, i1)
    tt = t[i0 : i1 + 1]
    avg = _raster_average(tt, parts[sel], r0, r1, RF_RASTER)
    # Pulseq's frame is the mirror image of the engine's (see _pulseq_events): conjugate
    b1 = avg[:, 0] - 1j * avg[:, 1]
    err, ref = _l2_error(tt, parts[sel], r0, RF_RASTER, avg)
    tab.sums[:2] += [err**2, ref**2]
    peak = float(np.max(np.abs(b1)))
    mag = tab.shape(np.abs(b1) / peak)
    phase = tab.shape(np.where(np.abs(b1) > 0, np.mod(np.angle(b1) / (2 * np.pi), 1.0), 0.0))
    if use is None:
        flip = GAMMA_1H * abs(np.sum(b1)) * RF_RASTER
        use = "e" if flip <= math.radians(135) else "r"
    top = np.nonzero(np.abs(b1) >= peak * (1 - 1e-5))[0]  # the peak, or a plateau's middle
    center = 0.5 * (top[0] + top[-1] + 1) * RF_RASTER
    line = (
        f"{GAMMA_1H_HZ * peak:.12g} {mag} {phase} 0 {center * 1e6:.12g} "
        f"{round((r0 - s) / RF_RASTER)} 0 0 0 0 {use}"
    )
    return tab.event("RF", line)


def _adc_event(tab, times, phases, adc, s):
    """ADC event id of samples [a, b) with dwell ``dwell`` in the block starting at ``s``."""
    a, b, dwell = adc
    if np.ptp(phases[a:b]) > 1e-9:
        raise ValueError(
            f"the receiver phase changes within the readout of ADC samples {a}..{b - 1}"
        )
    if b - a == 1:  # one sample: a 2 us window centres it on the 1 us delay raster
        dwell = 2e-6
    # the dwell on the ADC raster (100 ns), the sample shift this costs is reported
    dwell_ns = max(1, round(dwell / ADC_RASTER)) * round(ADC_RASTER / 1e-9)
    delay_us = round((times[a] - dwell / 2 - s) / 1e-6)
    k = np.arange(b - a)
    played = s + delay_us * 1e-6 + (k + 0.5) * dwell_ns * 1e-9
    tab.adc_shift = max(tab.adc_shift, float(np.max(np.abs(played - times[a:b]))))
    # the receiver phase negated: Pulseq's frame is the engine's mirror image
    line = f"{b - a} {dwell_ns} {delay_us} 0 0 0 {-float(phases[a]):.12g} 0"
    return tab.event("ADC", line)


def _gap(tab, t, g, t0, t1):
    """Blocks of [t0, t1] without RF or ADC: delays where no gradient plays, else gradients."""
    if t1 <= t0 + 1e-12:
        return
    gr = _raster_average(t, g, t0, t1, GRAD_RASTER)
    on = np.any(gr != 0.0, axis=1)
    cuts = np.nonzero(np.diff(on.astype(int)))[0] + 1
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(on)], strict=True):
        s, e = t0 + a * GRAD_RASTER, t0 + b * GRAD_RASTER
        if on[a]:
            tab.block(e - s, grads=_gradients(tab, t, g, s, e)[0])
        else:
            tab.block(e - s)


_RF_USES = ("e", "r", "i", "s", "p", "o", "u")  # Pulseq v1.5 RF use letters


def _uses(rf_use, n):
    uses = [rf_use] * n if rf_use is None or isinstance(rf_use, str) else list(rf_use)
    if len(uses) != n:
        raise ValueError(f"rf_use must be one letter or one per RF pulse ({n}), got {len(uses)}")
    bad = [u for u in uses if u is not None and u not in _RF_USES]
    if bad:
        raise ValueError(f"rf_use letters must be among {_RF_USES}, got {bad[0]!r}")
    return uses


def _text(tab, definitions):
    """The file's text up to (without) the signature."""
    out = ["# Pulseq sequence file", "# Created by netmag_jax", "", "[VERSION]", "major 1"]
    out += ["minor 5", "revision 0", "", "[DEFINITIONS]"]
    for key in sorted(definitions):
        v = definitions[key]
        vals = v if isinstance(v, (list, tuple)) else [v]
        out.append(key + " " + " ".join(x if isinstance(x, str) else f"{x:.9g}" for x in vals))
    out += ["", "# NUM DUR RF GX GY GZ ADC EXT", "[BLOCKS]"]
    out += [f"{i} {' '.join(str(x) for x in b)} 0" for i, b in enumerate(tab.blocks, 1)]
    heads = {
        "RF": "# id amp mag_id phase_id time_shape_id center(us) delay(us) freqPPM phasePPM "
        "freq phase use",
        "GRADIENTS": "# id amplitude(Hz/m) first last amp_shape_id time_shape_id delay(us)",
        "ADC": "# id num dwell(ns) delay(us) freqPPM phasePPM freq phase phase_id",
    }
    for table, lines in tab.events.items():
        if lines:
            out += ["", heads[table], f"[{table}]"]
            out += [f"{eid} {line}" for line, eid in lines.items()]
    if tab.shapes:
        out += ["", "[SHAPES]"]
        for (n, vals), sid in tab.shapes.items():
            out += ["", f"shape_id {sid}", f"num_samples {n}"] + [f"{v:.9g}" for v in vals]
    return "\n".join(out) + "\n"


def write_pulseq(seq, path, *, fov=None, name=None, rf_use=None, definitions=None) -> PulseqExport:
    """Write a :class:`Sequence` (or a designed pulse) as a Pulseq v1.5 file (module docstring).

    Args:
        seq: :class:`Sequence`, or a ``design.DesignResult`` (written through
            ``design.pulse_sequence``: pulse, rewinder, one ADC sample).
        path: ``.seq`` file (replaced atomically).
        fov: optional (fx, fy, fz) [m] for ``[DEFINITIONS] FOV``. name: optional ``Name``.
        rf_use: Pulseq RF use, one letter for all pulses or one per pulse ("e", "r", "i",
            "s", ...); default "e" up to 135 deg, "r" above.
        definitions: more ``[DEFINITIONS]`` entries (numbers, text or lists of them).
    Returns:
        :class:`PulseqExport` (path, md5, blocks, resampling errors).
    Raises:
        ValueError: what the rasters cannot represent (module docstring).
    """
    if not isinstance(seq, Sequence) and hasattr(seq, "target"):
        from .design._export import pulse_sequence

        seq = pulse_sequence(seq)
    if not isinstance(seq, Sequence):
        raise ValueError(f"write_pulseq needs a Sequence or a DesignResult, got {type(seq)}")
    t = np.concatenate([[0.0], np.cumsum(np.asarray(seq.dt, float))])
    rf = np.asarray(seq.rf, complex)
    g = np.asarray(seq.gradient, float) * GAMMA_1H_HZ  # Hz/m
    idx = np.asarray(seq.adc, int)
    times, phases = t[idx + 1], np.asarray(seq.adc_phase, float)
    events = _events(seq, t)
    uses = iter(_uses(rf_use, sum(r is not None for _, _, r, _ in events)))
    tab = _Tables()
    cursor = 0.0
    for s, e, r, d in events:
        _gap(tab, t, g, cursor, s)
        rid = _rf_event(tab, t, rf, r, s, next(uses)) if r is not None else 0
        aid = _adc_event(tab, times, phases, d, s) if d is not None else 0
        tab.block(e - s, rid, _gradients(tab, t, g, s, e)[0], aid)
        cursor = e
    _gap(tab, t, g, cursor, math.ceil(t[-1] / _BLOCK - 1e-6) * _BLOCK)
    defs: dict[str, object] = {
        "AdcRasterTime": ADC_RASTER,
        "BlockDurationRaster": _BLOCK,
        "GradientRasterTime": GRAD_RASTER,
        "RadiofrequencyRasterTime": RF_RASTER,
        "TotalDuration": sum(b[0] for b in tab.blocks) * _BLOCK,
    }
    if fov is not None:
        defs["FOV"] = [float(f) for f in fov]
    if name is not None:
        defs["Name"] = str(name)
    defs.update(definitions or {})
    body = _text(tab, defs)
    md5 = hashlib.md5(body.encode("utf-8")).hexdigest()
    signature = (
        "\n[SIGNATURE]\n# md5 of the file above this section, without the newline that "
        f"precedes [SIGNATURE]\nType md5\nHash {md5}\n"
    )
    path = write_text(Path(path), body + signature)
    s = tab.sums
    return PulseqExport(
        path,
        md5,
        len(tab.blocks),
        float(np.sqrt(s[0] / s[1])) if s[1] > 0 else 0.0,
        float(np.sqrt(s[2] / s[3])) if s[3] > 0 else 0.0,
        tab.adc_shift,
    )
