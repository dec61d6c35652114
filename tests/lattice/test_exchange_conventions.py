"""lattice.convert_exchange: published exchange conventions -> classical unit spins.

Analytic checks: the mean-field Curie temperature T_c = z J S(S+1) / 3 k_B of the quantum model
written in the "-J" convention is invariant under the conversion with the S(S+1)
normalisation (classical unit spins: T_c = z J~ / 3 k_B); the S^2 normalisation keeps the
classical ground-state energy -J S^2 per bond. Worked EuO numbers: Passell, Dietrich and
Als-Nielsen, PRB 14, 4897 (1976), J1/k_B = 0.606 K, J2/k_B = 0.119 K for H = -2J sum S.S, S = 7/2.
"""

import numpy as np
import pytest

from netmag_jax import lattice
from netmag_jax.constants import K_B

S_EU = 3.5


@pytest.mark.parametrize(
    "convention, factor", [("-J", 1.0), ("-2J", 2.0), ("+J", -1.0), ("+2J", -2.0)]
)
@pytest.mark.parametrize("S", [0.5, 1.0, 3.5])
def test_mean_field_tc_invariant(convention, factor, S):
    J = 1.7 * K_B
    z = 12
    Jt = lattice.convert_exchange(J, S, convention, "S(S+1)")
    # the same physics written in the "-J" convention has constant factor * J
    tc_quantum = lattice.mean_field_tc(z * factor * J, S=S)
    tc_classical = lattice.mean_field_tc(z * Jt, n_components=3)
    np.testing.assert_allclose(float(tc_classical), float(tc_quantum), rtol=1e-13)
    np.testing.assert_allclose(float(tc_quantum), z * factor * 1.7 * S * (S + 1) / 3, rtol=1e-13)


def test_s_squared_keeps_ground_state_energy():
    # a ferromagnetic bond of quantum spins at the classical level: -2 J S^2 ("-2J")
    J = 0.3 * K_B
    Jt = lattice.convert_exchange(J, S_EU, "-2J", "S^2")
    np.testing.assert_allclose(float(Jt), 2 * J * S_EU**2, rtol=1e-14)
    np.testing.assert_allclose(float(lattice.convert_exchange(J, 2.0, "+J", "unit")), -J)


def test_euo_worked_example():
    """The docstring's numbers: 19.089 K (S(S+1)) and 14.847 K (S^2) for J1 = 0.606 K."""
    J1 = lattice.exchange_from_K(0.606)
    np.testing.assert_allclose(
        float(lattice.convert_exchange(J1, S_EU, "-2J")) / K_B, 19.089, atol=5e-4
    )
    np.testing.assert_allclose(
        float(lattice.convert_exchange(J1, S_EU, "-2J", "S^2")) / K_B, 14.847, atol=5e-4
    )
    # mean field of fcc EuO: z1 = 12, z2 = 6: (12*2*0.606 + 6*2*0.119) * 15.75 / 3 = 83.853 K
    Jt = lattice.convert_exchange(lattice.exchange_from_K(np.array([0.606, 0.119])), S_EU, "-2J")
    tc = lattice.mean_field_tc(12 * Jt[0] + 6 * Jt[1], n_components=3)
    np.testing.assert_allclose(float(tc), (12 * 2 * 0.606 + 6 * 2 * 0.119) * 15.75 / 3, rtol=1e-12)


def test_convention_must_be_stated():
    with pytest.raises(ValueError, match="convention"):
        lattice.convert_exchange(K_B, S_EU, "J")
    with pytest.raises(TypeError):
        lattice.convert_exchange(K_B, S_EU)  # no default convention
    with pytest.raises(ValueError, match="spin_length"):
        lattice.convert_exchange(K_B, S_EU, "-J", "S(S+2)")
    with pytest.raises(Exception, match="S must be finite"):
        lattice.convert_exchange(K_B, -1.0, "-J")
    with pytest.raises(Exception, match="J must be finite"):
        lattice.convert_exchange(np.nan, S_EU, "-J")
