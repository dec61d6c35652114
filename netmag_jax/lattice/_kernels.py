r"""Monte Carlo kernels for classical spin models: the Hamiltonian, checkerboard Metropolis and
over-relaxation passes, Wolff cluster flips.

The Hamiltonian, written once here (:func:`hamiltonian`) and used by
:meth:`SpinModel.energy <netmag_jax.lattice.SpinModel.energy>` and by the Monte Carlo driver:

.. math::
    H = -\sum_b J_b\, S_i\cdot S_j - \sum_i w_i\, h\cdot S_i - D\sum_i (S_i\cdot\hat n)^2,

each bond b = (i, j) once (J > 0 ferromagnetic). The kernels take a :class:`ReducedModel`:
the model with every energy divided by k_B (kelvin), so that float32 runs never meet the
underflow of squared joules, plus the integer tables they index. Inverse temperatures
``beta`` are in 1/K.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ..constants import K_B
from ._lattice import Lattice


class GridTables(eqx.Module):
    """Roll-based tables of a Bravais lattice (one basis atom), used instead of gathers.

    Site i is the C-order flattening of the grid ``shape``; bond ``cell * n_offsets + k``
    joins a cell to the cell shifted by ``offsets[k]``.
    """

    J: jax.Array  # [n_offsets, *shape] K, the bond from each cell to cell + offsets[k]
    masks: jax.Array  # [n_colours, *shape] bool, the sites of each colour
    shape: tuple[int, ...] = eqx.field(static=True)
    offsets: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    #: all bonds carry one J (known when the model is built): the field is then J times the
    #: sum of the rolled neighbours (fewer passes over memory)
    uniform_J: bool = eqx.field(static=True, default=False)


class ReducedModel(eqx.Module):
    """A spin model in the kernels' form: energies / k_B (kelvin) and integer tables.

    Build it with :meth:`SpinModel.reduced <netmag_jax.lattice.SpinModel.reduced>`.

    Fields: ``Jn`` [N, z] K, the coupling of each neighbour slot; ``nbr`` [N, z] int, the
    neighbours; ``bonds`` [n_bonds, 2] int; ``J`` [n_bonds] K; ``h`` [n] K (Zeeman energy per
    unit moment); ``w`` [N] site moments; ``D`` K; ``axis`` [n] unit easy axis; ``colours``
    [n_colours, m] int, the sites of each colour padded with N; ``stagger`` [N] (+-1 on the
    two sides of a bipartite lattice, else 0); ``sub_onehot`` [n_sub, N], the sublattice
    indicator divided by the sublattice sizes; ``grid``: :class:`GridTables` of a Bravais
    lattice, else None.
    """

    Jn: jax.Array
    nbr: jax.Array
    bonds: jax.Array
    J: jax.Array
    h: jax.Array
    w: jax.Array
    D: jax.Array
    axis: jax.Array
    colours: jax.Array
    stagger: jax.Array
    sub_onehot: jax.Array
    grid: GridTables | None = None


def _uniform_couplings(J) -> bool:
    """True if J is concrete and all its entries are equal (False while traced)."""
    if not _checks.is_concrete(J):
        return False
    Jc = np.asarray(J)
    return bool(Jc.size > 0 and np.all(Jc == Jc.flat[0]))


def _grid_tables(lattice: Lattice, J_kelvin) -> GridTables | None:
    """:class:`GridTables` of a Bravais lattice (None for a lattice with a basis)."""
    grid = lattice.grid_shape
    if grid is None:
        return None
    N, nc = lattice.n_sites, lattice.n_colours
    masks = np.zeros((nc, N + 1), bool)
    masks[np.arange(nc)[:, None], lattice.colour_sites] = True
    return GridTables(
        J=jnp.moveaxis(J_kelvin.reshape(grid + (len(lattice.grid_offsets),)), -1, 0),
        masks=jnp.asarray(masks[:, :N].reshape((nc,) + grid)),
        shape=grid,
        offsets=lattice.grid_offsets,
        uniform_J=_uniform_couplings(J_kelvin),
    )


def slot_couplings(J, neighbor_bond):
    """Coupling of each neighbour slot [N, z] from the bond couplings J [n_bonds] and the
    bond index of each slot (the padding index n_bonds gets 0)."""
    padded = jnp.concatenate([J, jnp.zeros((1,), J.dtype)])
    return padded[jnp.asarray(neighbor_bond)]


def reduced_model(lattice: Lattice, J, h, D, axis, moments, dtype) -> ReducedModel:
    """The :class:`ReducedModel` of a model on ``lattice``.

    Args:
        lattice: the :class:`Lattice`.
        J: [n_bonds] exchange, joules.
        h: [n] Zeeman energy per unit moment, joules.
        D: anisotropy, joules.
        axis: [n] unit easy axis.
        moments: [N] site moments.
        dtype: float dtype of the couplings.
    """
    sub = np.asarray(lattice.sublattice)
    onehot = (sub[None, :] == np.arange(lattice.n_sublattices)[:, None]).astype(np.float64)
    onehot = onehot / onehot.sum(axis=1, keepdims=True)
    Jk = J / K_B
    Jb = jnp.asarray(Jk, dtype=dtype)
    return ReducedModel(
        Jn=jnp.asarray(slot_couplings(Jk, lattice.neighbor_bond), dtype=dtype),
        nbr=jnp.asarray(lattice.neighbors),
        bonds=jnp.asarray(lattice.bonds),
        J=Jb,
        h=jnp.asarray(h / K_B, dtype=dtype),
        w=jnp.asarray(moments, dtype=dtype),
        D=jnp.asarray(D / K_B, dtype=dtype),
        axis=jnp.asarray(axis, dtype=dtype),
        colours=jnp.asarray(lattice.colour_sites),
        stagger=jnp.asarray(lattice.stagger, dtype=dtype),
        sub_onehot=jnp.asarray(onehot, dtype=dtype),
        grid=_grid_tables(lattice, Jb),
    )


# --- the Hamiltonian ------------------------------------------------------------------------
def _dot(x, v):
    """x . v over the last axis (v broadcast to x), written elementwise so that XLA fuses it."""
    x, v = jnp.broadcast_arrays(x, v)
    return jnp.sum(x * v, axis=-1)


def _shift(x, c, d):
    """x[i + c] on a periodic grid (the first d axes of x)."""
    return jnp.roll(x, tuple(-v for v in c), axis=tuple(range(d)))


def bond_products(spins, bonds):
    """S_i . S_j of every bond, [n_bonds], for ``spins`` [N, n] and ``bonds`` [n_bonds, 2]."""
    return _dot(spins[bonds[:, 0]], spins[bonds[:, 1]])


def _grid_bond_products(g: GridTables, spins):
    """S_i . S_j of every bond of a grid lattice, in bond order, by rolls instead of gathers."""
    s = spins.reshape(g.shape + (spins.shape[1],))
    d = len(g.shape)
    return jnp.stack([_dot(s, _shift(s, c, d)) for c in g.offsets], axis=-1).reshape(-1)


def hamiltonian(spins, pair_products, J, moments, h, D, axis):
    r"""Total energy :math:`-\sum_b J_b S_i\cdot S_j - \sum_i w_i h\cdot S_i - D\sum_i
    (S_i\cdot\hat n)^2`, in the unit of J, h and D (joules for a model, kelvin reduced).

    Args:
        spins: [N, n] unit spins.
        pair_products: [n_bonds] S_i . S_j of each bond (:func:`bond_products`).
        J: [n_bonds] exchange of each bond (each bond once, J > 0 ferromagnetic).
        moments: [N] site moments w_i.
        h: [n] Zeeman energy per unit moment.
        D: single-ion anisotropy (> 0 easy axis).
        axis: [n] unit anisotropy axis.
    """
    e_bond = -jnp.sum(J * pair_products)
    return e_bond - jnp.sum(moments * _dot(spins, h)) - D * jnp.sum(_dot(spins, axis) ** 2)


def energy_per_site(p: ReducedModel, spins):
    """Energy per site of ``spins`` [N, n], kelvin (:func:`hamiltonian` / N)."""
    pairs = bond_products(spins, p.bonds) if p.grid is None else _grid_bond_products(p.grid, spins)
    return hamiltonian(spins, pairs, p.J, p.w, p.h, p.D, p.axis) / spins.shape[0]


def _energy_change(p: ReducedModel, field, old, new):
    """Change of :func:`hamiltonian` when sites with local ``field`` [..., n] (K; the
    exchange plus Zeeman field, or only the Zeeman one for a cluster flip) go old -> new."""
    ani = p.D * (_dot(new, p.axis) ** 2 - _dot(old, p.axis) ** 2)
    return -_dot(new - old, field) - ani


def _accept(u, beta, dE):
    """Metropolis: u < min(1, exp(-beta dE))."""
    return u < jnp.exp(-beta * jnp.maximum(dE, 0.0))


# --- single-site moves ----------------------------------------------------------------------
def _unit_from_uniform(u, n):
    """Uniformly distributed unit n-vectors (n = 1, 2, 3) from uniforms u [..., n_u(n)]."""
    if n == 1:
        return jnp.where(u[..., :1] < 0.5, 1.0, -1.0).astype(u.dtype)
    phi = 2.0 * jnp.pi * u[..., 0]
    if n == 2:
        return jnp.stack([jnp.cos(phi), jnp.sin(phi)], axis=-1)
    z = 2.0 * u[..., 1] - 1.0
    rho = jnp.sqrt(jnp.maximum(1.0 - z * z, 0.0))
    return jnp.stack([rho * jnp.cos(phi), rho * jnp.sin(phi), z], axis=-1)


def random_unit(key, shape, n, dtype):
    """Uniformly distributed unit n-vectors, [*shape, n] (Ising: +-1, [*shape, 1])."""
    return _unit_from_uniform(jax.random.uniform(key, shape + (max(n - 1, 1),), dtype), n)


def uniform_shape(p: ReducedModel, n_sites: int, n: int) -> tuple[int, int, int]:
    """Shape of the uniforms of one colour-by-colour pass: [n_colours, m, n_u], with m = N on
    a grid lattice (masked) or the size of the largest colour, and n_u = one uniform for the
    acceptance plus those of the proposal (n_u = n)."""
    m = n_sites if p.grid is not None else p.colours.shape[1]
    return (p.colours.shape[0], m, n)


def _proposal(field, old, u, n, overrelax):
    """A flip (Ising), a uniformly random direction, or the over-relaxation reflection about
    the local field (field-free sites stay put)."""
    if overrelax:
        f2 = jnp.sum(field * field, axis=-1, keepdims=True)
        ok = f2 > 0
        proj = jnp.sum(old * field, axis=-1, keepdims=True) / jnp.where(ok, f2, 1.0)
        return jnp.where(ok, 2.0 * proj * field - old, old)
    return -old if n == 1 else _unit_from_uniform(u[..., 1:], n)


def _local_field(p: ReducedModel, spins, idx):
    """Exchange + Zeeman field (K) on sites ``idx``: sum_k J_ik S_k + w_i h, shape [m, n]."""
    exchange = jnp.einsum("mz,mzn->mn", p.Jn[idx], spins[p.nbr[idx]])
    return exchange + p.w[idx][:, None] * p.h[None, :]


def _grid_field(p: ReducedModel, g: GridTables, s):
    """Exchange + Zeeman field (K) on every site of a grid lattice, s [*grid, n]."""
    d = len(g.shape)
    f = p.w.reshape(g.shape)[..., None] * p.h.reshape((1,) * d + (-1,))
    if g.uniform_J:
        nb = sum(_shift(s, c, d) + _shift(s, tuple(-v for v in c), d) for c in g.offsets)
        return f + g.J.reshape(-1)[0] * nb
    for k, c in enumerate(g.offsets):
        Jk = g.J[k][..., None]
        f = f + Jk * _shift(s, c, d) + _shift(Jk * s, tuple(-v for v in c), d)
    return f


def _grid_pass(p: ReducedModel, g: GridTables, u, spins, beta, overrelax):
    """One colour-by-colour pass on a grid lattice: rolls on the whole grid, colour masks."""
    N, n = spins.shape

    def colour_step(s, inp):
        uc, mask = inp
        uc = uc.reshape(g.shape + (uc.shape[-1],))
        field = _grid_field(p, g, s)
        new = _proposal(field, s, uc, n, overrelax)
        acc = mask & _accept(uc[..., 0], beta, _energy_change(p, field, s, new))
        return jnp.where(acc[..., None], new, s), None

    s, _ = jax.lax.scan(colour_step, spins.reshape(g.shape + (n,)), (u, g.masks))
    return s.reshape(N, n)


def _gather_pass(p: ReducedModel, u, spins, beta, overrelax):
    """One colour-by-colour pass gathering the sites of each colour (any lattice)."""
    N, n = spins.shape

    def colour_step(spins, inp):
        uc, idx = inp
        idx_r = jnp.minimum(idx, N - 1)
        old = spins[idx_r]
        field = _local_field(p, spins, idx_r)
        new = _proposal(field, old, uc, n, overrelax)
        acc = _accept(uc[..., 0], beta, _energy_change(p, field, old, new))
        return spins.at[idx].set(jnp.where(acc[:, None], new, old), mode="drop"), None

    spins, _ = jax.lax.scan(colour_step, spins, (u, p.colours))
    return spins


def colour_pass(p: ReducedModel, u, spins, beta, overrelax: bool = False):
    """One colour-by-colour pass over ``spins`` [N, n] with uniforms ``u`` (shape
    :func:`uniform_shape`; the gather kernel reads the first ``len(colour)`` of each row).

    Sites of one colour share no bond and are all proposed at once (a flip for Ising, a
    uniformly random new direction for XY/Heisenberg, or the over-relaxation reflection) and
    accepted with min(1, exp(-beta dE)), beta in 1/K. Grid lattices use rolls on the whole
    grid with a colour mask; others gather the sites of each colour.
    """
    if p.grid is not None:
        return _grid_pass(p, p.grid, u, spins, beta, overrelax)
    return _gather_pass(p, u, spins, beta, overrelax)


def sweep_with_overrelaxation(p: ReducedModel, u, spins, beta):
    """A Metropolis pass then ``u.shape[0] - 1`` over-relaxation passes, u [1 + n_or, ...]."""
    spins = colour_pass(p, u[0], spins, beta)
    for i in range(1, u.shape[0]):
        spins = colour_pass(p, u[i], spins, beta, overrelax=True)
    return spins


def metropolis_sweep(p: ReducedModel, key, spins, beta):
    """One checkerboard Metropolis sweep of ``spins`` [N, n] at inverse temperature beta
    [1/K] (see ``colour_pass``)."""
    N, n = spins.shape
    u = jax.random.uniform(key, uniform_shape(p, N, n), spins.dtype)
    return colour_pass(p, u, spins, beta)


# --- cluster moves --------------------------------------------------------------------------
def _grow_cluster(p: ReducedModel, key, seed, p_add):
    """Sites [N] bool of the cluster grown from ``seed``, each bond to a frontier site taken
    with probability ``p_add`` [N, z] (breadth-first, one shell per iteration)."""
    start = jnp.zeros((p.nbr.shape[0],), bool).at[seed].set(True)

    def body(c):
        cluster, frontier, k = c
        k, sub = jax.random.split(k)
        u = jax.random.uniform(sub, p_add.shape, p_add.dtype)
        add = jnp.any(frontier[p.nbr] & (u < p_add), axis=1) & ~cluster
        return cluster | add, add, k

    cluster, _, _ = jax.lax.while_loop(lambda c: jnp.any(c[1]), body, (start, start, key))
    return cluster


def wolff_update(p: ReducedModel, key, spins, beta):
    r"""One Wolff cluster flip (Ising; XY/Heisenberg by the Wolff embedding).

    A random direction r is drawn (r = 1 for Ising); the cluster grows from a random seed
    through bonds with :math:`J_{ij}\sigma_i\sigma_j > 0`, :math:`\sigma = S\cdot r`, each
    added with probability :math:`1 - e^{-2\beta J_{ij}\sigma_i\sigma_j}`; the cluster is
    reflected, :math:`S \to S - 2(S\cdot r)r`. Zeeman and anisotropy energies are not used to
    build the cluster; the flip is accepted with :math:`\min(1, e^{-\beta\Delta E_1})`
    where :math:`\Delta E_1` is their change, which keeps detailed balance.

    Args:
        p: the :class:`ReducedModel`.
        key: PRNG key.
        spins: [N, n] unit spins.
        beta: inverse temperature, 1/K.
    Returns:
        the configuration after the move, [N, n].
    """
    N, n = spins.shape
    kr, ks, kg, ka = jax.random.split(key, 4)
    r = random_unit(kr, (), n, spins.dtype)
    proj = _dot(spins, r)  # [N]
    seed = jax.random.randint(ks, (), 0, N)
    w = p.Jn * proj[:, None] * proj[p.nbr]  # [N, z]
    cluster = _grow_cluster(p, kg, seed, -jnp.expm1(-2.0 * beta * jnp.maximum(w, 0.0)))
    new = spins - 2.0 * proj[:, None] * r[None, :]
    zeeman = p.w[:, None] * p.h[None, :]
    dE = jnp.sum(jnp.where(cluster, _energy_change(p, zeeman, spins, new), 0.0))
    acc = _accept(jax.random.uniform(ka, (), spins.dtype), beta, dE)
    return jnp.where((cluster & acc)[:, None], new, spins)
