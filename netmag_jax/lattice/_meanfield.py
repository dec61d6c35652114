r"""Mean-field (molecular-field) theory: the Weiss ferromagnet and Neel's two-sublattice model.

Self-consistency equations are solved by Newton root finding (optimistix) and differentiated
implicitly (``optimistix.ImplicitAdjoint``): gradients with respect to exchange constants,
temperature and field are exact and never backpropagate through the iterations. A solve
that does not converge raises (``throw=True``) or returns NaN (``throw=False``).

Energy convention: :math:`H = -\sum_{\rm bonds} J_{ij}\, \hat S_i\cdot\hat S_j - \sum_i g\mu_B
B \hat S^z_i` (each bond once; J > 0 ferromagnetic). In the molecular field an ion of
sublattice X feels the exchange energy per unit spin :math:`a_{XX}\langle S_X\rangle +
a_{XY}\langle S_Y\rangle` with :math:`a_{XY} = z_{XY} J_{XY}` (joules), the sum of its
couplings to sublattice Y.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from .. import _checks
from ..constants import K_B, MU_B
from ..statmech import brillouin, langevin
from ._models import SpinModel


#: mu_B / k_B, kelvin per tesla: Zeeman energies are used in kelvin, so that float32
#: derivatives never form (k_B T)^2 (~1e-42 J^2, below float32's range)
_MUB_K = MU_B / K_B


def _tol(dtype):
    return 1e-12 if jnp.finfo(dtype).bits == 64 else 1e-5


def _root(fn, y0, args, throw, max_steps=1024):
    dt = jnp.asarray(y0).dtype
    sol = optx.root_find(
        fn, optx.Newton(rtol=_tol(dt), atol=_tol(dt)), y0, args, max_steps=max_steps, throw=throw
    )
    ok = sol.result == optx.RESULTS.successful
    return jax.tree_util.tree_map(lambda v: jnp.where(ok, v, jnp.nan), sol.value)


def weiss(T, Tc, J=0.5, B=0.0, g=2.0, throw: bool = True):
    r"""Reduced spontaneous magnetization m(T) = <S^z>/J of the Weiss mean-field ferromagnet.

    Solves :math:`m = B_J\!\big(\tfrac{3J}{J+1}\tfrac{T_c}{T} m + \tfrac{g\mu_B J B}{k_BT}\big)`
    (Brillouin function from ``netmag_jax.statmech``); ``J = 1/2`` is the Ising mean field
    :math:`m = \tanh(T_c m/T + \mu_B B/k_BT)`. With ``J="classical"`` it solves the classical
    (Langevin) form :math:`m = L(3 T_c m/T + g\mu_B B/k_BT)`. Below Tc at B = 0 the nonzero
    root is returned (Newton from m = 1); above Tc, m = 0. Implicitly differentiable in
    T, Tc and B.

    Args:
        T: temperature, K (> 0), any shape.
        Tc: Curie temperature, K (> 0), broadcast with T.
        J: spin quantum number (multiple of 1/2, > 0) or "classical".
        B: field, tesla, along the magnetization (>= 0 keeps the positive branch).
        g: g-factor (> 0, checked).
        throw: raise if Newton does not converge (else NaN).
    Returns:
        m in [0, 1], broadcast shape of T, Tc, B.
    """
    dt = jnp.result_type(float)
    T = _checks.positive(T, "T").astype(dt)  # checked before the cast (complex: TypeError)
    Tc = _checks.positive(Tc, "Tc").astype(dt)
    B = _checks.finite(B, "B").astype(dt)
    g = _checks.positive(g, "g").astype(dt)
    classical = isinstance(J, str)
    if classical:
        _checks.check_option("J", J, ("classical",))
    T, Tc, B = jnp.broadcast_arrays(T, Tc, B)
    Jq = jnp.asarray(1.0 if classical else J, dtype=dt)
    flat = _weiss_solve(
        T.ravel(), Tc.ravel(), B.ravel(), Jq, jnp.asarray(g, dtype=dt), classical, throw
    )
    return flat.reshape(T.shape)


def _weiss_residual_quantum(m, args):
    T, Tc, B, J, g = args
    x = 3.0 * J / (J + 1.0) * Tc / T * m + g * _MUB_K * J * B / T
    return m - brillouin(J, x)


def _weiss_residual_classical(m, args):
    T, Tc, B, _, g = args
    return m - langevin(3.0 * Tc / T * m + g * _MUB_K * B / T)


@eqx.filter_jit
def _weiss_solve(T, Tc, B, J, g, classical, throw):
    fn = _weiss_residual_classical if classical else _weiss_residual_quantum
    one = lambda T, Tc, B: _root(fn, jnp.ones((), T.dtype), (T, Tc, B, J, g), throw)  # noqa
    return jax.vmap(one)(T, Tc, B)


def mean_field_tc(model_or_zJ, S=None, n_components: int | None = None):
    r"""Mean-field ordering temperature of a ferromagnet, kelvin.

    * quantum spins S: :math:`T_c = z J S(S+1)/(3k_B)`;
    * classical unit spins with n components: :math:`T_c = zJ/(n k_B)` (Ising n = 1:
      zJ/k_B; XY: zJ/2k_B; Heisenberg: zJ/3k_B).

    Args:
        model_or_zJ: a :class:`SpinModel` (uses the sum of its couplings per site,
            :math:`zJ \to (2/N)\sum_b J_b`, and its number of components), or the
            molecular-field constant zJ = sum_j J_ij in joules (finite).
        S: spin quantum number (> 0; quantum formula); None for classical spins.
        n_components: spin components for classical spins (needed with a number zJ).
    """
    if isinstance(model_or_zJ, SpinModel):
        zJ = 2.0 * jnp.sum(model_or_zJ.J) / model_or_zJ.lattice.n_sites
        n = model_or_zJ.n_components if n_components is None else n_components
    else:
        zJ = model_or_zJ
        n = n_components
    zJ = _checks.finite(zJ, "zJ").astype(jnp.result_type(float))
    if S is not None:
        S = _checks.positive(S, "S").astype(zJ.dtype)
        Tc = zJ / (3.0 * K_B) * S * (S + 1.0)
        return _checks.finite_result(Tc, "mean_field_tc", ("zJ", "S"))
    if n is None:
        raise ValueError("give S (quantum spins) or n_components (classical spins)")
    _checks.check_option("n_components", n, (1, 2, 3))
    return _checks.finite_result(zJ / (n * K_B), "mean_field_tc", ("zJ",))


class TwoSublattice(eqx.Module):
    r"""Neel two-sublattice mean-field model of an antiferromagnet or ferrimagnet.

    Sublattices A and B hold ions of spin quantum numbers J_A, J_B, g-factors g_A, g_B and
    n_A, n_B ions per formula unit. With :math:`\sigma_X = \langle S^z_X\rangle` (signed):

    .. math::
        \sigma_A = J_A B_{J_A}\!\Big(\frac{J_A h_A}{k_BT}\Big),\quad
        h_A = g_A\mu_B B + a_{AA}\sigma_A + a_{AB}\sigma_B,

    and likewise for B with :math:`a_{BA} = a_{AB} n_A/n_B` (each A-B bond seen from both
    ends). a_AB < 0 couples the sublattices antiparallel. Moments are
    :math:`M_X = g_X\sigma_X` Bohr magnetons per ion; equal sublattices (same J, g, n,
    a_AA = a_BB) give an antiferromagnet, M_A = -M_B.

    Fields (array leaves, differentiable): J_A, J_B, g_A, g_B, n_A, n_B, a_AA, a_BB, a_AB
    (the a's in joules, a_XY = z_XY J_XY).
    """

    J_A: jnp.ndarray
    J_B: jnp.ndarray
    a_AB: jnp.ndarray
    a_AA: jnp.ndarray
    a_BB: jnp.ndarray
    g_A: jnp.ndarray
    g_B: jnp.ndarray
    n_A: jnp.ndarray
    n_B: jnp.ndarray

    def __init__(self, J_A, J_B, a_AB, a_AA=0.0, a_BB=0.0, g_A=2.0, g_B=2.0, n_A=1.0, n_B=1.0):
        dt = jnp.result_type(float)
        c = lambda x: jnp.asarray(x, dtype=dt)  # noqa: E731
        for name, v in (
            ("J_A", J_A),
            ("J_B", J_B),
            ("a_AB", a_AB),
            ("a_AA", a_AA),
            ("a_BB", a_BB),
            ("g_A", g_A),
            ("g_B", g_B),
            ("n_A", n_A),
            ("n_B", n_B),
        ):
            if jnp.ndim(v) != 0:
                raise ValueError(f"{name} must be a scalar")
            _checks.check_real(name, v)  # before the cast to float drops an imaginary part
        self.J_A = _checks.positive(c(J_A), "J_A")
        self.J_B = _checks.positive(c(J_B), "J_B")
        self.a_AB = _checks.finite(c(a_AB), "a_AB")
        self.a_AA = _checks.finite(c(a_AA), "a_AA")
        self.a_BB = _checks.finite(c(a_BB), "a_BB")
        self.g_A = _checks.positive(c(g_A), "g_A")
        self.g_B = _checks.positive(c(g_B), "g_B")
        self.n_A = _checks.positive(c(n_A), "n_A")
        self.n_B = _checks.positive(c(n_B), "n_B")

    @classmethod
    def antiferromagnet(cls, J, a_AB, a_intra=0.0, g=2.0):
        """Equal sublattices (spin J, g) coupled by a_AB < 0 [J], intra-sublattice a_intra [J]."""
        return cls(J, J, a_AB, a_intra, a_intra, g, g, 1.0, 1.0)

    @property
    def a_BA(self):
        """Exchange sum of a B ion over its A neighbours, joules (a_AB n_A / n_B)."""
        return self.a_AB * self.n_A / self.n_B

    def _curie(self):
        """c_X k_B = J_X(J_X+1)/3 (dimensionless; exchange is used in kelvin, a/k_B, so that
        float32 never meets k_B^-2)."""
        return self.J_A * (self.J_A + 1.0) / 3.0, self.J_B * (self.J_B + 1.0) / 3.0

    def _a_kelvin(self):
        # a_BA = a_AB n_A / n_B with the ratio first; the barrier keeps XLA from reassociating
        # (a / k_B) * c into (a c) / k_B, whose product of a joule-sized a and a small c
        # (J = 1e-300) is subnormal, flushed to 0 on CPU
        aAB = self.a_AB / K_B
        return jax.lax.optimization_barrier(
            (self.a_AA / K_B, self.a_BB / K_B, aAB, aAB * (self.n_A / self.n_B))
        )

    def neel_temperature(self):
        r"""Ordering temperature (T_N, or T_c of a ferrimagnet), kelvin: the largest eigenvalue
        of the linearised equations, :math:`K = \begin{pmatrix} c_A a_{AA} & c_A a_{AB}\\
        c_B a_{BA} & c_B a_{BB}\end{pmatrix}`, :math:`c_X = J_X(J_X+1)/3k_B`. With
        a_AA = a_BB = 0 this is Neel's :math:`T_c = \lambda\sqrt{C_A C_B}`,
        i.e. :math:`\sqrt{c_A c_B a_{AB} a_{BA}}`."""
        cA, cB = self._curie()
        aAA, aBB, aAB, aBA = self._a_kelvin()
        tr = cA * aAA + cB * aBB
        det = cA * cB * (aAA * aBB - aAB * aBA)
        T_N = 0.5 * tr + jnp.sqrt(jnp.maximum(0.25 * tr * tr - det, 0.0))
        return _checks.finite_result(
            T_N, "neel_temperature", ("J_A", "J_B", "a_AA", "a_BB", "a_AB", "n_A", "n_B")
        )

    def curie_weiss_theta(self):
        r"""Paramagnetic Curie-Weiss temperature theta, kelvin, from the high-T expansion
        :math:`\chi \simeq C/(T-\theta)`: :math:`\theta = \sum_{XY} n_X g_X c_X a_{XY} c_Y g_Y
        / \sum_X n_X g_X^2 c_X`. For equal sublattices :math:`\theta/T_N = (a_{AA}+a_{AB})/
        (a_{AA}-a_{AB})` (= -1 without intra-sublattice exchange)."""
        cA, cB = self._curie()
        aAA, aBB, aAB, aBA = self._a_kelvin()
        # theta is homogeneous of degree 0 in (g_A, g_B): scaled by the larger g, g^2 never
        # overflows (g = 1e300 gives theta ~ 1/g, not inf/inf)
        s = jnp.maximum(self.g_A, self.g_B)
        gA, gB = self.g_A / s, self.g_B / s
        vA, vB = self.n_A * gA * cA, self.n_B * gB * cB
        num = vA * (aAA * cA * gA + aAB * cB * gB) + vB * (aBA * cA * gA + aBB * cB * gB)
        return _checks.finite_result(
            num / (vA * gA + vB * gB),
            "curie_weiss_theta",
            ("J_A", "J_B", "a_AA", "a_BB", "a_AB", "g_A", "g_B", "n_A", "n_B"),
        )

    def solve(self, T, B=0.0, throw: bool = True):
        r"""Self-consistent sublattice moments (M_A, M_B) in Bohr magnetons per ion.

        Newton from the fully ordered state (A up, B antiparallel to A when a_AB < 0),
        implicitly differentiable.

        Args:
            T: temperature, K (> 0), scalar.
            B: field along A's moment, tesla, scalar.
            throw: raise on non-convergence (else NaN).
        Returns:
            (M_A, M_B), signed moments per ion, mu_B.
        """
        dt = jnp.result_type(float)
        _checks.check_real("T", T)
        _checks.check_real("B", B)
        T = _checks.positive(jnp.asarray(T, dtype=dt), "T")
        B = _checks.finite(jnp.asarray(B, dtype=dt), "B")
        if T.ndim or B.ndim:
            raise ValueError("solve takes scalar T and B; use jax.vmap for many")

        return _two_solve(self, T, B, throw)

    def net_moment(self, T, B=0.0, throw: bool = True):
        """Net moment per formula unit, mu_B: n_A M_A + n_B M_B (signed, along A)."""
        mA, mB = self.solve(T, B, throw)
        return self.n_A * mA + self.n_B * mB

    def susceptibility(self, T, throw: bool = True):
        r"""Parallel susceptibility per formula unit at B = 0, J/T^2: :math:`\chi_\parallel =
        \mu_B\, \partial(n_AM_A + n_BM_B)/\partial B` (field along the ordered moments; by
        implicit differentiation). Multiply by mu_0 N_f/V for the SI volume susceptibility."""
        dt = jnp.result_type(float)
        return _chi_parallel(self, jnp.asarray(T, dtype=dt), throw)

    def perpendicular_susceptibility(self, T):
        r"""Perpendicular susceptibility of the equal-sublattice antiferromagnet, J/T^2 per
        formula unit (two ions): :math:`\chi_\perp = g^2\mu_B^2/(-a_{AB})`, constant below T_N
        (the sublattices cant until the molecular field balances the field); above T_N it
        equals :math:`\chi_\parallel`. Raises if the sublattices are not equal."""
        eq = (
            (self.J_A == self.J_B)
            & (self.g_A == self.g_B)
            & (self.n_A == self.n_B)
            & (self.a_AA == self.a_BB)
            & (self.a_AB < 0)
        )
        a = _checks.require(
            self.a_AB,
            eq,
            "perpendicular_susceptibility needs equal "
            "sublattices coupled antiferromagnetically (a_AB < 0)",
        )
        chi_perp = self.g_A**2 * MU_B * (MU_B / (-a))
        return jnp.where(self.neel_temperature() > T, chi_perp, self.susceptibility(T))

    def powder_susceptibility(self, T):
        """Powder average (chi_par + 2 chi_perp)/3 of the equal-sublattice antiferromagnet."""
        return (self.susceptibility(T) + 2.0 * self.perpendicular_susceptibility(T)) / 3.0

    def compensation_temperature(self, T_lo, T_hi, throw: bool = True):
        """Temperature in (T_lo, T_hi), K, where the net moment changes sign (Neel's N-type
        ferrimagnet), by bisection on the self-consistent net moment at B = 0.

        The net moment must have opposite signs at T_lo and T_hi (both below T_N)."""
        dt = jnp.result_type(float)
        T_lo = _checks.positive(jnp.asarray(T_lo, dtype=dt), "T_lo")
        T_hi = _checks.positive(jnp.asarray(T_hi, dtype=dt), "T_hi")
        return _compensation(self, T_lo, T_hi, throw)


def _two_residual(y, args):
    mod, T, B = args
    sA, sB = y[0] * mod.J_A, y[1] * mod.J_B
    aAA, aBB, aAB, aBA = mod._a_kelvin()
    hA = mod.g_A * _MUB_K * B + aAA * sA + aAB * sB  # molecular + Zeeman field, kelvin
    hB = mod.g_B * _MUB_K * B + aBA * sA + aBB * sB
    return jnp.stack(
        [
            y[0] - brillouin(mod.J_A, mod.J_A * hA / T),
            y[1] - brillouin(mod.J_B, mod.J_B * hB / T),
        ]
    )


@eqx.filter_jit
def _two_solve(mod, T, B, throw):
    dt = T.dtype
    y0 = jnp.stack([jnp.ones((), dt), jnp.where(mod.a_AB < 0, -1.0, 1.0).astype(dt)])
    y = _root(_two_residual, y0, (mod, T, B), throw)
    return mod.g_A * mod.J_A * y[0], mod.g_B * mod.J_B * y[1]


def _net(mod, T, B, throw):
    mA, mB = _two_solve(mod, T, B, throw)
    return mod.n_A * mA + mod.n_B * mB


@eqx.filter_jit
def _chi_parallel(mod, T, throw):
    T = _checks.positive(T, "T")
    return MU_B * jax.jacfwd(lambda b: _net(mod, T, b, throw))(jnp.zeros((), T.dtype))


def _comp_residual(T, args):
    mod, throw = args
    return _net(mod, T, jnp.zeros((), T.dtype), throw)


@eqx.filter_jit
def _compensation(mod, T_lo, T_hi, throw):
    dt = T_lo.dtype
    zero = jnp.zeros((), dt)
    T_hi = _checks.require(
        T_hi,
        _net(mod, T_lo, zero, throw) * _net(mod, T_hi, zero, throw) < 0,
        "the net moment must change sign between T_lo and T_hi",
    )
    sol = optx.root_find(
        _comp_residual,
        optx.Bisection(rtol=_tol(dt), atol=_tol(dt)),
        0.5 * (T_lo + T_hi),
        (mod, throw),
        options=dict(lower=T_lo, upper=T_hi),
        max_steps=200,
        throw=throw,
    )
    return jnp.where(sol.result == optx.RESULTS.successful, sol.value, jnp.nan)
