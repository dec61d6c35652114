"""Lattices, neighbour search, colourings, exchange conventions and model energies.

Reference values are geometry (coordination numbers z of the standard lattices: chain 2,
square 4, honeycomb 3, triangular 6, simple cubic 6, bcc 8, fcc 12; fcc second shell 6) and
the exact classical ground-state energies: ferromagnet -zJ/2 per site, Neel state of a
bipartite antiferromagnet -z|J|/2 per site.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import lattice as nl
from netmag_jax.constants import K_B, MEV
from netmag_jax.lattice import _kernels as kernels

Z = {"chain": 2, "square": 4, "cubic": 6, "bcc": 8, "fcc": 12, "honeycomb": 3, "triangular": 6}
BIPARTITE = {"chain", "square", "cubic", "bcc", "honeycomb"}


@pytest.mark.parametrize("name", sorted(Z))
def test_standard_lattice_coordination_and_bonds(name):
    """Every site has z neighbours at the NN distance, n_bonds = N z / 2 (each bond once)."""
    L = 6
    lat = nl.by_name(name, L)
    z = Z[name]
    N = lat.n_sites
    assert np.all(lat.coordination == z)
    assert lat.n_bonds == N * z // 2
    pairs = {tuple(sorted(b)) for b in lat.bonds.tolist()}
    assert len(pairs) == lat.n_bonds  # no bond stored twice
    # bond lengths by minimum image in the periodic box
    box = lat.supercell_vectors
    dr = lat.positions[lat.bonds[:, 1]] - lat.positions[lat.bonds[:, 0]]
    frac = dr @ np.linalg.inv(box)
    dr = (frac - np.round(frac)) @ box
    d = np.linalg.norm(dr, axis=1)
    assert np.allclose(d, d[0], atol=1e-9)
    # colouring is proper: no bond inside one colour class
    colour = np.full(N + 1, -1)
    for c, row in enumerate(lat.colour_sites):
        colour[row] = c
    assert np.all(colour[:N] >= 0)
    assert np.all(colour[lat.bonds[:, 0]] != colour[lat.bonds[:, 1]])
    assert lat.bipartite == (name in BIPARTITE)
    if lat.bipartite:
        assert np.all(lat.stagger[lat.bonds[:, 0]] == -lat.stagger[lat.bonds[:, 1]])


def test_neighbor_tables_match_bond_list():
    """neighbors / neighbor_bond list each bond from both ends."""
    lat = nl.honeycomb(4)
    for i in range(lat.n_sites):
        for j, b in zip(lat.neighbors[i], lat.neighbor_bond[i], strict=False):
            assert set(lat.bonds[b].tolist()) == {i, int(j)}


def test_from_cell_euo_two_shells():
    """EuO (rock salt, Eu on fcc, a = 5.144 A): 12 J1 neighbours at a/sqrt2, 6 J2 at a."""
    a = 5.144
    J1, J2 = 0.606 * K_B, 0.119 * K_B
    basis = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    lat = nl.from_cell(a * np.eye(3), basis, 4, [(a / math.sqrt(2), J1), (a, J2)])
    N = lat.n_sites
    assert N == 4 * 4**3
    assert np.sum(lat.shell == 0) == N * 12 // 2
    assert np.sum(lat.shell == 1) == N * 6 // 2
    assert np.allclose(lat.J[lat.shell == 0], J1) and np.allclose(lat.J[lat.shell == 1], J2)
    assert np.all(lat.coordination == 18)
    model = nl.Heisenberg(lat)  # uses the lattice's J
    assert np.allclose(model.J, lat.J)
    # mean-field Tc = S(S+1)(z1 J1 + z2 J2)/(3 k_B) for S = 7/2: 63/4 (12*0.606+6*0.119)/3 K
    tc = nl.mean_field_tc(model, S=3.5)
    assert float(tc) == pytest.approx(3.5 * 4.5 * (12 * 0.606 + 6 * 0.119) / 3, rel=1e-12)


def test_from_cell_primitive_fcc_matches_conventional():
    """fcc from its primitive cell: 12 neighbours at a/sqrt2, one site per cell, Bravais."""
    a = 1.0
    cell = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    lat = nl.from_cell(cell, [[0, 0, 0]], 4, [(a / math.sqrt(2), K_B)])
    assert np.all(lat.coordination == 12)
    assert lat.grid_shape == (4, 4, 4)


_energy = eqx.filter_jit(lambda model, s: model.energy(s))


@pytest.mark.parametrize("name", ["square", "bcc", "honeycomb"])
def test_ground_state_energies(name):
    """Ferro: E/N = -zJ/2; Neel state of the J < 0 model: E/N = -z|J|/2 (exact)."""
    J = 2.5 * K_B
    lat = nl.by_name(name, 4, J)
    z, N = Z[name], lat.n_sites
    up = np.zeros((N, 3))
    up[:, 0] = 1.0
    assert float(_energy(nl.Heisenberg(lat), up) / N) == pytest.approx(-z * J / 2, rel=1e-12)
    neel = up * lat.stagger[:, None]
    af = nl.Heisenberg(lat, J=-J)
    assert float(_energy(af, neel) / N) == pytest.approx(-z * J / 2, rel=1e-12)
    assert float(_energy(nl.Ising(lat, J=-J), neel[:, :1]) / N) == pytest.approx(
        -z * J / 2, rel=1e-12
    )


def test_zeeman_anisotropy_and_moments_energy():
    """E = -sum w_i h.S_i - D sum (S.n)^2 for decoupled spins (J = 0)."""
    lat = nl.square(4)
    h, D = 0.3 * K_B, 0.2 * K_B
    w = jnp.array([1.0, 0.5])
    m = nl.Heisenberg(
        lat,
        J=0.0,
        h=jnp.array([0.0, 0.0, h]),
        anisotropy=(D, jnp.array([0.0, 0.0, 1.0])),
        moments=w,
    )
    s = jnp.zeros((lat.n_sites, 3)).at[:, 2].set(1.0)
    wsum = float(jnp.sum(w[jnp.asarray(lat.sublattice)]))
    assert float(m.energy(s)) == pytest.approx(-h * wsum - D * lat.n_sites, rel=1e-12)


def test_exchange_conversions():
    """meV and kelvin helpers; S(S+1) and S^2 conventions for classical unit spins."""
    assert float(nl.exchange_from_meV(1.0)) == pytest.approx(MEV)
    assert float(nl.exchange_from_K(2.0)) == pytest.approx(2 * K_B)
    J = 0.606 * K_B
    assert float(nl.classical_exchange(J, 3.5)) == pytest.approx(J * 3.5 * 4.5)
    assert float(nl.classical_exchange(J, 3.5, "S^2")) == pytest.approx(J * 12.25)
    assert float(nl.classical_exchange(J, 3.5, "unit")) == pytest.approx(J)
    with pytest.raises(ValueError):
        nl.classical_exchange(J, 3.5, "S(S-1)")
    with pytest.raises(Exception):
        nl.classical_exchange(J, -1.0)


@pytest.mark.parametrize("n", [1, 3])
def test_grid_and_gather_sweeps_agree(n):
    """The roll-based kernel of Bravais lattices and the generic gather kernel are two
    independent implementations of one checkerboard sweep: same uniforms, same result; the
    energy per site of both layouts equals the model's Hamiltonian."""
    lat = nl.square(6)
    J = jax.random.normal(jax.random.key(3), (lat.n_bonds,)) * K_B
    model = nl.SpinModel(
        lat, J=J, h=0.2 * K_B, D=0.1 * K_B, n_components=n, moments=jnp.array([1.0, 0.7])
    )
    p = model.reduced(jnp.float64)
    assert p.grid is not None and not p.grid.uniform_J
    q = dataclasses.replace(p, grid=None)
    s = kernels.random_unit(jax.random.key(1), (lat.n_sites,), n, jnp.float64)
    u = jax.random.uniform(jax.random.key(2), kernels.uniform_shape(p, lat.n_sites, n))
    # the gather kernel takes the uniforms of each colour's sites
    uq = jnp.stack([u[c][jnp.asarray(lat.colour_sites[c])] for c in range(lat.n_colours)])
    sweep = jax.jit(kernels.colour_pass, static_argnames="overrelax")
    a = sweep(p, u, s, 0.7)
    b = sweep(q, uq, s, 0.7)
    assert np.allclose(a, b, atol=1e-12)
    assert not np.allclose(a, s)
    e = float(kernels.energy_per_site(p, a))
    assert e == pytest.approx(float(kernels.energy_per_site(q, a)), rel=1e-12)
    assert e == pytest.approx(float(model.energy(a) / K_B / lat.n_sites), rel=1e-12)
    # uniform couplings take the scalar-J roll kernel: same sweep as the gather kernel
    mu = nl.SpinModel(lat, J=0.8 * K_B, h=0.2 * K_B, n_components=n)
    pu = mu.reduced(jnp.float64)
    assert pu.grid is not None and pu.grid.uniform_J
    qu = dataclasses.replace(pu, grid=None)
    assert np.allclose(sweep(pu, u, s, 0.7), sweep(qu, uq, s, 0.7), atol=1e-12)
    if n == 3:  # over-relaxation conserves the exchange + Zeeman energy when D = 0
        m0 = nl.SpinModel(lat, J=J, h=0.2 * K_B, n_components=3)
        r = sweep(m0.reduced(jnp.float64), u, s, 0.7, overrelax=True)
        assert float(m0.energy(r)) == pytest.approx(float(m0.energy(s)), rel=1e-10)
        assert np.allclose(jnp.linalg.norm(r, axis=1), 1.0)


