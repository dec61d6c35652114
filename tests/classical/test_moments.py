"""Analytic side of Bohr-van Leeuwen: orbit moments, interior share, integrator geometry."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.integrate import quad

from netmag_jax import constants as const
from netmag_jax.classical import predicted_moments
from netmag_jax.classical._langevin import drift_disk, drift_square, step
from netmag_jax.classical._moments import _fit_weights, orbit_fits


@pytest.mark.parametrize("b", [0.05, 0.3, 0.49, 0.51, 1.0, 2.5, 6.4, 30.0])
def test_fit_weights_match_quadrature(b):
    """E(b) = <u 1_fits (1-rho/l)^2>, F(b) = P(fits) against direct numerical quadrature."""
    e_ref = quad(
        lambda u: u * math.exp(-u) * (1 - math.sqrt(u) / b) ** 2,
        0,
        b * b,
        epsabs=1e-15,
        epsrel=1e-12,
    )[0]
    f_ref = quad(
        lambda u: math.exp(-u) * (1 - math.sqrt(u) / b) ** 2, 0, b * b, epsabs=1e-15, epsrel=1e-12
    )[0]
    e, f = _fit_weights(jnp.asarray(b))
    np.testing.assert_allclose(float(e), e_ref, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(float(f), f_ref, rtol=1e-9, atol=1e-300)


def test_large_box_is_langevin_diamagnet():
    """Box >> r_c: interior moment -> -N k_B T / B (1 - 3 sqrt(pi)/(2b) + 2/b^2), fraction ->
    1 - sqrt(pi)/b + 1/b^2 (boundary-layer expansion of the closed form)."""
    B, T, N = 2.0, 4.0, 10
    R = 1e-3  # 1 mm disk, r_c ~ 50 nm
    p = predicted_moments(B, T, R, N)
    kT = const.K_B * T
    b = const.E_CHARGE * B * R / (math.sqrt(2) * math.sqrt(const.M_E * kT))
    np.testing.assert_allclose(
        p.interior, -N * kT / B * (1 - 1.5 * math.sqrt(math.pi) / b + 2 / b**2), rtol=1e-12
    )
    np.testing.assert_allclose(
        p.interior_fraction, 1 - math.sqrt(math.pi) / b + 1 / b**2, rtol=1e-12
    )
    np.testing.assert_allclose(p.edge, -p.interior, rtol=1e-15)
    assert float(p.total) == 0.0


def test_square_side_equals_disk_diameter_scaling():
    """The square of side L has P(fits | v) = (1 - 2 rho/L)^2, the disk of radius L/2 the same."""
    a = predicted_moments(1.0, 1.0, 0.2e-6, 7, "square")
    b = predicted_moments(1.0, 1.0, 0.1e-6, 7, "disk")
    np.testing.assert_allclose(a.interior, b.interior, rtol=1e-12)


def test_prediction_odd_in_B_and_zero_at_B0_with_finite_gradient():
    """Diamagnetic interior moment is odd in B; B = 0 gives 0 with finite slope (E ~ b^4/30)."""
    f = jax.jit(lambda B: predicted_moments(B, 1.0, 0.1e-6, 1).interior)
    np.testing.assert_allclose(f(-0.7), -f(0.7), rtol=1e-12)
    assert float(f(0.0)) == 0.0
    g0 = jax.grad(f)(0.0)
    assert np.isfinite(float(g0)) and abs(float(g0)) < 1e-30
    check_grads(f, (1.3,), order=1, modes=["rev"], rtol=1e-5)
    check_grads(f, (0.01,), order=1, modes=["rev"], rtol=1e-5)


def test_orbit_fits_geometry():
    """Guiding centre R = r + (v_y, -v_x)/omega and radius |v|/|omega| decide 'fits'."""
    r = jnp.array([[0.0, 0.0], [0.85, 0.0], [0.85, 0.0], [0.0, 0.0]])
    v = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, 0.0]])
    # omega = 10: radius 0.1. (0.85,0) moving +y: centre (0.95, 0) -> reaches 1.05 > 1.
    # moving -y: centre (0.75, 0) -> reaches 0.85, fits. Last: omega 0 -> never fits.
    fits = orbit_fits(r, v, 10.0, "disk")
    np.testing.assert_array_equal(np.asarray(fits)[:3], [True, False, True])
    assert not bool(orbit_fits(r[3], v[3], 0.0, "disk"))
    # square corner: centre (0.75, 0.75) radius 0.1 fits the square, not the unit disk
    rc, vc = jnp.array([0.75, 0.85]), jnp.array([1.0, 0.0])
    assert bool(orbit_fits(rc, vc, 10.0, "square"))
    assert not bool(orbit_fits(rc, vc, 10.0, "disk"))


def test_free_orbit_moment_is_minus_kinetic_energy_over_B():
    """Noise-free steps (c_ou = 1): the orbit is a circle about a fixed guiding centre and the
    time-averaged (sgn q/2) r x v equals -sgn(q) v^2 / (2 omega) (reduced form of -E_kin/B)."""
    omega, h, n = 10.0, 0.01, 6283  # 10 full turns (omega h n = 20 pi)
    state0 = (jnp.array([0.3]), jnp.array([-0.2]), jnp.array([0.6]), jnp.array([0.8]))
    xi = (jnp.zeros(1), jnp.zeros(1))

    def body(s, _):
        s = step(s, xi, omega, h, 1.0, "disk")
        return s, s

    _, (xs, ys, vxs, vys) = jax.lax.scan(body, state0, None, length=n)
    rs = jnp.concatenate([xs, ys], axis=-1)
    vs = jnp.concatenate([vxs, vys], axis=-1)
    centre = jnp.stack([rs[:, 0] + vs[:, 1] / omega, rs[:, 1] - vs[:, 0] / omega], axis=-1)
    # the discrete orbit is a polygon; its guiding centre wobbles at O((omega h)^2)
    assert float(jnp.max(jnp.abs(centre - centre[:1]))) < 1e-3
    np.testing.assert_allclose(jnp.linalg.norm(vs, axis=-1), 1.0, rtol=1e-12)
    moment = 0.5 * jnp.mean(rs[:, 0] * vs[:, 1] - rs[:, 1] * vs[:, 0])
    np.testing.assert_allclose(float(moment), -1.0 / (2 * omega), rtol=2e-3)


def test_disk_billiard_conserves_speed_and_angular_momentum():
    """Specular reflection on a circle conserves |v| and r x v (B = 0 disk billiard)."""
    key = jax.random.key(3)
    r = 0.9 * jax.random.uniform(key, (200, 2), minval=-0.7, maxval=0.7)
    v = jax.random.normal(jax.random.fold_in(key, 1), (200, 2))
    L0 = r[:, 0] * v[:, 1] - r[:, 1] * v[:, 0]
    s0 = jnp.linalg.norm(v, axis=-1)

    def body(s, _):
        return drift_disk(*s, 0.05), None

    run = jax.jit(lambda s: jax.lax.scan(body, s, None, length=400)[0])
    x1, y1, vx1, vy1 = run((r[:, 0], r[:, 1], v[:, 0], v[:, 1]))
    assert float(jnp.max(jnp.hypot(x1, y1))) <= 1.0
    np.testing.assert_allclose(jnp.hypot(vx1, vy1), s0, rtol=1e-10)
    np.testing.assert_allclose(x1 * vy1 - y1 * vx1, L0, atol=1e-9)


def test_square_fold_equals_unfolded_flight():
    """Many wall hits in one flight: the folded coordinate is the mirror image of the straight
    unfolded path (period 4 for walls at +-1)."""
    x1, y1, vx1, vy1 = drift_square(0.2, -0.5, 3.7, -9.1, 1.0)
    # x: 0.2 + 3.7 = 3.9 -> reflections at +1 and -1 -> 3.9 - 4 = -0.1, v unchanged
    # y: -0.5 - 9.1 = -9.6 -> -9.6 + 8 = -1.6 -> mirror at -1: -0.4, v flipped
    np.testing.assert_allclose([float(x1), float(y1)], [-0.1, -0.4], atol=1e-12)
    np.testing.assert_allclose([float(vx1), float(vy1)], [3.7, 9.1], atol=1e-12)
