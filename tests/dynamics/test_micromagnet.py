"""Micromagnetics: Newell demag tensor, energies and fields, relaxation, 1D Bloch wall,
muMAG standard problem 4 (short), hysteresis, bad input."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from netmag_jax import constants as C
from netmag_jax import dynamics as dyn


def aharoni_nzz(a, b, c):
    """N_zz of a 2a x 2b x 2c prism, closed form of Aharoni, J. Appl. Phys. 83, 3432 (1998)."""
    r = np.sqrt(a * a + b * b + c * c)
    ab, bc, ac = np.sqrt(a * a + b * b), np.sqrt(b * b + c * c), np.sqrt(a * a + c * c)
    s = (
        (b * b - c * c) / (2 * b * c) * np.log((r - a) / (r + a))
        + (a * a - c * c) / (2 * a * c) * np.log((r - b) / (r + b))
        + b / (2 * c) * np.log((ab + a) / (ab - a))
        + a / (2 * c) * np.log((ab + b) / (ab - b))
        + c / (2 * a) * np.log((bc - b) / (bc + b))
        + c / (2 * b) * np.log((ac - a) / (ac + a))
        + 2 * np.arctan(a * b / (c * r))
        + (a**3 + b**3 - 2 * c**3) / (3 * a * b * c)
        + (a * a + b * b - 2 * c * c) / (3 * a * b * c) * r
        + c / (a * b) * (ac + bc)
        - (ab**3 + bc**3 + ac**3) / (3 * a * b * c)
    )
    return s / np.pi


def _random_m(shape, seed=0):
    m = jax.random.normal(jax.random.PRNGKey(seed), shape + (3,))
    return m / jnp.linalg.norm(m, axis=-1, keepdims=True)


# --- demag tensor -------------------------------------------------------------------------------
def test_cube_self_demag_is_one_third():
    """Uniformly magnetized cube: N = diag(1/3, 1/3, 1/3), off-diagonals 0 (symmetry)."""
    N = dyn.demag_tensor(0.0, 0.0, 0.0, (2e-9, 2e-9, 2e-9))
    assert np.allclose(N[:3], 1 / 3, atol=1e-14) and np.allclose(N[3:], 0, atol=1e-14)


@pytest.mark.parametrize(
    "abc", [(1.0, 1.0, 1.0), (2.0, 3.0, 0.5), (5.0, 1.0, 1.0), (0.3, 0.7, 4.0)]
)
def test_prism_factors_match_aharoni_and_trace_one(abc):
    """Newell's self term = Aharoni's closed-form prism factors (all three, by permuting axes);
    N_xx + N_yy + N_zz = 1."""
    a, b, c = abc
    N = dyn.prism_demag_factors(2 * a, 2 * b, 2 * c)
    assert abs(N.sum() - 1) < 1e-12
    assert abs(N[2] - aharoni_nzz(a, b, c)) < 1e-12
    assert abs(N[0] - aharoni_nzz(b, c, a)) < 1e-12
    assert abs(N[1] - aharoni_nzz(c, a, b)) < 1e-12


def test_thin_film_nzz_tends_to_one():
    """A thin film (1000:1000:1) has N_zz -> 1 - O(t/L) (Aharoni); exact value compared."""
    N = dyn.prism_demag_factors(1000.0, 1000.0, 1.0)
    assert N[2] > 0.99 and abs(N[2] - aharoni_nzz(500.0, 500.0, 0.5)) < 1e-10


def test_mesh_demag_of_uniform_prism():
    """A prism of 6x4x3 cells magnetized along x, y, z: the cell-averaged demag field equals
    -N_prism M with Aharoni's factors of the whole prism (sum rule of the Newell tensor)."""
    shape, cell = (6, 4, 3), (2e-9, 3e-9, 1.5e-9)
    mm = dyn.Micromagnet(shape, cell, Ms=1e6, A=0.0)
    L = [n * d / 2 for n, d in zip(shape, cell, strict=False)]
    expect = [
        aharoni_nzz(L[1], L[2], L[0]),
        aharoni_nzz(L[2], L[0], L[1]),
        aharoni_nzz(L[0], L[1], L[2]),
    ]
    for k in range(3):
        m = jnp.zeros(shape + (3,)).at[..., k].set(1.0)
        H = mm.demag_field(m)
        assert abs(-float(H[..., k].mean()) / 1e6 - expect[k]) < 1e-12
        other = [j for j in range(3) if j != k]
        assert np.allclose(H[..., other].mean(axis=(0, 1, 2)), 0, atol=1e-9)


