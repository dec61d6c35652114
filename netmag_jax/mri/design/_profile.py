r"""A pulse on the design grid: its rotation, profile and weighted error against a target.

The grid (positions x [m] (P,) along the slice axis z, off-resonances df [Hz] (F,), B1
scales s (S,)) becomes three spin axes of the one Cayley-Klein kernel
(:func:`netmag_jax.mri.cayley_klein`, pure rotation, no relaxation); results have shape
(S, F, P). The profile error of a pulse for a :class:`Target` is

.. math:: E^2 = \sum_j w_j\,|f_j - f^*_j|^2 \Big/ \sum_j w_j,

with f the target's quantity (``Target.kind``).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..._checks import check_ndim, check_nonempty, check_real, finite, finite_result, positive
from ..._dtypes import complex_dtype
from ...constants import GAMMA_1H
from .._spinor import magnetization, precess, spinor_rotation


def _grid_rotation(rf, g, dt, x, df, s, rewind, rule, constant):
    """(alpha, beta) (S, F, P) after the pulse and a rewinder of ``rewind`` x its moment."""
    rdtype = jnp.real(rf).dtype
    x = x.astype(rdtype)
    pos = jnp.zeros((1, 1, x.shape[0], 3), rdtype).at[..., 2].set(x)
    grad = jnp.zeros((g.shape[0], 3), rdtype).at[:, 2].set(g.astype(rdtype))
    a, b = spinor_rotation(  # unchecked: NaN-in/NaN-out inside the design optimiser
        rf,
        grad,
        dt,
        pos,
        df.astype(rdtype)[None, :, None],
        s.astype(rdtype)[:, None, None],
        rule=rule,
        constant_gradient=constant,
        check=False,
    )
    if rewind == 0.0:
        return a, b
    moment = jnp.sum(g) * dt  # T s / m
    return precess(a, b, (-rewind * GAMMA_1H * moment) * x[None, None, :])


def _quantity(kind, a, b):
    """The target quantity ``kind`` from (alpha, beta) (see ``Target``)."""
    if kind in ("mz", "mxy", "mxy_abs"):
        mxy, mz = magnetization(a, b)
        if kind == "mz":
            return mz
        if kind == "mxy":
            return mxy
        m2 = jnp.real(mxy) ** 2 + jnp.imag(mxy) ** 2
        ok = m2 > 1e-24  # double-where: |M_xy| has a finite gradient at M_xy = 0
        return jnp.where(ok, jnp.sqrt(jnp.where(ok, m2, 1.0)), 0.0)
    return {"beta_sq": b * b, "alpha": a, "beta": b}[kind]


def is_constant(g) -> bool:
    """True when ``g`` is concrete and all its samples are equal (False for a tracer)."""
    try:
        g = np.asarray(g)
    except Exception:  # a tracer: be general
        return False
    return bool(np.all(g == g.ravel()[0]))


def simulate_pulse(
    rf,
    gradient,
    dt,
    positions,
    off_resonance=(0.0,),
    b1_scale=(1.0,),
    *,
    rewind=0.0,
    rule="exact",
):
    """Cayley-Klein parameters and magnetization after a pulse (no relaxation).

    Args:
        rf: complex B1 [T], shape (n,).
        gradient: slice gradient [T/m], scalar or shape (n,).
        dt: sample length [s].
        positions: [m], shape (P,); off_resonance: [Hz], shape (F,); b1_scale: shape (S,).
        rewind: fraction of the gradient moment undone after the pulse (0.5: refocused
            excitation).
        rule: "exact" (simultaneous rotation per step) or "hard" (hard-pulse approx.).

    Returns:
        dict with "alpha", "beta", "mxy" (complex) and "mz", each of shape (S, F, P).

    Checked: rf 1-D and non-empty (ValueError); complex gradient, dt, positions,
    off_resonance or b1_scale (TypeError); every value finite, dt > 0 (``eqx.error_if``).
    """
    rf = jnp.asarray(rf)
    if not jnp.iscomplexobj(rf):
        rf = rf.astype(complex_dtype(rf.dtype))
    check_ndim("rf", rf, 1)
    check_nonempty("rf", rf)
    rdtype = jnp.real(rf).dtype
    rf = finite(rf, "rf", complex_ok=True)
    for name, v in (("gradient", gradient), ("positions", positions)):
        check_real(name, v)
    g = jnp.broadcast_to(finite(gradient, "gradient").astype(rdtype), rf.shape)
    x, df, s = (
        jnp.atleast_1d(finite(v, name))
        for name, v in (
            ("positions", positions),
            ("off_resonance", off_resonance),
            ("b1_scale", b1_scale),
        )
    )
    a, b = _grid_rotation(
        rf,
        g,
        positive(dt, "dt").astype(rdtype),
        x,
        df,
        s,
        rewind,
        rule,
        is_constant(g),
    )
    names = ("rf", "gradient", "dt", "positions", "off_resonance", "b1_scale")
    a, b = (finite_result(v, "simulate_pulse", names) for v in (a, b))
    mxy, mz = magnetization(a, b)
    return {"alpha": a, "beta": b, "mxy": mxy, "mz": mz}


def max_flip_angle(b1_max, duration, b1_scale=1.0):
    """Largest flip angle [rad] reachable with |B1| <= b1_max [T] in ``duration`` [s].

    The polar angle of M changes at most at the rate gamma |B1_perp| (gradients and
    off-resonance only turn M about z), so theta_max = gamma s B1max T.
    """
    b1_max, duration = positive(b1_max, "b1_max"), positive(duration, "duration")
    theta = GAMMA_1H * positive(b1_scale, "b1_scale") * b1_max * duration
    return finite_result(theta, "max_flip_angle", ("b1_max", "duration", "b1_scale"))


def profile_loss(target, rf, g, dt, rule="hard", constant=False):
    """Weighted mean squared target error sum w |f - f*|^2 / sum w (dimensionless).

    Args:
        target: :class:`Target`; rf: complex B1 [T] (n,); g: gradient [T/m] (n,);
        dt: [s]; rule: "hard" or "exact"; constant: promise that g is constant (faster).
    """
    a, b = _grid_rotation(
        rf,
        g,
        dt,
        target.positions,
        target.off_resonance,
        target.b1_scale,
        target.rewind,
        rule,
        constant,
    )
    f = _quantity(target.kind, a, b)
    d = f - target.value.astype(f.dtype)
    r2 = jnp.real(d) ** 2 + jnp.imag(d) ** 2 if jnp.iscomplexobj(d) else d * d
    w = target.weight.astype(r2.dtype)
    return jnp.sum(w * r2) / jnp.sum(w)


_profile_loss_jit = eqx.filter_jit(profile_loss)


def target_error(target, rf, gradient, dt, rule="exact"):
    """Weighted RMS error sqrt(sum w |f - f*|^2 / sum w) of a pulse for ``target``.

    Args:
        target: :class:`Target`; rf: complex B1 [T] (n,); gradient: [T/m], scalar or (n,);
        dt: sample length [s]; rule: "exact" or "hard".
    Returns:
        the error as a Python float (dimensionless).
    """
    rf = jnp.asarray(rf)
    g = jnp.broadcast_to(jnp.asarray(gradient, jnp.real(rf).dtype), rf.shape)
    dt = jnp.asarray(dt, g.dtype)
    return float(jnp.sqrt(_profile_loss_jit(target, rf, g, dt, rule, is_constant(g))))
