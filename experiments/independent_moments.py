"""Independent moments: Brillouin curves, spin-1/2 and spin-1 scaling in B/T, Curie and
Curie-Weiss laws, Schottky heat capacity, and a crystal-field ion with a Van Vleck plateau."""

from __future__ import annotations

import pathlib

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax.constants import K_B, MU_0, MU_B
from netmag_jax.statmech import (
    Paramagnet,
    SingleIon,
    brillouin,
    curie_constant,
    curie_weiss,
    langevin,
)

TITLE = "Independent moments: Brillouin, Curie, Schottky and Van Vleck"


def brillouin_curves(out: pathlib.Path, nb: int, quick: bool) -> tuple[dict, str]:
    """Brillouin curves on the reduced axis x = g mu_B J B / k_B T, from the exact partition
    function, at two temperatures (collapse), and the Langevin limit."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    b = jnp.linspace(0.0, 30.0, nb)
    worst = 0.0
    for J in (0.5, 1.0, 3.5) if quick else (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5):
        temps = (2.0, 6.0)
        b2 = jnp.broadcast_to(b, (2, nb))
        mom = np.asarray(Paramagnet(J, 2.0).moment(b2, jnp.asarray(temps)[:, None]))
        for T, style, m in zip(temps, ("-", ":"), mom / (2.0 * J), strict=False):
            x = 2.0 * MU_B * J * np.asarray(b) / (K_B * T)
            worst = max(worst, float(np.max(np.abs(m - np.asarray(brillouin(J, x))))))
            ax.plot(x, m, style, lw=1.4, label=f"J = {J:g}" if T == 2.0 else None)
    xs = np.linspace(0.0, float(x.max()), 300)
    ax.plot(xs, np.asarray(langevin(xs)), "k--", lw=1.5, label="Langevin (J -> inf)")
    ax.set_xlim(0, 12)
    ax.set_xlabel(r"$x = g\mu_B J B / k_B T$")
    ax.set_ylabel(r"$\langle\mu\rangle / gJ\mu_B$")
    ax.set_title("Brillouin curves (solid 2 K, dotted 6 K: same curve)")
    ax.legend(fontsize=8)
    numbers = {
        "max_dev_from_brillouin": number(
            worst, 0.0, "fraction of gJ", "closed form B_J(x) (brillouin)", atol=1e-9
        )
    }
    return numbers, save_figure(fig, out, "brillouin_curves.png", dpi=120)


def spin_half_spin_one(out: pathlib.Path, nb: int) -> tuple[dict, str]:
    """Spin 1/2 and spin 1 against their closed forms, several temperatures vs B/T."""
    fig, axs = plt.subplots(1, 2, figsize=(9, 3.8))
    bt_ref = np.linspace(0.0, 6.0, 200)
    for ax, J in zip(axs, (0.5, 1.0), strict=False):
        temps = jnp.array([1.8, 4.2])[:, None]  # same shapes as above: no new compilation
        bb = jnp.linspace(0.0, 6.0, nb)[None, :] * temps
        mom = np.asarray(Paramagnet(J, 2.0).moment(bb, temps))
        for i, T in enumerate((1.8, 4.2)):
            ax.plot(np.asarray(bb[i]) / T, mom[i], "o", ms=3, label=f"T = {T} K")
        y = 2.0 * MU_B * bt_ref / K_B
        ref = np.tanh(y / 2) if J == 0.5 else 2 * 2 * np.sinh(y) / (1 + 2 * np.cosh(y))
        ax.plot(bt_ref, ref, "k-", lw=1, label="tanh" if J == 0.5 else "3-level sum")
        ax.set_xlabel("B / T  [T/K]")
        ax.set_ylabel(r"$\langle\mu\rangle$  [$\mu_B$]")
        ax.set_title(f"spin {'1/2' if J == 0.5 else '1'}, g = 2")
        ax.legend(fontsize=8)
    figure = save_figure(fig, out, "spin_half_spin_one.png", dpi=120)
    probe_b = jnp.full((2, nb), 7.0).at[0, 0].set(2.0)
    probe_t = jnp.array([1.0, 0.1])[:, None]
    m_half = float(Paramagnet(0.5, 2.0).moment(probe_b, probe_t)[0, 0])
    m_sat = float(Paramagnet(3.5, 2.0).moment(probe_b, probe_t)[1, 0])
    numbers = {
        "spin_half_moment_2T_1K": number(
            m_half, np.tanh(MU_B * 2.0 / K_B), "mu_B", "two-level tanh law (g = 2)", rtol=1e-9
        ),
        "J7/2_saturation_7T_0.1K": number(m_sat, 7.0, "mu_B", "g J (saturation)", rtol=1e-6),
    }
    return numbers, figure


def curie_law(out: pathlib.Path, nb: int) -> tuple[dict, str]:
    """Curie's law, fitted mu_eff of Gd3+ (J = 7/2, g = 2), Curie-Weiss lines."""
    n = 1.0e28
    p = Paramagnet(3.5, 2.0, n=n)
    T = jnp.linspace(2.0, 300.0, nb)
    chi = np.asarray(p.susceptibility(T), dtype=np.float64)
    slope, icpt = np.polyfit(np.asarray(T, dtype=np.float64), 1.0 / chi, 1)
    C_fit = 1.0 / slope
    mu_eff = np.sqrt(3 * K_B * C_fit / (MU_0 * n * MU_B**2))
    C = float(curie_constant(3.5, 2.0, n))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(T, 1 / chi, "k-", label=r"Paramagnet, $1/\chi$ (J = 7/2)")
    for theta, c in ((-20.0, "tab:blue"), (15.0, "tab:red")):
        Tcw = jnp.linspace(max(theta, 0.0) + 2.0, 300.0, nb)
        ax.plot(
            Tcw,
            1 / np.asarray(curie_weiss(Tcw, C, theta)),
            color=c,
            label=rf"Curie-Weiss $\theta$ = {theta:g} K",
        )
    ax.set_xlabel("T [K]")
    ax.set_ylabel(r"$1/\chi$ (SI)")
    ax.set_title("Curie law: 1/chi linear in T through the origin")
    ax.legend(fontsize=8)
    numbers = {
        "Gd3+_mu_eff_from_curie_fit": number(
            mu_eff, 7.94, "mu_B", "g sqrt(J(J+1)) = 7.94 (Kittel, ISSP ch. 11)", rtol=1e-3
        ),
        "curie_fit_intercept_K": number(
            icpt * C_fit, 0.0, "K", "Curie law: 1/chi = T/C passes through 0", atol=1e-6
        ),
    }
    return numbers, save_figure(fig, out, "curie_law.png", dpi=120)


