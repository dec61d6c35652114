"""Cayley–Klein (spinor) simulation of one RF pulse, the fast kernel of pulse design.

During a pulse of a few milliseconds T1 and T2 relaxation (hundreds of milliseconds in
tissue) changes the magnetization by ~T/T2 < 1 %, far below the profile errors that design
trades off; the kernel therefore treats the pulse as a pure rotation and tracks the two
Cayley–Klein parameters (alpha, beta) of the rotation instead of the magnetization. The
relaxing, full Bloch engine is ``netmag_jax.mri.simulate``; the tests compare the two.

Sign convention (physical, gamma > 0 protons). In the frame rotating at the RF frequency the
magnetization obeys the Bloch equation dM/dt = gamma M x B_eff with
B_eff = (Re B1, Im B1, G(t) x + 2 pi df / gamma): a left-handed (clockwise) precession, so an
RF pulse along +x tips +z towards +y. One piecewise-constant step of length dt rotates by the
angle phi = gamma |B_eff| dt about n = B_eff / |B_eff|, whose spinor (SU(2)) matrix is

    U = exp(+i phi/2 n.sigma) = [[alpha, -conj(beta)], [beta, conj(alpha)]],
    alpha = cos(phi/2) + i n_z sin(phi/2),   beta = i (n_x + i n_y) sin(phi/2).

Steps compose by matrix products, U_total = U_n ... U_1. From equilibrium M = (0, 0, 1):

    M_xy = M_x + i M_y = 2 conj(alpha) beta,   M_z = |alpha|^2 - |beta|^2,

and for a refocusing pulse between crusher gradients M_xy+ = -beta^2 conj(M_xy-) (Pauly et
al., IEEE TMI 10, 53 (1991)). This is sigpy's ``abrm`` with rf -> -gamma B1 dt and the
precession angle -> -gamma B_z dt (sigpy uses the right-handed rotation).

Two step rules are offered:

* ``"exact"``: the simultaneous RF + gradient rotation of each step (exact for piecewise-
  constant waveforms);
* ``"hard"``: the hard-pulse approximation, half a free precession, an RF nutation that is
  the same for all spins (it depends on the B1 scale only), half a free precession. Error
  O(dt^2) per step; it needs no trigonometry per spin and step, which makes it the fast kernel
  for design.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..constants import GAMMA_1H

__all__ = ["cayley_klein", "magnetization", "precess"]

_TWO_PI = 2.0 * jnp.pi


def _cos_sinc_half(u):
    """Return (cos(sqrt(u)/2), sin(sqrt(u)/2)/sqrt(u)) for u = phi^2 >= 0, safe at u = 0.

    Double-where: below the threshold the Taylor series 1 - u/8 and 1/2 - u/48 are used, so
    the value and the gradient are finite at phi = 0 (no RF and no precession).
    """
    small = u < 1e-8
    su = jnp.where(small, jnp.ones_like(u), u)
    phi = jnp.sqrt(su)
    c = jnp.where(small, 1.0 - u / 8.0, jnp.cos(0.5 * phi))
    s = jnp.where(small, 0.5 - u / 48.0, jnp.sin(0.5 * phi) / phi)
    return c, s


def complex_dtype(real_dtype):
    """complex64 for float32 (and narrower), complex128 for float64."""
    return jnp.complex128 if jnp.dtype(real_dtype) == jnp.float64 else jnp.complex64


def precess(a, b, angle):
    """Free precession by ``angle`` [rad] (clockwise about +z) applied after (a, b).

    U_z = diag(e^{i angle/2}, e^{-i angle/2}); M_xy -> M_xy e^{-i angle}.
    """
    h = 0.5 * angle
    ph = jax.lax.complex(jnp.cos(h), jnp.sin(h))
    return a * ph, b * jnp.conj(ph)


def cayley_klein(
    rf,
    gradient,
    dt,
    positions,
    off_resonance,
    b1_scale,
    *,
    method="hard",
    constant_gradient=False,
    unroll=1,
):
    """Cayley–Klein parameters (alpha, beta) of a pulse for a grid of spins (no relaxation).

    Each step k rotates by gamma |B_eff,k| dt about B_eff,k = (s Re B1_k, s Im B1_k,
    G_k x + 2 pi df / gamma) with s the B1 scale (see the module docstring for the
    convention and the ``method`` step rules).

    Args:
        rf: complex RF field B1 [T], shape (n,).
        gradient: gradient along the slice axis [T/m], shape (n,).
        dt: step length [s], scalar.
        positions: positions along the gradient axis x [m], shape (P,).
        off_resonance: off-resonance df [Hz], shape (F,).
        b1_scale: transmit scales s (dimensionless), shape (S,).
        method: ``"hard"`` (hard-pulse approximation) or ``"exact"`` (simultaneous rotation).
        constant_gradient: static flag promising gradient[k] == gradient[0] for all k (the
            hard-pulse kernel then precomputes the precession phasor; faster).
        unroll: ``lax.scan`` unroll factor.

    Returns:
        (alpha, beta): complex arrays of shape (S, F, P).
    """
    rdtype = jnp.real(rf).dtype
    cdtype = complex_dtype(rdtype)
    rf = rf.astype(cdtype)
    gradient = jnp.asarray(gradient, rdtype)
    x = jnp.asarray(positions, rdtype)
    df = jnp.asarray(off_resonance, rdtype)
    s = jnp.asarray(b1_scale, rdtype)
    # per-step angles: w1 = gamma s B1 dt (complex rad, (n, S)); wz = gamma G x dt (n, P);
    # off-resonance angle per step (F,)
    dt = jnp.asarray(dt, rdtype)
    w1 = rf[:, None] * ((GAMMA_1H * dt) * s)[None, :].astype(cdtype)
    wz = (GAMMA_1H * dt) * gradient[:, None] * x[None, :]
    wf = (_TWO_PI * dt) * df
    shape = (s.shape[0], df.shape[0], x.shape[0])
    a0 = jnp.ones(shape, cdtype)
    b0 = jnp.zeros(shape, cdtype)

    if method == "hard":

        def nutation(w1k):
            c, sn = _cos_sinc_half(jnp.real(w1k) ** 2 + jnp.imag(w1k) ** 2)
            return c.astype(cdtype)[:, None, None], (1j * sn.astype(cdtype) * w1k)[:, None, None]

        if constant_gradient:
            # Z R_n Z Z R_{n-1} Z ... = Z^-1 (Z^2 R_n) ... (Z^2 R_1) Z with Z the half-step
            # free precession, whose phasor is the same for every step: no trigonometry
            # per spin inside the loop.
            h = 0.25 * (wz[0][None, :] + wf[:, None])  # (F, P)
            ph = jax.lax.complex(jnp.cos(h), jnp.sin(h))[None]
            ph2 = ph * ph

            def step(carry, w1k):
                a, b = carry
                al, be = nutation(w1k)
                a, b = al * a - jnp.conj(be) * b, be * a + jnp.conj(al) * b
                return (a * ph2, b * jnp.conj(ph2)), None

            (a, b), _ = jax.lax.scan(step, (a0 * ph, b0), w1, unroll=unroll)
            return a * jnp.conj(ph), b * ph

        def step(carry, inp):
            a, b = carry
            w1k, wzk = inp
            half = 0.5 * (wzk[None, None, :] + wf[None, :, None])
            a, b = precess(a, b, half)
            al, be = nutation(w1k)
            a, b = al * a - jnp.conj(be) * b, be * a + jnp.conj(al) * b
            a, b = precess(a, b, half)
            return (a, b), None
    elif method == "exact":

        def step(carry, inp):
            a, b = carry
            w1k, wzk = inp
            wtot = wzk[None, None, :] + wf[None, :, None]  # (1, F, P)
            w1b = w1k[:, None, None]  # (S, 1, 1)
            u = jnp.real(w1b) ** 2 + jnp.imag(w1b) ** 2 + wtot**2
            c, sn = _cos_sinc_half(u)
            al = jax.lax.complex(c, sn * wtot)
            be = 1j * sn.astype(cdtype) * w1b
            a, b = al * a - jnp.conj(be) * b, be * a + jnp.conj(al) * b
            return (a, b), None
    else:
        raise ValueError(f"method must be 'hard' or 'exact', got {method!r}")

    (a, b), _ = jax.lax.scan(step, (a0, b0), (w1, wz), unroll=unroll)
    return a, b


def magnetization(alpha, beta):
    """Magnetization (M_xy complex, M_z) after the rotation, from equilibrium M = (0, 0, 1).

    M_xy = 2 conj(alpha) beta, M_z = |alpha|^2 - |beta|^2 (dimensionless, in units of M0).
    """
    mxy = 2.0 * jnp.conj(alpha) * beta
    mz = jnp.real(alpha * jnp.conj(alpha)) - jnp.real(beta * jnp.conj(beta))
    return mxy, mz
