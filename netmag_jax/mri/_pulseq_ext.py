r"""Pulseq ``[EXTENSIONS]``: labels, triggers, soft delays and rotations.

The section holds a linked list of extension entries ``id type ref next_id`` (a block's EXT
column names the first; ``next_id = 0`` ends the list) and, after each ``extension NAME
type_id`` header, the specifications of that type, one per ``ref``:

* ``LABELSET`` / ``LABELINC``: ``ref value LABEL`` (set / increment a counter such as LIN);
* ``TRIGGERS``: ``ref type channel delay duration`` (delay, duration in us; they have no
  effect on the spins and are kept for the record);
* ``DELAYS`` (soft delays): ``ref num offset factor hint`` (the file's block durations are
  the defaults these hints may change on the scanner; the reader keeps the defaults);
* ``ROTATIONS``: ``ref q0 qx qy qz`` (a unit quaternion) or nine entries of a rotation
  matrix (row-major): the block's gradients ``(gx, gy, gz)`` are rotated by it.

Any other extension a block uses is rejected with its file and line, never ignored.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

SUPPORTED = ("LABELSET", "LABELINC", "TRIGGERS", "DELAYS", "ROTATIONS")


@dataclasses.dataclass
class Extensions:
    """The parsed ``[EXTENSIONS]`` section.

    Attributes:
        entries: ``{id: (type_id, ref, next_id, line)}``.
        names: ``{type_id: NAME}`` from the ``extension NAME type_id`` headers.
        specs: ``{NAME: {ref: (values, line)}}``.
    """

    entries: dict = dataclasses.field(default_factory=dict)
    names: dict = dataclasses.field(default_factory=dict)
    specs: dict = dataclasses.field(default_factory=dict)
    current: str | None = None

    def chain(self, ext_id):
        """``[(NAME, ref, values), ...]`` of the extension list starting at ``ext_id``."""
        out, seen = [], set()
        while ext_id:
            seen.add(ext_id)
            type_id, ref, ext_id, _ = self.entries[ext_id]
            name = self.names[type_id]
            out.append((name, ref, self.specs[name][ref][0]))
            if ext_id in seen:
                break
        return out

    def rotation(self, ext_id):
        """3 x 3 rotation matrix of the block's ``ROTATIONS`` extension, or None."""
        rots = [v for name, _, v in self.chain(ext_id) if name == "ROTATIONS"]
        return rots[0] if rots else None

    def labels(self, ext_id):
        """``[(kind, LABEL, value)]`` with kind "set" or "inc", in the list's order."""
        kinds = {"LABELSET": "set", "LABELINC": "inc"}
        return [(kinds[n], v[1], v[0]) for n, _, v in self.chain(ext_id) if n in kinds]


def _rotation_matrix(src, lineno, vals):
    if len(vals) == 4:
        q = np.asarray(vals)
        if abs(np.linalg.norm(q) - 1) > 1e-6:
            raise src.error(lineno, f"rotation quaternion must have unit norm, got {vals}")
        w, x, y, z = q
        return np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
            ]
        )
    if len(vals) == 9:
        m = np.asarray(vals).reshape(3, 3)
        if np.max(np.abs(m @ m.T - np.eye(3))) > 1e-6 or np.linalg.det(m) < 0:
            raise src.error(lineno, "rotation matrix must be orthonormal with determinant +1")
        return m
    raise src.error(lineno, f"a rotation needs 4 (quaternion) or 9 (matrix) numbers, got {vals}")


def _number(src, lineno, p):
    try:
        v = float(p)
    except ValueError:
        raise src.error(lineno, f"not a number: {p!r}") from None
    if not math.isfinite(v) or abs(v) > 2**53:
        raise src.error(lineno, f"not a finite number of at most 2**53: {p!r}")
    return v