def test_far_field_switch_is_continuous():
    """At the switch distance (20 cells) Newell's formula and the integrated-dipole quadrature
    agree to < 1e-6 relative (both are the same exact integral)."""
    from netmag_jax.dynamics._demag import _dipole_components, _newell_components

    cell = (5.0, 4.0, 1.0)
    X, Y, Z = np.array([80.0]), np.array([50.0]), np.array([3.0])
    a = _newell_components(X, Y, Z, *cell)
    b = _dipole_components(X, Y, Z, *cell)
    assert np.max(np.abs(a - b)) < 1e-6 * np.max(np.abs(a))


# --- energies and fields ------------------------------------------------------------------------
def _full_model(shape=(6, 5, 2)):
    return dyn.Micromagnet(
        shape,
        (2e-9, 2.5e-9, 3e-9),
        Ms=8e5,
        A=1.3e-11,
        Ku=1e5,
        u=(0.0, 0.6, 0.8),
        Kc=-2e4,
        D=1.5e-3,
        H_ext=(1e4, -2e4, 3e4),
    )


def test_field_is_minus_energy_gradient():
    """H_eff (autodiff of local terms + direct demag) = -dE_total/dm / (mu0 Ms V) by autodiff of
    the total energy including the FFT demag energy."""
    mm = _full_model()
    m = _random_m(mm.shape)
    f1 = mm.field(m)
    f2 = -jax.grad(mm.energy)(m) / (C.MU_0 * 8e5 * mm.volume)
    assert np.max(np.abs(f1 - f2)) < 1e-10 * np.max(np.abs(f1))


def test_exchange_field_matches_finite_difference_laplacian():
    """Exchange field = 2A/(mu0 Ms) * discrete Laplacian (Neumann), computed independently."""
    shape, cell = (5, 4, 3), (2e-9, 2.5e-9, 3e-9)
    mm = dyn.Micromagnet(shape, cell, Ms=8e5, A=1.3e-11, demag=False)
    m = _random_m(shape, 2)
    mp = np.pad(np.asarray(m), ((1, 1), (1, 1), (1, 1), (0, 0)), mode="edge")
    lap = np.zeros(shape + (3,))
    c = mp[1:-1, 1:-1, 1:-1]
    for ax, d in enumerate(cell):
        sl_p = [slice(1, -1)] * 3
        sl_m = [slice(1, -1)] * 3
        sl_p[ax], sl_m[ax] = slice(2, None), slice(None, -2)
        lap += (mp[tuple(sl_p)] + mp[tuple(sl_m)] - 2 * c) / d**2
    expect = 2 * 1.3e-11 / (C.MU_0 * 8e5) * lap
    assert np.allclose(mm.field(m), expect, rtol=1e-12, atol=1e-9)


def test_exchange_energy_of_spiral():
    """A spiral m = (cos kx, sin kx, 0) on a chain: E = A V (N-1) 2(1 - cos k d) / d^2 (exact
    discrete), -> A k^2 per volume for k d -> 0."""
    n, d, k = 40, 1e-9, 2e8
    x = (np.arange(n) + 0.5) * d
    m = jnp.asarray(np.stack([np.cos(k * x), np.sin(k * x), 0 * x], -1)[:, None, None, :])
    mm = dyn.Micromagnet((n, 1, 1), (d, d, d), Ms=8e5, A=1e-11, demag=False)
    E = float(mm.energy(m))
    assert abs(E / (1e-11 * d**3 * (n - 1) * 2 * (1 - np.cos(k * d)) / d**2) - 1) < 1e-12


def test_dmi_energy_of_cycloid():
    """Interfacial DMI: a cycloid in the xz plane, m = (sin kx, 0, cos kx), has energy density
    D [m_z dm_x/dx - m_x dm_z/dx] = D k per unit volume (continuum), discretely
    D sin(k d)/d per pair."""
    n, d, k, D = 30, 1e-9, 3e8, 2e-3
    x = (np.arange(n) + 0.5) * d
    m = jnp.asarray(np.stack([np.sin(k * x), 0 * x, np.cos(k * x)], -1)[:, None, None, :])
    mm = dyn.Micromagnet((n, 1, 1), (d, d, d), Ms=8e5, A=0.0, D=D, demag=False)
    E = float(mm.energy(m))
    assert abs(E / (D * d**3 * (n - 1) * np.sin(k * d) / d) - 1) < 1e-12


