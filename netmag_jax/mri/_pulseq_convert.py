r"""A parsed Pulseq file (:class:`PulseqFile`) -> the engine's :class:`Sequence`.

Each block becomes piecewise-constant steps cut at every event edge: RF intervals, gradient
knots (trapezoid corners, arbitrary-gradient samples, extended-trapezoid points), ADC sample
times and the RF centre. Gradients are linear between their knots and are sampled at the step
midpoints, so every step's gradient area, and hence k-space, is exact; the RF is held per
raster interval (or linear between time-shape points, see ``_pulseq_events``). An ADC sample
is the end of a step. Pulseq's right-handed RF / receiver frame enters the engine's
left-handed one conjugated (``_pulseq_events``), ``gamma_bar B1`` [Hz] and ``gamma_bar G``
[Hz/m] become T and T/m through the reader's unit table, and a ``ROTATIONS`` extension
rotates the block's gradients. Inconsistent events raise ``ValueError`` naming the file and
line; the number of steps is bounded (``max_steps``) before anything is allocated.

Files read again unchanged are not parsed or converted again (:func:`cached_by_content`:
keyed by the SHA-256 of the bytes, so an edited file is read anew).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ._pulseq import PulseqFile, _si, parse_pulseq_bytes
from ._pulseq_events import (
    adc_samples,
    gradient_knots,
    rf_kind,
    rf_piece,
    trapezoid_knots,
    v14_first_last,
)
from ._sequences import Sequence

_TICK = 1e-10  # time grid of the converter [s] (0.1 ns): all event edges are multiples of it
MAX_STEPS = 1 << 24  # default bound on the number of engine steps of one file
DEFAULT_B0 = 3.0  # [T] for ppm offsets when neither the caller nor the file gives B0


def _ticks(t):
    return np.rint(np.asarray(t, dtype=float) / _TICK).astype(np.int64)


@dataclasses.dataclass
class SequenceArrays:
    """A file on the engine's step grid, in float64 NumPy and the file's Hz units.

    Attributes:
        rf: [m] complex ``gamma_bar B1`` [Hz] (engine frame). gradient: [m, 3] Hz/m.
        dt: [m] s. adc: [n_adc] step indices (sample at the step's end).
        adc_phase: [n_adc] engine receiver phase [rad].
        rf_events: ``[(step, kind, line)]``: the RF centre is the end of step ``step`` (-1:
            the sequence start); ``kind`` is "excitation", "refocusing" or None.
        block_start: [n_blocks + 1] first step of each block (and the total).
    """

    rf: np.ndarray
    gradient: np.ndarray
    dt: np.ndarray
    adc: np.ndarray
    adc_phase: np.ndarray
    rf_events: list
    block_start: np.ndarray


class _Block:
    """Event waveforms of one block on its local time axis (seconds)."""

    def __init__(self, pf, ids, lineno, B0, first_last):
        self.pf, self.lineno = pf, lineno
        _, dur, r, gx, gy, gz, a, ext = ids
        ends = [0.0]
        self.rf = rf_piece(pf, pf.rf[r], B0) if r else None
        self.kind = rf_kind(pf, pf.rf[r], B0) if r else None
        if self.rf is not None:
            ends.append(self.rf[3])
        self.grads = []
        for g in (gx, gy, gz):
            if g in pf.trap:
                knots = trapezoid_knots(pf.trap[g])
            elif g:
                ev = pf.gradients[g]
                fl = first_last.get(g) or (ev["first"], ev["last"])
                knots = gradient_knots(pf, ev, *fl)
            else:
                knots = None
            self.grads.append(knots)
            if knots is not None:
                ends.append(float(knots[0][-1]))
        self.adc = adc_samples(pf, pf.adc[a], B0) if a else None
        if self.adc is not None:
            ends.append(pf.adc[a]["delay"] + pf.adc[a]["num"] * pf.adc[a]["dwell"])
        self.rotation = pf.extensions.rotation(ext) if ext else None
        end = max(ends)
        self.duration = block_duration(pf, lineno, ids, end)
        if end > self.duration + 1e-9:
            raise ValueError(
                f"{pf.path}:{lineno}: block duration {self.duration:g} s is shorter than "
                f"its events ({end:g} s)"
            )

    def size(self):
        """Upper bound of the number of steps of this block."""
        n = 2 + (len(self.rf[0]) + 1 if self.rf is not None else 0)
        n += sum(len(k[0]) for k in self.grads if k is not None)
        return n + (len(self.adc[0]) if self.adc is not None else 0)

    def sample(self):
        """Steps: rf [m], gradient [m, 3], dt [m], local ADC steps, ADC phases, centre step."""
        edges = [np.array([0, _ticks(self.duration)])]
        if self.rf is not None:
            edges += [_ticks(self.rf[0]), _ticks([self.rf[2]])]
        edges += [_ticks(k[0]) for k in self.grads if k is not None]
        if self.adc is not None:
            edges.append(_ticks(self.adc[0]))
        e = np.unique(np.clip(np.concatenate(edges), 0, _ticks(self.duration)))
        t = e * _TICK
        mid, dt = 0.5 * (t[1:] + t[:-1]), np.diff(t)
        rf = np.zeros(len(dt), complex)
        centre = None
        if self.rf is not None:
            redges, values, c, _ = self.rf
            j = np.searchsorted(redges, mid, side="right") - 1
            ok = (j >= 0) & (j < len(values))
            rf[ok] = values[j[ok]]
            centre = int(np.searchsorted(e, _ticks(c))) - 1
        g = np.zeros((len(dt), 3))
        for ax, knots in enumerate(self.grads):
            if knots is not None:
                g[:, ax] = np.interp(mid, knots[0], knots[1], left=0.0, right=0.0)
        if self.rotation is not None:
            g = g @ self.rotation.T
        adc_idx, adc_ph = np.zeros(0, np.int64), np.zeros(0)
        if self.adc is not None:
            ta, adc_ph = self.adc
            adc_idx = np.searchsorted(e[1:], np.minimum(_ticks(ta), e[-1]))
        if not (np.all(np.isfinite(rf)) and np.all(np.isfinite(g))):
            raise ValueError(f"{self.pf.path}:{self.lineno}: RF or gradient is not finite")
        if not np.all(np.isfinite(adc_ph)):
            raise ValueError(f"{self.pf.path}:{self.lineno}: ADC phase is not finite")
        return rf, g, dt, adc_idx, adc_ph, centre


def block_duration(pf, lineno, ids, end=0.0):
    """Duration [s] of a block: its DUR column (v1.4+) or max(events, v1.3 delay)."""
    if pf.version[:2] >= (1, 4):
        d = _si(ids[1], "raster->s", pf.raster("BlockDurationRaster"))
    else:
        d = max(end, pf.delays.get(ids[1], 0.0))
    if _ticks(d) <= 0:
        raise ValueError(f"{pf.path}:{lineno}: block has zero duration")
    return d


def _check_steps(pf, lineno, n, max_steps):
    if n > max_steps:
        raise ValueError(
            f"{pf.path}:{lineno}: the sequence needs more than {max_steps} steps "
            "(raise max_steps to read it)"
        )


def sequence_arrays(pf: PulseqFile, B0=None, max_steps=MAX_STEPS) -> SequenceArrays:
    """The file on the engine's step grid (NumPy float64, Hz units), see :class:`SequenceArrays`.

    Raises:
        ValueError: inconsistent file (names the line), or more than ``max_steps`` steps.
    """
    B0 = float(B0 if B0 is not None else (pf.B0 or DEFAULT_B0))
    first_last = {}
    if pf.version[:2] < (1, 5):
        first_last = v14_first_last(pf, lambda ln, ids: block_duration(pf, ln, ids))
    cache, parts, events, starts = {}, [], [], []
    n = total = 0
    for lineno, ids in pf.blocks:
        starts.append(n)
        key = tuple(ids[1:])
        if key not in cache:
            block = _Block(pf, ids, lineno, B0, first_last)
            _check_steps(pf, lineno, total + block.size(), max_steps)
            cache[key] = (block.sample(), block.kind)
        (rf, g, dt, ai, ap, centre), kind = cache[key]
        total += len(dt)
        _check_steps(pf, lineno, total, max_steps)
        parts.append((rf, g, dt, ai + n, ap))
        if centre is not None:
            events.append((n + centre, kind, lineno))
        n += len(dt)
    rf, g, dt, adc, ph = (np.concatenate(p) for p in zip(*parts, strict=True))
    starts.append(n)
    return SequenceArrays(rf, g, dt, adc.astype(np.int64), ph, events, np.asarray(starts))


def pulseq_to_sequence(pf: PulseqFile, B0=None, max_steps=MAX_STEPS) -> Sequence:
    """Convert a parsed file into the engine's :class:`Sequence` (SI units, rotating frame).

    Args:
        pf: :func:`parse_pulseq` result.
        B0: field [T] for the ppm offsets (default: the file's ``B0`` definition, else 3 T).
        max_steps: largest number of engine steps accepted.
    """
    a = sequence_arrays(pf, B0, max_steps)
    return Sequence(
        jnp.asarray(_si(a.rf, "Hz->T")),
        jnp.asarray(_si(a.gradient, "Hz/m->T/m")),
        jnp.asarray(a.dt),
        jnp.asarray(a.adc_phase),
        tuple(int(i) for i in a.adc),
    )


def read_pulseq(path, B0=None, check_signature=True) -> Sequence:
    """Read a Pulseq ``.seq`` file (v1.3-v1.5) into a :class:`Sequence` for :func:`simulate`.

    Args:
        path: file path.
        B0: field [T] for ppm offsets (default: the file's ``B0`` definition, else 3 T).
        check_signature: verify the file's ``[SIGNATURE]`` md5.
    Returns:
        :class:`Sequence` (rf [n] complex T, gradient [n, 3] T/m, dt [n] s, ADC samples).
    Raises:
        ValueError: malformed or inconsistent file (message names the line).
    """

    def make(data):
        return pulseq_to_sequence(parse_pulseq_bytes(data, path, check_signature), B0)

    return cached_by_content(path, ("read_pulseq", B0, bool(check_signature)), make)


#: results kept by :func:`cached_by_content` (the most recently used)
CACHE_SIZE = 8
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cached_by_content(path, tag, make):
    """``make(data)`` for the bytes ``data`` of the file ``path``, remembered for the
    ``CACHE_SIZE`` most recent keys (tag, SHA-256 of the bytes, path, JAX x64 mode).

    A file read again unchanged is neither parsed nor converted again; an edited one has
    another digest and is. Errors are not remembered. Callers must not mutate the value.
    """
    data = Path(path).read_bytes()
    key = (tag, hashlib.sha256(data).digest(), str(path), bool(jax.config.read("jax_enable_x64")))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = make(data)
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value
