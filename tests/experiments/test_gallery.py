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
        numbers = {"slope": common.number(np.float64(1.5), 1.4, "1", "a <made-up> reference")}
        return {"summary": f"quick={quick}", "figures": [figure], "numbers": numbers}

    return run


def test_run_experiment_writes_results_and_report(gallery, common, tmp_path):
    mod = types.SimpleNamespace(run=_fake_run(common), TITLE="A fake experiment")
    res = gallery.run_experiment(mod, "fake", tmp_path, quick=True)
    assert res["title"] == "A fake experiment" and res["summary"] == "quick=True"
    assert res["seconds"] >= 0 and (tmp_path / "fake" / "line.png").stat().st_size > 500
    assert json.loads((tmp_path / "fake" / "results.json").read_text()) == res
    index = gallery.write_report(tmp_path, {"fake": res})
    page = index.read_text()
    assert "<img src='fake/line.png'" in page and "A fake experiment" in page
    # value, reference, relative difference (1.5 vs 1.4: +7.14 %) and the escaped source
    assert "<td>slope</td><td>1.5</td><td>1.4</td><td>+7.14 %</td>" in page
    assert "a &lt;made-up&gt; reference" in page
    assert json.loads((tmp_path / "summary.json").read_text()) == {"fake": res}


def test_script_main_runs_quick_into_out(common, tmp_path, capsys):
    res = common.main(_fake_run(common), "experiments/fake.py", ["--quick", "--out", str(tmp_path)])
    assert res["summary"] == "quick=True" and (tmp_path / "line.png").is_file()
    printed = capsys.readouterr().out
    assert json.loads(printed[: printed.rindex("}") + 1])["slope"]["value"] == 1.5
    assert "fake: " in printed
