"""The netmag command line: help for every subcommand, clear errors for wrong arguments."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netmag_jax import cli


def _netmag(*args):
    return subprocess.run(
        [sys.executable, "-m", "netmag_jax.cli", *args], capture_output=True, text=True, timeout=120
    )


def _error_line(argv, capsys, error=ValueError) -> str:
    """`netmag ARGV` ends with exit status 1 and one line on stderr (returned, without the
    `--debug` hint); `netmag --debug ARGV` raises ``error`` with its traceback instead."""
    capsys.readouterr()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].endswith(" (--debug shows the traceback)"), err
    with pytest.raises(error):
        cli.main(["--debug", *argv])
    return err[0].removesuffix(" (--debug shows the traceback)")


@pytest.mark.parametrize("sub", ["run", "fit", "simulate", "design", "bench"])
def test_help_for_each_subcommand(sub):
    r = _netmag(sub, "--help")
    assert r.returncode == 0
    assert "usage: netmag" in r.stdout


def test_top_level_help_lists_subcommands():
    r = _netmag("--help")
    assert r.returncode == 0
    for sub in ("run", "fit", "simulate", "design", "bench"):
        assert sub in r.stdout


def test_missing_subcommand_is_an_error():
    r = _netmag()
    assert r.returncode == 2
    assert "required" in r.stderr


def test_run_without_experiments_folder_is_one_line(tmp_path, monkeypatch, capsys):
    """Outside a clone (no ./experiments) `netmag run` names the --experiments option."""
    monkeypatch.chdir(tmp_path)
    assert _error_line(["run", "--quick", "--out", str(tmp_path / "o")], capsys) == (
        "netmag run: no folder experiments (run from a clone of the repository or pass "
        "--experiments DIR)"
    )


def test_run_without_gallery_runner_is_one_line(tmp_path, capsys):
    line = _error_line(["run", "--experiments", str(tmp_path), "--out", str(tmp_path)], capsys)
    assert line.startswith("netmag run: no ") and line.endswith(
        "_gallery.py (the gallery runner of the experiments)"
    )


def test_run_calls_the_gallery_of_the_experiments_folder(tmp_path):
    """`netmag run --experiments DIR` loads DIR/_gallery.py and calls its run_gallery(out,
    quick=..., only=...) with the command's options."""
    exp = tmp_path / "my_experiments"
    exp.mkdir()
    (exp / "_gallery.py").write_text(
        "import json\n"
        "def run_gallery(out, quick=False, only=None):\n"
        "    out.mkdir(parents=True)\n"
        "    (out / 'call.json').write_text(json.dumps([str(out), quick, only]))\n"
        "    return {}\n"
    )
    out = tmp_path / "results"
    argv = ["run", "--experiments", str(exp), "--quick", "--only", "a", "b", "--out", str(out)]
    assert cli.main(argv) == 0
    assert json.loads((out / "call.json").read_text()) == [str(out), True, ["a", "b"]]


def _bench_folder(tmp_path):
    folder = tmp_path / "my_benchmarks"
    folder.mkdir()
    for name, speedup in (("alpha", 2.0), ("beta", 3.0)):
        (folder / f"bench_{name}.py").write_text(
            f"def main(quick=False):\n    return {{'speedup': {speedup}, 'quick': quick}}\n"
        )
    (folder / "_helper.py").write_text("raise RuntimeError('not a benchmark')\n")
    return folder


def test_bench_runs_the_benchmarks_folder(tmp_path):
    """`netmag bench --benchmarks DIR --only NAME` runs DIR/bench_NAME.py's main(quick)
    and writes what each returns to benchmarks.json."""
    folder = _bench_folder(tmp_path)
    out = tmp_path / "o"
    cli.main(["bench", "--benchmarks", str(folder), "--quick", "--only", "beta", "--out", str(out)])
    assert json.loads((out / "benchmarks.json").read_text()) == {
        "beta": {"speedup": 3.0, "quick": True}
    }
    res = cli.run_benchmarks(None, benchmarks=folder)
    assert res == {
        "alpha": {"speedup": 2.0, "quick": False},
        "beta": {"speedup": 3.0, "quick": False},
    }


