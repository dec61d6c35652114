r"""Lattices from crystal-structure files: bonds grouped by distance and by symmetry.

A structure (CIF, POSCAR, or any format ase reads; or an ``ase.Atoms``) is read with ase, the
magnetic species is selected by element, and the bonds between magnetic sites are grouped into
*bond classes*: two bonds are in one class when a space-group operation of the whole crystal
(all species, found by spglib) maps one onto the other. Bonds of one class have one length,
but two bonds of one length need not be in one class (e.g. the in-plane and the out-of-plane
nearest neighbours of a tetragonal crystal whose c equals a); each class gets its own exchange
constant, the convention of Sunny and SpinW. Energy convention as everywhere in
:mod:`netmag_jax.lattice`: :math:`H = -\sum_{\rm bonds} J_{ij} S_i\cdot S_j`, each bond once,
classical unit spins, J in joules (convert published constants with
:func:`~netmag_jax.lattice.convert_exchange`).

Why ase and spglib: ase (the Atomic Simulation Environment) is maintained, pure Python, and
reads CIF (expanding the symmetry operations of the file into the full cell), POSCAR and some
80 other formats with one call; spglib is the reference space-group finder used by ase,
pymatgen, phonopy and Sunny. Both are in the ``lattice`` extra (``pip install
netmag_jax[lattice]``).
"""

from __future__ import annotations

import math
import os
import warnings
from typing import NamedTuple

import numpy as np

from .. import _checks
from ._lattice import Lattice, _as_supercell, _pairs_within, assemble

_EXTRA = "reading crystal structures needs ase and spglib: pip install 'netmag_jax[lattice]'"


class BondClass(NamedTuple):
    """One class of symmetry-equivalent bonds between magnetic sites.

    Fields: ``distance`` (angstrom); ``coordination``: bonds of this class per magnetic site
    (averaged over the sites of the cell); ``representative``: one bond ``(a, b, cell)``, from
    magnetic atom a of cell (0, 0, 0) to magnetic atom b of cell ``cell`` (atoms numbered in
    the order of the structure); ``vector``: that bond's cartesian vector, angstrom.
    """

    distance: float
    coordination: float
    representative: tuple
    vector: tuple


def _read(structure):
    """An ``ase.Atoms`` from a path (any format ase reads) or an ``ase.Atoms``."""
    try:
        import ase
        import ase.io
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise ImportError(_EXTRA) from e
    if isinstance(structure, ase.Atoms):
        return structure
    if not isinstance(structure, (str, os.PathLike)):
        raise TypeError(f"structure must be a path or an ase.Atoms, got {type(structure).__name__}")
    path = os.fspath(structure)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    try:
        atoms = ase.io.read(path)
    except Exception as e:  # ase raises many kinds for malformed files
        raise ValueError(
            f"{path}: cannot read a crystal structure ({type(e).__name__}: {e})"
        ) from e
    return atoms[-1] if isinstance(atoms, list) else atoms


def _cell_tuple(atoms, primitive: bool, symprec: float):
    """(cell [3, 3] A, fractional positions [n, 3], atomic numbers [n]) of all atoms, reduced
    to the primitive cell by spglib if asked (its orientation may then change)."""
    cell = np.asarray(atoms.cell[:], dtype=np.float64)
    if cell.shape != (3, 3) or abs(np.linalg.det(cell)) < 1e-9 or not np.all(atoms.pbc):
        raise ValueError("the structure must be a periodic 3D crystal (a cell of volume > 0)")
    frac = np.asarray(atoms.get_scaled_positions(wrap=True), dtype=np.float64)
    numbers = np.asarray(atoms.numbers, dtype=np.int64)
    if primitive:
        import spglib

        with warnings.catch_warnings():  # spglib 2.5+: a DeprecationWarning on every call
            warnings.simplefilter("ignore", DeprecationWarning)
            prim = spglib.standardize_cell(
                (cell.tolist(), frac.tolist(), numbers.tolist()),
                to_primitive=True,
                no_idealize=True,
                symprec=symprec,
            )
        if prim is None:
            raise ValueError("spglib could not find the primitive cell (try another symprec)")
        cell, frac, numbers = (np.asarray(x) for x in prim)
    return cell, frac % 1.0, numbers


