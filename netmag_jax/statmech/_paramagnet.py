"""Independent moments of angular momentum J: the exact 2J+1-level paramagnet, Curie and
Curie-Weiss laws.

Hamiltonian of one ion in a field B along z (electron convention, moment
:math:`\\mu = -g\\mu_B \\mathbf{J}`):

.. math::
    H = g\\mu_B B J_z,\\qquad E_m = g\\mu_B B m,\\quad m = -J, \\dots, J.

Everything follows from one free energy :math:`F(B, T) = -k_B T \\ln Z` by automatic
differentiation: moment :math:`\\mu = -\\partial F/\\partial B` (positive along B),
susceptibility, entropy :math:`S = -\\partial F/\\partial T`, heat capacity
:math:`C = -T\\,\\partial^2 F/\\partial T^2`. Internally energies are carried in kelvin
(:math:`E/k_B`) so that float32 never meets 1e-46-sized intermediate numbers.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_real, finite, finite_result, positive, require
from .._numerics import brillouin
from ..constants import K_B, MU_0, MU_B, N_A
from ._common import MUB_OVER_KB, broadcast_apply, validate_J
from ._common import float_array as _float, scalar_leaf as _leaf


class Paramagnet(eqx.Module):
    r"""Ideal paramagnet of independent ions with angular momentum J and Landé factor g.

    Exact partition function over the 2J+1 Zeeman levels :math:`E_m = g\mu_B B m`:

    .. math::
        F(B,T) = -k_B T \ln \sum_{m=-J}^{J} e^{-g\mu_B B m / k_B T},\qquad
        \mu(B,T) = -\frac{\partial F}{\partial B}
                  = g\mu_B J\, B_J\!\Big(\frac{g\mu_B J B}{k_B T}\Big).

    The sum is a log-sum-exp, finite with finite derivatives of all orders at B = 0.

    Args:
        J: angular momentum quantum number, a positive multiple of 1/2 (static: it fixes the
            number of levels).
        g: Landé g-factor, > 0 (array leaf, differentiable). Default 2.
        n: number density of ions [m^-3], > 0, needed only by ``magnetization`` and
            ``susceptibility`` (array leaf). Default None.

    All methods take scalars or arrays that broadcast against each other; B in tesla
    (:math:`B = \mu_0 H` of the applied field), T in kelvin.
    """

    J: float = eqx.field(static=True)
    g: jax.Array
    n: jax.Array | None

    def __init__(self, J, g=2.0, n=None):
        self.J = validate_J(J)
        self.g = _leaf("g", g)
        self.n = None if n is None else _leaf("n", n)

    # --- single-sample core, in kelvin ------------------------------------------------------
    def _levels(self, dtype):
        m = np.arange(-self.J, self.J + 0.5, 1.0)
        return jnp.asarray(m, dtype=dtype)

    def _free_energy_K(self, B, T):
        """F / k_B [K] for scalar B [T], T [K]."""
        g = positive(self.g, "g")
        T = positive(T, "T (temperature)")
        B = finite(B, "B (field)")
        x = g * MUB_OVER_KB * B / T  # g mu_B B / k_B T
        m = self._levels(jnp.result_type(x))
        # ln sum_m exp(-x m) with the largest term J |x| taken out exactly: every exponent
        # -x (m + J s) <= 0 is one product (no max subtraction, which fused multiply-adds
        # turn into exp(+-1e14) for |x| ~ 1e30); s = sign(x) is a constant (any s is exact)
        s = jax.lax.stop_gradient(jnp.where(x >= 0, 1.0, -1.0)).astype(x.dtype)
        lse = self.J * s * x + jnp.log(jnp.sum(jnp.exp(-x * (m + self.J * s))))
        return -T * lse

    def _moment(self, B, T):
        """g J B_J(g mu_B J B / k_B T) [mu_B] (= -dF/dB; the closed form keeps full relative
        precision for x -> 0, where the derivative of ln Z loses it to round-off)."""
        g = positive(self.g, "g")
        T = positive(T, "T (temperature)")
        B = finite(B, "B (field)")
        x = g * MUB_OVER_KB * B / T
        return g * self.J * brillouin(self.J, self.J * x)

    def _dmoment_dB(self, B, T):
        return jax.grad(self._moment, argnums=0)(B, T)

    def _density(self):
        if self.n is None:
            raise ValueError(
                "this Paramagnet has no density: construct it with n=<ions per m^3> "
                "to get magnetization or volume susceptibility"
            )
        return positive(self.n, "n (density)")

    def _entropy_K(self, B, T):
        return -jax.grad(self._free_energy_K, argnums=1)(B, T)

    def _heat_capacity_K(self, B, T):
        return -T * jax.grad(jax.grad(self._free_energy_K, argnums=1), argnums=1)(B, T)

    # --- public -----------------------------------------------------------------------------
    def free_energy(self, B, T):
        r"""Free energy per ion :math:`F = -k_B T \ln Z` [J].

        Args:
            B: field [T], any shape. T: temperature [K], > 0, broadcasting against B.
        Returns:
            F [J per ion], broadcast shape.
        """
        return K_B * broadcast_apply(self._free_energy_K, B, T)

    def moment(self, B, T):
        r"""Thermal moment per ion along B, :math:`\mu = -\partial F/\partial B` [mu_B].

        Equals :math:`g J B_J(g\mu_B J B/k_B T)`; saturates at :math:`gJ` for
        :math:`B/T\to\infty`.

        Args:
            B: field [T], any shape. T: temperature [K], > 0, broadcasting against B.
        Returns:
            moment [mu_B per ion], broadcast shape.
        """
        return broadcast_apply(self._moment, B, T)

    def magnetization(self, B, T):
        r"""Magnetization :math:`M = n \mu_B \langle\mu\rangle` [A/m] (needs ``n``).

        Args:
            B: field [T], any shape. T: temperature [K], > 0.
        Returns:
            M [A/m], broadcast shape.
        """
        n = self._density()
        return (n * MU_B) * self.moment(B, T)

    def susceptibility(self, T, B=0.0):
        r"""Differential SI volume susceptibility :math:`\chi = \mu_0\,\partial M/\partial B`
        (dimensionless), by autodiff of the free energy (needs ``n``).

        At B = 0 and high T this is Curie's law :math:`\chi = C/T` with ``curie_constant``.

        Args:
            T: temperature [K], > 0, any shape. B: field [T], broadcasting; default 0.
        Returns:
            chi (SI, dimensionless), broadcast shape.
        """
        n = self._density()
        return (n * (MU_0 * MU_B)) * broadcast_apply(self._dmoment_dB, B, T)

    def entropy(self, B, T):
        r"""Entropy per ion :math:`S = -\partial F/\partial T` [J/K].

        Tends to :math:`k_B\ln(2J+1)` at high T and to 0 at low T in a field.
        """
        return K_B * broadcast_apply(self._entropy_K, B, T)

    def heat_capacity(self, B, T):
        r"""Heat capacity per ion :math:`C = -T\,\partial^2F/\partial T^2` [J/K]
        (Schottky anomaly; for J = 1/2, :math:`C = k_B x^2/\cosh^2 x`, :math:`x = g\mu_B B/2k_BT`).
        """
        return K_B * broadcast_apply(self._heat_capacity_K, B, T)


def _half_integer(J):
    """J as a float array, checked (``eqx.error_if``) to be > 0 and a multiple of 1/2."""
    check_real("J", J)
    J = _float(J)
    return require(
        J,
        (J > 0) & (jnp.abs(2 * J - jnp.round(2 * J)) < 1e-6),
        "J must be > 0 and a multiple of 1/2",
    )


def curie_constant(J, g, n):
    r"""Curie constant of the SI volume susceptibility [K].

    .. math:: C = \frac{\mu_0 n g^2 \mu_B^2 J(J+1)}{3 k_B},\qquad \chi = C/T.

    Args:
        J: angular momentum, positive multiple of 1/2 (checked at run time).
        g: Landé factor, > 0.
        n: number density of moments [m^-3], > 0.
    Returns:
        C [K], broadcast shape of the arguments.
    """
    J, g, n = _half_integer(J), positive(g, "g"), positive(n, "n (density)")
    C = (MU_0 * MU_B**2 / (3.0 * K_B)) * n * g**2 * J * (J + 1.0)
    return finite_result(C, "curie_constant", ("J", "g", "n"))


def curie_constant_molar(J, g):
    r"""Molar Curie constant [m^3 K / mol]: :math:`C_m = \mu_0 N_A g^2\mu_B^2 J(J+1)/(3k_B)`.

    Multiply by ``constants.chi_si_molar_to_cgs`` to get emu K/mol (= :math:`\mu_{eff}^2/8`).
    """
    J, g = _half_integer(J), positive(g, "g")
    C = (MU_0 * N_A * MU_B**2 / (3.0 * K_B)) * g**2 * J * (J + 1.0)
    return finite_result(C, "curie_constant_molar", ("J", "g"))


def effective_moment(J, g):
    r"""Effective paramagnetic moment :math:`\mu_{eff} = g\sqrt{J(J+1)}` [mu_B]."""
    J, g = _half_integer(J), positive(g, "g")
    return finite_result(g * jnp.sqrt(J * (J + 1.0)), "effective_moment", ("J", "g"))


def curie_weiss(T, C, theta):
    r"""Curie-Weiss susceptibility :math:`\chi = C/(T - \theta)` (SI, dimensionless if C in K).

    Valid in the paramagnetic phase only: T > theta is checked (``eqx.error_if``).

    Args:
        T: temperature [K], > 0, any shape. C: Curie constant [K], > 0.
        theta: Weiss temperature [K] (> 0 ferromagnetic, < 0 antiferromagnetic correlations).
    Returns:
        chi, broadcast shape.
    """
    T = positive(T, "T (temperature)")
    C = positive(C, "C (Curie constant)")
    theta = finite(theta, "theta")
    T = require(T, theta < T, "curie_weiss needs T > theta (paramagnetic phase)")
    return finite_result(C / (T - theta), "curie_weiss", ("T", "C", "theta"))
