"""Signal models of ``netmag_jax.fit`` against closed forms, and their adapters over ``mri``."""

import jax.numpy as jnp
import numpy as np
import pytest

import netmag_jax.fit as nf
from netmag_jax import constants, mri

ESP = 0.01


def test_cpmg_epg_ideal_refocusing_is_exponential():
    """B1 = 1, 180 deg refocusing: the echo train is exp(-k ESP / T2) (no stimulated echoes)."""
    k = np.arange(1, 21)
    echoes = nf.cpmg_epg(20, ESP, 0.07, 1.0, 1.0)
    np.testing.assert_allclose(echoes, np.exp(-k * ESP / 0.07), rtol=1e-12)


@pytest.mark.parametrize("B1", [0.6, 0.8, 1.1])
def test_cpmg_epg_first_echo_is_the_hahn_echo(B1):
    """The first echo is a Hahn echo of flips B1 * 90 and B1 * 180 deg:
    sin(a) sin^2(b / 2) exp(-ESP / T2) (Hahn 1950), whatever T1; later echoes carry the
    stimulated echoes (larger than the Hahn decay for B1 != 1)."""
    a, b = B1 * np.pi / 2, B1 * np.pi
    echoes = np.asarray(nf.cpmg_epg(8, ESP, 0.05, 0.8, B1))
    hahn = np.sin(a) * np.sin(b / 2) ** 2 * np.exp(-ESP / 0.05)
    np.testing.assert_allclose(echoes[0], hahn, rtol=1e-12)
    assert echoes[1] > np.sin(a) * np.sin(b / 2) ** 2 * np.exp(-2 * ESP / 0.05)


def test_cpmg_epg_is_the_magnitude_of_the_mri_engine():
    """One EPG engine: the fit model is |mri.epg_cpmg| with B1-scaled flip angles."""
    B1, refocus = 0.85, 2.5
    ref = mri.epg_cpmg(jnp.full(12, B1 * refocus), ESP, 0.9, 0.06, excitation=B1 * np.pi / 2)
    np.testing.assert_allclose(nf.cpmg_epg(12, ESP, 0.06, 0.9, B1, refocus), np.abs(ref))


def test_cpmg_epg_clips_t2_into_the_physical_domain_and_keeps_float32():
    """T2 > 2 T1 (an unphysical trial step of a fit) gives the T2 = 2 T1 curve, not an error;
    float32 parameters give float32 echoes."""
    np.testing.assert_allclose(
        nf.cpmg_epg(6, ESP, 5.0, 1.0, 0.9), nf.cpmg_epg(6, ESP, 2.0, 1.0, 0.9), rtol=1e-14
    )
    out = nf.cpmg_epg(6, ESP, jnp.float32(0.05), 1.0, jnp.float32(0.9))
    assert out.dtype == jnp.float32 and np.all(np.isfinite(np.asarray(out)))


def test_spgr_is_the_ernst_signal():
    """S = M0 sin a (1 - E1) / (1 - E1 cos a), E1 = exp(-TR/T1) (Ernst & Anderson 1966)."""
    alpha = np.deg2rad(np.array([2.0, 5.0, 10.0, 15.0, 30.0]))
    E1 = np.exp(-0.015 / 0.9)
    ref = 3.0 * np.sin(alpha) * (1 - E1) / (1 - E1 * np.cos(alpha))
    np.testing.assert_allclose(nf.spgr(alpha, 3.0, 0.9, 0.015), ref, rtol=1e-13)


def test_inversion_recovery_models_and_the_mri_closed_form():
    """The signed model with a = M0, b = -2 M0 is mri.inversion_recovery_signal; the magnitude
    and complex variants are its modulus and its rotation by phi. The name
    ``inversion_recovery`` belongs to the mri sequence only."""
    TI = np.array([0.05, 0.3, 0.7, 2.0])
    s = np.asarray(nf.inversion_recovery_signed(TI, 2.0, -4.0, 0.8))
    np.testing.assert_allclose(s, mri.inversion_recovery_signal(TI, 0.8, 2.0), rtol=1e-14)
    np.testing.assert_allclose(nf.inversion_recovery_magnitude(TI, 2.0, -4.0, 0.8), np.abs(s))
    c = np.asarray(nf.inversion_recovery_complex(TI, 2.0, -4.0, 0.8, 0.3))
    np.testing.assert_allclose(c, s * np.exp(0.3j), rtol=1e-14)
    assert not hasattr(nf, "inversion_recovery")


def test_curie_constant_per_mueff2():
    """N_A mu_B^2 / (3 k_B) = 0.12505 emu K / mol in cgs, kept in constants and re-exported."""
    assert nf.CURIE_CGS_PER_MUEFF2 is constants.CURIE_CGS_PER_MUEFF2
    np.testing.assert_allclose(constants.CURIE_CGS_PER_MUEFF2, 0.125049, rtol=1e-5)
    # Gd3+ (S = 7/2, g = 2): mu_eff^2 = g^2 S(S+1) = 63 -> C = 7.878 emu K/mol
    np.testing.assert_allclose(63 * constants.CURIE_CGS_PER_MUEFF2, 7.878, rtol=1e-3)