def test_check_grads_energy():
    """check_grads of the total energy w.r.t. m and the material parameters (order 2)."""
    mm = _full_model((2, 2, 2))
    m = _random_m(mm.shape, 1)
    check_grads(jax.jit(lambda x: mm.energy(x)), (m,), order=2, modes=["rev"])

    @jax.jit
    def e_params(A, Ku):
        mod = eqx.tree_at(lambda q: (q.A, q.Ku), mm, (A, Ku))
        return mod.energy(m)

    check_grads(
        e_params, (jnp.asarray(1.3e-11), jnp.asarray(1e5)), order=1, modes=["rev"], eps=1e-3 * 1e-11
    )


def test_float32_field_close_to_float64():
    """The field evaluated in float32 agrees with float64 to ~1e-5 relative."""
    mm = _full_model()
    m = _random_m(mm.shape, 4)
    f64 = mm.field(m)
    f32 = mm.field(m.astype(jnp.float32))
    assert f32.dtype == jnp.float32
    assert np.max(np.abs(f32.astype(jnp.float64) - f64)) < 3e-5 * np.max(np.abs(f64))


# --- relaxation, walls, standard problem 4 -----------------------------------------------------
def test_bloch_wall_width_and_energy():
    """1D Bloch wall (easy axis z, wall normal x, no demag): energy per area 4 sqrt(A K) and
    width pi sqrt(A/K) (Lilley's definition; for the exact profile sin(theta) = sech(x/Delta),
    so the width equals the integral of sin(theta) dx), cell = Delta/4."""
    A, K = 1e-11, 1e5
    Delta = np.sqrt(A / K)
    d, n = Delta / 4, 160
    x = (np.arange(n) - n / 2 + 0.5) * d
    th = 2 * np.arctan(np.exp(x / (0.7 * Delta)))  # a guess of the wrong width
    m0 = jnp.asarray(np.stack([0 * x, np.sin(th), -np.cos(th)], -1)[:, None, None, :])
    mm = dyn.Micromagnet((n, 1, 1), (d, d, d), Ms=8e5, A=A, Ku=K, demag=False)
    r = dyn.relax(mm, m0, tol=1e-8, max_steps=20000)
    uniform = jnp.zeros_like(m0).at[..., 2].set(1.0)
    sigma = float(r.energy - mm.energy(uniform)) / (d * d)
    assert abs(sigma / (4 * np.sqrt(A * K)) - 1) < 5e-3
    width = float(jnp.sum(jnp.sqrt(1 - r.m[:, 0, 0, 2] ** 2))) * d
    assert abs(width / (np.pi * Delta) - 1) < 1e-2  # discretization O((d/Delta)^2)


def test_relax_convergence_flag_and_throw():
    """relax reports non-convergence (converged False) and raises with throw=True."""
    mm = dyn.Micromagnet((6, 6, 1), (5e-9, 5e-9, 3e-9), Ms=8e5, A=1.3e-11)
    m0 = _random_m(mm.shape, 5)
    r = dyn.relax(mm, m0, max_steps=3, throw=False)
    assert not bool(r.converged) and int(r.n_steps) == 3
    with pytest.raises(eqx.EquinoxRuntimeError, match="converge"):
        dyn.relax(mm, m0, max_steps=3)
    r = dyn.relax(mm, m0, tol=1e-5)
    assert bool(r.converged) and float(r.energy) < float(mm.energy(m0))
    assert float(jnp.max(mm.torque(r.m))) < 1e-5


@pytest.mark.slow
def test_standard_problem_4_first_zero_crossing():
    """muMAG standard problem 4, field 1 (mu0 H = (-24.6, 4.3, 0) mT, alpha = 0.02) on a
    64 x 16 x 1 mesh (7.8 nm cells): the s-state has <m_x> ~ 0.97, <m_y> ~ 0.12, and <m_x>
    first crosses zero at t ~ 0.14 ns (published solutions of SP4 on the muMAG page cross
    at 0.13-0.15 ns) while <m_y> is near its maximum ~ 0.7-0.8."""
    shape, cell = (64, 16, 1), (500e-9 / 64, 125e-9 / 16, 3e-9)
    mm = dyn.Micromagnet(shape, cell, Ms=8e5, A=1.3e-11)
    r = dyn.relax(mm, jnp.full(shape + (3,), 1 / np.sqrt(3.0)), tol=1e-5)
    s = mm.average(r.m)
    assert 0.96 < float(s[0]) < 0.98 and 0.11 < float(s[1]) < 0.14
    H = jnp.array([-24.6e-3, 4.3e-3, 0.0]) / C.MU_0
    mm1 = eqx.tree_at(lambda q: q.H_ext, mm, H)
    dt = 4e-13
    sol = mm1.evolve(r.m, dt, 400, alpha=0.02, save_every=5)
    avg = np.asarray(sol.m.mean(axis=(1, 2, 3)))
    mx, t = avg[:, 0], np.asarray(sol.t)
    i = np.argmax(mx < 0)
    tz = t[i - 1] + (t[i] - t[i - 1]) * mx[i - 1] / (mx[i - 1] - mx[i])
    assert 0.13e-9 < tz < 0.15e-9
    assert 0.65 < avg[i, 1] < 0.85


