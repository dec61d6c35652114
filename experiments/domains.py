"""Magnetic domains: a soft square relaxes into the Landau flux-closure pattern (from a noisy
curling state); a platelet
with perpendicular anisotropy relaxed from a random state breaks into up/down domains with
net magnetization near zero, each domain saturated; a field then saturates it."""

from __future__ import annotations

import pathlib

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn

TITLE = "Domains: Landau flux closure, demagnetized platelet, saturation field"

MS, A = 8.0e5, 1.3e-11  # permalloy: Ms [A/m], exchange stiffness [J/m]


def _random_state(seed, shape, in_plane=False):
    """Random unit vectors (NumPy generator, so float32 and float64 runs start alike)."""
    m = np.random.default_rng(seed).normal(size=shape + (3,))
    if in_plane:
        m[..., 2] *= 0.1
    return jnp.asarray(m / np.linalg.norm(m, axis=-1, keepdims=True), dtype=float)


def _curl_state(shape, seed):
    """A curling (circulating) in-plane state with random noise: the start of flux closure."""
    nx, ny = shape[:2]
    x, y = np.meshgrid(np.arange(nx) - (nx - 1) / 2, np.arange(ny) - (ny - 1) / 2, indexing="ij")
    m = np.stack([-y, x, np.zeros_like(x)], -1)[:, :, None, :]
    m = m / np.linalg.norm(m, axis=-1, keepdims=True)
    m = m + 0.5 * np.random.default_rng(seed).normal(size=m.shape)
    return jnp.asarray(m / np.linalg.norm(m, axis=-1, keepdims=True), dtype=float)


def _plot_pattern(ax, m, cell, title):
    mx, my = np.asarray(m[:, :, 0, 0]).T, np.asarray(m[:, :, 0, 1]).T
    ang = np.arctan2(my, mx)
    nx, ny = mx.shape[1], mx.shape[0]
    ext = [0, nx * cell[0] * 1e9, 0, ny * cell[1] * 1e9]
    ax.imshow(ang, origin="lower", cmap="hsv", vmin=-np.pi, vmax=np.pi, extent=ext)
    s = max(1, nx // 16)
    X, Y = np.meshgrid((np.arange(nx) + 0.5) * cell[0] * 1e9, (np.arange(ny) + 0.5) * cell[1] * 1e9)
    ax.quiver(X[::s, ::s], Y[::s, ::s], mx[::s, ::s], my[::s, ::s], pivot="mid", scale=nx / s * 1.2)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x [nm]")
    ax.set_ylabel("y [nm]")


def landau_square(quick: bool) -> dict:
    """A soft permalloy square relaxed from a noisy curling state: the Landau pattern."""
    n_sq = 20 if quick else 32
    cell = (6e-9, 6e-9, 10e-9)
    square = dyn.Micromagnet((n_sq, n_sq, 1), cell, Ms=MS, A=A)
    r_sq = dyn.relax(square, _curl_state(square.shape, 1), tol=1e-4, max_steps=20000, throw=False)
    m_sq = r_sq.m
    uni = jnp.zeros_like(m_sq).at[..., 0].set(1.0)
    # closure: fraction of edge cells whose m is parallel to the edge
    mx, my = np.asarray(m_sq[..., 0, 0]), np.asarray(m_sq[..., 0, 1])
    edges = [np.abs(mx[:, 0]), np.abs(mx[:, -1]), np.abs(my[0, :]), np.abs(my[-1, :])]
    return dict(
        cell=cell,
        m=m_sq,
        converged=r_sq.converged,
        avg=np.asarray(square.average(m_sq)),
        e_ratio=float(square.demag_energy(m_sq) / square.demag_energy(uni)),
        edge_par=np.mean(np.concatenate(edges)),
    )


def platelet(quick: bool) -> dict:
    """A perpendicular platelet (Co-like, Q = K/Kd > 1) relaxed from a random state."""
    n_pl = 40 if quick else 48
    shp, cell_p = (n_pl, n_pl, 1), (4e-9, 4e-9, 16e-9)
    Ms_p, A_p, Ku = 1.1e6, 1.5e-11, 1.0e6
    plate = dyn.Micromagnet(shp, cell_p, Ms=Ms_p, A=A_p, Ku=Ku, u=(0.0, 0.0, 1.0))
    r_pl = dyn.relax(plate, _random_state(2, shp), tol=1e-4, max_steps=20000, throw=False)
    Lx, Ly, Lz = (n * d for n, d in zip(shp, cell_p, strict=False))
    return dict(
        model=plate,
        m=r_pl.m,
        size=(Lx, Ly, Lz),
        Ms=Ms_p,
        avg=np.asarray(plate.average(r_pl.m)),
        sat_frac=float(jnp.mean(jnp.abs(r_pl.m[..., 2]) > 0.9)),
        norm_dev=float(jnp.max(jnp.abs(jnp.linalg.norm(r_pl.m, axis=-1) - 1.0))),
    )


def field_sweep(pl: dict, quick: bool) -> dict:
    """Virgin curve along z of the platelet: the first field with <m_z> > 0.99."""
    Nzz = float(dyn.prism_demag_factors(*pl["size"])[2])
    H_est = Nzz * pl["Ms"]  # stray field of the saturated film
    Hs = np.linspace(0.0, 0.3 * H_est, 5 if quick else 11)
    m, Mz = pl["m"], []
    for H in Hs:
        mod = pl["model"].with_field(jnp.array([0.0, 0.0, H]))
        m = dyn.relax(mod, m, tol=1e-4, max_steps=20000, throw=False).m
        Mz.append(float(mod.average(m)[2]))
    Mz = np.array(Mz)
    i_sat = int(np.argmax(Mz > 0.99)) if np.any(Mz > 0.99) else len(Hs) - 1
    return dict(H=Hs, Mz=Mz, H_est=H_est, H_sat=float(Hs[i_sat]))


def plot(out: pathlib.Path, sq: dict, pl: dict, sweep: dict) -> str:
    """Landau pattern, platelet domains (m_z) and the platelet's virgin curve."""
    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2))
    avg = sq["avg"]
    title = f"soft square, relaxed: <m> = ({avg[0]:.2f}, {avg[1]:.2f})"
    _plot_pattern(axs[0], sq["m"], sq["cell"], title)
    ext = [0, pl["size"][0] * 1e9, 0, pl["size"][1] * 1e9]
    im = axs[1].imshow(
        np.asarray(pl["m"][:, :, 0, 2]).T,
        origin="lower",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        extent=ext,
    )
    fig.colorbar(im, ax=axs[1], label="m_z")
    axs[1].set_title(f"perpendicular platelet: <m_z> = {pl['avg'][2]:.2f}", fontsize=9)
    axs[1].set_xlabel("x [nm]")
    axs[1].set_ylabel("y [nm]")
    axs[2].plot(C.MU_0 * sweep["H"] * 1e3, sweep["Mz"], "o-")
    axs[2].axvline(C.MU_0 * sweep["H_est"] * 1e3, color="gray", ls="--", label="N_zz Ms")
    axs[2].axhline(0.99, color="k", lw=0.5)
    axs[2].set_xlabel("mu0 H_z [mT]")
    axs[2].set_ylabel("<m_z>")
    axs[2].set_title("virgin curve of the platelet", fontsize=9)
    axs[2].legend(fontsize=8)
    return save_figure(fig, out, "domains.png", dpi=110)


