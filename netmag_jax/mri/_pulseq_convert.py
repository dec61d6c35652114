r"""A parsed Pulseq file (:class:`PulseqFile`) -> the engine's :class:`Sequence`.

Each block becomes piecewise-constant steps cut at every event edge (RF samples, gradient
raster points and trapezoid corners, ADC sample times), so the gradient areas are exact
(trapezoids and extended trapezoids are piecewise linear and are sampled at step midpoints);
arbitrary gradients on the regular raster are held constant over each raster interval. ADC
sample k lies at ``delay + (k + 1/2) dwell``, the end of a step. RF amplitude ``gamma_bar B1``
[Hz] and gradients ``gamma_bar G`` [Hz/m] become T and T/m through the reader's unit table.
Inconsistent events raise ``ValueError`` naming the file and line.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._pulseq import PulseqFile, _si, parse_pulseq
from ._sequences import Sequence

_TICK = 1e-10  # time grid of the converter [s] (0.1 ns): all event edges are multiples of it


def _ticks(t):
    return int(round(t / _TICK))


class _Block:
    """Event functions of one block on its local time axis (seconds)."""

    def __init__(self, pf, ids, lineno):
        self.pf, self.lineno = pf, lineno
        _, dur, r, gx, gy, gz, a, _ = ids
        self.edges = {0}
        self.end = 0.0
        self.rf = self._rf(pf.rf[r]) if r else None
        self.grads = [self._grad(g) if g else None for g in (gx, gy, gz)]
        self.adc = self._adc(pf.adc[a]) if a else None
        if pf.version[:2] >= (1, 4):
            d = _si(dur, "raster->s", pf.raster("BlockDurationRaster"))
            if d + 1e-12 < self.end:
                raise ValueError(
                    f"{pf.path}:{lineno}: block duration {d:g} s is shorter than "
                    f"its events ({self.end:g} s)"
                )
        else:
            d = max(self.end, pf.delays.get(dur, 0.0))
        self.duration = d
        if _ticks(d) <= 0:
            raise ValueError(f"{pf.path}:{lineno}: block has zero duration")
        self.edges.add(_ticks(d))

    def _add(self, times):
        for t in times:
            self.edges.add(_ticks(t))
        self.end = max(self.end, max(times))

    def _rf(self, ev):
        pf = self.pf
        ras = pf.raster("RadiofrequencyRasterTime")
        mag = pf.shapes[ev["mag"]]
        ph = pf.shapes[ev["phase_shape"]] if ev["phase_shape"] else np.zeros_like(mag)
        n = len(mag)
        if ev["time"] > 0:
            ts = _si(pf.shapes[ev["time"]], "raster->s", ras)
            if len(ts) != n:
                raise ValueError(f"{pf.path}:{ev['line']}: RF time shape length differs")
            starts = ev["delay"] + ts
            ends = np.append(starts[1:], starts[-1] + ras)
        else:
            starts = ev["delay"] + _si(np.arange(n), "raster->s", ras)
            ends = starts + ras
        b0 = pf.definition("B0", 3.0)
        freq = ev["freq"] + _si(ev["freq_ppm"], "ppm", b0)
        ref = ev["delay"] + (ev["center"] if ev["center"] is not None else 0.0)
        phase0 = ev["phase"] + _si(ev["phase_ppm"], "ppm", b0)
        mids = 0.5 * (starts + ends)
        phase = _si(ph, "turns->rad") + phase0 + _si(freq, "Hz->rad/s") * (mids - ref)
        values = _si(ev["amp"], "Hz->T") * mag * np.exp(1j * phase)
        self._add(list(starts) + [ends[-1]])
        return starts, ends, values

    def _grad(self, gid):
        pf = self.pf
        if gid in pf.trap:
            ev = pf.trap[gid]
            t = ev["delay"] + np.cumsum([0.0, ev["rise"], ev["flat"], ev["fall"]])
            a = _si(ev["amp"], "Hz/m->T/m")
            self._add(list(t))
            return ("linear", t, np.array([0.0, a, a, 0.0]))
        ev = pf.gradients[gid]
        ras = pf.raster("GradientRasterTime")
        shape = _si(pf.shapes[ev["shape"]] * ev["amp"], "Hz/m->T/m")
        if ev["time"] > 0:
            t = ev["delay"] + _si(pf.shapes[ev["time"]], "raster->s", ras)
            if len(t) != len(shape) or np.any(np.diff(t) < 0):
                raise ValueError(f"{pf.path}:{ev['line']}: bad gradient time shape")
            self._add(list(t))
            return ("linear", t, shape)
        t = ev["delay"] + _si(np.arange(len(shape) + 1), "raster->s", ras)
        self._add(list(t))
        return ("constant", t, shape)

    def _adc(self, ev):
        k = np.arange(ev["num"])
        t = ev["delay"] + (k + 0.5) * ev["dwell"]
        self._add(list(t) + [ev["delay"] + ev["num"] * ev["dwell"]])
        phase = ev["phase"] + _si(ev["freq"], "Hz->rad/s") * (t - ev["delay"])
        return t, phase

    def sample(self):
        """Steps of this block: rf [m], gradient [m, 3], dt [m], adc step indices, phases."""
        e = np.array(sorted(x for x in self.edges if 0 <= x <= _ticks(self.duration)))
        t = e * _TICK
        mid = 0.5 * (t[1:] + t[:-1])
        dt = np.diff(t)
        m = len(dt)
        rf = np.zeros(m, complex)
        if self.rf is not None:
            starts, ends, values = self.rf
            j = np.searchsorted(starts, mid, side="right") - 1
            inside = (j >= 0) & (mid < ends[np.clip(j, 0, len(ends) - 1)])
            rf[inside] = values[j[inside]]
        g = np.zeros((m, 3))
        for ax, ev in enumerate(self.grads):
            if ev is None:
                continue
            kind, tg, vals = ev
            if kind == "linear":
                g[:, ax] = np.interp(mid, tg, vals, left=0.0, right=0.0)
            else:
                j = np.searchsorted(tg, mid, side="right") - 1
                ok = (j >= 0) & (j < len(vals))
                g[ok, ax] = vals[j[ok]]
        adc_idx, adc_ph = np.zeros(0, int), np.zeros(0)
        if self.adc is not None:
            ta, adc_ph = self.adc
            ends = e[1:]
            adc_idx = np.searchsorted(ends, np.round(ta / _TICK).astype(np.int64))
        return rf, g, dt, adc_idx, adc_ph


def pulseq_to_sequence(pf: PulseqFile) -> Sequence:
    """Convert a parsed file into the engine's :class:`Sequence` (SI units, rotating frame)."""
    rfs, gs, dts, adcs, phs = [], [], [], [], []
    n = 0
    for lineno, ids in pf.blocks:
        rf, g, dt, ai, ap = _Block(pf, ids, lineno).sample()
        rfs.append(rf)
        gs.append(g)
        dts.append(dt)
        adcs.append(ai + n)
        phs.append(ap)
        n += len(dt)
    return Sequence(
        jnp.asarray(np.concatenate(rfs)),
        jnp.asarray(np.concatenate(gs)),
        jnp.asarray(np.concatenate(dts)),
        jnp.asarray(np.concatenate(phs)),
        tuple(int(i) for i in np.concatenate(adcs)),
    )


def read_pulseq(path) -> Sequence:
    """Read a Pulseq ``.seq`` file (v1.4/v1.5) into a :class:`Sequence` for :func:`simulate`.

    Args:
        path: file path.
    Returns:
        :class:`Sequence` (rf [n] complex T, gradient [n, 3] T/m, dt [n] s, ADC samples).
    Raises:
        ValueError: malformed or inconsistent file (message names the line).
    """
    return pulseq_to_sequence(parse_pulseq(path))