# --- hysteresis ---------------------------------------------------------------------------------
def test_hysteresis_single_cell_is_stoner_wohlfarth():
    """A single cell with uniaxial anisotropy (no exchange, no demag) is an SW particle: the
    hysteresis loop at psi = 0.3 rad gives coercivity h_sw(psi) H_K (within the field step) and
    remanence cos(psi)."""
    K, Ms, psi = 1e5, 8e5, 0.3
    HK = 2 * K / (C.MU_0 * Ms)
    mm = dyn.Micromagnet((1, 1, 1), (5e-9, 5e-9, 5e-9), Ms=Ms, Ku=K, u=(1.0, 0.0, 0.0), demag=False)
    m0 = jnp.array([np.cos(1.0), np.sin(1.0), 0.0]).reshape(1, 1, 1, 3)
    n = 60
    r = dyn.hysteresis(
        mm, m0, 1.5 * HK, direction=(np.cos(psi), np.sin(psi), 0.0), n=n, tol=1e-9, max_steps=5000
    )
    step = 1.5 * HK / n
    assert bool(r.converged)
    assert abs(float(r.coercivity) - float(dyn.switching_field(psi)) * HK) < step
    assert abs(float(r.remanence) - np.cos(psi)) < 1e-6  # H = 0 is a sweep point
    # loop is symmetric: ascending branch is the mirror image of the descending one
    d = np.asarray(r.M[10 : 11 + 2 * n])
    a = np.asarray(r.M[11 + 2 * n :])
    assert np.allclose(a, -d, atol=1e-5)