def _magnetic_basis(frac, numbers, element: str, where: str):
    from ase.data import atomic_numbers, chemical_symbols

    if element not in atomic_numbers:
        raise ValueError(f"element must be a chemical symbol such as 'Fe', got {element!r}")
    sel = numbers == atomic_numbers[element]
    if not np.any(sel):
        present = sorted({chemical_symbols[z] for z in numbers.tolist()})
        raise ValueError(f"{where}: no {element} atoms in the structure (it holds {present})")
    return frac[sel]


def _site_permutations(cell, basis, rotations, translations, tol):
    """For each operation and magnetic atom a: (a', n) with R f_a + t = f_a' + n."""
    perms = []
    for R, t in zip(rotations, translations, strict=True):
        img = basis @ R.T + t  # [nb, 3]
        diff = img[:, None, :] - basis[None, :, :]
        shift = np.round(diff)
        err = np.linalg.norm((diff - shift) @ cell, axis=-1)  # [nb, nb] A
        to = np.argmin(err, axis=1)
        if np.any(err[np.arange(len(basis)), to] > tol):
            raise ValueError(
                "a space-group operation does not map the magnetic atoms onto each other "
                "(disordered or inconsistent structure; try another symprec)"
            )
        perms.append((to, shift[np.arange(len(basis)), to].astype(np.int64)))
    return perms


