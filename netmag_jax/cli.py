"""The ``netmag`` command line: ``netmag run`` (experiment gallery) and friends.

Experiments live in the repository's ``experiments/`` folder, one module per phenomenon.
Each module defines ``TITLE`` (str) and ``run(out: pathlib.Path, quick: bool) -> dict``; the
dict holds ``summary`` (a few lines of explanation), ``figures`` (PNG file names written into
``out``) and ``numbers`` (``{name: {"value": v, "reference": r, "unit": u, "source": s}}``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"


def _experiment_modules() -> list[Path]:
    if not EXPERIMENTS.is_dir():
        raise SystemExit(f"netmag run: no experiments/ folder next to the package ({EXPERIMENTS});"
                         " run from a clone of the repository")
    return sorted(p for p in EXPERIMENTS.glob("*.py") if not p.name.startswith("_"))


def load_experiment(path: Path):
    """Import an experiment module from its file."""
    spec = importlib.util.spec_from_file_location(f"netmag_experiments.{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, "run"):
        raise ValueError(f"experiment {path.name} defines no run(out, quick)")
    return mod


def run_gallery(out: Path, quick: bool = False, only: list[str] | None = None) -> dict:
    """Run every experiment (or those named in ``only``), write results and return them."""
    out.mkdir(parents=True, exist_ok=True)
    paths = _experiment_modules()
    if only:
        names = {p.stem for p in paths}
        unknown = sorted(set(only) - names)
        if unknown:
            raise SystemExit(f"netmag run: unknown experiment(s) {unknown}; have {sorted(names)}")
        paths = [p for p in paths if p.stem in only]
    results = {}
    for i, path in enumerate(paths, 1):
        mod = load_experiment(path)
        print(f"[{i}/{len(paths)}] {path.stem}: {getattr(mod, 'TITLE', path.stem)} ...", flush=True)
        t0 = time.perf_counter()
        res = mod.run(out / path.stem, quick=quick)
        res.setdefault("title", getattr(mod, "TITLE", path.stem))
        res["seconds"] = round(time.perf_counter() - t0, 2)
        (out / path.stem).mkdir(parents=True, exist_ok=True)
        (out / path.stem / "results.json").write_text(json.dumps(res, indent=2, default=float))
        results[path.stem] = res
        print(f"      done in {res['seconds']:.1f} s", flush=True)
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="netmag", description="netmag_jax command line")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the experiment gallery and write results/")
    r.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    r.add_argument("--quick", action="store_true", help="smoke-test sizes")
    r.add_argument("--only", nargs="*", help="run only these experiments (module names)")
    r.add_argument("--x64", action="store_true", help="enable float64")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "x64", False):
        import jax

        jax.config.update("jax_enable_x64", True)
    if args.command == "run":
        run_gallery(args.out, quick=args.quick, only=args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