def test_bench_mistakes_are_one_line(tmp_path, monkeypatch, capsys):
    folder = _bench_folder(tmp_path)
    line = _error_line(["bench", "--benchmarks", str(folder), "--only", "gamma"], capsys)
    assert line.startswith("netmag bench: unknown benchmark(s) ['gamma']")
    monkeypatch.chdir(tmp_path)
    line = _error_line(["bench"], capsys)
    assert line.startswith("netmag bench: no folder benchmarks ") and "--benchmarks DIR" in line


def test_unknown_workflow_is_a_clear_error(capsys):
    assert _error_line(["fit", "no_such_workflow"], capsys) == (
        "netmag fit: unknown workflow 'no_such_workflow'; "
        "available: crystal_field, magnetism, relaxometry"
    )


def test_fit_dispatches_to_the_package_workflow(tmp_path, monkeypatch):
    """`netmag fit crystal_field units` runs the packaged workflow on the shipped data from
    any folder: the MT file's M/H is in emu mol^-1 Oe^-1 (N_A mu_B = 5585 emu/mol)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["fit", "crystal_field", "units", "--out", "u"]) == 0
    units = json.loads((tmp_path / "u" / "mt_units.json").read_text())
    assert units["unit"] == "emu mol^-1 Oe^-1"
    assert abs(units["ratio_median"] / 5584.94 - 1) < 0.015


def test_fit_user_mistake_is_one_line_without_traceback(tmp_path):
    """A missing data file ends the command with one line naming the workflow and the file."""
    missing = tmp_path / "missing.nii.gz"
    r = _netmag("fit", "relaxometry", "t2", "--data", str(missing), "--te", "0.01")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("netmag fit relaxometry: cannot read NIfTI file")
    assert str(missing) in lines[0]


def test_bad_device_choice():
    r = _netmag("--device", "tpu9", "run")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr


DATA = Path(__file__).parent / "mri" / "data"


def test_simulate_cartesian_seq_gives_an_image(tmp_path):
    """An 8x8 Cartesian GRE .seq file on a phantom: 64 ADC samples and a reconstructed image."""
    summary = cli.simulate_file(DATA / "gre_8x8_v14.seq", "cylinder", 16, tmp_path)
    assert summary["n_adc"] == 64
    assert summary["image"] is True
    img = np.load(tmp_path / "image.npy")
    assert img.shape[-2:] == (8, 8)
    # the cylinder sits in the middle of the FOV: the centre of the image is brighter than a corner
    mag = np.abs(img.reshape(8, 8))
    assert mag[3:5, 3:5].mean() > 3 * mag[0, 0]
    assert (tmp_path / "image.png").stat().st_size > 0


def test_simulate_uses_the_file_fov_isochromats_and_writes_figures(tmp_path, capsys):
    """`netmag simulate` builds the phantom on the file's FOV (0.2 m, slice 5 mm), with the
    isochromats the file's spoiling needs (mri.spoiling_isochromats) unless --n-sub is
    given, and writes the sequence diagram, k-space, signal and image figures."""
    from netmag_jax import mri

    seq = mri.read_pulseq(DATA / "gre_8x8_v14.seq")
    need = mri.spoiling_isochromats(seq, 0.005)[0]
    summary = cli.simulate_file(DATA / "gre_8x8_v14.seq", "shepp_logan", 8, tmp_path)
    assert summary["fov_m"] == 0.2 and summary["n_sub"] == min(need, 128)
    assert summary["recon"].startswith("Cartesian FFT")
    for name in ("sequence", "kspace", "signal", "image"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    cli.main(
        [
            "simulate",
            str(DATA / "gre_8x8_v14.seq"),
            "--n",
            "8",
            "--n-sub",
            "3",
            "--out",
            str(tmp_path / "b"),
        ]
    )
    assert json.loads((tmp_path / "b" / "simulate.json").read_text())["n_sub"] == 3
    seq = str(DATA / "gre_8x8_v14.seq")
    argv = ["simulate", seq, "--n-sub", "0", "--out", str(tmp_path / "c")]
    assert _error_line(argv, capsys) == "netmag simulate: --n-sub must be >= 1"


def test_simulate_missing_file_is_a_clear_error(tmp_path, capsys):
    line = _error_line(["simulate", str(tmp_path / "nope.seq"), "--out", str(tmp_path)], capsys)
    assert line == f"netmag simulate: no such file {tmp_path / 'nope.seq'}"


def test_simulate_malformed_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.seq"
    bad.write_text("[VERSION]\nmajor 1\nminor 4\nrevision 1\n\n[BLOCKS]\n1 0 x 0 0 0 0 0\n")
    line = _error_line(["simulate", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert line.startswith("netmag simulate: ") and "bad.seq:7: not a number" in line
    assert not (tmp_path / "o" / "simulate.json").exists()  # nothing written


def test_design_infeasible_is_a_clear_error(tmp_path, capsys):
    """gamma B1max T = 2.675e8 * 1e-6 * 1e-3 rad = 15.3 deg < 90 deg: infeasible."""
    argv = ["design", "excitation", "--duration", "1e-3", "--b1-max", "1e-6"]
    line = _error_line([*argv, "--out", str(tmp_path)], capsys)
    assert line.startswith("netmag design: ") and "infeasible" in line


def test_design_nonselective_inversion_writes_pulse(tmp_path):
    cli.main(
        [
            "design",
            "inversion",
            "--duration",
            "4e-3",
            "--samples",
            "64",
            "--b1-max",
            "15e-6",
            "--iterations",
            "20",
            "--out",
            str(tmp_path),
            "--seq",
            str(tmp_path / "inv.seq"),
        ]
    )
    d = np.load(tmp_path / "pulse.npz")
    assert d["rf"].shape == (64,)
    assert np.max(np.abs(d["rf"])) <= 15e-6 * (1 + 1e-9)
    summary = json.loads((tmp_path / "design.json").read_text())
    # a 4 ms pulse of <= 15 uT can reach gamma B1 T = 925 deg, so a good inversion is found
    assert summary["target_error"] < 0.05
    # --seq: the pulse on the 1 us RF raster (64 samples of 62.5 us: exact up to round-off);
    # the file's RF area (flip) is the design's
    assert summary["seq_rf_resampling_error"] < 1e-9
    from netmag_jax import mri

    back = mri.read_pulseq(tmp_path / "inv.seq")
    assert abs(complex(np.sum(np.asarray(back.rf) * np.asarray(back.dt)))) == pytest.approx(
        abs(complex(np.sum(d["rf"]))) * float(d["dt"]), rel=1e-9
    )


def test_design_rejects_nonpositive_duration(tmp_path, capsys):
    argv = ["design", "inversion", "--duration", "0", "--out", str(tmp_path)]
    assert _error_line(argv, capsys) == "netmag design: --duration must be > 0"


# --- global options and the central handler of user-input errors (main) --------------------


def test_device_gpu_without_a_gpu_is_one_line():
    """`netmag --device gpu` on a CPU-only machine: one line naming the fix, exit status 1
    (JAX alone raises a bare AssertionError). Where a GPU exists, the same command runs."""
    import jax

    r = _netmag("--device", "gpu", "fit", "crystal_field", "--help")
    if any(d.platform == "gpu" for d in jax.devices()):  # a GPU machine: the option works
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines == [
        "netmag: --device gpu: no usable NVIDIA GPU found; install JAX's CUDA build "
        "(pip install 'netmag_jax[cuda12]') on a machine with an NVIDIA driver, or run with "
        "--device cpu"
    ]


def _blocked(tmp_path) -> Path:
    """An output folder that cannot be made: its parent is a regular file."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    return blocker / "out"


