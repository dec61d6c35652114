"""The ``netmag`` command line.

Subcommands::

    netmag run       [--experiments DIR] [--quick] [--only NAME ...] [--out DIR]
                     the experiment gallery of a clone of the repository -> DIR/index.html
    netmag fit       WORKFLOW [workflow options]       a fitting workflow on your data files
    netmag simulate  FILE.seq [--phantom NAME] [--n N] [--n-sub K] [--mrd F.h5] [--out DIR]
                     [--overwrite]
                     Pulseq file -> signal, image, figures (and ISMRMRD raw data)
    netmag design    KIND [--duration S] [--b1-max T] ... [--out DIR] [--overwrite]
                     RF pulse design (optax)
    netmag bench     [--benchmarks DIR] [--quick] [--only NAME ...] [--out DIR]
                     the repository's benchmarks against named peers

Global options (before the subcommand): ``--device cpu|gpu``, ``--x64`` and ``--debug``.
``--device gpu`` on a machine without a usable GPU stops at once with one line.

``fit``, ``simulate`` and ``design`` use only the installed package. ``run`` and ``bench`` run
a clone's scripts: ``<experiments>/_gallery.py``'s ``run_gallery(out, quick=, only=)`` and each
``<benchmarks>/bench_<name>.py``'s ``main(quick=)`` (default folders in the current directory).
A user mistake (missing or unwritable file, unknown name, invalid value, a missing optional
reader: ``ValueError``, ``OSError``, ``ImportError``, equinox's value errors), in every command
and every ``fit`` workflow, ends with one line ``netmag <command>: ...`` on stderr and exit
status 1; ``--debug`` shows the traceback instead.

Outputs: every file is written atomically (a hidden ``*.netmag-tmp`` file in the target
folder, fsync, rename), so a killed run leaves each file old or new, never truncated. A run's
JSON summary (``simulate.json``, ``design.json``, ``<prefix>_fit.json``, ``<cmd>_fit.json``,
``cef_fit.json``) is its mark: ``"run_status": "running"`` before the first output,
``"complete"`` written last; ``"failed"`` with the error when a write fails (exit status 1).
Only ``"complete"`` marks a complete set; ``"running"`` after the process ended means it was
killed. Errors in the input are found before anything is written.

Existing files: ``simulate``, ``design`` and every ``fit`` workflow check, before any
computation, that none of the files they would write exists (one line naming it, exit status
1: ``netmag simulate: OUT/image.npy exists; pass --overwrite to replace``), so a refused rerun
leaves the earlier run's files byte for byte; ``--overwrite`` replaces them. ``run`` and
``bench`` are exempt: they regenerate the repository's own report (``results/`` of ``make
run``, ``benchmarks.json``), which is rebuilt in place by design.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import jax

from ._errors import USER_ERRORS as USER_ERRORS
from ._errors import is_user_error, one_line
from ._io import prepare_outputs, run_outputs, save_npy, save_npz, write_json
from .fit import workflows


#: the files ``netmag simulate`` / ``netmag design`` may write into ``--out`` (the figures
#: are those of ``mri._plot.plot_simulation`` and ``design.plot_design``), checked before a
#: run: an existing one needs ``--overwrite``
OUTPUTS = {
    "simulate": ("simulate.json", "signal.npy", "kspace.npy", "image.npy")
    + ("sequence.png", "kspace.png", "signal.png", "image.png"),
    "design": ("design.json", "pulse.npz", "pulse.png"),
}


def load_module(path: Path, package: str = "netmag_scripts"):
    """Import a script module (gallery, experiment or benchmark) from its file ``path``.

    The module is registered as ``<package>.<file stem>`` in ``sys.modules``.
    """
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"{package}.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path} is not a Python module")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _folder(path: Path, command: str, option: str) -> Path:
    """``path`` if it is a folder; otherwise a ValueError naming the option to fix it."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(
            f"no folder {path} (run from a clone of the repository or pass {option} DIR)"
        )
    return path


def run_experiments(
    experiments: Path, out: Path, quick: bool = False, only: list[str] | None = None
) -> dict:
    """Run the gallery of the ``experiments`` folder: ``_gallery.py``'s ``run_gallery``."""
    gallery = _folder(experiments, "run", "--experiments") / "_gallery.py"
    if not gallery.is_file():
        raise ValueError(f"no {gallery} (the gallery runner of the experiments)")
    return load_module(gallery, "netmag_experiments").run_gallery(Path(out), quick=quick, only=only)


