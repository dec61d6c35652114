"""The installed package stands on its own: its commands work from any folder, without the clone.

The wheel is built from a copy of the sources (pyproject.toml, README.md, netmag_jax/) with
``pip wheel --no-deps --no-build-isolation`` and installed with ``pip install --no-deps
--target``; the commands then run from an empty temporary folder with only that target on
PYTHONPATH (the dependencies come from this interpreter's site-packages)."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]

# one process: the help of each command through cli.main (one jax import for all of them)
HELP_DRIVER = """
import contextlib, io, json
import netmag_jax.cli as cli
import netmag_jax.fit.workflows as wf
out = {"cli": cli.__file__, "data": str(wf.DATA), "help": {}}
for argv in (["fit", "--help"], ["simulate", "--help"], ["design", "--help"],
             ["run", "--help"], ["bench", "--help"]):
    buf = io.StringIO()
    code = None
    with contextlib.redirect_stdout(buf):
        try:
            cli.main(argv)
        except SystemExit as e:
            code = e.code
    out["help"][argv[0]] = [code, buf.getvalue()]
print(json.dumps(out))
"""


def _wheel_tools_missing():
    """Why this interpreter cannot build a wheel without the network (None when it can)."""
    if subprocess.run([*PIP, "--version"], capture_output=True).returncode != 0:
        return "pip is not available"
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed"
    import setuptools

    major, minor = (int(v) for v in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {setuptools.__version__} needs the 'wheel' package to build wheels"
    return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(target folder with the installed package, an empty working folder, environment)."""
    reason = _wheel_tools_missing()
    if reason:
        pytest.skip(f"cannot build the wheel offline: {reason}")
    tmp = tmp_path_factory.mktemp("installed")
    src, dist, target, elsewhere = (tmp / n for n in ("src", "dist", "target", "elsewhere"))
    src.mkdir()
    elsewhere.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "netmag_jax", src / "netmag_jax", ignore=ignore)
    build = [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src]
    r = subprocess.run(build, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = dist.glob("netmag_jax-*.whl")
    r = subprocess.run(
        [*PIP, "install", "--no-deps", "--no-index", "--target", target, wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(target)
    return target, elsewhere, env


def _run(args, installed, timeout=300):
    target, elsewhere, env = installed
    return subprocess.run(
        args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_help_of_each_command_from_the_installed_package(installed):
    """`python -m netmag_jax.cli fit relaxometry --help` and the help of fit, simulate,
    design, run and bench work from an empty folder, imported from the installed copy."""
    target = installed[0]
    r = _run([sys.executable, "-m", "netmag_jax.cli", "fit", "relaxometry", "--help"], installed)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "usage: netmag fit relaxometry" in r.stdout and "t2-epg" in r.stdout
    r = _run([sys.executable, "-c", HELP_DRIVER], installed)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(out["cli"]).resolve().is_relative_to(target.resolve())
    assert Path(out["data"]).resolve().is_relative_to(target.resolve())
    for cmd, (code, text) in out["help"].items():
        assert code == 0, (cmd, text)
        assert f"usage: netmag {cmd}" in text, cmd
    assert "relaxometry" in out["help"]["fit"][1] and "crystal_field" in out["help"]["fit"][1]
    assert "--experiments" in out["help"]["run"][1]
    assert "--benchmarks" in out["help"]["bench"][1]


def test_installed_console_script_reads_the_shipped_data(installed):
    """The `netmag` entry point runs `fit crystal_field units` on the CsErSe2 data shipped in
    the wheel: M/H of the MT file is in emu mol^-1 Oe^-1 (see its PROVENANCE.md)."""
    target, elsewhere, _ = installed
    shipped = target / "netmag_jax" / "fit" / "workflows" / "data" / "CsErSe2"
    assert {p.name for p in shipped.iterdir()} >= {
        "CsErSe2_MH.dat",
        "CsErSe2_MT.dat",
        "PROVENANCE.md",
    }
    r = _run([target / "bin" / "netmag", "fit", "crystal_field", "units", "--out", "o"], installed)
    assert r.returncode == 0, r.stderr[-3000:]
    units = json.loads((elsewhere / "o" / "mt_units.json").read_text())
    assert units["unit"] == "emu mol^-1 Oe^-1" and units["n_pairs"] >= 20


def test_run_outside_the_clone_is_one_line(installed):
    """`netmag run` needs the repository's experiments folder: outside a clone it says so in
    one line (exit status 1), no traceback."""
    r = _run([sys.executable, "-m", "netmag_jax.cli", "run", "--quick"], installed)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "netmag run: no folder experiments (run from a clone of the repository or pass "
        "--experiments DIR) (--debug shows the traceback)"
    ]
