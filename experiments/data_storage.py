"""Data storage: thermal stability of recording grains. Retention time tau = tau0 exp(K V / k_B T)
vs grain size at 300 K, and a check of the Arrhenius law by thermal (stochastic) LLG escape
times of a uniaxial macrospin against Brown's formula."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn

TITLE = "Data storage: retention time vs grain volume (Neel-Arrhenius, thermal LLG)"

T = 300.0
TEN_YEARS = 10 * 365.25 * 24 * 3600.0
MATERIALS = {
    "CoCrPt (K = 0.3 MJ/m^3)": (3.0e5, 4.0e5),  # K [J/m^3], Ms [A/m]
    "CoPt multilayer (K = 1 MJ/m^3)": (1.0e6, 6.0e5),
    "L1_0 FePt (K = 6.6 MJ/m^3)": (6.6e6, 1.1e6),
}


def _escape_time(delta, key, n_spins, n_steps, Ms=8e5, K=2e5, alpha=1.0):
    """Mean first-passage time [s] of a uniaxial macrospin from +z past m_z = -0.5."""
    V = delta * C.K_B * T / K
    HK = 2 * K / (C.MU_0 * Ms)
    z = jnp.array([0.0, 0.0, 1.0])
    dt = 0.05 / (dyn.GAMMA_E * C.MU_0 * HK)
    save = 5
    sol = dyn.llg(
        jnp.tile(z, (n_spins, 1)),
        lambda m, t: HK * m[..., 2:3] * jnp.broadcast_to(z, m.shape),  # uniaxial along z
        dt,
        n_steps,
        alpha=alpha,
        save_every=save,
        temperature=T,
        Ms=Ms,
        volume=V,
        key=key,
    )
    crossed = np.asarray(sol.m[:, :, 2]) < -0.5
    hit = crossed.any(0)
    first = np.where(hit, crossed.argmax(0), crossed.shape[0]) * save * dt
    tau = first.sum() / max(hit.sum(), 1)  # exponential MLE with censoring
    return tau, tau / np.sqrt(max(hit.sum(), 1)), float(dyn.brown_escape_time(K, Ms, V, T, alpha))


def retention(ax) -> dict:
    """Neel-Arrhenius retention time vs grain edge at 300 K; the grain with 10-year retention."""
    D = np.linspace(3e-9, 15e-9, 200)  # cubic grain edge [m]
    V = D**3
    delta_10y = float(np.log(TEN_YEARS / dyn.TAU0))
    numbers = {
        "delta_10_years": number(delta_10y, 40.3, "1", "ln(10 yr / 1 ns) (tau0 = 1 ns)", rtol=1e-3),
    }
    for name, (K, _) in MATERIALS.items():
        # tau = tau0 exp(Delta) from the stability ratio, capped at 1e30 s before the exponential
        # (large FePt grains exceed the float range, where retention_time raises)
        delta = np.asarray(dyn.thermal_stability(K, jnp.asarray(V), T))
        tau = dyn.TAU0 * np.exp(np.minimum(delta, np.log(1e30 / dyn.TAU0)))
        ax.semilogy(D * 1e9, tau, label=name)
        D10 = (delta_10y * C.K_B * T / K) ** (1 / 3)
        key = "min_grain_" + name.split()[0].replace("L1_0", "FePt")
        numbers[key] = number(
            D10 * 1e9, None, "nm", "edge of a cubic grain with 10-year retention at 300 K"
        )
    ax.axhline(TEN_YEARS, color="k", ls="--", lw=0.8)
    ax.text(3.2e0, TEN_YEARS * 3, "10 years", fontsize=8)
    ax.set_ylim(1e-10, 1e20)
    ax.set_xlabel("grain edge D [nm] (V = D^3)")
    ax.set_ylabel("retention time tau = tau0 exp(KV/k_B T) [s]")
    ax.set_title("Neel-Arrhenius retention at 300 K, tau0 = 1 ns", fontsize=9)
    ax.legend(fontsize=7)
    return numbers


def arrhenius(ax, quick: bool) -> dict:
    """Thermal-LLG escape times at several barriers Delta against Brown's formula."""
    deltas = [3.0, 4.5] if quick else [2.5, 3.5, 4.5, 5.5]
    n_spins = 96 if quick else 256
    sims = []
    for i, d in enumerate(deltas):
        n_steps = int(60 * np.exp(d)) // 5 * 5 + 5
        sims.append(_escape_time(d, jax.random.PRNGKey(10 + i), n_spins, n_steps))
    tau_sim, err, tau_b = (np.array(col) for col in zip(*sims, strict=True))
    dd = np.linspace(2, 6, 50)
    brown = np.array(
        [float(dyn.brown_escape_time(2e5, 8e5, x * C.K_B * T / 2e5, T, 1.0)) for x in dd]
    )
    ax.semilogy(dd, brown, "k-", label="Brown (1963) high-barrier formula")
    ax.errorbar(deltas, tau_sim, yerr=err, fmt="o", label="thermal LLG, mean first passage")
    ax.set_xlabel("Delta = K V / k_B T")
    ax.set_ylabel("escape time [s]")
    ax.set_title("Arrhenius check (alpha = 1, H_K = 0.4 T)", fontsize=9)
    ax.legend(fontsize=7)
    i45 = deltas.index(4.5)
    return {
        "llg_over_brown_at_delta_4.5": number(
            float(tau_sim[i45] / tau_b[i45]),
            1.0,
            "1",
            "Brown, Phys. Rev. 130, 1677 (1963), asymptotic in 1/Delta (order of magnitude)",
            rtol=1.0,
        ),
        "arrhenius_slope": number(
            float(np.polyfit(deltas, np.log(tau_sim), 1)[0]),
            float(np.polyfit(deltas, np.log(tau_b), 1)[0]),
            "1",
            "d ln(tau)/d Delta of Brown's formula (= 1 - 1/(2 Delta) on average)",
            rtol=0.02,
        ),
    }


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    numbers = retention(axs[0])
    numbers.update(arrhenius(axs[1], quick))
    figure = save_figure(fig, out, "data_storage.png", dpi=110)
    return {
        "summary": (
            "A recorded bit lives in the magnetization of tiny grains; thermal agitation flips "
            "a grain over its anisotropy barrier K V at the Neel-Arrhenius rate, so the "
            "retention time grows exponentially with grain volume: ten years need "
            "K V / k_B T ~ 40. High-anisotropy media (FePt) keep this down to grains of a few "
            "nanometres. The right panel simulates the stochastic LLG equation (Brown's thermal "
            "field) for a macrospin and recovers the exponential law and Brown's prefactor."
        ),
        "figures": [figure],
        "numbers": numbers,
    }


if __name__ == "__main__":
    main(run, __file__)