def _argv_with_unwritable_out(command, tmp_path):
    out = str(_blocked(tmp_path))
    if command == "run":
        exp = tmp_path / "exp"
        exp.mkdir()
        (exp / "_gallery.py").write_text(
            "def run_gallery(out, quick=False, only=None):\n    out.mkdir(parents=True)\n"
        )
        return ["run", "--experiments", str(exp), "--out", out]
    if command == "fit":
        return ["fit", "crystal_field", "units", "--out", out]
    if command == "simulate":
        return ["simulate", str(DATA / "gre_8x8_v14.seq"), "--n", "4", "--out", out]
    if command == "design":
        return ["design", "inversion", "--samples", "8", "--iterations", "1", "--out", out]
    return ["bench", "--benchmarks", str(_bench_folder(tmp_path)), "--only", "alpha", "--out", out]


@pytest.mark.parametrize("command", ["run", "fit", "simulate", "design", "bench"])
def test_unwritable_out_is_one_line_in_every_command(command, tmp_path, capsys):
    """An --out under a regular file (OSError) ends every command with one line on stderr,
    naming the command and the path, exit status 1; --debug raises with the traceback."""
    argv = _argv_with_unwritable_out(command, tmp_path)
    line = _error_line(argv, capsys, OSError)
    name = "fit crystal_field" if command == "fit" else command
    assert line.startswith(f"netmag {name}: cannot access ")
    assert "a_file" in line and "check the path" in line


