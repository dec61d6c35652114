"""Paramagnet against closed forms: two-level tanh law, three-level sum, Brillouin, Curie's
law, saturation, Schottky heat capacity, entropy limits; gradients, jit/vmap, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax.test_util import check_grads

from netmag_jax.constants import K_B, MU_0, MU_B, N_A, chi_si_molar_to_cgs
from netmag_jax.statmech import (
    Paramagnet,
    brillouin,
    curie_constant,
    curie_constant_molar,
    curie_weiss,
    effective_moment,
)

B = np.linspace(-12.0, 12.0, 41)
T = np.array([0.3, 1.0, 4.2, 30.0, 300.0])
BB, TT = np.meshgrid(B, T)


def test_spin_half_tanh_law():
    """J = 1/2: mu = (g/2) tanh(g mu_B B / 2 k_B T) (two-level system)."""
    g = 2.00231930436256
    p = Paramagnet(0.5, g)
    ref = 0.5 * g * np.tanh(g * MU_B * BB / (2 * K_B * TT))
    np.testing.assert_allclose(p.moment(BB, TT), ref, rtol=1e-12, atol=1e-15)


def test_spin_one_three_level_sum():
    """J = 1: mu = g (e^x - e^-x) / (1 + e^x + e^-x), x = g mu_B B / k_B T."""
    g = 2.0
    x = g * MU_B * BB / (K_B * TT)
    ref = g * 2 * np.sinh(x) / (1 + 2 * np.cosh(x))
    np.testing.assert_allclose(Paramagnet(1, g).moment(BB, TT), ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("J,g", [(1.5, 0.8), (3.5, 2.0), (7.5, 1.2)])
def test_brillouin_form(J, g):
    """mu = g J B_J(g mu_B J B / k_B T) (Brillouin function, independent closed form)."""
    x = g * MU_B * J * BB / (K_B * TT)
    np.testing.assert_allclose(
        Paramagnet(J, g).moment(BB, TT), g * J * brillouin(J, x), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("J", [0.5, 1.0, 3.5])
def test_curie_law(J):
    """At B = 0, chi = mu0 n g^2 mu_B^2 J(J+1) / (3 k_B T) = C / T exactly (<m^2> = J(J+1)/3)."""
    n, g = 3.0e27, 2.0
    p = Paramagnet(J, g, n=n)
    Ts = np.array([0.5, 2.0, 50.0, 1e4])
    C = mu = MU_0 * n * g**2 * MU_B**2 * J * (J + 1) / (3 * K_B)
    np.testing.assert_allclose(curie_constant(J, g, n), C, rtol=1e-14)
    np.testing.assert_allclose(p.susceptibility(Ts), C / Ts, rtol=1e-12)
    # in a field, chi drops below C/T and reaches it again at high T (x -> 0)
    chi_field = p.susceptibility(Ts, B=5.0)
    assert np.all(chi_field[:2] < C / Ts[:2])
    np.testing.assert_allclose(chi_field[-1], C / Ts[-1], rtol=1e-5)  # O(x^2) ~ 1e-6
    del mu


def test_saturation_and_magnetization():
    """Low T, high field: mu -> g J mu_B; M = n mu_B mu."""
    p = Paramagnet(3.5, 2.0, n=1e28)
    np.testing.assert_allclose(p.moment(10.0, 0.05), 7.0, rtol=1e-12)
    np.testing.assert_allclose(p.moment(-10.0, 0.05), -7.0, rtol=1e-12)
    np.testing.assert_allclose(p.magnetization(10.0, 0.05), 7.0 * 1e28 * MU_B, rtol=1e-12)


def test_schottky_heat_capacity_spin_half():
    """J = 1/2: C = k_B x^2 / cosh^2 x with x = g mu_B B / (2 k_B T) (Schottky anomaly)."""
    p = Paramagnet(0.5, 2.0)
    Ts = np.linspace(0.2, 20.0, 50)
    x = 2.0 * MU_B * 3.0 / (2 * K_B * Ts)
    np.testing.assert_allclose(
        p.heat_capacity(3.0, Ts), K_B * x**2 / np.cosh(x) ** 2, rtol=1e-10, atol=1e-12 * K_B
    )
    # Schottky maximum of the two-level system: C_max = 0.4392 k_B at k_B T = 0.4168 Delta
    Tf = np.linspace(0.5, 3.0, 2001)
    c = np.asarray(p.heat_capacity(3.0, Tf)) / K_B
    delta_K = 2.0 * MU_B * 3.0 / K_B
    np.testing.assert_allclose(c.max(), 0.43922, rtol=1e-4)
    np.testing.assert_allclose(Tf[c.argmax()] / delta_K, 0.41678, rtol=2e-3)


@pytest.mark.parametrize("J", [0.5, 2.0, 4.5])
def test_entropy_limits(J):
    """S -> k_B ln(2J+1) at B = 0 (any T) and at high T; S -> 0 at low T in a field;
    F(B=0) = -k_B T ln(2J+1)."""
    p = Paramagnet(J, 2.0)
    np.testing.assert_allclose(p.entropy(0.0, 3.0), K_B * np.log(2 * J + 1), rtol=1e-13)
    np.testing.assert_allclose(p.entropy(1.0, 1e5), K_B * np.log(2 * J + 1), rtol=1e-8)
    assert abs(float(p.entropy(10.0, 0.05))) < 1e-10 * K_B
    np.testing.assert_allclose(p.free_energy(0.0, 7.0), -K_B * 7.0 * np.log(2 * J + 1), rtol=1e-14)


def test_gradients_including_zero_field():
    """check_grads to second order at B = 0 and in a field; wrt g and T too."""
    p = Paramagnet(1.5, 2.0, n=1e28)
    check_grads(lambda b, t: p.moment(b, t), (0.0, 2.0), order=2, modes=["rev"])
    check_grads(lambda g: Paramagnet(1.5, g).moment(0.5, 1.0), (1.7,), order=1, modes=["rev"])
    # moment slope at B = 0 is the Curie value g^2 J(J+1) mu_B / (3 k_B T) [mu_B / T]
    slope = jax.grad(lambda b: p.moment(b, 2.0))(0.0)
    np.testing.assert_allclose(slope, 4.0 * 1.5 * 2.5 * MU_B / (3 * K_B * 2.0), rtol=1e-13)


def test_jit_vmap_eager_agree_and_no_retrace():
    p = Paramagnet(2.0, 2.0, n=1e28)
    traces = []

    @eqx.filter_jit
    def f(model, b, t):
        traces.append(1)
        return model.moment(b, t)

    b = jnp.linspace(-2, 2, 7)
    eager = p.moment(b, 1.5)
    np.testing.assert_allclose(f(p, b, 1.5), eager, rtol=1e-14)
    np.testing.assert_allclose(jax.vmap(p.moment, in_axes=(0, None))(b, 1.5), eager, rtol=1e-14)
    f(p, b + 1.0, 1.5)
    f(Paramagnet(2.0, 1.9, n=1e28), b, 1.5)  # new g value: same structure, no retrace
    assert len(traces) == 1


def test_float32():
    """float32 inputs give float32 outputs within ~1e-6 of float64."""
    p = Paramagnet(3.5, 2.0, n=1e28)
    b32, t32 = BB.astype(np.float32), TT.astype(np.float32)
    m32 = p.moment(b32, t32)
    assert m32.dtype == jnp.float32
    m64 = p.moment(b32.astype(np.float64), t32.astype(np.float64))
    np.testing.assert_allclose(m32, m64, rtol=2e-6, atol=7.0 * 1e-6)
    chi32 = p.susceptibility(np.float32(4.0))
    assert chi32.dtype == jnp.float32 and np.isfinite(chi32)
    np.testing.assert_allclose(chi32, curie_constant(3.5, 2.0, 1e28) / 4.0, rtol=1e-5)


def test_curie_helpers():
    """mu_eff = g sqrt(J(J+1)) (Gd3+: 7.94 mu_B); C_molar in emu K/mol = N_A mu_B^2 mu_eff^2 /
    (3 k_B) in cgs = 0.12505 mu_eff^2 (the 'mu_eff^2 / 8' rule)."""
    np.testing.assert_allclose(effective_moment(3.5, 2.0), 7.937253933, rtol=1e-9)
    c_cgs = chi_si_molar_to_cgs(curie_constant_molar(3.5, 2.0))
    ref = 6.02214076e23 * (9.2740100783e-21) ** 2 / (3 * 1.380649e-16) * 63.0
    np.testing.assert_allclose(c_cgs, ref, rtol=1e-9)
    np.testing.assert_allclose(
        curie_constant_molar(0.5, 2.0), curie_constant(0.5, 2.0, N_A), rtol=1e-14
    )
    np.testing.assert_allclose(curie_weiss(np.array([20.0, 30.0]), 2.0, -10.0), [2 / 30, 2 / 40])
    np.testing.assert_allclose(curie_weiss(20.0, 2.0, 10.0), 0.2)


def test_bad_input():
    for J in (0.3, 0, -1, "a", float("nan")):
        with pytest.raises(ValueError, match="J"):
            Paramagnet(J)
    for g in (0.0, -2.0, float("inf")):
        with pytest.raises(ValueError, match="g"):
            Paramagnet(1.0, g)
    with pytest.raises(ValueError, match="n"):
        Paramagnet(1.0, 2.0, n=-1e28)
    with pytest.raises(ValueError, match="shape"):
        Paramagnet(1.0, jnp.array([2.0, 2.0]))
    p = Paramagnet(1.0, 2.0)
    with pytest.raises(ValueError, match="density"):
        p.magnetization(1.0, 1.0)
    with pytest.raises(ValueError, match="density"):
        p.susceptibility(1.0)
    for t in (0.0, -1.0, float("nan")):
        with pytest.raises(Exception, match="temperature"):
            p.moment(1.0, t)
    with pytest.raises(Exception, match="temperature"):
        eqx.filter_jit(lambda m, t: m.moment(1.0, t))(p, jnp.array([1.0, 0.0]))
    with pytest.raises(Exception, match="field"):
        p.moment(float("nan"), 1.0)
    with pytest.raises(Exception, match="field"):
        jax.jit(lambda b: p.free_energy(b, 1.0))(jnp.inf)
    with pytest.raises(Exception, match="g must"):  # traced g <= 0 is caught at run time
        jax.jit(lambda g: Paramagnet(1.0, g).moment(1.0, 1.0))(-2.0)
    with pytest.raises(Exception, match="T > theta"):
        curie_weiss(5.0, 1.0, 10.0)
    with pytest.raises(Exception, match="multiple of 1/2"):
        curie_constant(0.7, 2.0, 1e28)
    with pytest.raises(Exception, match="density"):
        curie_constant(0.5, 2.0, 0.0)


@eqx.filter_jit
def _values_and_gradients(p, b, t):
    m = p.moment(b, t)
    gb, gt = jax.grad(p.moment, argnums=(0, 1))(b, t)
    return m, gb, gt, p.susceptibility(t, b)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    J=st.sampled_from([0.5, 1.0, 2.5, 7.5]),
    g=st.floats(0.1, 5.0),
    b=st.floats(-60.0, 60.0),
    t=st.floats(1e-3, 1e4),
)
def test_property_finite_values_and_gradients(J, g, b, t):
    """Random valid (J, g, B, T): no NaN/inf in moment, chi or their gradients; |mu| <= gJ."""
    p = Paramagnet(J, g, n=1e28)
    m, gb, gt, chi = _values_and_gradients(p, jnp.asarray(b), jnp.asarray(t))
    assert all(np.isfinite(v) for v in (m, gb, gt, chi))
    assert abs(float(m)) <= g * J * (1 + 1e-12)
    # dm/dB >= 0 and chi >= 0 up to round-off on the Curie scale g^2 J(J+1) mu_B / (3 k_B T)
    # (deep in saturation dm/dB ~ exp(-x) underflows into round-off of either sign)
    curie_slope = g**2 * J * (J + 1) / 3 * 9.2740100783e-24 / (1.380649e-23 * t)
    assert float(gb) >= -1e-12 * curie_slope
    # chi on its Curie scale n mu_0 mu_B^2 g^2 J(J+1) / (3 k_B T) (n = 1e28 m^-3)
    curie_chi = 1e28 * 1.25663706212e-6 * 9.2740100783e-24 * curie_slope
    assert float(chi) >= -1e-12 * curie_chi
