"""Relaxometry input as scanners and converters write it: one 4-D NIfTI, or one file per echo /
inversion time / flip angle (a list or a glob), with the protocol read from BIDS JSON sidecars
when it is not given on the command line, and checks that the numbers are plausible."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import numpy as np

import netmag_jax.fit as nf

#: BIDS sidecar key of each protocol option (times in seconds, flip angles in degrees)
SIDECAR_KEYS = {
    "te": "EchoTime",
    "ti": "InversionTime",
    "tr": "RepetitionTime",
    "flip_deg": "FlipAngle",
    "esp": "EchoSpacing",
}

#: largest plausible value in seconds per time option (larger ones are milliseconds)
_MAX_SECONDS = {"te": 1.0, "ti": 20.0, "tr": 10.0, "esp": 1.0}


class Series:
    """Images (..., m) with the geometry of the first file and the sidecars of every file.

    Attributes:
        data: (..., m) float (or complex) images, the last axis the contrast.
        affine: 4x4 voxel-to-world matrix; header: the first file's NIfTI header.
        sidecars: one dict per file (a single 4-D file: one dict).
        files: the input paths, in contrast order.
    """

    def __init__(self, data, affine, header, sidecars, files):
        self.data, self.affine, self.header = data, affine, header
        self.sidecars: list[dict[str, Any]] = sidecars
        self.files: list[Path] = files

    def reorder(self, order):
        """The same series with its volumes (and per-file sidecars) in ``order``."""
        sc = [self.sidecars[i] for i in order] if len(self.sidecars) > 1 else self.sidecars
        files = [self.files[i] for i in order] if len(self.files) > 1 else self.files
        return Series(self.data[..., order], self.affine, self.header, sc, files)


def expand_paths(items) -> list[Path]:
    """Paths from ``--data`` values: each a file or a glob pattern (sorted matches).

    Raises:
        ValueError: a pattern matches no file.
    """
    out: list[Path] = []
    for item in items:
        s = str(item)
        if any(c in s for c in "*?["):
            hits = sorted(glob.glob(s))
            if not hits:
                raise ValueError(f"--data pattern {s!r} matches no file")
            out += [Path(h) for h in hits]
        else:
            out.append(Path(s))
    return out


def _volume(path, shape, affine):
    """One per-contrast volume; must match the first file's shape and affine."""
    v, a, _ = nf.load_nifti_image(path)
    if v.ndim == len(shape) + 1 and v.shape[-1] == 1:
        v = v[..., 0]
    if v.shape != shape:
        raise ValueError(f"{path}: volume shape {v.shape} differs from the first file's {shape}")
    if not np.allclose(a, affine, atol=1e-4):
        raise ValueError(f"{path}: affine differs from the first file's (not the same grid)")
    return v


def load_series(items, imag=None) -> Series:
    """Images from one multi-volume NIfTI or one NIfTI per contrast (stacked on a new last
    axis); ``imag``: the imaginary part(s), same layout (complex data).

    Raises:
        ValueError: unreadable file or sidecar, shapes or affines that differ between files.
    """
    files = expand_paths(items)
    first, affine, header = nf.load_nifti_image(files[0])
    if len(files) == 1:
        data = first
    else:
        if first.ndim == 4 and first.shape[-1] == 1:
            first = first[..., 0]
        data = np.stack([first] + [_volume(f, first.shape, affine) for f in files[1:]], -1)
    if data.ndim == 1:  # a single voxel: (m,) -> (1, 1, 1, m)
        data = data.reshape(1, 1, 1, -1)
    if imag is not None:
        im = load_series(imag).data
        if im.shape != data.shape:
            raise ValueError(
                f"real and imaginary images differ in shape: {data.shape} vs {im.shape}"
            )
        data = data + 1j * im
    sidecars = [nf.read_bids_sidecar(f) for f in files]
    return Series(data, affine, header, sidecars, files)


