"""Issue 17, lattice: float32 implicit gradients of the mean field, and value checks of the
anisotropy axis and of given spins (eagerly and under jax.jit)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import lattice as nl
from netmag_jax.constants import K_B


def _ising_mf_dmdT(T, Tc):
    """Ising mean field m = tanh(Tc m / T): dm/dT by implicit differentiation (analytic)."""
    m = 1.0
    for _ in range(200):
        m = math.tanh(Tc * m / T)
    s = 1.0 - m * m
    return -s * Tc * m / T**2 / (1.0 - s * Tc / T)


@pytest.mark.parametrize("T", [2.0, 9.0])
def test_weiss_float32_gradient_is_finite_and_right(T):
    """Before: NaN at every T in float32 ((k_B T)^2 underflows); now the analytic value."""
    with jax.enable_x64(False):
        g = jax.grad(lambda t: nl.weiss(t, 10.0, J=0.5))(jnp.float32(T))
        assert g.dtype == jnp.float32
        gB = jax.grad(lambda t: nl.weiss(t, 10.0, J="classical", B=1.0))(jnp.float32(T))
    np.testing.assert_allclose(float(g), _ising_mf_dmdT(T, 10.0), rtol=2e-3)
    g64 = jax.grad(lambda t: nl.weiss(t, 10.0, J="classical", B=1.0))(T)
    np.testing.assert_allclose(float(gB), float(g64), rtol=2e-3)


def test_two_sublattice_float32_gradient_matches_float64():
    af64 = nl.TwoSublattice.antiferromagnet(2.5, -4 * K_B)
    g64 = jax.grad(lambda t: af64.solve(t)[0])(5.0)
    with jax.enable_x64(False):
        af = nl.TwoSublattice.antiferromagnet(2.5, -4 * K_B)
        g32 = jax.grad(lambda t: af.solve(t)[0])(jnp.float32(5.0))
    assert np.isfinite(float(g32))
    np.testing.assert_allclose(float(g32), float(g64), rtol=2e-3)


@pytest.mark.parametrize("axis", [[0.0, 0.0, 0.0], [np.nan, 0.0, 1.0], [np.inf, 0.0, 0.0]])
def test_anisotropy_axis_must_be_nonzero_and_finite(axis):
    lat = nl.cubic(2)
    with pytest.raises(eqx.EquinoxRuntimeError, match="axis"):
        nl.Heisenberg(lat, anisotropy=(K_B, jnp.asarray(axis)))
    with pytest.raises(Exception, match="axis must be a finite"):  # at run time under jit
        jax.jit(lambda a: nl.Heisenberg(lat, anisotropy=(K_B, a)).axis)(jnp.asarray(axis))


def test_anisotropy_axis_is_normalised():
    m = nl.Heisenberg(nl.cubic(2), anisotropy=(K_B, jnp.array([0.0, 3.0, 4.0])))
    np.testing.assert_allclose(m.axis, [0.0, 0.6, 0.8], rtol=1e-12)


def test_init_and_evolve_spins_must_be_unit():
    model = nl.Heisenberg(nl.chain(4))
    bad = jnp.ones((4, 3))  # |s| = sqrt 3
    with pytest.raises(eqx.EquinoxRuntimeError, match="init spins"):
        nl.simulate(model, jax.random.key(0), [1.0], 16, 0, init=bad)
    with pytest.raises(eqx.EquinoxRuntimeError, match="spins"):
        nl.evolve(model, jax.random.key(0), bad.at[0].set(jnp.nan), 1.0, 1)
    ising = nl.Ising(nl.chain(4))
    with pytest.raises(eqx.EquinoxRuntimeError, match="init spins"):
        nl.simulate(ising, jax.random.key(0), [1.0], 16, 0, init=jnp.array([1.0, 0.5, 1, 1]))
