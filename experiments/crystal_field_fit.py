"""CsErSe2 magnetometry: Curie-Weiss moment, ground-doublet g factors and the crystal field."""

from __future__ import annotations

import math
from pathlib import Path

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

import netmag_jax.fit as nf
from netmag_jax import constants as const
from netmag_jax import statmech

TITLE = "CsErSe2 (Er3+): Curie-Weiss moment, doublet g factors and crystal-field fit of M(H,T)"
DATA = Path(__file__).resolve().parents[1] / "fitting" / "data" / "CsErSe2"
KEYS = ((2, 0), (4, 0), (4, 3), (6, 0), (6, 3), (6, 6))
# Scheie et al., PRB 101, 144432 (2020): CsErSe2 Stevens parameters [meV], order KEYS, fitted
# to neutron spectra; best fit printed in asche1/PyCrystalField
# Publications/AErSe2/CES_CEF_fit2.ipynb (commit ef4001f958d957a0a95f4b31da7e87b71e326d7b)
B_PUBLISHED = np.array(
    [-3.55882648e-2, -3.84909550e-4, -1.39341508e-2, 3.15375656e-6, -4.69499691e-6, 3.38115268e-5]
)
MU_FREE = 1.2 * math.sqrt(7.5 * 8.5)  # g_J sqrt(J(J+1)) of Er3+ = 9.58 mu_B


def _curves(mh, direction, temps, max_field=None):
    """(B [T], T [K]) rows and M [mu_B] with the H = 0 offset removed, sigma from repeats."""
    xs, ys, ss = [], [], []
    for T in temps:
        H, M = mh[f"{T:g}K H//{direction}"]
        M = M - np.mean(M[H == 0]) if np.any(H == 0) else M
        same = np.abs(np.diff(H)) < 1.0
        sig = float(np.sqrt(np.mean(np.diff(M)[same] ** 2) / 2))
        keep = (H > 0) & ((max_field * 1e4 >= H) if max_field else True)
        xs.append(np.stack([H[keep] * 1e-4, np.full(keep.sum(), float(T))], 1))
        ys.append(M[keep])
        ss.append(np.full(keep.sum(), sig))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ss)


def doublet(x, g, chi):
    """Effective spin-1/2 doublet plus Van Vleck: M = g/2 B_1/2(g mu_B B / 2 k_B T) + chi B."""
    return nf.brillouin_moment(x[:, 0], x[:, 1], g, 0.5) + chi * x[:, 0]


def cef(x, *r):
    """Moment along the field of Er3+ with B_kq = r_kq x published; x = (B, T, axis)."""
    st = {k: const.meV_to_J(r[i] * B_PUBLISHED[i]) for i, k in enumerate(KEYS)}
    ion = statmech.SingleIon(7.5, 1.2, stevens=st, method="expm")
    u = jnp.where(x[:, 2:3] == 0, jnp.array([1.0, 0.0, 0.0]), jnp.array([0.0, 0.0, 1.0]))
    return jnp.sum(ion.moment(x[:, :1] * u, x[:, 1]) * u, axis=-1)


def curie_weiss(ax, mt) -> dict:
    """Curie-Weiss fits above 100 K of chi in emu/mol (M/H of the MT file), 1 % sigma; the
    powder-averaged effective moment against the free ion's."""
    numbers, C = {}, {}
    for d in ("ab", "c"):
        T, chi = mt[f"1 T H//{d}"]
        s = T >= 100
        r = nf.curve_fit(
            nf.curie_weiss_chi,
            T[s],
            chi[s],
            [10.0, 0.0, 0.0],
            sigma=0.01 * chi[s],
            absolute_sigma=True,
        )
        C[d] = float(r.params[0])
        numbers[f"theta_CW_{d}"] = number(
            float(r.params[1]), None, "K", f"fit 100-350 K, +- {float(r.stderr[1]):.2f}"
        )
        ax.plot(T, 1 / chi, ".", ms=2, label=f"H // {d}")
        ax.plot(T[s], 1 / np.asarray(nf.curie_weiss_chi(T[s], *r.params)), "k-", lw=0.8)
    mu = math.sqrt((2 * C["ab"] + C["c"]) / 3 / nf.CURIE_CGS_PER_MUEFF2)
    numbers["mu_eff_powder"] = number(
        mu, MU_FREE, "mu_B", "free Er3+ ion g_J sqrt(J(J+1))", rtol=0.05
    )
    ax.set_xlabel("T [K]")
    ax.set_ylabel("1/chi [mol/emu]")
    ax.set_title("Curie-Weiss, 1 T", fontsize=9)
    ax.legend()
    return numbers


