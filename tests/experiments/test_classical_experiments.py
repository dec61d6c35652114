"""The Bohr-van Leeuwen experiment in quick mode: its key numbers against their references."""

import pytest


@pytest.mark.slow
def test_bohr_van_leeuwen_experiment_quick(run_quick):
    res = run_quick("bohr_van_leeuwen")
    num = res["numbers"]
    # Bohr-van Leeuwen: total consistent with zero (< 3 sigma) at every (B, T)
    assert num["max_abs_total_z"]["value"] < 3.0
    # interior diamagnetic and edge paramagnetic, each clearly non-zero
    assert num["min_interior_z"]["value"] > 5.0
    assert num["min_edge_z"]["value"] > 5.0
    # interior moment matches -(k_B T/B) E(b) within 4 sigma over the grid
    assert num["max_abs_interior_deviation_z"]["value"] < 4.0
    tot = num["total_moment_per_electron_B1T_T1K"]
    assert abs(tot["value"]) < 3 * num["total_moment_err_per_electron_B1T_T1K"]["value"]
    spin = num["spin_half_moment_B1T_T1K"]
    assert abs(spin["value"] - spin["reference"]) < 1e-6
    assert len(res["summary"]) > 100
