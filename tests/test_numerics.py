"""Safe special functions: closed forms, series limits, extreme arguments, gradients at 0."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from netmag_jax._dtypes import complex_dtype
from netmag_jax._numerics import brillouin, cis, langevin, rotate, rotation_coefficients, safe_norm


def _brillouin_reference(J, x):
    """Direct coth form in float64 NumPy (valid away from x = 0)."""
    a = (2 * J + 1) / (2 * J)
    b = 1 / (2 * J)
    return a / np.tanh(a * x) - b / np.tanh(b * x)


@pytest.mark.parametrize("J", [0.5, 1.0, 1.5, 2.0, 3.5, 7.5])
def test_brillouin_matches_coth_form(J):
    x = np.linspace(0.7, 30.0, 200)
    x = np.concatenate([-x, x])
    np.testing.assert_allclose(brillouin(J, x), _brillouin_reference(J, x), rtol=1e-13)


def test_brillouin_half_is_tanh():
    """B_{1/2}(x) = tanh(x) exactly (two-level system)."""
    x = jnp.linspace(-40.0, 40.0, 1001)
    np.testing.assert_allclose(brillouin(0.5, x), np.tanh(np.asarray(x)), rtol=1e-14, atol=1e-16)


def test_brillouin_spin_one_three_level_sum():
    """J = 1: B_1(x) = 2 sinh(x) / (1 + 2 cosh(x)) from the three-level sum (m = -1, 0, 1)."""
    x = np.linspace(-20.0, 20.0, 401)
    ref = 2 * np.sinh(x) / (1 + 2 * np.cosh(x))
    np.testing.assert_allclose(brillouin(1.0, x), ref, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("J", [0.5, 1.0, 2.5])
def test_brillouin_small_x_slope(J):
    """Curie limit: B_J(x) ~ (J+1) x / (3J); derivative at exactly 0."""
    d = jax.grad(lambda x: brillouin(J, x))(0.0)
    np.testing.assert_allclose(d, (J + 1) / (3 * J), rtol=1e-14)
    d2 = jax.grad(jax.grad(lambda x: brillouin(J, x)))(0.0)
    assert d2 == 0.0  # odd function
    check_grads(lambda x: brillouin(J, x), (0.0,), order=2)
    check_grads(lambda x: brillouin(J, x), (2.0,), order=2)


def test_langevin_series_and_limits():
    """L(x) = x/3 - x^3/45 near 0; 1 - 1/x for large x; no overflow at 1e3 or 1e30."""
    x = np.array([1e-8, 1e-4, 1e-2, 0.05])
    np.testing.assert_allclose(
        langevin(x), x / 3 - x**3 / 45 + 2 * x**5 / 945 - x**7 / 4725, rtol=1e-14
    )
    # just below the series cut-off, against the closed form (rel. error ~3 eps / x^2 there)
    np.testing.assert_allclose(langevin(0.99), 1 / np.tanh(0.99) - 1 / 0.99, rtol=1e-14)
    big = jnp.array([1e3, -1e3, 1e30])
    np.testing.assert_allclose(langevin(big), np.sign(big) - 1 / np.asarray(big), rtol=1e-15)
    assert jnp.all(jnp.isfinite(jax.vmap(jax.grad(langevin))(big)))
    xs = np.linspace(1.0, 50, 300)
    np.testing.assert_allclose(langevin(xs), 1 / np.tanh(xs) - 1 / xs, rtol=1e-14)


def test_brillouin_large_J_tends_to_langevin():
    x = np.linspace(-10, 10, 101)
    np.testing.assert_allclose(brillouin(5000.0, x), langevin(x), atol=2e-4)


def test_float32_accuracy():
    """float32: relative error < 1e-6 (about 8 ulp) against the float64 result over the real
    line."""
    x64 = np.concatenate([np.linspace(-1e3, 1e3, 2001), np.linspace(-2, 2, 2001)])
    for J in (0.5, 1.0, 3.5):
        r32 = np.asarray(brillouin(np.float32(J), x64.astype(np.float32)), dtype=np.float64)
        r64 = np.asarray(brillouin(J, x64.astype(np.float32).astype(np.float64)))
        assert np.all(np.abs(r32 - r64) <= 1e-6 * np.abs(r64) + 1e-12)
        assert brillouin(np.float32(J), x64.astype(np.float32)).dtype == jnp.float32


def test_invalid_J_raises():
    with pytest.raises(Exception, match="multiple of 1/2"):
        brillouin(0.3, 1.0)
    with pytest.raises(Exception, match="multiple of 1/2"):
        jax.jit(brillouin)(-1.0, 1.0)


def test_safe_norm_gradient_at_zero():
    g = jax.grad(lambda v: safe_norm(v))(jnp.zeros(3))
    assert jnp.all(g == 0.0)
    v = jnp.array([3.0, 4.0, 0.0])
    np.testing.assert_allclose(safe_norm(v), 5.0)
    np.testing.assert_allclose(jax.grad(safe_norm)(v), v / 5.0)


def _rotation_matrix(w):
    """exp([w]_x) by scipy's matrix exponential (independent of Rodrigues' formula)."""
    from scipy.linalg import expm

    wx = np.array([[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]])
    return expm(wx)


@pytest.mark.parametrize("angle", [0.0, 1e-6, 0.0999, 0.1001, 1.0, 3.0, 10.0])
def test_rotate_equals_matrix_exponential(angle):
    """R(w) v = expm([w]_x) v on both sides of the series threshold theta^2 = 1e-2."""
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    w = angle * axis
    v = np.array([[0.2, 0.7, -0.4], [1.0, 0.0, 0.0]])
    ref = v @ _rotation_matrix(w).T
    np.testing.assert_allclose(rotate(v, w), ref, rtol=0, atol=1e-15 * max(1.0, angle))


def test_rotation_coefficients_series_meets_closed_form():
    """A = sin t/t, B = (1 - cos t)/t^2, C = cos t across s = t^2 = 1e-2 (series boundary)."""
    s = np.array([1e-12, 9.999e-3, 1.0001e-2, 0.5])
    A, B, C = rotation_coefficients(jnp.asarray(s))
    t = np.sqrt(s)
    np.testing.assert_allclose(A, np.sin(t) / t, rtol=1e-15)
    np.testing.assert_allclose(B, 2 * np.sin(t / 2) ** 2 / s, rtol=1e-15)
    np.testing.assert_allclose(C, np.cos(t), rtol=1e-15)
    d = jax.grad(lambda x: rotation_coefficients(x)[1])
    assert float(d(0.0)) == pytest.approx(-1.0 / 24.0, rel=1e-15)  # B = 1/2 - s/24 + ...


def test_rotate_is_the_one_public_rotation():
    """mri.rotate and dynamics.rotate are the same function (one implementation)."""
    from netmag_jax import dynamics, mri

    assert mri.rotate is rotate
    assert dynamics.rotate is rotate


def test_cis_precision_follows_input():
    """cis(phi) = cos + i sin, complex64 for float32, default float for integers."""
    phi = jnp.array([0.0, 1.0, -2.5])
    np.testing.assert_allclose(cis(phi), np.exp(1j * np.asarray(phi)), rtol=1e-15)
    assert cis(phi.astype(jnp.float32)).dtype == jnp.complex64
    assert cis(jnp.arange(3)).dtype == jnp.complex128  # x64 is on in the tests
    assert complex_dtype(jnp.float32) == jnp.complex64
    assert complex_dtype(jnp.complex128) == jnp.complex128
