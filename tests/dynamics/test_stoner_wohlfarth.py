"""Stoner-Wohlfarth particle (astroid, branches, loop) and thermal stability of grains."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn


def test_switching_field_special_angles():
    """h_sw(0) = h_sw(90 deg) = 1 and h_sw(45 deg) = 1/2 (Stoner & Wohlfarth 1948)."""
    h = dyn.switching_field(jnp.array([0.0, np.pi / 4, np.pi / 2]))
    assert np.allclose(h, [1.0, 0.5, 1.0], atol=1e-12)


def test_switching_field_is_where_branch_ends():
    """Independent check of the astroid to 1e-3: the up branch found by energy minimization
    exists at h = -(1 - 1e-3) h_sw(psi) and is gone at h = -(1 + 1e-3) h_sw(psi)."""
    f = jax.jit(jax.vmap(lambda h, p: dyn.stoner_wohlfarth(h, p).up_exists))
    psi = jnp.array([0.1, 0.3, 0.6, 0.9, 1.2, 1.45])
    hs = dyn.switching_field(psi)
    assert np.all(f(-(1 - 1e-3) * hs, psi))
    assert not np.any(f(-(1 + 1e-3) * hs, psi))


def test_astroid_parametric_form():
    """At switching e' = e'' = 0: the astroid h_par = cos^3(t), h_perp = sin^3(t) with
    tan^3(theta_c) = -tan(psi) (independent parametrization) gives the same h_sw."""
    t = np.linspace(0.05, np.pi / 2 - 0.05, 20)
    hpar, hperp = np.cos(t) ** 3, np.sin(t) ** 3
    psi = np.arctan2(hperp, hpar)
    assert np.allclose(dyn.switching_field(psi), np.hypot(hpar, hperp), rtol=1e-12)


def test_branches_zero_field_and_gradient():
    """h = 0: minima at theta = 0 and pi (m = +-u); implicit gradient dtheta/dh at h = 0 equals
    -sin(-psi)/1 = sin(psi) (from e'(theta) = 0 linearized), checked at psi = 0.4."""
    br = dyn.stoner_wohlfarth(0.0, 0.4)
    assert bool(br.up_exists) and bool(br.down_exists)
    assert abs(float(br.theta_up)) < 1e-12 and abs(abs(float(br.theta_down)) - np.pi) < 1e-12
    g = jax.grad(lambda h: dyn.stoner_wohlfarth(h, 0.4).theta_up)(0.0)
    assert abs(float(g) - np.sin(0.4)) < 1e-10


def test_sw_loop_coercivity_and_remanence():
    """Loop at psi = 30 and 60 deg: remanence cos(psi); coercivity h_sw(psi) for psi < 45 deg
    (within the sweep step) and sin(psi) cos(psi) for psi > 45 deg (interpolation error)."""
    for psi in (np.pi / 6, np.pi / 3):
        L = dyn.sw_loop(psi, 1.2, 121)
        step = 2.4 / 120
        assert abs(float(L.remanence) - np.cos(psi)) < 1e-10
        assert abs(float(L.coercivity) - float(dyn.coercivity(psi))) < step
    assert abs(float(dyn.coercivity(np.pi / 3)) - np.sin(np.pi / 3) * np.cos(np.pi / 3)) < 1e-12


def test_thermal_stability_and_retention():
    """Delta = K V / k_B T; tau = tau0 exp(Delta), tau0 = 1 ns; Delta = ln(10 yr / 1 ns) ~ 40.3
    gives 10 years (independent arithmetic)."""
    K, T = 3e5, 300.0
    V = 40.0 * C.K_B * T / K
    assert abs(float(dyn.thermal_stability(K, V, T)) - 40.0) < 1e-10
    assert abs(float(dyn.retention_time(K, V, T)) / (1e-9 * np.exp(40.0)) - 1) < 1e-12
    ten_years = 10 * 365.25 * 24 * 3600
    V10 = np.log(ten_years / 1e-9) * C.K_B * T / K
    assert abs(float(dyn.retention_time(K, V10, T)) / ten_years - 1) < 1e-10
    assert abs(float(dyn.energy_barrier(K, V, 0.5)) / (K * V * 0.25) - 1) < 1e-12
    assert abs(float(dyn.anisotropy_field(K, 8e5)) - 2 * K / (C.MU_0 * 8e5)) < 1e-6


def test_thermal_stability_gradient():
    """d ln(tau)/dV = K / (k_B T) (autodiff vs analytic)."""
    K, T = 3e5, 300.0
    g = jax.grad(lambda V: jnp.log(dyn.retention_time(K, V, T)))(1e-25)
    assert abs(float(g) / (K / (C.K_B * T)) - 1) < 1e-12


def test_bad_input():
    """T <= 0, V <= 0, Ms <= 0 raise run-time errors."""
    with pytest.raises(eqx.EquinoxRuntimeError, match="T"):
        dyn.thermal_stability(3e5, 1e-25, 0.0)
    with pytest.raises(eqx.EquinoxRuntimeError, match="V"):
        dyn.retention_time(3e5, -1e-25, 300.0)
    with pytest.raises(eqx.EquinoxRuntimeError, match="Ms"):
        dyn.anisotropy_field(3e5, -1.0)
    with pytest.raises(eqx.EquinoxRuntimeError, match="thickness"):
        dyn.stt_field(1e10, 8e5, 0.0)


def test_energy_barrier_outside_zero_one():
    """h = H/H_K was silently clipped to [0, 1]: a field along m (h < 0) deepens the well,
    K V (1 - h)^2 = K V (1 + |h|)^2 (psi = 0 SW energy, barrier between theta = pi and the
    maximum at cos theta = -h); h >= 1 leaves no metastable state (barrier 0); NaN is an error."""
    K, V = 1e5, 1e-24
    np.testing.assert_allclose(float(dyn.energy_barrier(K, V, -0.5)), K * V * 2.25, rtol=1e-12)
    assert float(dyn.energy_barrier(K, V, 1.5)) == 0.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="h"):
        dyn.energy_barrier(K, V, float("nan"))
    # from the SW energy itself (m at theta = pi, field h along theta = 0, h < 0 along m):
    # 2 K V [e(theta_max) - e(pi)] with cos(theta_max) = -h
    h = -0.5
    e = lambda t: float(dyn.sw_energy(t, h, 0.0))  # noqa: E731
    np.testing.assert_allclose(2 * (e(np.arccos(-h)) - e(np.pi)), (1 - h) ** 2, rtol=1e-12)
