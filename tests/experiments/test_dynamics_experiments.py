"""Each dynamics experiment once in quick mode; key numbers against their references."""

import pytest


@pytest.mark.slow
def test_domains(run_quick):
    """Landau pattern: net moment ~ 0, edges parallel; perpendicular platelet breaks into
    domains (net moment well below Ms) with |m| = 1 per cell, saturated below N_zz Ms."""
    n = run_quick("domains")["numbers"]
    assert n["square_net_m"]["value"] < 0.05 and n["square_edge_parallel"]["value"] > 0.85
    assert n["square_demag_energy_ratio"]["value"] < 0.3
    # a 160 nm platelet holds only 2-3 domains: |<m_z>| is a fraction of Ms, not exactly 0
    assert abs(n["platelet_net_mz"]["value"]) < 0.4
    assert n["platelet_cell_norm_deviation"]["value"] < 1e-5
    assert n["saturation_field"]["value"] < n["saturation_field"]["reference"]


@pytest.mark.slow
def test_hysteresis(run_quick):
    """SW switching fields found by bisection: 1 at psi = 0 and 1/2 at 45 deg (1e-3); the
    platelet coercivity is below the coherent-rotation bound, remanence near cos(psi)."""
    n = run_quick("hysteresis")["numbers"]
    assert abs(n["sw_switching_field_psi0"]["value"] - 1.0) < 1e-3
    assert abs(n["sw_switching_field_psi45"]["value"] - 0.5) < 1e-3
    assert 0 < n["platelet_coercivity"]["value"] < 1.05 * n["platelet_coercivity"]["reference"]
    assert abs(n["platelet_remanence"]["value"] - n["platelet_remanence"]["reference"]) < 0.05


@pytest.mark.slow
def test_data_storage(run_quick):
    """Delta(10 yr) = ln(10 yr / 1 ns) = 40.3; LLG escape time within a factor 2 of Brown."""
    n = run_quick("data_storage")["numbers"]
    assert abs(n["delta_10_years"]["value"] - 40.29) < 0.01
    assert 0.5 < n["llg_over_brown_at_delta_4.5"]["value"] < 2.0


@pytest.mark.slow
def test_spintronics(run_quick):
    """No switching below J_c0, switching above; t_sw(2 J_c0) within 15% of the macrospin law."""
    n = run_quick("spintronics")["numbers"]
    assert n["switches_below_Jc0"]["value"] is False
    assert n["switches_above_Jc0"]["value"] is True
    v, r = n["t_sw_at_2Jc0"]["value"], n["t_sw_at_2Jc0"]["reference"]
    assert abs(v / r - 1) < 0.15
