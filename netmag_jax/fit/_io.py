"""Readers and writers for measured data: column-pair text files, NIfTI maps and their BIDS
JSON sidecars; every file is written atomically (``netmag_jax._io``: temporary file, fsync,
rename in its folder)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write as atomic_write

_MISSING = {"", "--", "-", "nan", "NaN", "NA", "n/a"}


def _parse_float(tok: str, where: str) -> float:
    tok = tok.strip()
    if tok in _MISSING:
        return np.nan
    try:
        return float(tok)
    except ValueError:
        raise ValueError(f"{where}: cannot read {tok!r} as a number") from None


def read_column_pairs(path, delimiter: str = "\t") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a text table whose columns come in (x, y) pairs, one header label per pair.

    The format met in magnetometry exports: a header line naming each column pair (labels
    separated by one or more delimiters), then rows of ``2 * n_pairs`` fields; shorter
    columns are padded with empty fields or ``--``; CRLF or LF line ends. Rows missing in a
    pair are dropped from that pair only, so the pairs may have different lengths. Values are
    returned as written (no unit conversion).

    Args:
        path: file path.
        delimiter: field separator (tab by default).
    Returns:
        dict label -> (x, y), each a 1-D float64 NumPy array, in file order.
    Raises:
        ValueError: unreadable file, no data, a header whose label count does not match the
            number of column pairs, or a field that is not a number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is dropped
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e}") from e
    lines = [ln.rstrip("\r\n") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    if len(lines) < 2:
        raise ValueError(f"{path}: needs a header line and at least one data row")
    labels = [
        s.strip() for s in re.split(re.escape(delimiter) + "+", lines[0].strip()) if s.strip()
    ]
    rows = [ln.split(delimiter) for ln in lines[1:]]
    n_fields = max(len(r) for r in rows)
    if n_fields % 2:
        raise ValueError(f"{path}: {n_fields} columns, expected an even number (x, y pairs)")
    n_pairs = n_fields // 2
    if len(labels) != n_pairs:
        raise ValueError(f"{path}: header names {len(labels)} column pairs, data have {n_pairs}")
    data = np.full((len(rows), n_fields), np.nan)
    for i, r in enumerate(rows):
        for j, tok in enumerate(r):
            data[i, j] = _parse_float(tok, f"{path.name} line {i + 2} column {j + 1}")
    out = {}
    for k, lab in enumerate(labels):
        x, y = data[:, 2 * k], data[:, 2 * k + 1]
        ok = np.isfinite(x) & np.isfinite(y)
        if not np.any(ok):
            raise ValueError(f"{path}: column pair {lab!r} holds no data")
        if lab in out:
            raise ValueError(f"{path}: duplicate column label {lab!r}")
        out[lab] = (x[ok], y[ok])
    return out


def _nibabel():
    try:
        import nibabel
    except ImportError:
        raise ImportError(
            "reading and writing NIfTI needs the optional dependency nibabel: "
            "pip install 'netmag_jax[io]' (or pip install nibabel)"
        ) from None
    return nibabel


def sidecar_path(nifti) -> Path:
    """The BIDS JSON sidecar of a NIfTI file: ``x.nii.gz`` / ``x.nii`` -> ``x.json``."""
    p = Path(nifti)
    name = p.name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return p.with_name(name[: -len(ext)] + ".json")
    return p.with_suffix(".json")


def read_bids_sidecar(nifti) -> dict:
    """The BIDS JSON sidecar of a NIfTI file as a dict ({} when there is none).

    Times in BIDS sidecars are in seconds (``EchoTime``, ``InversionTime``,
    ``RepetitionTime``), ``FlipAngle`` in degrees.

    Raises:
        ValueError: the sidecar exists but cannot be read or is not a JSON object (the
            message names the file and, for a syntax error, the line).
    """
    path = sidecar_path(nifti)
    if not path.exists():
        return {}
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: line {e.lineno}: {e.msg} (not valid JSON)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read sidecar {path}: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: line 1: a BIDS sidecar must be a JSON object")
    return obj


def load_nifti_image(path) -> tuple[np.ndarray, np.ndarray, Any]:
    """(data as float array, 4x4 affine, NIfTI header) of a NIfTI file; see ``load_nifti``."""
    nib = _nibabel()
    try:
        img: Any = nib.load(str(path))  # a NIfTI image (get_fdata, affine, header)
        return np.asarray(img.get_fdata()), np.asarray(img.affine), img.header
    except Exception as e:  # nibabel raises several types for unreadable files
        raise ValueError(f"cannot read NIfTI file {path}: {e}") from e


def load_nifti(path) -> tuple[np.ndarray, np.ndarray]:
    """Load a NIfTI image as (data as float array, 4x4 affine). Needs nibabel.

    Raises:
        ImportError: nibabel is not installed.
        ValueError: the file cannot be read.
    """
    data, affine, _ = load_nifti_image(path)
    return data, affine


def save_nifti(path, data, affine=None, header=None) -> Path:
    """Write an array as a NIfTI-1 image (float32; NaN kept), atomically. Needs nibabel.

    Args:
        path: output file (``.nii`` or ``.nii.gz``); its folder is created if missing.
        data: array of any shape; a single value (0-d) is written as a 1 x 1 x 1 image.
        affine: 4x4 voxel-to-world matrix (default identity).
        header: optional NIfTI header of the input image: its spatial/time units and its
            qform/sform codes are kept (the data type becomes float32, no scaling).
    Returns the path written.
    Raises:
        ValueError: ``path`` does not end in ``.nii`` or ``.nii.gz``.
    """
    path = Path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        raise ValueError(f"{path}: a NIfTI file name must end in .nii or .nii.gz")
    nib = _nibabel()
    path.parent.mkdir(parents=True, exist_ok=True)
    aff = np.eye(4) if affine is None else np.asarray(affine, float)
    arr = np.asarray(data, np.float32)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1, 1)
    img = nib.Nifti1Image(arr, aff)
    if header is not None and hasattr(header, "get_xyzt_units"):  # a NIfTI header
        img.header.set_xyzt_units(*header.get_xyzt_units())
        img.set_qform(aff, code=int(header["qform_code"]))
        img.set_sform(aff, code=int(header["sform_code"]))
    raw = img.to_bytes()  # the single-file NIfTI-1 that nib.save writes for ``.nii``
    if path.name.endswith(".gz"):  # nibabel's own compression level for ``.nii.gz``
        raw = gzip.compress(raw, compresslevel=1, mtime=0)
    return atomic_write(path, lambda tmp: tmp.write_bytes(raw))