def run_benchmarks(
    out: Path | None,
    quick: bool = False,
    only: list[str] | None = None,
    benchmarks: Path = Path("benchmarks"),
) -> dict:
    """Run ``<benchmarks>/bench_*.py`` (each prints its own table) and collect their results.

    Args:
        out: folder for ``benchmarks.json`` (None: not written).
        quick: small sizes. only: benchmark names (``bench_<name>.py``), None for all.
        benchmarks: the repository's benchmarks folder.
    """
    folder = _folder(benchmarks, "bench", "--benchmarks")
    available = {p.stem.removeprefix("bench_"): p for p in sorted(folder.glob("bench_*.py"))}
    unknown = sorted(set(only or ()) - set(available))
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; available: {sorted(available)}")
    results = {}
    for name, path in available.items():
        if only and name not in only:
            continue
        print(f"== benchmark {name} ==", flush=True)
        results[name] = load_module(path, "netmag_benchmarks").main(quick=quick)
    if out is not None:
        write_json(Path(out) / "benchmarks.json", results)
    return results


def _simulate_phantom(path: Path, phantom: str, n: int, n_sub):
    """The phantom for ``netmag simulate``: the file's FOV (x, and z as slice thickness) and
    ``n_sub`` isochromats per pixel (None: as many as make the file's spoiling exact,
    ``mri.spoiling_isochromats``, at most 128)."""
    from . import mri

    pf = mri.parse_pulseq(path)  # a malformed file: ValueError naming its line
    seq = mri.pulseq_to_sequence(pf)
    fov = pf.definitions.get("FOV")
    fov = [fov] if isinstance(fov, (int, float)) else fov
    options = {}
    if isinstance(fov, list) and fov:
        options["fov"] = float(fov[0])
        if len(fov) >= 3 and float(fov[2]) > 0:
            options["slice_thickness"] = float(fov[2])
    if n_sub is None:
        need = mri.spoiling_isochromats(seq, options.get("slice_thickness", 5e-3))[0]
        n_sub = min(need, 128)
        if need > n_sub:
            print(f"netmag simulate: exact spoiling needs {need} isochromats per pixel; using 128")
    if n_sub < 1:
        raise ValueError("--n-sub must be >= 1")
    make = {"shepp_logan": mri.shepp_logan, "cylinder": mri.cylinder}[phantom]
    return make(n=n, n_sub=n_sub, **options)


def simulate_file(
    path: Path,
    phantom: str = "shepp_logan",
    n: int = 32,
    out: Path = Path("results/simulate"),
    n_sub: int | None = None,
    mrd: Path | None = None,
) -> dict:
    """Simulate a Pulseq ``.seq`` file on a numerical phantom (the file's FOV, ``n_sub``
    isochromats per pixel, see ``_simulate_phantom``); write signal, k-space and image as
    ``.npy``, the figures (sequence diagram, k-space, signal, image) as PNG, a summary JSON,
    and the raw data as ISMRMRD when ``mrd`` is a path."""
    import numpy as np

    from . import mri
    from .mri._plot import plot_simulation

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file {path}")
    ph = _simulate_phantom(path, phantom, n, n_sub)
    res = mri.simulate_seq(path, ph)  # a malformed file: ValueError naming its line
    out = Path(out)
    signal = np.asarray(res.signal) if res.signal is not None else np.zeros(0, complex)
    with run_outputs(out / "simulate.json") as summary:  # written last (see main)
        save_npy(out / "signal.npy", signal)
        for name in ("kspace", "image"):
            if getattr(res, name) is not None:
                save_npy(out / f"{name}.npy", getattr(res, name))
        figures = plot_simulation(res, out, path.name)
        summary.update(_simulate_summary(path, phantom, n, ph, res, signal, figures))
        if mrd is not None and res.signal is not None:
            summary["mrd"] = str(mri.write_mrd(res, mrd, phantom=ph))
    print(json.dumps(summary, indent=2))
    return summary


def _simulate_summary(path, phantom, n, ph, res, signal, figures) -> dict:
    """The numbers of one ``netmag simulate`` run for ``simulate.json``."""
    import numpy as np

    return {
        "file": str(path),
        "phantom": phantom,
        "n": n,
        "n_sub": ph.n_sub,
        "fov_m": float(ph.fov),
        "n_adc": int(signal.shape[-1]),
        "max_abs_signal": float(np.max(np.abs(signal))) if signal.size else 0.0,
        "image": res.image is not None,
        "recon": res.recon,
        "figures": sorted(str(p.name) for p in figures.values()),
    }


