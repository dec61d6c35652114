"""Mean-field theory against its analytic limits.

* Weiss: m = tanh(Tc m/T) for J = 1/2; m = 0 above Tc; Landau expansion near Tc,
  m^2 = (10/3) (J+1)^2/((J+1)^2 + J^2) (1 - T/Tc); mean-field Tc = zJ/k_B (Ising),
  zJ/(3k_B) (classical Heisenberg), zJS(S+1)/(3k_B) (quantum spin S).
* Neel two-sublattice model: T_N = c (a_AA - a_AB) and theta/T_N = (a_AA + a_AB)/(a_AA - a_AB)
  for equal sublattices; ferrimagnet T_c = lambda sqrt(C_A C_B) (no intra-sublattice
  exchange); chi_par(T_N) = chi_perp = g^2 mu_B^2/(-a_AB); equal moments -> M_A = -M_B.
* Implicit gradients against central finite differences.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from netmag_jax import lattice as nl
from netmag_jax.constants import K_B, MU_B


def test_weiss_ising_self_consistency_and_limits():
    T = jnp.array([0.3, 0.6, 0.9, 0.99, 1.2, 3.0])
    m = nl.weiss(T, 1.0, 0.5)
    np.testing.assert_allclose(m, np.tanh(np.asarray(m) / np.asarray(T)), atol=1e-12)
    assert np.all(np.asarray(m[:4]) > 0.1) and np.all(np.abs(np.asarray(m[4:])) < 1e-12)
    # low T: B_J(x) ~ 1 - exp(-x/J)/J with x/J = 3 Tc/((J+1) T)
    assert 1 - float(nl.weiss(0.05, 1.0, 3.5)) == pytest.approx(
        np.exp(-3 / (4.5 * 0.05)) / 3.5, rel=1e-3
    )


@pytest.mark.parametrize("J", [0.5, 1.0, 3.5])
def test_weiss_landau_expansion_near_tc(J):
    t = 1 - 1e-4
    m = float(nl.weiss(t, 1.0, J))
    pref = 10 / 3 * (J + 1) ** 2 / ((J + 1) ** 2 + J**2)
    assert m**2 == pytest.approx(pref * (1 - t), rel=2e-3)


def test_weiss_classical_langevin_form():
    """Classical limit: m = L(3 Tc m / T); Landau m^2 = (5/3)(1 - T/Tc)."""
    m = float(nl.weiss(0.5, 1.0, "classical"))
    assert m == pytest.approx(1 / np.tanh(6 * m) - 1 / (6 * m), abs=1e-12)
    m = float(nl.weiss(1 - 1e-4, 1.0, "classical"))
    assert m**2 == pytest.approx(5 / 3 * 1e-4, rel=2e-3)


def test_weiss_field_and_gradients():
    """Implicit derivatives dm/dT, dm/dTc, dm/dB against finite differences."""
    f = jax.jit(lambda T, Tc, B: nl.weiss(T, Tc, 3.5, B=B))
    g = jax.jit(jax.grad(lambda T, Tc, B: nl.weiss(T, Tc, 3.5, B=B), argnums=(0, 1, 2)))
    for x in ((0.7, 1.0, 0.0), (1.5, 1.0, 0.3)):
        grads = g(*x)
        for i, h in enumerate((1e-6, 1e-6, 1e-5)):
            xp, xm = list(x), list(x)
            xp[i] += h
            xm[i] -= h
            fd = (f(*xp) - f(*xm)) / (2 * h)
            assert float(grads[i]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9)
    # paramagnet above Tc in a weak field: m ~ (J+1) g mu_B B / (3 k_B (T - Tc))
    B = 1e-3
    m = float(nl.weiss(2.0, 1.0, 0.5, B=B))
    assert m == pytest.approx(1.5 * 2 * MU_B * B / (3 * K_B * 1.0), rel=1e-3)


def test_mean_field_tc_of_models():
    """zJ/k_B for Ising, zJ/(3k_B) classical Heisenberg, zJ S(S+1)/(3 k_B) quantum."""
    assert float(nl.mean_field_tc(nl.Ising(nl.square(4)))) == pytest.approx(4.0)
    assert float(nl.mean_field_tc(nl.Heisenberg(nl.cubic(4)))) == pytest.approx(2.0)
    assert float(nl.mean_field_tc(nl.XY(nl.triangular(3)))) == pytest.approx(3.0)
    assert float(nl.mean_field_tc(6 * K_B, S=0.5)) == pytest.approx(1.5)
    with pytest.raises(ValueError):
        nl.mean_field_tc(6 * K_B)


def _af(a_intra=0.0):
    return nl.TwoSublattice.antiferromagnet(1.5, -8 * K_B, a_intra * K_B)


@pytest.mark.parametrize("a_intra", [0.0, 2.0, -3.0])
def test_neel_antiferromagnet(a_intra):
    af = _af(a_intra)
    c = 1.5 * 2.5 / 3
    TN = c * (a_intra + 8)
    assert float(af.neel_temperature()) == pytest.approx(TN, rel=1e-12)
    theta = float(af.curie_weiss_theta())
    assert theta / TN == pytest.approx((a_intra - 8) / (a_intra + 8), rel=1e-12)
    for T in (0.2 * TN, 0.8 * TN, 0.999 * TN):
        mA, mB = af.solve(T)
        assert float(mA) > 0.01 and float(mA) == pytest.approx(-float(mB), rel=1e-10)
    mA, mB = af.solve(1.001 * TN)
    assert abs(float(mA)) < 1e-8 and abs(float(mB)) < 1e-8
    # Curie-Weiss law from the solver's (implicit-derivative) susceptibility above T_N
    T1, T2 = 3 * TN, 5 * TN
    x1, x2 = 1 / af.susceptibility(T1), 1 / af.susceptibility(T2)
    theta_fit = float(T1 - x1 * (T2 - T1) / (x2 - x1))
    assert theta_fit == pytest.approx(theta, rel=1e-8, abs=1e-8 * TN)
    # chi_par is continuous with chi_perp = g^2 mu_B^2/(-a_AB) at T_N
    chi_perp = 4 * MU_B**2 / (8 * K_B)
    assert float(af.susceptibility(TN * (1 - 1e-7))) == pytest.approx(chi_perp, rel=1e-4)
    assert float(af.perpendicular_susceptibility(0.5 * TN)) == pytest.approx(chi_perp)
    assert float(af.susceptibility(0.5 * TN)) < chi_perp
    assert float(af.powder_susceptibility(0.5 * TN)) < chi_perp


def _ferri(J_B=1.0, a_BB=0.0, n_B=1.0):
    return nl.TwoSublattice(3.5, J_B, -6 * K_B, a_AA=0.0, a_BB=a_BB * K_B, n_B=n_B)


def test_ferrimagnet_neel_tc_and_equal_moment_limit():
    """T_c = lambda sqrt(C_A C_B): onset of order in the solver; net moment nonzero below
    T_c and exactly zero at all T when the moments are made equal."""
    fe = _ferri()
    cA, cB = 3.5 * 4.5 / 3 / K_B, 1.0 * 2.0 / 3 / K_B
    Tc = np.sqrt(cA * cB) * 6 * K_B
    assert float(fe.neel_temperature()) == pytest.approx(Tc, rel=1e-12)
    assert abs(float(fe.solve(Tc * 0.98)[0])) > 0.1
    assert abs(float(fe.solve(Tc * 1.02)[0])) < 1e-8
    assert float(fe.net_moment(0.3 * Tc)) > 1.0
    eq = _ferri(J_B=3.5)
    for T in np.array([0.1, 0.5, 0.9]) * float(eq.neel_temperature()):
        mA, mB = eq.solve(T)
        assert float(mA) > 0.1
        assert abs(float(eq.net_moment(T))) < 1e-10


def test_ferrimagnet_compensation_point():
    """Neel N-type curve: a strongly coupled, smaller B sublattice (n_B = 1.2, J_B = 5/2,
    a_BB > 0) outlasts the weakly held A moments: the net moment changes sign at T_comp."""
    fe = nl.TwoSublattice(3.5, 2.5, -2 * K_B, a_AA=0.0, a_BB=10 * K_B, n_B=1.2)
    TN = float(fe.neel_temperature())
    assert float(fe.net_moment(0.05 * TN)) > 0 > float(fe.net_moment(0.9 * TN))
    Tcomp = float(fe.compensation_temperature(0.05 * TN, 0.9 * TN))
    assert 0.05 * TN < Tcomp < 0.9 * TN
    assert abs(float(fe.net_moment(Tcomp))) < 1e-6
    with pytest.raises(Exception, match="change sign"):
        fe.compensation_temperature(0.05 * TN, 0.06 * TN)


def test_two_sublattice_implicit_gradients():
    """d M_A(T)/d a_AB and d T_N/d a_AB against finite differences; T_N by hand too."""

    def mA(a_AB):
        return nl.TwoSublattice(3.5, 1.0, a_AB * K_B, a_BB=2 * K_B).solve(8.0)[0]

    check_grads(mA, (-6.0,), order=1, modes=("rev",))
    tn = lambda a: nl.TwoSublattice.antiferromagnet(1.5, a * K_B).neel_temperature()  # noqa
    assert float(jax.grad(tn)(-8.0)) == pytest.approx(-1.5 * 2.5 / 3, rel=1e-12)


def test_meanfield_bad_input():
    with pytest.raises(Exception, match="T"):
        nl.weiss(-1.0, 1.0)
    with pytest.raises(Exception, match="Tc"):
        nl.weiss(1.0, 0.0)
    with pytest.raises(ValueError):
        nl.weiss(1.0, 1.0, "quantum")
    with pytest.raises(Exception, match="J"):
        nl.weiss(0.5, 1.0, 0.3)
    with pytest.raises(Exception, match="J_A"):
        nl.TwoSublattice(-1.0, 1.0, -K_B)
    with pytest.raises(Exception, match="a_AB"):
        nl.TwoSublattice(1.0, 1.0, float("nan"))
    with pytest.raises(ValueError, match="scalar"):
        nl.TwoSublattice(jnp.ones(2), 1.0, -K_B)
    with pytest.raises(ValueError, match="scalar"):
        _af().solve(jnp.ones(3))
    with pytest.raises(Exception, match="T"):
        _af().solve(0.0)
    with pytest.raises(Exception, match="equal sublattices"):
        _ferri().perpendicular_susceptibility(1.0)


def test_meanfield_jit_vmap_eager_agree():
    """weiss under jit equals eager; TwoSublattice.solve under vmap equals a Python loop."""
    T = jnp.array([0.4, 0.8, 1.3])
    np.testing.assert_allclose(
        jax.jit(lambda t: nl.weiss(t, 1.0, 1.0))(T), nl.weiss(T, 1.0, 1.0), rtol=1e-12
    )
    af = _af()
    Ts = jnp.array([1.0, 3.0, 6.0])
    mA, mB = jax.vmap(af.solve)(Ts)
    for i, t in enumerate(Ts):
        a, b = af.solve(t)
        assert float(mA[i]) == pytest.approx(float(a), rel=1e-12)
        assert float(mB[i]) == pytest.approx(float(b), rel=1e-12)
