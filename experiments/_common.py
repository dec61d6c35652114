"""What every experiment script shares: its numbers, its figures and its command line.

An experiment is a module ``experiments/<name>.py`` with ``TITLE`` (str) and
``run(out: Path, quick: bool) -> dict``; the dict holds ``summary`` (a few lines of
explanation), ``figures`` (PNG file names written into ``out``) and ``numbers``
(``{name: number(value, reference, unit, source)}``). The gallery (``_gallery.py``) runs them
and writes the report; ``python experiments/<name>.py [--quick] [--out DIR]`` runs one.

Importing this module selects matplotlib's non-interactive Agg backend, once for every
experiment: figures are written to files, never shown in a window.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from netmag_jax.cli import load_module as load_module  # scripts load scripts the CLI's way

matplotlib.use("Agg")  # switches pyplot's backend even where pyplot was imported first


def _plain(x):
    """A JSON-friendly Python value: NumPy/JAX scalars become bool, int or float."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    a = np.asarray(x)
    return a.item() if a.ndim == 0 else a.tolist()


def number(value, reference=None, unit: str = "", source: str = "") -> dict:
    """One key number of an experiment: ``{"value", "reference", "unit", "source"}``.

    Args:
        value: the computed value (float, bool, or a NumPy/JAX scalar, stored as Python).
        reference: what it is compared with (analytic limit, published value, independent
            calculation), or None where there is no reference.
        unit: the unit of both, e.g. ``"K"``, ``"mu_B"``; ``""`` for dimensionless.
        source: where the reference comes from (paper, formula, definition).
    """
    return {"value": _plain(value), "reference": _plain(reference), "unit": unit, "source": source}


def output_dir(out) -> Path:
    """The experiment's output folder ``out`` as a Path, created if missing."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_figure(fig, out: Path, name: str, dpi: int = 110) -> str:
    """Lay out ``fig``, write it to ``out/name`` at ``dpi``, close it; returns ``name``."""
    fig.tight_layout()
    fig.savefig(Path(out) / name, dpi=dpi)
    plt.close(fig)
    return name


def main(run: Callable[..., dict], script: str, argv: list[str] | None = None) -> dict:
    """Command line of one experiment: ``python experiments/<name>.py [--quick] [--out DIR]``.

    Runs ``run(out, quick)`` (default ``out``: ``results/<name>``) and prints its numbers as
    JSON and the wall time.
    """
    name = Path(script).stem
    p = argparse.ArgumentParser(prog=f"{name}.py", description=f"run the {name} experiment")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--out", type=Path, default=Path("results") / name, help="output folder")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    res = run(args.out, quick=args.quick)
    print(json.dumps(res["numbers"], indent=1, default=float))
    print(f"{name}: {time.perf_counter() - t0:.1f} s, figures in {args.out}")
    return res
