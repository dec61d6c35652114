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
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import constants as const
from netmag_jax.classical import predicted_moments, simulate_charges
from netmag_jax.statmech import brillouin

TITLE = "Bohr-van Leeuwen: no classical magnetism (interior vs edge orbits)"

RADIUS = 0.2e-6  # m, disk radius
N_RECORD = 60  # charges whose trajectories are kept
FIELDS = [0.5, 1.0, 2.0, 4.0]  # T
B_LINE = np.linspace(0.3, 4.2, 60)  # T, the exact curves
MOMENTS = (("interior", "tab:blue"), ("edge", "tab:red"), ("total", "k"))


def _spin_half_moment(B, T):
    """Quantum spin-1/2, g = 2: <mu_z> = g J mu_B B_J(x), x = g J mu_B B/(k_B T) [mu_B]."""
    x = const.MU_B * np.asarray(B) / (const.K_B * np.asarray(T))
    return np.asarray(brillouin(0.5, x))


def _settings(B, T):
    """Explicit dt and friction (shared by all runs, so one compiled simulation serves all)."""
    v_th = np.sqrt(const.K_B * T / const.M_E)
    omega_c = const.E_CHARGE * B / const.M_E
    return dict(dt=min(0.2 / omega_c, 0.02 * RADIUS / v_th), friction=v_th / RADIUS)


def trajectories(n_particles: int, n_steps: int, B: float = 2.0, T: float = 1.0):
    """Low-friction run, a few charges followed for several cyclotron periods [units of R]."""
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
    return np.asarray(res.trajectory)[-600:] / RADIUS  # (steps, N_RECORD, 2)


def plot_trajectories(out: pathlib.Path, traj, B: float = 2.0, T: float = 1.0) -> str:
    """Closed interior orbits (blue) and skipping edge orbits (red) in the disk."""
    touches = np.linalg.norm(traj, axis=-1).max(axis=0) > 0.985
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    th = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(th), np.sin(th), "k-", lw=1.5)
    for i in np.flatnonzero(~touches)[:6]:
        ax.plot(traj[:, i, 0], traj[:, i, 1], color="tab:blue", lw=0.8)
    for i in np.flatnonzero(touches)[:4]:
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
    return save_figure(fig, out, "trajectories.png", dpi=120)


def exact_moments(temps: list) -> tuple[np.ndarray, np.ndarray]:
    """Exact interior moment [A m^2] and spin-1/2 moment [mu_B] per electron on one (T, B)
    grid: the points of B_LINE, then FIELDS."""
    grid_B = np.concatenate([B_LINE, FIELDS])[None, :] * np.ones((len(temps), 1))
    grid_T = np.asarray(temps)[:, None] * np.ones_like(grid_B)
    exact = predicted_moments(jnp.asarray(grid_B), jnp.asarray(grid_T), RADIUS, 1)
    return np.asarray(exact.interior), _spin_half_moment(grid_B, grid_T)


def simulate_grid(temps: list, exact_int, n_particles: int, n_steps: int) -> list[dict]:
    """One simulation per (T, B) with its exact interior and edge moments [A m^2]."""
    rows = []
    for i, T in enumerate(temps):
        for j, B in enumerate(FIELDS):
            r = simulate_charges(
                jax.random.key(100 + 10 * i + j),
                B,
                T,
                RADIUS,
                n_particles=n_particles,
                n_steps=n_steps,
                n_record=N_RECORD,
                **_settings(B, T),
            )
            p_int = float(n_particles * exact_int[i, len(B_LINE) + j])
            rows.append(dict(B=B, T=T, res=r, pred_interior=p_int, pred_edge=-p_int))
    return rows


def _plot_panel(ax, sel: list, exact_int, spin, mub: float) -> None:
    """Simulated moments at one T (points) with the exact lines and the spin-1/2 curve."""
    b = np.array([r["B"] for r in sel])
    for attr, col in MOMENTS:
        y = np.array([float(getattr(r["res"], attr)) for r in sel]) / mub
        e = np.array([float(getattr(r["res"], attr + "_err")) for r in sel]) / mub
        ax.errorbar(b, y, e, fmt="o", color=col, ms=4, capsize=2, label=f"{attr} (sim.)")
    n = len(B_LINE)
    ax.plot(B_LINE, exact_int[:n] / const.MU_B, color="tab:blue", lw=1)
    ax.plot(B_LINE, -exact_int[:n] / const.MU_B, color="tab:red", lw=1)
    ax.axhline(0.0, color="k", lw=0.8)
    label = "quantum spin-1/2: $\\mu_B\\tanh(\\mu_B B/k_BT)$"
    ax.plot(B_LINE, spin[:n], "g--", lw=1.2, label=label)


def plot_moments_vs_B(out, rows, temps, exact_int, spin, mub) -> str:
    """Moments per electron vs B, one panel per T, with the spin-1/2 contrast."""
    fig, axes = plt.subplots(1, len(temps), figsize=(4.2 * len(temps), 3.8), sharey=True)
    for i, (ax, T) in enumerate(zip(np.atleast_1d(axes), temps, strict=False)):
        _plot_panel(ax, [r for r in rows if r["T"] == T], exact_int[i], spin[i], mub)
        ax.set_title(f"T = {T:g} K")
        ax.set_xlabel("B [T]")
    np.atleast_1d(axes)[0].set_ylabel("moment per electron [$\\mu_B$]")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"electrons in a disk of radius {RADIUS * 1e9:.0f} nm: lines = exact "
        "equilibrium values (total = 0)",
        fontsize=9,
    )
    return save_figure(fig, out, "moments_vs_B.png", dpi=120)