def ground_doublet(ax, mh) -> dict:
    """g factors of the ground doublet from the 2 K low-field M(H), and the Zeeman splitting
    in 1 mT of the published crystal field's ground doublet."""
    numbers = {}
    for d in ("ab", "c"):
        x, y, s = _curves(mh, d, [2], max_field=0.6)
        r = nf.curve_fit(doublet, x, y, [5.0, 0.0], sigma=s, absolute_sigma=True)
        numbers[f"g_{d}_doublet"] = number(
            float(r.params[0]), None, "1", f"2 K, <= 0.6 T, chi2_red {float(r.chi2_red):.1f}"
        )
        ax.plot(x[:, 0], y, "o", ms=3, label=f"2 K H // {d}")
        ax.plot(x[:, 0], np.asarray(doublet(jnp.asarray(x), *r.params)), "k-", lw=0.8)
    st = {k: const.meV_to_J(B_PUBLISHED[i]) for i, k in enumerate(KEYS)}
    ion = statmech.SingleIon(7.5, 1.2, stevens=st, method="expm")
    for d, u in (("ab", (1e-3, 0.0, 0.0)), ("c", (0.0, 0.0, 1e-3))):
        e = np.asarray(ion.energy_levels(jnp.asarray(u)))
        numbers[f"g_{d}_published_cef"] = number(
            float((e[1] - e[0]) / (const.MU_B * 1e-3)),
            numbers[f"g_{d}_doublet"]["value"],
            "1",
            "reference = effective-doublet fit of the 2 K data above (no exchange); value = "
            "Zeeman splitting of the published CEF ground doublet in 1 mT",
            compare_only=True,
        )
    ax.set_xlabel("mu0 H [T]")
    ax.set_ylabel("M [mu_B/Er]")
    ax.set_title("ground doublet (effective S = 1/2)", fontsize=9)
    ax.legend()
    return numbers


def cef_data(mh):
    """M(H) at 2, 10 and 50 K in both directions, every second point: x = (B, T, axis)."""
    parts = []
    for a, d in enumerate(("ab", "c")):
        x, y, s = _curves(mh, d, [2, 10, 50])
        parts.append((np.c_[x, np.full(len(y), a)][::2], y[::2], s[::2]))
    return (np.concatenate(p) for p in zip(*parts, strict=False))


def crystal_field(ax, mh) -> dict:
    """Fit of the six Stevens parameters (scale factors of the published ones) to M(H, T)."""
    x, y, s = cef_data(mh)
    r0 = nf.curve_fit(cef, x, y, np.ones(6), sigma=s, absolute_sigma=True, max_iter=0)
    r = nf.curve_fit(cef, x, y, np.ones(6), sigma=s, absolute_sigma=True, max_iter=60)
    numbers = {
        f"B{k}{q}": number(
            float(r.params[i] * B_PUBLISHED[i]),
            float(B_PUBLISHED[i]),
            "meV",
            f"Scheie et al. PRB 101, 144432 (2020), neutron fit "
            f"(CES_CEF_fit2.ipynb, asche1/PyCrystalField); fit +- "
            f"{float(r.stderr[i] * abs(B_PUBLISHED[i])):.2g}",
            compare_only=True,
        )
        for i, (k, q) in enumerate(KEYS)
    }
    numbers["cef_chi2_red"] = number(
        float(r.chi2_red),
        float(r0.chi2_red),
        "1",
        "reference = published parameters, same data",
        bound="<",
    )
    for a, d in enumerate(("ab", "c")):
        m = x[:, 2] == a
        ax.plot(x[m, 0], y[m], "o", ms=2, label=f"H // {d} data")
        ax.plot(x[m, 0], np.asarray(cef(jnp.asarray(x[m]), *r.params)), "k.", ms=2)
    ax.set_title(
        f"CEF fit (black), chi2_red {float(r.chi2_red):.0f} vs published {float(r0.chi2_red):.0f}",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    return numbers


def run(out: Path, quick: bool = False) -> dict:
    out = output_dir(out)
    mh = nf.read_column_pairs(DATA / "CsErSe2_MH.dat")
    mt = nf.read_column_pairs(DATA / "CsErSe2_MT.dat")
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    numbers = curie_weiss(ax[0], mt)
    numbers.update(ground_doublet(ax[1], mh))
    if quick:
        ax[2].text(0.5, 0.5, "crystal-field fit: full mode only", ha="center", fontsize=8)
    else:
        numbers.update(crystal_field(ax[2], mh))
    ax[2].set_xlabel("mu0 H [T]")
    figure = save_figure(fig, out, "cserse2_fits.png", dpi=90)
    return {
        "summary": (
            "Measured magnetization of CsErSe2 (Scheie et al. 2020 bulk data). Left: the "
            "high-temperature Curie-Weiss fit gives the Er3+ effective moment (powder average "
            "of the two directions) close to the free-ion 9.58 mu_B. Middle: the 2 K low-field "
            "M(H) is that of an anisotropic ground Kramers doublet (g_ab > g_c, easy plane). "
            "Right: a crystal-field fit of the six D3d Stevens parameters to M(H) at 2-50 K in "
            "both directions, started from the published parameters (no exchange included)."
        ),
        "figures": [figure],
        "numbers": numbers,
    }


if __name__ == "__main__":
    main(run, __file__)
