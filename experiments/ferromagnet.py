"""Ferromagnet: the order parameter appearing below Tc (2D Ising Monte Carlo vs Onsager vs
mean field), and a real material, EuO, built from its unit cell and exchange shells."""

from __future__ import annotations

import math
import pathlib

import jax
import numpy as np

TITLE = "Ferromagnet: spontaneous magnetization, Curie temperature, EuO"

# EuO (rock salt, Eu2+ S = 7/2 on an fcc lattice, a = 5.144 A). Exchange from inelastic
# neutron scattering: J1/k_B = 0.606 K, J2/k_B = 0.119 K (L. Passell, O. W. Dietrich,
# J. Als-Nielsen, Phys. Rev. B 14, 4897 (1976)), for H = -sum_{i != j} J_ij S_i.S_j (each
# pair twice), i.e. 2 J per bond in this package's each-bond-once convention. Tc = 69.3 K.
EUO_A = 5.144
EUO_J1_K, EUO_J2_K, EUO_S, EUO_TC = 0.606, 0.119, 3.5, 69.3


def onsager_m(T):
    """Onsager/Yang spontaneous magnetization of the square Ising model (J/k_B = 1 K)."""
    T = np.asarray(T, dtype=float)
    x = 1.0 - np.sinh(2.0 / T) ** -4
    return np.where(2.0 / math.log(1 + math.sqrt(2)) > T, np.abs(x) ** 0.125, 0.0)


def euo_lattice(n_cells, J_scale=1.0):
    """EuO Eu sublattice: conventional fcc cell, J per bond = 2 J S(S+1) for unit spins."""
    from netmag_jax import lattice as nl
    from netmag_jax.constants import K_B

    basis = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    J1 = nl.classical_exchange(2 * EUO_J1_K * K_B, EUO_S, "S(S+1)") * J_scale
    J2 = nl.classical_exchange(2 * EUO_J2_K * K_B, EUO_S, "S(S+1)") * J_scale
    return nl.from_cell(
        EUO_A * np.eye(3),
        basis,
        n_cells,
        [(EUO_A / math.sqrt(2), float(J1)), (EUO_A, float(J2))],
        name="EuO",
    )


