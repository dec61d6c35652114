"""The lattice rows of ``test_input_contract`` (see ``_contract_rows``): ``ROWS`` here is
every row, those of ``_contract_rows`` followed by the lattice entry points."""

from __future__ import annotations

import importlib.util

import jax
import numpy as np
from _contract_rows import ROWS as _OTHER_ROWS
from _contract_rows import Row

from netmag_jax import lattice
from netmag_jax.constants import K_B

_LAT = lattice.square(2)  # 4 sites, 8 bonds (periodic images of a 2 x 2 cell)
_Z3 = np.array([0.0, 0.0, 1.0])
_S_LAT = np.tile(_Z3, (4, 1))
_AFM = lattice.TwoSublattice.antiferromagnet(0.5, -4 * K_B)  # T_N = 1 K


def _mc(temperatures, init, axis):
    """Two measured Heisenberg sweeps of the 2 x 2 lattice (easy axis ``axis``)."""
    model = lattice.Heisenberg(_LAT, anisotropy=(0.5 * K_B, axis))
    key = jax.random.PRNGKey(0)
    obs = lattice.simulate(model, key, temperatures, 2, 0, n_chains=1, n_blocks=2, init=init)
    return obs.energy, obs.magnetization


ROWS = _OTHER_ROWS + [
    # --- lattice -------------------------------------------------------------------------------
    Row("lattice.square", lambda L: lattice.square(L).J, dict(L=2), dict(L="count"), static=("L",)),
    Row(
        "lattice.from_cell",
        lambda cell, basis, tol: lattice.from_cell(cell, basis, 2, [(1.0, K_B)], tol=tol).J,
        dict(cell=np.eye(2), basis=np.zeros((1, 2)), tol=1e-3),
        dict(cell="static_finite", basis="static_finite", tol="static_pos"),
        static=("cell", "basis", "tol"),
    ),
    Row(
        "lattice.Heisenberg.energy",
        lambda J, h, D, axis, moments: lattice.Heisenberg(_LAT, J, h, (D, axis), moments).energy(
            _S_LAT
        ),
        dict(J=K_B, h=np.array([0.0, 0.0, 0.1 * K_B]), D=0.5 * K_B, axis=_Z3, moments=1.0),
        dict(J="finite", h="finite", D="finite", axis="axis", moments="finite"),
    ),
    Row(
        "lattice.simulate",
        lambda temperatures, init, axis: _mc(temperatures, init, axis),
        dict(temperatures=np.array([2.0]), init=_S_LAT, axis=_Z3),
        dict(temperatures="pos", init="unit", axis="axis"),
        # a driver, not a traceable function: it compiles its chains itself (the value
        # checks run there) and estimates errors in NumPy afterwards
        vmap=False,
        jit=False,
    ),
    Row(
        "lattice.evolve",
        lambda spins, temperature: lattice.evolve(
            lattice.Heisenberg(_LAT), jax.random.PRNGKey(1), spins, temperature, 2
        ),
        dict(spins=_S_LAT, temperature=2.0),
        dict(spins="unit", temperature="pos"),
    ),
    Row(
        "lattice.ising_square_metropolis",
        lambda spins, temperature, J, h: lattice.ising_square_metropolis(
            spins, temperature, 2, jax.random.PRNGKey(2), J, h
        ),
        dict(spins=np.ones((4, 4)), temperature=2.0, J=K_B, h=0.0),
        dict(spins="ising", temperature="pos", J="finite", h="finite"),
    ),
    Row(
        "lattice.weiss",
        lambda T, Tc, B, g: lattice.weiss(T, Tc, 0.5, B, g),
        dict(T=5.0, Tc=10.0, B=0.0, g=2.0),
        dict(T="pos", Tc="pos", B="finite", g="pos"),
    ),
    Row(
        "lattice.mean_field_tc",
        lambda zJ, S: lattice.mean_field_tc(zJ, S),
        dict(zJ=4 * K_B, S=3.5),
        dict(zJ="finite", S="pos"),
    ),
    Row(
        "lattice.classical_exchange",
        lattice.classical_exchange,
        dict(J=K_B, S=3.5),
        dict(J="finite", S="pos"),
    ),
    Row(
        "lattice.convert_exchange",
        lambda J, S: lattice.convert_exchange(J, S, "-2J"),
        dict(J=K_B, S=3.5),
        dict(J="finite", S="pos"),
    ),
    Row(
        "lattice.exchange_from_meV",
        lattice.exchange_from_meV,
        dict(J_meV=1.0),
        dict(J_meV="finite"),
    ),
    Row("lattice.exchange_from_K", lattice.exchange_from_K, dict(J_K=1.0), dict(J_K="finite")),
    Row(
        "lattice.binder_crossing",
        lattice.binder_crossing,
        dict(
            temperatures=np.array([1.0, 2.0, 3.0]),
            binder_a=np.array([0.6, 0.5, 0.2]),
            binder_b=np.array([0.65, 0.45, 0.1]),
        ),  # fmt: skip
        dict(temperatures="seq", binder_a="seq", binder_b="seq"),
    ),
    Row(
        "lattice.TwoSublattice",  # its closed forms T_N and theta (g enters only theta)
        lambda J_A, J_B, a_AB, a_AA, a_BB, g_A, g_B, n_A, n_B: (
            lambda m: (m.neel_temperature(), m.curie_weiss_theta())
        )(lattice.TwoSublattice(J_A, J_B, a_AB, a_AA, a_BB, g_A, g_B, n_A, n_B)),
        dict(
            J_A=2.5, J_B=1.0, a_AB=-4 * K_B, a_AA=0.0, a_BB=0.0, g_A=2.0, g_B=2.0, n_A=1.0, n_B=2.0
        ),
        {
            **dict.fromkeys(("J_A", "J_B", "g_A", "g_B", "n_A", "n_B"), "pos"),
            **dict.fromkeys(("a_AB", "a_AA", "a_BB"), "finite"),
        },
    ),
    Row(
        "lattice.TwoSublattice.solve",
        lambda T, B: _AFM.solve(T, B),
        dict(T=0.5, B=0.0),
        dict(T="pos", B="finite"),
    ),
]

if importlib.util.find_spec("ase") and importlib.util.find_spec("spglib"):  # the lattice extra
    from ase import Atoms

    # Mn at the origin, O at (0, 0, 1/2), a = 3 A (P4/mmm); the structure itself is not walked
    _MNO = Atoms("MnO", scaled_positions=[(0, 0, 0), (0, 0, 0.5)], cell=[3.0] * 3, pbc=True)
    ROWS += [
        Row(
            "lattice.bond_classes",
            lambda r_max, symprec, tol: np.array(
                [c.distance for c in lattice.bond_classes(_MNO, "Mn", r_max, symprec, tol)]
            ),
            dict(r_max=3.5, symprec=1e-3, tol=1e-3),
            dict.fromkeys(("r_max", "symprec", "tol"), "static_pos"),
            static=("r_max", "symprec", "tol"),
        ),
        Row(
            "lattice.from_structure",
            lambda J, symprec, tol: lattice.from_structure(_MNO, "Mn", 3, J, symprec, tol).J,
            dict(J=np.array([K_B]), symprec=1e-3, tol=1e-3),
            {"J": "static_finite", **dict.fromkeys(("symprec", "tol"), "static_pos")},
            static=("J", "symprec", "tol"),
        ),
    ]
