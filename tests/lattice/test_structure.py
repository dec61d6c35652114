"""lattice.from_structure / bond_classes: crystals read from CIF and POSCAR files (ase), bonds
grouped by distance and by space-group symmetry (spglib).

Reference numbers are geometry: rock salt (EuO, Fm-3m, a = 5.144 A, Passell et al., PRB 14,
4897 (1976)) has 12 Eu neighbours at a/sqrt(2) and 6 at a; bcc Fe (Im-3m, a = 2.8665 A) has 8
at a sqrt(3)/2 and 6 at a; a tetragonal cell with c = a (P4/mmm, spglib's number 123) has 4
in-plane and 2 out-of-plane neighbours at one distance, in two symmetry classes.
"""

import math

import numpy as np
import pytest

ase = pytest.importorskip("ase")
spglib = pytest.importorskip("spglib")
from ase import Atoms  # noqa: E402
from ase.io import write  # noqa: E402
from ase.spacegroup import crystal  # noqa: E402

from netmag_jax import lattice  # noqa: E402
from netmag_jax.constants import K_B  # noqa: E402

A_EUO = 5.144


def _euo():
    return crystal(
        ["Eu", "O"], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=225, cellpar=[A_EUO] * 3 + [90] * 3
    )


@pytest.fixture
def euo_cif(tmp_path):
    path = tmp_path / "EuO.cif"
    write(path, _euo())
    return path


def _tetragonal():
    """Mn at the origin, O at (0, 0, 1/2), a = b = c = 3 A: P4/mmm."""
    return Atoms("MnO", scaled_positions=[(0, 0, 0), (0, 0, 0.5)], cell=[3.0, 3.0, 3.0], pbc=True)


def test_euo_cif_bond_classes(euo_cif):
    # rock salt: 12 at a/sqrt(2), 6 at a, 24 at a sqrt(3/2)
    assert (
        spglib.get_symmetry_dataset(
            (_euo().cell[:], _euo().get_scaled_positions(), _euo().numbers)
        ).number
        == 225
    )
    cls = lattice.bond_classes(euo_cif, "Eu", 6.5)
    assert [c.coordination for c in cls] == [12.0, 6.0, 24.0]
    np.testing.assert_allclose(
        [c.distance for c in cls],
        A_EUO * np.array([1 / math.sqrt(2), 1.0, math.sqrt(1.5)]),
        rtol=1e-12,
    )


def test_euo_from_structure_matches_distance_shells(euo_cif):
    """No two classes share a length in rock salt, so the symmetry classes are the distance
    shells of from_cell: same bonds, same J."""
    J = np.array([2.0, 0.5]) * K_B
    lat = lattice.from_structure(euo_cif, "Eu", 3, J)
    ref = lattice.from_cell(
        _euo().cell[:],
        [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)],
        3,
        [(A_EUO / math.sqrt(2), J[0]), (A_EUO, J[1])],
    )
    np.testing.assert_allclose(lat.positions, ref.positions, atol=1e-9)

    def bondset(l):
        return sorted(
            (min(i, j), max(i, j), float(jj)) for (i, j), jj in zip(l.bonds, l.J, strict=True)
        )

    assert bondset(lat) == bondset(ref)
    assert np.all(lat.coordination == 18)
    # ferromagnetic ground state: E/N = -(12 J1 + 6 J2)/2
    model = lattice.Heisenberg(lat)
    up = np.zeros((lat.n_sites, 3))
    up[:, 2] = 1.0
    np.testing.assert_allclose(
        float(model.energy(up)) / lat.n_sites, -(6 * J[0] + 3 * J[1]), rtol=1e-12
    )


def test_primitive_cell_is_bravais(euo_cif):
    lat = lattice.from_structure(euo_cif, "Eu", 4, [K_B, 0.2 * K_B], primitive=True)
    assert lat.grid_shape == (4, 4, 4) and lat.n_sites == 64
    assert np.all(lat.coordination == 18)
    np.testing.assert_allclose(np.sum(lat.J) / lat.n_sites, 0.5 * (12 + 6 * 0.2) * K_B)


