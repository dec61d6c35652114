r"""The design loss: profile error plus RF-energy and gradient-slew terms (an options Module).

.. math::
    L = \frac{\sum_j w_j |f_j - f^*_j|^2}{\sum_j w_j}
        + \lambda_E \frac{\int |B_1|^2 dt}{B_{1,\max}^2 T}
        + 100 \max\!\Big(0, \frac{\int |B_1|^2 dt}{E_\max} - 1\Big)^2
        + \lambda_S\, \mathrm{mean}\Big(\max\!\Big(0, \frac{|dG/dt|}{S_\max} - 1\Big)^2\Big),

the first term from :func:`profile_loss` (f the target's quantity), the last only when the
gradient waveform is optimised.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ..._checks import check_option, check_static_positive
from ._profile import profile_loss


class DesignLoss(eqx.Module):
    """Terms and weights of the design loss (module docstring), and the kernel's step rule.

    Attributes:
        energy_weight: lambda_E >= 0, the RF-energy penalty relative to B1max^2 T.
        max_energy: RF energy limit E_max = int |B1|^2 dt [T^2 s] (SAR budget), enforced by
            the penalty 100 max(0, E / E_max - 1)^2; None for no limit.
        slew_max: slew-rate limit S_max [T/m/s] of the optimised gradient; None for none.
        slew_weight: lambda_S, the weight of the slew penalty.
        rule: step rule of the Cayley-Klein kernel during optimisation, "hard" (fast,
            O(dt^2) per step) or "exact".
    """

    energy_weight: float = 0.0
    max_energy: float | None = None
    slew_max: float | None = None
    slew_weight: float = 1.0
    rule: str = eqx.field(static=True, default="hard")

    def __check_init__(self):
        check_option("rule", self.rule, ("hard", "exact"))
        if self.energy_weight < 0:
            raise ValueError("energy_weight must be >= 0")
        if self.max_energy is not None:
            check_static_positive("max_energy", self.max_energy)
        if self.slew_max is not None:
            check_static_positive("slew_max", self.slew_max)

    def __call__(self, target, rf, g, dt, e_ref, *, constant=False, slew=False):
        """The loss L (dimensionless) of the pulse ``rf`` [T] (n,) with gradient ``g`` [T/m]
        (n,) and sample length ``dt`` [s] for ``target``; ``e_ref`` = B1max^2 T [T^2 s];
        ``constant``: g is constant (faster kernel); ``slew``: include the slew term."""
        loss = profile_loss(target, rf, g, dt, self.rule, constant)
        energy = jnp.sum(jnp.real(rf) ** 2 + jnp.imag(rf) ** 2) * dt
        loss = loss + self.energy_weight * energy / e_ref
        if self.max_energy is not None:
            loss = loss + 100.0 * jax.nn.relu(energy / self.max_energy - 1) ** 2
        if slew and self.slew_max is not None:
            over = jax.nn.relu(jnp.abs(jnp.diff(g)) / (dt * self.slew_max) - 1)
            loss = loss + self.slew_weight * jnp.mean(over**2)
        return loss
