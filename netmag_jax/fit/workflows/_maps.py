"""Image input and map output of the relaxometry workflow (NIfTI, BIDS names, JSON, figure)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

import netmag_jax.fit as nf

from ._common import pyplot, save_figure, write_json


def load_images(path, imag=None):
    """(data, 4x4 affine) of a NIfTI file; with ``imag`` the complex image path + i imag."""
    data, affine = nf.load_nifti(path)
    if imag is not None:
        im, _ = nf.load_nifti(imag)
        if im.shape != data.shape:
            raise ValueError(
                f"real and imaginary images differ in shape: {data.shape} vs {im.shape}"
            )
        data = data + 1j * im
    return data, affine


def load_matching(path, shape, what):
    """A NIfTI map (mask, B1) that must have the voxel shape ``shape`` of the images."""
    m, _ = nf.load_nifti(path)
    if m.shape != tuple(shape):
        raise ValueError(f"{what} shape {m.shape} does not match the image {tuple(shape)}")
    return m


def auto_mask(Y, threshold):
    """Voxels whose largest |signal| exceeds ``threshold`` x its 99th percentile over voxels
    (drops the noise-only background; threshold 0 keeps every voxel)."""
    peak = np.max(np.abs(Y), axis=-1)
    return peak > threshold * np.percentile(peak, 99)


def summarize(res, names, units, sigma_known=False):
    """Median parameters / stderr over converged voxels, and the median goodness of fit.

    With a known noise level (``sigma_known``: sigma given, or the Rician likelihood) the
    residuals are in units of sigma and ``median_chi2_red`` is the reduced chi-square
    chi2 / (m - n) (about 1 for a right model). Without it the "chi2" is the residual sum of
    squares in data units, reported as ``median_residual_variance`` = RSS / (m - n), the
    noise-variance estimate (data unit squared), not as a reduced chi-square.
    """
    ok = np.asarray(res.converged)
    gof = float(np.median(np.asarray(res.chi2_red)[ok])) if ok.any() else None
    key = "median_chi2_red" if sigma_known else "median_residual_variance"
    out = {"n_voxels": int(ok.size), "n_converged": int(ok.sum()), "status": res.message()}
    out[key] = gof
    for i, (n, u) in enumerate(zip(names, units, strict=True)):
        p = np.asarray(res.params[..., i])[ok]
        e = np.asarray(res.stderr[..., i])[ok]
        out[n] = {
            "median": float(np.median(p)) if p.size else None,
            "median_stderr": float(np.median(e)) if e.size else None,
            "unit": u,
        }
    return out


def _save_map(out, prefix, bids, res, i, affine):
    """Write map i and its standard errors (NaN where the fit failed); returns file names."""
    ok = np.asarray(res.converged)
    val = np.where(ok, np.asarray(res.params[..., i]), np.nan)
    err = np.where(ok, np.asarray(res.stderr[..., i]), np.nan)
    try:
        return [
            nf.save_nifti(out / f"{prefix}_{bids}.nii.gz", val, affine).name,
            nf.save_nifti(out / f"{prefix}_desc-stderr_{bids}.nii.gz", err, affine).name,
        ]
    except ImportError as e:
        np.save(out / f"{prefix}_{bids}.npy", val)
        print(f"note: {e}; wrote NumPy arrays instead", file=sys.stderr)
        return [f"{prefix}_{bids}.npy"]


def write_outputs(
    out, prefix, res, names, bids, units, affine=None, figure=True, extra=None, sigma_known=False
):
    """Write maps (NIfTI when nibabel is present), stderr maps, mask, JSON and a figure.

    Maps get qMRI-BIDS names ``<prefix>_<bids>.nii.gz`` for each parameter whose ``bids``
    entry is not None (times in seconds). Returns the summary dict (also written as
    ``<prefix>_fit.json``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ok = np.asarray(res.converged)
    files = []
    for i, b in enumerate(bids):
        if b is not None:
            files += _save_map(out, prefix, b, res, i, affine)
    with contextlib.suppress(ImportError):
        mask = nf.save_nifti(out / f"{prefix}_desc-converged_mask.nii.gz", ok.astype(float), affine)
        files.append(mask.name)
    summary = summarize(res, names, units, sigma_known)
    summary["files"] = files
    if extra:
        summary.update(extra)
    if figure and np.ndim(ok) >= 2:
        summary["figure"] = _plot_maps(out / f"{prefix}_maps.png", res, names, bids, units)
    write_json(out / f"{prefix}_fit.json", summary)
    return summary


def _plot_maps(path, res, names, bids, units):
    """Maps (top row) and their standard errors (bottom row); middle slice of 3-D maps."""
    plt = pyplot()
    ok = np.asarray(res.converged)
    sel = [(i, n, b, u) for i, (n, b, u) in enumerate(zip(names, bids, units, strict=True)) if b]
    fig, axes = plt.subplots(2, len(sel), figsize=(3.2 * len(sel), 5.6), squeeze=False)
    for col, (i, n, b, u) in enumerate(sel):
        v = np.where(ok, np.asarray(res.params[..., i]), np.nan)
        e = np.where(ok, np.asarray(res.stderr[..., i]), np.nan)
        while v.ndim > 2:
            v, e = v[..., v.shape[-1] // 2], e[..., e.shape[-1] // 2]
        for row, (img, title) in enumerate(((v, f"{b} [{u}]"), (e, f"stderr {n} [{u}]"))):
            ax = axes[row, col]
            im = ax.imshow(img.T, origin="lower", cmap="viridis")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
            fig.colorbar(im, ax=ax, fraction=0.046)
    return save_figure(fig, path)
