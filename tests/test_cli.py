"""The netmag command line: help for every subcommand, clear errors for wrong arguments."""

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


def test_unknown_experiment_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="unknown experiment"):
        cli.main(["run", "--quick", "--only", "no_such_experiment", "--out", str(tmp_path)])


def test_unknown_workflow_is_a_clear_error():
    with pytest.raises(SystemExit, match="unknown workflow"):
        cli.main(["fit", "no_such_workflow"])


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


def test_simulate_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["simulate", str(tmp_path / "nope.seq"), "--out", str(tmp_path)])


def test_simulate_malformed_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.seq"
    bad.write_text("[VERSION]\nmajor 1\nminor 4\nrevision 1\n\n[BLOCKS]\n1 0 x 0 0 0 0 0\n")
    with pytest.raises(SystemExit, match=r"bad.seq:7: not a number"):
        cli.main(["simulate", str(bad), "--out", str(tmp_path / "o")])


def test_design_infeasible_is_a_clear_error(tmp_path):
    """gamma B1max T = 2.675e8 * 1e-6 * 1e-3 rad = 15.3 deg < 90 deg: infeasible."""
    with pytest.raises(SystemExit, match="infeasible"):
        cli.main(
            [
                "design",
                "excitation",
                "--duration",
                "1e-3",
                "--b1-max",
                "1e-6",
                "--out",
                str(tmp_path),
            ]
        )


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
        ]
    )
    d = np.load(tmp_path / "pulse.npz")
    assert d["rf"].shape == (64,)
    assert np.max(np.abs(d["rf"])) <= 15e-6 * (1 + 1e-9)
    import json

    summary = json.loads((tmp_path / "design.json").read_text())
    # a 4 ms pulse of <= 15 uT can reach gamma B1 T = 925 deg, so a good inversion is found
    assert summary["target_error"] < 0.05


def test_design_rejects_nonpositive_duration(tmp_path):
    with pytest.raises(SystemExit, match="duration"):
        cli.main(["design", "inversion", "--duration", "0", "--out", str(tmp_path)])