def _design_seq(res, path: Path, kind: str) -> dict:
    """``netmag design --seq``: the pulse as a Pulseq file (``mri.write_pulseq``); returns
    the summary entries (file, RF resampling error)."""
    from .mri import write_pulseq

    export = write_pulseq(res, path, name=f"netmag design {kind}")
    print(
        f"netmag design: wrote {export.path} (RF on the 1 us raster: relative L2 error "
        f"{export.rf_error:.2e})"
    )
    return {"seq": str(export.path), "seq_rf_resampling_error": export.rf_error}


def design_pulse(args) -> dict:
    """Run ``optimize_pulse`` for the ``netmag design`` options; write waveform and plot."""
    import math

    import numpy as np

    from .constants import GAMMA_1H_HZ
    from .mri import design

    flip = None if args.flip is None else math.radians(args.flip)
    b0 = np.linspace(-args.b0_range, args.b0_range, 5) if args.b0_range > 0 else (0.0,)
    b1 = np.linspace(1 - args.b1_range, 1 + args.b1_range, 5) if args.b1_range > 0 else (1.0,)
    if args.thickness is not None:
        target = design.slice_target(
            args.kind, args.thickness, flip_angle=flip, off_resonance=b0, b1_scale=b1
        )
        # slice-select gradient so that the pulse bandwidth tbw / T covers the slice
        gradient = args.tbw / (args.duration * GAMMA_1H_HZ * args.thickness)
    else:
        target = design.uniform_target(args.kind, flip_angle=flip, off_resonance=b0, b1_scale=b1)
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
    out = Path(args.out)
    shape = res.pulseq_shape()
    arrays = dict(rf=np.asarray(res.rf), gradient=np.asarray(res.gradient), dt=res.dt)
    arrays.update(magnitude=shape["magnitude"], phase=shape["phase"])
    with run_outputs(out / "design.json") as summary:  # written last (see main)
        save_npz(out / "pulse.npz", **arrays)
        design.plot_design(res, out / "pulse.png")
        summary.update(_design_summary(args, res, shape))
        if getattr(args, "seq", None) is not None:
            summary.update(_design_seq(res, args.seq, args.kind))
    print(json.dumps(summary, indent=2))
    return summary