def plot_bar(out, ref: dict, spin_1t1k: float, mub: float) -> str:
    """The three simulated moments at one (B, T) against exact values and spin 1/2."""
    res = ref["res"]
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
    return save_figure(fig, out, "moments_bar.png", dpi=120)


def z_scores(rows: list) -> dict:
    """Per (B, T) point: total, interior and edge over their errors; interior deviation."""
    return dict(
        total=[float(r["res"].total / r["res"].total_err) for r in rows],
        interior=[float(r["res"].interior / r["res"].interior_err) for r in rows],
        edge=[float(r["res"].edge / r["res"].edge_err) for r in rows],
        dev=[float((r["res"].interior - r["pred_interior"]) / r["res"].interior_err) for r in rows],
    )


def point_numbers(ref: dict, mub: float) -> dict:
    """Moments per electron at B = 1 T, T = 1 K against their exact values."""
    res = ref["res"]
    return {
        "total_moment_per_electron_B1T_T1K": number(
            float(res.total) / mub,
            0.0,
            "mu_B",
            "Bohr-van Leeuwen theorem (B-independent classical partition function)",
            atol=3 * float(res.total_err) / mub,
        ),
        "total_moment_err_per_electron_B1T_T1K": number(
            float(res.total_err) / mub, None, "mu_B", "standard error over independent electrons"
        ),
        "interior_moment_per_electron_B1T_T1K": number(
            float(res.interior) / mub,
            ref["pred_interior"] / mub,
            "mu_B",
            "-(k_B T/B) E(b): closed orbits carry -E_kin/B, weighted by P(orbit fits)",
            rtol=0.05,
        ),
        "edge_moment_per_electron_B1T_T1K": number(
            float(res.edge) / mub,
            ref["pred_edge"] / mub,
            "mu_B",
            "minus the interior moment (total = 0)",
            rtol=0.05,
        ),
        "orbit_moment_full_interior_B1T_T1K": number(
            -const.K_B * 1.0 / 1.0 / const.MU_B,
            None,
            "mu_B",
            "-k_B T/B per electron on a closed orbit (Maxwell average of -E_kin/B)",
        ),
    }


def grid_numbers(z: dict, n_points: int) -> dict:
    """The z-scores over the (B, T) grid against their thresholds."""
    return {
        "max_abs_total_z": number(
            max(abs(v) for v in z["total"]),
            3.0,
            "sigma",
            f"largest |total|/error over {n_points} (B, T) points; should be < 3",
            bound="<",
        ),
        "min_interior_z": number(
            min(-v for v in z["interior"]),
            5.0,
            "sigma",
            "smallest -interior/error (diamagnetic signal), should be > 5",
            bound=">",
        ),
        "min_edge_z": number(
            min(z["edge"]),
            5.0,
            "sigma",
            "smallest edge/error (paramagnetic signal), should be > 5",
            bound=">",
        ),
        "max_abs_interior_deviation_z": number(
            max(abs(d) for d in z["dev"]),
            4.0,
            "sigma",
            "largest |interior - exact|/error over the grid",
            bound="<",
        ),
    }


def summary(n_particles: int, n_points: int, max_z: float, spin: float) -> str:
    return (
        f"{n_particles} electrons in a hard-walled disk of radius {RADIUS * 1e9:.0f} nm, "
        f"Langevin bath, exact-rotation Boris integrator; {n_points} (B, T) points.\n"
        "Interior electrons on closed cyclotron orbits give a diamagnetic moment (-k_B T/B "
        "each, reduced by the share of orbits that fit); electrons skipping along the wall "
        "give an equal paramagnetic edge moment; the total is zero within error at every "
        f"field and temperature (largest |total|/sigma = {max_z:.2f}).\n"
        "Classical orbital magnetism vanishes (Bohr-van Leeuwen); a quantum spin-1/2 at the "
        f"same B/T is paramagnetic ({spin:.2f} mu_B per electron at 1 T, 1 K), and Landau "
        "diamagnetism also needs quantised orbits.\n"
        "Figures: trajectories (closed and skipping orbits), moments vs B per T with the exact "
        "lines and the spin-1/2 curve, and a bar chart at 1 T, 1 K."
    )


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    n_particles, n_steps = (1000, 400) if quick else (3000, 1500)
    temps = [1.0, 4.0] if quick else [1.0, 2.0, 4.0]
    exact_int, spin = exact_moments(temps)
    rows = simulate_grid(temps, exact_int, n_particles, n_steps)
    mub = const.MU_B * n_particles  # per-electron moments in mu_B
    ref = next(r for r in rows if r["B"] == 1.0 and r["T"] == 1.0)
    spin_1t1k = float(spin[temps.index(1.0), len(B_LINE) + FIELDS.index(1.0)])
    figures = [
        plot_moments_vs_B(out, rows, temps, exact_int, spin, mub),
        plot_bar(out, ref, spin_1t1k, mub),
        plot_trajectories(out, trajectories(n_particles, n_steps)),
    ]
    z = z_scores(rows)
    numbers = point_numbers(ref, mub) | grid_numbers(z, len(rows))
    numbers["spin_half_moment_B1T_T1K"] = number(
        spin_1t1k,
        float(np.tanh(const.MU_B / const.K_B)),
        "mu_B",
        "statmech.brillouin(1/2, mu_B B/k_B T) vs tanh (quantum paramagnet)",
        rtol=1e-9,
    )
    max_z = max(abs(v) for v in z["total"])
    return {
        "summary": summary(n_particles, len(rows), max_z, spin_1t1k),
        "figures": figures,
        "numbers": numbers,
    }


if __name__ == "__main__":
    main(run, __file__)
