"""Fixtures for the experiment tests: the gallery module and a quick run of one experiment.

The experiments are scripts in the repository's ``experiments/`` folder, not part of the
package; ``_gallery.py`` is loaded by its path, as ``netmag run`` does, and loads the
experiments with the same loader the gallery uses (which makes their ``_common`` importable).
"""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def _load_gallery():
    spec = importlib.util.spec_from_file_location("netmag_gallery", EXPERIMENTS / "_gallery.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


GALLERY = _load_gallery()


@pytest.fixture(scope="session")
def gallery():
    """``experiments/_gallery.py``, loaded by its path."""
    return GALLERY


@pytest.fixture(scope="session")
def common():
    """``experiments/_common.py``, the helper module the gallery put on the import path."""
    return importlib.import_module("_common")


@pytest.fixture
def load_experiment():
    """``load_experiment(name)``: the module ``experiments/<name>.py``, loaded by path."""
    return lambda name: GALLERY.load_experiment(EXPERIMENTS / f"{name}.py")


@pytest.fixture
def run_quick(tmp_path, load_experiment):
    """``run_quick(name)``: run an experiment in quick mode into ``tmp_path/name``; check its
    title, summary and figures (written, non-trivial PNGs) and that its results are JSON;
    return its results dict."""

    def run(name):
        mod = load_experiment(name)
        out = tmp_path / name
        res = mod.run(out, quick=True)
        assert isinstance(mod.TITLE, str) and mod.TITLE
        assert res["summary"] and res["figures"]
        for fig in res["figures"]:
            assert (out / fig).stat().st_size > 1000, fig
        json.dumps(res, default=float)
        return res

    return run