def _design_summary(args, res, shape) -> dict:
    """The numbers of a designed pulse for ``design.json``."""
    return {
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


def _add_repository_command(sub, name: str, folder: str, what: str, about: str, out) -> None:
    """``netmag run`` / ``netmag bench``: run the scripts of a clone's ``folder``/ (option
    ``--<folder> DIR``, default ``./<folder>``); ``out`` = (default, help) of ``--out``."""
    c = sub.add_parser(
        name,
        help=f"{about} (needs a clone of the repository)",
        description=f"{about}. Needs the repository's {folder}/ folder: run from the "
        f"clone's root or pass --{folder} DIR.",
    )
    c.add_argument(
        f"--{folder}",
        type=Path,
        default=Path(folder),
        metavar="DIR",
        help=f"the repository's {folder} folder (default: ./{folder})",
    )
    c.add_argument("--out", type=Path, default=out[0], metavar="OUT", help=out[1])
    c.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    c.add_argument("--only", nargs="+", metavar="NAME", help=f"run only these {what}")


def _add_fit(sub) -> None:
    f = sub.add_parser(
        "fit",
        help="fit a model to your data files (a workflow of netmag_jax.fit.workflows)",
        description="Run a fitting workflow; the options after WORKFLOW go to it "
        "(netmag fit WORKFLOW --help).",
        epilog="workflows:\n" + workflows.describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument(
        "workflow", metavar="WORKFLOW", help=f"one of {', '.join(sorted(workflows.WORKFLOWS))}"
    )
    f.add_argument("args", nargs=argparse.REMAINDER, help="options for the workflow")


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
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_repository_command(
        sub,
        "run",
        "experiments",
        "experiments",
        "run the experiment gallery and write its report OUT/index.html",
        (Path("results"), "output folder (default: ./results)"),
    )
    _add_fit(sub)

    s = sub.add_parser("simulate", help="simulate a Pulseq .seq file on a phantom")
    s.add_argument("seq", type=Path, help="Pulseq file (v1.4 / v1.5)")
    s.add_argument("--phantom", choices=("shepp_logan", "cylinder"), default="shepp_logan")
    s.add_argument("--n", type=int, default=32, help="phantom matrix size (n x n)")
    s.add_argument(
        "--n-sub",
        type=int,
        default=None,
        help="isochromats per pixel, spread over the slice (default: as many as make the "
        "file's gradient spoiling exact, at most 128)",
    )
    s.add_argument("--mrd", type=Path, default=None, help="also write the raw data as ISMRMRD")
    s.add_argument("--out", type=Path, default=Path("results/simulate"), help="output folder")
    s.add_argument("--overwrite", action="store_true", help="replace existing output files")

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
    d.add_argument("--overwrite", action="store_true", help="replace existing output files")
    d.add_argument(
        "--seq",
        type=Path,
        default=None,
        help="also write the pulse (with its rewinder and one ADC sample) as a Pulseq .seq",
    )

    _add_repository_command(
        sub,
        "bench",
        "benchmarks",
        "benchmarks",
        "run the benchmarks bench_<name>.py against their peers",
        (None, "write benchmarks.json into this folder"),
    )
    return p


def select_device(device: str | None) -> None:
    """Make JAX run on ``device`` ("cpu", "gpu" or None for JAX's choice).

    Raises:
        SystemExit: "gpu" where JAX finds no usable GPU, with the line that says how to fix it.
    """
    if device is None:
        return
    if device == "cpu":
        jax.config.update("jax_platforms", "cpu")
        return
    jax.config.update("jax_platforms", "cuda")
    try:  # JAX raises RuntimeError or a bare AssertionError when CUDA cannot start
        ok = jax.default_backend() == "gpu"
    except Exception:  # noqa: BLE001 (any failure to start the backend means no GPU)
        ok = False
    if not ok:
        raise SystemExit(
            "netmag: --device gpu: no usable NVIDIA GPU found; install JAX's CUDA build "
            "(pip install 'netmag_jax[cuda12]') on a machine with an NVIDIA driver, "
            "or run with --device cpu"
        )


def _dispatch(args) -> int:
    """Run the subcommand of the parsed ``args``; its exit status."""
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    if args.command in ("simulate", "design"):  # existing outputs, unwritable --out: refused
        extra = getattr(args, "mrd" if args.command == "simulate" else "seq")  # before the work
        others = () if extra is None else (extra,)
        prepare_outputs(args.out, OUTPUTS[args.command], args.overwrite, others)
    if args.command == "run":
        run_experiments(args.experiments, args.out, quick=args.quick, only=args.only)
    elif args.command == "fit":
        if args.workflow not in workflows.WORKFLOWS:
            raise ValueError(
                f"unknown workflow {args.workflow!r}; "
                f"available: {', '.join(sorted(workflows.WORKFLOWS))}"
            )
        if workflows.wants_float64(args.workflow, args.args):
            jax.config.update("jax_enable_x64", True)  # the command line's choice
        return workflows.run_workflow(args.workflow, args.args, catch=False)
    elif args.command == "simulate":
        if args.n < 4:
            raise ValueError("--n must be >= 4")
        simulate_file(args.seq, args.phantom, args.n, args.out, args.n_sub, args.mrd)
    elif args.command == "design":
        for name in ("duration", "b1_max"):
            if not getattr(args, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be > 0")
        if args.samples < 2:
            raise ValueError("--samples must be >= 2")
        design_pulse(args)
    elif args.command == "bench":
        run_benchmarks(args.out, quick=args.quick, only=args.only, benchmarks=args.benchmarks)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``netmag ARGV`` (default ``sys.argv[1:]``); returns the exit status.

    A user-input error (``USER_ERRORS`` not raised inside JAX itself, also from a ``fit``
    workflow) prints one line ``netmag <command>: <message>`` on stderr and returns 1; with
    ``--debug`` it propagates with its traceback.
    """
    args = build_parser().parse_args(argv)
    select_device(args.device)
    try:
        return _dispatch(args)
    except USER_ERRORS as err:
        if args.debug or not is_user_error(err):
            raise
        name = args.command
        if name == "fit" and args.workflow in workflows.WORKFLOWS:
            name = f"fit {args.workflow}"
        print(f"netmag {name}: {one_line(err)} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
