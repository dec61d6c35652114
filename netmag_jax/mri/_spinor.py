r"""The Cayley-Klein (spinor) kernel: the rotation of a pulse as two complex numbers per spin.

During a pulse of a few milliseconds T1 and T2 relaxation (hundreds of milliseconds in
tissue) changes the magnetization by ~T/T2 < 1 %, so a pulse is well described by a pure
rotation; instead of M the kernel tracks the Cayley-Klein parameters (alpha, beta) of the
rotation (Pauly et al., IEEE TMI 10, 53 (1991)). It serves both the public
``mri.cayley_klein`` and pulse design (``mri.design``); the relaxing engine is
``mri.simulate``, and the tests compare the two.

Convention (the Bloch engine's, ``_bloch``): dM/dt = gamma M x B_eff with gamma > 0, a
left-handed precession (an RF pulse along +x tips +z towards +y). Step k of length dt_k
rotates spin j by the rotation vector ``w = -gamma B_eff dt_k`` with
``B_eff = (b1_j Re B1_k, b1_j Im B1_k, G_k . r_j + 2 pi df_j / gamma)``; with theta = |w|
and n = w / theta its spinor is

.. math:: a = \cos\tfrac\theta2 - i\,n_z\sin\tfrac\theta2,\qquad
          b = -i\,(n_x + i n_y)\sin\tfrac\theta2,

and steps compose as ``(alpha, beta) <- (a alpha - conj(b) beta, b alpha + conj(a) beta)``.
From equilibrium ``M_xy = 2 conj(alpha) beta M0`` and ``M_z = (|alpha|^2 - |beta|^2) M0``; a
refocusing pulse between crushers maps ``M_xy+ = -beta^2 conj(M_xy-)``. sigpy's ``abrm``
uses the right-handed rotation ``+gamma B dt``: it equals this kernel with rf and gradient
negated.

Two step rules:

* ``"exact"``: the simultaneous RF + gradient rotation of each step (exact for piecewise-
  constant waveforms);
* ``"hard"``: the hard-pulse approximation: half a free precession, an RF nutation that
  depends on the B1 scale only (not on position or off-resonance), half a free precession.
  Error O(dt^2) per step; with a constant gradient and dt the free-precession phasor is the
  same for every step, so no trigonometry per spin and step remains: the fast rule of design.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .._checks import check_nonempty, check_option, check_real, finite, finite_result, positive
from .._dtypes import as_floating
from .._numerics import cis, rotation_coefficients
from ..constants import GAMMA_1H
from ._bloch import check_waveforms


def magnetization(alpha, beta):
    """Magnetization (M_xy complex, M_z) after the rotation, from equilibrium M = (0, 0, 1).

    M_xy = 2 conj(alpha) beta, M_z = |alpha|^2 - |beta|^2 (in units of M0).
    """
    mxy = 2.0 * jnp.conj(alpha) * beta
    mz = jnp.real(alpha * jnp.conj(alpha)) - jnp.real(beta * jnp.conj(beta))
    return mxy, mz


def precess(alpha, beta, angle):
    """Free precession by ``angle`` [rad] (clockwise about +z, ``M_xy -> M_xy e^{-i angle}``)
    applied after (alpha, beta): ``alpha e^{i angle/2}``, ``beta e^{-i angle/2}``."""
    ph = cis(0.5 * angle)
    return alpha * ph, beta * jnp.conj(ph)


def _su2(w_xy, w_z):
    """Spinor (a, b) of the rotation vector (Re w_xy, Im w_xy, w_z), safe at zero angle."""
    A, _, C = rotation_coefficients(0.25 * (jnp.real(w_xy) ** 2 + jnp.imag(w_xy) ** 2 + w_z**2))
    sh = 0.5 * A  # sin(theta/2)/theta
    a = jax.lax.complex(C, -sh * w_z)
    b = jax.lax.complex(sh * jnp.imag(w_xy), -sh * jnp.real(w_xy))
    return a, b


def _compose(a, b, alpha, beta):
    """The step (a, b) applied after (alpha, beta)."""
    return a * alpha - jnp.conj(b) * beta, b * alpha + jnp.conj(a) * beta


def _full_rank(x, ndim):
    """Prepend unit axes to reach ``ndim`` (explicit broadcasting, no rank promotion)."""
    return x.reshape((1,) * (ndim - x.ndim) + x.shape)


def cayley_klein(
    rf,
    gradient,
    dt,
    positions,
    off_resonance=None,
    b1=None,
    *,
    rule="exact",
    constant_gradient=False,
    unroll=1,
):
    r"""Cayley-Klein parameters (alpha, beta) of the total rotation of a pulse, no relaxation.

    Per step the spinor of ``w = -gamma B_eff dt`` (module docstring), composed over the
    pulse from alpha = 1, beta = 0. From equilibrium ``Mxy = 2 conj(alpha) beta M0`` and
    ``Mz = (|alpha|^2 - |beta|^2) M0`` (SLR parameterisation, Pauly et al. 1991); sigpy's
    ``abrm`` equals this with rf and gradient negated.

    The spins may have any batch shape: ``positions`` [..., 3], and ``off_resonance`` and
    ``b1`` broadcast against ``positions[..., 0]`` (a grid of positions x off-resonances x
    B1 scales is three spin axes of sizes P, F, S, each array carrying its own).

    Args:
        rf: [n] complex B1 [T] (a real array is taken as B1x).
        gradient: [n, 3] T/m.
        dt: [n] or scalar step length [s].
        positions: [..., 3] m (e.g. [N, 3]); its float dtype sets the precision.
        off_resonance: [Hz], broadcastable to the spins' shape, or None (0).
        b1: relative transmit scale, broadcastable to the spins' shape, or None (1).
        rule: "exact" (simultaneous rotation per step) or "hard" (hard-pulse approximation).
        constant_gradient: static promise that ``gradient[k]`` and ``dt[k]`` are the same for
            all k (the hard rule then precomputes its precession phasor).
        unroll: ``lax.scan`` unroll factor.
    Returns:
        (alpha, beta), complex, each of the spins' shape (e.g. [N]).

    Checked: shapes and ``rule`` (ValueError before tracing); complex gradient, dt,
    off_resonance or b1 (TypeError); rf, gradient, positions, off_resonance, b1 finite and
    dt > 0 (``eqx.error_if``, also under jit/vmap).
    """
    return spinor_rotation(
        rf, gradient, dt, positions, off_resonance, b1,
        rule=rule, constant_gradient=constant_gradient, unroll=unroll, check=True,
    )  # fmt: skip


def spinor_rotation(
    rf, gradient, dt, positions, off_resonance=None, b1=None, *,
    rule="exact", constant_gradient=False, unroll=1, check=True,
):  # fmt: skip
    """The work of :func:`cayley_klein`. ``check=False`` skips the value checks (shape and
    type checks stay): the inner kernel of pulse design, NaN-in/NaN-out so that an optimiser
    sees a non-finite loss instead of a run-time error."""
    check_option("rule", rule, ("exact", "hard"))
    positions = as_floating(positions)
    dtype = positions.dtype
    if positions.ndim < 2 or positions.shape[-1] != 3:
        raise ValueError(f"positions must have shape (..., 3), got {positions.shape}")
    check_nonempty("rf", rf)
    for name, v in (
        ("positions", positions), ("gradient", gradient), ("dt", dt),
        ("off_resonance", off_resonance),
    ):  # fmt: skip
        check_real(name, v)
    check_real("b1", b1)
    rf, gradient, dt = check_waveforms(rf, gradient, dt, dtype)
    off = jnp.zeros((), dtype) if off_resonance is None else off_resonance
    b1 = jnp.ones((), dtype) if b1 is None else b1
    if check:
        rf = finite(rf, "rf", complex_ok=True)
        gradient, dt = finite(gradient, "gradient"), positive(dt, "dt")
        positions = finite(positions, "positions")
        off, b1 = finite(off, "off_resonance"), finite(b1, "b1")
    off, b1 = jnp.asarray(off).astype(dtype), jnp.asarray(b1).astype(dtype)
    shape = jnp.broadcast_shapes(positions.shape[:-1], off.shape, b1.shape)
    off, b1 = _full_rank(off, len(shape)), _full_rank(b1, len(shape))
    positions = _full_rank(positions, len(shape) + 1)
    alpha, beta = _rotation(
        rf, gradient, dt, positions, off, b1, shape, rule, constant_gradient, unroll
    )
    return _checked(alpha, beta) if check else (alpha, beta)


@functools.partial(jax.jit, static_argnames=("shape", "rule", "constant_gradient", "unroll"))
def _rotation(rf, gradient, dt, positions, off, b1, shape, rule, constant_gradient, unroll):
    """The composed spinor (alpha, beta) of checked, shaped inputs (one compiled function per
    shape and rule, also for eager calls)."""
    w_rf = (-GAMMA_1H * dt).astype(rf.dtype) * rf  # [n] complex, the nutation per unit b1

    def w_z(g, h):  # precession angle of every spin in one step, shape broadcastable to spins
        return -h * (GAMMA_1H * (positions @ g) + 2 * jnp.pi * off)

    one = jnp.ones(shape, rf.dtype)
    start = (one, jnp.zeros_like(one))
    b1c = b1.astype(rf.dtype)
    if rule == "exact":

        def exact(ab, inp):
            w, g, h = inp
            return _compose(*_su2(b1c * w, w_z(g, h)), *ab), None

        (alpha, beta), _ = jax.lax.scan(exact, start, (w_rf, gradient, dt), unroll=unroll)
        return alpha, beta
    if constant_gradient:
        ph = cis(-0.25 * w_z(gradient[0], dt[0]))  # the same half precession for every step
        return _hard_constant(start, b1c, w_rf, ph, unroll)

    def hard(ab, inp):
        w, g, h = inp
        ph = cis(-0.25 * w_z(g, h))  # half a free precession
        alpha, beta = _compose(*_su2(b1c * w, 0.0), ab[0] * ph, ab[1] * jnp.conj(ph))
        return (alpha * ph, beta * jnp.conj(ph)), None

    (alpha, beta), _ = jax.lax.scan(hard, start, (w_rf, gradient, dt), unroll=unroll)
    return alpha, beta


def _checked(alpha, beta):
    """(alpha, beta) after checking they are finite (rotation angles of 1e300 rad overflow)."""
    names = ("rf", "gradient", "dt", "positions", "off_resonance", "b1")
    return finite_result(alpha, "cayley_klein", names), finite_result(beta, "cayley_klein", names)


def _hard_constant(start, b1, w_rf, ph, unroll):
    """Hard rule with one half-precession phasor ``ph`` (Z) for all steps:
    Z R_n Z ... Z R_1 Z = Z^-1 (Z^2 R_n) ... (Z^2 R_1) Z, so the loop holds no trigonometry
    per spin (the nutation R_k depends on the B1 scale ``b1`` only)."""
    ph2 = ph * ph

    def step(ab, w):
        alpha, beta = _compose(*_su2(b1 * w, 0.0), *ab)
        return (alpha * ph2, beta * jnp.conj(ph2)), None

    (alpha, beta), _ = jax.lax.scan(step, (start[0] * ph, start[1]), w_rf, unroll=unroll)
    return alpha * jnp.conj(ph), beta * ph
