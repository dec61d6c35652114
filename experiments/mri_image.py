"""A 2D Shepp-Logan head imaged with an RF-spoiled Cartesian gradient echo, reconstructed by FFT."""

from __future__ import annotations

import math
import pathlib

import numpy as np

TITLE = "MRI image: Shepp-Logan phantom, spoiled GRE, Cartesian k-space and FFT reconstruction"


def run(out: pathlib.Path, quick: bool = False) -> dict:
    import jax.numpy as jnp
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netmag_jax import mri

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = 32 if quick else 64
    dummies = 32 if quick else 16
    # isochromats per pixel >= number of repetitions, so that the z spoiler (one cycle across
    # the slice per TR) never re-phases aliased configuration states (exact EPG equivalence)
    n_sub = n + dummies
    fov, thick = 0.24, 5e-3
    ph = mri.shepp_logan(n, fov, n_sub=n_sub, slice_thickness=thick)
    TR, TE, flip = 8e-3, 3e-3, math.radians(25)
    dwell = 1e-3 / n  # readout of 1 ms
    seq = mri.cartesian_gre(
        (fov, fov),
        (n, n),
        flip,
        TR,
        TE,
        dwell,
        pulse_duration=5e-5,
        spoiler_moment=1.0 / thick,
        dummy_scans=dummies,
    )
    res = seq.simulate(ph.spins)
    img = np.abs(np.asarray(mri.reconstruct_cartesian(res.signal, (n, n))))

    # reference: RF-spoiled steady state per tissue from EPG at the k-space-centre repetition
    n_rep = dummies + n // 2 + 1
    phases = jnp.asarray(mri.rf_spoiling_phases(n_rep))
    M0w = float(mri.equilibrium_magnetization(3.0, 310.0))
    expected = np.zeros((n, n))
    ratio = {}
    for i, name in enumerate(ph.tissue_names):
        if i == 0:
            continue
        t = mri.TISSUES[name]
        s = mri.epg_gre(
            jnp.full(n_rep, flip), phases, TR, t["T1"], t["T2"], M0=t["PD"] * M0w, TE=TE
        )
        expected[ph.labels == i] = abs(complex(s[-1]))
        ratio[name] = abs(complex(s[-1]))
    # the RF-spoiling transient has not settled at the k-space centre (T1 / TR ~ 100
    # repetitions): also give the steady state (600 repetitions of EPG) for the contrast
    n_ss = 600
    phases_ss = jnp.asarray(mri.rf_spoiling_phases(n_ss))
    ratio_ss = {}
    for name in ("white_matter", "gray_matter"):
        t = mri.TISSUES[name]
        s = mri.epg_gre(
            jnp.full(n_ss, flip), phases_ss, TR, t["T1"], t["T2"], M0=t["PD"] * M0w, TE=TE
        )
        ratio_ss[name] = abs(complex(s[-1]))
    mask = ph.labels > 0
    inner = mask.copy()  # avoid partial-volume edges for the contrast numbers
    for ax in (0, 1):
        inner &= np.roll(mask, 1, ax) & np.roll(mask, -1, ax)
    corr = float(np.corrcoef(img[mask], expected[mask])[0, 1])

    def mean_of(name):
        sel = (ph.labels == ph.tissue_names.index(name)) & inner
        return float(img[sel].mean())

    wm, gm = mean_of("white_matter"), mean_of("gray_matter")
    fig, ax = plt.subplots(1, 3, figsize=(12, 4))
    ax[0].imshow(ph.labels, origin="lower", cmap="tab10")
    ax[0].set_title("tissue labels (WM, GM, CSF, fat)")
    ax[1].imshow(np.log1p(np.abs(np.asarray(res.signal).reshape(n, n)) / M0w), origin="lower")
    ax[1].set_title("k-space log(1 + |s| / M0)")
    ax[2].imshow(img, origin="lower", cmap="gray")
    ax[2].set_title(f"FFT image, GRE TR {TR * 1e3:.0f} ms, {math.degrees(flip):.0f} deg")
    for a in ax:
        a.set_xticks([])
        a.set_yticks([])
    fig.tight_layout()
    fig.savefig(out / "gre_image.png", dpi=110)
    plt.close(fig)
    numbers = {
        "image_vs_epg_correlation": {
            "value": corr,
            "reference": 1.0,
            "unit": "",
            "source": "Pearson correlation of |image| with the EPG "
            "RF-spoiled signal map (1 = identical up to scale)",
        },
        "wm_gm_contrast": {
            "value": wm / gm,
            "reference": None,
            "unit": "",
            "source": "image mean WM / mean GM (inner pixels); the k-space lines "
            "are acquired during the RF-spoiling transient, so it lies "
            "between the two EPG numbers below",
        },
        "wm_gm_contrast_epg_centre_line": {
            "value": ratio["white_matter"] / ratio["gray_matter"],
            "reference": None,
            "unit": "",
            "source": "EPG at the k-space-centre repetition (transient), 3 T T1/T2/PD "
            "(Wansapura 1999)",
        },
        "wm_gm_contrast_epg_steady_state": {
            "value": ratio_ss["white_matter"] / ratio_ss["gray_matter"],
            "reference": None,
            "unit": "",
            "source": "EPG after 600 repetitions (RF-spoiled steady state)",
        },
        "n_spins": {"value": int(ph.spins.n), "reference": None, "unit": "", "source": "phantom"},
        "n_steps": {"value": int(seq.n_steps), "reference": None, "unit": "", "source": "sequence"},
    }
    summary = (
        f"A {n}x{n} modified Shepp-Logan head with 3 T white/gray matter, CSF and fat "
        f"({n_sub} isochromats per pixel across a {thick * 1e3:.0f} mm slice) is imaged with an "
        "RF-spoiled 2D gradient echo: each repetition excites, phase-encodes one k_y line and "
        "samples k_x under the readout gradient; z spoilers and 117 degree phase cycling destroy "
        "the remaining coherence. The inverse FFT of the sampled k-space gives the image, which "
        "correlates with the extended-phase-graph map of each tissue. The lines are acquired "
        "during the RF-spoiling transient (T1/TR ~ 100 repetitions), so the WM/GM contrast lies "
        "between the EPG value at the k-space-centre line and the EPG steady state (which is "
        "within a few per cent of Ernst's formula); long-T2 CSF is brighter than Ernst's "
        "formula predicts because 117 degree RF "
        "spoiling does not fully spoil T2 >> TR (Zur et al. 1991), and the steady state "
        "is not yet reached for T1 = 4 s."
    )
    return {"summary": summary, "figures": ["gre_image.png"], "numbers": numbers}


if __name__ == "__main__":
    import json
    import sys

    r = run(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results/mri_image"), quick=True)
    print(json.dumps(r["numbers"], indent=1))
