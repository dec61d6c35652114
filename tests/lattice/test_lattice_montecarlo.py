"""Monte Carlo against exact results. Fixed keys; tolerances are multiples of the jackknife
errors the runs report (plus, where stated, a finite-size allowance).

References:
* exact enumeration of the 4 x 4 periodic Ising model (2^16 states, computed here);
* Onsager / Yang spontaneous magnetization m = (1 - sinh^-4(2J/kT))^(1/8);
* classical Heisenberg chain (Fisher 1964): E/N = -J L(J/kT), L the Langevin function;
  classical XY chain: E/N = -J I1(J/kT)/I0(J/kT) (periodic corrections ~ u^N, negligible);
* gauge symmetry of a bipartite lattice: flipping one sublattice maps the J < 0 Ising model
  exactly onto J > 0, staggered onto uniform magnetization;
* 3D simple-cubic Ising Tc = 4.5115 J/k_B (Talapov & Bloete 1996, Tc = 1/0.2216546).
"""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import i0, i1

from netmag_jax import lattice as nl
from netmag_jax.constants import K_B
from netmag_jax.lattice import _montecarlo as mc


def onsager_m(T):
    """Spontaneous magnetization of the square Ising model, J = k_B x 1 K."""
    return (1.0 - np.sinh(2.0 / T) ** -4) ** 0.125


def exact_4x4(T):
    """<|m|>, <m^2>, <m^4>, <E>/N, C/N k_B of the periodic 4 x 4 Ising model (J = 1)."""
    L = 4
    conf = np.array(list(itertools.product([-1, 1], repeat=L * L)), dtype=np.float64)
    s = conf.reshape(-1, L, L)
    E = -np.sum(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2), axis=(1, 2))
    m = s.mean(axis=(1, 2))
    out = []
    for t in T:
        w = np.exp(-(E - E.min()) / t)
        w /= w.sum()
        e = np.sum(w * E) / 16
        c = (np.sum(w * E**2) - np.sum(w * E) ** 2) / (16 * t * t)
        out.append((np.sum(w * np.abs(m)), np.sum(w * m**2), np.sum(w * m**4), e, c))
    return np.array(out)


def _close(value, ref, err, n_sigma=4.0, floor=0.0):
    value, ref, err = (np.asarray(x, dtype=np.float64) for x in (value, ref, err))
    assert np.all(err > 0)
    assert np.all(np.abs(value - ref) <= n_sigma * err + floor), (value, ref, err)


@pytest.mark.parametrize("method,pt", [("metropolis", True), ("wolff", False)])
def test_ising_4x4_matches_exact_enumeration(method, pt):
    """|m|, energy, specific heat, susceptibility and U4 of L = 4 against exact enumeration."""
    T = np.array([2.0, 2.5, 3.2])
    ex = exact_4x4(T)
    o = nl.simulate(
        nl.Ising(nl.square(4)),
        jax.random.key(11),
        T,
        n_sweeps=1000,
        n_equil=100,
        method=method,
        parallel_tempering=pt,
        n_chains=8,
    )
    _close(o.magnetization, ex[:, 0], o.magnetization_err)
    _close(o.energy / K_B, ex[:, 3], o.energy_err / K_B)
    _close(o.specific_heat / K_B, ex[:, 4], o.specific_heat_err / K_B)
    chi = 16 * (ex[:, 1] - ex[:, 0] ** 2) / T
    _close(o.susceptibility * K_B, chi, o.susceptibility_err * K_B)
    _close(o.binder, 1 - ex[:, 2] / (3 * ex[:, 1] ** 2), o.binder_err)
    assert np.all(o.tau_m > 0)


@pytest.mark.slow
def test_onsager_magnetization_L64():
    """2D Ising |m| at T = 2.0 J/k_B, L = 64: within 1% of Onsager's 0.911319 (finite-size
    shift at xi << L is far below the statistical error)."""
    o = nl.simulate(
        nl.Ising(nl.square(64)),
        jax.random.key(5),
        [2.0],
        n_sweeps=600,
        n_equil=150,
        init="ferro",
        n_chains=1,
    )
    m = float(o.magnetization[0])
    assert onsager_m(2.0) == pytest.approx(0.911319, abs=1e-6)
    assert abs(m / onsager_m(2.0) - 1) < 0.01
    _close(m, onsager_m(2.0), o.magnetization_err[0], floor=1e-3)