def schottky(out: pathlib.Path, nb: int) -> tuple[dict, str]:
    """Schottky anomaly of a spin 1/2 in 3 T and its entropy k_B ln 2."""
    p = Paramagnet(0.5, 2.0)
    Tt = jnp.linspace(0.2, 10.0, 4 * nb)
    c = np.asarray(p.heat_capacity(3.0, Tt)) / K_B
    s = np.asarray(p.entropy(3.0, Tt)) / K_B
    delta_K = 2.0 * MU_B * 3.0 / K_B
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(Tt, c, label=r"$C/k_B$")
    ax.plot(Tt, s, label=r"$S/k_B$")
    ax.axhline(np.log(2), color="grey", ls=":", label=r"$\ln 2$")
    ax.set_xlabel("T [K]")
    ax.set_title("spin 1/2 in 3 T: Schottky anomaly (autodiff of F)")
    ax.legend(fontsize=8)
    numbers = {
        "schottky_peak_C_over_kB": number(
            c.max(), 0.43922, "k_B", "two-level Schottky maximum (analytic)", rtol=1e-4
        ),
        "schottky_peak_T_over_Delta": number(
            float(Tt[c.argmax()]) / delta_K,
            0.41678,
            "",
            "two-level Schottky maximum (analytic)",
            rtol=0.005,
        ),
    }
    return numbers, save_figure(fig, out, "schottky.png", dpi=120)


