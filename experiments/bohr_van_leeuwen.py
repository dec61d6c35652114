"""Bohr-van Leeuwen theorem by simulation: classical charges in a field have no net moment.

Electrons (charge -e, mass m_e) in a hard-walled disk, uniform field B along z, Langevin bath
at temperature T (netmag_jax.classical.simulate_charges). Interior electrons circle in closed
cyclotron orbits, each carrying -E_kin/B (diamagnetic); electrons whose orbit meets the wall
skip along it in the opposite sense (paramagnetic edge current). In equilibrium the two cancel
exactly, because the classical partition function does not depend on B. A quantum spin-1/2
(g = 2) at the same B/T is paramagnetic: mu_B tanh(mu_B B/k_B T) per electron.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from netmag_jax import constants as const  # noqa: E402
from netmag_jax.classical import predicted_moments, simulate_charges  # noqa: E402
from netmag_jax.statmech import brillouin  # noqa: E402

TITLE = "Bohr-van Leeuwen: no classical magnetism (interior vs edge orbits)"

RADIUS = 0.2e-6  # m, disk radius
N_RECORD = 60  # charges whose trajectories are kept


def _spin_half_moment(B, T):
    """Quantum spin-1/2, g = 2: <mu_z> = g J mu_B B_J(x), x = g J mu_B B/(k_B T) [mu_B]."""
    x = const.MU_B * np.asarray(B) / (const.K_B * np.asarray(T))
    return np.asarray(brillouin(0.5, x))


def _settings(B, T):
    """Explicit dt and friction (shared by all runs, so one compiled simulation serves all)."""
    v_th = np.sqrt(const.K_B * T / const.M_E)
    omega_c = const.E_CHARGE * B / const.M_E
    return dict(dt=min(0.2 / omega_c, 0.02 * RADIUS / v_th), friction=v_th / RADIUS)


def _trajectory_figure(out: pathlib.Path, n_particles: int, n_steps: int) -> str:
    """Low-friction run, a few charges followed for several cyclotron periods."""
    B, T = 2.0, 1.0
    omega_c = const.E_CHARGE * B / const.M_E
    res = simulate_charges(
        jax.random.key(7),
        B,
        T,
        RADIUS,
        n_particles=n_particles,
        n_steps=n_steps,
        dt=0.1 / omega_c,
        friction=0.003 * omega_c,
        n_record=N_RECORD,
    )
    traj = np.asarray(res.trajectory)[-600:] / RADIUS  # (steps, N_RECORD, 2), units of R
    rad = np.linalg.norm(traj, axis=-1)
    touches = rad.max(axis=0) > 0.985
    skip_idx = np.flatnonzero(touches)[:4]
    int_idx = np.flatnonzero(~touches)[:6]
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    th = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(th), np.sin(th), "k-", lw=1.5)
    for i in int_idx:
        ax.plot(traj[:, i, 0], traj[:, i, 1], color="tab:blue", lw=0.8)
    for i in skip_idx:
        ax.plot(traj[:, i, 0], traj[:, i, 1], color="tab:red", lw=0.8)
    ax.plot([], [], color="tab:blue", label="interior: closed orbits (diamagnetic)")
    ax.plot([], [], color="tab:red", label="edge: skipping orbits (paramagnetic)")
    ax.set_aspect("equal")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.35)
    ax.set_xlabel("x / R")
    ax.set_ylabel("y / R")
    ax.set_title(f"electrons in a disk, B = {B} T (out of page), T = {T} K")
    ax.legend(loc="upper center", fontsize=8, frameon=False)
    fig.tight_layout()
    name = "trajectories.png"
    fig.savefig(out / name, dpi=120)
    plt.close(fig)
    return name


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_particles, n_steps = (1000, 400) if quick else (3000, 1500)
    fields = [0.5, 1.0, 2.0, 4.0]
    temps = [1.0, 4.0] if quick else [1.0, 2.0, 4.0]

    # exact values and the spin-1/2 contrast on one (T, B) grid: line points + the fields
    Bs = np.linspace(0.3, 4.2, 60)
    grid_B = np.concatenate([Bs, fields])[None, :] * np.ones((len(temps), 1))
    grid_T = np.asarray(temps)[:, None] * np.ones_like(grid_B)
    exact = predicted_moments(jnp.asarray(grid_B), jnp.asarray(grid_T), RADIUS, 1)
    exact_int = np.asarray(exact.interior)  # per electron [A m^2]
    spin = _spin_half_moment(grid_B, grid_T)  # per electron [mu_B]

    rows = []
    for i, T in enumerate(temps):
        for j, B in enumerate(fields):
            key = jax.random.key(100 + 10 * i + j)
            r = simulate_charges(
                key,
                B,
                T,
                RADIUS,
                n_particles=n_particles,
                n_steps=n_steps,
                n_record=N_RECORD,
                **_settings(B, T),
            )
            p_int = float(n_particles * exact_int[i, len(Bs) + j])
            rows.append(dict(B=B, T=T, res=r, pred_interior=p_int, pred_edge=-p_int))

    mub = const.MU_B * n_particles  # per-electron moments in mu_B
    z_tot = [float(r["res"].total / r["res"].total_err) for r in rows]
    z_int = [float(r["res"].interior / r["res"].interior_err) for r in rows]
    z_edge = [float(r["res"].edge / r["res"].edge_err) for r in rows]
    dev_int = [
        float((r["res"].interior - r["pred_interior"]) / r["res"].interior_err) for r in rows
    ]

    # --- figure: moments per electron vs B, one panel per T, with the spin-1/2 contrast -----
    fig, axes = plt.subplots(1, len(temps), figsize=(4.2 * len(temps), 3.8), sharey=True)
    for i, (ax, T) in enumerate(zip(np.atleast_1d(axes), temps, strict=False)):
        sel = [r for r in rows if r["T"] == T]
        b = np.array([r["B"] for r in sel])
        for attr, col, lab in (
            ("interior", "tab:blue", "interior"),
            ("edge", "tab:red", "edge"),
            ("total", "k", "total"),
        ):
            y = np.array([float(getattr(r["res"], attr)) for r in sel]) / mub
            e = np.array([float(getattr(r["res"], attr + "_err")) for r in sel]) / mub
            ax.errorbar(b, y, e, fmt="o", color=col, ms=4, capsize=2, label=f"{lab} (sim.)")
        ax.plot(Bs, exact_int[i, : len(Bs)] / const.MU_B, color="tab:blue", lw=1)
        ax.plot(Bs, -exact_int[i, : len(Bs)] / const.MU_B, color="tab:red", lw=1)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.plot(
            Bs,
            spin[i, : len(Bs)],
            "g--",
            lw=1.2,
            label="quantum spin-1/2: $\\mu_B\\tanh(\\mu_B B/k_BT)$",
        )
        ax.set_title(f"T = {T:g} K")
        ax.set_xlabel("B [T]")
    np.atleast_1d(axes)[0].set_ylabel("moment per electron [$\\mu_B$]")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"electrons in a disk of radius {RADIUS * 1e9:.0f} nm: lines = exact "
        "equilibrium values (total = 0)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(out / "moments_vs_B.png", dpi=120)
    plt.close(fig)

    # --- figure: bar chart of the three moments at one point ---------------------------------
    ref = next(r for r in rows if r["B"] == 1.0 and r["T"] == 1.0)
    res = ref["res"]
    spin_1t1k = float(spin[temps.index(1.0), len(Bs) + fields.index(1.0)])
    vals = [float(res.interior), float(res.edge), float(res.total)]
    errs = [float(res.interior_err), float(res.edge_err), float(res.total_err)]
    refs = [ref["pred_interior"], ref["pred_edge"], 0.0]
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    xs = np.arange(3)
    ax.bar(
        xs,
        np.array(vals) / mub,
        yerr=np.array(errs) / mub,
        capsize=4,
        color=["tab:blue", "tab:red", "0.4"],
        label="simulation (1 s.e.)",
    )
    ax.plot(xs, np.array(refs) / mub, "k_", ms=30, mew=2, label="exact equilibrium")
    ax.bar([3.2], [spin_1t1k], color="tab:green", width=0.6, label="quantum spin-1/2")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks([0, 1, 2, 3.2], ["interior", "edge", "total", "spin 1/2"])
    ax.set_ylabel("moment per electron [$\\mu_B$]")
    ax.set_title("B = 1 T, T = 1 K", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "moments_bar.png", dpi=120)
    plt.close(fig)

    traj_name = _trajectory_figure(out, n_particles, n_steps)

    spin = spin_1t1k
    numbers = {
        "total_moment_per_electron_B1T_T1K": {
            "value": float(res.total) / mub,
            "reference": 0.0,
            "unit": "mu_B",
            "source": "Bohr-van Leeuwen theorem (B-independent classical partition function)",
        },
        "total_moment_err_per_electron_B1T_T1K": {
            "value": float(res.total_err) / mub,
            "reference": None,
            "unit": "mu_B",
            "source": "standard error over independent electrons",
        },
        "interior_moment_per_electron_B1T_T1K": {
            "value": float(res.interior) / mub,
            "reference": ref["pred_interior"] / mub,
            "unit": "mu_B",
            "source": "-(k_B T/B) E(b): closed orbits carry -E_kin/B, weighted by P(orbit fits)",
        },
        "edge_moment_per_electron_B1T_T1K": {
            "value": float(res.edge) / mub,
            "reference": ref["pred_edge"] / mub,
            "unit": "mu_B",
            "source": "minus the interior moment (total = 0)",
        },
        "orbit_moment_full_interior_B1T_T1K": {
            "value": -const.K_B * 1.0 / 1.0 / const.MU_B,
            "reference": None,
            "unit": "mu_B",
            "source": "-k_B T/B per electron on a closed orbit (Maxwell average of -E_kin/B)",
        },
        "max_abs_total_z": {
            "value": max(abs(z) for z in z_tot),
            "reference": 3.0,
            "unit": "sigma",
            "source": f"largest |total|/error over {len(rows)} (B, T) points; should be < 3",
        },
        "min_interior_z": {
            "value": min(-z for z in z_int),
            "reference": 5.0,
            "unit": "sigma",
            "source": "smallest -interior/error (diamagnetic signal), should be > 5",
        },
        "min_edge_z": {
            "value": min(z_edge),
            "reference": 5.0,
            "unit": "sigma",
            "source": "smallest edge/error (paramagnetic signal), should be > 5",
        },
        "max_abs_interior_deviation_z": {
            "value": max(abs(d) for d in dev_int),
            "reference": 4.0,
            "unit": "sigma",
            "source": "largest |interior - exact|/error over the grid",
        },
        "spin_half_moment_B1T_T1K": {
            "value": spin,
            "reference": float(np.tanh(const.MU_B / const.K_B)),
            "unit": "mu_B",
            "source": "statmech.brillouin(1/2, mu_B B/k_B T) vs tanh (quantum paramagnet)",
        },
    }
    summary = (
        f"{n_particles} electrons in a hard-walled disk of radius {RADIUS * 1e9:.0f} nm, "
        f"Langevin bath, exact-rotation Boris integrator; {len(rows)} (B, T) points.\n"
        "Interior electrons on closed cyclotron orbits give a diamagnetic moment (-k_B T/B "
        "each, reduced by the share of orbits that fit); electrons skipping along the wall "
        "give an equal paramagnetic edge moment; the total is zero within error at every "
        f"field and temperature (largest |total|/sigma = {max(abs(z) for z in z_tot):.2f}).\n"
        "Classical orbital magnetism vanishes (Bohr-van Leeuwen); a quantum spin-1/2 at the "
        f"same B/T is paramagnetic ({spin:.2f} mu_B per electron at 1 T, 1 K), and Landau "
        "diamagnetism also needs quantised orbits.\n"
        "Figures: trajectories (closed and skipping orbits), moments vs B per T with the exact "
        "lines and the spin-1/2 curve, and a bar chart at 1 T, 1 K."
    )
    return {
        "summary": summary,
        "figures": ["moments_vs_B.png", "moments_bar.png", traj_name],
        "numbers": numbers,
    }


if __name__ == "__main__":
    import json
    import sys
    import time

    t0 = time.perf_counter()
    r = run(pathlib.Path("results/bohr_van_leeuwen"), quick="--quick" in sys.argv)
    print(json.dumps(r["numbers"], indent=1))
    print(f"{time.perf_counter() - t0:.1f} s")
