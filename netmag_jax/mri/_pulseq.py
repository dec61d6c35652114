r"""Pulseq ``.seq`` reader (file format v1.4 and v1.5; v1.3 block delays tolerated).

The file is a text file of sections: ``[VERSION]``, ``[DEFINITIONS]``, ``[BLOCKS]``, ``[RF]``,
``[GRADIENTS]``, ``[TRAP]``, ``[ADC]``, ``[DELAYS]`` (v1.3), ``[SHAPES]`` (run-length
compressed derivatives), ``[EXTENSIONS]`` and ``[SIGNATURE]`` (skipped). Units in the file:
RF amplitude in Hz (``gamma_bar B1``), gradients in Hz/m, delays/ramps in us, ADC dwell in
ns, block durations in units of ``BlockDurationRaster``. Phase shapes are in units of 2 pi.

Conversion to the engine: each block becomes piecewise-constant steps cut at every event
edge (RF samples, gradient raster points and trapezoid corners, ADC sample times), so the
gradient areas are exact (trapezoids and extended trapezoids are piecewise linear and are
sampled at step midpoints); arbitrary gradients on the regular raster are held constant
over each raster interval. ADC sample k lies at ``delay + (k + 1/2) dwell``, the end of a
step. Malformed input raises ``ValueError`` naming the file and line.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from ..constants import GAMMA_1H
from ._sequences import Sequence

GAMMA_BAR = GAMMA_1H / (2 * math.pi)
_TICK = 1e-10  # time grid of the converter [s] (0.1 ns): all event edges are multiples of it

_DEFAULT_RASTERS = {
    "GradientRasterTime": 1e-5,
    "RadiofrequencyRasterTime": 1e-6,
    "AdcRasterTime": 1e-7,
    "BlockDurationRaster": 1e-5,
}


@dataclasses.dataclass
class PulseqFile:
    """Parsed contents of a ``.seq`` file (event tables keyed by id, units as in the file)."""

    version: tuple
    definitions: dict
    blocks: list  # (line, [id, dur_or_delay, rf, gx, gy, gz, adc, ext])
    rf: dict
    gradients: dict
    trap: dict
    adc: dict
    delays: dict
    shapes: dict
    path: str = ""

    def raster(self, name):
        v = self.definitions.get(name, _DEFAULT_RASTERS[name])
        return float(v[0] if isinstance(v, (list, tuple)) else v)


class _Lines:
    def __init__(self, path):
        self.path = str(path)
        try:
            text = Path(path).read_text()
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not a text file ({e})") from None
        self.items = []
        for i, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if line:
                self.items.append((i, line))

    def error(self, lineno, msg):
        return ValueError(f"{self.path}:{lineno}: {msg}")


def _numbers(src, lineno, line, n_allowed, kinds=None):
    parts = line.split()
    if len(parts) not in n_allowed:
        raise src.error(
            lineno,
            f"expected {' or '.join(map(str, n_allowed))} fields, got {len(parts)}: {line!r}",
        )
    out = []
    for j, p in enumerate(parts):
        try:
            v = float(p)
        except ValueError:
            if kinds is not None and j in kinds:
                out.append(p)
                continue
            raise src.error(lineno, f"not a number: {p!r}") from None
        if not math.isfinite(v):
            raise src.error(lineno, f"not a finite number: {p!r}")
        out.append(v)
    return out


def _int_id(src, lineno, v, what="id"):
    if v != int(v) or v < 0:
        raise src.error(lineno, f"{what} must be a non-negative integer, got {v}")
    return int(v)


def decompress_shape(values, num_samples):
    """Undo Pulseq shape compression: run-length coded derivative -> samples.

    A repeated value ``v v c`` stands for ``c + 2`` copies of v; the decoded derivative is
    summed cumulatively. If ``len(values) == num_samples`` the shape is stored uncompressed.
    """
    vals = list(values)
    if len(vals) == num_samples:
        return np.asarray(vals, dtype=float)
    out = []
    i = 0
    while i < len(vals):
        if i + 1 < len(vals) and vals[i] == vals[i + 1]:
            if i + 2 >= len(vals):
                raise ValueError("compressed shape ends inside a run")
            c = vals[i + 2]
            if c != int(c) or c < 0:
                raise ValueError(f"run-length count must be a non-negative integer, got {c}")
            out.extend([vals[i]] * (int(c) + 2))
            i += 3
        else:
            out.append(vals[i])
            i += 1
        if len(out) > num_samples:
            break
    if len(out) != num_samples:
        raise ValueError(f"shape decodes to {len(out)} samples, expected {num_samples}")
    return np.cumsum(np.asarray(out, dtype=float))


def parse_pulseq(path) -> PulseqFile:
    """Parse a Pulseq ``.seq`` file into its event tables (no unit conversion).

    Raises:
        ValueError: malformed file, with ``path:line`` in the message.
    """
    src = _Lines(path)
    version = {}
    defs, blocks, rf, grads, trap, adc, delays, shapes = {}, [], {}, {}, {}, {}, {}, {}
    section = None
    sections_seen = set()
    items = src.items
    i = 0
    ver = (1, 4)
    while i < len(items):
        lineno, line = items[i]
        i += 1
        if line.startswith("["):
            if not line.endswith("]"):
                raise src.error(lineno, f"malformed section header {line!r}")
            section = line[1:-1].strip().upper()
            sections_seen.add(section)
            if section == "BLOCKS" or section in ("RF", "GRADIENTS", "ADC"):
                ver = (int(version.get("major", 1)), int(version.get("minor", 4)))
            continue
        if section is None:
            raise src.error(lineno, f"content outside any [SECTION]: {line!r}")
        if section == "VERSION":
            parts = line.split()
            if len(parts) != 2 or parts[0] not in ("major", "minor", "revision"):
                raise src.error(lineno, f"bad [VERSION] line {line!r}")
            if parts[0] != "revision":
                try:
                    version[parts[0]] = int(parts[1])
                except ValueError:
                    raise src.error(lineno, f"bad version number {parts[1]!r}") from None
            else:
                version["revision"] = parts[1]
        elif section == "DEFINITIONS":
            parts = line.split()
            vals = []
            for p in parts[1:]:
                try:
                    vals.append(float(p))
                except ValueError:
                    vals.append(p)
            defs[parts[0]] = vals[0] if len(vals) == 1 else vals
        elif section == "BLOCKS":
            v = _numbers(src, lineno, line, (7, 8))
            ids = [_int_id(src, lineno, x, "block field") for x in v]
            if len(ids) == 7:
                ids.append(0)
            blocks.append((lineno, ids))
        elif section == "RF":
            if ver >= (1, 5):
                v = _numbers(src, lineno, line, (12,), kinds={11})
                rid = _int_id(src, lineno, v[0])
                rf[rid] = dict(
                    line=lineno,
                    amp=v[1],
                    mag=_int_id(src, lineno, v[2]),
                    phase_shape=_int_id(src, lineno, v[3]),
                    time=int(v[4]),
                    center=v[5] * 1e-6,
                    delay=v[6] * 1e-6,
                    freq_ppm=v[7],
                    phase_ppm=v[8],
                    freq=v[9],
                    phase=v[10],
                    use=str(v[11]),
                )
            else:
                v = _numbers(src, lineno, line, (7, 8))
                rid = _int_id(src, lineno, v[0])
                if len(v) == 7:  # v1.3: no time shape
                    v = v[:4] + [0.0] + v[4:]
                rf[rid] = dict(
                    line=lineno,
                    amp=v[1],
                    mag=_int_id(src, lineno, v[2]),
                    phase_shape=_int_id(src, lineno, v[3]),
                    time=int(v[4]),
                    center=None,
                    delay=v[5] * 1e-6,
                    freq_ppm=0.0,
                    phase_ppm=0.0,
                    freq=v[6],
                    phase=v[7],
                    use="u",
                )
        elif section == "GRADIENTS":
            if ver >= (1, 5):
                v = _numbers(src, lineno, line, (7,))
                gid = _int_id(src, lineno, v[0])
                grads[gid] = dict(
                    line=lineno,
                    amp=v[1],
                    shape=_int_id(src, lineno, v[4]),
                    time=_int_id(src, lineno, v[5]),
                    delay=v[6] * 1e-6,
                )
            else:
                v = _numbers(src, lineno, line, (4, 5))
                gid = _int_id(src, lineno, v[0])
                if len(v) == 4:
                    v = v[:3] + [0.0] + v[3:]
                grads[gid] = dict(
                    line=lineno,
                    amp=v[1],
                    shape=_int_id(src, lineno, v[2]),
                    time=_int_id(src, lineno, v[3]),
                    delay=v[4] * 1e-6,
                )
        elif section == "TRAP":
            v = _numbers(src, lineno, line, (6,))
            if min(v[2:]) < 0:
                raise src.error(lineno, "trapezoid times must be >= 0")
            trap[_int_id(src, lineno, v[0])] = dict(
                line=lineno,
                amp=v[1],
                rise=v[2] * 1e-6,
                flat=v[3] * 1e-6,
                fall=v[4] * 1e-6,
                delay=v[5] * 1e-6,
            )
        elif section == "ADC":
            if ver >= (1, 5):
                v = _numbers(src, lineno, line, (9,))
                freq, phase = v[6], v[7]
            else:
                v = _numbers(src, lineno, line, (6,))
                freq, phase = v[4], v[5]
            num = _int_id(src, lineno, v[1], "number of samples")
            if num < 1 or v[2] <= 0 or v[3] < 0:
                raise src.error(lineno, "ADC needs num >= 1, dwell > 0 and delay >= 0")
            adc[_int_id(src, lineno, v[0])] = dict(
                line=lineno, num=num, dwell=v[2] * 1e-9, delay=v[3] * 1e-6, freq=freq, phase=phase
            )
        elif section == "DELAYS":
            v = _numbers(src, lineno, line, (2,))
            delays[_int_id(src, lineno, v[0])] = v[1] * 1e-6
        elif section == "SHAPES":
            parts = line.split()
            if len(parts) != 2 or parts[0] != "shape_id":
                raise src.error(lineno, f"expected 'shape_id N', got {line!r}")
            sid = _int_id(src, lineno, _numbers(src, lineno, parts[1], (1,))[0])
            if i >= len(items):
                raise src.error(lineno, "shape without num_samples")
            ln2, l2 = items[i]
            i += 1
            p2 = l2.split()
            if len(p2) != 2 or p2[0] != "num_samples":
                raise src.error(ln2, f"expected 'num_samples M', got {l2!r}")
            num = _int_id(src, ln2, _numbers(src, ln2, p2[1], (1,))[0], "num_samples")
            vals = []
            while (
                i < len(items)
                and not items[i][1].startswith("[")
                and not items[i][1].startswith("shape_id")
            ):
                lnv, lv = items[i]
                vals.append(_numbers(src, lnv, lv, (1,))[0])
                i += 1
            try:
                shapes[sid] = decompress_shape(vals, num)
            except ValueError as e:
                raise src.error(lineno, f"shape {sid}: {e}") from None
        elif section in ("EXTENSIONS", "SIGNATURE") or section not in _KNOWN:
            continue  # tolerated: extension tables (labels, triggers, ...) and signatures
    if "major" not in version or "minor" not in version:
        raise ValueError(f"{path}: missing [VERSION] major/minor")
    if (version["major"], version["minor"]) not in ((1, 3), (1, 4), (1, 5)):
        raise ValueError(
            f"{path}: unsupported Pulseq version "
            f"{version['major']}.{version['minor']} (1.3, 1.4, 1.5 are read)"
        )
    if not blocks:
        raise ValueError(f"{path}: no [BLOCKS]")
    rev = version.get("revision", 0)
    pf = PulseqFile(
        (version["major"], version["minor"], rev),
        defs,
        blocks,
        rf,
        grads,
        trap,
        adc,
        delays,
        shapes,
        str(path),
    )
    _check_references(pf, src)
    return pf


_KNOWN = {
    "VERSION",
    "DEFINITIONS",
    "BLOCKS",
    "RF",
    "GRADIENTS",
    "TRAP",
    "ADC",
    "DELAYS",
    "SHAPES",
    "EXTENSIONS",
    "SIGNATURE",
}


def _check_references(pf, src):
    for lineno, b in pf.blocks:
        _, dur, r, gx, gy, gz, a, _ = b
        if r and r not in pf.rf:
            raise src.error(lineno, f"block refers to undefined RF event {r}")
        for g in (gx, gy, gz):
            if g and g not in pf.gradients and g not in pf.trap:
                raise src.error(lineno, f"block refers to undefined gradient event {g}")
        if a and a not in pf.adc:
            raise src.error(lineno, f"block refers to undefined ADC event {a}")
        if pf.version[:2] < (1, 4) and dur and dur not in pf.delays:
            raise src.error(lineno, f"block refers to undefined delay {dur}")
    for table in (pf.rf, pf.gradients):
        for ev in table.values():
            for key in ("mag", "phase_shape", "shape", "time"):
                sid = ev.get(key, 0)
                if sid and sid > 0 and sid not in pf.shapes:
                    raise src.error(ev["line"], f"refers to undefined shape {sid}")
    for ev in pf.rf.values():
        if ev["mag"] == 0:
            raise src.error(ev["line"], "RF event needs a magnitude shape")
        if ev["phase_shape"] and len(pf.shapes[ev["phase_shape"]]) != len(pf.shapes[ev["mag"]]):
            raise src.error(ev["line"], "RF magnitude and phase shapes differ in length")
    for ev in pf.gradients.values():
        if ev["shape"] == 0:
            raise src.error(ev["line"], "arbitrary gradient needs a shape")


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
            d = dur * pf.raster("BlockDurationRaster")
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
            ts = pf.shapes[ev["time"]] * ras
            if len(ts) != n:
                raise ValueError(f"{pf.path}:{ev['line']}: RF time shape length differs")
            starts = ev["delay"] + ts
            ends = np.append(starts[1:], starts[-1] + ras)
        else:
            starts = ev["delay"] + ras * np.arange(n)
            ends = starts + ras
        freq = ev["freq"] + 1e-6 * ev["freq_ppm"] * GAMMA_BAR * self._b0()
        ref = ev["delay"] + (ev["center"] if ev["center"] is not None else 0.0)
        phase0 = ev["phase"] + 1e-6 * ev["phase_ppm"] * GAMMA_BAR * self._b0()
        mids = 0.5 * (starts + ends)
        values = (
            ev["amp"]
            / GAMMA_BAR
            * mag
            * np.exp(1j * (2 * np.pi * ph + phase0 + 2 * np.pi * freq * (mids - ref)))
        )
        self._add(list(starts) + [ends[-1]])
        return starts, ends, values

    def _b0(self):
        b0 = self.pf.definitions.get("B0", 3.0)
        return float(b0[0] if isinstance(b0, list) else b0)

    def _grad(self, gid):
        pf = self.pf
        if gid in pf.trap:
            ev = pf.trap[gid]
            t = ev["delay"] + np.cumsum([0.0, ev["rise"], ev["flat"], ev["fall"]])
            a = ev["amp"] / GAMMA_BAR
            self._add(list(t))
            return ("linear", t, np.array([0.0, a, a, 0.0]))
        ev = pf.gradients[gid]
        ras = pf.raster("GradientRasterTime")
        shape = pf.shapes[ev["shape"]] * ev["amp"] / GAMMA_BAR
        if ev["time"] > 0:
            t = ev["delay"] + pf.shapes[ev["time"]] * ras
            if len(t) != len(shape) or np.any(np.diff(t) < 0):
                raise ValueError(f"{pf.path}:{ev['line']}: bad gradient time shape")
            self._add(list(t))
            return ("linear", t, shape)
        t = ev["delay"] + ras * np.arange(len(shape) + 1)
        self._add(list(t))
        return ("constant", t, shape)

    def _adc(self, ev):
        k = np.arange(ev["num"])
        t = ev["delay"] + (k + 0.5) * ev["dwell"]
        self._add(list(t) + [ev["delay"] + ev["num"] * ev["dwell"]])
        phase = ev["phase"] + 2 * np.pi * ev["freq"] * (t - ev["delay"])
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


def kspace_trajectory(seq: Sequence, reset_on_rf=True):
    """k-space position ``gamma_bar int G dt`` [1/m] at the ADC samples, [n_adc, 3].

    The integral restarts at the centre of every RF pulse (excitation) when ``reset_on_rf``.
    """
    g = np.asarray(seq.gradient)
    dt = np.asarray(seq.dt)
    rf_on = np.abs(np.asarray(seq.rf)) > 0
    k = np.zeros(3)
    out = np.zeros((len(dt), 3))
    i = 0
    n = len(dt)
    while i < n:
        if reset_on_rf and rf_on[i]:
            j = i
            while j < n and rf_on[j]:
                j += 1
            # restart at the pulse centre: keep only the second half of the pulse's moment
            tc = 0.5 * dt[i:j].sum()
            k = np.zeros(3)
            t = 0.0
            for s in range(i, j):
                lo, hi = t, t + dt[s]
                k = k + GAMMA_BAR * g[s] * max(0.0, hi - max(lo, tc))
                out[s] = k
                t = hi
            i = j
            continue
        k = k + GAMMA_BAR * g[i] * dt[i]
        out[i] = k
        i += 1
    return out[np.asarray(seq.adc, int)]


def _cartesian_grid(k, fov, tol=1e-3):
    """Integer grid indices (ix, iy) of k-space samples if they form a full Cartesian grid."""
    kx, ky = k[:, 0] * fov[0], k[:, 1] * fov[1]
    ix, iy = np.round(kx), np.round(ky)
    if np.max(np.abs(kx - ix)) > tol or np.max(np.abs(ky - iy)) > tol:
        return None
    ix, iy = ix.astype(int), iy.astype(int)
    nx, ny = ix.max() - ix.min() + 1, iy.max() - iy.min() + 1
    if nx * ny != len(ix) or len(set(zip(ix, iy, strict=False))) != len(ix):
        return None
    return ix - ix.min(), iy - iy.min(), (int(nx), int(ny))


def simulate_seq(path, phantom, coils=None, **kwargs) -> dict:
    """Simulate a Pulseq file on a phantom; reconstruct an image if the readout is Cartesian.

    Args:
        path: ``.seq`` file (v1.4/v1.5).
        phantom: :class:`Phantom` (from :func:`shepp_logan`, :func:`cylinder`) or :class:`Spins`.
        coils: optional [n_coils, N] receive sensitivities.
        **kwargs: passed to :func:`simulate` (e.g. ``checkpoint``).
    Returns:
        dict with ``sequence`` (:class:`Sequence`), ``signal`` ([n_adc] or [n_coils, n_adc]
        complex, unit of M0), ``kspace`` ([n_adc, 3] 1/m, restarted at each RF pulse) and
        ``image`` ([..., ny, nx] complex, or None if the samples are not a full Cartesian grid
        with a FOV in [DEFINITIONS]).
    """
    from ._phantoms import Phantom
    from ._sequences import reconstruct_cartesian

    spins = phantom.spins if isinstance(phantom, Phantom) else phantom
    pf = parse_pulseq(path)
    seq = pulseq_to_sequence(pf)
    res = seq.simulate(spins, coils=coils, **kwargs)
    out = {"sequence": seq, "signal": res.signal, "kspace": None, "image": None}
    if not seq.adc:
        return out
    k = kspace_trajectory(seq)
    out["kspace"] = k
    fov = pf.definitions.get("FOV")
    if isinstance(fov, list) and len(fov) >= 2:
        grid = _cartesian_grid(k, (float(fov[0]), float(fov[1])))
        if grid is not None:
            ix, iy, (nx, ny) = grid
            sig = np.asarray(res.signal)
            kgrid = np.zeros(sig.shape[:-1] + (ny, nx), complex)
            kgrid[..., iy, ix] = sig
            out["image"] = reconstruct_cartesian(
                jnp.asarray(kgrid.reshape(sig.shape[:-1] + (-1,))), (nx, ny)
            )
    return out
