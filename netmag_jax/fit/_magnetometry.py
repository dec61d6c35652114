r"""Readers for the files magnetometers write: Quantum Design ``.dat`` and long CSV/TSV tables.

Both give one ``MagnetometryData``: temperature T [K], field :math:`B = \mu_0 H` [T] and
moment M [mu_B per magnetic ion] (and its standard error when the file has one), one entry
per measured point, with the file line each point came from.

Quantum Design MPMS / MPMS3 / PPMS (MultiVu) ``.dat``: a ``[Header]`` block of comma-separated
records (``INFO,<value>,<KEY>``; ``SAMPLE_MASS`` in mg and ``SAMPLE_MOLECULAR_WEIGHT`` in
g/mol as MPMS3 MultiVu writes them), then ``[Data]``, one line of column names with units in
parentheses (``Temperature (K)``, ``Magnetic Field (Oe)``, ``Moment (emu)``,
``M. Std. Err. (emu)``, ``DC Moment Free Ctr (emu)``, ...) and comma-separated rows in which
unused columns are empty and comment rows fill only the first fields. Tab-separated copies
(saved through a spreadsheet) read the same.

Long tables: one header line of column names (units in parentheses or brackets:
``T (K)``, ``H [Oe]``, ``M (emu/mol)``, ``sigma``), comma-, tab- or blank-separated rows;
lines starting with ``#`` are comments.

Units: ``_magnetometry_units`` (conversion to mu_B per ion and mu_0 H in T, physical ranges).
Every error names the file and, for a value, its line and column.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._magnetometry_units import MAX_FIELD_T, MAX_MOMENT_MUB, MAX_TEMPERATURE_K, norm_unit
from ._magnetometry_units import field_to_tesla as field_to_tesla
from ._magnetometry_units import moment_to_muB as moment_to_muB

#: column-name stems (lower case, letters and digits only) recognised per role, best first
ALIASES = {
    "T": ("temperature", "temp", "t", "averagetemp"),
    "H": ("magneticfield", "field", "h", "mu0h", "b", "appliedfield"),
    "M": (
        "moment",
        "dcmomentfreectr",
        "dcmomentfixedctr",
        "m",
        "magnetization",
        "magnetisation",
        "longmoment",
    ),
}
#: error columns by the moment column they belong to (QD), then generic names
_SIGMA_OF = {
    "moment": ("mstderr",),
    "dcmomentfreectr": ("dcmomenterrfreectr",),
    "dcmomentfixedctr": ("dcmomenterrfixedctr",),
}
_SIGMA_GENERIC = ("sigma", "sigmam", "err", "error", "merr", "mstderr", "stderr", "dm", "mstd")
_NONFINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}


@dataclass(frozen=True)
class MagnetometryData:
    """Measured points of one file, in SI / mu_B per ion.

    Attributes:
        T: (n,) temperature [K]. B: (n,) field mu_0 H [T]. M: (n,) moment [mu_B per ion].
        sigma: (n,) standard error of M [mu_B per ion], or None (the file has none).
        lines: (n,) 1-based file line of each point.
        columns: role ("T", "H", "M", "sigma") -> column name read.
        units: role -> unit read (as written in the file or given).
        source: the file path. header: the QD header records ``{KEY: value}`` (empty else).
    """

    T: np.ndarray
    B: np.ndarray
    M: np.ndarray
    sigma: np.ndarray | None
    lines: np.ndarray
    columns: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    source: str = ""
    header: dict = field(default_factory=dict)


# --- the text ----------------------------------------------------------------------------------
def _stem(name: str) -> str:
    """Column name without its unit, lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"[(\[][^()\[\]]*[)\]]\s*$", "", name).lower())


def column_unit(name: str) -> str | None:
    """The unit in parentheses or brackets at the end of a column name, or None."""
    m = re.search(r"[(\[]([^()\[\]]*)[)\]]\s*$", name)
    return m.group(1).strip() if m and m.group(1).strip() else None


