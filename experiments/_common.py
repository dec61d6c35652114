"""What every experiment script shares: its numbers, its figures and its command line.

An experiment is a module ``experiments/<name>.py`` with ``TITLE`` (str) and
``run(out: Path, quick: bool) -> dict``; the dict holds ``summary`` (a few lines of
explanation), ``figures`` (PNG file names written into ``out``) and ``numbers``
(``{name: number(value, reference, unit, source, <criterion>)}``). A number with a reference
states how it is judged: a tolerance (``rtol=``, ``atol=``), a bound (``bound="<"`` etc.: the
reference is the bound), equality for booleans, or ``compare_only=True`` where the reference
is context, not a pass/fail criterion; ``verdict`` applies it for the report. The gallery
(``_gallery.py``) runs them and writes the report;
``python experiments/<name>.py [--quick] [--out DIR]`` runs one.

Importing this module selects matplotlib's non-interactive Agg backend, once for every
experiment: figures are written to files, never shown in a window.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import jax
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from netmag_jax.cli import load_module as load_module  # scripts load scripts the CLI's way

matplotlib.use("Agg")  # switches pyplot's backend even where pyplot was imported first


def use_float64() -> None:
    """Compute in float64. The experiments' tolerances assume float64 (several references are
    met to 1e-9); it is the scripts' choice, as ``--x64`` is the command line's: the package
    never switches it on. Called by the gallery and by each script's command line."""
    jax.config.update("jax_enable_x64", True)


def _plain(x):
    """A JSON-friendly Python value: NumPy/JAX scalars become bool, int or float."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    a = np.asarray(x)
    return a.item() if a.ndim == 0 else a.tolist()


BOUNDS = ("<", "<=", ">", ">=")


def number(
    value,
    reference=None,
    unit: str = "",
    source: str = "",
    *,
    rtol: float | None = None,
    atol: float | None = None,
    bound: str | None = None,
    compare_only: bool = False,
) -> dict:
    """One key number of an experiment and how it is checked against its reference.

    Passes when ``|value - reference| <= atol + rtol |reference|`` (tolerance), when
    ``value <bound> reference`` (bound, e.g. ``bound="<"``: value < reference), or, for
    booleans, when ``value == reference``.

    Args:
        value: the computed value (float, bool, or a NumPy/JAX scalar, stored as Python).
        reference: what it is compared with (analytic limit, published value, independent
            calculation, or the bound), or None where there is no reference.
        unit: the unit of both, e.g. ``"K"``, ``"mu_B"``; ``""`` for dimensionless.
        source: where the reference comes from (paper, formula, definition).
        rtol, atol: relative and absolute tolerance of a tolerance check (either or both).
        bound: one of ``"<", "<=", ">", ">="``: the reference is a bound, not a target.
        compare_only: the reference is shown for comparison (e.g. mean field against
            experiment), with no pass/fail verdict.

    Returns:
        ``{"value", "reference", "unit", "source"}`` plus the criterion keys given.

    Raises:
        ValueError: an unknown ``bound``; a criterion without a reference; a bound together
            with a tolerance; a negative tolerance.
    """
    item = {"value": _plain(value), "reference": _plain(reference), "unit": unit, "source": source}
    if bound is not None and bound not in BOUNDS:
        raise ValueError(f"bound must be one of {BOUNDS}, got {bound!r}")
    criteria = {"rtol": rtol, "atol": atol, "bound": bound}
    given = {k: v for k, v in criteria.items() if v is not None}
    if (given or compare_only) and reference is None:
        raise ValueError("a tolerance, bound or compare_only needs a reference")
    if bound is not None and (rtol is not None or atol is not None or compare_only):
        raise ValueError("give either a bound or a tolerance (or compare_only), not both")
    if any(given.get(k, 0.0) < 0 for k in ("rtol", "atol")):
        raise ValueError("tolerances must be >= 0")
    item.update(given)
    if compare_only:
        item["compare_only"] = True
    return item


def design_time(seconds: float, n_samples: int, n_iter: int) -> dict:
    """The design-time check of the pulse-design experiments: wall time of
    ``optimize_pulse`` [s], goal < 60 s on the 2-core CPU."""
    return number(
        seconds,
        60.0,
        "s",
        f"{n_samples} samples, {n_iter} L-BFGS iterations (goal < 60 s, 2-core CPU)",
        bound="<",
    )


def _passes(value, reference, item: dict) -> bool:
    """The check of one (scalar or list) value against its reference, by the item's rule."""
    v = np.asarray(value, dtype=float)
    r = np.asarray(reference, dtype=float)
    if not np.all(np.isfinite(v)):
        return False
    if "bound" in item:
        op = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
        return bool(np.all(op[item["bound"]](v, r)))
    tol = item.get("atol", 0.0) + item.get("rtol", 0.0) * np.abs(r)
    return bool(np.all(np.abs(v - r) <= tol))


def criterion(item: dict) -> str:
    """The rule of a number as text: ``"< 3"``, ``"± 1e-3 + 2 %"``, ``"= True"``, ...."""
    ref = item.get("reference")
    if ref is None:
        return ""
    if isinstance(ref, bool) or isinstance(item.get("value"), bool):
        return f"= {ref}"
    if "bound" in item:
        return f"{item['bound']} {ref:.4g}" if isinstance(ref, (int, float)) else item["bound"]
    parts = []
    if "atol" in item:
        parts.append(f"± {item['atol']:.3g}")
    if "rtol" in item:
        parts.append(f"± {100 * item['rtol']:.3g} %")
    if parts:
        return " + ".join(parts)
    return "comparison only" if item.get("compare_only") else "no criterion given"


def verdict(item: dict) -> str:
    """``"pass"`` or ``"fail"`` for a number with a reference and a criterion; ``"info"``
    without a reference; ``"compare"`` for a comparison only; ``"fail"`` where a reference
    has no criterion (every check must say how it is judged)."""
    ref, value = item.get("reference"), item.get("value")
    if ref is None:
        return "info"
    if item.get("compare_only"):
        return "compare"
    if isinstance(ref, bool) or isinstance(value, bool):
        return "pass" if value == ref else "fail"
    if not any(k in item for k in ("rtol", "atol", "bound")) or value is None:
        return "fail"
    return "pass" if _passes(value, ref, item) else "fail"


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

    Runs ``run(out, quick)`` in float64 (default ``out``: ``results/<name>``) and prints its
    numbers as JSON and the wall time.
    """
    name = Path(script).stem
    p = argparse.ArgumentParser(prog=f"{name}.py", description=f"run the {name} experiment")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--out", type=Path, default=Path("results") / name, help="output folder")
    args = p.parse_args(argv)
    use_float64()
    t0 = time.perf_counter()
    res = run(args.out, quick=args.quick)
    print(json.dumps(res["numbers"], indent=1, default=float))
    print(f"{name}: {time.perf_counter() - t0:.1f} s, figures in {args.out}")
    return res
