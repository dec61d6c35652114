"""Image input and map output of the relaxometry workflow (NIfTI, BIDS names, JSON, figure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import netmag_jax.fit as nf

from ..._io import run_outputs
from ._common import pyplot, save_figure, write_json


def load_matching(path, shape, what):
    """A NIfTI map (mask, B1) that must have the voxel shape ``shape`` of the images."""
    m, _ = nf.load_nifti(path)
    if m.shape != tuple(shape):
        raise ValueError(f"{what} shape {m.shape} does not match the image {tuple(shape)}")
    return m


def auto_mask(Y, threshold):
    """Voxels whose largest |signal| exceeds ``threshold`` x its 99th percentile over the
    voxels with finite data (drops the noise-only background; threshold 0 keeps every voxel).
    NaN/inf voxels are left out of the percentile and of the mask (their fits are flagged)."""
    absY = np.abs(Y)
    finite = np.all(np.isfinite(absY), axis=-1)
    peak = np.max(np.where(np.isfinite(absY), absY, 0.0), axis=-1)
    if not finite.any():
        return finite
    return finite & (peak > threshold * np.percentile(peak[finite], 99))


def bound_fractions(res, names, lo, hi, rtol=1e-6):
    """Per parameter with a finite bound: the fraction of converged voxels whose fit sits on
    its lower / upper bound (within ``rtol`` relative, or 1e-12 absolute at a zero bound)."""
    ok = np.asarray(res.converged)
    out = {}
    for i, n in enumerate(names):
        p = np.asarray(res.params[..., i])[ok]
        d = {}
        for side, b in (("lower", lo[i]), ("upper", hi[i])):
            if np.isfinite(b) and p.size:
                d[side] = float(np.mean(np.abs(p - b) <= rtol * abs(b) + 1e-12))
        if d:
            out[n] = d
    return out


def bound_flags(fractions, lo, hi, names, limit=0.05):
    """Warnings for maps whose voxels pile up on a bound (> ``limit`` of converged voxels)."""
    flags = []
    for n, d in fractions.items():
        i = names.index(n)
        for side, f in d.items():
            if f > limit:
                b = lo[i] if side == "lower" else hi[i]
                flags.append(
                    f"{n}: {100 * f:.1f} % of the fitted voxels sit on the {side} bound {b:g} "
                    "(wrong units, e.g. ms for s? a model that does not fit?)"
                )
    return flags


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


def output_names(prefix, bids, figure=True):
    """Every file ``write_outputs`` writes for these map suffixes (checked before a run)."""
    names = []
    for b in bids:
        if b is not None:
            names += [f"{prefix}_{b}.nii.gz", f"{prefix}_{b}.json"]
            names += [f"{prefix}_desc-stderr_{b}.nii.gz"]
    names += [f"{prefix}_desc-converged_mask.nii.gz", f"{prefix}_fit.json"]
    return names + ([f"{prefix}_maps.png"] if figure else [])


def _save_map(out, prefix, bids, res, i, geometry, sidecar):
    """Write map i, its standard errors (NaN where the fit failed) and its JSON sidecar."""
    ok = np.asarray(res.converged)
    val = np.where(ok, np.asarray(res.params[..., i]), np.nan)
    err = np.where(ok, np.asarray(res.stderr[..., i]), np.nan)
    files = [
        nf.save_nifti(out / f"{prefix}_{bids}.nii.gz", val, *geometry).name,
        nf.save_nifti(out / f"{prefix}_desc-stderr_{bids}.nii.gz", err, *geometry).name,
    ]
    write_json(out / f"{prefix}_{bids}.json", sidecar)
    return files + [f"{prefix}_{bids}.json"]


def write_outputs(out, prefix, res, maps, geometry=(None, None), summary=None, figure=True):
    """Write the maps (qMRI-BIDS names and JSON sidecars), stderr maps, mask, JSON summary and
    a figure; every file atomically. The summary marks the set (``netmag_jax._io.run_outputs``):
    ``"run_status": "running"`` before the first map, ``"complete"`` (and ``"complete": true``)
    written last, ``"failed"`` with the error if a write fails.

    Args:
        out: output folder (checked by ``prepare_outputs`` before the fit).
        prefix: BIDS prefix; res: the FitResult.
        maps: (names, bids, units, sidecar): parameter names, qMRI-BIDS suffix per parameter
            (None: not written), units, and the fields every map sidecar gets.
        geometry: (affine, header) of the input images (kept in the maps).
        summary: the summary dict (``summarize`` plus workflow fields), completed and written
            as ``<prefix>_fit.json``.
    Returns:
        The summary dict with the written file names.
    """
    names, bids, units, sidecar = maps
    out = Path(out)
    ok = np.asarray(res.converged)
    files = []
    with run_outputs(out / f"{prefix}_fit.json") as written:
        written.update(summary or {})
        for i, (b, u) in enumerate(zip(bids, units, strict=True)):
            if b is not None:
                meta = {"Units": u, **sidecar}
                files += _save_map(out, prefix, b, res, i, geometry, meta)
        mask_path = out / f"{prefix}_desc-converged_mask.nii.gz"
        files.append(nf.save_nifti(mask_path, ok.astype(float), *geometry).name)
        if figure and np.ndim(ok) >= 2:
            written["figure"] = _plot_maps(out / f"{prefix}_maps.png", res, names, bids, units)
        written.update(files=files, complete=True)
    return written


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
