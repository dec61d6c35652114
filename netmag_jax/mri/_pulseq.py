r"""Pulseq ``.seq`` reader (file format v1.4 and v1.5; v1.3 block delays tolerated).

The file is a text file of sections: ``[VERSION]``, ``[DEFINITIONS]``, ``[BLOCKS]``, ``[RF]``,
``[GRADIENTS]``, ``[TRAP]``, ``[ADC]``, ``[DELAYS]`` (v1.3), ``[SHAPES]`` (run-length
compressed derivatives), ``[EXTENSIONS]`` and ``[SIGNATURE]`` (skipped). Units in the file:
RF amplitude in Hz (``gamma_bar B1``), gradients in Hz/m, delays/ramps in us, ADC dwell in
ns, block durations in units of ``BlockDurationRaster``. Phase shapes are in units of 2 pi.

Parsing is a table of section parsers (``_SECTIONS``), one per ``[SECTION]``; the event
tables are read column by column from a spec of (field, unit) pairs per format version.
:func:`parse_pulseq` converts only times (us, ns -> s); the amplitudes stay in the file's
Hz and Hz/m until :func:`pulseq_to_sequence` (``_pulseq_convert``). Every conversion of the
file's units to SI goes through ``_UNITS``. Malformed input raises ``ValueError`` naming the
file and line.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from ..constants import GAMMA_1H_HZ

_DEFAULT_RASTERS = {
    "GradientRasterTime": 1e-5,
    "RadiofrequencyRasterTime": 1e-6,
    "AdcRasterTime": 1e-7,
    "BlockDurationRaster": 1e-5,
}

# File units -> SI: the one place where the reader converts units. ``ref`` is the raster
# time [s] for "raster->s" and B0 [T] for "ppm" (unused otherwise).
_UNITS = {
    "us->s": lambda v, ref: v * 1e-6,  # delays, ramp times, RF centre
    "ns->s": lambda v, ref: v * 1e-9,  # ADC dwell
    "raster->s": lambda v, ref: v * ref,  # block durations, time shapes (in raster units)
    "Hz->T": lambda v, ref: v / GAMMA_1H_HZ,  # RF amplitude gamma_bar B1 -> B1
    "Hz/m->T/m": lambda v, ref: v / GAMMA_1H_HZ,  # gradient gamma_bar G -> G
    "ppm": lambda v, ref: 1e-6 * v * GAMMA_1H_HZ * ref,  # ppm of gamma_bar B0 [Hz]
    "turns->rad": lambda v, ref: 2 * np.pi * v,  # phase shapes (units of 2 pi)
    "Hz->rad/s": lambda v, ref: 2 * np.pi * v,  # frequency offsets
}


def _si(value, unit, ref=None):
    """``value`` (number or array) in the file's ``unit`` converted to SI, see ``_UNITS``."""
    return _UNITS[unit](value, ref)


@dataclasses.dataclass
class PulseqFile:
    """Parsed contents of a ``.seq`` file (event tables keyed by id).

    Amplitudes are as in the file (RF in Hz, gradients in Hz/m); times are in s.
    """

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

    def definition(self, name, default):
        """The (first) value of the ``[DEFINITIONS]`` entry ``name`` as a float."""
        v = self.definitions.get(name, default)
        return float(v[0] if isinstance(v, (list, tuple)) else v)

    def raster(self, name):
        """Raster time ``name`` [s] (Pulseq's default when the file does not define it)."""
        return self.definition(name, _DEFAULT_RASTERS[name])


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


# --- event tables: the columns after the id, as "field:unit" ----------------------------------
# unit: absent keeps the number as written, "id" a non-negative integer id, "int" an integer,
# "str" text, else a key of _UNITS; field "-": a column the reader ignores.
@dataclasses.dataclass(frozen=True)
class _Fixed:
    """A field that this format version does not write, and its value."""

    value: object


def _spec(columns, **fixed):
    """(field, unit) per column of ``columns``; the fields ``fixed`` are absent from the line."""
    out = []
    for col in columns.split():
        name, _, unit = col.partition(":")
        unit = _Fixed(fixed[name]) if name in fixed else (unit or None)
        out.append((None if name == "-" else name, unit))
    return tuple(out)