# --- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    """Invalid models and states raise clear errors."""
    cell = (5e-9, 5e-9, 3e-9)
    with pytest.raises(ValueError, match="shape"):
        dyn.Micromagnet((4, 4), cell, Ms=8e5)
    with pytest.raises(ValueError, match="dx"):
        dyn.Micromagnet((4, 4, 1), (0.0, 5e-9, 3e-9), Ms=8e5)
    with pytest.raises(eqx.EquinoxRuntimeError, match="Ms"):
        dyn.Micromagnet((4, 4, 1), cell, Ms=-8e5)
    with pytest.raises(eqx.EquinoxRuntimeError, match="A"):
        dyn.Micromagnet((4, 4, 1), cell, Ms=8e5, A=-1e-11)
    with pytest.raises(eqx.EquinoxRuntimeError, match="unit"):
        dyn.Micromagnet((4, 4, 1), cell, Ms=8e5, u=(1.0, 1.0, 0.0))
    with pytest.raises(ValueError, match="meaningless"):
        dyn.Micromagnet((4, 4, 1), (100e-9, 100e-9, 3e-9), Ms=8e5, A=1.3e-11)
    with pytest.warns(UserWarning, match="under-resolved"):
        dyn.Micromagnet((4, 4, 1), (15e-9, 15e-9, 3e-9), Ms=8e5, A=1.3e-11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mm = dyn.Micromagnet((4, 4, 1), cell, Ms=8e5, A=1.3e-11)
    with pytest.raises(ValueError, match="shape"):
        mm.field(jnp.ones((4, 4, 2, 3)))
    m = jnp.zeros((4, 4, 1, 3)).at[..., 0].set(1.0)
    with pytest.raises(ValueError, match="unstable"):
        mm.evolve(m, 1e-11, 10, alpha=0.1)
    with pytest.raises(eqx.EquinoxRuntimeError, match="unit"):
        dyn.relax(mm, 2.0 * m)
    with pytest.raises(eqx.EquinoxRuntimeError, match="unit"):
        dyn.relax(mm, m.at[0, 0, 0, 0].set(jnp.nan))


# --- time-step bound and jit (issue 17 regressions) ----------------------------------------------
def test_heun_bound_sp4_5nm():
    """muMAG SP4 on a 5 nm mesh (alpha = 0.02): dt = 0.4 ps passed the old omega dt <= 1 check
    and then decayed into a grid-scale mode; the damping-dependent Heun bound rejects it and
    accepts 0.2 ps. The bound: |1 + z + z^2/2| = 1 at z = omega dt (-alpha + i) / (1 + alpha^2)
    (closed form in ``heun_stability_limit``), ~ (8 alpha)^(1/3) for alpha << 1."""
    H = jnp.array([-24.6e-3, 4.3e-3, 0.0]) / C.MU_0
    mm = dyn.Micromagnet((100, 25, 1), (5e-9, 5e-9, 3e-9), Ms=8e5, A=1.3e-11, H_ext=H)
    dt_max = float(mm.stable_time_step(0.02))
    assert 0.2e-12 < dt_max < 0.4e-12
    m = jnp.zeros((100, 25, 1, 3)).at[..., 0].set(1.0)
    with pytest.raises(ValueError, match="unstable"):
        mm.evolve(m, 0.4e-12, 2, alpha=0.02)
    # the limit itself: |P(z)| = 1 at the returned omega dt, < 1 just below, > 1 just above
    for alpha in (0.02, 0.1, 0.5):
        w = float(dyn.heun_stability_limit(alpha))
        for f, sign in ((0.99, -1), (1.01, 1)):
            z = f * w * (-alpha + 1j) / (1 + alpha**2)
            assert sign * (abs(1 + z + z * z / 2) - 1) > 0


def test_heun_bound_is_the_real_stability_limit():
    """A 32-cell exchange chain (no demag) perturbed in its grid-scale mode: below the bound
    the perturbation decays, above it (1.5x) it grows by orders of magnitude (llg directly;
    evolve refuses that step). Under jit a traced dt above the bound is an error too."""
    mm = dyn.Micromagnet((32, 1, 1), (2e-9, 2e-9, 2e-9), Ms=8e5, A=1.3e-11, demag=False)
    sign = (-1.0) ** np.arange(32)
    d0 = 1e-4
    mx = d0 * sign
    m0 = jnp.asarray(np.stack([mx, 0 * mx, np.sqrt(1 - mx**2)], -1).reshape(32, 1, 1, 3))
    dt_max = float(mm.stable_time_step(0.1))

    def amplitude(dt):
        sol = dyn.llg(m0, mm.field, dt, 200, alpha=0.1, save_every=200)
        return float(jnp.max(jnp.abs(sol.m[-1, ..., 0])))

    assert amplitude(0.9 * dt_max) < d0
    assert amplitude(1.5 * dt_max) > 100 * d0
    run = jax.jit(lambda dt: mm.evolve(m0, dt, 2, alpha=0.1).m)
    assert np.all(np.isfinite(run(0.5 * dt_max)))
    with pytest.raises(Exception, match="unstable"):
        run(2.0 * dt_max).block_until_ready()


def test_micromagnet_built_inside_jit_and_vmap():
    """Regression (issue 17): Micromagnet could not be built under jax.jit (float() of a traced
    Kc). A field sweep built inside jit and vmap equals the eager models."""
    cell = (5e-9, 5e-9, 3e-9)
    m = jnp.zeros((2, 1, 1, 3)).at[..., 0].set(1.0)

    def field(Kc, Hx):
        mm = dyn.Micromagnet(
            (2, 1, 1), cell, Ms=8e5, A=1.3e-11, Kc=Kc, H_ext=jnp.stack([Hx, 0.0 * Hx, 0.0 * Hx])
        )
        return mm.field(m)

    Hs = jnp.array([0.0, 1e4, 2e4])
    swept = jax.jit(jax.vmap(field, in_axes=(None, 0)))(1e3, Hs)
    for H, f in zip(Hs, swept, strict=True):
        eager = dyn.Micromagnet(
            (2, 1, 1), cell, Ms=8e5, A=1.3e-11, Kc=1e3, H_ext=(float(H), 0.0, 0.0)
        )
        np.testing.assert_allclose(f, eager.field(m), rtol=1e-12)
    with pytest.raises(Exception, match="Kc"):
        jax.jit(field)(jnp.nan, 0.0).block_until_ready()