def _spec_values(src, lineno, name, parts):
    """Values of one specification line ``ref ...`` of extension ``name``."""
    if name in ("LABELSET", "LABELINC"):
        if len(parts) != 3:
            raise src.error(lineno, f"{name} needs 'id value LABEL', got {' '.join(parts)!r}")
        value = _number(src, lineno, parts[1])
        if value != int(value):
            raise src.error(lineno, f"label value must be an integer, got {parts[1]!r}")
        return (int(value), parts[2])
    if name == "TRIGGERS":
        if len(parts) != 5:
            raise src.error(lineno, "TRIGGERS needs 'id type channel delay duration'")
        return tuple(_number(src, lineno, p) for p in parts[1:])
    if name == "DELAYS":
        if len(parts) != 5:
            raise src.error(lineno, "DELAYS needs 'id num offset factor hint'")
        return (*(_number(src, lineno, p) for p in parts[1:4]), parts[4])
    if name == "ROTATIONS":
        return _rotation_matrix(src, lineno, [_number(src, lineno, p) for p in parts[1:]])
    return tuple(parts[1:])


def _int(src, lineno, p, what):
    v = _number(src, lineno, p)
    if v != int(v) or v < 0:
        raise src.error(lineno, f"{what} must be a non-negative integer, got {p!r}")
    return int(v)


def parse_extension_line(ext: Extensions, src, lineno, line):
    """Read one line of ``[EXTENSIONS]`` into ``ext`` (entries, headers, specifications)."""
    parts = line.split()
    if parts[0] == "extension":
        if len(parts) != 3:
            raise src.error(lineno, f"expected 'extension NAME id', got {line!r}")
        type_id = _int(src, lineno, parts[2], "extension type id")
        ext.names[type_id] = parts[1]
        ext.current = parts[1]
        ext.specs.setdefault(parts[1], {})
        return
    if ext.current is None:
        if len(parts) != 4:
            raise src.error(lineno, f"expected 'id type ref next_id', got {line!r}")
        eid, type_id, ref, nxt = (_int(src, lineno, p, "extension field") for p in parts)
        if eid == 0:
            raise src.error(lineno, "extension id 0 is reserved (no extension)")
        ext.entries[eid] = (type_id, ref, nxt, lineno)
        return
    ref = _int(src, lineno, parts[0], "extension spec id")
    ext.specs[ext.current][ref] = (_spec_values(src, lineno, ext.current, parts), lineno)


def check_extensions(ext: Extensions, src, blocks):
    """Every block's extension list is defined, finite, supported and has at most one rotation."""
    checked = {}
    for lineno, b in blocks:
        eid = b[7]
        if not eid or eid in checked:
            continue
        seen, n_rot, e = set(), 0, eid
        while e:
            if e not in ext.entries:
                raise src.error(lineno, f"block refers to undefined extension {e}")
            if e in seen:
                raise src.error(ext.entries[e][3], f"extension list {eid} loops at entry {e}")
            seen.add(e)
            type_id, ref, nxt, eline = ext.entries[e]
            name = ext.names.get(type_id)
            if name is None:
                raise src.error(eline, f"extension type {type_id} has no 'extension NAME' header")
            if name not in SUPPORTED:
                raise src.error(
                    eline,
                    f"block at line {lineno} uses extension {name}, which this reader cannot "
                    f"apply (supported: {', '.join(SUPPORTED)})",
                )
            if ref not in ext.specs.get(name, {}):
                raise src.error(eline, f"extension {name} has no specification {ref}")
            n_rot += name == "ROTATIONS"
            e = nxt
        if n_rot > 1:
            raise src.error(lineno, "block has more than one rotation extension")
        checked[eid] = True


def adc_labels(pf):
    """Label counters at each ADC event, as pypulseq's ``evaluate_labels(evolution="adc")``.

    ``LABELSET`` sets and ``LABELINC`` increments a counter (in the extension list's order)
    in every block; the values in force in each block with an ADC are recorded.

    Returns:
        ``{LABEL: int array [n_adc_blocks]}`` for every label the file uses (0 before set).
    """
    state, rows = {}, []
    for _, ids in pf.blocks:
        if ids[7]:
            for kind, name, value in pf.extensions.labels(ids[7]):
                state[name] = value if kind == "set" else state.get(name, 0) + value
        if ids[6]:
            rows.append(dict(state))
    names = sorted({k for r in rows for k in r} | set(state))
    return {k: np.array([r.get(k, 0) for r in rows], dtype=np.int64) for k in names}