def _from_sidecars(key, flag, sidecars, m):
    """The m values of BIDS field ``key``: one per file, or a list of m in one sidecar."""
    vals: list = []
    for sc in sidecars:
        v = sc.get(key)
        if v is None:
            raise ValueError(
                f"no {flag} given and the sidecar(s) lack {key!r}: pass {flag} on the command "
                "line or add it to the BIDS JSON"
            )
        vals += list(v) if isinstance(v, list) else [v]
    try:
        arr = np.asarray(vals, float)
    except (TypeError, ValueError):
        raise ValueError(f"sidecar field {key!r} must hold numbers, got {vals}") from None
    if arr.size == 1 and m > 1 and len(sidecars) == 1:
        raise ValueError(
            f"one {key} in the sidecar but {m} volumes: pass {flag} with {m} values, or give "
            "one file per volume"
        )
    return arr


def protocol(cli_value, name, series: Series, m=None, scalar=False):
    """Protocol option ``name`` ('te', 'ti', 'tr', 'flip_deg', 'esp') from the command line,
    else from the sidecars; times checked for milliseconds.

    Args:
        cli_value: the command-line value (None: read the sidecars).
        m: number of volumes the values must match (None for a scalar option).
        scalar: the option is one number (TR, echo spacing): the sidecars must agree.
    Returns:
        (values as a float array, "command line" or "sidecar").
    Raises:
        ValueError: missing everywhere, wrong count, disagreeing sidecars, non-finite or
            non-positive values, or times that look like milliseconds.
    """
    flag = "--" + name.replace("_", "-")
    key = SIDECAR_KEYS[name]
    if cli_value is not None:
        vals, source = np.atleast_1d(np.asarray(cli_value, float)), "command line"
    else:
        vals, source = _from_sidecars(key, flag, series.sidecars, m), "sidecar"
        if scalar:
            if not np.allclose(vals, vals[0]):
                raise ValueError(f"the sidecars disagree on {key}: {vals.tolist()}")
            vals = vals[:1]
    if not scalar and m is not None and vals.size != m:
        what = {"te": "echo times", "ti": "inversion times", "flip_deg": "flip angles"}[name]
        raise ValueError(f"{vals.size} {what} given, the data have {m} volumes")
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or (name != "ti" and np.any(vals <= 0)):
        raise ValueError(f"{flag} values must be finite and > 0, got {vals.tolist()}")
    _check_seconds(name, flag, vals, source)
    return vals, source


def _check_seconds(name, flag, vals, source):
    """Times larger than any plausible value in seconds are milliseconds: a clear error."""
    limit = _MAX_SECONDS.get(name)
    if limit is None or np.max(vals) <= limit:
        return
    fix = " ".join(f"{v / 1000:g}" for v in vals[:6]) + (" ..." if vals.size > 6 else "")
    raise ValueError(
        f"{flag} from the {source} up to {np.max(vals):g} look like milliseconds (> {limit:g} s); "
        f"times are in seconds: divide by 1000, e.g. {flag} {fix}"
    )


def check_images(Y, noise="gaussian"):
    """Voxels that cannot be fitted, before any fit: counts for the summary.

    Returns:
        (bad (...) bool: a NaN/inf value, or a negative one for Rician magnitudes;
        counts dict).
    Raises:
        ValueError: all data are zero, or no voxel is finite.
    """
    finite = np.all(np.isfinite(Y), axis=-1)
    neg = np.any(np.real(Y) < 0, axis=-1) if noise == "rician" else np.zeros(finite.shape, bool)
    if not finite.any():
        raise ValueError("no voxel has finite data (every voxel holds NaN or inf)")
    if not np.any(np.where(finite[..., None], Y, 0) != 0):
        raise ValueError("the data are all zero: nothing to fit")
    counts = {"nonfinite_voxels": int((~finite).sum()), "negative_voxels": int(neg.sum())}
    return ~finite | neg, counts
