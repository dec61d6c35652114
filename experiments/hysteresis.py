"""Hysteresis: the micromagnetic loop of a permalloy platelet and the Stoner-Wohlfarth
astroid of a single-domain particle (switching field vs field angle, loops at several angles)."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn

TITLE = "Hysteresis: platelet loop (micromagnetics) and the Stoner-Wohlfarth astroid"


def _switching_by_bisection(psi, n_iter=22):
    """Switching field found numerically: smallest |h| where the up branch is gone."""
    exists = jax.jit(lambda h: dyn.stoner_wohlfarth(h, psi).up_exists)
    lo, hi = 0.0, 1.5  # up branch exists at h = -lo, not at h = -hi
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        if bool(exists(-mid)):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def platelet_loop(quick: bool) -> dict:
    """Quasi-static loop of a permalloy platelet, field 10 deg from its long axis, from a
    relaxed random (demagnetized) state; coherent-rotation coercivity of its shape."""
    Ms, A = 8.0e5, 1.3e-11
    shp = (16, 6, 1) if quick else (32, 12, 1)
    cell = (5e-9, 5e-9, 5e-9)
    psi_f = np.deg2rad(10.0)
    plate = dyn.Micromagnet(shp, cell, Ms=Ms, A=A)
    m0 = np.random.default_rng(0).normal(size=shp + (3,))
    m0 = jnp.asarray(m0 / np.linalg.norm(m0, axis=-1, keepdims=True), dtype=float)
    m0 = dyn.relax(plate, m0, tol=1e-4, throw=False).m  # demagnetized start
    Nx, Ny, _ = dyn.prism_demag_factors(*(n * d for n, d in zip(shp, cell, strict=False)))
    HK_shape = float((Ny - Nx) * Ms)  # shape anisotropy field
    loop = dyn.hysteresis(
        plate,
        m0,
        1.6 * HK_shape,
        direction=(np.cos(psi_f), np.sin(psi_f), 0.0),
        n=8 if quick else 24,
        n_virgin=4 if quick else 8,
        tol=1e-4,
        max_steps=4000,
    )
    return dict(
        shape=shp,
        psi=psi_f,
        loop=loop,
        Hc=float(loop.coercivity),
        Hc_sw=float(dyn.coercivity(psi_f)) * HK_shape,
    )


def plot_loop(ax, pl: dict) -> None:
    """The platelet's virgin, descending and ascending branches; the SW coercive field."""
    loop, shp = pl["loop"], pl["shape"]
    b = np.asarray(loop.branch)
    for k, lab in [(0, "virgin"), (1, "descending"), (2, "ascending")]:
        sel = b == k
        H_mT = C.MU_0 * np.asarray(loop.H)[sel] * 1e3
        ax.plot(H_mT, np.asarray(loop.M)[sel], "o-", ms=3, label=lab)
    ax.axvline(-C.MU_0 * pl["Hc_sw"] * 1e3, color="gray", ls="--", label="SW (shape anisotropy)")
    ax.set_xlabel("mu0 H [mT] (10 deg from the long axis)")
    ax.set_ylabel("M/Ms along H")
    ax.set_title(f"{shp[0] * 5}x{shp[1] * 5}x5 nm permalloy platelet", fontsize=9)
    ax.legend(fontsize=7)


def plot_stoner_wohlfarth(axs, quick: bool) -> None:
    """The astroid of switching fields and SW loops at several field angles."""
    psis = np.linspace(0.0, np.pi / 2, 181)
    hsw = np.asarray(dyn.switching_field(psis))
    for sx in (1, -1):
        for sy in (1, -1):
            axs[0].plot(sx * hsw * np.cos(psis), sy * hsw * np.sin(psis), "b-")
    axs[0].set_aspect("equal")
    axs[0].set_xlabel("h_parallel = H cos(psi) / H_K")
    axs[0].set_ylabel("h_perp")
    axs[0].set_title("Stoner-Wohlfarth astroid (switching fields)", fontsize=9)
    for deg in (5, 45, 85) if quick else (5, 30, 45, 60, 85):
        L = dyn.sw_loop(np.deg2rad(deg), 1.5, 101 if quick else 301)
        axs[1].plot(np.asarray(L.h), np.asarray(L.m), label=f"psi = {deg} deg")
    axs[1].set_xlabel("h = H / H_K")
    axs[1].set_ylabel("m . h_hat")
    axs[1].legend(fontsize=7)
    axs[1].set_title("SW loops", fontsize=9)


def key_numbers(pl: dict) -> dict:
    """Platelet loop against the SW bounds; SW switching fields found by bisection."""
    loop = pl["loop"]
    return {
        "platelet_coercivity": number(
            C.MU_0 * pl["Hc"] * 1e3,
            C.MU_0 * pl["Hc_sw"] * 1e3,
            "mT",
            "upper bound: SW coherent rotation with shape "
            "anisotropy (N_yy - N_xx) Ms, Aharoni factors",
            bound="<=",
        ),
        "platelet_remanence": number(
            float(loop.remanence),
            float(np.cos(pl["psi"])),
            "M/Ms",
            "SW uniform state: cos(psi)",
            rtol=0.02,
        ),
        "platelet_converged": number(bool(loop.converged), True, "", "relax at every field"),
        "sw_switching_field_psi0": number(
            _switching_by_bisection(0.0),
            1.0,
            "H_K",
            "Stoner-Wohlfarth 1948: H_K along the easy axis",
            rtol=1e-4,
        ),
        "sw_switching_field_psi45": number(
            _switching_by_bisection(np.pi / 4),
            0.5,
            "H_K",
            "Stoner-Wohlfarth 1948: H_K/2 at 45 deg",
            rtol=1e-4,
        ),
    }


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    pl = platelet_loop(quick)
    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2))
    plot_loop(axs[0], pl)
    plot_stoner_wohlfarth(axs[1:], quick)
    figure = save_figure(fig, out, "hysteresis.png", dpi=110)
    return {
        "summary": (
            "A small permalloy platelet, starting from a relaxed random (demagnetized) state, "
            "is taken round a quasi-static loop (energy minimization at each field, Newell "
            "demag): it magnetizes along the virgin curve, keeps a large remanence and "
            "reverses at a coercive field below the coherent-rotation (Stoner-Wohlfarth) value "
            "for its shape anisotropy, since reversal starts at the ends. The single-domain SW "
            "particle switches on the astroid h_sw = (cos^2/3 + sin^2/3)^-3/2; the loops "
            "change from square (field along the easy axis) to closed lines (hard axis)."
        ),
        "figures": [figure],
        "numbers": key_numbers(pl),
    }


if __name__ == "__main__":
    main(run, __file__)
