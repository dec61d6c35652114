"""Ferrimagnet: unequal antiparallel sublattices leave a net moment; Neel's N-type curve
with a compensation point; making the moments equal turns it into an antiferromagnet."""

from __future__ import annotations

import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import lattice as nl
from netmag_jax.constants import K_B

TITLE = "Ferrimagnet: net moment, compensation point and the equal-moment limit"


def neel_meanfield(quick: bool) -> dict:
    """Neel mean field. A: large, weakly held moments (S = 7/2, like Gd3+); B: smaller moments
    (S = 5/2, like Fe3+), 1.2 per A, strongly coupled among themselves."""
    fe = nl.TwoSublattice(3.5, 2.5, -2 * K_B, a_AA=0.0, a_BB=10 * K_B, n_B=1.2)
    TN = float(fe.neel_temperature())
    T = np.linspace(0.02, 1.1, 60 if quick else 160) * TN
    sol = [fe.solve(t) for t in T]
    mA = np.array([float(a) for a, _ in sol])
    mB = np.array([1.2 * float(b) for _, b in sol])
    Tcomp = float(fe.compensation_temperature(0.05 * TN, 0.9 * TN))
    # the thought experiment: make the B moments equal to A's (same S, g, n, a_BB = a_AA)
    eq = nl.TwoSublattice(3.5, 3.5, -2 * K_B, a_AA=10 * K_B, a_BB=10 * K_B)
    return dict(
        TN=TN,
        T=T,
        mA=mA,
        mB=mB,
        net=mA + mB,
        Tcomp=Tcomp,
        net_at_Tcomp=float(fe.net_moment(Tcomp)),
        net_eq=np.array([float(eq.net_moment(t)) for t in T]),
    )


def neel_tc() -> tuple[float, float]:
    """Neel T_c without intra-sublattice exchange, and the formula lambda sqrt(C_A C_B)."""
    simple = nl.TwoSublattice(3.5, 2.5, -2 * K_B, n_B=1.2)
    cA, cB = 3.5 * 4.5 / 3, 2.5 * 3.5 / 3
    # T_c = sqrt(c_A c_B a_AB a_BA) / k_B with a_AB = -2 k_B, a_BA = a_AB n_A / n_B
    return float(simple.neel_temperature()), float(np.sqrt(cA * cB * 2.0 * (2.0 / 1.2)))


def ising_ferri(quick: bool) -> dict:
    """Monte Carlo: square-lattice Ising antiferromagnet, moments (1, 1/2) vs (1, 1)."""
    L = 16 if quick else 32
    Tm = np.linspace(1.0, 4.0, 11 if quick else 21)
    kw: dict[str, Any] = dict(
        n_sweeps=400 if quick else 1000, n_equil=100 if quick else 200, n_chains=2, init="neel"
    )
    lat = nl.square(L)
    runs = {
        name: nl.simulate(
            nl.Ising(lat, J=-K_B, moments=jnp.array(moments)), jax.random.key(3), Tm, **kw
        )
        for name, moments in (("ferri", [1.0, 0.5]), ("equal", [1.0, 1.0]))
    }
    return dict(L=L, T=Tm, **runs)


def key_numbers(mf: dict, tc: tuple, mc: dict) -> dict:
    mc_f, mc_e = mc["ferri"], mc["equal"]
    return {
        "meanfield_Tcomp_over_TN": number(
            mf["Tcomp"] / mf["TN"], None, "", "root of the net moment (N-type curve)"
        ),
        "meanfield_net_at_Tcomp": number(
            mf["net_at_Tcomp"], 0.0, "mu_B per formula unit", "definition", atol=1e-9
        ),
        "meanfield_net_T0": number(
            float(mf["net"][0]),
            2 * 3.5 - 1.2 * 2 * 2.5,
            "mu_B per formula unit",
            "saturated sublattices g S_A - 1.2 g S_B",
            atol=0.01,
        ),
        "meanfield_equal_moments_max_net": number(
            float(np.max(np.abs(mf["net_eq"]))),
            0.0,
            "mu_B",
            "equal sublattices: antiferromagnet",
            atol=1e-9,
        ),
        "meanfield_Tc_neel_formula": number(
            tc[0], tc[1], "K", "Neel: Tc = lambda sqrt(C_A C_B)", rtol=1e-9
        ),
        "mc_ferri_net_m_T1": number(
            float(mc_f.magnetization[0]),
            float(0.25 * mc_e.staggered_magnetization[0]),
            "per site",
            "(w_A - w_B)/2 m_s for Ising",
            rtol=0.02,
        ),
        "mc_equal_net_m_T1": number(
            float(mc_e.magnetization[0]), 0.0, "per site", "equal moments cancel", atol=0.02
        ),
    }


def plot(out: pathlib.Path, mf: dict, mc: dict) -> str:
    """Neel's N-type curve with its compensation point; the Ising ferrimagnet's net moment."""
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    T = mf["T"]
    ax[0].plot(T, mf["mA"], label="M_A (S=7/2)")
    ax[0].plot(T, mf["mB"], label="1.2 M_B (S=5/2)")
    ax[0].plot(T, mf["net"], "k", lw=2, label="net")
    ax[0].plot(T, mf["net_eq"], "k:", label="net, equal moments")
    ax[0].axvline(mf["Tcomp"], color="gray", ls="--", label="compensation")
    ax[0].axhline(0, color="gray", lw=0.5)
    ax[0].set(xlabel="T [K]", ylabel="mu_B per formula unit", title="Neel mean field (N-type)")
    ax[0].legend(fontsize=8)
    Tm, mc_f, mc_e = mc["T"], mc["ferri"], mc["equal"]
    label_f, label_e = "net |m|, moments 1 : 1/2", "net |m|, moments 1 : 1"
    ax[1].errorbar(Tm, mc_f.magnetization, mc_f.magnetization_err, fmt="o-", label=label_f)
    ax[1].errorbar(Tm, mc_e.magnetization, mc_e.magnetization_err, fmt="s-", label=label_e)
    ax[1].plot(Tm, mc_f.staggered_magnetization, "^--", label="staggered, 1 : 1/2")
    ax[1].set(xlabel="T [|J|/k_B]", ylabel="per site", title=f"Ising ferrimagnet MC, L={mc['L']}")
    ax[1].legend(fontsize=8)
    return save_figure(fig, out, "ferrimagnet.png", dpi=100)


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    mf, mc = neel_meanfield(quick), ising_ferri(quick)
    Tcomp, TN = mf["Tcomp"], mf["TN"]
    summary = (
        "Two antiparallel sublattices with unequal moments leave a net moment. In Neel's mean "
        "field the weakly held large A moments disorder faster than the strongly coupled B "
        f"moments, so the net moment changes sign at T_comp = {Tcomp:.1f} K "
        f"({Tcomp / TN:.2f} T_N), the N-type curve of rare-earth iron garnets. Making the "
        "sublattices equal gives an antiferromagnet: zero net moment at every T. Monte Carlo "
        "of the square Ising model with moments 1 and 1/2 shows the same: net moment "
        "(1 - 1/2)/2 m_s below T_N, zero for equal moments."
    )
    figure = plot(out, mf, mc)
    return {"summary": summary, "figures": [figure], "numbers": key_numbers(mf, neel_tc(), mc)}


if __name__ == "__main__":
    main(run, __file__)