_RF_COLUMNS = (
    "amp mag:id phase_shape:id time:int center:us->s delay:us->s"
    " freq_ppm phase_ppm freq phase use:str"
)
# (fields per line, spec) for v1.5, then for v1.4 (v1.3 lines lack the time-shape column)
_RF = (
    ((12,), _spec(_RF_COLUMNS)),
    ((7, 8), _spec(_RF_COLUMNS, center=None, freq_ppm=0.0, phase_ppm=0.0, use="u")),
)
_GRADIENTS = (
    ((7,), _spec("amp - - shape:id time:id delay:us->s")),  # - -: first, last
    ((4, 5), _spec("amp shape:id time:id delay:us->s")),
)
_ADC = (
    ((9,), _spec("num:int dwell:ns->s delay:us->s - - freq phase -")),  # ppm, phase shape: unused
    ((6,), _spec("num:int dwell:ns->s delay:us->s freq phase")),
)
_TRAP = _spec("amp rise:us->s flat:us->s fall:us->s delay:us->s")


class _Parse:
    """State of one parse: the line cursor and the tables filled so far."""

    def __init__(self, src):
        self.src, self.pos = src, 0
        self.version, self.definitions, self.blocks = {}, {}, []
        self.rf, self.gradients, self.trap, self.adc, self.delays, self.shapes = (
            {} for _ in range(6)
        )

    def more(self):
        return self.pos < len(self.src.items)

    def peek(self):
        return self.src.items[self.pos][1]

    def take(self):
        self.pos += 1
        return self.src.items[self.pos - 1]

    def file_version(self):
        """(major, minor) of the file as read so far (1.4 until ``[VERSION]`` says)."""
        return (int(self.version.get("major", 1)), int(self.version.get("minor", 4)))


def _columns(st, lineno, line, layouts):
    """Numbers of an event line and the spec of the file's format (v1.3 lines padded)."""
    n_fields, spec = layouts[0] if st.file_version() >= (1, 5) else layouts[-1]
    read = [(name, unit) for name, unit in spec if not isinstance(unit, _Fixed)]
    text = {1 + j for j, (_, unit) in enumerate(read) if unit == "str"}
    v = _numbers(st.src, lineno, line, n_fields, kinds=text)
    if len(v) < max(n_fields):  # v1.3: no time-shape column, read as 0 (none)
        at = 1 + [name for name, _ in read].index("time")
        v = v[:at] + [0.0] + v[at:]
    return v, spec


def _event(src, lineno, values, spec):
    """Id and fields ``{"line": lineno, field: value}`` of one event line read by ``spec``."""
    eid = _int_id(src, lineno, values[0])
    ev = {"line": lineno}
    columns = iter(values[1:])
    for name, unit in spec:
        if isinstance(unit, _Fixed):
            value = unit.value
        else:
            value = next(columns)
            if unit == "id":
                value = _int_id(src, lineno, value)
            elif unit == "int":
                value = int(value)
            elif unit == "str":
                value = str(value)
            elif unit is not None:
                value = _si(value, unit)
        if name is not None:
            ev[name] = value
    return eid, ev


# --- section parsers: (state, line number, line) -----------------------------------------------
def _parse_version(st, lineno, line):
    parts = line.split()
    if len(parts) != 2 or parts[0] not in ("major", "minor", "revision"):
        raise st.src.error(lineno, f"bad [VERSION] line {line!r}")
    if parts[0] == "revision":
        st.version["revision"] = parts[1]
        return
    try:
        st.version[parts[0]] = int(parts[1])
    except ValueError:
        raise st.src.error(lineno, f"bad version number {parts[1]!r}") from None


def _number_or_text(p):
    try:
        return float(p)
    except ValueError:
        return p


def _parse_definition(st, lineno, line):
    parts = line.split()
    vals = [_number_or_text(p) for p in parts[1:]]
    st.definitions[parts[0]] = vals[0] if len(vals) == 1 else vals


def _parse_block(st, lineno, line):
    ids = [
        _int_id(st.src, lineno, x, "block field") for x in _numbers(st.src, lineno, line, (7, 8))
    ]
    st.blocks.append((lineno, ids + [0] * (8 - len(ids))))  # v1.3/1.4 without the EXT column


def _parse_rf(st, lineno, line):
    eid, ev = _event(st.src, lineno, *_columns(st, lineno, line, _RF))
    st.rf[eid] = ev


def _parse_gradient(st, lineno, line):
    eid, ev = _event(st.src, lineno, *_columns(st, lineno, line, _GRADIENTS))
    st.gradients[eid] = ev


def _parse_trap(st, lineno, line):
    v = _numbers(st.src, lineno, line, (6,))
    if min(v[2:]) < 0:
        raise st.src.error(lineno, "trapezoid times must be >= 0")
    eid, ev = _event(st.src, lineno, v, _TRAP)
    st.trap[eid] = ev


