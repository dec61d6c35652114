"""Constants and unit helpers against textbook conversion factors."""

import numpy as np

from netmag_jax import constants as c


def test_derived_ratios_match_published_values():
    """mu_B/k_B = 0.671713815 K/T, 1 meV = 11.604518 K, gamma_p/2pi = 42.577478 MHz/T,
    mu_B/h = 13.99624494 GHz/T (CODATA 2018 derived values)."""
    np.testing.assert_allclose(c.MU_B / c.K_B, 0.67171381563, rtol=1e-9)
    np.testing.assert_allclose(c.meV_to_K(1.0), 11.604518121, rtol=1e-9)
    np.testing.assert_allclose(c.GAMMA_1H_HZ, 42.577478518e6, rtol=1e-9)
    np.testing.assert_allclose(c.MU_B / c.H_PLANCK, 13.9962449361e9, rtol=1e-9)
    np.testing.assert_allclose(c.MU_0 / (4e-7 * np.pi), 1.0, rtol=1e-9)


def test_electron_gyromagnetic_ratio():
    """|gamma_e| = 1.76085963023e11 rad s^-1 T^-1 (CODATA 2018), also as dynamics.GAMMA_E."""
    from netmag_jax import dynamics

    np.testing.assert_allclose(c.GAMMA_E, 1.76085963023e11, rtol=1e-9)
    assert dynamics.GAMMA_E == c.GAMMA_E


def test_unit_round_trips():
    x = np.array([0.3, 2.0, 17.0])
    for f, g in [
        (c.meV_to_J, c.J_to_meV),
        (c.K_to_J, c.J_to_K),
        (c.meV_to_K, c.K_to_meV),
        (c.Oe_to_T, c.T_to_Oe),
        (c.emu_to_Am2, c.Am2_to_emu),
        (c.muB_to_Am2, c.Am2_to_muB),
        (c.chi_cgs_molar_to_si, c.chi_si_molar_to_cgs),
    ]:
        np.testing.assert_allclose(g(f(x)), x, rtol=1e-14)


def test_emu_per_mol_moment():
    """1 mu_B per ion = N_A mu_B = 5584.94 emu/mol (cgs)."""
    np.testing.assert_allclose(c.emu_per_mol_to_muB_per_ion(5584.938), 1.0, rtol=1e-6)
