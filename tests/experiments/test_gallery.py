"""The gallery machinery: the number dict, figures, the script command line, experiment
discovery and loading, results.json and the HTML report (fast, no physics run)."""

import json
import types

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest


def test_number_stores_plain_python_values(common):
    n = common.number(np.bool_(True), True, "", "definition")
    assert n == {"value": True, "reference": True, "unit": "", "source": "definition"}
    assert type(n["value"]) is bool
    n = common.number(jnp.float32(1.5), np.float64(2.0), "K", "formula")
    assert type(n["value"]) is float and n["value"] == 1.5 and n["reference"] == 2.0
    assert common.number(3.0)["reference"] is None
    json.dumps(common.number(jnp.asarray([1.0, 2.0]), None, "T", "grid"))  # plain lists


def test_available_lists_experiments_not_helpers(gallery):
    names = gallery.available()
    assert {"spintronics", "mri_signal", "ferromagnet"} <= set(names)
    assert not any(n.startswith("_") for n in names)
    assert all(p.is_file() and p.stem == n for n, p in names.items())


def test_experiments_load_by_path_and_see_common(load_experiment):
    mod = load_experiment("electron_gas")
    assert mod.__name__ == "netmag_experiments.electron_gas"
    assert callable(mod.run) and isinstance(mod.TITLE, str)
    assert mod.number.__module__ == "_common"  # the shared helper, imported by name


def test_unknown_experiment_is_a_clear_error(gallery, tmp_path):
    with pytest.raises(SystemExit, match="unknown experiment"):
        gallery.run_gallery(tmp_path, quick=True, only=["no_such_experiment"])


def test_module_without_run_is_rejected(gallery, tmp_path):
    path = tmp_path / "not_an_experiment.py"
    path.write_text("TITLE = 'nothing to run'\n")
    with pytest.raises(ValueError, match="defines no run"):
        gallery.load_experiment(path)


def _fake_run(common):
    def run(out, quick=False):
        out = common.output_dir(out)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        figure = common.save_figure(fig, out, "line.png", dpi=50)
        numbers = {
            "slope": common.number(np.float64(1.5), 1.4, "1", "a <made-up> reference", rtol=0.1)
        }
        return {"summary": f"quick={quick}", "figures": [figure], "numbers": numbers}

    return run


def test_run_experiment_writes_results_and_report(gallery, common, tmp_path):
    mod = types.SimpleNamespace(run=_fake_run(common), TITLE="A fake experiment")
    res = gallery.run_experiment(mod, "fake", tmp_path, quick=True)
    assert res["title"] == "A fake experiment" and res["summary"] == "quick=True"
    assert res["seconds"] >= 0 and (tmp_path / "fake" / "line.png").stat().st_size > 500
    assert json.loads((tmp_path / "fake" / "results.json").read_text()) == res
    meta = {"version": "v9", "commit": "abc123", "quick": True, "devices": "1 x cpu"}
    index = gallery.write_report(tmp_path, {"fake": res}, meta)
    page = index.read_text()
    # the figure is a link to the full-size file; a small figure is not stretched
    assert "<a href='fake/line.png'><img src='fake/line.png'" in page
    assert "<figure class='narrow'>" in page and "A fake experiment" in page
    # value, reference, the criterion (1.5 vs 1.4 within 10 %) and a verdict, no difference %
    row = page[page.index("<td>slope</td>") : page.index("</tr>", page.index("<td>slope</td>"))]
    assert "<td class='num'>1.5</td><td class='num'>1.4</td><td>± 10 %</td>" in row
    assert "badge ok'>pass" in row and "+7.14 %" not in page
    assert "a &lt;made-up&gt; reference" in page
    # the header: version, commit, mode and devices; the tally of verdicts
    for text in (
        "v9",
        "abc123",
        "quick (smoke-test sizes)",
        "1 x cpu",
        "1 checks passed, 0 failed",
    ):
        assert text in page, text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["results"] == {"fake": res} and summary["meta"]["commit"] == "abc123"
    assert summary["tally"] == {"pass": 1, "fail": 0, "compare": 0, "info": 0}
    assert "class='failed" not in page  # nothing failed: no list of failures


def test_failed_checks_are_listed_on_top(gallery, common, tmp_path):
    numbers = {
        "ok": common.number(1.0, 1.0, rtol=0.1),
        "too_big": common.number(5.0, 3.0, bound="<"),
    }
    page = gallery.write_report(tmp_path, {"exp": {"title": "E", "numbers": numbers}})
    page = page.read_text()
    assert "1 checks passed, 1 failed" in page
    assert "<li><a href='#exp'>exp</a>: too_big</li>" in page
    assert page.index("too_big</li>") < page.index("<h3 id='exp'>")


