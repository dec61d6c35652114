"""The MRI experiments run in quick mode and reproduce their reference numbers."""

import math

import pytest

from netmag_jax import mri


@pytest.mark.slow
def test_mri_signal_experiment(run_quick):
    num = run_quick("mri_signal")["numbers"]
    assert num["M0_water_3T_310K"]["value"] == pytest.approx(9.33e-3, rel=2e-3)
    assert num["larmor_frequency_3T"]["value"] == pytest.approx(
        num["larmor_frequency_3T"]["reference"], rel=1e-6
    )
    assert num["T2star_fit"]["value"] == pytest.approx(num["T2star_fit"]["reference"], rel=0.02)
    assert num["emf_peak_1mL_3T"]["value"] == pytest.approx(
        num["emf_peak_1mL_3T"]["reference"], rel=1e-4
    )
    assert num["spin_echo_max_error"]["value"] < 1e-4
    assert num["ir_null_TI"]["value"] == pytest.approx(num["ir_null_TI"]["reference"], rel=1e-3)
    assert num["cpmg_epg_vs_isochromats"]["value"] < 2e-6
    assert num["slice_fwhm_10deg"]["value"] == pytest.approx(5e-3, rel=0.1)


@pytest.mark.slow
def test_mri_image_experiment(run_quick):
    res = run_quick("mri_image")
    assert res["figures"] == ["gre_image.png"]
    num = {k: v["value"] for k, v in res["numbers"].items()}
    assert num["image_vs_epg_correlation"] > 0.9

    # RF-spoiled steady state vs the ideal-spoiling Ernst formula (independent closed form):
    # S = PD (1 - E1) sin a / (1 - E1 cos a) exp(-TE/T2), TR 8 ms, TE 3 ms, a = 25 deg;
    # 117-degree RF spoiling leaves a few per cent of deviation
    def ernst(t):
        e1, a = math.exp(-8e-3 / t["T1"]), math.radians(25)
        return t["PD"] * (1 - e1) * math.sin(a) / (1 - e1 * math.cos(a)) * math.exp(-3e-3 / t["T2"])

    ref = ernst(mri.TISSUES["white_matter"]) / ernst(mri.TISSUES["gray_matter"])
    assert abs(num["wm_gm_contrast_epg_steady_state"] / ref - 1) < 0.1
    # the image's k-space lines span the transient: its contrast lies between the
    # centre-line transient value and the steady state
    lo, hi = sorted((num["wm_gm_contrast_epg_centre_line"], num["wm_gm_contrast_epg_steady_state"]))
    assert lo - 0.05 <= num["wm_gm_contrast"] <= hi + 0.05
