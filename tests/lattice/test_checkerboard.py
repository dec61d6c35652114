"""The fast square-lattice Ising kernel against exact results.

References: exact enumeration of all 2^16 states of the periodic 4 x 4 lattice (NumPy,
independent of the kernel); Onsager's spontaneous magnetisation
m = (1 - sinh(2J/k_BT)^-4)^(1/8); the exact Metropolis acceptance min(1, exp(-dE/k_BT)) for
a chi-square test of the counter-hash random numbers.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import lattice
from netmag_jax.constants import K_B
from netmag_jax.lattice import _checkerboard as cb


def _exact_4x4(T, h):
    """<e>, <m>, <m^2> per site of the periodic 4 x 4 Ising model (J = 1, k_B = 1)."""
    n = np.arange(2**16)
    s = (((n[:, None] >> np.arange(16)) & 1) * 2 - 1).reshape(-1, 4, 4).astype(np.float64)
    bonds = s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)
    E = -bonds.sum(axis=(1, 2)) - h * s.sum(axis=(1, 2))
    m = s.mean(axis=(1, 2))
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    return float(w @ (E / 16)), float(w @ m), float(w @ m**2)


def _chains(L, T, h, n_chains, n_equil, n_measure, thin, key, ferro=False):
    """Per-chain means of e, m, m^2 and |m| from independent chains (random or ordered start;
    below Tc a random start can freeze into stripes on a periodic lattice)."""
    run = jax.jit(
        jax.vmap(lambda s, k, n=thin: lattice.ising_square_metropolis(s, T, n, k, h=h * K_B)),
    )
    k0, key = jax.random.split(key)
    s = jax.random.choice(k0, jnp.asarray([-1, 1], jnp.int8), (n_chains, L, L))
    s = jnp.ones_like(s) if ferro else s
    keys = jax.random.split(key, n_equil + n_measure)
    burn = jax.jit(
        jax.vmap(lambda s, k: lattice.ising_square_metropolis(s, T, n_equil, k, h=h * K_B))
    )
    s = burn(s, jax.random.split(keys[0], n_chains))
    obs = jax.jit(jax.vmap(lattice.ising_square_observables))
    acc = np.zeros((4, n_chains))
    for i in range(n_measure):
        s = run(s, jax.random.split(keys[1 + i], n_chains))
        m, e = obs(s)
        m, e = np.asarray(m, np.float64), np.asarray(e, np.float64)
        acc += np.stack([e - h * m, m, m**2, np.abs(m)])
    return acc / n_measure


@pytest.mark.parametrize("T,h", [(2.5, 0.0), (2.0, 0.0), (3.0, 0.4)])
def test_exact_enumeration_4x4(T, h):
    """MC averages of e, m, m^2 = exact enumeration within 5 standard errors of the chains."""
    e_x, m_x, m2_x = _exact_4x4(T, h)
    per_chain = _chains(4, T, h, 512, 50, 100, 2, jax.random.key(7))
    mean = per_chain.mean(axis=1)
    err = per_chain.std(axis=1, ddof=1) / math.sqrt(per_chain.shape[1])
    for got, se, exact in zip(mean[:3], err[:3], (e_x, m_x, m2_x), strict=True):
        assert abs(got - exact) < 5 * se + 1e-12, (got, exact, se)
    assert err[0] < 0.01  # the test has power: e is resolved to 1 % of J


def test_onsager_magnetization_L64():
    """<|m|> at T = 2.0 J/k_B on 64 x 64 (ordered start) within 0.5 % of Onsager's 0.91131."""
    onsager = (1.0 - math.sinh(2.0 / 2.0) ** -4) ** 0.125
    per_chain = _chains(64, 2.0, 0.0, 8, 400, 200, 5, jax.random.key(3), ferro=True)
    absm = per_chain[3].mean()
    assert abs(absm / onsager - 1.0) < 5e-3, (absm, onsager)


