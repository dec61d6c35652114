"""Pauli versus Curie: the spin susceptibility of the free electron gas (sodium density) next to
free moments of the same density; Landau diamagnetism and the Stoner enhancement."""

from __future__ import annotations

import pathlib

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax.constants import EV, MU_0, MU_B
from netmag_jax.statmech import ElectronGas, Paramagnet

TITLE = "Electron gas: Pauli vs Curie, Landau diamagnetism, Stoner enhancement"

N_SODIUM = 2.65e28  # m^-3 (Ashcroft & Mermin, Table 2.1)


def susceptibilities(gas: ElectronGas, free: Paramagnet, nt: int) -> dict:
    """chi(T) from 1 K to 1e3 T_F: Pauli, Landau, Stoner and Curie of free spins [SI].

    The plotted grid, then 300 K, 0.03 T_F and 1e3 T_F for the numbers (one evaluation).
    """
    TF = float(gas.fermi_temperature())
    T_all = jnp.concatenate(
        [jnp.geomspace(1.0, 1e3 * TF, nt - 3), jnp.asarray([300.0, 0.03 * TF, 1e3 * TF])]
    )
    I_half = 0.5 * float(gas.fermi_energy()) / 0.75  # I N(E_F) = 1/2 at T -> 0 (illustrative)
    chi_p = np.asarray(gas.pauli_susceptibility(T_all), dtype=np.float64)
    chi_c = np.asarray(free.susceptibility(T_all), dtype=np.float64)
    return dict(
        T=T_all[:-3],
        pauli=chi_p[:-3],
        landau=np.asarray(gas.landau_susceptibility(T_all), dtype=np.float64)[:-3],
        curie=chi_c[:-3],
        stoner=np.asarray(gas.stoner_susceptibility(T_all, I_half), dtype=np.float64)[:-3],
        pauli3=chi_p[-3:],
        curie3=chi_c[-3:],
    )


def plot_chi(out: pathlib.Path, chi: dict, EF: float, TF: float, chi0: float) -> str:
    """Pauli (flat, then Curie above T_F) vs Curie of free spins, Stoner and Landau."""
    T = chi["T"]
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    ax.loglog(T, chi["curie"], "k--", label="Curie: free spins 1/2, same n")
    ax.loglog(T, chi["pauli"], "C0", lw=2, label=r"Pauli $\chi_P$ (electron gas)")
    ax.loglog(T, chi["stoner"], "C3", label=r"Stoner, $I N(E_F) = 0.5$")
    ax.loglog(T, -chi["landau"], "C2:", label=r"$-\chi_L$ (Landau, diamagnetic)")
    ax.axvline(TF, color="grey", lw=0.8)
    ax.text(TF * 1.3, chi0 * 3e-3, r"$T_F$", color="grey")
    ax.set_ylim(chi0 * 1e-3, chi["curie"][0] * 2)
    ax.set_xlabel("T [K]")
    ax.set_ylabel(r"$\chi$ (SI)")
    ax.set_title(f"sodium density: E_F = {EF / EV:.2f} eV, T_F = {TF:.3g} K")
    ax.legend(fontsize=8)
    return save_figure(fig, out, "pauli_vs_curie.png", dpi=120)


def plot_magnetization(out: pathlib.Path, gas: ElectronGas, free: Paramagnet, nt: int) -> str:
    """M(B) at room temperature: linear and tiny for the gas, Brillouin for free spins."""
    B = jnp.linspace(0.0, 10.0, nt // 2)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(B, np.asarray(free.magnetization(B, 300.0)), "k--", label="free spins 1/2 (Curie)")
    ax.plot(B, np.asarray(gas.magnetization(B, 300.0)), "C0", lw=2, label="electron gas (Pauli)")
    ax.set_xlabel("B [T]")
    ax.set_ylabel("M [A/m]")
    ax.set_title("300 K: only electrons within ~k_BT of E_F can flip")
    ax.legend(fontsize=8)
    return save_figure(fig, out, "magnetization_300K.png", dpi=120)


def key_numbers(chi: dict, EF: float, TF: float, chi0: float) -> dict:
    chi_p3, chi_c3 = chi["pauli3"], chi["curie3"]
    return {
        "E_F_sodium": number(EF / EV, 3.24, "eV", "Ashcroft & Mermin, Table 2.1", rtol=0.005),
        "T_F_sodium": number(TF, 3.77e4, "K", "Ashcroft & Mermin, Table 2.1", rtol=0.005),
        "chi_P_sodium_300K": number(
            chi_p3[0],
            4 * np.pi * 2.59e-6 / 3.93,
            "SI",
            "Ashcroft & Mermin ch. 31: chi_P = 2.59e-6/(r_s/a0) cgs, r_s/a0 = 3.93, times 4 pi",
            rtol=0.005,
        ),
        "chi_P_over_curie_300K": number(
            chi_p3[0] / chi_c3[0],
            1.5 * 300.0 / TF,
            "",
            "(3n/2E_F)/(n/k_BT) = 3T/(2T_F): only ~T/T_F respond",
            rtol=1e-3,
        ),
        "chi_P_Sommerfeld_0.03TF": number(
            chi_p3[1] / chi0,
            1 - np.pi**2 / 12 * 0.03**2,
            "chi_P(0)",
            "Sommerfeld: 1 - (pi^2/12)(T/T_F)^2",
            rtol=1e-5,
        ),
        "chi_P_over_curie_1000TF": number(
            chi_p3[2] / chi_c3[2],
            1.0,
            "",
            "Boltzmann limit T >> T_F: Curie law (to ~1e-5)",
            rtol=1e-4,
        ),
        "chi_L_over_chi_P": number(
            chi["landau"][0] / chi["pauli"][0],
            -1.0 / 3.0,
            "",
            "Landau: -1/3 for free electrons (m_eff = 1)",
            rtol=1e-9,
        ),
        "stoner_enhancement_IN_0.5": number(
            chi["stoner"][0] / chi["pauli"][0],
            2.0,
            "",
            "1/(1 - I N(E_F)) with I N(E_F) = 0.5 (T = 1 K)",
            rtol=1e-6,
        ),
    }


SUMMARY = (
    "A free electron gas at the density of sodium (E_F = 3.24 eV) has a spin "
    "susceptibility that is nearly independent of temperature up to T_F ~ 4e4 K, and "
    "about 3T/(2T_F) ~ 1% of the Curie susceptibility that the same density of free "
    "spins would have at room temperature: Pauli blocking lets only the electrons within "
    "~k_B T of the Fermi level flip. Above T_F the gas becomes classical and the curves "
    "merge into Curie's law. Orbital (Landau) diamagnetism cancels one third of the Pauli "
    "term; a Stoner exchange I enhances chi_P by 1/(1 - I N(E_F)), diverging at the "
    "Stoner criterion."
)


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    nt = 40 if quick else 120
    gas = ElectronGas(N_SODIUM)
    free = Paramagnet(0.5, 2.0, n=N_SODIUM)  # free spins 1/2 of the same density
    TF, EF = float(gas.fermi_temperature()), float(gas.fermi_energy())
    chi0 = MU_0 * MU_B**2 * 1.5 * N_SODIUM / EF
    chi = susceptibilities(gas, free, nt)
    figures = [plot_chi(out, chi, EF, TF, chi0), plot_magnetization(out, gas, free, nt)]
    return {"summary": SUMMARY, "figures": figures, "numbers": key_numbers(chi, EF, TF, chi0)}


if __name__ == "__main__":
    main(run, __file__)
