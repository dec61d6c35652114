"""Pauli versus Curie: the spin susceptibility of the free electron gas (sodium density) next to
free moments of the same density; Landau diamagnetism and the Stoner enhancement."""

from __future__ import annotations

import pathlib

import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from netmag_jax.constants import EV, MU_0, MU_B  # noqa: E402
from netmag_jax.statmech import ElectronGas, Paramagnet  # noqa: E402

TITLE = "Electron gas: Pauli vs Curie, Landau diamagnetism, Stoner enhancement"

N_SODIUM = 2.65e28  # m^-3 (Ashcroft & Mermin, Table 2.1)


def _num(value, reference, unit, source):
    return {
        "value": float(value),
        "reference": None if reference is None else float(reference),
        "unit": unit,
        "source": source,
    }


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    nt = 40 if quick else 120
    gas = ElectronGas(N_SODIUM)
    free = Paramagnet(0.5, 2.0, n=N_SODIUM)
    TF = float(gas.fermi_temperature())
    EF = float(gas.fermi_energy())
    chi0 = MU_0 * MU_B**2 * 1.5 * N_SODIUM / EF

    # 1. chi(T) from 1 K to 1e3 T_F: Pauli (flat, then Curie above T_F) vs Curie of free spins
    # the plotted grid, then three temperatures for the reported numbers (one evaluation)
    T_all = jnp.concatenate(
        [jnp.geomspace(1.0, 1e3 * TF, nt - 3), jnp.asarray([300.0, 0.03 * TF, 1e3 * TF])]
    )
    T = T_all
    chi_p = np.asarray(gas.pauli_susceptibility(T), dtype=np.float64)
    chi_l = np.asarray(gas.landau_susceptibility(T), dtype=np.float64)
    chi_c = np.asarray(free.susceptibility(T), dtype=np.float64)
    chi_p3, chi_c3 = chi_p[-3:], chi_c[-3:]
    T, chi_p, chi_l, chi_c = T[:-3], chi_p[:-3], chi_l[:-3], chi_c[:-3]
    I_half = 0.5 * EF / 0.75  # I N(E_F) = 1/2 at T -> 0 (illustrative)
    chi_s = np.asarray(gas.stoner_susceptibility(T_all, I_half), dtype=np.float64)[:-3]
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    ax.loglog(T, chi_c, "k--", label="Curie: free spins 1/2, same n")
    ax.loglog(T, chi_p, "C0", lw=2, label=r"Pauli $\chi_P$ (electron gas)")
    ax.loglog(T, chi_s, "C3", label=r"Stoner, $I N(E_F) = 0.5$")
    ax.loglog(T, -chi_l, "C2:", label=r"$-\chi_L$ (Landau, diamagnetic)")
    ax.axvline(TF, color="grey", lw=0.8)
    ax.text(TF * 1.3, chi0 * 3e-3, r"$T_F$", color="grey")
    ax.set_ylim(chi0 * 1e-3, chi_c[0] * 2)
    ax.set_xlabel("T [K]")
    ax.set_ylabel(r"$\chi$ (SI)")
    ax.set_title(f"sodium density: E_F = {EF / EV:.2f} eV, T_F = {TF:.3g} K")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pauli_vs_curie.png", dpi=120)
    plt.close(fig)

    # 2. M(B) at room temperature: linear and tiny for the gas, Brillouin for free spins
    B = jnp.linspace(0.0, 10.0, nt // 2)
    m_gas = np.asarray(gas.magnetization(B, 300.0))
    m_free = np.asarray(free.magnetization(B, 300.0))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(B, m_free, "k--", label="free spins 1/2 (Curie)")
    ax.plot(B, m_gas, "C0", lw=2, label="electron gas (Pauli)")
    ax.set_xlabel("B [T]")
    ax.set_ylabel("M [A/m]")
    ax.set_title("300 K: only electrons within ~k_BT of E_F can flip")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "magnetization_300K.png", dpi=120)
    plt.close(fig)

    numbers = {
        "E_F_sodium": _num(EF / EV, 3.24, "eV", "Ashcroft & Mermin, Table 2.1"),
        "T_F_sodium": _num(TF, 3.77e4, "K", "Ashcroft & Mermin, Table 2.1"),
        "chi_P_sodium_300K": _num(
            chi_p3[0],
            4 * np.pi * 2.59e-6 / 3.93,
            "SI",
            "Ashcroft & Mermin ch. 31: chi_P = 2.59e-6/(r_s/a0) cgs, r_s/a0 = 3.93, times 4 pi",
        ),
        "chi_P_over_curie_300K": _num(
            chi_p3[0] / chi_c3[0],
            1.5 * 300.0 / TF,
            "",
            "(3n/2E_F)/(n/k_BT) = 3T/(2T_F): only ~T/T_F respond",
        ),
        "chi_P_Sommerfeld_0.03TF": _num(
            chi_p3[1] / chi0,
            1 - np.pi**2 / 12 * 0.03**2,
            "chi_P(0)",
            "Sommerfeld: 1 - (pi^2/12)(T/T_F)^2",
        ),
        "chi_P_over_curie_1000TF": _num(
            chi_p3[2] / chi_c3[2], 1.0, "", "Boltzmann limit T >> T_F: Curie law (to ~1e-5)"
        ),
        "chi_L_over_chi_P": _num(
            chi_l[0] / chi_p[0], -1.0 / 3.0, "", "Landau: -1/3 for free electrons (m_eff = 1)"
        ),
        "stoner_enhancement_IN_0.5": _num(
            chi_s[0] / chi_p[0], 2.0, "", "1/(1 - I N(E_F)) with I N(E_F) = 0.5 (T = 1 K)"
        ),
    }
    summary = (
        "A free electron gas at the density of sodium (E_F = 3.24 eV) has a spin "
        "susceptibility that is nearly independent of temperature up to T_F ~ 4e4 K, and "
        "about 3T/(2T_F) ~ 1% of the Curie susceptibility that the same density of free "
        "spins would have at room temperature: Pauli blocking lets only the electrons within "
        "~k_B T of the Fermi level flip. Above T_F the gas becomes classical and the curves "
        "merge into Curie's law. Orbital (Landau) diamagnetism cancels one third of the Pauli "
        "term; a Stoner exchange I enhances chi_P by 1/(1 - I N(E_F)), diverging at the "
        "Stoner criterion."
    )
    return {
        "summary": summary,
        "figures": ["pauli_vs_curie.png", "magnetization_300K.png"],
        "numbers": numbers,
    }
