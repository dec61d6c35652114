"""The pulse-design experiments in quick mode: figures written, key numbers against goals.

References: SLR (sigpy ``dzrf``) is the optimal least-squares filter at small tip, so the
designed pulse must match its ripple and transition width within 10 %; at large tip and under
B1/B0 ranges the classical pulses (SLR, hyperbolic secant) are not optimal and the designed
pulse must have a lower target error at no more RF energy; the designed inversion re-simulated
by the independent Bloch engine must reproduce the designer's own error.
"""

import json

import pytest


@pytest.fixture
def values(run_quick):
    """``values(name)``: the experiment's numbers, ``{name: value}`` (plain JSON types)."""

    def run(name):
        pytest.importorskip("sigpy")
        res = run_quick(name)
        json.dumps(res["numbers"])
        return {k: v["value"] for k, v in res["numbers"].items()}

    return run


@pytest.mark.slow
def test_excitation_matches_slr_at_small_tip_and_beats_it_at_90(values):
    v = values("pulse_design_excitation")
    assert 0.9 <= v["st_transition_ratio"] <= 1.1
    assert v["st_ripple_pass_ratio"] <= 1.1
    assert v["st_ripple_stop_ratio"] <= 1.1
    assert v["ex90_target_error_designed"] < 0.5 * v["ex90_target_error_slr"]
    assert v["ex90_energy_ratio"] <= 1.0


@pytest.mark.slow
def test_robust_inversion_beats_hyperbolic_secant(values):
    v = values("pulse_design_inversion")
    assert v["error_improvement"] > 2.0
    assert v["energy_ratio"] <= 1.0
    assert v["rms_error_designed_bloch_engine"] == pytest.approx(v["rms_error_designed"], rel=1e-3)
    assert v["worst_mz_designed"] < v["worst_mz_hs"]


@pytest.mark.slow
def test_refocusing_beats_slr_over_b1_range(values):
    v = values("pulse_design_refocusing")
    assert v["error_improvement"] > 1.1
    assert v["energy_ratio"] <= 1.0
    assert v["cpmg_deviation_designed_b1_0.85"] < v["cpmg_deviation_slr_b1_0.85"]