def key_numbers(sq: dict, pl: dict, sweep: dict) -> dict:
    return {
        "square_net_m": number(
            float(np.linalg.norm(sq["avg"])),
            0.0,
            "M/Ms",
            "flux closure (Landau-Lifshitz 1935)",
            atol=0.02,
        ),
        "square_demag_energy_ratio": number(
            sq["e_ratio"], None, "1", "E_d(relaxed) / E_d(uniform along x)"
        ),
        "square_edge_parallel": number(
            float(sq["edge_par"]), 1.0, "1", "closure domains: m parallel to the edges", atol=0.1
        ),
        "square_converged": number(bool(sq["converged"]), True, "", "relax torque < 1e-4"),
        "platelet_net_mz": number(float(pl["avg"][2]), 0.0, "M/Ms", "demagnetized state", atol=0.2),
        "platelet_saturated_fraction": number(
            pl["sat_frac"], None, "1", "cells with |m_z| > 0.9 (domains, not walls)"
        ),
        "platelet_cell_norm_deviation": number(
            pl["norm_dev"], 0.0, "1", "each cell saturated, |m| = 1", atol=1e-9
        ),
        "saturation_field": number(
            C.MU_0 * sweep["H_sat"] * 1e3,
            C.MU_0 * sweep["H_est"] * 1e3,
            "mT",
            "upper bound N_zz Ms (Aharoni prism factor); "
            "value: first sweep field with <m_z> > 0.99",
            bound="<",
        ),
    }


SUMMARY = (
    "A permalloy square relaxed (energy minimization with exchange and Newell demag) "
    "from a noisy curling state closes its flux: the magnetization runs parallel to the "
    "edges in four triangular domains around a vortex (Landau pattern), the net moment "
    "nearly vanishes and the stray-field energy drops far below that of the uniform "
    "state. A perpendicular-anisotropy platelet (Co-like, K > mu0 Ms^2/2) relaxed from a "
    "random state breaks into up and down domains whose magnetizations largely cancel "
    "(a 160-200 nm platelet holds only a few domains, so a fraction of Ms remains) while "
    "each domain is saturated (|m_z| ~ 1 away from the walls). A perpendicular field "
    "grows the up domains; the last down domain collapses at a field well below N_zz Ms "
    "(the stray field of the saturated film), since in so small a platelet the walls "
    "cost as much as the stray-field energy they save."
)


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    sq, pl = landau_square(quick), platelet(quick)
    sweep = field_sweep(pl, quick)
    figure = plot(out, sq, pl, sweep)
    return {"summary": SUMMARY, "figures": [figure], "numbers": key_numbers(sq, pl, sweep)}


if __name__ == "__main__":
    main(run, __file__)
