"""The ``netmag`` command line.

Subcommands::

    netmag run       [--quick] [--only NAME ...] [--out DIR]   experiment gallery -> DIR/index.html
    netmag fit       WORKFLOW [workflow options]               a fitting/ workflow on your files
    netmag simulate  FILE.seq [--phantom NAME] [--n N] [--out DIR]   Pulseq file -> signal/image
    netmag design    KIND [--duration S] [--b1-max T] ... [--out DIR]    RF pulse design (optax)
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
        raise SystemExit(
            f"netmag: no {name}/ folder next to the package ({folder}); "
            "run from a clone of the repository"
        )
    return folder


def _modules(folder: str, prefix: str = "") -> dict[str, Path]:
    return {
        p.stem[len(prefix) :]: p
        for p in sorted(_folder(folder).glob(f"{prefix}*.py"))
        if not p.name.startswith("_")
    }


def load_module(path: Path, package: str = "netmag_scripts"):
    """Import a script module (experiment, workflow or benchmark) from its file."""
    spec = importlib.util.spec_from_file_location(f"{package}.{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_experiment(path: Path):
    """Import an experiment module (``experiments/<name>.py``) from its file."""
    mod = load_module(Path(path), "netmag_experiments")
    if not hasattr(mod, "run"):
        raise ValueError(f"experiment {Path(path).name} defines no run(out, quick)")
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
        mod = load_experiment(path)
        title = getattr(mod, "TITLE", name)
        print(f"[{i}/{len(selected)}] {name}: {title} ...", flush=True)
        t0 = time.perf_counter()
        res = dict(mod.run(out / name, quick=quick))
        res.setdefault("title", title)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        (out / name).mkdir(parents=True, exist_ok=True)
        (out / name / "results.json").write_text(json.dumps(res, indent=2, default=float))
        results[name] = res
        print(
            f"      done in {res['seconds']:.1f} s ({len(res.get('figures', []))} figures)",
            flush=True,
        )
    report = write_report(out, results)
    print(
        f"gallery: {len(results)} experiments in {time.perf_counter() - t_all:.0f} s; "
        f"report at {report}",
        flush=True,
    )
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


def simulate_file(
    path: Path, phantom: str = "shepp_logan", n: int = 32, out: Path = Path("results/simulate")
) -> dict:
    """Simulate a Pulseq ``.seq`` file on a numerical phantom; write signal, k-space, image."""
    import numpy as np

    from . import mri

    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"netmag simulate: no such file {path}")
    make = {"shepp_logan": mri.shepp_logan, "cylinder": mri.cylinder}[phantom]
    try:
        res = mri.simulate_seq(path, make(n=n))
    except ValueError as err:  # malformed file: the reader names the line
        raise SystemExit(f"netmag simulate: {err}") from None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    signal = np.asarray(res["signal"])
    np.save(out / "signal.npy", signal)
    np.save(out / "kspace.npy", np.asarray(res["kspace"]))
    summary = {
        "file": str(path),
        "phantom": phantom,
        "n": n,
        "n_adc": int(signal.shape[-1]),
        "max_abs_signal": float(np.max(np.abs(signal))) if signal.size else 0.0,
        "image": res["image"] is not None,
    }
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if res["image"] is not None:
        img = np.abs(np.asarray(res["image"]))
        np.save(out / "image.npy", np.asarray(res["image"]))
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(img.reshape(img.shape[-2:]) if img.ndim > 2 else img, cmap="gray")
        ax.set_title(f"{path.name} on {phantom} (|image|)")
        ax.axis("off")
        fig.savefig(out / "image.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    flat = signal.reshape(-1, signal.shape[-1])[0] if signal.ndim > 1 else signal
    ax.plot(np.abs(flat), lw=0.8)
    ax.set_xlabel("ADC sample")
    ax.set_ylabel("|signal| (units of M0)")
    fig.savefig(out / "signal.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    (out / "simulate.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return summary


def design_pulse(args) -> dict:
    """Run ``optimize_pulse`` for the ``netmag design`` options; write waveform and plot."""
    import math

    import numpy as np

    from .constants import GAMMA_1H_HZ
    from .mri import design

    flip = None if args.flip is None else math.radians(args.flip)
    b0 = np.linspace(-args.b0_range, args.b0_range, 5) if args.b0_range > 0 else (0.0,)
    b1 = np.linspace(1 - args.b1_range, 1 + args.b1_range, 5) if args.b1_range > 0 else (1.0,)
    try:
        if args.thickness is not None:
            target = design.slice_target(
                args.kind, args.thickness, flip_angle=flip, off_resonance=b0, b1_scale=b1
            )
            # slice-select gradient so that the pulse bandwidth tbw / T covers the slice
            gradient = args.tbw / (args.duration * GAMMA_1H_HZ * args.thickness)
        else:
            target = design.uniform_target(
                args.kind, flip_angle=flip, off_resonance=b0, b1_scale=b1
            )
            gradient = 0.0
        init = design.initial_pulse(
            "sinc" if args.thickness is not None else "hard",
            target,
            args.samples,
            args.duration,
            args.b1_max,
            tbw=args.tbw,
        )
        res = design.optimize_pulse(
            target,
            args.duration,
            args.samples,
            b1_max=args.b1_max,
            gradient=gradient,
            init=init,
            stop=design.Stopping(max_iter=args.iterations),
            progress=max(args.iterations // 10, 1),
        )
    except ValueError as err:
        raise SystemExit(f"netmag design: {err}") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shape = res.pulseq_shape()
    np.savez(
        out / "pulse.npz",
        rf=np.asarray(res.rf),
        gradient=np.asarray(res.gradient),
        dt=res.dt,
        magnitude=shape["magnitude"],
        phase=shape["phase"],
    )
    design.plot_design(res, out / "pulse.png")
    summary = {
        "kind": args.kind,
        "duration_s": args.duration,
        "samples": args.samples,
        "b1_max_T": args.b1_max,
        "target_error": float(res.target_error),
        "energy_T2s": float(res.energy),
        "peak_b1_T": float(res.peak_b1),
        "iterations": int(res.n_iter),
        "converged": bool(res.converged),
        "amplitude_hz": float(shape["amplitude_hz"]),
        "seconds": float(res.seconds),
    }
    (out / "design.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="netmag", description="netmag_jax: net magnetization, from one spin to the MRI signal"
    )
    p.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        default=None,
        help="JAX platform to run on (default: JAX's choice)",
    )
    p.add_argument("--x64", action="store_true", help="compute in float64")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run the experiment gallery and write the report")
    r.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    r.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    r.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments")

    f = sub.add_parser(
        "fit",
        help="run a fitting/ workflow on data files",
        description="Run fitting/WORKFLOW.py; options after WORKFLOW go to it "
        "(netmag fit WORKFLOW --help).",
    )
    f.add_argument("workflow", help="workflow name (a module in fitting/)")
    f.add_argument("args", nargs=argparse.REMAINDER, help="options for the workflow")

    s = sub.add_parser("simulate", help="simulate a Pulseq .seq file on a phantom")
    s.add_argument("seq", type=Path, help="Pulseq file (v1.4 / v1.5)")
    s.add_argument("--phantom", choices=("shepp_logan", "cylinder"), default="shepp_logan")
    s.add_argument("--n", type=int, default=32, help="phantom matrix size (n x n)")
    s.add_argument("--out", type=Path, default=Path("results/simulate"), help="output folder")

    d = sub.add_parser("design", help="design an RF pulse with optax (Bloch-simulated)")
    d.add_argument("kind", choices=("excitation", "inversion", "refocusing", "saturation"))
    d.add_argument("--duration", type=float, default=4e-3, help="pulse duration [s]")
    d.add_argument("--samples", type=int, default=256, help="number of RF samples")
    d.add_argument("--b1-max", type=float, default=15e-6, help="peak B1 limit [T]")
    d.add_argument("--flip", type=float, default=None, help="flip angle [deg]")
    d.add_argument(
        "--thickness",
        type=float,
        default=None,
        help="slice thickness [m] (slice-selective); omit for non-selective",
    )
    d.add_argument("--tbw", type=float, default=4.0, help="time-bandwidth product")
    d.add_argument("--b0-range", type=float, default=0.0, help="robust over +-this B0 [Hz]")
    d.add_argument(
        "--b1-range", type=float, default=0.0, help="robust over B1 scales 1 +- this (e.g. 0.2)"
    )
    d.add_argument("--iterations", type=int, default=200, help="optimizer iterations")
    d.add_argument("--out", type=Path, default=Path("results/design"), help="output folder")

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
            raise SystemExit(
                f"netmag fit: unknown workflow {args.workflow!r}; available: {sorted(workflows)}"
            )
        mod = load_module(workflows[args.workflow], "netmag_fitting")
        return int(mod.main(args.args) or 0)
    elif args.command == "simulate":
        if args.n < 4:
            raise SystemExit("netmag simulate: --n must be >= 4")
        simulate_file(args.seq, args.phantom, args.n, args.out)
    elif args.command == "design":
        for name in ("duration", "b1_max"):
            if not getattr(args, name) > 0:
                raise SystemExit(f"netmag design: --{name.replace('_', '-')} must be > 0")
        if args.samples < 2:
            raise SystemExit("netmag design: --samples must be >= 2")
        design_pulse(args)
    elif args.command == "bench":
        run_benchmarks(args.out, quick=args.quick, only=args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
