"""Spintronics: spin-transfer-torque switching of a perpendicular nanopillar free layer.
Switching time vs current density from the LLG equation with Slonczewski torque, against the
macrospin critical current and switching-time law."""

from __future__ import annotations

import pathlib

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn

TITLE = "Spintronics: spin-transfer-torque switching time vs current (nanopillar)"

# CoFeB-like perpendicular free layer
MS, KU, THICK, ALPHA, ETA = 1.0e6, 8.0e5, 1.3e-9, 0.02, 0.6
HK = 2 * KU / (C.MU_0 * MS) - MS  # effective anisotropy field (N_zz = 1) [A/m]
THETA0 = np.deg2rad(2.0)  # initial tilt (thermal, ~ sqrt(kT/KV))
GAMMA_P = dyn.GAMMA_E / (1 + ALPHA**2) * C.MU_0  # gamma' mu0


def t_switch_law(ratio):
    """Macrospin law (Sun 2000): t_sw = ln(pi / (2 theta0)) / (alpha gamma' mu0 H_K (J/Jc - 1))."""
    return np.log(np.pi / (2 * THETA0)) / (ALPHA * GAMMA_P * HK * (ratio - 1))


def switching(quick: bool) -> dict:
    """LLG + Slonczewski torque from a reversed, slightly tilted state at several J / J_c0;
    the switching time is the first time m_z > 0 (NaN if it never switches)."""
    z = jnp.array([0.0, 0.0, 1.0])
    field = lambda m, t: HK * m[..., 2:3] * z
    Jc = float(dyn.critical_current_density(ALPHA, MS, THICK, HK, ETA))
    m0 = jnp.array([np.sin(THETA0), 0.0, -np.cos(THETA0)])
    ratios = np.array(
        [0.9, 1.2, 1.5, 2.0, 3.0, 4.0]
        if quick
        else [0.8, 0.95, 1.1, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0]
    )
    dt = 0.05 / (dyn.GAMMA_E * C.MU_0 * HK)
    t_max = 12 * np.log(np.pi / (2 * THETA0)) / (ALPHA * GAMMA_P * HK * 0.2)
    n_steps = int(t_max / dt) // 20 * 20 + 20

    def sim(r):
        hdl = dyn.stt_field(r * Jc, MS, THICK, ETA)
        return dyn.llg(m0, field, dt, n_steps, alpha=ALPHA, save_every=20, p=z, h_dl=hdl)

    sols = [sim(float(r)) for r in ratios]
    t = np.asarray(sols[0].t)
    t_sw = []
    for s in sols:
        mz = np.asarray(s.m[:, 2])
        t_sw.append(t[np.argmax(mz > 0)] if np.any(mz > 0) else np.nan)
    return dict(Jc=Jc, ratios=ratios, sols=sols, t=t, t_sw=np.array(t_sw))


def plot(out: pathlib.Path, sw: dict, k: int) -> str:
    """Switching time vs J / J_c0 against the macrospin law; the trajectory at ~2 J_c0."""
    ratios, t_sw, t = sw["ratios"], sw["t_sw"], sw["t"]
    above = ratios > 1
    r_th = np.linspace(1.02, ratios.max(), 200)
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    law = "ln(pi/2 theta0) / (alpha gamma' mu0 H_K (J/Jc - 1))"
    axs[0].plot(r_th, t_switch_law(r_th) * 1e9, "k-", label=law)
    axs[0].plot(ratios[above], t_sw[above] * 1e9, "o", label="LLG + Slonczewski torque")
    for r in ratios[~above]:
        axs[0].axvline(r, color="r", ls=":", lw=0.8)
    axs[0].axvline(1.0, color="gray", ls="--", lw=0.8, label="J_c0")
    axs[0].set_yscale("log")
    axs[0].set_xlabel("J / J_c0")
    axs[0].set_ylabel("switching time [ns]")
    axs[0].set_title(f"J_c0 = {sw['Jc']:.2e} A/m^2 (dotted: no switching)", fontsize=9)
    axs[0].legend(fontsize=7)
    mtr = np.asarray(sw["sols"][k].m)
    axs[1].plot(t * 1e9, mtr[:, 0], lw=0.6, label="m_x")
    axs[1].plot(t * 1e9, mtr[:, 2], label="m_z")
    axs[1].set_xlim(0, 1.5 * t_sw[k] * 1e9)
    axs[1].set_xlabel("t [ns]")
    axs[1].set_title(
        f"trajectory at J = {ratios[k]:.1f} J_c0: precession grows, m reverses", fontsize=9
    )
    axs[1].legend(fontsize=7)
    return save_figure(fig, out, "spintronics.png", dpi=110)


def key_numbers(sw: dict, k: int) -> dict:
    above, t_sw = sw["ratios"] > 1, sw["t_sw"]
    return {
        "Jc0": number(sw["Jc"], None, "A/m^2", "Sun, PRB 62, 570 (2000) macrospin formula"),
        "switches_below_Jc0": number(
            bool(np.any(np.isfinite(t_sw[~above]))),
            False,
            "",
            "linear stability: no switching for J < J_c0",
        ),
        "switches_above_Jc0": number(bool(np.all(np.isfinite(t_sw[above]))), True, "", "J > J_c0"),
        "t_sw_at_2Jc0": number(
            float(t_sw[k]) * 1e9,
            float(t_switch_law(sw["ratios"][k])) * 1e9,
            "ns",
            "Sun 2000 switching-time law (time to m_z = 0 from theta0; approximate)",
            rtol=0.1,
        ),
    }


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    sw = switching(quick)
    k = int(np.argmin(np.abs(sw["ratios"] - 2.0)))
    return {
        "summary": (
            "A spin-polarized current through a nanopillar exerts the Slonczewski torque on "
            "the free layer, acting as negative damping. Below the critical current "
            "J_c0 = 2 e alpha mu0 Ms d H_K / (hbar eta) the reversed state is stable; above it "
            "the precession spirals out and the layer switches, faster the larger the "
            "overdrive: t_sw ~ ln(pi / 2 theta0) / (alpha gamma' mu0 H_K (J/J_c0 - 1)). This "
            "current-driven writing underlies STT-MRAM."
        ),
        "figures": [plot(out, sw, k)],
        "numbers": key_numbers(sw, k),
    }


if __name__ == "__main__":
    main(run, __file__)
