r"""Pulseq ``.seq`` reader (file format v1.4 and v1.5; v1.3 block delays tolerated).

The file is a text file of sections: ``[VERSION]``, ``[DEFINITIONS]``, ``[BLOCKS]``, ``[RF]``,
``[GRADIENTS]``, ``[TRAP]``, ``[ADC]``, ``[DELAYS]`` (v1.3), ``[SHAPES]`` (run-length
compressed derivatives), ``[EXTENSIONS]`` (``_pulseq_ext``) and ``[SIGNATURE]`` (the md5 of
the text above it, checked). A UTF-8 byte-order mark is accepted. Units in the file:
RF amplitude in Hz (``gamma_bar B1``), gradients in Hz/m, delays/ramps in us, ADC dwell in
ns, block durations in units of ``BlockDurationRaster``. RF phase shapes are in units of
2 pi, the v1.5 ADC phase shape in rad; ``phase_ppm`` is rad per MHz of ``gamma_bar B0``.
The ``[DEFINITIONS]`` a simulation needs are exposed on :class:`PulseqFile` (``fov``,
``raster``, ``readout_oversampling``, ``B0``); raster times must be positive.

Parsing is a table of section parsers (``_SECTIONS``), one per ``[SECTION]``; the event
tables are read column by column from a spec of (field, unit) pairs per format version.
:func:`parse_pulseq` converts only times (us, ns -> s); the amplitudes stay in the file's
Hz and Hz/m until :func:`pulseq_to_sequence` (``_pulseq_convert``). Every conversion of the
file's units to SI goes through ``_UNITS``. Malformed input raises ``ValueError`` naming the
file and line; every count the file declares (shape lengths, run lengths, ADC samples) is
checked against ``MAX_SAMPLES`` before anything of that size is allocated, and every time
against ``MAX_TIME``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..constants import GAMMA_1H_HZ
from ._pulseq_checks import MAX_RASTER, MAX_SAMPLES, MAX_TIME, check_tables
from ._pulseq_ext import Extensions, adc_labels, parse_extension_line
from ._pulseq_text import _int_id, _Lines, _numbers
from ._pulseq_text import decompress_shape as decompress_shape

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
    ``extensions`` holds the ``[EXTENSIONS]`` tables (labels, triggers, soft delays,
    rotations); ``signature`` is the md5 the file declares (checked when read), or None.
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
    extensions: Extensions = dataclasses.field(default_factory=Extensions)
    signature: str | None = None
    definition_lines: dict = dataclasses.field(default_factory=dict)

    def definition(self, name, default):
        """The (first) value of the ``[DEFINITIONS]`` entry ``name`` as a float."""
        v = self.definitions.get(name, default)
        v = v[0] if isinstance(v, (list, tuple)) else v
        if not isinstance(v, (int, float)):
            line = self.definition_lines.get(name, "?")
            raise ValueError(f"{self.path}:{line}: definition {name} is not a number: {v!r}")
        return float(v)

    def raster(self, name):
        """Raster time ``name`` [s] (Pulseq's default when the file does not define it)."""
        return self.definition(name, _DEFAULT_RASTERS[name])

    @property
    def fov(self):
        """``FOV`` definition [m] as a tuple (x, y[, z]), or None when the file has none."""
        v = self.definitions.get("FOV")
        if not isinstance(v, list) or not all(isinstance(x, float) for x in v):
            return None
        return tuple(v)

    @property
    def readout_oversampling(self) -> float:
        """``ReadoutOversamplingFactor`` definition (1 when absent)."""
        return self.definition("ReadoutOversamplingFactor", 1.0)

    def adc_labels(self):
        """``{LABEL: [n_adc_blocks] int}``: label counters (LIN, REV, ...) at each ADC block,
        as pypulseq's ``evaluate_labels(evolution="adc")``."""
        return adc_labels(self)

    def triggers(self):
        """``[(block index, (type, channel, delay us, duration us))]`` of the TRIGGERS
        extension (kept for the record; they do not act on the spins)."""
        return [
            (i, v)
            for i, (_, ids) in enumerate(self.blocks)
            if ids[7]
            for name, _, v in self.extensions.chain(ids[7])
            if name == "TRIGGERS"
        ]

    @property
    def B0(self):
        """``B0`` definition [T], or None when the file has none."""
        return self.definition("B0", 0.0) or None


# --- event tables: the columns after the id, as "field:unit" ----------------------------------
# unit: absent keeps the number as written, "id" a non-negative integer id, "tid" a time-shape
# id (>= -1), "n" a sample count in [1, MAX_SAMPLES], "str" text, else a key of _UNITS (times
# are checked against MAX_TIME); field "-": a column the reader ignores.
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
    named = {name for name, _ in out}
    out.extend((name, _Fixed(v)) for name, v in fixed.items() if name not in named)
    return tuple(out)


_RF_COLUMNS = (
    "amp mag:id phase_shape:id time:id center:us->s delay:us->s"
    " freq_ppm phase_ppm freq phase use:str"
)
# (fields per line, spec) for v1.5, then for v1.4 (v1.3 lines lack the time-shape column)
_RF = (
    ((12,), _spec(_RF_COLUMNS)),
    ((7, 8), _spec(_RF_COLUMNS, center=None, freq_ppm=0.0, phase_ppm=0.0, use="u")),
)
_GRADIENTS = (  # time -1: samples every half gradient raster (pypulseq oversampling=True)
    ((7,), _spec("amp first last shape:id time:tid delay:us->s")),
    ((4, 5), _spec("amp shape:id time:tid delay:us->s", first=None, last=None)),
)
_ADC = (
    ((9,), _spec("num:n dwell:ns->s delay:us->s freq_ppm phase_ppm freq phase phase_shape:id")),
    (
        (6,),
        _spec(
            "num:n dwell:ns->s delay:us->s freq phase", freq_ppm=0.0, phase_ppm=0.0, phase_shape=0
        ),
    ),
)
_TRAP = _spec("amp rise:us->s flat:us->s fall:us->s delay:us->s")


class _Parse:
    """State of one parse: the line cursor and the tables filled so far."""

    def __init__(self, src):
        self.src, self.pos = src, 0
        self.version, self.definitions, self.blocks = {}, {}, []
        self.definition_lines, self.sig, self.extensions = {}, {}, Extensions()
        self.version_line = 1
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
                value = _int_id(src, lineno, value, name)
            elif unit == "tid":
                value = _int_id(src, lineno, value, "time shape id", low=-1)
            elif unit == "n":
                value = _int_id(src, lineno, value, "number of samples", low=1)
                if value > MAX_SAMPLES:
                    raise src.error(lineno, f"{value} samples exceed the limit {MAX_SAMPLES}")
            elif unit == "str":
                value = str(value)
            elif unit is not None:
                value = _si(value, unit)
                if unit.endswith("->s") and abs(value) > MAX_TIME:
                    raise src.error(lineno, f"{name} {value:g} s exceeds {MAX_TIME:g} s")
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
    st.version_line = lineno
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
    if parts[0] in _DEFAULT_RASTERS:
        r = vals[0] if len(vals) == 1 else None
        if not isinstance(r, float) or not (0 < r <= MAX_RASTER):
            raise st.src.error(
                lineno, f"{parts[0]} must be one time in (0, {MAX_RASTER:g}] s, got {line!r}"
            )
    if parts[0] == "FOV" and not (
        len(vals) in (2, 3) and all(isinstance(v, float) and 0 < v < 1e3 for v in vals)
    ):
        raise st.src.error(lineno, f"FOV must be 2 or 3 lengths in (0, 1000) m, got {line!r}")
    st.definitions[parts[0]] = vals if len(vals) != 1 or parts[0] == "FOV" else vals[0]
    st.definition_lines[parts[0]] = lineno


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
    if v[2] <= 0 or v[3] < 0:
        raise st.src.error(lineno, "ADC needs dwell > 0 and delay >= 0")
    eid, ev = _event(st.src, lineno, v, spec)
    if ev["num"] * ev["dwell"] > MAX_TIME:
        raise st.src.error(lineno, f"ADC lasts longer than {MAX_TIME:g} s")
    st.adc[eid] = ev


def _parse_delay(st, lineno, line):
    v = _numbers(st.src, lineno, line, (2,))
    if not 0 <= v[1] * 1e-6 <= MAX_TIME:
        raise st.src.error(lineno, f"delay must be in [0, {MAX_TIME:g}] s")
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
    """Sections the reader does not know (a Pulseq reader ignores them)."""


def _parse_extension(st, lineno, line):
    parse_extension_line(st.extensions, st.src, lineno, line)


def _parse_signature(st, lineno, line):
    """``Type md5`` and ``Hash <hex>``; other lines are rejected."""
    parts = line.split()
    if len(parts) != 2 or parts[0].lower() not in ("type", "hash"):
        raise st.src.error(lineno, f"bad [SIGNATURE] line {line!r}")
    st.sig[parts[0].lower()] = (parts[1], lineno)


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
    "[EXTENSIONS]": _parse_extension,
    "[SIGNATURE]": _parse_signature,
}