def test_value_error_is_its_first_line_and_debug_shows_the_traceback(tmp_path):
    """A ValueError (here from a gallery, as a bad input value raises it) prints its first
    line only; `--debug` prints the traceback (in a real process, on stderr)."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "_gallery.py").write_text(
        "def run_gallery(out, quick=False, only=None):\n"
        "    raise ValueError('T must be > 0, got -1; pass a temperature in kelvin\\n"
        "second line of detail')\n"
    )
    argv = ["run", "--experiments", str(exp), "--out", str(tmp_path / "o")]
    r = _netmag(*argv)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "netmag run: T must be > 0, got -1; pass a temperature in kelvin "
        "(--debug shows the traceback)"
    )
    r = _netmag("--debug", *argv)
    assert r.returncode == 1
    assert "Traceback (most recent call last)" in r.stderr and "second line of detail" in r.stderr


def test_equinox_value_error_is_one_line(tmp_path, capsys):
    """A value check inside jit (eqx.error_if, multi-line message) becomes its first line."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "_gallery.py").write_text(
        "import equinox as eqx, jax.numpy as jnp\n"
        "def run_gallery(out, quick=False, only=None):\n"
        "    eqx.error_if(jnp.asarray(-1.0), jnp.asarray(True), 'T1 must be > 0')\n"
    )
    assert cli.main(["run", "--experiments", str(exp), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("netmag run: ") and "T1 must be > 0" in err[0]


# --- the fit workflows' data errors through `netmag fit` (one line; --debug: the traceback) -----

_QD_CSV = "T (K),H (Oe),M (emu)\n"
_MUB_CSV = "T (K),H (T),M (muB),dM (muB)\n"

MAGNETOMETRY_CASES = {
    "missing file": (None, [], "cannot read "),
    "empty file": ("", [], "no header line of column names"),
    "folder": ("<folder>", [], "Is a directory"),
    "no T column": ("a,b,c\n1,2,3\n4,5,6\n", [], "no T column found"),
    "not a number": (_QD_CSV + "2,1000,abc\n2,2000,1e-3\n", [], "cannot read 'abc' as a number"),
    "NaN moment": (_MUB_CSV + "2,1,nan,0.1\n" * 4, [], "not a finite number"),
    "inf moment": (_MUB_CSV + "2,1,inf,0.1\n" * 4, [], "not a finite number"),
    "T <= 0": (_MUB_CSV + "-2,1,1,0.1\n" * 4, [], "temperature -2.0 K <= 0"),
    "zero error": (_MUB_CSV + "2,1,1,0\n" * 4, [], "error 0.0 is not > 0"),
    "empty cell": (_MUB_CSV + "2,1\n2,2,1,0.1\n", [], "is empty"),
    "emu without mass": (_QD_CSV + "2,1000,1e-3\n" * 4, [], "need the sample mass"),
    "mixed units": (_QD_CSV + "2,1000,1e-3\n" * 4, ["--field-unit", "T"], "mixed units"),
    "QD without [Data]": ("[Header]\nINFO,x\n", [], "no [Data] section"),
    "pairs label": ("foo\n1\t2\n3\t4\n", ["--format", "pairs"], "names no temperature"),
    "one point": (_MUB_CSV + "2,1,1,0.1\n", [], "1 points in the chosen T / field window"),
    "bad --J": (_MUB_CSV + "2,1,1,0.1\n" * 4, ["--J", "0.3"], "--J must be a positive"),
    "negative --sigma": (_MUB_CSV + "2,1,1,0.1\n" * 4, ["--sigma", "-1"], "--sigma must be"),
    "moment 1e300": (_MUB_CSV + "2,1,1e300,0.1\n" * 4, [], "beyond the physical range"),
    "one B / T": (_MUB_CSV + "2,1,1,0.1\n" * 4, [], "1 distinct values of mu0 H / T"),
}


@pytest.mark.parametrize("case", sorted(MAGNETOMETRY_CASES))
def test_fit_magnetism_data_errors_are_one_line(case, tmp_path, capsys):
    """Every malformed magnetometry input: `netmag fit magnetism` prints one line naming the
    problem (exit status 1) and writes nothing; `netmag --debug` raises it instead."""
    text, extra, expect = MAGNETOMETRY_CASES[case]
    data = tmp_path / "m.csv"
    if text == "<folder>":
        data = tmp_path
    elif text is not None:
        data.write_text(text)
    out = tmp_path / "out"
    argv = ["fit", "magnetism", "brillouin", "--data", str(data), *extra, "--out", str(out)]
    line = _error_line(argv, capsys, (ValueError, OSError))
    assert line.startswith("netmag fit magnetism: ") and expect in line, line
    assert not out.exists()


TE = (0.01, 0.02, 0.03, 0.04)
NIFTI_CASES = {
    "missing file": (None, [], "cannot read NIfTI file"),
    "not NIfTI": ("text", [], "cannot read NIfTI file"),
    "no match": ("glob", [], "matches no file"),
    "TE count": ("good", ["--te", "0.01", "0.02"], "2 echo times given, the data have 4"),
    "TE in ms": ("good", ["--te", "10", "20", "30", "40"], "look like milliseconds"),
    "TE < 0": ("good", ["--te", "-0.01", "0.02", "0.03", "0.04"], "must be finite and > 0"),
    "TE NaN": ("good", ["--te", "nan", "0.02", "0.03", "0.04"], "must be finite and > 0"),
    "no TE": ("good", ["--te"], "expected at least one argument"),
    "all zero": ("zeros", [], "all zero"),
    "all NaN": ("nan", [], "no voxel has finite data"),
    "all inf": ("inf", [], "no voxel has finite data"),
    "one echo": ("one", ["--te", "0.01"], "1 volume(s) per voxel cannot determine the 2"),
    "empty mask": ("good", ["--mask", "<zeros3>"], "selects no voxel"),
    "mask shape": ("good", ["--mask", "<ones4>"], "does not match the image"),
    "mask not NIfTI": ("good", ["--mask", "<text>"], "cannot read NIfTI file"),
    "rician without sigma": ("good", ["--noise", "rician"], "--noise rician needs --sigma"),
    "sigma 0": ("good", ["--sigma", "0"], "--sigma must be finite and > 0"),
    "prefix escapes": ("good", ["--prefix", "../x"], "must be a plain file-name prefix"),
    "sidecar JSON": ("sidecar", [], "line 1: Expecting value"),
}


@pytest.mark.parametrize("case", sorted(NIFTI_CASES))
def test_fit_relaxometry_nifti_errors_are_one_line(case, tmp_path, capsys):
    """Every bad NIfTI input or protocol: `netmag fit relaxometry` prints one line naming the
    problem (exit status 1, before any output is written); `--debug` raises it instead."""
    nib = pytest.importorskip("nibabel")
    kind, extra, expect = NIFTI_CASES[case]
    decay = 1000 * np.exp(-np.asarray(TE) / 0.08) * np.ones((3, 2, 1, 1))
    arrays = {"good": decay, "zeros": 0 * decay, "nan": np.nan * decay, "inf": np.inf * decay}
    arrays.update(one=decay[..., :1], sidecar=decay, zeros3=np.zeros((3, 2, 1)))
    arrays["ones4"] = np.ones((4, 2, 1))
    for name, a in arrays.items():
        nib.save(nib.Nifti1Image(a.astype(np.float32), np.eye(4)), str(tmp_path / f"{name}.nii"))
    (tmp_path / "text.nii").write_text("not a NIfTI file")
    (tmp_path / "sidecar.json").write_text('{"EchoTime": [0.01,')
    data = {None: "missing.nii", "glob": "none_*.nii"}.get(kind, f"{kind}.nii")
    extra = [str(tmp_path / f"{e[1:-1]}.nii") if e.startswith("<") else e for e in extra]
    if kind not in ("sidecar", "one") and "--te" not in extra:
        extra = ["--te", *map(str, TE), *extra]
    out = tmp_path / "out"
    argv = ["fit", "relaxometry", "t2", "--data", str(tmp_path / data), "--threshold", "0"]
    argv += [*extra, "--out", str(out)]
    if case == "no TE":  # argparse's own usage error: status 2, as for every option
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2 and expect in capsys.readouterr().err
        return
    line = _error_line(argv, capsys, (ValueError, OSError))
    assert line.startswith("netmag fit relaxometry: ") and expect in line, line
    assert not out.exists() or not any(out.iterdir())


# --- a run's outputs are complete or marked failed -----------------------------------------------


def test_simulate_failing_midway_marks_its_summary_failed(tmp_path, capsys):
    """`netmag simulate` whose third output cannot be written (image.npy is a folder): one
    line, exit status 1, and simulate.json says "failed" with the error; the outputs written
    before it are complete files. A rerun that can write replaces the mark with "complete"."""
    out = tmp_path / "o"
    (out / "image.npy").mkdir(parents=True)
    argv = ["simulate", str(DATA / "gre_8x8_v14.seq"), "--n", "8", "--n-sub", "1", "--overwrite"]
    line = _error_line([*argv, "--out", str(out)], capsys, OSError)
    assert line.startswith("netmag simulate: cannot access ") and "image.npy" in line
    s = json.loads((out / "simulate.json").read_text())
    assert s["run_status"] == "failed" and "image.npy" in s["error"]
    assert np.load(out / "signal.npy").shape[-1] == 64  # 8 x 8 ADC samples, complete
    (out / "image.npy").rmdir()
    assert cli.main([*argv, "--out", str(out)]) == 0
    s = json.loads((out / "simulate.json").read_text())
    assert s["run_status"] == "complete" and s["n_adc"] == 64
    assert not [p for p in out.iterdir() if p.name.endswith(".netmag-tmp")]


def test_relaxometry_failing_midway_marks_its_summary_failed(tmp_path, capsys):
    """`netmag fit relaxometry --overwrite` over a previous complete run, with one map path
    blocked (a folder): the summary of the earlier run is replaced by "failed" (never left
    saying "complete" next to a half-new set of maps)."""
    nib = pytest.importorskip("nibabel")
    decay = 1000 * np.exp(-np.asarray(TE) / 0.08) * np.ones((3, 2, 1, 1))
    nib.save(nib.Nifti1Image(decay.astype(np.float32), np.eye(4)), str(tmp_path / "d.nii"))
    out = tmp_path / "maps"
    argv = ["fit", "relaxometry", "t2", "--data", str(tmp_path / "d.nii"), "--te"]
    argv += [*map(str, TE), "--threshold", "0", "--no-figure", "--out", str(out)]
    assert cli.main(argv) == 0
    summary = out / "sub-01_fit.json"
    assert json.loads(summary.read_text())["run_status"] == "complete"
    (out / "sub-01_desc-converged_mask.nii.gz").unlink()
    (out / "sub-01_desc-converged_mask.nii.gz").mkdir()
    line = _error_line([*argv, "--overwrite"], capsys, OSError)
    assert line.startswith("netmag fit relaxometry: cannot access ") and "mask" in line
    s = json.loads(summary.read_text())
    assert s["run_status"] == "failed" and "complete" not in s and "mask" in s["error"]


# --- existing outputs are not overwritten without --overwrite ------------------------------------


def _brillouin_csv(path: Path) -> Path:
    """M(H) of free J = 7/2, g = 2 moments at 2 K: M = g J B_J(g mu_B J B / k_B T) [mu_B]
    (the Brillouin function; mu_B / k_B = 0.6717138 K/T, CODATA 2018)."""
    J, g, T = 3.5, 2.0, 2.0
    B = np.linspace(0.2, 5.0, 8)
    x = g * 0.6717138 * J * B / T
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    M = g * J * (a / np.tanh(a * x) - b / np.tanh(b * x))
    rows = [f"{T},{h},{m},{1e-3}" for h, m in zip(B, M, strict=True)]
    path.write_text("T (K),H (T),M (muB),dM (muB)\n" + "\n".join(rows) + "\n")
    return path


def _rerun_argv(command, tmp_path) -> tuple[list[str], str]:
    """(argv of a small run writing into tmp_path/out, the output its refusal names)."""
    out = str(tmp_path / "out")
    if command == "simulate":
        seq = str(DATA / "gre_8x8_v14.seq")
        return ["simulate", seq, "--n", "4", "--n-sub", "1", "--out", out], "simulate.json"
    if command == "design":
        argv = ["design", "inversion", "--samples", "8", "--iterations", "1", "--out", out]
        return argv, "design.json"
    if command == "fit magnetism":
        data = str(_brillouin_csv(tmp_path / "mh.csv"))
        argv = ["fit", "magnetism", "brillouin", "--data", data, "--J", "3.5", "--out", out]
        return argv, "brillouin_fit.json"
    if command == "fit crystal_field":
        return ["fit", "crystal_field", "units", "--out", out], "mt_units.json"
    pytest.importorskip("nibabel")
    return ["fit", "relaxometry", "synth", "--kind", "t2", "--out", out], "t2.nii.gz"


@pytest.mark.parametrize(
    "command", ["simulate", "design", "fit magnetism", "fit crystal_field", "fit relaxometry"]
)
def test_rerun_without_overwrite_is_refused_and_keeps_the_files(command, tmp_path, capsys):
    """A second run into the same --out: without --overwrite one line naming an existing
    output and the option, exit status 1, checked before any computation (no "running" mark),
    the first run's files byte for byte; with --overwrite it runs and replaces them."""
    argv, first = _rerun_argv(command, tmp_path)
    out = tmp_path / "out"
    assert cli.main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    if command in cli.OUTPUTS:  # the list checked before a run names every file it writes
        assert set(before) <= set(cli.OUTPUTS[command]), set(before) - set(cli.OUTPUTS[command])
    line = _error_line(argv, capsys)
    assert line.startswith(f"netmag {command}: {out}{Path('/')}") and "--overwrite" in line
    assert line.endswith(" exists; pass --overwrite to replace") and first in line, line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert cli.main([*argv, "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(before)


def test_outputs_outside_out_are_checked_too(tmp_path):
    """`--mrd` / `--seq` files (given as paths, outside --out) are refused like the others;
    an --out that is a file is one clear line."""
    from netmag_jax._io import prepare_outputs

    seq = tmp_path / "pulse.seq"
    seq.write_text("old")
    with pytest.raises(ValueError, match=r"pulse\.seq exists; pass --overwrite to replace"):
        prepare_outputs(tmp_path / "o", ["design.json"], False, [seq])
    assert prepare_outputs(tmp_path / "o", ["design.json"], True, [seq]) == tmp_path / "o"
    assert seq.read_text() == "old"
    with pytest.raises(ValueError, match="is not a folder"):
        prepare_outputs(seq, ["design.json"], True)
