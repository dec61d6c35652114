"""Fermi-Dirac integrals and the free electron gas: Sommerfeld and Boltzmann limits, sodium's
textbook numbers (Ashcroft & Mermin), Landau = -1/3 Pauli, Stoner enhancement and criterion."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from netmag_jax.constants import EV, K_B, MU_0, MU_B
from netmag_jax.statmech import ElectronGas
from netmag_jax.statmech import fermi_dirac as _fermi_dirac_eager

fermi_dirac = jax.jit(_fermi_dirac_eager, static_argnums=0)


def _fd_reference(j, eta):
    """Adaptive quadrature (scipy quad) of (1/Gamma(j+1)) int_0^inf x^j / (e^(x-eta) + 1) dx,
    in t = sqrt(x), split at the Fermi edge."""

    def f(t):
        return 2 * t ** (2 * j + 1) / (np.exp(t * t - eta) + 1) if t * t - eta < 700 else 0.0

    a = math.sqrt(max(eta, 0.0))
    v = quad(f, 0, a, epsabs=0, epsrel=1e-13, limit=200)[0]
    v += quad(f, a, np.inf, epsabs=0, epsrel=1e-13, limit=200)[0]
    return v / math.gamma(j + 1)


@pytest.mark.parametrize("j", [-0.5, 0.5, 1.5])
def test_fermi_dirac_against_quadrature(j):
    etas = np.array([-40.0, -5.0, -0.5, 0.0, 1.0, 7.0, 25.0, 39.99, 40.0, 60.0, 400.0])
    ref = np.array([_fd_reference(j, e) for e in etas])
    np.testing.assert_allclose(fermi_dirac(j, etas), ref, rtol=2e-13)


def test_fermi_dirac_limits_and_derivative():
    """Boltzmann: F_j(eta) = e^eta - e^(2 eta)/2^(j+1) + ...; degenerate: F_{1/2} =
    (4/3 sqrt(pi)) eta^(3/2) (1 + pi^2/(8 eta^2) + 7 pi^4/(640 eta^4)); dF_{1/2}/deta = F_{-1/2};
    float32 within 1e-6."""
    e = np.array([-30.0, -20.0])
    np.testing.assert_allclose(fermi_dirac(0.5, e), np.exp(e) - np.exp(2 * e) / 2**1.5, rtol=1e-13)
    e = np.array([1e3, 1e4, 1e5])
    som = (
        4
        / (3 * np.sqrt(np.pi))
        * e**1.5
        * (1 + np.pi**2 / (8 * e**2) + 7 * np.pi**4 / (640 * e**4))
    )
    np.testing.assert_allclose(fermi_dirac(0.5, e), som, rtol=1e-13)
    x = jnp.array([-8.0, 0.0, 3.0, 39.9, 40.0, 90.0])
    d = jax.vmap(jax.grad(lambda v: fermi_dirac(0.5, v)))(x)
    np.testing.assert_allclose(d, fermi_dirac(-0.5, x), rtol=1e-12)
    x32 = np.linspace(-20, 100, 40).astype(np.float32)
    r32 = fermi_dirac(0.5, x32)
    assert r32.dtype == jnp.float32
    np.testing.assert_allclose(r32, fermi_dirac(0.5, x32.astype(np.float64)), rtol=1e-6)
    with pytest.raises(ValueError, match="j must be"):
        _fermi_dirac_eager(1.0, 0.0)


SODIUM_N = 2.65e28  # m^-3, Ashcroft & Mermin Table 2.1
T3 = np.array([1.0, 2.0, 3.0])  # one shape for most calls: one compilation each


def test_sodium_textbook_values():
    """Sodium (n = 2.65e22 cm^-3): E_F = 3.24 eV, T_F = 3.77e4 K (Ashcroft & Mermin Table 2.2);
    chi_P = 2.59e-6 / (r_s/a0) cgs with r_s/a0 = 3.93 (A&M eq. 31.69-31.70) -> 4 pi x 0.659e-6
    = 8.28e-6 SI; closed form mu0 mu_B^2 3n/(2 E_F) to 1e-9 at T = 1 K."""
    na = ElectronGas(SODIUM_N)
    np.testing.assert_allclose(na.fermi_energy() / EV, 3.24, rtol=2e-3)
    np.testing.assert_allclose(na.fermi_temperature(), 3.77e4, rtol=3e-3)
    chi = na.pauli_susceptibility(T3)[0]
    exact0 = MU_0 * MU_B**2 * 1.5 * SODIUM_N / na.fermi_energy()
    np.testing.assert_allclose(chi, exact0, rtol=1e-9)
    np.testing.assert_allclose(chi, 4 * np.pi * 2.59e-6 / 3.93, rtol=3e-3)
    # Landau: -1/3 of Pauli for free electrons (m_eff = 1); total = 2/3 chi_P
    np.testing.assert_allclose(na.landau_susceptibility(T3)[0], -chi / 3, rtol=1e-12)
    np.testing.assert_allclose(na.susceptibility(T3)[0], 2 * chi / 3, rtol=1e-12)
    heavy = ElectronGas(SODIUM_N, m_eff=2.0)
    np.testing.assert_allclose(
        heavy.landau_susceptibility(T3), -heavy.pauli_susceptibility(T3) / 12, rtol=1e-12
    )


def test_sommerfeld_low_T():
    """mu = E_F [1 - (pi^2/12) t^2 - (pi^4/80) t^4 - (247 pi^6/25920) t^6],
    chi_P = chi_P(0) [1 - (pi^2/12) t^2], t = T/T_F (Sommerfeld expansion, 3D free electrons)."""
    na = ElectronGas(SODIUM_N)
    TF, EF = float(na.fermi_temperature()), float(na.fermi_energy())
    t = np.array([0.01, 0.02, 0.04])
    mu = na.chemical_potential(t * TF)
    series = 1 - np.pi**2 / 12 * t**2 - np.pi**4 / 80 * t**4 - 247 * np.pi**6 / 25920 * t**6
    np.testing.assert_allclose(mu / EF, series, rtol=3e-9)
    chi0 = MU_0 * MU_B**2 * 1.5 * SODIUM_N / EF
    np.testing.assert_allclose(
        na.pauli_susceptibility(t * TF) / chi0, 1 - np.pi**2 / 12 * t**2, rtol=2e-5
    )


def test_boltzmann_high_T_is_curie():
    """T >> T_F: mu = k_B T ln(n / 2 N_c) and chi -> mu0 n (g/2)^2 mu_B^2 / k_B T
    (Curie law of free spin-1/2 moments); first quantum correction +2^(-5/2) n/N_c."""
    g = 2.0023
    gas = ElectronGas(1e20, g=g)
    T = np.array([1e3, 3e3, 1e4])
    nc = (9.1093837015e-31 * K_B * T / (2 * np.pi * 1.054571817e-34**2)) ** 1.5
    y = 1e20 / (2 * nc)
    eta = np.log(y) + y / 2**1.5  # inverse of F = e^eta - e^(2 eta)/2^(3/2) to O(y^2)
    np.testing.assert_allclose(gas.chemical_potential(T) / (K_B * T), eta, rtol=1e-7)
    curie = MU_0 * 1e20 * (g / 2) ** 2 * MU_B**2 / (K_B * T)
    np.testing.assert_allclose(gas.pauli_susceptibility(T), curie * (1 - y / 2**1.5), rtol=1e-6)


def test_magnetization_linear_and_saturated():
    """Small B: M = chi_P B / mu0; huge B/T (all spins aligned): M = (g/2) mu_B n."""
    gas = ElectronGas(1e22)  # T_F ~ 0.1 K: dilute, saturates in a few tesla at 10 mK
    chi = gas.pauli_susceptibility(np.array([5.0, 5.0, 5.0]))
    m = gas.magnetization(np.array([1e-3, -1e-3, 30.0]), np.array([5.0, 5.0, 0.01]))
    np.testing.assert_allclose(m[:2], np.array([1.0, -1.0]) * chi[:2] * 1e-3 / MU_0, rtol=1e-6)
    np.testing.assert_allclose(m[2], MU_B * 1e22, rtol=1e-9)
    # gradient wrt density through the implicit chemical potential: chi_P ~ n^(1/3) (T -> 0)
    d = jax.grad(lambda n: ElectronGas(n).pauli_susceptibility(T3)[0])(SODIUM_N)
    np.testing.assert_allclose(
        d * SODIUM_N / ElectronGas(SODIUM_N).pauli_susceptibility(T3)[0], 1 / 3, rtol=1e-6
    )


def test_stoner_enhancement_and_instability():
    """chi = chi_P / (1 - I N(E_F)), N(E_F) = 3/(4 E_F) per spin per atom (monovalent);
    I N >= 1 raises (Stoner criterion)."""
    na = ElectronGas(SODIUM_N)
    EF = float(na.fermi_energy())
    I = 0.3 * EV
    s = I * 0.75 / EF
    np.testing.assert_allclose(na.stoner_product(I, T3), s, rtol=1e-8)
    np.testing.assert_allclose(
        na.stoner_susceptibility(T3, I), na.pauli_susceptibility(T3) / (1 - s), rtol=1e-8
    )
    # divalent metal (two electrons per atom): N per atom doubles
    np.testing.assert_allclose(na.stoner_product(I, T3, n_atoms=SODIUM_N / 2), 2 * s, rtol=1e-8)
    with pytest.raises(Exception, match="Stoner instability"):
        na.stoner_susceptibility(T3, 1.5 * EF)


def test_bad_input():
    for kw in ({"n": 0.0}, {"n": -1e28}, {"n": 1e28, "m_eff": 0.0}, {"n": 1e28, "g": -2.0}):
        with pytest.raises(ValueError):
            ElectronGas(**kw)
    gas = ElectronGas(SODIUM_N)
    with pytest.raises(Exception, match="temperature"):
        gas.pauli_susceptibility(np.array([1.0, 0.0, 3.0]))
    with pytest.raises(Exception, match="temperature"):
        jax.jit(lambda t: gas.chemical_potential(t))(-3.0)
    with pytest.raises(Exception, match="field"):
        gas.magnetization(float("nan"), 3.0)
    with pytest.raises(Exception, match="Stoner parameter"):
        gas.stoner_product(-1.0, 3.0)


def test_float32_pauli():
    """float32 (the gallery's default precision): chi_P within 1e-5 of float64."""
    na = ElectronGas(SODIUM_N)
    chi32 = na.pauli_susceptibility(T3.astype(np.float32))
    assert chi32.dtype == jnp.float32
    np.testing.assert_allclose(chi32, na.pauli_susceptibility(T3), rtol=1e-5)


def test_float32_dmu_dT_sign_and_magnitude():
    """Regression (issue 17): the float32 gradient dmu/dT had the wrong sign and 1e4-1e9x the
    magnitude (the cotangent k_B / N_c of ln N_c underflowed, dropping the implicit term).
    Checked against float64 central finite differences at T << T_F, ~T_F and >> T_F, and the
    Sommerfeld limit dmu/dT = -(pi^2/6) k_B T / T_F at T << T_F (sodium, T_F ~ 3.7e4 K)."""
    gas = ElectronGas(2.65e28)
    t_f = float(gas.fermi_temperature())
    grad32 = jax.grad(lambda t: gas.chemical_potential(t))
    for T in (300.0, 3e4, 1e6):
        h = 1e-4 * T
        fd = (gas.chemical_potential(T + h) - gas.chemical_potential(T - h)) / (2 * h)
        g = grad32(jnp.float32(T))
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(float(g), float(fd), rtol=5e-3)
    sommerfeld = -(math.pi**2 / 6) * K_B * 300.0 / t_f
    g64 = jax.grad(lambda t: gas.chemical_potential(t))(300.0)
    np.testing.assert_allclose(float(g64), sommerfeld, rtol=1e-3)