def test_antiferromagnet_gauge_map_and_ferrimagnet():
    """J < 0 square Ising from the Neel state is the J > 0 model from the ferro state with
    one sublattice flipped: with the same key, staggered(AF) == uniform(F) exactly, the
    sublattice magnetizations are opposite and the net moment ~ 0. With unequal moments
    (1, 1/2) the sublattices stay opposite and a net moment (1 - 1/2)/2 m_s appears."""
    lat = nl.square(16)
    T = [1.5, 2.0]
    kw = dict(n_sweeps=400, n_equil=100, n_chains=1)
    f = nl.simulate(nl.Ising(lat), jax.random.key(2), T, init="ferro", **kw)
    a = nl.simulate(nl.Ising(lat, J=-K_B), jax.random.key(2), T, init="neel", **kw)
    np.testing.assert_allclose(a.staggered_magnetization, f.magnetization, rtol=1e-10)
    np.testing.assert_allclose(a.magnetization, f.staggered_magnetization, rtol=1e-10)
    assert np.all(a.magnetization < 0.1)
    ms = np.asarray(a.staggered_magnetization)
    _close(a.sublattice_magnetization[:, 0], ms, a.sublattice_magnetization_err[:, 0], 6)
    _close(a.sublattice_magnetization[:, 1], -ms, a.sublattice_magnetization_err[:, 1], 6)
    _close(ms, onsager_m(np.array(T)), a.staggered_magnetization_err, floor=0.01)
    fe = nl.simulate(
        nl.Ising(lat, J=-K_B, moments=jnp.array([1.0, 0.5])),
        jax.random.key(2),
        T,
        init="neel",
        **kw,
    )
    np.testing.assert_allclose(fe.staggered_magnetization, 0.75 * ms, rtol=0.05)
    np.testing.assert_allclose(fe.magnetization[0], 0.25 * ms[0], rtol=0.05)
    assert float(fe.magnetization[0]) > 5 * float(a.magnetization[0])


@pytest.mark.parametrize(
    "n,exact",
    [
        (3, lambda b: 1.0 / np.tanh(b) - 1.0 / b),  # Heisenberg chain: Langevin L(beta J)
        (2, lambda b: i1(b) / i0(b)),  # XY chain
    ],
)
def test_classical_chain_energy(n, exact):
    """Exact energy of classical n-vector chains (Fisher 1964; XY by the same transfer
    integral) from Metropolis + over-relaxation."""
    T = np.array([0.5, 1.0, 2.0])
    model = nl.SpinModel(nl.chain(64), n_components=n)
    o = nl.simulate(
        model, jax.random.key(n), T, n_sweeps=400, n_equil=50, n_overrelax=1, n_chains=4
    )
    _close(o.energy / K_B, -exact(1.0 / T), o.energy_err / K_B)


@pytest.mark.slow
def test_cubic_ising_tc_from_binder_crossing():
    """Binder cumulants of L = 4 and 8 cross within 1% of Tc = 4.5115 J/k_B (3D Ising)."""
    T = np.array([4.38, 4.46, 4.54, 4.62])
    U = {}
    for L in (4, 8):
        o = nl.simulate(
            nl.Ising(nl.cubic(L)), jax.random.key(L), T, n_sweeps=600, n_equil=100, n_chains=8
        )
        U[L] = o.binder
    Tc = float(nl.binder_crossing(T, U[4], U[8]))
    assert abs(Tc / 4.5115 - 1) < 0.01


@pytest.mark.slow
def test_square_ising_tc_from_binder_crossing():
    """Binder cumulants of L = 8 and 16 cross within 1% of Onsager's Tc = 2/ln(1+sqrt 2)
    = 2.269185 J/k_B (2D Ising); fixed keys, 8 chains per temperature."""
    T = np.array([2.19, 2.24, 2.29, 2.34])
    U = {}
    for L in (8, 16):
        o = nl.simulate(
            nl.Ising(nl.square(L)),
            jax.random.key(100 + L),
            T,
            n_sweeps=1500,
            n_equil=200,
            n_chains=8,
        )
        U[L] = o.binder
    Tc = float(nl.binder_crossing(T, U[8], U[16]))
    assert abs(Tc / 2.269185 - 1) < 0.01


def test_binder_crossing_interpolates():
    """Two straight lines crossing at T = 2.3 (analytic)."""
    T = jnp.array([2.0, 2.2, 2.4, 2.6])
    Tc = nl.binder_crossing(T, 0.6 - 0.1 * (T - 2.3), 0.6 - 0.3 * (T - 2.3))
    assert float(Tc) == pytest.approx(2.3, rel=1e-12)
    assert math.isnan(float(nl.binder_crossing(T, T, T + 1.0)))


