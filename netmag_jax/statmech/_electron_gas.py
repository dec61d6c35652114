r"""Free electron gas in a field: Pauli paramagnetism, Landau diamagnetism, Stoner enhancement.

Parabolic band of effective mass :math:`m^* = m_{\rm eff} m_e`, two spin subbands shifted by
the Zeeman energy (moment :math:`\pm\tfrac g2\mu_B` along B, energy :math:`\mp\tfrac g2\mu_B B`):

.. math::
    n_\pm = N_c(T)\,\mathcal F_{1/2}\!\Big(\frac{\mu \pm \tfrac g2\mu_B B}{k_BT}\Big),\qquad
    N_c = \Big(\frac{m^* k_B T}{2\pi\hbar^2}\Big)^{3/2},\qquad
    M = \tfrac g2\mu_B\,(n_+ - n_-),

with the chemical potential :math:`\mu(T, B)` fixed by :math:`n_+ + n_- = n` (root finding,
optimistix Newton, implicit differentiation). Orbital (Landau) effects enter only through
``landau_susceptibility`` (weak-field, no de Haas-van Alphen oscillations).
Internally energies are in kelvin, so float32 never meets 1e-47-sized numbers.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from .._checks import finite, positive, require
from .._numerics import fermi_dirac
from ..constants import HBAR, K_B, M_E, MU_0, MU_B
from ._common import MUB_OVER_KB, broadcast_apply, scalar_leaf

#: hbar^2 (3 pi^2)^(2/3) / (2 m_e k_B) [K m^2]: T_F = C * n^(2/3) / m_eff
_TF_CONST = HBAR**2 * (3.0 * math.pi**2) ** (2.0 / 3.0) / (2.0 * M_E * K_B)
#: (m_e k_B / (2 pi hbar^2))^(3/2) [m^-3 K^-3/2]: N_c = C (m_eff T)^(3/2)
_NC_CONST = (M_E * K_B / (2.0 * math.pi * HBAR**2)) ** 1.5


class ElectronGas(eqx.Module):
    r"""Ideal (free) electron gas of density n, effective mass m_eff m_e and g-factor g.

    .. math::
        \chi_P(T\to0) = \mu_0\Big(\frac g2\Big)^2\mu_B^2\,g(E_F) = \mu_0\Big(\frac g2\Big)^2
        \mu_B^2\frac{3n}{2E_F},\qquad E_F = \frac{\hbar^2(3\pi^2 n)^{2/3}}{2m^*}.

    Args:
        n: electron density [m^-3], > 0 (array leaf). Sodium: 2.65e28 (Ashcroft & Mermin
            Table 2.1).
        m_eff: effective mass in units of the electron mass, > 0 (array leaf). Default 1.
        g: spin g-factor, > 0 (array leaf). Default 2.
        throw: raise if the chemical-potential root finder fails (else return NaN-free last
            iterate with the failure only visible through ``chemical_potential_solution``).
    """

    n: jax.Array
    m_eff: jax.Array
    g: jax.Array
    throw: bool = eqx.field(static=True)

    def __init__(self, n, m_eff=1.0, g=2.0, throw=True):
        self.n = scalar_leaf("n (density)", n)
        self.m_eff = scalar_leaf("m_eff", m_eff)
        self.g = scalar_leaf("g", g)
        self.throw = bool(throw)

    # --- T = 0 quantities -----------------------------------------------------------------
    def fermi_temperature(self):
        r"""Fermi temperature :math:`T_F = E_F/k_B` [K]."""
        n = positive(self.n, "n (density)")
        m = positive(self.m_eff, "m_eff")
        return _TF_CONST * n ** (2.0 / 3.0) / m

    def fermi_energy(self):
        r"""Fermi energy :math:`E_F = \hbar^2 (3\pi^2 n)^{2/3} / 2m^*` [J]."""
        return K_B * self.fermi_temperature()

    def density_of_states(self):
        r"""Density of states at :math:`E_F`, both spins, per volume,
        :math:`g(E_F) = 3n/(2E_F)` [J^-1 m^-3] (float64 only: ~1e47)."""
        return 1.5 * self.n / self.fermi_energy()

    # --- single-sample core, kelvin units ---------------------------------------------------
    def _delta(self, B, T):
        g = positive(self.g, "g").astype(T.dtype)
        return 0.5 * g * MUB_OVER_KB * B / T

    def _nc(self, T):
        return _NC_CONST * (positive(self.m_eff, "m_eff").astype(T.dtype) * T) ** 1.5

    def _log_nc(self, T):
        """ln N_c = ln C + 1.5 ln(m_eff T), never forming N_c ~ 1e24-1e28: in float32 the
        reverse-mode cotangent k_B / N_c of ``ln(N_c)`` would underflow to 0 and drop the
        implicit term of d mu / dT (wrong sign, 1e4-1e9 x magnitude)."""
        m = positive(self.m_eff, "m_eff").astype(T.dtype)
        return math.log(_NC_CONST) + 1.5 * (jnp.log(m) + jnp.log(T))

    def _solve(self, T, B):
        T = positive(T, "T (temperature)")
        B = finite(B, "B (field)")
        n = positive(self.n, "n (density)").astype(T.dtype)
        delta = self._delta(B, T)
        log_y = jnp.log(n) - self._log_nc(T)  # log(n / N_c)

        def residual(eta, args):
            d, ly = args
            total = fermi_dirac(0.5, eta + d) + fermi_dirac(0.5, eta - d)
            return jnp.log(total) - ly

        # start: the smaller of two estimates of the root, each from a one-band inversion
        # (Boltzmann log y for y < 1, degenerate ((3 sqrt(pi)/4) y)^(2/3) above): equal split
        # (B = 0) and full polarisation (all electrons in the majority band)
        def invert(y):
            deg = (0.75 * math.sqrt(math.pi) * jnp.maximum(y, 1.0)) ** (2.0 / 3.0)
            return jnp.where(y < 1.0, jnp.log(y), deg)

        y = jnp.exp(log_y)
        eta0 = jnp.minimum(invert(0.5 * y), invert(y) - jnp.abs(delta))
        eta0 = jax.lax.stop_gradient(eta0)
        tol = 1e-12 if T.dtype == jnp.float64 else 1e-5
        sol = optx.root_find(
            residual,
            optx.Newton(rtol=tol, atol=tol),
            eta0,
            args=(delta, log_y),
            throw=self.throw,
            max_steps=100,
        )
        return sol.value, delta

    def _eta(self, T, B):
        return self._solve(T, B)[0]

    def _mu_K(self, T, B):
        return T * self._eta(T, B)

    def _magnetization(self, B, T):
        eta, d = self._solve(T, B)
        nc = self._nc(T)
        g = self.g.astype(T.dtype)
        return (0.5 * g * MU_B) * nc * (fermi_dirac(0.5, eta + d) - fermi_dirac(0.5, eta - d))

    def _chi_pauli(self, T):
        return MU_0 * jax.grad(self._magnetization, argnums=0)(jnp.zeros_like(T), T)

    def _dn_dmu_per_n_K(self, T):
        """(dn/dmu) / n at B = 0 [1/K]: 2 N_c F_{-1/2}(eta) / (n T)."""
        eta = self._eta(T, jnp.zeros_like(T))
        n = self.n.astype(T.dtype)
        return 2.0 * self._nc(T) * fermi_dirac(-0.5, eta) / (n * T)

    # --- public -------------------------------------------------------------------------------
    def chemical_potential(self, T, B=0.0):
        r"""Chemical potential :math:`\mu(T, B)` at fixed density [J] (measured from the band
        bottom). Sommerfeld: :math:`\mu = E_F[1 - \tfrac{\pi^2}{12}(T/T_F)^2]`; Boltzmann:
        :math:`\mu = k_BT\ln(n/2N_c)`.

        Args:
            T: temperature [K] > 0, any shape. B: field [T], broadcasting. Default 0.
        """
        return K_B * broadcast_apply(self._mu_K, T, B)

    def magnetization(self, B, T):
        r"""Spin magnetization :math:`M = \tfrac g2\mu_B (n_+ - n_-)` at fixed n [A/m].

        Args:
            B: field [T], any shape. T: temperature [K] > 0, broadcasting.
        """
        return broadcast_apply(self._magnetization, B, T)

    def pauli_susceptibility(self, T):
        r"""Pauli spin susceptibility :math:`\chi_P = \mu_0\,\partial M/\partial B|_{B=0}` (SI),
        by autodiff through the implicit chemical potential. Equals
        :math:`\mu_0 (g/2)^2\mu_B^2\,\partial n/\partial\mu`; T -> 0:
        :math:`\mu_0 (g/2)^2\mu_B^2\,3n/2E_F` with the Sommerfeld factor
        :math:`1 - \tfrac{\pi^2}{12}(T/T_F)^2`; :math:`T \gg T_F`: Curie
        :math:`\mu_0 n (g/2)^2 \mu_B^2/k_BT`.

        Args:
            T: temperature [K] > 0, any shape.
        """
        return broadcast_apply(self._chi_pauli, T)

    def landau_susceptibility(self, T):
        r"""Landau (orbital) diamagnetic susceptibility (SI), weak-field limit:
        :math:`\chi_L = -\tfrac13 (m_e/m^*)^2\,\mu_0\mu_B^2\,\partial n/\partial\mu`, i.e.
        :math:`-\tfrac13 (m_e/m^*)^2\chi_P` for g = 2 at every T.

        Args:
            T: temperature [K] > 0, any shape.
        """
        ratio = (2.0 / self.g) ** 2 / (3.0 * self.m_eff**2)
        return -ratio * self.pauli_susceptibility(T)

    def susceptibility(self, T):
        r"""Total :math:`\chi_P + \chi_L` (SI) of the free electron gas."""
        return self.pauli_susceptibility(T) + self.landau_susceptibility(T)

    def stoner_product(self, I, T, n_atoms=None):
        r"""Stoner number :math:`I\,N(E_F)` (dimensionless): I [J] is the Stoner exchange
        parameter per atom, :math:`N = \tfrac12 (\partial n/\partial\mu)/n_{atoms}` the density of
        states per spin per atom (thermally smeared at T). The paramagnet is unstable
        (Stoner ferromagnet) when it reaches 1.

        Args:
            I: Stoner parameter [J] > 0. T: temperature [K] > 0, any shape.
            n_atoms: atom density [m^-3]; default ``n`` (one conduction electron per atom).
        """
        n_at = self.n if n_atoms is None else scalar_leaf("n_atoms", n_atoms)
        ratio = self.n / n_at
        I_K = positive(jnp.asarray(I), "I (Stoner parameter)") / K_B
        return 0.5 * I_K * ratio * broadcast_apply(self._dn_dmu_per_n_K, T)

    def stoner_susceptibility(self, T, I, n_atoms=None):
        r"""Stoner-enhanced Pauli susceptibility :math:`\chi = \chi_P / (1 - I N(E_F))` (SI).

        Raises (``eqx.error_if``) at or beyond the Stoner instability :math:`I N(E_F) \ge 1`.
        Arguments as in ``stoner_product``.
        """
        s = self.stoner_product(I, T, n_atoms)
        s = require(
            s,
            s < 1.0,
            "Stoner instability: I N(E_F) >= 1, the paramagnetic state is "
            "unstable (ferromagnet); chi is undefined",
        )
        return self.pauli_susceptibility(T) / (1.0 - s)