def _parse_adc(st, lineno, line):
    v, spec = _columns(st, lineno, line, _ADC)
    num = _int_id(st.src, lineno, v[1], "number of samples")
    if num < 1 or v[2] <= 0 or v[3] < 0:
        raise st.src.error(lineno, "ADC needs num >= 1, dwell > 0 and delay >= 0")
    eid, ev = _event(st.src, lineno, v, spec)
    st.adc[eid] = ev


def _parse_delay(st, lineno, line):
    v = _numbers(st.src, lineno, line, (2,))
    st.delays[_int_id(st.src, lineno, v[0])] = _si(v[1], "us->s")


def _keyword_int(src, lineno, line, form, what="id"):
    """The integer N of a line ``key N`` (``form`` is e.g. ``"shape_id N"``)."""
    parts = line.split()
    if len(parts) != 2 or parts[0] != form.split()[0]:
        raise src.error(lineno, f"expected {form!r}, got {line!r}")
    return _int_id(src, lineno, _numbers(src, lineno, parts[1], (1,))[0], what)


def _parse_shape(st, lineno, line):
    """``shape_id N``, ``num_samples M``, then the (compressed) samples, one per line."""
    sid = _keyword_int(st.src, lineno, line, "shape_id N")
    if not st.more():
        raise st.src.error(lineno, "shape without num_samples")
    ln2, l2 = st.take()
    num = _keyword_int(st.src, ln2, l2, "num_samples M", "num_samples")
    vals = []
    while st.more() and not st.peek().startswith(("[", "shape_id")):
        lnv, lv = st.take()
        vals.append(_numbers(st.src, lnv, lv, (1,))[0])
    try:
        st.shapes[sid] = decompress_shape(vals, num)
    except ValueError as e:
        raise st.src.error(lineno, f"shape {sid}: {e}") from None


def _skip(st, lineno, line):
    """Sections the reader does not use: extensions (labels, triggers, ...), signatures."""


_SECTIONS = {
    "[VERSION]": _parse_version,
    "[DEFINITIONS]": _parse_definition,
    "[BLOCKS]": _parse_block,
    "[RF]": _parse_rf,
    "[GRADIENTS]": _parse_gradient,
    "[TRAP]": _parse_trap,
    "[ADC]": _parse_adc,
    "[DELAYS]": _parse_delay,
    "[SHAPES]": _parse_shape,
    "[EXTENSIONS]": _skip,
    "[SIGNATURE]": _skip,
}


def _section_parser(src, lineno, line):
    """Parser of the section a header line opens (unknown sections are skipped)."""
    if not line.endswith("]"):
        raise src.error(lineno, f"malformed section header {line!r}")
    return _SECTIONS.get(f"[{line[1:-1].strip().upper()}]", _skip)


def parse_pulseq(path) -> PulseqFile:
    """Parse a Pulseq ``.seq`` file into its event tables (times in s, amplitudes in Hz, Hz/m).

    Raises:
        ValueError: malformed file, with ``path:line`` in the message.
    """
    st = _Parse(_Lines(path))
    parse_line = None
    while st.more():
        lineno, line = st.take()
        if line.startswith("["):
            parse_line = _section_parser(st.src, lineno, line)
        elif parse_line is None:
            raise st.src.error(lineno, f"content outside any [SECTION]: {line!r}")
        else:
            parse_line(st, lineno, line)
    version = st.version
    if "major" not in version or "minor" not in version:
        raise ValueError(f"{path}: missing [VERSION] major/minor")
    if (version["major"], version["minor"]) not in ((1, 3), (1, 4), (1, 5)):
        raise ValueError(
            f"{path}: unsupported Pulseq version "
            f"{version['major']}.{version['minor']} (1.3, 1.4, 1.5 are read)"
        )
    if not st.blocks:
        raise ValueError(f"{path}: no [BLOCKS]")
    pf = PulseqFile(
        (version["major"], version["minor"], version.get("revision", 0)),
        st.definitions,
        st.blocks,
        st.rf,
        st.gradients,
        st.trap,
        st.adc,
        st.delays,
        st.shapes,
        str(path),
    )
    _check_blocks(pf, st.src)
    _check_shapes(pf, st.src)
    return pf


def _check_blocks(pf, src):
    """Every event a block names is defined."""
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


def _check_shapes(pf, src):
    """Every shape an event names is defined; RF and arbitrary gradients have one."""
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