def _split(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    return next(csv.reader([line], delimiter=delim))


def _delimiter(line: str) -> str | None:
    return "\t" if "\t" in line else ("," if "," in line else None)


def _read_text(path: Path) -> list[str]:
    """The lines of ``path``: UTF-8, else Latin-1 (MultiVu on Windows writes cp1252 units);
    a UTF-8 byte-order mark is dropped in both cases (decoded as Latin-1 it would become
    ``"ï»¿"`` in front of ``[Header]`` or the first column name)."""
    try:
        raw = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.splitlines()


def _parse_qd(path: Path, lines: list[str]):
    """(header records, column names, [(line number, fields)]) of a MultiVu ``.dat``."""
    header, i = {}, 1
    while i < len(lines) and lines[i].strip().split(",")[0].split("\t")[0] != "[Data]":
        rec = [f.strip() for f in _split(lines[i], _delimiter(lines[i]))]
        rec = [f for f in rec if f] if "\t" in lines[i] else rec
        if len(rec) >= 3 and rec[0] == "INFO":
            header[rec[-1]] = ",".join(rec[1:-1]).strip()
        i += 1
    if i + 1 >= len(lines):
        raise ValueError(f"{path}: no [Data] section with a line of column names")
    delim = _delimiter(lines[i + 1])
    names = [n.strip() for n in _split(lines[i + 1], delim)]
    rows = [(k + 1, _split(ln, delim)) for k, ln in enumerate(lines) if k > i + 1 and ln.strip()]
    return header, names, rows


def _parse_table(path: Path, lines: list[str]):
    """(empty header, column names, [(line number, fields)]) of a long CSV/TSV table."""
    body = [
        (k + 1, ln) for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not body:
        raise ValueError(f"{path}: no header line of column names")
    delim = _delimiter(body[0][1])
    names = [n.strip() for n in _split(body[0][1], delim)]
    return {}, names, [(k, _split(ln, delim)) for k, ln in body[1:]]


def read_columns(path, format: str = "auto"):
    """(header records, column names, [(line number, fields)]) of a QD ``.dat`` (``format``
    "qd", or "auto" and the first line is ``[Header]``) or a long table ("table").

    Raises:
        ValueError: naming the file: unreadable, unknown format, no column names.
    """
    path = Path(path)
    if format not in ("auto", "qd", "table"):
        raise ValueError(f"format must be 'auto', 'qd' or 'table', got {format!r}")
    lines = _read_text(path)
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    is_qd = first.split(",")[0].split("\t")[0] == "[Header]"
    if format == "qd" and not is_qd:
        raise ValueError(f"{path}: not a Quantum Design .dat (no [Header] on its first line)")
    if is_qd and format != "table":
        return _parse_qd(path, lines)
    return _parse_table(path, lines)


# --- choosing columns --------------------------------------------------------------------------
def _find(names, wanted: str, role: str, path) -> int:
    """Index of the column named ``wanted`` (exact, else by stem), or ValueError listing."""
    for i, n in enumerate(names):
        if n == wanted:
            return i
    hits = [i for i, n in enumerate(names) if _stem(n) == _stem(wanted)]
    if len(hits) == 1:
        return hits[0]
    raise ValueError(f"{path}: no {role} column named {wanted!r}; columns are {names}")


def _has_data(rows, j) -> int:
    return sum(1 for _, r in rows if j < len(r) and r[j].strip())


def _auto(names, rows, role: str, path) -> int:
    """The column for ``role`` by name: the best alias that holds data (QD files carry
    empty columns for modes not used, e.g. ``Moment (emu)`` in DC scans)."""
    for alias in ALIASES[role]:
        hits = [i for i, n in enumerate(names) if _stem(n) == alias]
        hits = [i for i in hits if _has_data(rows, i)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            found = [names[i] for i in hits]
            raise ValueError(f"{path}: several {role} columns {found}; choose one by name")
    raise ValueError(
        f"{path}: no {role} column found (looked for {list(ALIASES[role])}); "
        f"name it explicitly; columns are {names}"
    )


def _auto_sigma(names, rows, moment_name: str) -> int | None:
    """The error column belonging to the moment column, if any holds data."""
    for alias in (*_SIGMA_OF.get(_stem(moment_name), ()), *_SIGMA_GENERIC):
        for i, n in enumerate(names):
            if _stem(n) == alias and _has_data(rows, i):
                return i
    return None


# --- values and units --------------------------------------------------------------------------
_CELL = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")


def _column_values(path, rows, j: int, name: str, unit: str | None):
    """(values, unit) of column j: numbers, NaN for an empty cell; a unit written in the
    cells ("5000 Oe") must be the same on every line and agree with the header's."""
    vals = np.full(len(rows), np.nan)
    for k, (line, r) in enumerate(rows):
        tok = r[j].strip() if j < len(r) else ""
        if not tok:
            continue
        where = f"{Path(path).name} line {line}, column {name!r}"
        if tok.lower() in _NONFINITE:
            raise ValueError(f"{where}: value {tok!r} is not a finite number")
        m = _CELL.match(tok)
        if not m:
            raise ValueError(f"{where}: cannot read {tok!r} as a number")
        cell_unit = (m.group(2) or "").strip() or None
        if cell_unit is not None:
            if unit is not None and norm_unit(cell_unit) != norm_unit(unit):
                raise ValueError(f"{where}: mixed units, {cell_unit!r} here and {unit!r} before")
            unit = cell_unit
        vals[k] = float(m.group(1))
    return vals, unit


def _resolve_unit(path, role: str, name: str, read: str | None, given: str | None) -> str:
    """The unit of a column: the file's, the option's, or an error if they disagree."""
    if read is not None and given is not None and norm_unit(read) != norm_unit(given):
        raise ValueError(
            f"{path}: mixed units, column {name!r} is in {read!r} but the {role} unit "
            f"given is {given!r}"
        )
    unit = read if read is not None else given
    if unit is None:
        raise ValueError(f"{path}: column {name!r} names no unit; give the {role} unit")
    return unit


def _header_float(header: dict, key: str):
    try:
        val = float(header.get(key, ""))
    except ValueError:
        return None
    return val if val > 0 and math.isfinite(val) else None


# --- the reader --------------------------------------------------------------------------------
def _choose_columns(path, names, rows, temperature, field_col, moment, sigma):
    """Column indices (T, H, M, sigma or None) chosen by name or found automatically."""
    cols = {}
    for role, wanted in (("T", temperature), ("H", field_col), ("M", moment)):
        cols[role] = (
            _auto(names, rows, role, path) if wanted is None else _find(names, wanted, role, path)
        )
    if sigma is None:
        cols["sigma"] = _auto_sigma(names, rows, names[cols["M"]])
    else:
        cols["sigma"] = _find(names, sigma, "error", path)
    return cols


def _read_values(path, names, rows, c, field_unit, moment_unit):
    """({role: values}, {role: unit}) of the chosen columns; every value present, T > 0 K."""
    vals, units = {}, {}
    for role, given in (("T", None), ("H", field_unit), ("M", moment_unit), ("sigma", moment_unit)):
        j = c[role]
        if j is None:
            continue
        v, read = _column_values(path, rows, j, names[j], column_unit(names[j]))
        vals[role] = v
        units[role] = (
            (read or "K") if role == "T" else _resolve_unit(path, role, names[j], read, given)
        )
    for role in [r for r in ("T", "H", "M", "sigma") if r in vals]:
        empty = np.flatnonzero(np.isnan(vals[role]))
        if empty.size:
            raise ValueError(
                f"{path.name} line {rows[empty[0]][0]}: column {names[c[role]]!r} is empty"
            )
    if norm_unit(units["T"]) != "k":
        raise ValueError(f"{path}: temperature column {names[c['T']]!r} must be in K")
    bad = np.flatnonzero(vals["T"] <= 0)
    if bad.size:
        raise ValueError(
            f"{path.name} line {rows[bad[0]][0]}: temperature {vals['T'][bad[0]]} K <= 0"
        )
    return vals, units


_RANGES = (  # role, attribute, bound, what, unit, what to check
    ("T", "T", MAX_TEMPERATURE_K, "temperature", "K", "the temperature column and unit"),
    ("H", "B", MAX_FIELD_T, "field mu0 H", "T", "the field unit"),
    ("M", "M", MAX_MOMENT_MUB, "moment", "mu_B per ion", "the moment unit and the masses"),
    ("sigma", "sigma", MAX_MOMENT_MUB, "error", "mu_B per ion", "the error column's unit"),
)


def check_ranges(data: MagnetometryData) -> MagnetometryData:
    """``data`` if every value is within its physical range (after unit conversion): T <=
    ``MAX_TEMPERATURE_K``, |mu0 H| <= ``MAX_FIELD_T``, |M| and sigma <= ``MAX_MOMENT_MUB``
    (a conversion that overflowed to inf is out of range too).

    Raises:
        ValueError: naming the file, line and column of the first value out of range, the
            value in SI / mu_B per ion, the limit and what to check (unit, sample mass, ...).
    """
    for role, attr, bound, what, unit, hint in _RANGES:
        values = getattr(data, attr)
        if values is None:  # no error column
            continue
        bad = np.flatnonzero(~(np.abs(values) <= bound))
        if bad.size == 0:
            continue
        i = int(bad[0])
        column = data.columns.get(role)
        where = (
            f"{Path(data.source).name} line {data.lines[i]}"
            if data.lines[i] > 0
            else f"{data.source} point {i + 1}"
        ) + (f", column {column!r}" if column else "")
        raise ValueError(
            f"{where}: {what} {values[i]:.4g} {unit} is beyond the physical range "
            f"(|{what}| <= {bound:g} {unit}); check {hint}"
        )
    return data


def read_magnetometry(
    path,
    *,
    temperature=None,
    field=None,
    moment=None,
    sigma=None,
    field_unit=None,
    moment_unit=None,
    mass_mg=None,
    molar_mass=None,
    ions_per_formula=1.0,
    format="auto",
) -> MagnetometryData:
    """Read M(H, T) from a Quantum Design ``.dat`` or a long CSV/TSV table.

    (Long because this docstring lists every column option and unit; the body only dispatches
    to the format readers and the unit conversion.)

    Args:
        path: the file.
        temperature, field, moment, sigma: column names (None: found by name; ``sigma`` None
            and no error column found gives ``data.sigma = None``).
        field_unit, moment_unit: units when the column names carry none (a unit that
            disagrees with the file's is an error: mixed units).
        mass_mg, molar_mass: sample mass [mg] and molar mass [g/mol] of the formula unit,
            needed for emu and emu/g; default from the QD header (SAMPLE_MASS,
            SAMPLE_MOLECULAR_WEIGHT).
        ions_per_formula: magnetic ions per formula unit.
        format: "auto" (QD if the file starts with ``[Header]``), "qd" or "table".
    Returns:
        MagnetometryData (points in file order).
    Raises:
        ValueError: naming the file (and line and column for a value): unreadable file, a
            column not found, unknown or mixed units, a non-finite or unreadable value, a
            partly empty row, T <= 0, sigma <= 0, no data, or a value beyond its physical
            range (``check_ranges``).
    """
    path = Path(path)
    header, names, rows = read_columns(path, format)
    c = _choose_columns(path, names, rows, temperature, field, moment, sigma)
    used = [c[r] for r in ("T", "H", "M")]
    rows = [(ln, r) for ln, r in rows if any(j < len(r) and r[j].strip() for j in used)]
    if not rows:
        raise ValueError(f"{path}: no data rows in columns {[names[j] for j in used]}")
    vals, units = _read_values(path, names, rows, c, field_unit, moment_unit)
    where = f"{path}: "
    B = field_to_tesla(vals["H"], units["H"], where)
    mass = mass_mg if mass_mg is not None else _header_float(header, "SAMPLE_MASS")
    weight = (
        molar_mass if molar_mass is not None else _header_float(header, "SAMPLE_MOLECULAR_WEIGHT")
    )

    def to_muB(v, unit):
        return moment_to_muB(
            v,
            unit,
            H_Oe=B * 1e4,
            mass_mg=mass,
            molar_mass=weight,
            ions_per_formula=float(ions_per_formula),
            where=where,
        )

    with np.errstate(over="ignore"):  # an overflow to inf is reported by check_ranges
        M = to_muB(vals["M"], units["M"])
        s = None if "sigma" not in vals else np.abs(to_muB(vals["sigma"], units["sigma"]))
    if s is not None:
        bad = np.flatnonzero(~(s > 0))
        if bad.size:
            raise ValueError(
                f"{path.name} line {rows[bad[0]][0]}: error {vals['sigma'][bad[0]]} is not > 0"
            )
    data = MagnetometryData(
        T=vals["T"],
        B=B,
        M=M,
        sigma=s,
        lines=np.array([ln for ln, _ in rows]),
        columns={r: names[j] for r, j in c.items() if j is not None},
        units=units,
        source=str(path),
        header=header,
    )
    return check_ranges(data)