def test_number_criteria_and_verdicts(common):
    """Each rule against hand-made cases: tolerance (abs, rel), bounds, booleans, none."""
    n, v, c = common.number, common.verdict, common.criterion
    assert v(n(1.05, 1.0, rtol=0.1)) == "pass" and v(n(1.2, 1.0, rtol=0.1)) == "fail"
    assert v(n(0.003, 0.0, atol=0.01)) == "pass" and v(n(-0.02, 0.0, atol=0.01)) == "fail"
    assert v(n(1.0 + 1.5e-3, 1.0, atol=1e-3, rtol=1e-3)) == "pass"  # 1e-3 + 1e-3 * 1
    assert v(n(float("nan"), 1.0, rtol=0.5)) == "fail"
    assert v(n(2.0, 3.0, bound="<")) == "pass" and v(n(3.0, 3.0, bound="<")) == "fail"
    assert v(n(3.0, 3.0, bound="<=")) == "pass" and v(n(6.0, 5.0, bound=">")) == "pass"
    assert v(n(4.0, 5.0, bound=">=")) == "fail"
    assert v(n([1.0, 2.0], 2.5, bound="<")) == "pass" and v(n([1.0, 3.0], 2.5, bound="<")) == "fail"
    assert v(n(True, True)) == "pass" and v(n(False, True)) == "fail"
    assert v(n(4.0)) == "info" and v(n(4.0, 2.3, compare_only=True)) == "compare"
    assert v(n(1.0, 1.0)) == "fail" and c(n(1.0, 1.0)) == "no criterion given"
    assert c(n(2.0, 3.0, bound="<")) == "< 3" and c(n(1.0, 1.0, atol=0.02)) == "± 0.02"
    assert c(n(1.0, 1.0, rtol=0.05)) == "± 5 %" and c(n(True, True)) == "= True"
    for bad in (
        dict(bound="!="),
        dict(bound="<", rtol=0.1),
        dict(rtol=-1.0),
    ):
        with pytest.raises(ValueError):
            n(1.0, 1.0, **bad)
    with pytest.raises(ValueError, match="needs a reference"):
        n(1.0, None, atol=0.1)


def test_every_reference_in_the_experiments_has_a_criterion():
    """Static check of experiments/*.py: a number() with a reference (other than a literal
    bool) states its tolerance, bound or compare_only, so the report can judge it."""
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "experiments"
    keys = {"rtol", "atol", "bound", "compare_only"}
    missing = []
    for path in sorted(folder.glob("[a-z]*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "number"):
                continue
            ref = node.args[1] if len(node.args) > 1 else None
            if ref is None or (isinstance(ref, ast.Constant) and ref.value in (None, True, False)):
                continue
            if not keys & {k.arg for k in node.keywords}:
                missing.append(f"{path.name}:{node.lineno}")
    assert not missing, missing


def test_report_follows_the_physics_story(gallery, tmp_path):
    report = gallery.write_report.__globals__
    results = {
        name: {"title": name.upper(), "numbers": {}}
        for name in ("pulse_design_inversion", "my_new_one", "independent_moments", "mri_signal")
    }
    stages = report["story"](results)
    assert [t for t, _ in stages] == ["One spin and paramagnets", "MRI", "Design", "Other"]
    page = gallery.write_report(tmp_path, results).read_text()
    order = [
        page.index(f"<h3 id='{n}'>")
        for n in ("independent_moments", "mri_signal", "pulse_design_inversion", "my_new_one")
    ]
    assert order == sorted(order)
    assert page.count("<a href='#") == 4  # the navigation lists every section
    assert "unknown" in page  # no metadata given: the header says so


def test_wide_figures_use_the_page_width(gallery, common, tmp_path):
    out = tmp_path / "wide"
    out.mkdir()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    common.save_figure(fig, out, "panels.png", dpi=100)  # 1200 px wide
    assert gallery.write_report.__globals__["png_width"](out / "panels.png") == 1200
    res = {"title": "wide", "figures": ["panels.png"], "numbers": {}}
    page = gallery.write_report(tmp_path, {"wide": res}).read_text()
    assert "<figure class='wide'><a href='wide/panels.png'>" in page


def test_run_metadata_names_the_run(gallery):
    meta = gallery.run_metadata(quick=True)
    assert meta["quick"] is True and meta["version"].startswith("netmag_jax ")
    assert meta["precision"] == "float64"  # the test suite runs in float64 (conftest)
    assert "cpu" in meta["devices"].lower() or "gpu" in meta["devices"].lower()
    assert meta["date"].endswith("UTC") and "CPUs" in meta["machine"]
    assert meta["commit"]  # a hash, or why there is none


def test_script_main_runs_quick_into_out(common, tmp_path, capsys):
    res = common.main(_fake_run(common), "experiments/fake.py", ["--quick", "--out", str(tmp_path)])
    assert res["summary"] == "quick=True" and (tmp_path / "line.png").is_file()
    printed = capsys.readouterr().out
    assert json.loads(printed[: printed.rindex("}") + 1])["slope"]["value"] == 1.5
    assert "fake: " in printed
