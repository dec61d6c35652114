r"""Quasi-static hysteresis loops: relax at each field of a sweep, carrying m along.

The applied field H(s) = H_s * d (d a unit vector) runs 0 -> +H_max (virgin curve, from the
given, e.g. demagnetized, state), +H_max -> -H_max (descending branch) and -H_max -> +H_max
(ascending branch); at each field the energy is minimized (``relax``) starting from the
previous state, and M(H) = <m> . d is recorded. Remanence = M at H = 0 on the descending branch;
coercivity = field where the descending branch crosses M = 0 (linear interpolation).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .._checks import check_count, positive
from ._micromagnet import Micromagnet, relax, unit_vector


class HysteresisResult(NamedTuple):
    """Result of ``hysteresis``.

    Attributes:
        H: field along the sweep direction [A/m], shape (n_virgin + 2 (2 n + 1),).
        M: <m> . direction at each field (dimensionless, M/Ms), same shape.
        branch: 0 virgin, 1 descending, 2 ascending, same shape.
        m_final: magnetization at the end of the sweep (nx, ny, nz, 3).
        remanence: M at H = 0 on the descending branch (M_r / Ms).
        coercivity: |H| where the descending branch crosses M = 0 [A/m].
        converged: True if every relaxation converged.
    """

    H: jax.Array
    M: jax.Array
    branch: jax.Array
    m_final: jax.Array
    remanence: jax.Array
    coercivity: jax.Array
    converged: jax.Array


def _crossing(H, M):
    """Field of the first sign change + -> - of M along H (linear interpolation)."""
    i = jnp.argmax((M[:-1] > 0) & (M[1:] <= 0))
    f = M[i] / jnp.where(M[i] != M[i + 1], M[i] - M[i + 1], 1.0)
    return H[i] + f * (H[i + 1] - H[i])


@eqx.filter_jit
def hysteresis(
    model: Micromagnet,
    m0,
    H_max,
    direction=(1.0, 0.0, 0.0),
    n: int = 40,
    n_virgin: int = 10,
    tol: float = 1e-4,
    max_steps: int = 5000,
) -> HysteresisResult:
    r"""Quasi-static hysteresis loop M(H) of a Micromagnet (see module docstring).

    The model's own ``H_ext`` is replaced by H d at each point of the sweep.

    Args:
        model: the Micromagnet.
        m0: starting (e.g. demagnetized) unit magnetization (nx, ny, nz, 3).
        H_max: sweep amplitude [A/m] (> 0).
        direction: field direction, unit vector (3,).
        n: points per half of each branch (static); each branch has 2 n + 1 points
            (H = 0 is one of them).
        n_virgin: points on the virgin curve 0 -> H_max (static).
        tol, max_steps: passed to ``relax`` at each field.
    Returns:
        HysteresisResult.
    """
    n, n_virgin = check_count("n", n), check_count("n_virgin", n_virgin)
    d = unit_vector("direction", direction).astype(model.H_ext.dtype)
    H_max = positive(jnp.asarray(H_max, dtype=model.H_ext.dtype), "H_max")
    virgin = jnp.linspace(0.0, 1.0, n_virgin) * H_max
    down = jnp.linspace(1.0, -1.0, 2 * n + 1) * H_max
    up = -down
    Hs = jnp.concatenate([virgin, down, up])
    branch = jnp.concatenate(
        [jnp.zeros(n_virgin, int), jnp.ones(2 * n + 1, int), jnp.full(2 * n + 1, 2)]
    )

    def step(m, H):
        mod = model.with_field(H * d)
        r = relax(mod, m, tol=tol, max_steps=max_steps, throw=False)
        return r.m, (jnp.dot(mod.average(r.m), d.astype(r.m.dtype)), r.converged)

    m_final, (M, conv) = jax.lax.scan(step, jnp.asarray(m0), Hs)
    Hd, Md = down, M[n_virgin : n_virgin + 2 * n + 1]
    rem = jnp.interp(0.0, Hd[::-1], Md[::-1])
    hc = -_crossing(Hd, Md)
    ok = jnp.all(conv)
    return HysteresisResult(
        H=Hs, M=M, branch=branch, m_final=m_final, remanence=rem, coercivity=hc, converged=ok
    )
