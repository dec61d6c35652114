"""The ``netmag`` command line.

Subcommands::

    netmag run       [--quick] [--only NAME ...] [--out DIR]   experiment gallery -> DIR/index.html
    netmag fit       WORKFLOW [workflow options]               a fitting/ workflow on your files
    netmag bench     [--quick] [--only NAME ...] [--out DIR]   benchmarks against named peers

Global options (before the subcommand): ``--device cpu|gpu`` and ``--x64``.

Experiments live in the repository's ``experiments/`` folder, one module per phenomenon.
Each module defines ``TITLE`` (str) and ``run(out: pathlib.Path, quick: bool) -> dict``; the
dict holds ``summary`` (a few lines of explanation), ``figures`` (PNG file names written into
``out``) and ``numbers`` (``{name: {"value": v, "reference": r, "unit": u, "source": s}}``).
Fitting workflows are ``fitting/<name>.py`` modules with ``main(argv)``; benchmarks are
``benchmarks/bench_<name>.py`` modules with ``main(quick)``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _folder(name: str) -> Path:
    folder = REPO / name
    if not folder.is_dir():
        raise SystemExit(f"netmag: no {name}/ folder next to the package ({folder}); "
                         "run from a clone of the repository")
    return folder


def _modules(folder: str, prefix: str = "") -> dict[str, Path]:
    return {p.stem[len(prefix):]: p for p in sorted(_folder(folder).glob(f"{prefix}*.py"))
            if not p.name.startswith("_")}


def load_module(path: Path, package: str = "netmag_scripts"):
    """Import a script module (experiment, workflow or benchmark) from its file."""
    spec = importlib.util.spec_from_file_location(f"{package}.{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _select(available: dict[str, Path], only: list[str] | None, what: str) -> dict[str, Path]:
    if not only:
        return available
    unknown = sorted(set(only) - set(available))
    if unknown:
        raise SystemExit(f"netmag: unknown {what} {unknown}; available: {sorted(available)}")
    return {k: v for k, v in available.items() if k in only}


def run_gallery(out: Path, quick: bool = False, only: list[str] | None = None) -> dict:
    """Run the experiments (all, or those in ``only``), write results and the HTML report."""
    from ._report import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    selected = _select(_modules("experiments"), only, "experiment(s)")
    results = {}
    t_all = time.perf_counter()
    for i, (name, path) in enumerate(selected.items(), 1):
        mod = load_module(path, "netmag_experiments")
        if not hasattr(mod, "run"):
            raise SystemExit(f"netmag: experiment {path.name} defines no run(out, quick)")
        title = getattr(mod, "TITLE", name)
        print(f"[{i}/{len(selected)}] {name}: {title} ...", flush=True)
        t0 = time.perf_counter()
        res = dict(mod.run(out / name, quick=quick))
        res.setdefault("title", title)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        (out / name).mkdir(parents=True, exist_ok=True)
        (out / name / "results.json").write_text(json.dumps(res, indent=2, default=float))
        results[name] = res
        print(f"      done in {res['seconds']:.1f} s ({len(res.get('figures', []))} figures)",
              flush=True)
    report = write_report(out, results)
    print(f"gallery: {len(results)} experiments in {time.perf_counter() - t_all:.0f} s; "
          f"report at {report}", flush=True)
    return results


def run_benchmarks(out: Path | None, quick: bool = False, only: list[str] | None = None) -> dict:
    """Run benchmarks/bench_*.py (each prints its own table) and collect their results."""
    selected = _select(_modules("benchmarks", prefix="bench_"), only, "benchmark(s)")
    results = {}
    for name, path in selected.items():
        print(f"== benchmark {name} ==", flush=True)
        results[name] = load_module(path, "netmag_benchmarks").main(quick=quick)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "benchmarks.json").write_text(json.dumps(results, indent=2, default=float))
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="netmag", description="netmag_jax: net magnetization, "
                                "from one spin to the MRI signal")
    p.add_argument("--device", choices=("cpu", "gpu"), default=None,
                   help="JAX platform to run on (default: JAX's choice)")
    p.add_argument("--x64", action="store_true", help="compute in float64")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run the experiment gallery and write the report")
    r.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    r.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    r.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments")

    f = sub.add_parser("fit", help="run a fitting/ workflow on data files",
                       description="Run fitting/WORKFLOW.py; options after WORKFLOW go to it "
                                   "(netmag fit WORKFLOW --help).")
    f.add_argument("workflow", help="workflow name (a module in fitting/)")
    f.add_argument("args", nargs=argparse.REMAINDER, help="options for the workflow")

    b = sub.add_parser("bench", help="run the benchmarks against their peers")
    b.add_argument("--out", type=Path, default=None, help="write benchmarks.json here")
    b.add_argument("--quick", action="store_true", help="small sizes")
    b.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import jax

    if args.device is not None:
        jax.config.update("jax_platforms", args.device if args.device == "cpu" else "cuda")
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    if args.command == "run":
        run_gallery(args.out, quick=args.quick, only=args.only)
    elif args.command == "fit":
        workflows = _modules("fitting")
        if args.workflow not in workflows:
            raise SystemExit(f"netmag fit: unknown workflow {args.workflow!r}; "
                             f"available: {sorted(workflows)}")
        mod = load_module(workflows[args.workflow], "netmag_fitting")
        return int(mod.main(args.args) or 0)
    elif args.command == "bench":
        run_benchmarks(args.out, quick=args.quick, only=args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
