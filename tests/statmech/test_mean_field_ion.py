"""MeanFieldIon: the self-consistent ion M = m(B + lam M, T) against the Weiss spin-1/2
equation m = tanh(mu_B (B + lam m) / k_B T) solved by scipy's brentq, the spontaneous Weiss
moment at T = Tc/2, the high-temperature Curie-Weiss law, and its implicit gradients against
the analytic derivative and finite differences."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.optimize import brentq

from netmag_jax.constants import K_B, MU_B, meV_to_J
from netmag_jax.statmech import MeanFieldIon, SingleIon, exchange_from_lambda, lambda_from_theta

SPIN_HALF = SingleIon(0.5, 2.0)  # g J = 1: moment in mu_B equals the reduced moment


def weiss_half(lam, B, T):
    """Root of m = tanh(mu_B (B + lam m) / k_B T) on [-1, 1] by brentq (scipy)."""
    return brentq(lambda m: m - math.tanh(MU_B * (B + lam * m) / (K_B * T)), -1, 1, xtol=1e-15)


def mz(lam, B, T, ion=SPIN_HALF):
    return MeanFieldIon(ion, lam).moment(jnp.stack([0.0 * B, 0.0 * B, B]), T)[2]


@pytest.mark.parametrize(
    "lam, B, T", [(-3.0, 1.0, 2.0), (-0.5, 0.2, 0.5), (2.0, 0.5, 1.0), (0.7, 3.0, 4.0)]
)
def test_spin_half_weiss_equation_matches_brentq(lam, B, T):
    """Antiferro- (lam < 0) and ferromagnetic (lam > 0) molecular fields: the moment equals
    scipy's root of the Weiss equation to 1e-10; lam = 0 is tanh(mu_B B / k_B T)."""
    assert float(mz(lam, B, T)) == pytest.approx(weiss_half(lam, B, T), abs=1e-10)
    assert float(mz(0.0, B, T)) == pytest.approx(math.tanh(MU_B * B / (K_B * T)), abs=1e-13)


def test_spontaneous_weiss_moment_at_half_tc():
    """Tc = lam mu_B / k_B; at T = Tc/2 and B -> 0+ the ordered root of m = tanh(2 m),
    m0 = 0.95750 (brentq), is reached (not the unstable m = 0)."""
    lam = 5.0
    Tc = lam * MU_B / K_B
    m0 = brentq(lambda m: m - math.tanh(2 * m), 0.5, 1.0, xtol=1e-15)
    assert float(mz(lam, 1e-9, Tc / 2)) == pytest.approx(m0, abs=1e-8)


def test_high_temperature_curie_weiss_law():
    """Free spin 1/2 (g = 2) with lam = lambda_from_theta(theta): at 30 K and 1 mT,
    M/B = C / (T - theta), C = g^2 J(J+1) mu_B / (3 k_B) [mu_B K / T], to 1e-6 (tanh is
    linear there to O(x^2) ~ 1e-9)."""
    J, g, theta, T, B = 0.5, 2.0, -12.0, 30.0, 1e-3
    C = g * g * J * (J + 1) * MU_B / (3 * K_B)
    lam = lambda_from_theta(theta, J, g)
    m = float(mz(lam, B, T))
    assert m / B == pytest.approx(C / (T - theta), rel=1e-6)
    # z J_ex = lam g^2 mu_B / (g - 1)^2 with g = 2: 4 lam mu_B
    assert exchange_from_lambda(lam, g) == pytest.approx(4 * lam * MU_B, rel=1e-14)


