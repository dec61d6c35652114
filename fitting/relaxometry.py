"""Relaxometry maps: T1 (inversion recovery, variable flip angle) and T2 (multi-echo spin echo).

Usage (also as ``netmag fit relaxometry ...``)::

    python fitting/relaxometry.py synth --kind ir --out phantom/          # a test data set
    python fitting/relaxometry.py ir --data phantom/ir.nii.gz --ti 0.05 0.1 ... --out maps/
    python fitting/relaxometry.py ir --data re.nii.gz --data-imag im.nii.gz --ti ... --out maps/
    python fitting/relaxometry.py vfa --data vfa.nii.gz --flip-deg 3 10 20 --tr 0.015 \
        --b1 b1.nii.gz --out maps/
    python fitting/relaxometry.py t2 --data mese.nii.gz --te 0.01 0.02 ... --out maps/
    python fitting/relaxometry.py t2-epg --data mese.nii.gz --esp 0.01 --t1 1.0 --out maps/

Input: a 4-D (or 2-D/3-D) NIfTI whose last axis is the contrast (TI, flip angle or echo).
Output (qMRI-BIDS names, times in seconds): ``<prefix>_T1map.nii.gz`` / ``_T2map``,
``_M0map``, ``_B1map`` (EPG), ``<prefix>_desc-stderr_T1map.nii.gz`` (standard errors),
``<prefix>_desc-converged_mask.nii.gz`` (1 where the voxel fit succeeded; background and
failed voxels are 0 and NaN in the maps), a JSON summary and a PNG of the maps. Without
``--mask``, voxels whose peak signal is below ``--threshold`` (default 0.1) of the 99th
percentile are treated as background and not fitted.

Models (``netmag_jax.fit``): magnitude IR |a + b exp(-TI/T1)| fitted with polarity restoration
(Barral et al., MRM 64:1057, 2010: the points before the signal minimum are sign-flipped, the
two candidate flips both fitted, the lower chi2 kept); complex IR (a + b exp(-TI/T1)) e^{i phi};
VFA spoiled GRE (Ernst) with the actual flip angle = nominal x B1; mono-exponential T2; and
EPG CPMG (stimulated echoes, B1 fitted). NIfTI needs nibabel (``pip install nibabel``).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache, partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import netmag_jax.fit as nf
import contextlib

# ISMRM/NIST system phantom (model 130), reference values at 3 T and 20 C, in seconds
# (NiCl2 "T1 array" and MnCl2 "T2 array" spheres 1-14; Stupic et al., MRM 86:1194, 2021, and
# the phantom's documentation; rounded). Used as the ground truth of the synthetic data.
NIST_T1_3T = np.array(
    [
        1.989,
        1.454,
        0.9841,
        0.706,
        0.4967,
        0.3515,
        0.2471,
        0.1753,
        0.1259,
        0.0890,
        0.0627,
        0.04453,
        0.03084,
        0.02172,
    ]
)
NIST_T2_3T = np.array(
    [
        0.5813,
        0.4035,
        0.2781,
        0.1909,
        0.1333,
        0.0969,
        0.0641,
        0.0464,
        0.0320,
        0.02256,
        0.01581,
        0.01124,
        0.00791,
        0.00559,
    ]
)


# --- fits ---------------------------------------------------------------------------------------


def fit_ir_magnitude(TI, Y, mask=None, chunk_size=4096):
    """T1 from magnitude inversion recovery with polarity restoration.

    Args:
        TI: (m,) inversion times [s]. Y: (..., m) magnitude images. mask: (...) bool or None.
    Returns:
        (FitResult of the signed model (a, b, T1) per voxel, polarity index per voxel).
    """
    TI = np.asarray(TI, float)
    order = np.argsort(TI)
    TI, Y = TI[order], np.abs(np.asarray(Y, float))[..., order]
    m = TI.size
    imin = np.argmin(Y, axis=-1)
    ks = np.stack([imin, np.minimum(imin + 1, m)], axis=-1)  # points with index < k flipped
    idx = np.arange(m)
    signed = np.where(idx[None] < ks[..., None], -1.0, 1.0) * Y[..., None, :]  # (..., 2, m)
    a0 = np.max(Y, axis=-1)
    t_null = TI[np.clip(imin, 0, m - 1)]
    p0 = np.stack([a0, -2.0 * a0, np.maximum(t_null / np.log(2.0), 1e-3)], -1)
    p0 = np.repeat(p0[..., None, :], 2, axis=-2)
    msk = None if mask is None else np.repeat(np.asarray(mask)[..., None], 2, axis=-1)
    res = nf.fit_voxels(
        nf.inversion_recovery_signed,
        TI,
        signed,
        p0,
        mask=msk,
        bounds=([-np.inf, -np.inf, 1e-4], [np.inf, np.inf, 20.0]),
        chunk_size=chunk_size,
    )
    chi2 = np.where(np.asarray(res.converged), np.asarray(res.chi2), np.inf)
    best = np.argmin(chi2, axis=-1)
    return select_candidate(res, best), np.take_along_axis(ks, best[..., None], -1)[..., 0]


def select_candidate(res, best):
    """From a FitResult whose last voxel axis enumerates candidates, keep candidate ``best``."""

    def sel(a):
        a = np.asarray(a)
        ix = best.reshape(best.shape + (1,) * (a.ndim - best.ndim))
        return np.take_along_axis(a, ix, axis=best.ndim).squeeze(best.ndim)

    return jax.tree.map(lambda a: jnp.asarray(sel(a)), res)


def fit_ir_complex(TI, Y, mask=None, chunk_size=4096):
    """T1 from complex inversion recovery, (a + b exp(-TI/T1)) e^{i phi} per voxel.

    Args:
        TI: (m,) inversion times [s]. Y: (..., m) complex images. mask: (...) bool or None.
    Returns:
        FitResult with params (a, b, T1 [s], phi [rad]).
    """
    TI = np.asarray(TI, float)
    Y = np.asarray(Y, complex)
    last = Y[..., np.argmax(TI)]
    a0 = np.abs(last)
    p0 = np.stack([a0, -2.0 * a0, np.full(a0.shape, np.median(TI)), np.angle(last)], -1)
    return nf.fit_voxels(
        nf.inversion_recovery_complex,
        TI,
        Y,
        p0,
        mask=mask,
        bounds=([-np.inf, -np.inf, 1e-4, -2 * np.pi], [np.inf, np.inf, 20.0, 2 * np.pi]),
        chunk_size=chunk_size,
    )


def fit_vfa(flip_deg, TR, Y, b1=None, mask=None, chunk_size=4096):
    """T1 from variable-flip-angle spoiled GRE with a B1 (transmit scale) correction map.

    Starting values from the linear DESPOT1 form S/sin(a) = E1 S/tan(a) + M0 (1 - E1).

    Args:
        flip_deg: (m,) nominal flip angles [deg]. TR: repetition time [s].
        Y: (..., m) images. b1: (...) actual/nominal flip angle ratio (None = 1).
    Returns:
        FitResult with params (M0, T1 [s]).
    """
    Y = np.asarray(Y, float)
    vox = Y.shape[:-1]
    b1 = np.ones(vox) if b1 is None else np.asarray(b1, float)
    alpha = np.deg2rad(np.asarray(flip_deg, float)) * b1[..., None]
    xs, ys = Y / np.tan(alpha), Y / np.sin(alpha)
    xm, ym = xs.mean(-1, keepdims=True), ys.mean(-1, keepdims=True)
    slope = np.sum((xs - xm) * (ys - ym), -1) / np.maximum(np.sum((xs - xm) ** 2, -1), 1e-30)
    E1 = np.clip(np.nan_to_num(slope, nan=0.9), 0.05, 0.9995)
    M0 = np.clip(np.nan_to_num((ym[..., 0] - slope * xm[..., 0]) / (1 - E1)), 1e-6, None)
    M0 = np.where(M0 > 1e-6, M0, np.max(np.abs(Y), axis=-1) * 10 + 1e-3)
    p0 = np.stack([M0, np.clip(-TR / np.log(E1), 1e-3, 10.0)], -1)
    model = _spgr_model(float(TR))
    return nf.fit_voxels(
        model,
        alpha,
        Y,
        p0,
        mask=mask,
        x_per_voxel=True,
        bounds=([0.0, 1e-4], [np.inf, 20.0]),
        chunk_size=chunk_size,
    )


@lru_cache(maxsize=32)
def _spgr_model(TR):
    """One function object per TR, so repeated fits reuse the compiled solver."""
    return partial(nf.spgr, TR=TR)


def _loglinear_p0(TE, Y):
    """(M0, T2) starting values from a log-linear fit of the first and last echoes."""
    Yc = np.maximum(np.abs(Y), 1e-12)
    i, j = 0, len(TE) - 1
    k = np.log(Yc[..., i] / Yc[..., j]) / (TE[j] - TE[i])
    T2 = np.clip(1.0 / np.maximum(k, 1e-6), 1e-3, 5.0)
    return np.stack([Yc[..., i] * np.exp(TE[i] / T2), T2], -1)


def fit_t2(TE, Y, mask=None, noise="gaussian", sigma=None, chunk_size=4096):
    """Mono-exponential T2 from multi-echo spin echo, Gaussian or Rician likelihood.

    Args:
        TE: (m,) echo times [s]. Y: (..., m) magnitude images. sigma: noise level (rician).
    Returns:
        FitResult with params (M0, T2 [s]).
    """
    TE = np.asarray(TE, float)
    Y = np.asarray(Y, float)
    return nf.fit_voxels(
        nf.exponential_decay,
        TE,
        Y,
        _loglinear_p0(TE, Y),
        mask=mask,
        noise=noise,
        sigma=sigma,
        bounds=([0.0, 1e-4], [np.inf, 10.0]),
        chunk_size=chunk_size,
    )


@lru_cache(maxsize=32)
def epg_model(n_echoes, esp, T1):
    """``model(x, M0, T2, B1)`` for CPMG echoes from EPG (x = echo index, unused values)."""

    def model(x, M0, T2, B1):
        return M0 * nf.cpmg_epg(n_echoes, esp, T2, T1, B1)

    return model


def fit_t2_epg(esp, Y, T1=1.0, mask=None, chunk_size=4096):
    """T2 and B1 from CPMG echoes with the EPG model (stimulated-echo correction).

    Args:
        esp: echo spacing [s] (echo k at k * esp). Y: (..., n_echoes) magnitude images.
        T1: assumed longitudinal relaxation time [s] (weakly affects the stimulated echoes).
    Returns:
        FitResult with params (M0, T2 [s], B1).
    """
    Y = np.asarray(Y, float)
    n = Y.shape[-1]
    TE = esp * np.arange(1, n + 1)
    p0 = _loglinear_p0(TE, Y)
    p0 = np.concatenate([p0, np.full(p0.shape[:-1] + (1,), 0.9)], -1)
    return nf.fit_voxels(
        epg_model(n, float(esp), float(T1)),
        TE,
        Y,
        p0,
        mask=mask,
        bounds=([0.0, 1e-4, 0.4], [np.inf, 10.0, 1.2]),
        chunk_size=chunk_size,
    )


# --- synthetic data (ground truth known) ---------------------------------------------------------
def phantom_layout(n_spheres=14, block=8, radius=3.2):
    """Label image (0 = background, k = sphere k) with spheres on a square grid of blocks."""
    side = int(np.ceil(np.sqrt(n_spheres)))
    lab = np.zeros((side * block, side * block), int)
    yy, xx = np.mgrid[:block, :block] - (block - 1) / 2
    disk = xx**2 + yy**2 <= radius**2
    for k in range(n_spheres):
        r, c = divmod(k, side)
        lab[r * block : (r + 1) * block, c * block : (c + 1) * block][disk] = k + 1
    return lab


def synth(kind, seed=0, snr=200.0, block=8):
    """Synthetic NIST-phantom data with Gaussian noise (complex noise -> Rician magnitude).

    Ground truth: NIST_T1_3T / NIST_T2_3T per sphere, M0 = 1, noise sigma = 1/snr per channel.
    Protocols: ir TI = 0.025..4 s (12, log-spaced), TR long (ideal b = -2a);
    vfa TR = 15 ms, flip 2, 5, 10, 15, 20, 30 deg, B1 map 0.8..1.2 (linear across x);
    t2 32 echoes, 10 ms spacing; t2-epg the same echoes with B1 0.8..1.0 (EPG, T1 = 1 s).
    Returns dict: data (X, Y, m), truth (maps), protocol (dict), labels, sigma.
    """
    rng = np.random.default_rng(seed)
    lab = phantom_layout(block=block)
    inside = lab > 0
    T1 = np.where(inside, NIST_T1_3T[np.maximum(lab - 1, 0)], 0.0)
    T2 = np.where(inside, NIST_T2_3T[np.maximum(lab - 1, 0)], 0.0)
    M0 = inside.astype(float)
    sigma = 1.0 / snr
    ny, nx = lab.shape
    b1 = np.tile(np.linspace(0.8, 1.2, nx), (ny, 1))
    safe = lambda a: np.where(inside, a, 1.0)  # noqa: E731
    protocol, truth = {}, {"M0": M0}
    if kind == "ir":
        TI = np.geomspace(0.025, 4.0, 12)
        S = M0[..., None] * (1 - 2 * np.exp(-TI / safe(T1)[..., None]))
        protocol["ti"], truth["T1"] = TI, T1
    elif kind == "ir-complex":
        TI = np.geomspace(0.025, 4.0, 12)
        phase = np.exp(1j * np.linspace(-2.0, 2.0, nx))[None, :, None]
        S = M0[..., None] * (1 - 2 * np.exp(-TI / safe(T1)[..., None])) * phase
        protocol["ti"], truth["T1"] = TI, T1
    elif kind == "vfa":
        fa = np.array([2.0, 5.0, 10.0, 15.0, 20.0, 30.0])
        TR = 0.015
        S = (
            np.asarray(
                nf.spgr(np.deg2rad(fa) * b1[..., None], M0[..., None], safe(T1)[..., None], TR)
            )
            * inside[..., None]
        )
        protocol.update(flip_deg=fa, tr=TR)
        truth.update(T1=T1, B1=b1)
    elif kind == "t2":
        TE = 0.01 * np.arange(1, 33)
        S = M0[..., None] * np.exp(-TE / safe(T2)[..., None])
        protocol["te"], truth["T2"] = TE, T2
    elif kind == "t2-epg":
        b1 = np.tile(np.linspace(0.8, 1.0, nx), (ny, 1))
        model = epg_model(32, 0.01, 1.0)
        import jax

        S = (
            np.asarray(
                jax.vmap(lambda t2, b: model(None, 1.0, t2, b))(safe(T2).ravel(), b1.ravel())
            ).reshape(ny, nx, 32)
            * M0[..., None]
        )
        protocol.update(esp=0.01, t1=1.0)
        truth.update(T2=T2, B1=b1)
    else:
        raise ValueError(f"unknown synthetic data kind {kind!r}")
    noise = sigma * (rng.standard_normal(S.shape) + 1j * rng.standard_normal(S.shape))
    data = S + noise
    if kind != "ir-complex":
        data = np.abs(data)
    return dict(data=data, truth=truth, protocol=protocol, labels=lab, sigma=sigma)


# --- output ---------------------------------------------------------------------------------------
def summarize(res, names, units):
    """Median parameters / stderr over converged voxels and the median reduced chi2."""
    ok = np.asarray(res.converged)
    out = {
        "n_voxels": int(ok.size),
        "n_converged": int(ok.sum()),
        "status": res.message(),
        "median_chi2_red": float(np.median(np.asarray(res.chi2_red)[ok])) if ok.any() else None,
    }
    for i, (n, u) in enumerate(zip(names, units, strict=False)):
        p = np.asarray(res.params[..., i])[ok]
        e = np.asarray(res.stderr[..., i])[ok]
        out[n] = {
            "median": float(np.median(p)) if p.size else None,
            "median_stderr": float(np.median(e)) if e.size else None,
            "unit": u,
        }
    return out


def write_outputs(out, prefix, res, names, bids, units, affine=None, figure=True, extra=None):
    """Write maps (NIfTI when nibabel is present), stderr maps, mask, JSON and a figure.

    Returns the summary dict (also written as ``<prefix>_fit.json``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ok = np.asarray(res.converged)
    files = []
    for i, (_n, b) in enumerate(zip(names, bids, strict=False)):
        if b is None:
            continue
        val = np.where(ok, np.asarray(res.params[..., i]), np.nan)
        err = np.where(ok, np.asarray(res.stderr[..., i]), np.nan)
        try:
            files.append(str(nf.save_nifti(out / f"{prefix}_{b}.nii.gz", val, affine).name))
            files.append(
                str(nf.save_nifti(out / f"{prefix}_desc-stderr_{b}.nii.gz", err, affine).name)
            )
        except ImportError as e:
            np.save(out / f"{prefix}_{b}.npy", val)
            files.append(f"{prefix}_{b}.npy")
            print(f"note: {e}; wrote NumPy arrays instead", file=sys.stderr)
    with contextlib.suppress(ImportError):
        files.append(
            str(
                nf.save_nifti(
                    out / f"{prefix}_desc-converged_mask.nii.gz", ok.astype(float), affine
                ).name
            )
        )
    summary = summarize(res, names, units)
    summary["files"] = files
    if extra:
        summary.update(extra)
    if figure and np.ndim(ok) >= 2:
        summary["figure"] = _plot_maps(out / f"{prefix}_maps.png", res, names, bids, units)
    (out / f"{prefix}_fit.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary


def _plot_maps(path, res, names, bids, units):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = np.asarray(res.converged)
    sel = [(i, n, b, u) for i, (n, b, u) in enumerate(zip(names, bids, units, strict=False)) if b]
    fig, axes = plt.subplots(2, len(sel), figsize=(3.2 * len(sel), 5.6), squeeze=False)
    for col, (i, n, b, u) in enumerate(sel):
        v = np.where(ok, np.asarray(res.params[..., i]), np.nan)
        e = np.where(ok, np.asarray(res.stderr[..., i]), np.nan)
        while v.ndim > 2:  # middle slice of 3-D maps
            v, e = v[..., v.shape[-1] // 2], e[..., e.shape[-1] // 2]
        for row, (img, title) in enumerate(((v, f"{b} [{u}]"), (e, f"stderr {n} [{u}]"))):
            ax = axes[row, col]
            im = ax.imshow(img.T, origin="lower", cmap="viridis")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path).name


# --- command line ---------------------------------------------------------------------------------
def _load(path, imag=None):
    data, affine = nf.load_nifti(path)
    if imag is not None:
        im, _ = nf.load_nifti(imag)
        if im.shape != data.shape:
            raise ValueError(
                f"real and imaginary images differ in shape: {data.shape} vs {im.shape}"
            )
        data = data + 1j * im
    return data, affine


def auto_mask(Y, threshold):
    """Voxels whose largest |signal| exceeds ``threshold`` x its 99th percentile over voxels
    (drops the noise-only background; threshold 0 keeps every voxel)."""
    peak = np.max(np.abs(Y), axis=-1)
    return peak > threshold * np.percentile(peak, 99)


def _mask(args, shape, Y):
    if args.mask is None:
        return auto_mask(Y, args.threshold) if args.threshold > 0 else None
    m, _ = nf.load_nifti(args.mask)
    if m.shape != shape:
        raise ValueError(f"mask shape {m.shape} does not match the image {shape}")
    return m > 0


def _check_len(name, values, m):
    if len(values) != m:
        raise SystemExit(f"relaxometry: {len(values)} {name} given, the data have {m} volumes")


def build_parser():
    p = argparse.ArgumentParser(
        prog="netmag fit relaxometry",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(s):
        s.add_argument("--data", required=True, type=Path, help="NIfTI, last axis = contrast")
        s.add_argument("--mask", type=Path, help="NIfTI mask (non-zero = fit)")
        s.add_argument(
            "--threshold",
            type=float,
            default=0.1,
            help="without --mask: fit voxels whose peak signal exceeds this "
            "fraction of the 99th percentile (0: fit all)",
        )
        s.add_argument("--out", type=Path, default=Path("maps"), help="output folder")
        s.add_argument("--prefix", default="sub-01", help="BIDS prefix of output files")
        s.add_argument("--x64", action="store_true", help="fit in float64")
        s.add_argument("--no-figure", action="store_true")
        s.add_argument("--chunk-size", type=int, default=4096, help="voxels per chunk")

    s = sub.add_parser("ir", help="T1 from inversion recovery (magnitude or complex)")
    common(s)
    s.add_argument("--data-imag", type=Path, help="imaginary part (complex fit)")
    s.add_argument("--ti", type=float, nargs="+", required=True, help="inversion times [s]")
    s = sub.add_parser("vfa", help="T1 from variable flip angle spoiled GRE")
    common(s)
    s.add_argument("--flip-deg", type=float, nargs="+", required=True)
    s.add_argument("--tr", type=float, required=True, help="repetition time [s]")
    s.add_argument("--b1", type=Path, help="B1 map NIfTI (actual/nominal flip angle)")
    s = sub.add_parser("t2", help="mono-exponential T2 from multi-echo spin echo")
    common(s)
    s.add_argument("--te", type=float, nargs="+", required=True, help="echo times [s]")
    s.add_argument("--noise", choices=["gaussian", "rician"], default="gaussian")
    s.add_argument("--sigma", type=float, help="noise standard deviation (rician)")
    s = sub.add_parser("t2-epg", help="T2 and B1 from CPMG echoes with EPG")
    common(s)
    s.add_argument("--esp", type=float, required=True, help="echo spacing [s]")
    s.add_argument("--t1", type=float, default=1.0, help="assumed T1 [s]")
    s = sub.add_parser("synth", help="write a synthetic NIST-phantom data set (known truth)")
    s.add_argument("--kind", choices=["ir", "ir-complex", "vfa", "t2", "t2-epg"], default="ir")
    s.add_argument("--out", type=Path, default=Path("phantom"))
    s.add_argument("--snr", type=float, default=200.0)
    s.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "x64", False):
        import jax

        jax.config.update("jax_enable_x64", True)
    if args.cmd == "synth":
        d = synth(args.kind, seed=args.seed, snr=args.snr)
        args.out.mkdir(parents=True, exist_ok=True)
        name = args.kind.replace("-", "_")
        if args.kind == "ir-complex":
            nf.save_nifti(args.out / f"{name}_real.nii.gz", d["data"].real)
            nf.save_nifti(args.out / f"{name}_imag.nii.gz", d["data"].imag)
        else:
            nf.save_nifti(args.out / f"{name}.nii.gz", d["data"])
        for k, v in d["truth"].items():
            nf.save_nifti(args.out / f"truth_{k}.nii.gz", v)
        meta = {k: np.asarray(v).tolist() for k, v in d["protocol"].items()}
        meta.update(sigma=d["sigma"], snr=args.snr, seed=args.seed)
        (args.out / f"{name}.json").write_text(json.dumps(meta, indent=2))
        print(f"wrote {args.kind} phantom to {args.out}: {json.dumps(meta)}")
        return 0

    imag = getattr(args, "data_imag", None)
    Y, affine = _load(args.data, imag)
    vox, m = Y.shape[:-1], Y.shape[-1]
    mask = _mask(args, vox, Y)
    kw = dict(mask=mask, chunk_size=args.chunk_size)
    if args.cmd == "ir":
        _check_len("inversion times", args.ti, m)
        if np.iscomplexobj(Y):
            res = fit_ir_complex(args.ti, Y, **kw)
            names, bids, units = (
                ["a", "b", "T1", "phi"],
                [None, None, "T1map", None],
                ["a.u.", "a.u.", "s", "rad"],
            )
        else:
            res, _ = fit_ir_magnitude(args.ti, Y, **kw)
            names, bids, units = ["a", "b", "T1"], ["M0map", None, "T1map"], ["a.u.", "a.u.", "s"]
    elif args.cmd == "vfa":
        _check_len("flip angles", args.flip_deg, m)
        b1 = None
        if args.b1 is not None:
            b1, _ = nf.load_nifti(args.b1)
            if b1.shape != vox:
                raise ValueError(f"B1 map shape {b1.shape} does not match the image {vox}")
        res = fit_vfa(args.flip_deg, args.tr, Y, b1=b1, **kw)
        names, bids, units = ["M0", "T1"], ["M0map", "T1map"], ["a.u.", "s"]
    elif args.cmd == "t2":
        _check_len("echo times", args.te, m)
        if args.noise == "rician" and args.sigma is None:
            raise SystemExit("relaxometry t2: --noise rician needs --sigma")
        res = fit_t2(args.te, Y, noise=args.noise, sigma=args.sigma, **kw)
        names, bids, units = ["M0", "T2"], ["M0map", "T2map"], ["a.u.", "s"]
    else:
        res = fit_t2_epg(args.esp, Y, T1=args.t1, **kw)
        names, bids, units = ["M0", "T2", "B1"], ["M0map", "T2map", "B1map"], ["a.u.", "s", "1"]
    summary = write_outputs(
        args.out,
        args.prefix,
        res,
        names,
        bids,
        units,
        affine,
        figure=not args.no_figure,
        extra={"workflow": args.cmd},
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "files"}, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
