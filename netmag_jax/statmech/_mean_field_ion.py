r"""A crystal-field ion in the molecular field of its neighbours (self-consistent mean field).

.. math::
    \mathbf M = \mathbf m_{\rm ion}(\mathbf B + \Lambda\mathbf M,\; T),

with :math:`\mathbf m_{\rm ion}(\mathbf B, T)` the thermal moment [mu_B] of one ion in the
field B (``SingleIon.moment``: Zeeman + Stevens crystal field, all levels), and
:math:`\Lambda = \mathrm{diag}(\lambda_x, \lambda_y, \lambda_z)` the molecular-field constants
[T per mu_B]: :math:`\lambda > 0` ferromagnetic, :math:`\lambda < 0` antiferromagnetic
(the uniform response of an antiferromagnet above its ordering temperature).

Relation to exchange: for :math:`H = -\sum_{\langle ij\rangle} \mathcal J\,\mathbf S_i\cdot
\mathbf S_j` (each bond once, z neighbours) projected on the J multiplet
(:math:`\mathbf S = (g-1)\mathbf J`, :math:`\boldsymbol\mu = -g\mu_B\mathbf J`),
:math:`\lambda = z\mathcal J (g-1)^2 / (g^2\mu_B)`; and for a free ion at high temperature
the Weiss temperature is :math:`\theta = \lambda\, g^2 J(J+1)\mu_B / (3k_B)`
(``lambda_from_theta``).

The self-consistency is solved by Newton root finding (a forward-difference Jacobian: three
extra moment evaluations per step, about 5x cheaper than the exact Jacobian of the
crystal-field moment) and differentiated implicitly (``jax.lax.custom_root``): gradients
with respect to B, T, lambda and the crystal field never backpropagate through the
iterations. Newton starts from the single-ion moment, or for lambda > 0 from the saturated
moment g J along B: below the ordering temperature of a ferromagnetic lambda several roots
exist, and the one reached (the ordered branch along B != 0) is returned.
"""

from __future__ import annotations

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp

from .._checks import finite
from ..constants import K_B, MU_B
from ._common import broadcast_apply, float_array
from ._single_ion import SingleIon


_NO_CONVERGENCE = "MeanFieldIon: the self-consistency M = m(B + lam M) did not converge"


def _tol(dtype) -> float:
    return 1e-11 if jnp.finfo(dtype).bits == 64 else 1e-5


def _newton(residual, y0, *, tol, max_steps):
    r"""Root of ``residual`` (R^3 -> R^3) by Newton steps with a forward-difference Jacobian:
    each step evaluates the residual at m and at m + h e_k (k = x, y, z) in one vmapped call
    (no derivative of the crystal-field moment: far cheaper than its exact Jacobian, and the
    root is the same). Converged when :math:`\max|f| \le tol\,(1 + \max|m|)`; NaN where
    ``max_steps`` are used up. Not differentiated: ``jax.lax.custom_root`` gives the implicit
    derivative.
    """
    shifts = jnp.concatenate([jnp.zeros((1, 3), y0.dtype), jnp.eye(3, dtype=y0.dtype)])
    eval4 = jax.vmap(residual)

    def step(carry):
        m, k, _ = carry
        h = jnp.sqrt(jnp.finfo(m.dtype).eps) * (1.0 + jnp.max(jnp.abs(m)))
        r = eval4(m[None, :] + h * shifts)
        f, jac = r[0], (r[1:] - r[:1]).T / h
        done = jnp.max(jnp.abs(f)) <= tol * (1.0 + jnp.max(jnp.abs(m)))
        m_new = jnp.where(done, m, m - jnp.linalg.solve(jac, f))
        return m_new, k + 1, done

    def more(carry):
        _, k, done = carry
        return ~done & (k < max_steps)

    m, _, done = jax.lax.while_loop(more, step, (y0, 0, jnp.array(False)))
    return jnp.where(done, m, jnp.nan)


def _tangent_solve(linear, rhs):
    """Solve ``linear(x) = rhs`` for the 3 x 3 linearised residual (implicit derivative)."""
    return jnp.linalg.solve(jax.jacfwd(linear)(rhs), rhs)


