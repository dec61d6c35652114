"""Headline speed ratios: netmag_jax against its named peers, measured now on this machine.

Runs the quick versions of the benchmarks in ``benchmarks/`` (each times netmag_jax and a
peer in one process after checking they agree) and collects their ratios (peer time /
netmag_jax time; > 1 means netmag_jax is faster). Full-size numbers: ``netmag bench``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import matplotlib.pyplot as plt
from _common import load_module, main, number, output_dir, save_figure

TITLE = "Benchmarks: headline speed ratios against named peers (quick sizes)"

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
#: benchmark -> (peer, the result keys whose ratios are the headline)
HEADLINES = {
    "mri": "sigpy abrm / NumPy Bloch loop",
    "fit": "scipy curve_fit / lmfit / optimistix",
    "statmech": "NumPy eigh / SciPy brentq+quad",
    "classical": "NumPy integrator",
    "lattice": "NumPy checkerboard Metropolis",
}


def _ratios(tree, prefix=""):
    """Flatten a benchmark's result dict into {path: ratio} for keys naming a ratio."""
    out = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(_ratios(v, f"{prefix}{k}/"))
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            out.update(_ratios(v, f"{prefix}{i}/"))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        key = prefix.rstrip("/")
        leaf = key.rsplit("/", 1)[-1]
        if ("ratio" in leaf or "speedup" in leaf) and math.isfinite(tree) and tree > 0:
            out[key] = float(tree)
    return out


def measure(selected: dict) -> dict:
    """Run each quick benchmark; its ratios and wall time as key numbers."""
    numbers = {}
    for name, peer in selected.items():
        t0 = time.perf_counter()
        res = load_module(BENCH / f"bench_{name}.py", "netmag_benchmarks").main(quick=True)
        for key, r in _ratios(res).items():
            numbers[f"{name}: {key}"] = number(
                r, None, "x", f"peer: {peer}; measured now, quick size"
            )
        numbers[f"{name}: seconds"] = number(
            time.perf_counter() - t0, None, "s", "wall time of the quick benchmark"
        )
    return numbers


def plot_ratios(out: Path, numbers: dict) -> str:
    """Horizontal bars of the speed ratios on a log axis (green: netmag_jax faster)."""
    bars = [(k, v["value"]) for k, v in numbers.items() if v["unit"] == "x"]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(bars) + 1.2))
    labels = [b[0] for b in bars]
    vals = [b[1] for b in bars]
    ax.barh(range(len(bars)), vals, color=["#17692d" if v >= 1 else "#a11" for v in vals])
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(bars)), labels, fontsize=7)
    ax.set_xlabel("peer time / netmag_jax time (log scale; > 1: netmag_jax faster)")
    ax.set_title("netmag_jax vs named peers (quick sizes, this machine)")
    return save_figure(fig, out, "ratios.png", dpi=110)


def run(out: Path, quick: bool = False) -> dict:
    out = output_dir(out)
    # quick gallery: the two headline comparisons only (each benchmark runs at quick size)
    selected = {k: HEADLINES[k] for k in ("mri", "fit")} if quick else HEADLINES
    numbers = measure(selected)
    return {
        "summary": (
            "Each benchmark times a netmag_jax kernel and a named peer in one process, "
            "after jit warm-up and a check that both compute the same numbers. "
            "Bars are speed ratios at quick (small) sizes, where fixed overheads "
            "weigh more; full-size ratios are in benchmarks/README.md "
            "(netmag bench)."
        ),
        "figures": [plot_ratios(out, numbers)],
        "numbers": numbers,
    }


if __name__ == "__main__":
    main(run, __file__)
