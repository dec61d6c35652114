"""The statmech experiments run in quick mode and reproduce their reference numbers."""

import numpy as np
import pytest

# (rtol, atol) per number; the references are analytic limits or textbook values (see each
# number's "source" field)
TOLERANCES = {
    "independent_moments": {
        "max_dev_from_brillouin": (0.0, 1e-10),
        "spin_half_moment_2T_1K": (1e-10, 0.0),
        "J7/2_saturation_7T_0.1K": (1e-10, 0.0),
        "Gd3+_mu_eff_from_curie_fit": (1e-3, 0.0),  # reference rounded to 7.94
        "curie_fit_intercept_K": (0.0, 1e-6),
        "schottky_peak_C_over_kB": (1e-4, 0.0),
        "schottky_peak_T_over_Delta": (1e-2, 0.0),  # grid resolution of the quick run
        "van_vleck_plateau_chi_perp_0.3K": (1e-6, 0.0),
        # exponentially small (~1e-14 of Curie): round-off is set by the Curie scale, 1e-16
        "chi_par_over_curie_0.3K": (1e-6, 1e-16),
    },
    "electron_gas": {
        "E_F_sodium": (2e-3, 0.0),
        "T_F_sodium": (3e-3, 0.0),
        "chi_P_sodium_300K": (3e-3, 0.0),
        "chi_P_over_curie_300K": (1e-4, 0.0),
        "chi_P_Sommerfeld_0.03TF": (5e-6, 0.0),  # next Sommerfeld term ~ 3 t^4
        "chi_P_over_curie_1000TF": (2e-5, 0.0),
        "chi_L_over_chi_P": (1e-12, 0.0),
        "stoner_enhancement_IN_0.5": (1e-4, 0.0),
    },
}


@pytest.mark.parametrize("name", sorted(TOLERANCES))
def test_experiment_quick(name, run_quick):
    res = run_quick(name)
    assert set(res["numbers"]) == set(TOLERANCES[name])
    for key, (rtol, atol) in TOLERANCES[name].items():
        num = res["numbers"][key]
        assert num["source"] and num["unit"] is not None
        np.testing.assert_allclose(
            num["value"], num["reference"], rtol=rtol, atol=atol, err_msg=key
        )
