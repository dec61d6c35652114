"""Periodic crystal lattices: sites, bonds found by distance, neighbour tables, colourings.

A :class:`Lattice` is built once, in NumPy, from a unit cell (rows are the cell vectors, in
angstrom), the fractional positions of the magnetic atoms (the basis), a supercell size and a
list of exchange shells ``(distance [angstrom], J [joule])``. Every pair of sites whose
periodic distance matches a shell (within ``tol``) is a bond, stored once, with that shell's J.
The lattice carries

* ``bonds`` [n_bonds, 2] int and ``J`` [n_bonds] (joules): each bond once;
* ``neighbors`` [N, z] int and ``neighbor_bond`` [N, z] int: for each site, its neighbours and
  the index of the bond to each (rows shorter than ``z`` are padded with the site itself and
  bond index ``n_bonds``, which points at a zero coupling);
* ``sublattice`` [N] int: magnetic sublattice labels (the Neel sublattices for the bipartite
  standard lattices, the basis index for lattices built by :func:`from_cell`);
* ``colour_sites`` [n_colours, m] int: a proper colouring of the interaction graph (no bond
  joins two sites of one colour), padded with the out-of-range index N; all sites of one
  colour can be updated at once by Monte Carlo (the checkerboard decomposition);
* ``stagger`` [N] float: +1/-1 on the two sides of a bipartite graph (0 everywhere if the
  graph is not bipartite), for the staggered magnetization.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import equinox as eqx
import numpy as np

from .._checks import check_count, check_real, check_static_finite, check_static_positive
from ..constants import K_B


class Lattice(eqx.Module):
    """A periodic lattice with its bonds (see the module docstring for the fields).

    Integer tables and positions are NumPy arrays (fixed by construction, never traced);
    ``J`` is the default per-bond exchange in joules, used by a model unless it is given its own.
    """

    positions: np.ndarray  # [N, d] cartesian positions, angstrom
    supercell_vectors: np.ndarray  # [d, d] rows, angstrom (periodic box)
    bonds: np.ndarray  # [n_bonds, 2] int32
    J: np.ndarray  # [n_bonds] float64, joules
    shell: np.ndarray  # [n_bonds] int32, shell (from_cell) or bond class (from_structure)
    neighbors: np.ndarray  # [N, z] int32
    neighbor_bond: np.ndarray  # [N, z] int32
    sublattice: np.ndarray  # [N] int32
    colour_sites: np.ndarray  # [n_colours, m] int32, padded with N
    stagger: np.ndarray  # [N] float64 in {-1, 0, +1}
    name: str = eqx.field(static=True, default="lattice")
    #: for a Bravais lattice (one basis atom): the supercell shape; sites are then the C-order
    #: flattening of this grid and bond ``cell * len(grid_offsets) + k`` joins a cell to the
    #: cell shifted by ``grid_offsets[k]`` (used by the fast roll-based Monte Carlo kernels)
    grid_shape: tuple | None = eqx.field(static=True, default=None)
    grid_offsets: tuple = eqx.field(static=True, default=())

    @property
    def n_sites(self) -> int:
        """Number of sites N."""
        return int(self.positions.shape[0])

    @property
    def n_bonds(self) -> int:
        """Number of bonds (each counted once)."""
        return int(self.bonds.shape[0])

    @property
    def n_sublattices(self) -> int:
        """Number of distinct sublattice labels."""
        return int(self.sublattice.max()) + 1

    @property
    def n_colours(self) -> int:
        """Number of colours of the checkerboard decomposition."""
        return int(self.colour_sites.shape[0])

    @property
    def bipartite(self) -> bool:
        """True if the interaction graph has two sides (staggered magnetization defined)."""
        return bool(np.all(self.stagger != 0))

    @property
    def coordination(self) -> np.ndarray:
        """Number of bonds at each site [N] (multiple bonds to one partner counted)."""
        return np.sum(self.neighbor_bond < self.n_bonds, axis=1)


def _as_cell(cell) -> np.ndarray:
    check_real("cell", cell)
    cell = np.asarray(cell, dtype=np.float64)
    if cell.ndim != 2 or cell.shape[0] != cell.shape[1] or cell.shape[0] not in (1, 2, 3):
        raise ValueError(
            f"cell must be a square [d, d] array with d in 1..3, got shape {cell.shape}"
        )
    if not np.all(np.isfinite(cell)) or abs(np.linalg.det(cell)) < 1e-12:
        raise ValueError("cell vectors must be finite and linearly independent")
    return cell


def _pairs_within(cell, basis, rmax):
    """Directed pairs within ``rmax``: (a, b, c, distance) for atom b in cell c seen from atom a
    of cell 0, 0 < distance <= rmax (angstrom)."""
    d = cell.shape[0]
    recip = np.linalg.inv(cell).T  # rows b_k with a_i . b_k = delta_ik
    m = [int(math.ceil(rmax * np.linalg.norm(recip[k]))) + 1 for k in range(d)]
    cs = np.array(list(itertools.product(*[range(-mk, mk + 1) for mk in m])), dtype=np.int64)
    out = []
    for a in range(len(basis)):
        for b in range(len(basis)):
            dist = np.linalg.norm((basis[b][None, :] + cs - basis[a][None, :]) @ cell, axis=1)
            for ci in np.nonzero((dist > 0) & (dist <= rmax))[0]:
                out.append((a, b, tuple(int(v) for v in cs[ci]), float(dist[ci])))
    return out


def _bond_offsets(cell, basis, shells, tol):
    """Directed neighbour offsets (a, b, c, shell): atom b in cell c is a neighbour of atom a."""
    pairs = _pairs_within(cell, basis, max(r for r, _ in shells) + tol)
    # ordered by atom pair, then shell, then cell shift
    hits = [
        ((a, b, s, i), (a, b, c, s))
        for i, (a, b, c, dist) in enumerate(pairs)
        for s, (r, _) in enumerate(shells)
        if abs(dist - r) <= tol
    ]
    return [o for _, o in sorted(hits)]


def _two_colouring(n, neighbors, valid):
    """+1/-1 labels if the graph is bipartite, else None (breadth-first search)."""
    side = np.zeros(n, dtype=np.int8)
    for start in range(n):
        if side[start]:
            continue
        side[start] = 1
        frontier = np.array([start])
        while frontier.size:
            nb = neighbors[frontier]
            ok = valid[frontier]
            src = np.repeat(side[frontier], nb.shape[1]).reshape(nb.shape)
            nb, src = nb[ok], src[ok]
            if np.any(side[nb] == src):
                return None
            new = nb[side[nb] == 0]
            new, idx = np.unique(new, return_index=True)
            side[new] = -src[idx]
            frontier = new
    return side.astype(np.float64)


def _greedy_colouring(n, neighbors, valid):
    colour = -np.ones(n, dtype=np.int64)
    for i in range(n):
        used = set(colour[neighbors[i][valid[i]]].tolist())
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return colour


def _is_proper(colour, bonds):
    return bonds.shape[0] == 0 or bool(np.all(colour[bonds[:, 0]] != colour[bonds[:, 1]]))


def _colour_table(colour, n):
    colour = np.unique(colour, return_inverse=True)[1]
    nc = int(colour.max()) + 1
    sizes = np.bincount(colour, minlength=nc)
    table = np.full((nc, int(sizes.max())), n, dtype=np.int32)
    for c in range(nc):
        idx = np.nonzero(colour == c)[0]
        table[c, : idx.size] = idx
    return table


class _Cells(NamedTuple):
    """The unit cells of a supercell: ``cells`` [n_cells, d] int in C order, the supercell
    size ``sc`` [d], the C-order ``strides`` [d] and the number of basis atoms ``nb``."""

    cells: np.ndarray
    sc: np.ndarray
    strides: np.ndarray
    nb: int

    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    def site(self, cell_index, a):
        """Site index of basis atom ``a`` in the cells ``cell_index`` [..., d] (periodic)."""
        return ((cell_index % self.sc) @ self.strides) * self.nb + a


def _as_basis(basis, d: int) -> np.ndarray:
    check_real("basis", basis)
    basis = np.atleast_2d(np.asarray(basis, dtype=np.float64))
    if basis.ndim != 2 or basis.shape[1] != d or basis.shape[0] < 1:
        raise ValueError(f"basis must have shape [n_basis, {d}], got {basis.shape}")
    check_static_finite("basis", basis)
    return basis


def _as_supercell(supercell, d: int) -> np.ndarray:
    check_real("supercell", supercell)
    raw = np.broadcast_to(np.asarray(supercell, dtype=float), (d,))
    if not (np.all(np.isfinite(raw)) and np.all(raw == np.round(raw)) and np.all(raw >= 1)):
        raise ValueError(f"supercell sizes must be positive integers, got {supercell!r}")
    if float(np.prod(raw)) > MAX_SITES:
        raise ValueError(f"supercell {supercell!r} is too large: at most {MAX_SITES} cells (int32)")
    return raw.astype(np.int64)


def _as_shells(shells) -> list[tuple[float, float]]:
    shells = [(float(r), float(j)) for r, j in shells]
    if not shells:
        raise ValueError("shells must list at least one (distance, J) pair")
    for r, j in shells:
        if not (np.isfinite(r) and r > 0):
            raise ValueError(f"shell distances must be finite and > 0, got {r!r}")
        if not np.isfinite(j):
            raise ValueError(f"shell exchange constants must be finite, got {j!r}")
    return shells


def _supercell_cells(sc: np.ndarray, nb: int) -> _Cells:
    d = sc.shape[0]
    cells = np.array(list(itertools.product(*[range(int(L)) for L in sc])), dtype=np.int64)
    strides = np.array([int(np.prod(sc[k + 1 :])) for k in range(d)], dtype=np.int64)
    return _Cells(cells=cells, sc=sc, strides=strides, nb=nb)


def _bond_table(cs: _Cells, kept):
    """bonds [n_cells * nk, 2] and their shells: bond ``cell * nk + k`` is kept offset k
    ``(a, b, c, s)`` from atom a of the cell to atom b of the cell shifted by c."""
    nk = len(kept)
    cell_index = cs.cells @ cs.strides  # == arange(n_cells)
    bonds = np.zeros((cs.n_cells * nk, 2), dtype=np.int64)
    shell = np.zeros(cs.n_cells * nk, dtype=np.int32)
    for k, (a, b, c, s) in enumerate(kept):
        bonds[k::nk, 0] = cell_index * cs.nb + a
        bonds[k::nk, 1] = cs.site(cs.cells + np.array(c), b)
        shell[k::nk] = s
    if np.any(bonds[:, 0] == bonds[:, 1]):
        raise ValueError(
            f"supercell {tuple(cs.sc)} is too small: a site is its own neighbour; use more cells"
        )
    return bonds, shell


def _neighbour_tables(cs: _Cells, offsets, kept):
    """neighbors and neighbor_bond [N, z]: each site of basis atom a has the same directed
    offsets; rows are padded with the site itself and the bond index n_bonds."""
    nk, N = len(kept), cs.n_cells * cs.nb
    kept_index = {o[:3]: k for k, o in enumerate(kept)}
    cell_index = cs.cells @ cs.strides
    per_atom = [[o for o in offsets if o[0] == a] for a in range(cs.nb)]
    z = max(len(p) for p in per_atom)
    neighbors = np.repeat(np.arange(N, dtype=np.int64)[:, None], z, axis=1)
    neighbor_bond = np.full((N, z), cs.n_cells * nk, dtype=np.int64)
    for a in range(cs.nb):
        rows = cell_index * cs.nb + a
        for slot, (_, b, c, _s) in enumerate(per_atom[a]):
            neighbors[rows, slot] = cs.site(cs.cells + np.array(c), b)
            if (a, b, c) in kept_index:
                neighbor_bond[rows, slot] = cell_index * nk + kept_index[(a, b, c)]
            else:
                k = kept_index[(b, a, tuple(-v for v in c))]
                neighbor_bond[rows, slot] = ((cs.cells + np.array(c)) % cs.sc) @ cs.strides * nk + k
    return neighbors, neighbor_bond


def _sublattice_labels(sublattice, cs: _Cells) -> np.ndarray:
    """[N] labels: the basis index, or the given [n_basis] labels renumbered 0, 1, ..."""
    if sublattice is None:
        return np.tile(np.arange(cs.nb), cs.n_cells)
    sublattice = np.asarray(sublattice)
    if sublattice.shape != (cs.nb,):
        raise ValueError(f"sublattice must have shape ({cs.nb},), got {sublattice.shape}")
    return np.tile(np.unique(sublattice, return_inverse=True)[1], cs.n_cells)


def _colouring(cs: _Cells, stagger, bonds, neighbors, valid) -> np.ndarray:
    """A proper colouring [N]: the two sides of a bipartite graph, the basis index, the
    basis index times the cell parities (even supercells), else greedy."""
    d, nb = cs.sc.shape[0], cs.nb
    parity_axes = (cs.cells % 2) @ (2 ** np.arange(d))
    candidates = [np.tile(np.arange(nb), cs.n_cells)]
    if np.all(cs.sc % 2 == 0):
        candidates.append(np.repeat(parity_axes, nb) * nb + np.tile(np.arange(nb), cs.n_cells))
    if stagger is not None:
        candidates.insert(0, (stagger > 0).astype(np.int64))
    colour = next((c for c in candidates if _is_proper(c, bonds)), None)
    if colour is None:
        colour = _greedy_colouring(cs.n_cells * nb, neighbors, valid)
    return colour


def _directed_offsets(cell, basis, shells, tol):
    """The neighbour offsets (each shell must find one) and those kept as bonds (each pair
    once: b > a, or b == a with a positive cell shift)."""
    d = cell.shape[0]
    offsets = _bond_offsets(cell, basis, shells, tol)
    for s, (r, _) in enumerate(shells):
        if not any(o[3] == s for o in offsets):
            raise ValueError(f"shell {s} at distance {r} A finds no neighbours (tol={tol})")
    kept = [o for o in offsets if (o[1] > o[0]) or (o[1] == o[0] and o[2] > (0,) * d)]
    return offsets, kept


def from_cell(
    cell, basis, supercell, shells, tol: float = 1e-3, sublattice=None, name: str = "from_cell"
) -> Lattice:
    r"""A periodic lattice from a unit cell, a basis of magnetic atoms and exchange shells.

    Sites are ``r = (n + f_a) @ cell`` for every cell ``n`` of the ``supercell`` and every basis
    atom ``a`` (site index ``((n_0 L_1 + n_1) L_2 + n_2) n_basis + a``). Two sites at periodic
    distance ``r_s +- tol`` are joined by a bond of shell ``s`` with exchange ``J_s``; the model
    energy is :math:`H = -\sum_{\rm bonds} J_{ij}\, S_i\cdot S_j`, each bond once (J > 0
    ferromagnetic). A small supercell may join a pair by several periodic images: each image
    is a separate bond, as in the infinite crystal.

    Args:
        cell: [d, d] unit-cell vectors as rows, angstrom (d = 1, 2 or 3).
        basis: [n_basis, d] fractional coordinates of the magnetic atoms.
        supercell: int or d ints, number of unit cells along each cell vector (>= 1).
        shells: sequence of ``(distance [angstrom], J [joule])`` pairs.
        tol: distance tolerance, angstrom (> 0 and < half the shortest shell distance).
        sublattice: optional [n_basis] int labels of the basis atoms (default: basis index).
        name: a label.
    Returns:
        :class:`Lattice`.
    Raises:
        ValueError: bad shapes, non-positive sizes, a shell that finds no neighbour, or a
            supercell so small that a site is its own neighbour.
    """
    cell = _as_cell(cell)
    d = cell.shape[0]
    basis = _as_basis(basis, d)
    sc = _as_supercell(supercell, d)
    if float(np.prod(sc.astype(float))) * basis.shape[0] > MAX_SITES:
        raise ValueError(f"supercell {supercell!r} x {basis.shape[0]} basis atoms: too many sites")
    shells = _as_shells(shells)
    check_static_positive("tol", tol)
    if not tol < 0.5 * min(r for r, _ in shells):
        raise ValueError(f"tol = {tol!r} A must be < half the shortest shell distance")
    offsets, kept = _directed_offsets(cell, basis, shells, tol)
    J_shell = np.array([j for _, j in shells], dtype=np.float64)
    return assemble(cell, basis, sc, offsets, kept, J_shell, sublattice, name)


def assemble(cell, basis, sc, offsets, kept, J_class, sublattice, name) -> Lattice:
    """The :class:`Lattice` of a supercell ``sc`` [d] of ``cell`` with ``basis``, from the
    directed neighbour offsets ``(a, b, c, k)`` (``kept``: those stored as bonds, each pair
    once) and the exchange ``J_class[k]`` [joule] of each bond class k."""
    d = cell.shape[0]
    cs = _supercell_cells(sc, basis.shape[0])
    bonds, shell = _bond_table(cs, kept)
    neighbors, neighbor_bond = _neighbour_tables(cs, offsets, kept)
    N = cs.n_cells * cs.nb
    positions = ((cs.cells[:, None, :] + basis[None, :, :]).reshape(N, d)) @ cell
    valid = neighbor_bond < bonds.shape[0]
    sub = _sublattice_labels(sublattice, cs)
    stagger = _two_colouring(N, neighbors, valid)
    colour = _colouring(cs, stagger, bonds, neighbors, valid)
    bravais = cs.nb == 1
    return Lattice(
        positions=positions,
        supercell_vectors=cell * cs.sc[:, None],
        bonds=bonds.astype(np.int32),
        J=np.asarray(J_class, dtype=np.float64)[shell],
        shell=shell,
        neighbors=neighbors.astype(np.int32),
        neighbor_bond=neighbor_bond.astype(np.int32),
        sublattice=sub.astype(np.int32),
        colour_sites=_colour_table(colour, N),
        stagger=np.zeros(N) if stagger is None else stagger,
        name=name,
        grid_shape=tuple(int(v) for v in cs.sc) if bravais else None,
        grid_offsets=tuple(o[2] for o in kept) if bravais else (),
    )


#: most sites a lattice may have: its site and bond tables are int32 (and must fit in memory)
MAX_SITES = 2**31 - 1


def _check_L(L, even: bool = False, multiple: int = 1, what: str = "") -> int:
    check_real("L", L)
    L = check_count("L", L)
    if L > MAX_SITES:
        raise ValueError(f"L = {L} is too large: the lattice needs <= {MAX_SITES} sites (int32)")
    if even and L % 2:
        raise ValueError(
            f"{what} needs an even L for its checkerboard / Neel sublattices, got L={L}"
        )
    if L % multiple:
        raise ValueError(f"{what} needs L divisible by {multiple}, got L={L}")
    return L


def _with_stagger_sublattices(lat: Lattice) -> Lattice:
    """Use the two sides of a bipartite lattice as its sublattice labels."""
    return eqx.tree_at(lambda l: l.sublattice, lat, (lat.stagger < 0).astype(np.int32))


_JDEF = K_B  # default exchange of the standard lattices: J / k_B = 1 K


def chain(L, J=_JDEF) -> Lattice:
    """Periodic chain of L sites (spacing 1 A), nearest-neighbour exchange J [joule]; L even."""
    L = _check_L(L, even=True, what="chain")
    return _with_stagger_sublattices(from_cell([[1.0]], [[0.0]], L, [(1.0, J)], name="chain"))


def square(L, J=_JDEF) -> Lattice:
    """L x L square lattice (a = 1 A, z = 4), nearest-neighbour J [joule]; L even.

    Sublattices: the two Neel (checkerboard) sublattices. Default J = k_B x 1 K, so that
    temperatures in kelvin are temperatures in units of J/k_B.
    """
    L = _check_L(L, even=True, what="square")
    lat = from_cell(np.eye(2), [[0.0, 0.0]], L, [(1.0, J)], name="square")
    return _with_stagger_sublattices(lat)


def cubic(L, J=_JDEF) -> Lattice:
    """L^3 simple cubic lattice (a = 1 A, z = 6), nearest-neighbour J [joule]; L even.

    Sublattices: the two Neel sublattices (G-type order).
    """
    L = _check_L(L, even=True, what="cubic")
    lat = from_cell(np.eye(3), [[0.0, 0.0, 0.0]], L, [(1.0, J)], name="cubic")
    return _with_stagger_sublattices(lat)


def bcc(L, J=_JDEF) -> Lattice:
    """Body-centred cubic, L^3 conventional cells (a = 1 A), 2 L^3 sites, z = 8, NN J [joule].

    Sublattices: corner and body centre (the two Neel sublattices).
    """
    L = _check_L(L, what="bcc")
    return from_cell(
        np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], L, [(math.sqrt(3) / 2, J)], name="bcc"
    )


def fcc(L, J=_JDEF) -> Lattice:
    """Face-centred cubic, L^3 conventional cells (a = 1 A), 4 L^3 sites, z = 12, NN J [joule].

    Sublattices: the four simple-cubic sublattices of the conventional cell.
    """
    L = _check_L(L, what="fcc")
    basis = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    return from_cell(np.eye(3), basis, L, [(1 / math.sqrt(2), J)], name="fcc")


def honeycomb(L, J=_JDEF) -> Lattice:
    """Honeycomb, L x L cells of 2 sites (bond length 1 A, z = 3), NN J [joule]; A/B sublattices."""
    L = _check_L(L, what="honeycomb")
    a = math.sqrt(3)
    cell = [[a, 0.0], [a / 2, 1.5]]
    return from_cell(cell, [[0, 0], [1 / 3, 1 / 3]], L, [(1.0, J)], name="honeycomb")


def triangular(L, J=_JDEF) -> Lattice:
    """Triangular, L x L sites (a = 1 A, z = 6), NN J [joule]; L divisible by 3.

    Sublattices: the three sublattices of the sqrt(3) x sqrt(3) (120 degree) structure.
    """
    L = _check_L(L, multiple=3, what="triangular")
    cell = [[1.0, 0.0], [0.5, math.sqrt(3) / 2]]
    lat = from_cell(cell, [[0, 0]], L, [(1.0, J)], name="triangular")
    n = np.arange(L * L)
    three = ((n // L) + 2 * (n % L)) % 3  # (n0 + 2 n1) mod 3, with n0 = n // L
    lat = eqx.tree_at(lambda l: l.sublattice, lat, three.astype(np.int32))
    return eqx.tree_at(lambda l: l.colour_sites, lat, _colour_table(three, L * L))


_BUILDERS = {
    "chain": chain,
    "square": square,
    "cubic": cubic,
    "bcc": bcc,
    "fcc": fcc,
    "honeycomb": honeycomb,
    "triangular": triangular,
}


def by_name(name: str, L, J=_JDEF) -> Lattice:
    """A standard lattice by name: chain, square, cubic, bcc, fcc, honeycomb, triangular."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown lattice {name!r}; choose one of {sorted(_BUILDERS)}")
    return _BUILDERS[name](L, J)
