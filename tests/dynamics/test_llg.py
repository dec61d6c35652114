"""LLG macrospin dynamics: analytic precession/damping, Kittel FMR, thermal equilibrium,
Brown's escape time, spin-transfer-torque switching, invariants and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.integrate import quad

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn
from netmag_jax.statmech import langevin

GAMMA = dyn.GAMMA_E
Z = jnp.array([0.0, 0.0, 1.0])


def _phase(m):
    return np.unwrap(np.arctan2(np.asarray(m[:, 1]), np.asarray(m[:, 0])))


def test_gamma_e_is_codata():
    """|gamma_e| = g_e mu_B / hbar = 1.76085963e11 rad/(s T) (CODATA 2018)."""
    assert abs(GAMMA / 1.76085963023e11 - 1.0) < 1e-9


def test_larmor_frequency_and_norm_alpha0():
    """alpha = 0 in a static field: precession at omega = gamma mu0 H (Larmor), |m| = 1."""
    H0 = 8e4
    sol = dyn.llg(jnp.array([0.6, 0.0, 0.8]), H0 * Z, 2e-13, 4000, alpha=0.0, save_every=20)
    w = np.polyfit(np.asarray(sol.t), _phase(sol.m), 1)[0]
    # dm/dt = -gamma mu0 m x H: m precesses counter-clockwise about H (phase increases)
    assert abs(w / (GAMMA * C.MU_0 * H0) - 1.0) < 1e-10
    assert np.max(np.abs(np.linalg.norm(sol.m, axis=-1) - 1.0)) < 1e-13
    assert np.allclose(sol.m[:, 2], 0.8, atol=1e-13)


def test_energy_conserved_alpha0_with_anisotropy():
    """alpha = 0: E = -Ku (m.u)^2 - mu0 Ms m.H is conserved (second-order scheme, drift O(dt^2))."""
    Ms, Ku, H = 8e5, 2e5, jnp.array([3e4, 0.0, 5e4])
    u = jnp.array([0.0, 0.0, 1.0])
    field = lambda m, t: 2 * Ku / (C.MU_0 * Ms) * (m @ u)[..., None] * u + H
    energy = lambda m: -Ku * (m @ u) ** 2 - C.MU_0 * Ms * m @ H
    m0 = jnp.array([1.0, 0.0, 0.0])
    dt = 0.01 / (GAMMA * C.MU_0 * 2 * Ku / (C.MU_0 * Ms))
    sol = dyn.llg(m0, field, dt, 5000, alpha=0.0, save_every=50)
    e = np.asarray(jax.vmap(energy)(sol.m))
    assert np.max(np.abs(e - energy(m0))) / Ku < 1e-4


def test_damping_exact_solution():
    """Uniform field, alpha > 0: tan(theta/2) = tan(theta0/2) exp(-alpha gamma' mu0 H t)
    (exact solution of the LL equation)."""
    H0, alpha, th0 = 1e5, 0.1, 2.5
    m0 = jnp.array([np.sin(th0), 0.0, np.cos(th0)])
    sol = dyn.llg(m0, H0 * Z, 1e-13, 4000, alpha=alpha, save_every=100)
    th = np.arccos(np.clip(np.asarray(sol.m[:, 2]), -1, 1))
    rate = alpha * GAMMA / (1 + alpha**2) * C.MU_0 * H0
    expect = 2 * np.arctan(np.tan(th0 / 2) * np.exp(-rate * np.asarray(sol.t)))
    assert np.max(np.abs(th - expect)) < 2e-6  # O((omega dt)^2) global error
    # precession frequency with damping is gamma' mu0 H
    w = np.polyfit(np.asarray(sol.t), _phase(sol.m), 1)[0]
    assert abs(w / (GAMMA / (1 + alpha**2) * C.MU_0 * H0) - 1) < 1e-6


def test_kittel_fmr_thin_film():
    """In-plane magnetized thin film (N_zz = 1): omega = gamma mu0 sqrt(H (H + Ms))
    (Kittel 1948)."""
    Ms, H0 = 8e5, 5e4
    field = lambda m, t: jnp.stack([H0 + 0 * m[0], 0 * m[1], -Ms * m[2]])
    m0 = jnp.array([np.cos(0.01), np.sin(0.01), 0.0])
    wk = GAMMA * C.MU_0 * np.sqrt(H0 * (H0 + Ms))
    dt = 0.02 / wk
    sol = dyn.llg(m0, field, dt, 20000, alpha=0.0, save_every=1)
    my = np.asarray(sol.m[:, 1])
    # upward zero crossings of m_y - mean give the period
    y = my - my.mean()
    idx = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    tz = np.asarray(sol.t)[idx] - dt * y[idx] / (y[idx + 1] - y[idx])
    w = 2 * np.pi / np.mean(np.diff(tz))
    assert abs(w / wk - 1) < 1e-3


def test_thermal_equilibrium_langevin():
    """Thermal macrospin, no anisotropy: <m_z> = L(mu0 Ms V H / k_B T) (Langevin function from
    statmech) at xi = 0.5 and 2; 256 spins each, fixed key; tolerance 4 x standard error of
    the per-spin time averages."""
    Ms, V, T = 8e5, (5e-9) ** 3, 300.0
    xi = np.array([0.5, 2.0])
    H = xi * C.K_B * T / (C.MU_0 * Ms * V)
    dt = 0.1 / (GAMMA * C.MU_0 * H[1])
    m0 = jnp.tile(Z, (2, 256, 1))
    Hf = jnp.asarray(H)[:, None, None] * Z[None, None, :]
    sol = dyn.llg(
        m0,
        Hf,
        dt,
        1000,
        alpha=1.0,
        save_every=5,
        temperature=T,
        Ms=Ms,
        volume=V,
        key=jax.random.PRNGKey(3),
    )
    for i in range(2):
        mz = np.asarray(sol.m[20:, i, :, 2])
        se = mz.mean(0).std() / np.sqrt(mz.shape[1])
        assert abs(mz.mean() - float(langevin(jnp.asarray(xi[i])))) < 4 * se + 2e-3
    assert np.max(np.abs(np.linalg.norm(sol.m, axis=-1) - 1)) < 1e-12


def test_thermal_field_deterministic_for_key():
    """Same key -> identical trajectory; another key -> a different one."""
    kw = dict(alpha=0.5, temperature=300.0, Ms=8e5, volume=1e-25, save_every=10)
    a = dyn.llg(Z, 1e5 * Z, 1e-13, 100, key=jax.random.PRNGKey(0), **kw).m
    b = dyn.llg(Z, 1e5 * Z, 1e-13, 100, key=jax.random.PRNGKey(0), **kw).m
    c = dyn.llg(Z, 1e5 * Z, 1e-13, 100, key=jax.random.PRNGKey(1), **kw).m
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(a), np.asarray(c))


def test_thermal_sigma_formula():
    """Brown: sigma^2 = 2 alpha k_B T / (gamma mu0^2 Ms V dt) (independent arithmetic)."""
    s = dyn.thermal_sigma(0.1, 300.0, 8e5, 1e-24, 1e-13)
    expect = np.sqrt(
        2 * 0.1 * 1.380649e-23 * 300 / (GAMMA * (4e-7 * np.pi) ** 2 * 8e5 * 1e-24 * 1e-13)
    )
    assert abs(float(s) / expect - 1) < 1e-8


@pytest.mark.slow
def test_brown_escape_time_order_of_magnitude():
    """Mean first-passage time over the barrier of a uniaxial macrospin (Delta = 4.5, alpha = 1)
    agrees with Brown's high-barrier formula within a factor 2 (order-of-magnitude check)."""
    Ms, Ku, T = 8e5, 2e5, 300.0
    delta = 4.5
    V = delta * C.K_B * T / Ku
    HK = 2 * Ku / (C.MU_0 * Ms)
    field = lambda m, t: jnp.zeros_like(m).at[..., 2].set(HK * m[..., 2])
    dt = 0.05 / (GAMMA * C.MU_0 * HK)
    n = 256
    sol = dyn.llg(
        jnp.tile(Z, (n, 1)),
        field,
        dt,
        6000,
        alpha=1.0,
        save_every=5,
        temperature=T,
        Ms=Ms,
        volume=V,
        key=jax.random.PRNGKey(11),
    )
    mz = np.asarray(sol.m[:, :, 2])
    crossed = mz < -0.5
    assert crossed.any(0).mean() > 0.5
    first = np.where(crossed.any(0), crossed.argmax(0), mz.shape[0]) * 5 * dt
    # exponential first-passage times: MLE of the mean with censoring
    tau_sim = first.sum() / crossed.any(0).sum()
    tau_brown = float(dyn.brown_escape_time(Ku, Ms, V, T, 1.0))
    print("tau_sim/tau_brown", tau_sim / tau_brown)
    assert 0.5 < tau_sim / tau_brown < 2.0


def _perpendicular_free_layer():
    Ms, Ku, d, alpha, eta = 1.0e6, 1.0e6, 1.5e-9, 0.1, 0.6
    HKeff = 2 * Ku / (C.MU_0 * Ms) - Ms  # perpendicular thin film, N_zz = 1
    field = lambda m, t: jnp.zeros_like(m).at[..., 2].set(HKeff * m[..., 2])
    Jc = float(dyn.critical_current_density(alpha, Ms, d, HKeff, eta))
    return Ms, d, alpha, eta, HKeff, field, Jc


def test_stt_critical_current_switching():
    """Perpendicular free layer, p = +z, m from near -z: switches for J = 1.5 J_c0, stays for
    J = 0.8 J_c0 (J_c0 = 2 e alpha mu0 Ms d H_k,eff / (hbar eta), Sun 2000); the time to reach
    m_z = 0 matches the exact integral of dm_z/dt = gamma' mu0 (alpha H_k m_z + H_dl)(1 - m_z^2)."""
    Ms, d, alpha, eta, HK, field, Jc = _perpendicular_free_layer()
    th0 = 0.05
    m0 = jnp.array([np.sin(th0), 0.0, -np.cos(th0)])
    gp = GAMMA / (1 + alpha**2) * C.MU_0
    dt = 0.05 / (GAMMA * C.MU_0 * HK)
    for ratio, switches in [(1.5, True), (0.8, False)]:
        hdl = float(dyn.stt_field(ratio * Jc, Ms, d, eta))
        assert abs(hdl / (alpha * HK) - ratio) < 1e-9
        sol = dyn.llg(m0, field, dt, 6000, alpha=alpha, save_every=2, p=Z, h_dl=hdl)
        mz = np.asarray(sol.m[:, 2])
        assert (mz[-1] > 0.9) == switches
        if switches:
            i = np.argmax(mz > 0)
            t_sim = float(
                sol.t[i - 1] + (sol.t[i] - sol.t[i - 1]) * -mz[i - 1] / (mz[i] - mz[i - 1])
            )
            rhs = lambda x: 1.0 / (gp * (alpha * HK * x + hdl) * (1 - x * x))
            t_exact = quad(rhs, -np.cos(th0), 0.0, epsabs=0, epsrel=1e-12)[0]
            assert abs(t_sim / t_exact - 1) < 2e-3


def test_field_like_torque_acts_as_field():
    """A field-like torque H_fl p is equivalent to an extra field H_fl p (alpha, H_dl = 0)."""
    m0 = jnp.array([0.6, 0.0, 0.8])
    a = dyn.llg(m0, 2e4 * Z, 1e-13, 200, alpha=0.05, p=Z, h_fl=3e4).m
    b = dyn.llg(m0, 5e4 * Z, 1e-13, 200, alpha=0.05).m
    assert np.allclose(a, b, atol=1e-12)


def test_llg_rhs_perpendicular_and_gilbert_form():
    """dm/dt is perpendicular to m and satisfies the Gilbert form
    dm/dt = -gamma mu0 m x H + alpha m x dm/dt (independent algebra)."""
    m = jnp.array([0.3, -0.4, np.sqrt(0.75)])
    H = jnp.array([1e4, 2e4, -3e4])
    alpha = 0.3
    r = dyn.llg_rhs(m, H, alpha=alpha)
    assert abs(float(r @ m)) < 1e-3
    gil = -GAMMA * C.MU_0 * jnp.cross(m, H) + alpha * jnp.cross(m, r)
    assert np.allclose(r, gil, rtol=1e-12, atol=1e-12 * float(jnp.abs(r).max()))


def test_rotate_grad_at_zero_and_check_grads():
    """Rodrigues rotation: finite gradient at theta = 0, check_grads elsewhere."""
    m = jnp.array([0.0, 0.6, 0.8])
    g = jax.jit(jax.jacobian(dyn.rotate, argnums=1))(m, jnp.zeros(3))
    assert np.all(np.isfinite(g))
    skew = jnp.array([[0, -0.8, 0.6], [0.8, 0, 0], [-0.6, 0, 0]])  # [m]_x, d(theta x m) = -[m]_x
    assert np.allclose(g, -skew, atol=1e-15)
    check_grads(jax.jit(lambda t: dyn.rotate(m, t)), (jnp.array([0.1, -0.2, 0.3]),), order=1)
    # second derivative finite at theta = 0 as well
    h = jax.jit(jax.hessian(lambda t: dyn.rotate(m, t)[0]))(jnp.zeros(3))
    assert np.all(np.isfinite(h))


def test_llg_differentiable_wrt_field():
    """check_grads of the final m w.r.t. the applied field (reverse mode, order 1)."""
    m0 = jnp.array([0.6, 0.0, 0.8])
    f = jax.jit(lambda h: dyn.llg(m0, jnp.array([0.0, 0.0, h]), 1e-13, 20, alpha=0.1).m[-1])
    check_grads(f, (5e4,), order=1, modes=["rev"], rtol=1e-5)


def test_vmap_jit_eager_agree():
    """A batch of macrospins equals vmap of single ones, and jit agrees with eager."""
    m0 = jnp.array([[0.6, 0.0, 0.8], [0.0, 0.6, -0.8]])
    batch = dyn.llg(m0, 5e4 * Z, 1e-13, 100, alpha=0.1).m[-1]
    single = jax.vmap(lambda m: dyn.llg(m, 5e4 * Z, 1e-13, 100, alpha=0.1).m[-1])(m0)
    jitted = jax.jit(lambda m: dyn.llg(m, 5e4 * Z, 1e-13, 100, alpha=0.1).m[-1])(m0)
    assert np.allclose(batch, single, atol=1e-14) and np.allclose(batch, jitted, atol=1e-14)


def test_float32_runs():
    """float32 input stays float32 and |m| = 1 to float32 round-off."""
    m0 = jnp.array([0.6, 0.0, 0.8], jnp.float32)
    sol = dyn.llg(m0, jnp.array([0, 0, 5e4], jnp.float32), 1e-13, 500, alpha=0.1)
    assert sol.m.dtype == jnp.float32
    assert np.max(np.abs(np.linalg.norm(sol.m, axis=-1) - 1)) < 1e-5


def test_bad_input():
    """Invalid inputs raise clear errors."""
    H = 1e5 * Z
    with pytest.raises(ValueError, match="m0"):
        dyn.llg(jnp.ones(2), H, 1e-13, 10, alpha=0.1)
    with pytest.raises(ValueError, match="dt"):
        dyn.llg(Z, H, -1e-13, 10, alpha=0.1)
    with pytest.raises(ValueError, match="multiple"):
        dyn.llg(Z, H, 1e-13, 10, alpha=0.1, save_every=3)
    with pytest.raises(ValueError, match="thermal"):
        dyn.llg(Z, H, 1e-13, 10, alpha=0.1, temperature=300.0)
    with pytest.raises(ValueError, match="broadcast"):
        dyn.llg(Z, jnp.ones(4), 1e-13, 10, alpha=0.1)
    with pytest.raises(eqx.EquinoxRuntimeError, match="unit"):
        dyn.llg(jnp.array([1.0, 1.0, 0.0]), H, 1e-13, 10, alpha=0.1)
    with pytest.raises(eqx.EquinoxRuntimeError, match="unit"):
        dyn.llg(jnp.array([np.nan, 0.0, 1.0]), H, 1e-13, 10, alpha=0.1)
    with pytest.raises(eqx.EquinoxRuntimeError, match="alpha"):
        dyn.llg(Z, H, 1e-13, 10, alpha=-0.1)
    with pytest.raises(eqx.EquinoxRuntimeError, match="temperature"):
        dyn.llg(
            Z,
            H,
            1e-13,
            10,
            alpha=0.1,
            temperature=-5.0,
            Ms=8e5,
            volume=1e-24,
            key=jax.random.PRNGKey(0),
        )
    with pytest.raises(eqx.EquinoxRuntimeError, match="Ms"):
        dyn.llg(
            Z,
            H,
            1e-13,
            10,
            alpha=0.1,
            temperature=300.0,
            Ms=-8e5,
            volume=1e-24,
            key=jax.random.PRNGKey(0),
        )