def _section_parser(src, lineno, line):
    """Parser of the section a header line opens (unknown sections are skipped)."""
    if not line.endswith("]"):
        raise src.error(lineno, f"malformed section header {line!r}")
    return _SECTIONS.get(f"[{line[1:-1].strip().upper()}]", _skip)


def parse_pulseq(path, check_signature=True, check_raster=True) -> PulseqFile:
    """Parse a Pulseq ``.seq`` file into its event tables (times in s, amplitudes in Hz, Hz/m).

    Args:
        path: file path (UTF-8, optionally with a byte-order mark).
        check_signature: compare the ``[SIGNATURE]`` md5 (if present) with the file's text.
        check_raster: require event timing on the file's rasters (as pypulseq's
            ``check_timing``: RF/ADC delays, ADC dwell, gradient delays and ramps).
    Raises:
        ValueError: malformed file, with ``path:line`` in the message.
    """
    return parse_pulseq_bytes(Path(path).read_bytes(), path, check_signature, check_raster)


def parse_pulseq_bytes(
    data: bytes, path="<bytes>", check_signature=True, check_raster=True
) -> PulseqFile:
    """:func:`parse_pulseq` of a file's content ``data``; ``path`` names it in errors."""
    st = _Parse(_Lines(path, data))
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
    last = st.src.items[-1][0] if st.src.items else 1
    if "major" not in version or "minor" not in version:
        raise st.src.error(1, "missing [VERSION] major/minor")
    if (version["major"], version["minor"]) not in ((1, 3), (1, 4), (1, 5)):
        raise st.src.error(
            st.version_line,
            f"unsupported Pulseq version {version['major']}.{version['minor']} "
            "(1.3, 1.4, 1.5 are read)",
        )
    if not st.blocks:
        raise st.src.error(last, "no [BLOCKS] in the file")
    signature = None
    if st.sig:
        if set(st.sig) != {"type", "hash"}:
            lineno = max(ln for _, ln in st.sig.values())
            raise st.src.error(lineno, "[SIGNATURE] needs Type and Hash")
        signature = (st.sig["type"][0], st.sig["hash"][0], st.sig["hash"][1])
        if check_signature:
            st.src.check_signature(signature)
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
        st.extensions,
        None if signature is None else signature[1],
        st.definition_lines,
    )
    check_tables(pf, st.src, check_raster)
    return pf