def run(out: pathlib.Path, quick: bool = False) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netmag_jax import lattice as nl
    from netmag_jax.constants import K_B

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    Tc_exact = 2.0 / math.log(1.0 + math.sqrt(2.0))

    # --- 2D Ising: M(T), chi(T) ---------------------------------------------------------
    L = 16 if quick else 32
    T = np.linspace(1.4, 3.4, 11 if quick else 21)
    o = nl.simulate(
        nl.Ising(nl.square(L)),
        jax.random.key(0),
        T,
        n_sweeps=300 if quick else 1000,
        n_equil=80 if quick else 200,
        n_chains=2,
        init="ferro",
    )
    m, dm = np.asarray(o.magnetization), np.asarray(o.magnetization_err)
    chi = np.asarray(o.susceptibility) * K_B
    T_peak = float(T[np.argmax(chi)])
    Tmf = 4.0  # zJ/k_B
    Tf = np.linspace(1.2, 4.5, 200)
    m_mf = np.asarray(nl.weiss(Tf, Tmf, 0.5))
    i2 = int(np.argmin(np.abs(T - 2.0)))
    numbers = {
        "ising2d_m_at_T2": {
            "value": float(m[i2]),
            "reference": float(onsager_m(T[i2])),
            "unit": "per site",
            "source": f"Onsager/Yang exact, L={L} MC at T={T[i2]:.3f} J/k_B",
        },
        "ising2d_chi_peak_T": {
            "value": T_peak,
            "reference": Tc_exact,
            "unit": "J/k_B",
            "source": "Onsager Tc = 2/ln(1+sqrt2); finite-L peak shifts up",
        },
        "ising2d_meanfield_Tc": {
            "value": float(nl.mean_field_tc(nl.Ising(nl.square(4)))),
            "reference": Tc_exact,
            "unit": "J/k_B",
            "source": "mean field zJ/k_B = 4 overestimates Onsager",
        },
    }

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].errorbar(T, m, dm, fmt="o", label=f"Monte Carlo L={L}")
    ax[0].plot(Tf, onsager_m(Tf), "k-", label="Onsager (exact)")
    ax[0].plot(Tf, m_mf, "r--", label="mean field (Weiss)")
    ax[0].axvline(Tc_exact, color="gray", lw=0.8)
    ax[0].set(xlabel="T [J/k_B]", ylabel="<|m|> per site", title="2D Ising order parameter")
    ax[0].legend()
    ax[1].errorbar(T, chi, np.asarray(o.susceptibility_err) * K_B, fmt="o-")
    ax[1].axvline(Tc_exact, color="gray", lw=0.8)
    ax[1].set(xlabel="T [J/k_B]", ylabel="chi k_B per site", title="susceptibility peak at Tc")
    fig.tight_layout()
    fig.savefig(out / "ising2d_m_chi.png", dpi=100)
    plt.close(fig)
    figures = ["ising2d_m_chi.png"]

    if not quick:  # Binder-cumulant crossing of two sizes
        Tb = np.linspace(2.15, 2.40, 6)
        U = {}
        for Lb in (8, 16):
            ob = nl.simulate(
                nl.Ising(nl.square(Lb)),
                jax.random.key(Lb),
                Tb,
                n_sweeps=1000,
                n_equil=200,
                n_chains=16,
            )
            U[Lb] = (np.asarray(ob.binder), np.asarray(ob.binder_err))
        Tx = float(nl.binder_crossing(Tb, U[8][0], U[16][0]))
        # classical Heisenberg, simple cubic: Binder crossing of L = 4 and 8
        Th = np.linspace(1.38, 1.50, 5)
        Uh = {
            Lh: nl.simulate(
                nl.Heisenberg(nl.cubic(Lh)),
                jax.random.key(Lh),
                Th,
                n_sweeps=600,
                n_equil=150,
                n_overrelax=1,
                n_chains=8,
                init="ferro",
            ).binder
            for Lh in (4, 8)
        }
        numbers["heisenberg_cubic_binder_crossing_4_8"] = {
            "value": float(nl.binder_crossing(Th, Uh[4], Uh[8])),
            "reference": 1.443,
            "unit": "J/k_B",
            "source": "classical Heisenberg sc Tc = 1.4430 J/k_B (Chen, Ferrenberg & Landau 1993)",
        }
        numbers["ising2d_binder_crossing_8_16"] = {
            "value": Tx,
            "reference": Tc_exact,
            "unit": "J/k_B",
            "source": "Onsager; small-L crossing carries a finite-size shift",
        }
        fig, ax = plt.subplots(figsize=(5, 4))
        for Lb, (u, du) in U.items():
            ax.errorbar(Tb, u, du, fmt="o-", label=f"L={Lb}")
        ax.axvline(Tc_exact, color="k", lw=0.8, label="Onsager Tc")
        ax.set(xlabel="T [J/k_B]", ylabel="U4", title="Binder cumulant crossing")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "ising2d_binder.png", dpi=100)
        plt.close(fig)
        figures.append("ising2d_binder.png")

    # --- EuO from its unit cell -----------------------------------------------------------
    Te = np.linspace(55.0, 85.0, 4 if quick else 7)
    runs = {}
    for n_cells in (2, 3):
        model = nl.Heisenberg(euo_lattice(n_cells))
        runs[n_cells] = nl.simulate(
            model,
            jax.random.key(7 + n_cells),
            Te,
            n_sweeps=250 if quick else 1000,
            n_equil=80 if quick else 200,
            n_overrelax=0 if quick else 1,
            n_chains=4,
            init="ferro",
        )
    Tc_mf = float(nl.mean_field_tc(model, n_components=3))
    Tc_mf_quantum = float(nl.mean_field_tc((12 * 2 * EUO_J1_K + 6 * 2 * EUO_J2_K) * K_B, S=EUO_S))
    Tc_mc = float(nl.binder_crossing(Te, runs[2].binder, runs[3].binder))
    oe = runs[3]
    numbers.update(
        {
            "EuO_Tc_meanfield": {
                "value": Tc_mf,
                "reference": EUO_TC,
                "unit": "K",
                "source": "experiment (Passell et al. 1976); mean field "
                "S(S+1)(z1 2J1 + z2 2J2)/3 overestimates",
            },
            "EuO_Tc_meanfield_quantum_formula": {
                "value": Tc_mf_quantum,
                "reference": Tc_mf,
                "unit": "K",
                "source": "zJS(S+1)/3k_B equals the classical zJ~/3k_B with J~ = J S(S+1)",
            },
            "EuO_Tc_montecarlo_binder": {
                "value": Tc_mc,
                "reference": EUO_TC,
                "unit": "K",
                "source": "classical Heisenberg MC, Binder crossing of "
                "32 and 108 Eu sites vs experiment",
            },
        }
    )
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].errorbar(Te, oe.magnetization, oe.magnetization_err, fmt="o-", label="Monte Carlo")
    Tfe = np.linspace(5, 100, 200)
    ax[0].plot(Tfe, nl.weiss(Tfe, Tc_mf, EUO_S), "r--", label="mean field S=7/2")
    ax[0].axvline(EUO_TC, color="k", lw=0.8, label="experiment 69.3 K")
    ax[0].set(xlabel="T [K]", ylabel="m", title="EuO from unit cell + J1, J2")
    ax[0].legend()
    for n_cells, r in runs.items():
        ax[1].errorbar(Te, r.binder, r.binder_err, fmt="o-", label=f"{4 * n_cells**3} sites")
    ax[1].axvline(EUO_TC, color="k", lw=0.8)
    ax[1].set(xlabel="T [K]", ylabel="U4", title="EuO Binder cumulants")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(out / "euo.png", dpi=100)
    plt.close(fig)
    figures.append("euo.png")

    summary = (
        "Below the Curie temperature the 2D Ising ferromagnet orders spontaneously: Monte "
        "Carlo <|m|> follows Onsager's exact (1 - sinh^-4(2J/kT))^(1/8), while Weiss mean field "
        "(Tc = zJ/k_B = 4) overestimates Tc by 76%. The susceptibility peaks at Tc (shifted by "
        "finite size). EuO, built from its fcc cell with the neutron-scattering J1, J2: mean "
        f"field gives Tc = {Tc_mf:.0f} K, the classical Heisenberg Monte Carlo "
        f"{Tc_mc:.0f} K (Binder crossing of 32 and 108 sites), experiment 69.3 K: "
        "fluctuations beyond mean field lower Tc toward the measured value."
    )
    return {"summary": summary, "figures": figures, "numbers": numbers}


if __name__ == "__main__":
    import json
    import sys

    res = run(pathlib.Path("results/ferromagnet"), quick="--quick" in sys.argv)
    print(json.dumps(res, indent=2, default=float))
