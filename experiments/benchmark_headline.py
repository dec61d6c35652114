"""Headline speed ratios: netmag_jax against its named peers, measured now on this machine.

Runs the quick versions of the benchmarks in ``benchmarks/`` (each times netmag_jax and a
peer in one process after checking they agree) and collects their ratios (peer time /
netmag_jax time; > 1 means netmag_jax is faster). Full-size numbers: ``netmag bench``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path

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


def _load(name):
    path = BENCH / f"bench_{name}.py"
    spec = importlib.util.spec_from_file_location(f"netmag_benchmarks.bench_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


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


def run(out: Path, quick: bool = False) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    numbers, bars = {}, []
    # quick gallery: the two headline comparisons only (each benchmark runs at quick size)
    selected = {k: HEADLINES[k] for k in ("mri", "fit")} if quick else HEADLINES
    for name, peer in selected.items():
        t0 = time.perf_counter()
        res = _load(name).main(quick=True)
        for key, r in _ratios(res).items():
            numbers[f"{name}: {key}"] = {
                "value": r,
                "reference": None,
                "unit": "x",
                "source": f"peer: {peer}; measured now, quick size",
            }
            bars.append((f"{name}: {key}", r))
        numbers[f"{name}: seconds"] = {
            "value": time.perf_counter() - t0,
            "unit": "s",
            "source": "wall time of the quick benchmark",
        }
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(bars) + 1.2))
    labels = [b[0] for b in bars]
    vals = [b[1] for b in bars]
    ax.barh(range(len(bars)), vals, color=["#17692d" if v >= 1 else "#a11" for v in vals])
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(bars)), labels, fontsize=7)
    ax.set_xlabel("peer time / netmag_jax time (log scale; > 1: netmag_jax faster)")
    ax.set_title("netmag_jax vs named peers (quick sizes, this machine)")
    fig.tight_layout()
    fig.savefig(out / "ratios.png", dpi=110)
    plt.close(fig)
    return {
        "summary": (
            "Each benchmark times a netmag_jax kernel and a named peer in one process, "
            "after jit warm-up and a check that both compute the same numbers. "
            "Bars are speed ratios at quick (small) sizes, where fixed overheads "
            "weigh more; full-size ratios are in benchmarks/README.md "
            "(netmag bench)."
        ),
        "figures": ["ratios.png"],
        "numbers": numbers,
    }
