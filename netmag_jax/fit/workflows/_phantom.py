"""Synthetic ISMRM/NIST system-phantom relaxometry data with known ground truth."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

import netmag_jax.fit as nf

# ISMRM/NIST system phantom (model 130), reference values at 3 T and 20 C, in seconds
# (NiCl2 "T1 array" and MnCl2 "T2 array" spheres 1-14; Stupic et al., MRM 86:1194, 2021, and
# the phantom's documentation; rounded). Used as the ground truth of the synthetic data.
NIST_T1_3T = np.array(
    [1.989, 1.454, 0.9841, 0.706, 0.4967, 0.3515, 0.2471]
    + [0.1753, 0.1259, 0.0890, 0.0627, 0.04453, 0.03084, 0.02172]
)
NIST_T2_3T = np.array(
    [0.5813, 0.4035, 0.2781, 0.1909, 0.1333, 0.0969, 0.0641]
    + [0.0464, 0.0320, 0.02256, 0.01581, 0.01124, 0.00791, 0.00559]
)

SYNTH_KINDS = ("ir", "ir-complex", "vfa", "t2", "t2-epg")


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


def _signal(kind, M0, T1, T2):
    """Noise-free signal (ny, nx, m), protocol and truth maps of one kind of experiment.

    M0, T1, T2: (ny, nx) maps, zero outside the spheres; B1 maps vary linearly across x."""
    ny, nx = M0.shape
    inside = M0 > 0
    t1, t2 = np.where(inside, T1, 1.0)[..., None], np.where(inside, T2, 1.0)[..., None]
    b1 = np.tile(np.linspace(0.8, 1.2, nx), (ny, 1))
    if kind in ("ir", "ir-complex"):
        TI = np.geomspace(0.025, 4.0, 12)
        S = M0[..., None] * (1 - 2 * np.exp(-TI / t1))
        if kind == "ir-complex":
            S = S * np.exp(1j * np.linspace(-2.0, 2.0, nx))[None, :, None]
        return S, {"ti": TI}, {"T1": T1}
    if kind == "vfa":
        fa, TR = np.array([2.0, 5.0, 10.0, 15.0, 20.0, 30.0]), 0.015
        S = np.asarray(nf.spgr(np.deg2rad(fa) * b1[..., None], M0[..., None], t1, TR))
        return S * inside[..., None], {"flip_deg": fa, "tr": TR}, {"T1": T1, "B1": b1}
    if kind == "t2":
        TE = 0.01 * np.arange(1, 33)
        return M0[..., None] * np.exp(-TE / t2), {"te": TE}, {"T2": T2}
    if kind == "t2-epg":
        b1 = np.tile(np.linspace(0.8, 1.0, nx), (ny, 1))
        echoes = jax.vmap(lambda a, b: nf.cpmg_epg(32, 0.01, a, 1.0, b))(t2.ravel(), b1.ravel())
        S = np.asarray(echoes).reshape(ny, nx, 32) * M0[..., None]
        return S, {"esp": 0.01, "t1": 1.0}, {"T2": T2, "B1": b1}
    raise ValueError(f"unknown synthetic data kind {kind!r}; choose from {SYNTH_KINDS}")


def synth(kind, seed=0, snr=200.0, block=8, m0=1.0) -> dict[str, Any]:
    """Synthetic NIST-phantom data with Gaussian noise (complex noise -> Rician magnitude).

    Ground truth: NIST_T1_3T / NIST_T2_3T per sphere, M0 = m0 (default 1; ~1e3 is a scanner's
    scale), noise sigma = m0/snr per channel.
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
    M0 = m0 * inside.astype(float)
    sigma = m0 / snr
    S, protocol, truth = _signal(kind, M0, T1, T2)
    noise = sigma * (rng.standard_normal(S.shape) + 1j * rng.standard_normal(S.shape))
    data = S + noise
    if kind != "ir-complex":
        data = np.abs(data)
    return dict(data=data, truth={"M0": M0, **truth}, protocol=protocol, labels=lab, sigma=sigma)