def test_bcc_fe_poscar(tmp_path):
    fe = crystal(["Fe"], [(0, 0, 0)], spacegroup=229, cellpar=[2.8665] * 3 + [90] * 3)
    path = tmp_path / "POSCAR"
    write(path, fe, format="vasp")
    cls = lattice.bond_classes(path, "Fe", 3.0)
    assert [c.coordination for c in cls] == [8.0, 6.0]
    np.testing.assert_allclose([c.distance for c in cls], [2.8665 * math.sqrt(3) / 2, 2.8665])
    lat = lattice.from_structure(path, "Fe", 3, [K_B])
    assert lat.n_sites == 54 and np.all(lat.coordination == 8)


def test_equal_distance_different_symmetry():
    """P4/mmm with c = a: the 4 in-plane and 2 out-of-plane neighbours at 3 A are two classes
    (checked by hand: the c axis is the 4-fold axis, no operation maps it into the plane)."""
    t = _tetragonal()
    assert (
        spglib.get_symmetry_dataset((t.cell[:], t.get_scaled_positions(), t.numbers)).number == 123
    )
    cls = lattice.bond_classes(t, "Mn", 3.5)
    assert [(round(c.distance, 9), c.coordination) for c in cls] == [(3.0, 4.0), (3.0, 2.0)]
    assert abs(cls[1].vector[2]) == pytest.approx(3.0)  # the out-of-plane class
    lat = lattice.from_structure(t, "Mn", 4, [1.0 * K_B, -0.3 * K_B])
    r = lat.positions[lat.bonds[:, 1]] - lat.positions[lat.bonds[:, 0]]
    along_z = np.abs(np.round(r[:, 2], 6)) > 0
    np.testing.assert_array_equal(along_z, lat.shell == 1)
    np.testing.assert_allclose(lat.J[lat.shell == 1], -0.3 * K_B)
    np.testing.assert_allclose(lat.J[lat.shell == 0], 1.0 * K_B)


def test_j_list_stopping_inside_equal_length_classes_is_an_error():
    with pytest.raises(ValueError, match="same length"):
        lattice.from_structure(_tetragonal(), "Mn", 4, [K_B])


def test_missing_element_is_an_error(euo_cif):
    with pytest.raises(ValueError, match=r"EuO.cif: no Fe atoms.*\['Eu', 'O'\]"):
        lattice.from_structure(euo_cif, "Fe", 3, [K_B])
    with pytest.raises(ValueError, match="chemical symbol"):
        lattice.from_structure(euo_cif, "Xx", 3, [K_B])


def test_supercell_too_small_is_an_error(euo_cif):
    # J2 at a = 5.144 A needs supercell widths > 10.288 A: 2 conventional cells are not enough
    with pytest.raises(ValueError, match=r"too small.*at least \(3, 3, 3\)"):
        lattice.from_structure(euo_cif, "Eu", 2, [K_B, K_B])
    lattice.from_structure(euo_cif, "Eu", 2, [K_B])  # J1 only (3.64 A) fits


@pytest.mark.parametrize("J", [[], [np.nan], [[1.0, 2.0]]])
def test_bad_j_lists(euo_cif, J):
    with pytest.raises(ValueError, match="J"):
        lattice.from_structure(euo_cif, "Eu", 3, J)


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_a five\n")
    with pytest.raises(ValueError, match="bad.cif"):
        lattice.from_structure(bad, "Eu", 3, [K_B])
    with pytest.raises(ValueError, match="no such file"):
        lattice.from_structure(tmp_path / "missing.cif", "Eu", 3, [K_B])


def test_nonpositive_temperature_fails_before_compiling(euo_cif):
    lat = lattice.from_structure(euo_cif, "Eu", 2, [K_B])
    with pytest.raises(ValueError, match="temperatures"):
        lattice.simulate(
            lattice.Heisenberg(lat),
            __import__("jax").random.key(0),
            [10.0, 0.0],
            n_sweeps=16,
            n_equil=0,
        )
