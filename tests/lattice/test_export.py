"""Observables export (xarray, HDF5) and molar susceptibilities.

Curie's law for free classical spins is the analytic reference: chi_site = 1 / (3 k_B T) per
unit 3-vector, i.e. chi T = N_A mu_B^2 p^2 / (3 k_B) = 0.12505 p^2 emu K / mol (CGS; the
"chi T = 0.125 g^2 S(S+1)" of magnetochemistry texts, e.g. O. Kahn, Molecular Magnetism).
"""

import math

import jax
import numpy as np
import pytest

from netmag_jax import lattice
from netmag_jax.constants import K_B

xr = pytest.importorskip("xarray")
h5py = pytest.importorskip("h5py")

TEMPS = [10.0, 20.0, 40.0]


@pytest.fixture(scope="module")
def free_spins():
    """Free classical Heisenberg spins (J = 0) on 64 sites: every sweep is independent."""
    model = lattice.Heisenberg(lattice.cubic(4), J=0.0)
    return lattice.simulate(model, jax.random.key(3), TEMPS, 400, 16, n_chains=4)


def test_curie_law_in_emu(free_spins):
    p = 7.94  # g sqrt(S(S+1)) of Eu2+ / Gd3+
    chi, err = free_spins.molar_susceptibility(p, units="emu/mol/Oe")
    chiT = chi * np.asarray(TEMPS)
    np.testing.assert_allclose(chiT, 0.12505 * p**2, rtol=0.06)
    assert np.all(np.abs(chiT - 0.12505 * p**2) < 4 * err * np.asarray(TEMPS) + 1e-3 * chiT)
    si, _ = free_spins.molar_susceptibility(p, units="m^3/mol")
    np.testing.assert_allclose(chi, si * 1e6 / (4 * math.pi), rtol=1e-12)
    two, _ = free_spins.molar_susceptibility(p, sites_per_formula=2.0)
    np.testing.assert_allclose(two, 2 * chi, rtol=1e-12)


def test_molar_conversion_is_curie_constant():
    # chi_site = 1/(3 k_B T) exactly at T = 1 K, p = 1: the Curie constant 0.125049 emu K/mol
    from netmag_jax.lattice._export import molar_susceptibility

    c = molar_susceptibility(1.0 / (3 * K_B), 1.0, "emu/mol/Oe", 1.0)
    np.testing.assert_allclose(c, 0.125049, rtol=2e-5)


def test_bad_molar_arguments(free_spins):
    with pytest.raises(ValueError, match="units"):
        free_spins.molar_susceptibility(7.0, units="emu/g")
    with pytest.raises(ValueError, match="moment_bohr"):
        free_spins.molar_susceptibility(-7.0)
    with pytest.raises(ValueError, match="kind"):
        free_spins.molar_susceptibility(7.0, kind="staggered")


def test_to_xarray(free_spins):
    ds = free_spins.to_xarray()
    np.testing.assert_array_equal(ds["temperature"].values, TEMPS)
    assert ds["temperature"].attrs["units"] == "K"
    for name in ("magnetization", "energy", "specific_heat", "binder", "rhat"):
        np.testing.assert_array_equal(ds[name].values, np.asarray(getattr(free_spins, name)))
        np.testing.assert_array_equal(
            ds[name + "_err"].values if name != "rhat" else ds[name].values,
            np.asarray(getattr(free_spins, name + "_err" if name != "rhat" else name)),
        )
    assert ds["sublattice_magnetization"].dims == ("temperature", "sublattice")
    assert ds["energy"].attrs["units"] == "J per site"
    assert "spins" not in ds


def test_to_hdf5_round_trip(free_spins, tmp_path):
    path = tmp_path / "run.h5"
    free_spins.to_hdf5(path)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["temperature"][()], TEMPS)
        np.testing.assert_array_equal(f["susceptibility_err"][()], free_spins.susceptibility_err)
        np.testing.assert_array_equal(f["equilibrated"][()], free_spins.equilibrated)
        assert f["specific_heat"].attrs["units"] == "J/K per site"
    assert [p.name for p in tmp_path.iterdir()] == ["run.h5"]  # no temporary file left
    with pytest.raises(ValueError, match="does not exist"):
        free_spins.to_hdf5(tmp_path / "nowhere" / "run.h5")
