r"""Classical spin models on a lattice: Ising, XY and Heisenberg.

All three share one Hamiltonian, for classical unit vectors :math:`S_i` with n = 1 (Ising,
S = +-1), 2 (XY) or 3 (Heisenberg) components:

.. math::
    H = -\sum_{\langle ij\rangle} J_{ij}\, S_i\cdot S_j \;-\; \sum_i h\cdot S_i
        \;-\; D \sum_i (S_i\cdot \hat n)^2,

with the sum over bonds taking each bond once (J > 0 ferromagnetic, J < 0
antiferromagnetic), ``h`` the Zeeman energy per spin (``h = mu B`` for a moment mu [J/T]
along B [T]) and D > 0 an easy axis :math:`\hat n`. All energies are in joules.

Exchange constants quoted for quantum spins of length S use other conventions; see
:func:`classical_exchange` to convert, and :func:`exchange_from_meV` / :func:`exchange_from_K`
for units.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .. import _checks
from ..constants import K_B, MEV
from ._kernels import ReducedModel, bond_products, hamiltonian, reduced_model, slot_couplings
from ._lattice import Lattice


def exchange_from_meV(J_meV):
    """Exchange constant in meV -> joules (checked finite, also under jit)."""
    return _checks.finite(J_meV, "J_meV") * MEV


def exchange_from_K(J_K):
    """Exchange constant J/k_B in kelvin -> joules (checked finite, also under jit)."""
    return _checks.finite(J_K, "J_K") * K_B


def classical_exchange(J, S, convention: str = "S(S+1)"):
    r"""Exchange for classical *unit* spins from a constant quoted for quantum spins S.

    A Hamiltonian :math:`-J \hat S_i\cdot\hat S_j` of spins of length S maps onto unit vectors
    :math:`-\tilde J\, s_i\cdot s_j` with

    * ``"S(S+1)"``: :math:`\tilde J = J S(S+1)` (matches the quantum high-temperature
      expansion and the mean-field :math:`T_c = zJS(S+1)/3k_B`),
    * ``"S^2"``: :math:`\tilde J = J S^2` (matches the classical ground-state energy),
    * ``"unit"``: :math:`\tilde J = J` (already for unit spins).

    Args:
        J: exchange constant, joules (any shape).
        S: spin quantum number (> 0).
        convention: one of "S(S+1)", "S^2", "unit".
    Returns:
        the exchange for unit spins, joules.
    """
    _checks.check_option("convention", convention, ("S(S+1)", "S^2", "unit"))
    S = _checks.positive(S, "S").astype(jnp.result_type(float))
    J = _checks.finite(J, "J")
    if convention == "S(S+1)":
        out = J * S * (S + 1.0)
    elif convention == "S^2":
        out = J * S * S
    else:
        out = J * jnp.ones_like(S)
    return _checks.finite_result(out, "classical_exchange", ("J", "S"))


#: published Hamiltonian conventions, each pair <ij> once: H = sign * factor * J S_i . S_j
_CONVENTIONS = {"-J": -1.0, "-2J": -2.0, "+J": 1.0, "+2J": 2.0}


def convert_exchange(J, S, convention: str, spin_length: str = "S(S+1)"):
    r"""Exchange of this package from a published constant, the convention stated explicitly.

    Published Hamiltonians, each pair :math:`\langle ij\rangle` once, quantum spins S:

    * ``"-J"``: :math:`H = -\sum J\, \hat S_i\cdot\hat S_j` (J > 0 ferromagnetic),
    * ``"-2J"``: :math:`H = -2\sum J\, \hat S_i\cdot\hat S_j` (Heisenberg's, e.g. the EuO
      constants of Passell et al. 1976; also a sum over ordered pairs i != j written with -J),
    * ``"+J"``: :math:`H = +\sum J\, \hat S_i\cdot\hat S_j` (J > 0 antiferromagnetic; SpinW,
      Sunny),
    * ``"+2J"``: :math:`H = +2\sum J\, \hat S_i\cdot\hat S_j`.

    This package uses classical unit spins, :math:`H = -\sum_{\rm bonds} \tilde J\, s_i\cdot
    s_j`, so :math:`\tilde J = c\, J\, \nu(S)` with c = 1, 2, -1, -2 for the four
    conventions and :math:`\nu` the spin-length normalisation of :func:`classical_exchange`:
    ``"S(S+1)"`` (the usual choice: it keeps the high-temperature expansion and the mean-field
    :math:`T_c = zJS(S+1)/3k_B` of the quantum model), ``"S^2"`` (keeps the classical ground-
    state energy) or ``"unit"`` (the constant was already for unit spins).

    Worked example (EuO, S = 7/2, "-2J", J1/k_B = 0.606 K): with ``"S(S+1)"``,
    :math:`\tilde J_1/k_B = 2 \times 0.606 \times 15.75 = 19.089` K; with ``"S^2"``,
    :math:`2 \times 0.606 \times 12.25 = 14.847` K. Entering 0.606 K as if it were
    :math:`\tilde J` underestimates T_c by the factor 2S(S+1) = 31.5.

    Args:
        J: published exchange constant(s), joules (``exchange_from_K`` / ``exchange_from_meV``
            convert units), any shape.
        S: spin quantum number (> 0).
        convention: "-J", "-2J", "+J" or "+2J" (no default: say which the paper uses).
        spin_length: "S(S+1)", "S^2" or "unit".
    Returns:
        the exchange for :mod:`netmag_jax.lattice` models (classical unit spins), joules.
    """
    _checks.check_option("convention", convention, tuple(_CONVENTIONS))
    _checks.check_option("spin_length", spin_length, ("S(S+1)", "S^2", "unit"))
    sign = -_CONVENTIONS[convention]
    J = _checks.finite(J, "J").astype(jnp.result_type(float))
    return classical_exchange(sign * J, S, spin_length)


def _site_moments(lattice: Lattice, moments):
    """Per-site moment weights [N] from None (all 1), a scalar, [n_sublattices] or [N]."""
    dt = jnp.result_type(float)
    N, ns = lattice.n_sites, lattice.n_sublattices
    if moments is None:
        return jnp.ones((N,), dt)
    w = jnp.asarray(moments, dtype=dt)
    if w.ndim == 0:
        w = jnp.full((N,), w)
    elif w.shape == (ns,) and ns != N:
        w = w[jnp.asarray(lattice.sublattice)]
    elif w.shape != (N,):
        raise ValueError(
            f"moments must be a scalar, [n_sublattices]=({ns},) or [N]=({N},), got shape {w.shape}"
        )
    return _checks.finite(w, "moments")


def _bond_couplings(lattice: Lattice, J):
    nb = lattice.n_bonds
    if J is None:
        J = lattice.J
    J = jnp.asarray(J, dtype=jnp.result_type(float))
    if J.ndim == 0:
        J = jnp.full((nb,), J)
    elif J.shape != (nb,):
        raise ValueError(f"J must be a scalar or have shape (n_bonds,) = ({nb},), got {J.shape}")
    return J


class SpinModel(eqx.Module):
    r"""Classical n-component spin model on a lattice (see the module docstring).

    Fields: ``lattice``; ``J`` [n_bonds] joules; ``h`` [n] joules; ``D`` joules;
    ``axis`` [n] unit vector (a given axis is normalised; zero or non-finite is an error);
    ``moments`` [N] dimensionless moment of each site in units of a reference moment (the
    Zeeman energy of site i is :math:`-w_i h\cdot S_i` and the magnetization
    :math:`m = \frac1N\sum_i w_i S_i`; unequal sublattice moments make a ferrimagnet);
    ``n_components`` (static).
    """

    lattice: Lattice
    J: jnp.ndarray
    h: jnp.ndarray
    D: jnp.ndarray
    axis: jnp.ndarray
    moments: jnp.ndarray
    n_components: int = eqx.field(static=True)

    def __init__(
        self, lattice: Lattice, J=None, h=0.0, D=0.0, axis=None, n_components=3, moments=None
    ):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"lattice must be a Lattice, got {type(lattice).__name__}")
        for name, v in (("J", J), ("h", h), ("D", D), ("axis", axis), ("moments", moments)):
            if v is not None:
                _checks.check_real(name, v)  # a complex value would lose its imaginary part
        self.lattice = lattice
        self.n_components = int(n_components)
        n = self.n_components
        self.J = _checks.finite(_bond_couplings(lattice, J), "J")
        h = jnp.asarray(h, dtype=jnp.result_type(float))
        if h.ndim == 0:
            h = jnp.zeros((n,)).at[0].set(h) if n > 1 else h[None]
        if h.shape != (n,):
            raise ValueError(f"h must be a scalar or have shape ({n},), got {h.shape}")
        self.h = _checks.finite(h, "h")
        self.D = _checks.finite(jnp.asarray(D, dtype=jnp.result_type(float)), "D")
        if self.D.ndim != 0:
            raise ValueError("D must be a scalar")
        axis = (
            jnp.zeros((n,)).at[0].set(1.0)
            if axis is None
            else jnp.asarray(axis, dtype=jnp.result_type(float))
        )
        if axis.shape != (n,):
            raise ValueError(f"axis must have shape ({n},), got {axis.shape}")
        # normalised after scaling by max |axis|: no under/overflow of |axis| for any finite
        # non-zero axis (1e-300 or 1e300 components give the same direction)
        big = jnp.max(jnp.abs(axis))
        ok = jnp.all(jnp.isfinite(axis)) & (big > 0)
        axis = _checks.require(axis, ok, "axis must be a finite, non-zero vector")
        scaled = axis / jnp.where(ok, big, 1.0)
        self.axis = scaled / jnp.linalg.norm(scaled)
        self.moments = _site_moments(lattice, moments)

    def neighbor_couplings(self):
        """Per-slot couplings [N, z] (joules) aligned with ``lattice.neighbors``."""
        return slot_couplings(self.J, self.lattice.neighbor_bond)

    def energy(self, spins):
        r"""Total energy [J] of a configuration ``spins`` [N, n] (Ising: [N] or [N, 1]).

        :math:`E = -\sum_b J_b S_i\cdot S_j - \sum_i w_i h\cdot S_i - D\sum_i (S_i\cdot\hat
        n)^2`, each bond once (the kernels' ``hamiltonian``).
        """
        s = jnp.asarray(spins)
        s = s.reshape(s.shape[0], -1)
        pairs = bond_products(s, jnp.asarray(self.lattice.bonds))
        return hamiltonian(s, pairs, self.J, self.moments, self.h, self.D, self.axis)

    def reduced(self, dtype=None) -> ReducedModel:
        """The model in the Monte Carlo kernels' form: energies / k_B (kelvin) and the integer
        tables of the lattice (concrete lattice arrays; not traceable through ``lattice``).

        Args:
            dtype: float dtype of the couplings (default: the default float dtype).
        """
        dtype = jnp.result_type(float) if dtype is None else dtype
        return reduced_model(self.lattice, self.J, self.h, self.D, self.axis, self.moments, dtype)


def Ising(lattice: Lattice, J=None, h=0.0, moments=None) -> SpinModel:
    r"""Ising model, S_i = +-1: :math:`H = -\sum_b J_b S_iS_j - h\sum_i S_i`.

    Args:
        lattice: a :class:`Lattice`.
        J: exchange, joules: scalar (all bonds) or [n_bonds]; default the lattice's ``J``.
        h: Zeeman energy per unit moment, joules (``mu B``).
        moments: site moments w_i (see :class:`SpinModel`): None, scalar, [n_sublattices], [N].
    """
    return SpinModel(lattice, J=J, h=h, D=0.0, axis=None, n_components=1, moments=moments)


def XY(lattice: Lattice, J=None, h=0.0, D=0.0, axis=None, moments=None) -> SpinModel:
    r"""Planar (XY) model of unit 2-vectors, :math:`H = -\sum_b J_b S_i\cdot S_j - \sum_i h\cdot
    S_i - D\sum_i (S_i\cdot\hat n)^2`.

    Args:
        lattice: a :class:`Lattice`.
        J: exchange, joules: scalar or [n_bonds]; default the lattice's ``J``.
        h: Zeeman energy per spin, joules: scalar (along x) or [2].
        D: in-plane uniaxial anisotropy, joules (> 0 easy axis).
        axis: [2] anisotropy axis (default x).
        moments: site moments w_i (see :class:`SpinModel`).
    """
    return SpinModel(lattice, J=J, h=h, D=D, axis=axis, n_components=2, moments=moments)


def Heisenberg(lattice: Lattice, J=None, h=0.0, anisotropy=None, moments=None) -> SpinModel:
    r"""Classical Heisenberg model of unit 3-vectors.

    :math:`H = -\sum_b J_b S_i\cdot S_j - \sum_i h\cdot S_i - D\sum_i (S_i\cdot\hat n)^2`.

    Args:
        lattice: a :class:`Lattice`.
        J: exchange, joules: scalar or [n_bonds]; default the lattice's ``J``.
        h: Zeeman energy per spin, joules: scalar (along x, the first component) or [3].
        anisotropy: ``None`` or ``(D [joule], axis [3])``: single-ion anisotropy,
            D > 0 easy axis, D < 0 easy plane.
        moments: site moments w_i (see :class:`SpinModel`).
    """
    D, axis = (0.0, None) if anisotropy is None else anisotropy
    return SpinModel(lattice, J=J, h=h, D=D, axis=axis, n_components=3, moments=moments)