def _class_counts(T, h, n_rep, zero_field=False):
    """Flip counts per (s, s * sum_nn) class over ``n_rep`` colour passes from one state."""
    L = 64
    s = jax.random.choice(jax.random.key(11), jnp.asarray([-1, 1], jnp.int8), (L, L))
    c0, c1 = cb.split_colours(s)
    thr = cb._thresholds(jnp.float64(1.0 / T), jnp.float64(h / T))
    site = jnp.arange(L * L // 2, dtype=jnp.uint32).reshape(L, L // 2)
    parity = (jnp.arange(L) % 2 == 1)[:, None]
    keys = jax.random.bits(jax.random.key(5), (n_rep,), jnp.uint32)
    flips = jax.vmap(lambda k: cb._colour_pass(c0, c1, parity, thr, site, k, zero_field) != c0)(
        keys
    )
    side = jnp.where(parity, jnp.roll(c1, -1, 1), jnp.roll(c1, 1, 1))
    nn = jnp.roll(c1, 1, 0) + jnp.roll(c1, -1, 0) + c1 + side
    idx = np.asarray((c0.astype(jnp.int32) + 1) * 5 // 2 + (c0 * nn + 4).astype(jnp.int32) // 2)
    thr = np.asarray(thr)
    return np.asarray(flips), idx, thr, thr == 2**32 - 1


@pytest.mark.parametrize("h", [0.3, 0.0])
def test_acceptance_chi_square(h):
    """Acceptance frequency per energy class = min(1, exp(-dE/k_BT)): chi-square, and
    neighbouring counters are independent (2 x 2 contingency chi-square); both table paths
    (general h, and the two-select path for h = 0)."""
    T, n_rep = 2.5, 256
    flips, idx, thr, always = _class_counts(T, h, n_rep, zero_field=h == 0.0)
    s = np.repeat([-1.0, 1.0], 5)
    x = np.tile(np.arange(-4.0, 5.0, 2.0), 2)
    p_exact = np.minimum(1.0, np.exp(-2.0 * (x + h * s) / T))
    assert np.all(np.abs(thr / 2.0**32 - np.where(always, 1.0, p_exact)) < 2.4e-10)
    chi2, dof = 0.0, 0
    for k in range(10):
        trials = flips[:, idx == k]
        if trials.size == 0:
            continue
        if always[k]:
            assert trials.all()  # dE <= 0: always flipped
            continue
        n, f = trials.size, trials.sum()
        chi2 += (f - n * p_exact[k]) ** 2 / (n * p_exact[k] * (1 - p_exact[k]))
        dof += 1
    assert dof >= (4 if h else 2)
    # chi-square with dof <= 10 degrees of freedom: P(chi2 > 35) < 1e-4
    assert chi2 < 35.0, (chi2, dof)
    # pairs of horizontally adjacent counters in the same non-trivial class: independent
    chi2_pairs, n_tables = 0.0, 0
    for k in np.flatnonzero(~always):
        same = (idx[:, :-1] == k) & (idx[:, 1:] == k)
        a, b = flips[:, :, :-1][:, same].ravel(), flips[:, :, 1:][:, same].ravel()
        if a.size < 2000:
            continue
        t = np.array([[np.sum(~a & ~b), np.sum(~a & b)], [np.sum(a & ~b), np.sum(a & b)]], float)
        expected = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / t.sum()
        chi2_pairs += ((t - expected) ** 2 / expected).sum()
        n_tables += 1
    assert n_tables >= 2
    assert chi2_pairs < 30.0, (chi2_pairs, n_tables)  # <= 10 dof: P(> 30) < 1e-3


def test_split_merge_round_trip_and_same_key_same_result():
    s = jax.random.choice(jax.random.key(0), jnp.asarray([-1, 1], jnp.int8), (6, 6))
    assert (cb.merge_colours(*cb.split_colours(s)) == s).all()
    a = lattice.ising_square_metropolis(s, 2.3, 3, jax.random.key(1))
    b = lattice.ising_square_metropolis(s, 2.3, 3, jax.random.key(1))
    c = lattice.ising_square_metropolis(s, 2.3, 3, jax.random.key(2))
    assert (a == b).all() and not (a == c).all()


def test_zero_temperature_limit_and_bad_input():
    """At T -> 0 from the ground state nothing flips (every dE = 8 J > 0)."""
    up = jnp.ones((8, 8), jnp.int8)
    assert (lattice.ising_square_metropolis(up, 0.05, 20, jax.random.key(0)) == 1).all()
    with pytest.raises(ValueError, match="square"):
        lattice.ising_square_metropolis(jnp.ones((8, 6)), 2.0, 1, jax.random.key(0))
    with pytest.raises(ValueError, match="even"):
        lattice.ising_square_metropolis(jnp.ones((7, 7)), 2.0, 1, jax.random.key(0))
    with pytest.raises(ValueError, match="temperature"):
        lattice.ising_square_metropolis(up, -1.0, 1, jax.random.key(0))


def _binder_fast(L, temps, n_chains, n_equil, n_measure, key):
    """U4 = 1 - <m^4> / 3<m^2>^2 per temperature from the fast kernel: chains x temperatures
    vmapped, one measurement per sweep inside a scan."""

    def chain(T, k):
        k0, k1, k2 = jax.random.split(k, 3)
        s = jax.random.choice(k0, jnp.asarray([-1, 1], jnp.int8), (L, L))
        s = lattice.ising_square_metropolis(s, T, n_equil, k1)

        def step(s, kk):
            s = lattice.ising_square_metropolis(s, T, 1, kk)
            m = jnp.mean(s.astype(jnp.float32))
            return s, jnp.stack([m * m, m**4])

        _, mm = jax.lax.scan(step, s, jax.random.split(k2, n_measure))
        return jnp.mean(mm.astype(jnp.float64), axis=0)

    keys = jax.random.split(key, (len(temps), n_chains))
    T = jnp.broadcast_to(jnp.asarray(temps)[:, None], (len(temps), n_chains))
    mom = np.asarray(jax.jit(jax.vmap(jax.vmap(chain)))(T, keys))  # [nT, C, 2]
    m2, m4 = mom[..., 0].mean(axis=1), mom[..., 1].mean(axis=1)
    return 1.0 - m4 / (3.0 * m2**2)


@pytest.mark.slow
def test_binder_crossing_onsager():
    """Binder cumulants of L = 8 and 16 from the fast kernel cross within 0.5 % of Onsager's
    Tc = 2 / ln(1 + sqrt 2) = 2.269185 J/k_B (the L = 8/16 finite-size shift of the crossing is
    ~0.1 %, Binder, Z. Phys. B 43, 119 (1981))."""
    temps = np.array([2.21, 2.25, 2.29, 2.33])
    U8 = _binder_fast(8, temps, 64, 200, 2000, jax.random.key(8))
    U16 = _binder_fast(16, temps, 64, 400, 2000, jax.random.key(16))
    Tc = float(lattice.binder_crossing(temps, U8, U16))
    assert abs(Tc / (2.0 / math.log(1.0 + math.sqrt(2.0))) - 1.0) < 0.005, (Tc, U8, U16)
