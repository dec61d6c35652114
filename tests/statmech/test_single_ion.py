"""SingleIon: Stevens operators against Hutchings' explicit tables, the hand-solvable S = 1
axial ion (D S_z^2), the free ion against Paramagnet, and Er3+ in a trigonal field (Kramers
doublets at B = 0) against an independent NumPy Kubo-formula susceptibility."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from netmag_jax.constants import K_B, MU_B, meV_to_J
from netmag_jax.statmech import Paramagnet, SingleIon, angular_momentum, stevens_operator

mp = np.linalg.matrix_power


def _hutchings(J):
    """Explicit Stevens operators from Hutchings (1964), Table (operator equivalents)."""
    jx, jy, jz = angular_momentum(J)
    X, eye = J * (J + 1), np.eye(jz.shape[0])
    jp, jm = jx + 1j * jy, jx - 1j * jy

    def sym(p, a):
        return 0.25 * (p @ a + a @ p)

    z2 = jz @ jz
    return {
        (2, 0): 3 * z2 - X * eye,
        (2, 1): sym(jz, jp + jm),
        (2, 2): 0.5 * (jp @ jp + jm @ jm),
        (2, -2): jx @ jy + jy @ jx,
        (4, 0): 35 * mp(jz, 4) - 30 * X * z2 + 25 * z2 - 6 * X * eye + 3 * X**2 * eye,
        (4, 2): sym(7 * z2 - X * eye - 5 * eye, mp(jp, 2) + mp(jm, 2)),
        (4, 3): sym(jz, mp(jp, 3) + mp(jm, 3)),
        (4, 4): 0.5 * (mp(jp, 4) + mp(jm, 4)),
        (6, 0): (
            231 * mp(jz, 6)
            - 315 * X * mp(jz, 4)
            + 735 * mp(jz, 4)
            + 105 * X**2 * z2
            - 525 * X * z2
            + 294 * z2
            - 5 * X**3 * eye
            + 40 * X**2 * eye
            - 60 * X * eye
        ),
        (6, 3): sym(11 * mp(jz, 3) - 3 * X * jz - 59 * jz, mp(jp, 3) + mp(jm, 3)),
        (6, 6): 0.5 * (mp(jp, 6) + mp(jm, 6)),
        (6, -6): (mp(jp, 6) - mp(jm, 6)) / 2j,
    }


@pytest.mark.parametrize("J", [2.5, 4.0, 7.5])
def test_stevens_operators_match_hutchings_table(J):
    for (k, q), ref in _hutchings(J).items():
        op = stevens_operator(J, k, q)
        np.testing.assert_allclose(op, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))
        np.testing.assert_allclose(op, op.conj().T, atol=1e-9)
    # O_2^0 eigenvalues 3 m^2 - J(J+1)
    m = np.arange(J, -J - 0.5, -1)
    np.testing.assert_allclose(np.diag(stevens_operator(J, 2, 0)).real, 3 * m**2 - J * (J + 1))
    # every O_k^q is traceless (rank-k tensor, k > 0)
    for k in (2, 4, 6):
        for q in range(-k, k + 1):
            assert abs(np.trace(stevens_operator(J, k, q))) < 1e-7 * (J + 1) ** k


def _axial_s1(D_K, g=2.0):
    """S = 1 with D S_z^2 = (D/3) O_2^0 + 2D/3: the constant does not change M or chi."""
    return SingleIon(1.0, g, {(2, 0): K_B * D_K / 3.0})


def test_axial_spin_one_susceptibility_closed_forms():
    """D S_z^2, S = 1 (Kahn, Molecular Magnetism, ch. 2; Carlin, Magnetochemistry):
    chi_par = 2 g^2 mu_B beta e^{-beta D} / (1 + 2 e^{-beta D}) [mu_B/T per ion],
    chi_perp = 2 g^2 mu_B (1 - e^{-beta D}) / (D (1 + 2 e^{-beta D})) (Van Vleck)."""
    D_K, g = 5.0, 2.0
    ion = _axial_s1(D_K, g)
    T = jnp.array([0.5, 2.0, 10.0, 100.0])
    chi = ion.susceptibility_per_ion(T)
    beta = 1.0 / (K_B * np.asarray(T))
    D = K_B * D_K
    e = np.exp(-beta * D)
    par = 2 * g**2 * MU_B * beta * e / (1 + 2 * e)
    perp = 2 * g**2 * MU_B * (1 - e) / (D * (1 + 2 * e))
    # accuracy of the matrix-exponential route: ~1e-10 of the Curie scale g^2 J(J+1) mu_B/3k_BT
    scale = g**2 * 2 * MU_B * beta / 3
    for got, ref in ((chi[:, 2, 2], par), (chi[:, 0, 0], perp), (chi[:, 1, 1], perp)):
        assert np.all(np.abs(got - ref) <= 1e-10 * (np.abs(ref) + scale))
    np.testing.assert_allclose(chi[:, 0, 1], 0.0, atol=1e-12 * perp.max())
    # exact moment in a finite field along z from the three levels 0, D -+ g mu_B B
    B = 2.0
    x = g * MU_B * B * beta
    mz = 2 * g * e * np.sinh(x) / (1 + 2 * e * np.cosh(x))
    np.testing.assert_allclose(ion.moment(jnp.array([0.0, 0.0, B]), T)[:, 2], mz, rtol=1e-10)
    # Schottky heat capacity of the levels 0, D, D at B = 0:
    # C = k_B (beta D)^2 2 e^{-beta D} / (1 + 2 e^{-beta D})^2
    c_ref = K_B * (beta * D) ** 2 * 2 * e / (1 + 2 * e) ** 2
    np.testing.assert_allclose(
        ion.heat_capacity(jnp.zeros(3), T), c_ref, rtol=1e-8, atol=1e-10 * K_B
    )


def test_free_ion_is_paramagnet():
    """No crystal field: moment parallel to B with the Brillouin magnitude, isotropic Curie chi;
    the powder average of an isotropic ion equals the single-direction value."""
    J, g = 3.5, 2.0
    ion, para = SingleIon(J, g), Paramagnet(J, g)
    B = jnp.array([[0.3, -1.2, 2.0], [0.0, 0.0, 0.0], [5.0, 1.0, -1.0]])
    T = jnp.array([1.5, 3.0, 8.0])
    bmag = np.linalg.norm(np.asarray(B), axis=-1)
    m = ion.moment(B, T)
    np.testing.assert_allclose(
        np.linalg.norm(m, axis=-1), para.moment(bmag, T), rtol=1e-10, atol=1e-13
    )
    np.testing.assert_allclose(np.cross(m, B), 0.0, atol=1e-12)
    np.testing.assert_allclose(ion.free_energy(B, T), para.free_energy(bmag, T), rtol=1e-12)
    chi = ion.susceptibility_per_ion(4.0)
    curie = g**2 * J * (J + 1) * MU_B / (3 * K_B * 4.0)
    np.testing.assert_allclose(chi, curie * np.eye(3), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(
        ion.powder_moment(2.0, 3.0, n_directions=8), para.moment(2.0, 3.0), rtol=1e-10
    )


# Er3+ (J = 15/2, g = 6/5) in a trigonal (D3d) field; parameters of the size reported for
# CsErSe2 (meV): used here only as a generic low-symmetry test case.
ER_CF = {
    (2, 0): -3.6e-2,
    (4, 0): -3.9e-4,
    (4, 3): -1.4e-2,
    (6, 0): 3.1e-6,
    (6, 3): -8.9e-6,
    (6, 6): 3.4e-6,
}


def _er(method="expm"):
    return SingleIon(7.5, 1.2, {k: meV_to_J(v) for k, v in ER_CF.items()}, method=method)


def _kubo_chi(ion, T):
    """Independent NumPy isothermal susceptibility [mu_B/T] from eigen-decomposition at B = 0:
    chi_ab = sum_ij <i|mu_a|j><j|mu_b|i> W_ij, W_ij = (p_i - p_j)/(E_j - E_i), or beta p_i
    within a degenerate level (Curie term)."""
    H = np.zeros((16, 16), complex)
    for (k, q), v in ER_CF.items():
        H += meV_to_J(v) * stevens_operator(7.5, k, q)
    E, V = np.linalg.eigh(H)
    beta = 1 / (K_B * T)
    p = np.exp(-beta * (E - E[0]))
    p /= p.sum()
    mu = [-1.2 * MU_B * V.conj().T @ a @ V for a in angular_momentum(7.5)]
    dE = E[None, :] - E[:, None]
    deg = np.abs(dE) < 1e-9 * np.abs(E).max()
    W = np.where(deg, beta * p[:, None], (p[:, None] - p[None, :]) / np.where(deg, 1.0, dE))
    chi = np.array([[np.real(np.sum(mu[a] * mu[b].T * W)) for b in range(3)] for a in range(3)])
    return chi / MU_B


def test_er_trigonal_kramers_van_vleck():
    """Kramers doublets at B = 0; chi tensor (Curie + Van Vleck) equals the Kubo formula;
    uniaxial symmetry chi_xx = chi_yy; gradients wrt B_kq at the degenerate point are finite."""
    ion = _er()
    E = np.asarray(ion.energy_levels())
    np.testing.assert_allclose(E[0::2], E[1::2], atol=1e-9 * np.abs(E).max())
    assert np.all(np.diff(E[0::2]) > 1e-3 * meV_to_J(1.0))
    for T in (2.0, 40.0):
        chi = ion.susceptibility_per_ion(T)
        np.testing.assert_allclose(chi, _kubo_chi(ion, T), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(chi[0, 0], chi[1, 1], rtol=1e-10)

    def chi_zz(bkq, T):
        return eqx.tree_at(lambda s: s.bkq, ion, bkq).susceptibility_per_ion(T)[2, 2]

    grads = jax.grad(chi_zz)(ion.bkq, 5.0)
    assert np.all(np.isfinite(grads)) and np.any(grads != 0)
    # finite difference of one parameter (B_20) against the autodiff gradient
    h = ion.bkq[0] * 1e-4
    fd = (chi_zz(ion.bkq.at[0].add(h), 5.0) - chi_zz(ion.bkq.at[0].add(-h), 5.0)) / (2 * h)
    np.testing.assert_allclose(grads[0], fd, rtol=1e-5)
    # moment and its gradient at B = 0 are finite (zero moment)
    gm = jax.jacfwd(lambda b: ion.moment(b, 3.0))(jnp.zeros(3))
    np.testing.assert_allclose(gm, ion.susceptibility_per_ion(3.0), rtol=1e-10)


def test_eigh_method_and_batched_fit_use():
    """method='eigh' (values only) agrees with 'expm' at B != 0; a batch of ~200 (B, T) points
    is differentiable with respect to the crystal field (the CsErSe2 fit use)."""
    B = jnp.stack([jnp.linspace(0.1, 9.0, 200), jnp.zeros(200), jnp.linspace(0.5, 3.0, 200)], -1)
    T = jnp.linspace(2.0, 20.0, 200)
    fast, exact = _er("eigh"), _er("expm")
    np.testing.assert_allclose(fast.moment(B, T), exact.moment(B, T), rtol=1e-9, atol=1e-11)

    @jax.jit
    def loss(bkq):
        return jnp.sum(eqx.tree_at(lambda s: s.bkq, fast, bkq).moment(B, T)[:, 2] ** 2)

    g = jax.grad(loss)(fast.bkq)
    assert g.shape == (6,) and np.all(np.isfinite(g))


def test_gradients_and_jit():
    """check_grads of the moment at B = 0 (degenerate m = +-1 levels); jit and eager agree."""
    ion = _axial_s1(3.0)
    check_grads(lambda b: ion.moment(b, 2.0), (jnp.zeros(3),), order=1, modes=["rev"])
    b = jnp.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    eager = ion.moment(b, 2.0)
    np.testing.assert_allclose(
        eqx.filter_jit(lambda s, b: s.moment(b, 2.0))(ion, b), eager, rtol=1e-13
    )
    # entropy at high T -> k_B ln 3
    np.testing.assert_allclose(ion.entropy(jnp.zeros(3), 1e4), K_B * np.log(3), rtol=1e-6)


def test_float32():
    ion = _axial_s1(3.0)
    b = np.array([0.3, 0.1, 1.0])
    m32 = ion.moment(b.astype(np.float32), np.float32(2.0))
    assert m32.dtype == jnp.float32
    np.testing.assert_allclose(m32, ion.moment(b, 2.0), rtol=1e-5, atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="k in"):
        SingleIon(2.0, 2.0, {(3, 0): 1e-23})
    with pytest.raises(ValueError, match="k in"):
        SingleIon(2.0, 2.0, {(2, 3): 1e-23})
    with pytest.raises(ValueError, match="tuples"):
        SingleIon(2.0, 2.0, {2: 1e-23})
    with pytest.raises(ValueError, match="J"):
        SingleIon(1.2, 2.0)
    with pytest.raises(ValueError, match="g"):
        SingleIon(1.0, -2.0)
    with pytest.raises(ValueError, match="method"):
        SingleIon(1.0, 2.0, method="lanczos")
    ion = _axial_s1(3.0)
    with pytest.raises(ValueError, match="length 3"):
        ion.moment(jnp.ones(2), 1.0)
    with pytest.raises(ValueError, match="density"):
        ion.susceptibility(1.0)
    with pytest.raises(Exception, match="temperature"):
        ion.moment(jnp.ones(3), 0.0)
    with pytest.raises(Exception, match="field"):
        ion.moment(jnp.array([0.0, jnp.nan, 1.0]), 1.0)
    with pytest.raises(Exception, match="crystal field"):
        SingleIon(1.0, 2.0, {(2, 0): float("nan")}).moment(jnp.ones(3), 1.0)


def test_expm_exact_far_below_the_level_spacing():
    """Regression (issue 17): the default expm path clipped its squarings once |H|/k_BT
    exceeded ~1e7 (m_z(5 T, 1e-7 K) = 5.75 for Er3+ instead of 9.00; NaN at 1e-30 K).
    Free Er3+ (J = 15/2, g = 6/5) at 5 T saturates at g J = 9 mu_B (analytic ground state
    m = -15/2); with the trigonal crystal field it equals the eigenvalue (eigh) path."""
    B = jnp.array([0.0, 0.0, 5.0])
    free = SingleIon(7.5, 1.2)
    for T in (1e-7, 1e-30):
        np.testing.assert_allclose(free.moment(B, T), [0.0, 0.0, 9.0], atol=1e-9)
    exact, fast = _er("expm"), _er("eigh")
    for T in (1.0, 1e-3, 1e-7, 1e-30):
        for b in (B, jnp.array([1.0, 0.5, 2.0])):
            m = exact.moment(b, T)
            assert np.all(np.isfinite(m))
            np.testing.assert_allclose(m, fast.moment(b, T), rtol=1e-8, atol=1e-9)