def test_same_key_same_result():
    """Explicit keys: a repeated run is bit-identical, another key differs."""
    m = nl.Ising(nl.square(4))
    kw = dict(n_sweeps=1000, n_equil=100, parallel_tempering=True, n_chains=8)
    T = np.array([2.0, 2.5, 3.2])  # the shapes of the exact-enumeration test: no recompile
    a = nl.simulate(m, jax.random.key(11), T, **kw)
    b = nl.simulate(m, jax.random.key(11), T, **kw)
    c = nl.simulate(m, jax.random.key(12), T, **kw)
    np.testing.assert_array_equal(a.energy, b.energy)
    assert np.all(a.energy != c.energy)


@pytest.mark.filterwarnings("ignore::netmag_jax.lattice.EquilibrationWarning")  # 4-sweep runs
def test_simulate_compiles_once_per_shape():
    """The jitted hot path of simulate (and evolve) is traced once per structure: a second
    call with new temperatures, a new key and new coupling values of the same shapes reuses
    the compiled run; another number of temperatures compiles a new one."""
    kw = dict(n_sweeps=4, n_equil=1, n_blocks=2, parallel_tempering=True)
    nl.simulate(nl.Ising(nl.chain(4)), jax.random.key(0), [2.0, 3.0], **kw)
    n_run = mc._run._cache_size()
    o = nl.simulate(nl.Ising(nl.chain(4), J=1.5 * K_B), jax.random.key(1), [2.5, 3.5], **kw)
    assert mc._run._cache_size() == n_run
    assert np.all(np.isfinite(o.energy))
    nl.simulate(nl.Ising(nl.chain(4)), jax.random.key(1), [2.5, 3.0, 3.5], **kw)
    assert mc._run._cache_size() == n_run + 1
    m = nl.Heisenberg(nl.chain(4))
    s = jnp.ones((4, 3)) / np.sqrt(3.0)
    nl.evolve(m, jax.random.key(0), s, 1.0, 3, n_overrelax=1)
    n_evolve = mc._evolve._cache_size()
    nl.evolve(m, jax.random.key(2), s, 2.0, 3, n_overrelax=1)
    assert mc._evolve._cache_size() == n_evolve


def test_public_kernels_limits():
    """Analytic limits of the public kernels on a ferromagnetic Ising lattice: at beta = 0 a
    Metropolis sweep accepts every flip; at large beta (p_add = 1 - e^{-2 beta J} -> 1) one
    Wolff cluster is the whole connected lattice, so every spin flips (h = 0, no rejection)."""
    model = nl.Ising(nl.square(4))
    p = model.reduced()
    assert isinstance(p, nl.ReducedModel)
    up = jnp.ones((16, 1))
    np.testing.assert_array_equal(nl.metropolis_sweep(p, jax.random.key(0), up, 0.0), -up)
    np.testing.assert_array_equal(nl.wolff_update(p, jax.random.key(1), up, 50.0), -up)
    # at large beta from the ground state Metropolis rejects every flip (dE = 8 J)
    np.testing.assert_array_equal(nl.metropolis_sweep(p, jax.random.key(2), up, 50.0), up)


def test_simulate_bad_input():
    m = nl.Ising(nl.square(4))
    k = jax.random.key(0)
    with pytest.raises(Exception, match="temperatures"):
        nl.simulate(m, k, [2.0, -1.0], 32, 0)
    with pytest.raises(Exception, match="temperatures"):
        nl.simulate(m, k, [float("nan")], 32, 0)
    with pytest.raises(ValueError, match="method"):
        nl.simulate(m, k, [2.0], 32, 0, method="heatbath")
    with pytest.raises(ValueError, match="n_blocks"):
        nl.simulate(m, k, [2.0], 8, 0)
    with pytest.raises(ValueError, match="n_equil"):
        nl.simulate(m, k, [2.0], 32, -1)
    with pytest.raises(ValueError, match="over-relaxation"):
        nl.simulate(m, k, [2.0], 32, 0, n_overrelax=1)
    with pytest.raises(ValueError, match="bipartite"):
        nl.simulate(nl.Ising(nl.triangular(3)), k, [2.0], 32, 0, init="neel")
    with pytest.raises(ValueError, match="init"):
        nl.simulate(m, k, [2.0], 32, 0, init="cold")
    with pytest.raises(ValueError, match="init array"):
        nl.simulate(m, k, [2.0], 32, 0, init=jnp.ones((5, 1)))
    with pytest.raises(TypeError):
        nl.simulate("ising", k, [2.0], 32, 0)