def test_bad_lattice_input():
    with pytest.raises(ValueError, match="unknown lattice"):
        nl.by_name("kagome-ish", 4)
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError):
            nl.square(bad)
    with pytest.raises(ValueError, match="even"):
        nl.square(5)
    with pytest.raises(ValueError, match="even"):
        nl.cubic(3)
    with pytest.raises(ValueError, match="divisible by 3"):
        nl.triangular(4)
    with pytest.raises(ValueError, match="no neighbours"):
        nl.from_cell(np.eye(2), [[0, 0]], 4, [(1.0, K_B), (1.3, K_B)])
    with pytest.raises(ValueError, match="too small"):
        nl.from_cell(np.eye(2), [[0, 0]], 1, [(1.0, K_B)])
    with pytest.raises(ValueError, match="finite"):
        nl.from_cell(np.eye(2), [[0, 0]], 4, [(1.0, float("nan"))])
    with pytest.raises(ValueError):
        nl.from_cell(np.eye(3), [[0, 0]], 4, [(1.0, K_B)])
    with pytest.raises(ValueError):
        nl.from_cell(np.zeros((3, 3)), [[0, 0, 0]], 4, [(1.0, K_B)])


def test_bad_model_input():
    lat = nl.square(4)
    with pytest.raises(ValueError, match="n_bonds"):
        nl.Ising(lat, J=jnp.ones(3))
    with pytest.raises(Exception, match="finite"):
        nl.Ising(lat, J=jnp.nan)
    with pytest.raises(ValueError, match="moments"):
        nl.Ising(lat, moments=jnp.ones(5))
    with pytest.raises(TypeError):
        nl.Ising("square")