def test_implicit_gradient_equals_analytic_derivative():
    """d m / d lam of the spin-1/2 Weiss equation: s a m / (1 - s a lam), with
    a = mu_B / k_B T, s = sech^2(a (B + lam m)) (implicit function theorem by hand), to
    1e-10; forward and reverse mode agree."""
    lam, B, T = -2.0, 0.8, 1.5
    m = weiss_half(lam, B, T)  # same (B, T) shapes as above: the forward pass is compiled
    a = MU_B / (K_B * T)
    s = 1.0 / math.cosh(a * (B + lam * m)) ** 2
    exact = s * a * m / (1 - s * a * lam)
    rev = jax.grad(mz)(jnp.asarray(lam), B, T)
    fwd = jax.jacfwd(mz)(jnp.asarray(lam), B, T)
    assert float(rev) == pytest.approx(exact, rel=1e-10)
    assert float(fwd) == pytest.approx(exact, rel=1e-10)


def _er_ion(scale=1.0):
    """Er3+ (J = 15/2, g = 6/5) in a trigonal field (B20, B40, B43 [meV] of the order of
    CsErSe2's)."""
    st = {(2, 0): -0.035 * scale, (4, 0): -3.8e-4, (4, 3): -0.014}
    return SingleIon(7.5, 1.2, stevens={k: meV_to_J(v) for k, v in st.items()})


def test_crystal_field_gradients_against_finite_differences():
    """Er3+ with anisotropic lam = (lam_ab, lam_ab, lam_c) = (-0.05, -0.05, -0.1) T/mu_B at
    5 K, field in the xz plane: forward-mode derivatives (what the fits use) of the moment
    vector with respect to lam_ab, lam_c, the field, T and a crystal-field parameter (scale
    of B20) equal central finite differences (jax.test_util.check_grads)."""

    def f(lam_ab, lam_c, bx, bz, T, scale):
        lam = jnp.stack([lam_ab, lam_ab, lam_c])
        return MeanFieldIon(_er_ion(scale), lam).moment(jnp.stack([bx, 0.0 * bx, bz]), T)

    args = tuple(jnp.asarray(v) for v in (-0.05, -0.1, 0.7, 0.4, 5.0, 1.0))
    check_grads(f, args, order=1, modes=("fwd",), eps=1e-5, atol=1e-6, rtol=1e-6)


def test_batches_agree_and_antiferromagnetic_lam_lowers_m():
    """Er3+: a point of a batch equals its single-point result (1e-12); an
    antiferromagnetic lam lowers the moment along the field below lam = 0 (the single ion,
    see the spin-1/2 test for lam = 0 against the closed form)."""
    B = jnp.array([[0.5, 0.0, 0.0], [0.0, 0.0, 2.0], [1.0, 0.0, 1.0]])
    T = jnp.array([2.0, 5.0, 10.0])
    free = MeanFieldIon(_er_ion(), jnp.zeros(3)).moment(B, T)
    mf = MeanFieldIon(_er_ion(), jnp.array([-0.05, -0.05, -0.1]))
    batch = mf.moment(B, T)
    np.testing.assert_allclose(batch[0], mf.moment(B[0], T[0]), rtol=1e-12)
    along = jnp.sum(batch * B, axis=-1) / jnp.sum(free * B, axis=-1)
    assert np.all(np.asarray(along) < 1.0)


def test_invalid_input_and_non_convergence():
    with pytest.raises(ValueError, match="shape"):
        MeanFieldIon(SPIN_HALF, jnp.ones(2))
    with pytest.raises(TypeError, match="SingleIon"):
        MeanFieldIon("ion", 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_steps"):
        MeanFieldIon(SPIN_HALF, 0.1, max_steps=0)
    with pytest.raises(Exception, match="lam"):
        MeanFieldIon(SPIN_HALF, jnp.nan).moment(jnp.array([0.0, 0.0, 1.0]), 1.0)
    slow = MeanFieldIon(SPIN_HALF, -3.0, max_steps=1)  # one Newton step cannot reach 1e-11
    with pytest.raises(Exception, match="did not converge"):
        slow.moment(jnp.array([0.0, 0.0, 1.0]), 2.0)
    assert np.all(np.isnan(slow.moment(jnp.array([0.0, 0.0, 1.0]), 2.0, throw=False)))