def _union_find_classes(pairs, rotations, perms):
    """Class label of every directed pair (a, b, c): pairs mapped onto each other by an
    operation, or the reverse of each other, share a label."""
    index = {(a, b, c): i for i, (a, b, c, _) in enumerate(pairs)}
    parent = list(range(len(pairs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i, key):
        j = index.get(key)
        if j is not None:
            parent[find(i)] = find(j)

    for i, (a, b, c, _) in enumerate(pairs):
        join(i, (b, a, tuple(-v for v in c)))
        for R, (to, n) in zip(rotations, perms, strict=True):
            cc = n[b] + R @ np.asarray(c) - n[a]
            join(i, (int(to[a]), int(to[b]), tuple(int(v) for v in cc)))
    return np.array([find(i) for i in range(len(pairs))])


class _Classified(NamedTuple):
    cell: np.ndarray
    basis: np.ndarray
    pairs: list  # directed (a, b, c, distance)
    label: np.ndarray  # class index of each pair (sorted order), -1 beyond the radius
    classes: tuple  # BondClass, sorted


def _classify(cell, basis, frac, numbers, r_max, symprec, tol) -> _Classified:
    """All bond classes of length <= r_max, sorted by distance (ties: larger coordination
    first, then the representative bond)."""
    import spglib

    with warnings.catch_warnings():  # spglib 2.5+: a DeprecationWarning on every call
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry((cell.tolist(), frac.tolist(), numbers.tolist()), symprec=symprec)
    if sym is None:
        raise ValueError("spglib found no symmetry operations (try another symprec)")
    rotations = np.asarray(sym["rotations"], dtype=np.int64)
    perms = _site_permutations(cell, basis, rotations, sym["translations"], 4 * symprec)
    # a margin so that the images of every pair within r_max are found
    pairs = _pairs_within(cell, basis, r_max + 10 * symprec + tol)
    roots = _union_find_classes(pairs, rotations, perms)
    groups = {}
    for i, r in enumerate(roots.tolist()):
        groups.setdefault(r, []).append(i)
    found = []
    for members in groups.values():
        dist = float(np.mean([pairs[i][3] for i in members]))
        if dist <= r_max:
            rep = min(pairs[i][:3] for i in members)
            found.append((dist, len(members) / len(basis), rep, members))
    found.sort(key=lambda f: (f[0], -f[1], f[2]))
    order = _tie_order(found, tol)
    label = -np.ones(len(pairs), dtype=np.int64)
    classes = []
    for k, f in enumerate(order):
        label[f[3]] = k
        a, b, c = f[2]
        vec = (basis[b] + np.asarray(c) - basis[a]) @ cell
        classes.append(BondClass(f[0], f[1], f[2], tuple(float(v) for v in vec)))
    return _Classified(cell, basis, pairs, label, tuple(classes))


def _tie_order(found, tol):
    """Sort classes by distance, treating distances within ``tol`` as equal (then larger
    coordination first, then the smaller representative)."""
    group, last, keyed = 0, -math.inf, []
    for f in found:
        if f[0] - last > tol:
            group += 1
            last = f[0]
        keyed.append(((group, -f[1], f[2]), f))
    return [f for _, f in sorted(keyed, key=lambda x: x[0])]


def _prepare(structure, element, primitive, symprec, tol):
    _checks.check_static_positive("symprec", symprec)
    _checks.check_static_positive("tol", tol)
    atoms = _read(structure)
    where = os.fspath(structure) if isinstance(structure, (str, os.PathLike)) else "structure"
    cell, frac, numbers = _cell_tuple(atoms, bool(primitive), float(symprec))
    basis = _magnetic_basis(frac, numbers, element, where)
    return cell, basis, frac, numbers, atoms.get_chemical_formula()


def bond_classes(
    structure,
    element: str,
    r_max: float,
    symprec: float = 1e-3,
    tol: float = 1e-3,
    primitive: bool = False,
) -> tuple[BondClass, ...]:
    """The symmetry classes of bonds between ``element`` sites up to ``r_max`` angstrom.

    The order is that of the exchange list of :func:`from_structure`: by distance; classes at
    one distance (within ``tol``) by decreasing coordination, then by representative bond.

    Args:
        structure: path of a file ase reads (CIF, POSCAR, ...) or an ``ase.Atoms``.
        element: chemical symbol of the magnetic species, e.g. "Eu".
        r_max: largest bond length, angstrom (> 0).
        symprec: spglib's symmetry tolerance, angstrom.
        tol: tolerance for equal distances, angstrom.
        primitive: use spglib's primitive cell instead of the cell of the file.
    Returns:
        tuple of :class:`BondClass`.
    """
    _checks.check_static_positive("r_max", r_max)
    cell, basis, frac, numbers, _ = _prepare(structure, element, primitive, symprec, tol)
    return _classify(cell, basis, frac, numbers, float(r_max), symprec, tol).classes


def _classes_for(cell, basis, frac, numbers, n, symprec, tol) -> _Classified:
    """The classification within a radius holding at least n + 1 classes."""
    r = 1.5 * (abs(np.linalg.det(cell)) / len(basis)) ** (1.0 / 3.0)
    for _ in range(12):
        got = _classify(cell, basis, frac, numbers, r, symprec, tol)
        if len(got.classes) > n:
            return got
        r *= 1.5
    raise ValueError(f"fewer than {n + 1} bond classes within {r:.3g} A")  # pragma: no cover


def _check_J(J, classes, n, tol):
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 1 or J.size < 1:
        raise ValueError(f"J must be a 1D list of one exchange per bond class, got shape {J.shape}")
    if not np.all(np.isfinite(J)):
        raise ValueError(f"J must be finite, got {J}")
    last, nxt = classes[n - 1], classes[n]
    if nxt.distance - last.distance <= tol:
        raise ValueError(
            f"J gives {n} bond classes but class {n} (distance {nxt.distance:.4f} A, "
            f"coordination {nxt.coordination:g}) has the same length as class {n - 1} and a "
            "different symmetry: give one J per class (see bond_classes)"
        )
    return J


def _check_supercell(cell, sc, r_max, tol, where):
    """Minimum image: every bond shorter than half the supercell's smallest width."""
    recip_norm = np.linalg.norm(np.linalg.inv(cell).T, axis=1)  # 1 / widths of the cell
    widths = sc / recip_norm
    if r_max + tol >= 0.5 * widths.min():
        need = np.floor(2.0 * (r_max + tol) * recip_norm).astype(int) + 1
        raise ValueError(
            f"{where}: supercell {tuple(int(v) for v in sc)} is too small for the longest bond "
            f"({r_max:.4f} A): a site would couple to another through two periodic images "
            f"(widths {np.round(widths, 3).tolist()} A must exceed {2 * r_max:.4f} A); use at "
            f"least {tuple(int(v) for v in need)} cells"
        )


def from_structure(
    structure,
    element: str,
    supercell,
    J,
    symprec: float = 1e-3,
    tol: float = 1e-3,
    primitive: bool = False,
    name: str | None = None,
) -> Lattice:
    r"""A periodic lattice of the ``element`` sites of a crystal structure, with one exchange
    constant per symmetry class of bonds.

    The bond classes, sorted as by :func:`bond_classes` (by distance, then by decreasing
    coordination), receive ``J[0], J[1], ...`` in order; every bond of class k gets
    ``J[k]`` and the lattice's ``shell`` field holds k. The energy is
    :math:`H = -\sum_{\rm bonds} J_k\, S_i\cdot S_j`, each bond once, for classical unit
    spins (convert published constants with :func:`~netmag_jax.lattice.convert_exchange`).
    All checks run in NumPy, before anything is compiled.

    Args:
        structure: path of a file ase reads (CIF, POSCAR, ...) or an ``ase.Atoms``.
        element: chemical symbol of the magnetic species, e.g. "Eu".
        supercell: int or 3 ints, cells of the structure (or of its primitive cell) along
            each cell vector; every bond must be shorter than half the supercell's smallest
            width, so that no pair couples through two periodic images.
        J: [n_classes] exchange per bond class, joules (J > 0 ferromagnetic).
        symprec: spglib's symmetry tolerance, angstrom.
        tol: tolerance for equal bond lengths, angstrom.
        primitive: use spglib's primitive cell (one site per cell for a Bravais lattice of
            magnetic atoms, e.g. fcc Eu in EuO: the fast grid Monte Carlo kernels apply).
        name: label (default: the chemical formula and the element).
    Returns:
        :class:`~netmag_jax.lattice.Lattice` (sublattice labels: the magnetic atom of the cell).
    Raises:
        ValueError: unreadable file, no ``element`` in it, a J list that stops inside a set of
            equal-length classes or is not finite, a supercell too small for the longest bond.
    """
    cell, basis, frac, numbers, formula = _prepare(structure, element, primitive, symprec, tol)
    where = os.fspath(structure) if isinstance(structure, (str, os.PathLike)) else "structure"
    _checks.check_static_finite("J", J)  # (complex J would lose its imaginary part silently)
    n = int(np.size(J))
    if n < 1:
        raise ValueError("J must list at least one exchange constant (one per bond class)")
    got = _classes_for(cell, basis, frac, numbers, n, symprec, tol)
    Jc = _check_J(J, got.classes, n, tol)
    sc = _as_supercell(supercell, 3)
    _check_supercell(cell, sc, got.classes[n - 1].distance, tol, where)
    offsets = [
        (a, b, c, int(k))
        for (a, b, c, _), k in zip(got.pairs, got.label, strict=True)
        if 0 <= k < n
    ]
    kept = [o for o in offsets if (o[1] > o[0]) or (o[1] == o[0] and o[2] > (0, 0, 0))]
    return assemble(cell, basis, sc, offsets, kept, Jc, None, name or f"{formula}:{element}")
