"""The netmag command line: help for every subcommand, clear errors for wrong arguments."""

import subprocess
import sys

import pytest

from netmag_jax import cli


def _netmag(*args):
    return subprocess.run([sys.executable, "-m", "netmag_jax.cli", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("sub", ["run", "fit", "bench"])
def test_help_for_each_subcommand(sub):
    r = _netmag(sub, "--help")
    assert r.returncode == 0
    assert "usage: netmag" in r.stdout


def test_top_level_help_lists_subcommands():
    r = _netmag("--help")
    assert r.returncode == 0
    for sub in ("run", "fit", "bench"):
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