def lambda_from_theta(theta, J, g):
    r"""Molecular-field constant [T per mu_B] of a free ion with Weiss temperature theta [K]:
    :math:`\lambda = 3 k_B\theta / (g^2 J(J+1)\mu_B)`."""
    return 3.0 * K_B * theta / (g * g * J * (J + 1.0) * MU_B)


def exchange_from_lambda(lam, g):
    r"""z times the exchange constant [J] of :math:`H = -\sum_{\langle ij\rangle}\mathcal J
    \mathbf S_i\cdot\mathbf S_j` from lambda [T per mu_B]:
    :math:`z\mathcal J = \lambda g^2\mu_B/(g-1)^2` (g != 1)."""
    return lam * g * g * MU_B / ((g - 1.0) ** 2)


class MeanFieldIon(eqx.Module):
    r"""Single ion plus a molecular field proportional to its own thermal moment.

    Args:
        ion: a ``SingleIon`` (J, g, Stevens parameters; its leaves stay differentiable).
        lam: molecular-field constant(s) [T per mu_B]: a scalar (isotropic) or (3,) for
            diag(lambda_x, lambda_y, lambda_z) in the ion's axes.
        max_steps: Newton iterations allowed (static); a solve that does not converge raises
            (``throw=True``) or gives NaN.
    """

    ion: SingleIon
    lam: jax.Array
    max_steps: int = eqx.field(static=True, default=64)

    def __init__(self, ion: SingleIon, lam, max_steps: int = 64):
        if not isinstance(ion, SingleIon):
            raise TypeError(f"ion must be a statmech.SingleIon, got {type(ion).__name__}")
        lam = float_array(lam)
        if lam.shape not in ((), (3,)):
            raise ValueError(f"lam must be a scalar or have shape (3,), got {lam.shape}")
        if int(max_steps) < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.ion = ion
        self.lam = jnp.broadcast_to(lam, (3,))
        self.max_steps = int(max_steps)

    def _moment(self, B, T, throw: bool):
        lam = finite(self.lam.astype(B.dtype), "lam (molecular-field constant)")
        ion, tol = self.ion, _tol(B.dtype)

        def residual(m):
            return m - ion._moment(B + lam * m, T)

        # start: the single-ion moment; with a ferromagnetic lambda the saturated moment
        # g J along the field, so that below the ordering temperature Newton reaches the
        # ordered root along B rather than the unstable paramagnetic one
        nb = jnp.sqrt(jnp.sum(B * B))
        along = B / jnp.where(nb > 0, nb, 1.0)
        sat = (ion.g * ion.J).astype(B.dtype) * along
        y0 = jnp.where(jnp.any(lam > 0) & (nb > 0), sat, ion._moment(B, T))
        solve = partial(_newton, tol=tol, max_steps=self.max_steps)
        m = jax.lax.custom_root(residual, jax.lax.stop_gradient(y0), solve, _tangent_solve)
        if throw:
            m = eqx.error_if(m, jnp.any(jnp.isnan(m)), _NO_CONVERGENCE)
        return m

    def _moment_or_raise(self, B, T):
        return self._moment(B, T, True)

    def _moment_or_nan(self, B, T):
        return self._moment(B, T, False)

    def moment(self, B, T, throw: bool = True):
        r"""Self-consistent thermal moment :math:`\mathbf M` [mu_B per ion], shape (..., 3).

        Args:
            B: applied field vector [T], shape (..., 3). T: temperature [K] > 0, broadcasting.
            throw: raise if Newton does not converge (else NaN for that point).
        """
        fn = self._moment_or_raise if throw else self._moment_or_nan
        return broadcast_apply(fn, self.ion._field(B), T, signature="(3),()->(3)")

    def effective_field(self, B, T, throw: bool = True):
        r""":math:`\mathbf B + \Lambda\mathbf M` [T], shape (..., 3): the field the ion feels."""
        B = self.ion._field(B)
        return B + self.lam.astype(B.dtype) * self.moment(B, T, throw)