def van_vleck(out: pathlib.Path, nb: int) -> tuple[dict, str]:
    """Crystal field: S = 1 with D S_z^2, D = 10 K (singlet ground state): Van Vleck plateau."""
    D_K = 10.0
    ion = SingleIon(1.0, 2.0, {(2, 0): K_B * D_K / 3.0})
    Tv = jnp.geomspace(0.3, 300.0, nb // 2)
    chi_ion = np.asarray(ion.susceptibility_per_ion(Tv))
    free = 2.0**2 * 2.0 * MU_B / (3 * K_B * np.asarray(Tv))
    plateau = 2 * 2.0**2 * MU_B / (K_B * D_K)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(Tv, chi_ion[:, 2, 2], label=r"$\chi_\parallel$ (Curie, frozen out)")
    ax.loglog(Tv, chi_ion[:, 0, 0], label=r"$\chi_\perp$ (Van Vleck plateau)")
    ax.loglog(Tv, np.trace(chi_ion, axis1=1, axis2=2) / 3, "k", label="powder")
    ax.loglog(Tv, free, "k:", label="free S = 1 (Curie)")
    ax.axhline(plateau, color="grey", ls="--", lw=0.8)
    ax.set_ylim(1e-3, None)
    ax.set_xlabel("T [K]")
    ax.set_ylabel(r"$\partial\mu/\partial B$ [$\mu_B$/T per ion]")
    ax.set_title(r"S = 1, $D S_z^2$, D = 10 K")
    ax.legend(fontsize=8)
    numbers = {
        "van_vleck_plateau_chi_perp_0.3K": number(
            chi_ion[0, 0, 0],
            plateau,
            "mu_B/T per ion",
            "2 g^2 mu_B^2 / D (S = 1, D S_z^2; Kahn, Molecular Magnetism, ch. 2)",
            rtol=1e-9,
        ),
        "chi_par_over_curie_0.3K": number(
            chi_ion[0, 2, 2] / free[0],
            1.5 * 2 * np.exp(-D_K / 0.3) / (1 + 2 * np.exp(-D_K / 0.3)),
            "",
            "3 e^{-D/T} / (1 + 2 e^{-D/T}) (same closed form)",
            rtol=1e-3,
        ),
    }
    return numbers, save_figure(fig, out, "van_vleck.png", dpi=120)


SUMMARY = (
    "Independent moments follow from one free energy per ion: the exact 2J+1-level "
    "partition function gives M(B, T), chi, S and C by automatic differentiation. "
    "Curves at different temperatures collapse onto the Brillouin function of "
    "x = g mu_B J B / k_B T and approach the Langevin function as J grows; at low field "
    "1/chi is linear in T through the origin (Curie), shifted by theta for Curie-Weiss. "
    "A spin-1/2 in a field shows the Schottky anomaly. A crystal field that leaves a "
    "non-magnetic singlet ground state (S = 1, D > 0) freezes the Curie response along "
    "the axis and leaves a temperature-independent Van Vleck susceptibility across it."
)


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    nb = 60 if quick else 200
    sections = [
        brillouin_curves(out, nb, quick),
        spin_half_spin_one(out, nb),
        curie_law(out, nb),
        schottky(out, nb),
        van_vleck(out, nb),
    ]
    numbers = {k: v for section_numbers, _ in sections for k, v in section_numbers.items()}
    figures = [figure for _, figure in sections]
    return {"summary": SUMMARY, "figures": figures, "numbers": numbers}


if __name__ == "__main__":
    main(run, __file__)
