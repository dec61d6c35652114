"""Spintronics: spin-transfer-torque switching of a perpendicular nanopillar free layer.
Switching time vs current density from the LLG equation with Slonczewski torque, against the
macrospin critical current and switching-time law."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from netmag_jax import constants as C  # noqa: E402
from netmag_jax import dynamics as dyn  # noqa: E402

TITLE = "Spintronics: spin-transfer-torque switching time vs current (nanopillar)"

# CoFeB-like perpendicular free layer
MS, KU, THICK, ALPHA, ETA = 1.0e6, 8.0e5, 1.3e-9, 0.02, 0.6


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    HK = 2 * KU / (C.MU_0 * MS) - MS  # effective anisotropy field (N_zz = 1)
    z = jnp.array([0.0, 0.0, 1.0])
    field = lambda m, t: HK * m[..., 2:3] * z
    Jc = float(dyn.critical_current_density(ALPHA, MS, THICK, HK, ETA))
    th0 = np.deg2rad(2.0)  # initial tilt (thermal, ~ sqrt(kT/KV))
    m0 = jnp.array([np.sin(th0), 0.0, -np.cos(th0)])
    ratios = np.array(
        [0.9, 1.2, 1.5, 2.0, 3.0, 4.0]
        if quick
        else [0.8, 0.95, 1.1, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0]
    )
    gp = dyn.GAMMA_E / (1 + ALPHA**2) * C.MU_0
    dt = 0.05 / (dyn.GAMMA_E * C.MU_0 * HK)
    t_max = 12 * np.log(np.pi / (2 * th0)) / (ALPHA * gp * HK * 0.2)
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
    t_sw = np.array(t_sw)
    # macrospin law (Sun 2000): 1/t_sw = alpha gamma' mu0 H_K (J/Jc - 1) / ln(pi / (2 theta0))
    above = ratios > 1
    r_th = np.linspace(1.02, ratios.max(), 200)
    t_th = np.log(np.pi / (2 * th0)) / (ALPHA * gp * HK * (r_th - 1))
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    axs[0].plot(r_th, t_th * 1e9, "k-", label="ln(pi/2 theta0) / (alpha gamma' mu0 H_K (J/Jc - 1))")
    axs[0].plot(ratios[above], t_sw[above] * 1e9, "o", label="LLG + Slonczewski torque")
    for r in ratios[~above]:
        axs[0].axvline(r, color="r", ls=":", lw=0.8)
    axs[0].axvline(1.0, color="gray", ls="--", lw=0.8, label="J_c0")
    axs[0].set_yscale("log")
    axs[0].set_xlabel("J / J_c0")
    axs[0].set_ylabel("switching time [ns]")
    axs[0].set_title(f"J_c0 = {Jc:.2e} A/m^2 (dotted: no switching)", fontsize=9)
    axs[0].legend(fontsize=7)
    k = int(np.argmin(np.abs(ratios - 2.0)))
    mtr = np.asarray(sols[k].m)
    axs[1].plot(t * 1e9, mtr[:, 0], lw=0.6, label="m_x")
    axs[1].plot(t * 1e9, mtr[:, 2], label="m_z")
    axs[1].set_xlim(0, 1.5 * t_sw[k] * 1e9)
    axs[1].set_xlabel("t [ns]")
    axs[1].set_title(
        f"trajectory at J = {ratios[k]:.1f} J_c0: precession grows, m reverses", fontsize=9
    )
    axs[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "spintronics.png", dpi=110)
    plt.close(fig)
    t_law = np.log(np.pi / (2 * th0)) / (ALPHA * gp * HK * (ratios[k] - 1))
    return {
        "summary": (
            "A spin-polarized current through a nanopillar exerts the Slonczewski torque on "
            "the free layer, acting as negative damping. Below the critical current "
            "J_c0 = 2 e alpha mu0 Ms d H_K / (hbar eta) the reversed state is stable; above it "
            "the precession spirals out and the layer switches, faster the larger the "
            "overdrive: t_sw ~ ln(pi / 2 theta0) / (alpha gamma' mu0 H_K (J/J_c0 - 1)). This "
            "current-driven writing underlies STT-MRAM."
        ),
        "figures": ["spintronics.png"],
        "numbers": {
            "Jc0": {
                "value": Jc,
                "reference": None,
                "unit": "A/m^2",
                "source": "Sun, PRB 62, 570 (2000) macrospin formula",
            },
            "switches_below_Jc0": {
                "value": bool(np.any(np.isfinite(t_sw[~above]))),
                "reference": False,
                "unit": "",
                "source": "linear stability: no switching for J < J_c0",
            },
            "switches_above_Jc0": {
                "value": bool(np.all(np.isfinite(t_sw[above]))),
                "reference": True,
                "unit": "",
                "source": "J > J_c0",
            },
            "t_sw_at_2Jc0": {
                "value": float(t_sw[k]) * 1e9,
                "reference": float(t_law) * 1e9,
                "unit": "ns",
                "source": "Sun 2000 switching-time law (time to m_z = 0 from theta0; approximate)",
            },
        },
    }


if __name__ == "__main__":
    import json
    import sys

    res = run(pathlib.Path("results/spintronics"), quick="--quick" in sys.argv)
    print(json.dumps(res["numbers"], indent=1, default=float))
