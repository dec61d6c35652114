"""Relaxometry maps: T1 (inversion recovery, variable flip angle) and T2 (multi-echo spin echo).

Usage (``netmag fit relaxometry ...``, or ``main([...])`` from Python)::

    netmag fit relaxometry synth --kind ir --out phantom/          # a test data set
    netmag fit relaxometry ir --data phantom/ir.nii.gz --ti 0.05 0.1 ... --out maps/
    netmag fit relaxometry ir --data re.nii.gz --data-imag im.nii.gz --ti ... --out maps/
    netmag fit relaxometry vfa --data vfa.nii.gz --flip-deg 3 10 20 --tr 0.015 \
        --b1 b1.nii.gz --out maps/
    netmag fit relaxometry t2 --data mese.nii.gz --te 0.01 0.02 ... --out maps/
    netmag fit relaxometry t2-epg --data mese.nii.gz --esp 0.01 --t1 1.0 --out maps/

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
Synthetic data with known truth: ``synth`` (ISMRM/NIST system phantom, ``NIST_T1_3T``).
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import netmag_jax.fit as nf

from . import _inputs
from ._common import (
    add_output_options,
    check_prefix,
    prepare_outputs,
    run_command,
    workflow_parser,
    write_json,
)
from ._inputs import check_images, load_series, protocol
from ._maps import auto_mask as auto_mask
from ._maps import bound_flags, bound_fractions, load_matching, output_names
from ._maps import summarize as summarize
from ._maps import write_outputs as write_outputs
from ._phantom import NIST_T1_3T as NIST_T1_3T
from ._phantom import NIST_T2_3T as NIST_T2_3T
from ._phantom import SYNTH_KINDS
from ._phantom import phantom_layout as phantom_layout
from ._phantom import synth as synth


# --- fits ---------------------------------------------------------------------------------------
#: (lower, upper) bounds of the fitted parameters per map kind (times in seconds)
BOUNDS = {
    "ir": ([-np.inf, -np.inf, 1e-4], [np.inf, np.inf, 20.0]),
    "ir-complex": ([-np.inf, -np.inf, 1e-4, -2 * np.pi], [np.inf, np.inf, 20.0, 2 * np.pi]),
    "vfa": ([0.0, 1e-4], [np.inf, 20.0]),
    "t2": ([0.0, 1e-4], [np.inf, 10.0]),
    "t2-epg": ([0.0, 1e-4, 0.4], [np.inf, 10.0, 1.2]),
}


def fit_ir_magnitude(TI, Y, mask=None, chunk_size=4096, dtype=float):
    """T1 from magnitude inversion recovery with polarity restoration.

    Args:
        TI: (m,) inversion times [s]. Y: (..., m) magnitude images. mask: (...) bool or None.
    Returns:
        (FitResult of the signed model (a, b, T1) per voxel, polarity index per voxel).
    """
    TI = np.asarray(TI, dtype)
    order = np.argsort(TI)
    TI, Y = TI[order], np.abs(np.asarray(Y, dtype))[..., order]
    m = TI.size
    imin = np.argmin(Y, axis=-1)
    ks = np.stack([imin, np.minimum(imin + 1, m)], axis=-1)  # points with index < k flipped
    idx = np.arange(m)
    signed = np.where(idx[None] < ks[..., None], -1.0, 1.0) * Y[..., None, :]  # (..., 2, m)
    a0 = np.max(Y, axis=-1)
    t_null = TI[np.clip(imin, 0, m - 1)]
    p0 = np.stack([a0, -2.0 * a0, np.maximum(t_null / np.log(2.0), 1e-3)], -1)
    p0 = np.repeat(p0[..., None, :], 2, axis=-2).astype(dtype)
    msk = None if mask is None else np.repeat(np.asarray(mask)[..., None], 2, axis=-1)
    res = nf.fit_voxels(
        nf.inversion_recovery_signed,
        TI,
        signed.astype(dtype),
        p0,
        mask=msk,
        bounds=BOUNDS["ir"],
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
        return jnp.asarray(np.take_along_axis(a, ix, axis=best.ndim).squeeze(best.ndim))

    return jax.tree.map(sel, res)


def fit_ir_complex(TI, Y, mask=None, chunk_size=4096, dtype=float):
    """T1 from complex inversion recovery, (a + b exp(-TI/T1)) e^{i phi} per voxel.

    Args:
        TI: (m,) inversion times [s]. Y: (..., m) complex images. mask: (...) bool or None.
    Returns:
        FitResult with params (a, b, T1 [s], phi [rad]).
    """
    TI = np.asarray(TI, dtype)
    Y = np.asarray(Y, np.result_type(dtype, np.complex64))
    last = Y[..., np.argmax(TI)]
    a0 = np.abs(last)
    p0 = np.stack([a0, -2.0 * a0, np.full(a0.shape, np.median(TI)), np.angle(last)], -1)
    p0 = p0.astype(dtype)
    return nf.fit_voxels(
        nf.inversion_recovery_complex,
        TI,
        Y,
        p0,
        mask=mask,
        bounds=BOUNDS["ir-complex"],
        chunk_size=chunk_size,
    )


def fit_vfa(flip_deg, TR, Y, b1=None, mask=None, chunk_size=4096, dtype=float):
    """T1 from variable-flip-angle spoiled GRE with a B1 (transmit scale) correction map.

    Starting values from the linear DESPOT1 form S/sin(a) = E1 S/tan(a) + M0 (1 - E1).

    Args:
        flip_deg: (m,) nominal flip angles [deg]. TR: repetition time [s].
        Y: (..., m) images. b1: (...) actual/nominal flip angle ratio (None = 1).
    Returns:
        FitResult with params (M0, T1 [s]).
    """
    Y = np.asarray(Y, dtype)
    vox = Y.shape[:-1]
    b1 = np.ones(vox) if b1 is None else np.asarray(b1, float)
    alpha = np.deg2rad(np.asarray(flip_deg, float)) * b1[..., None]
    xs, ys = Y / np.tan(alpha), Y / np.sin(alpha)
    xm, ym = xs.mean(-1, keepdims=True), ys.mean(-1, keepdims=True)
    slope = np.sum((xs - xm) * (ys - ym), -1) / np.maximum(np.sum((xs - xm) ** 2, -1), 1e-30)
    E1 = np.clip(np.nan_to_num(slope, nan=0.9), 0.05, 0.9995)
    M0 = np.clip(np.nan_to_num((ym[..., 0] - slope * xm[..., 0]) / (1 - E1)), 1e-6, None)
    M0 = np.where(M0 > 1e-6, M0, np.max(np.abs(Y), axis=-1) * 10 + 1e-3)
    p0 = np.stack([M0, np.clip(-TR / np.log(E1), 1e-3, 10.0)], -1).astype(dtype)
    model = _spgr_model(float(TR))
    return nf.fit_voxels(
        model,
        alpha.astype(dtype),
        Y,
        p0,
        mask=mask,
        x_per_voxel=True,
        bounds=BOUNDS["vfa"],
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


def fit_t2(TE, Y, mask=None, noise="gaussian", sigma=None, chunk_size=4096, dtype=float):
    """Mono-exponential T2 from multi-echo spin echo, Gaussian or Rician likelihood.

    Args:
        TE: (m,) echo times [s]. Y: (..., m) magnitude images. sigma: noise level (rician).
        dtype: working float type (float32: the command line's default).
    Returns:
        FitResult with params (M0, T2 [s]).
    """
    TE = np.asarray(TE, dtype)
    Y = np.asarray(Y, dtype)
    return nf.fit_voxels(
        nf.exponential_decay,
        TE,
        Y,
        _loglinear_p0(TE, Y).astype(dtype),
        mask=mask,
        noise=noise,
        sigma=None if sigma is None else np.asarray(sigma, dtype),
        bounds=BOUNDS["t2"],
        chunk_size=chunk_size,
    )


@lru_cache(maxsize=32)
def epg_model(n_echoes, esp, T1):
    """``model(x, M0, T2, B1)`` for CPMG echoes from EPG (x = echo index, unused values)."""

    def model(x, M0, T2, B1):
        return M0 * nf.cpmg_epg(n_echoes, esp, T2, T1, B1)

    return model


def fit_t2_epg(esp, Y, T1=1.0, mask=None, chunk_size=4096, dtype=float):
    """T2 and B1 from CPMG echoes with the EPG model (stimulated-echo correction).

    Args:
        esp: echo spacing [s] (echo k at k * esp). Y: (..., n_echoes) magnitude images.
        T1: assumed longitudinal relaxation time [s] (weakly affects the stimulated echoes).
    Returns:
        FitResult with params (M0, T2 [s], B1).
    """
    Y = np.asarray(Y, dtype)
    n = Y.shape[-1]
    TE = (esp * np.arange(1, n + 1)).astype(dtype)
    p0 = _loglinear_p0(TE, Y)
    p0 = np.concatenate([p0, np.full(p0.shape[:-1] + (1,), 0.9)], -1).astype(dtype)
    return nf.fit_voxels(
        epg_model(n, float(esp), float(T1)),
        TE,
        Y,
        p0,
        mask=mask,
        bounds=BOUNDS["t2-epg"],
        chunk_size=chunk_size,
    )


# --- command line ---------------------------------------------------------------------------------
#: fitted parameter names, BIDS suffixes of the maps written (None: not written) and units
_MAPS = {
    "ir": (("a", "b", "T1"), ("M0map", None, "T1map"), ("a.u.", "a.u.", "s")),
    "ir-complex": (
        ("a", "b", "T1", "phi"),
        (None, None, "T1map", None),
        ("a.u.", "a.u.", "s", "rad"),
    ),
    "vfa": (("M0", "T1"), ("M0map", "T1map"), ("a.u.", "s")),
    "t2": (("M0", "T2"), ("M0map", "T2map"), ("a.u.", "s")),
    "t2-epg": (("M0", "T2", "B1"), ("M0map", "T2map", "B1map"), ("a.u.", "s", "1")),
}

_METHOD = {
    "ir": "magnitude inversion recovery |a + b exp(-TI/T1)|, polarity restoration (Barral 2010)",
    "ir-complex": "complex inversion recovery (a + b exp(-TI/T1)) exp(i phi)",
    "vfa": "variable flip angle spoiled gradient echo (Ernst), B1-corrected",
    "t2": "mono-exponential decay M0 exp(-TE/T2)",
    "t2-epg": "CPMG extended phase graphs (M0, T2, B1)",
}


def _common_options(s):
    s.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="one NIfTI (last axis = contrast) or one NIfTI per echo/TI/flip angle "
        "(several paths or a quoted glob); BIDS JSON sidecars next to them are read",
    )
    s.add_argument("--mask", type=Path, help="NIfTI mask (non-zero = fit)")
    s.add_argument(
        "--threshold",
        type=float,
        default=0.1,
        help="without --mask: fit voxels whose peak signal exceeds this "
        "fraction of the 99th percentile (0: fit all)",
    )
    add_output_options(s, Path("maps"))
    s.add_argument("--prefix", default="sub-01", help="BIDS prefix of output files")
    s.add_argument("--x64", action="store_true", help="fit in float64")
    s.add_argument("--no-figure", action="store_true")
    s.add_argument("--chunk-size", type=int, default=4096, help="voxels per chunk")


def build_parser():
    """The ``netmag fit relaxometry`` argument parser (subcommands ir, vfa, t2, t2-epg, synth)."""
    p, sub = workflow_parser("relaxometry", __doc__)
    s = sub.add_parser("ir", help="T1 from inversion recovery (magnitude or complex)")
    _common_options(s)
    s.add_argument("--data-imag", nargs="+", help="imaginary part(s) (complex fit)")
    s.add_argument("--ti", type=float, nargs="+", help="inversion times [s] (or sidecars)")
    s = sub.add_parser("vfa", help="T1 from variable flip angle spoiled GRE")
    _common_options(s)
    s.add_argument("--flip-deg", type=float, nargs="+", help="flip angles [deg] (or sidecars)")
    s.add_argument("--tr", type=float, help="repetition time [s] (or sidecars)")
    s.add_argument("--b1", type=Path, help="B1 map NIfTI (actual/nominal flip angle)")
    s = sub.add_parser("t2", help="mono-exponential T2 from multi-echo spin echo")
    _common_options(s)
    s.add_argument("--te", type=float, nargs="+", help="echo times [s] (or sidecars)")
    s.add_argument("--noise", choices=["gaussian", "rician"], default="gaussian")
    s.add_argument("--sigma", type=float, help="noise standard deviation (needed for rician)")
    s = sub.add_parser("t2-epg", help="T2 and B1 from CPMG echoes with EPG")
    _common_options(s)
    s.add_argument("--esp", type=float, help="echo spacing [s] (or the sidecars' EchoTime)")
    s.add_argument("--t1", type=float, default=1.0, help="assumed T1 [s]")
    s = sub.add_parser("synth", help="write a synthetic NIST-phantom data set (known truth)")
    s.add_argument("--kind", choices=SYNTH_KINDS, default="ir")
    add_output_options(s, Path("phantom"))
    s.add_argument("--snr", type=float, default=200.0)
    s.add_argument("--m0", type=float, default=1.0, help="proton density of the spheres")
    s.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None, *, catch: bool = True) -> int:
    """``netmag fit relaxometry ARGS``: write maps (or a synthetic data set); returns 0.

    A user mistake (missing file, wrong number of TIs, times in ms, a file that would be
    overwritten, ...) exits with one line and status 1, before any output is written.
    ``catch=False`` lets errors propagate (``run_command``).
    """
    return run_command(build_parser(), _run, argv, catch=catch)


def _run(args) -> int:
    if args.cmd == "synth":
        return _write_synth(args)
    check_prefix(args.prefix)
    kind = "ir-complex" if getattr(args, "data_imag", None) else args.cmd
    names, bids, units = _MAPS[kind]
    series = load_series(args.data, getattr(args, "data_imag", None))
    Y = series.data
    n_values = Y.shape[-1] * (2 if np.iscomplexobj(Y) else 1)  # real numbers per voxel
    if n_values < len(names):
        raise ValueError(
            f"{args.cmd}: {Y.shape[-1]} volume(s) per voxel cannot determine the "
            f"{len(names)} parameters {', '.join(names)}; the last axis of --data must hold "
            f"at least {len(names)} contrasts"
        )
    bad, counts = check_images(Y, getattr(args, "noise", "gaussian"))
    mask = _mask(args, Y) & ~bad
    if not mask.any():
        raise ValueError("no voxel to fit: the mask is empty (check --mask / --threshold)")
    fit, proto = _plan(args, series, mask)
    prepare_outputs(args.out, output_names(args.prefix, bids, not args.no_figure), args.overwrite)
    res = fit()
    ok = np.asarray(res.converged)
    if not ok.any():
        raise ValueError(f"no voxel converged ({res.message()}); nothing written")
    lo, hi = BOUNDS[kind]
    fractions = bound_fractions(res, list(names), lo, hi)
    flags = bound_flags(fractions, lo, hi, list(names))
    for f in flags:
        print(f"warning: {f}", file=sys.stderr)
    sigma_known = getattr(args, "sigma", None) is not None
    summary = summarize(res, names, units, sigma_known)
    summary.update(
        workflow=args.cmd,
        fitted_voxels=int(mask.sum()),
        **counts,
        on_bound=fractions,
        flags=flags,
        protocol=proto,
    )
    sidecar = {
        "EstimationMethod": _METHOD[kind],
        "NoiseModel": getattr(args, "noise", "gaussian"),
        "BasedOn": [f.name for f in series.files],
        **{k: v for k, v in proto.items() if k != "source"},
    }
    summary = write_outputs(
        args.out,
        args.prefix,
        res,
        (names, bids, units, sidecar),
        (series.affine, series.header),
        summary,
        figure=not args.no_figure,
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "files"}, indent=2, default=float))
    return 0


def _mask(args, Y):
    """The voxels to fit: ``--mask`` (non-zero), else the automatic threshold mask."""
    if args.mask is not None:
        mask = load_matching(args.mask, Y.shape[:-1], "mask") > 0
        if not mask.any():
            raise ValueError(f"the mask {args.mask} selects no voxel")
        return mask
    if args.threshold > 0:
        return auto_mask(Y, args.threshold)
    return np.ones(Y.shape[:-1], bool)


def _plan(args, series, mask):
    """The protocol of subcommand ``args.cmd`` (command line or sidecars, checked) and the fit
    to run; returns (zero-argument fit -> FitResult, protocol dict for the JSON). Every input
    error is raised here, before any output is written."""
    m = series.data.shape[-1]
    dtype = np.float64 if args.x64 else np.float32  # float32 unless --x64
    kw: dict[str, Any] = dict(mask=mask, chunk_size=args.chunk_size, dtype=dtype)
    if args.cmd in ("ir", "t2"):
        name = "ti" if args.cmd == "ir" else "te"
        t, src = protocol(getattr(args, name), name, series, m)
        order = np.argsort(t, kind="stable")
        Y, t = series.reorder(order).data, t[order]
        proto = {_inputs.SIDECAR_KEYS[name]: t.tolist(), "source": src}
        if args.cmd == "ir" and np.iscomplexobj(Y):
            return partial(fit_ir_complex, t, Y, **kw), proto
        if args.cmd == "ir":
            return (lambda: fit_ir_magnitude(t, Y, **kw)[0]), proto
        if args.noise == "rician" and args.sigma is None:
            raise ValueError("t2: --noise rician needs --sigma")
        if args.sigma is not None and not (np.isfinite(args.sigma) and args.sigma > 0):
            raise ValueError(f"--sigma must be finite and > 0, got {args.sigma}")
        return partial(fit_t2, t, Y, noise=args.noise, sigma=args.sigma, **kw), proto
    if args.cmd == "vfa":
        fa, src = protocol(args.flip_deg, "flip_deg", series, m)
        tr, _ = protocol(args.tr, "tr", series, scalar=True)
        b1 = None if args.b1 is None else load_matching(args.b1, series.data.shape[:-1], "B1 map")
        proto = {"FlipAngle": fa.tolist(), "RepetitionTime": float(tr[0]), "source": src}
        return partial(fit_vfa, fa, float(tr[0]), series.data, b1=b1, **kw), proto
    if args.esp is not None:
        esp, src = protocol(args.esp, "esp", series, scalar=True)
        esp = float(esp[0])
    else:
        te, src = protocol(None, "te", series, m)
        esp = float(np.min(te))
        if not np.allclose(np.sort(te), esp * np.arange(1, m + 1), rtol=1e-3):
            raise ValueError("t2-epg needs equally spaced echoes k x spacing: pass --esp")
    proto = {"EchoSpacing": esp, "T1assumed": args.t1, "source": src}
    return partial(fit_t2_epg, esp, series.data, T1=args.t1, **kw), proto


def _write_synth(args) -> int:
    """``synth``: the phantom images, truth maps and protocol JSON into ``args.out``."""
    d = synth(args.kind, seed=args.seed, snr=args.snr, m0=args.m0)  # in memory, fast
    name = args.kind.replace("-", "_")
    parts = ("real", "imag") if args.kind == "ir-complex" else ()
    images = {f"{name}_{p}.nii.gz": getattr(d["data"], p) for p in parts} or {
        f"{name}.nii.gz": d["data"]
    }
    images.update({f"truth_{k}.nii.gz": v for k, v in d["truth"].items()})
    prepare_outputs(args.out, [*images, f"{name}.json"], args.overwrite)
    for file, image in images.items():
        nf.save_nifti(args.out / file, image)
    meta = {k: np.asarray(v).tolist() for k, v in d["protocol"].items()}
    meta.update(sigma=d["sigma"], snr=args.snr, seed=args.seed, m0=args.m0)
    write_json(args.out / f"{name}.json", meta)
    print(f"wrote {args.kind} phantom to {args.out}: {json.dumps(meta)}")
    return 0
