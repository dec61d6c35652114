"""The example scripts of fitting/ run on the repository's data through the package API."""

import ast
import runpy
import sys
from pathlib import Path

import pytest

FITTING = Path(__file__).resolve().parents[2] / "fitting"


def _run_example(name, monkeypatch, capsys, *args):
    path = FITTING / f"example_{name}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(path), run_name="__main__")
    assert e.value.code in (None, 0)
    return capsys.readouterr().out


def test_example_magnetism_reads_fitting_data(monkeypatch, capsys):
    """fitting/data/CsErSe2 (the shipped files): powder Curie-Weiss moment within 5 % of the
    free Er3+ ion, g_J sqrt(J(J+1)) = 9.581 mu_B."""
    out = _run_example("magnetism", monkeypatch, capsys)
    line = next(ln for ln in out.splitlines() if ln.startswith("powder mu_eff"))
    mu = float(line.split("=")[1].split()[0])
    assert abs(mu / 9.581 - 1) < 0.05


def test_example_crystal_field_levels_and_units(monkeypatch, capsys):
    """Published CsErSe2 doublets within 0.05 meV of the neutron peaks; MT unit identified."""
    out = _run_example("crystal_field", monkeypatch, capsys)
    rows = dict(ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
    levels = ast.literal_eval(rows["doublets above the ground doublet [meV]"].strip())
    peaks = ast.literal_eval(rows["measured neutron peaks [meV]"].strip())
    assert len(levels) == 4
    assert max(abs(a - b) for a, b in zip(levels, peaks, strict=True)) < 0.05
    assert rows["M/H in the MT file"].startswith(" emu mol^-1 Oe^-1")


def test_example_forwards_arguments_to_the_workflow(monkeypatch, capsys, tmp_path):
    """With arguments, an example script is the workflow's command line."""
    _run_example("crystal_field", monkeypatch, capsys, "units", "--out", str(tmp_path))
    assert (tmp_path / "mt_units.json").is_file()


def test_float64_is_the_command_lines_choice():
    """The magnetometry commands declare float64 and relaxometry asks for it with --x64; the
    CLI switches x64 on for them, the workflow modules never do."""
    from netmag_jax.fit import workflows

    assert workflows.wants_float64("crystal_field") and workflows.wants_float64("magnetism", [])
    assert workflows.wants_float64("relaxometry", ["t2", "data.nii", "--x64"])
    assert not workflows.wants_float64("relaxometry", ["t2", "data.nii"])
    src = (Path(workflows.__file__).parent).glob("*.py")
    assert not any("jax_enable_x64" in p.read_text() for p in src)
