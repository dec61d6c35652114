"""The experiment gallery: run the experiments of this folder and write the HTML report.

``netmag run`` loads this file by its path and calls ``run_gallery(out, quick=..., only=...)``.
The experiments are the modules ``<name>.py`` next to it whose names do not start with ``_``
(see ``_common.py`` for what each defines). For each one the gallery writes its figures and
``out/<name>/results.json``; at the end ``out/index.html`` (``_report.py``) shows every figure
and every check with its verdict, under a header with the run's metadata, and
``out/summary.json`` holds all results, the metadata and the tally of verdicts.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
# the siblings _common and _report, for this file and for the experiments, wherever this file
# was loaded from
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import load_module, use_float64  # noqa: E402
from _report import write_report  # noqa: E402


def available() -> dict[str, Path]:
    """The experiments next to this file, ``{name: path}`` in name order."""
    return {p.stem: p for p in sorted(HERE.glob("*.py")) if not p.name.startswith("_")}


def load_experiment(path: Path) -> ModuleType:
    """Import an experiment module (``experiments/<name>.py``) from its file."""
    mod = load_module(Path(path), "netmag_experiments")
    if not hasattr(mod, "run"):
        raise ValueError(f"experiment {Path(path).name} defines no run(out, quick)")
    return mod


def _select(only: list[str] | None) -> dict[str, Path]:
    """The experiments named in ``only`` (all if None); an unknown name ends the run."""
    experiments = available()
    if not only:
        return experiments
    unknown = sorted(set(only) - set(experiments))
    if unknown:
        raise SystemExit(
            f"netmag: unknown experiment(s) {unknown}; available: {sorted(experiments)}"
        )
    return {k: v for k, v in experiments.items() if k in only}


def _git(*args: str) -> str:
    """The output of ``git -C <this folder> ARGS`` (raises where git or the checkout fails)."""
    cmd = ["git", "-C", str(HERE), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=True).stdout


def _commit() -> str:
    """The git commit of this folder's checkout (``+ local changes`` if dirty), or why not."""
    try:
        sha = _git("rev-parse", "--short=12", "HEAD").strip()
        dirty = _git("status", "--porcelain", "--untracked-files=no").strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{sha} + local changes" if dirty else sha


def _cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_metadata(quick: bool) -> dict:
    """What the report header shows: version, commit, date, mode, precision, machine and
    devices."""
    import jax

    import netmag_jax

    devices = jax.devices()
    return {
        "version": f"netmag_jax {netmag_jax.__version__}, jax {jax.__version__}",
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": bool(quick),
        "precision": "float64" if jax.config.read("jax_enable_x64") else "float32",
        "machine": f"{_cpu_name()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        "devices": f"{len(devices)} x {devices[0].platform}: "
        + ", ".join(str(d) for d in devices[:8])
        + (" ..." if len(devices) > 8 else ""),
    }


def run_experiment(mod: ModuleType, name: str, out: Path, quick: bool) -> dict:
    """Run the experiment ``mod`` into ``out/name``; its results, with title and seconds."""
    t0 = time.perf_counter()
    res = dict(mod.run(out / name, quick=quick))
    res.setdefault("title", getattr(mod, "TITLE", name))
    res["seconds"] = round(time.perf_counter() - t0, 2)
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / "results.json").write_text(json.dumps(res, indent=2, default=float))
    return res


def run_gallery(out: Path, quick: bool = False, only: list[str] | None = None) -> dict:
    """Run the experiments (all, or those in ``only``), write results and the HTML report.

    Args:
        out: output folder (created); one subfolder per experiment, ``index.html`` on top.
        quick: small sizes, for a smoke run.
        only: names of the experiments to run (default: all).

    Returns:
        ``{name: results}`` with each experiment's summary, figures, numbers, title, seconds.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    selected = _select(only)
    use_float64()  # before any experiment computes: their tolerances assume float64
    results = {}
    t_all = time.perf_counter()
    for i, (name, path) in enumerate(selected.items(), 1):
        mod = load_experiment(path)
        print(f"[{i}/{len(selected)}] {name}: {getattr(mod, 'TITLE', name)} ...", flush=True)
        res = results[name] = run_experiment(mod, name, out, quick)
        n_figures = len(res.get("figures", []))
        print(f"      done in {res['seconds']:.1f} s ({n_figures} figures)", flush=True)
    report = write_report(out, results, run_metadata(quick))
    print(
        f"gallery: {len(results)} experiments in {time.perf_counter() - t_all:.0f} s; "
        f"report at {report}",
        flush=True,
    )
    return results
