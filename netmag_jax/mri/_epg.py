r"""Extended phase graphs (EPG): Fourier states of a dephased isochromat ensemble.

For a voxel whose isochromats are spread uniformly over one 2 pi cycle of dephasing per
gradient 'shift', the magnetization is represented by the configuration states
``F+_k, F-_k, Z_k`` (k = 0..K-1) (Hennig, JMR 78, 397 (1988); Weigel, JMRI 41, 266 (2015)).
Operators (in this package's left-handed convention, the same as the Bloch engine: a pulse
about +x tips +z to +y):

* RF of flip ``a`` and phase ``phi`` (rotation axis (cos phi, sin phi, 0)):

  .. math::
      T = \begin{pmatrix} c^2 & e^{2i\phi}s^2 & i e^{i\phi}\sin a\\
            e^{-2i\phi}s^2 & c^2 & -i e^{-i\phi}\sin a\\
            \tfrac{i}{2}e^{-i\phi}\sin a & -\tfrac{i}{2}e^{i\phi}\sin a & \cos a\end{pmatrix},
      \quad c = \cos\tfrac a2,\ s = \sin\tfrac a2

  acting on (F+_k, F-_k, Z_k);
* relaxation over t: ``F *= E2``, ``Z_k *= E1``, ``Z_0 += M0 (1 - E1)``;
* one gradient shift: ``F+_k -> F+_{k+1}``, ``F-_k -> F-_{k-1}``, ``F+_0 = conj(F-_0)``.

The signal of the voxel is ``F+_0`` (the isochromat average of Mx + i My).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from .._checks import (
    angle,
    check_count,
    check_nonempty,
    finite,
    nonnegative,
    positive,
    relaxation_times,
)
from .._dtypes import complex_dtype
from .._numerics import cis


def _rf_matrix(alpha, phi, cdtype):
    c2 = (jnp.cos(alpha / 2) ** 2).astype(cdtype)
    s2 = (jnp.sin(alpha / 2) ** 2).astype(cdtype)
    sa = jnp.sin(alpha).astype(cdtype)
    e = cis(phi).astype(cdtype)
    ca = jnp.cos(alpha).astype(cdtype)
    return jnp.array(
        [
            [c2, e * e * s2, 1j * e * sa],
            [jnp.conj(e) ** 2 * s2, c2, -1j * jnp.conj(e) * sa],
            [0.5j * jnp.conj(e) * sa, -0.5j * e * sa, ca],
        ],
        dtype=cdtype,
    )


def _shift(F):
    """One positive gradient shift of states F [3, K]."""
    fp, fm, z = F[0], F[1], F[2]
    fp_new = jnp.concatenate([jnp.zeros((1,), fp.dtype), fp[:-1]])
    fm_new = jnp.concatenate([fm[1:], jnp.zeros((1,), fm.dtype)])
    fp_new = fp_new.at[0].set(jnp.conj(fm_new[0]))
    return jnp.stack([fp_new, fm_new, z])


def _relax(F, t, T1, T2, M0):
    E1 = jnp.exp(-t / T1).astype(F.dtype)
    E2 = jnp.exp(-t / T2).astype(F.dtype)
    F = F.at[0].multiply(E2).at[1].multiply(E2).at[2].multiply(E1)
    return F.at[2, 0].add(M0.astype(F.dtype) * (1 - E1))


def _params(T1, T2, M0):
    """Checked (T1, T2, M0): 0 < T1, 0 < T2 <= 2 T1, M0 finite (``eqx.error_if``)."""
    T1, T2 = relaxation_times(T1, T2)
    T2 = T2.astype(T1.dtype)
    return T1, T2, finite(M0, "M0").astype(T1.dtype)


def epg_cpmg(refocus_angles, echo_spacing, T1, T2, M0=1.0, excitation=math.pi / 2):
    r"""CPMG echo train by EPG: ``exc_x - [ESP/2 shift - refocus_y - ESP/2 shift - echo]_n``.

    Args:
        refocus_angles: [n] refocusing flip angles [rad] (phase pi/2, CPMG condition).
        echo_spacing: ESP [s] (> 0). T1, T2: [s] (scalars, 0 < T2 <= 2 T1). M0: equilibrium
            magnetization (finite).
        excitation: excitation flip angle [rad] (phase 0). Angles are checked finite and
            resolvable in their dtype (|a| eps <= 1e-3 rad, ``_checks.angle``).
    Returns:
        [n] complex echo amplitudes ``F+_0`` at the echo times n ESP.
    """
    a = jnp.asarray(refocus_angles)
    if a.ndim != 1 or a.shape[0] == 0:
        raise ValueError(f"refocus_angles must be a non-empty 1-D array, got shape {a.shape}")
    T1, T2, M0 = _params(T1, T2, M0)
    dtype = T1.dtype
    a = angle(a, "refocus_angles").astype(dtype)
    excitation = angle(excitation, "excitation").astype(dtype)
    half = positive(echo_spacing, "echo_spacing").astype(dtype) / 2
    return _cpmg(a, half, T1, T2, M0, excitation)


@jax.jit
def _cpmg(a, half, T1, T2, M0, excitation):
    """The CPMG train of checked inputs (one compiled function per train length and dtype)."""
    dtype = T1.dtype
    cdtype = complex_dtype(dtype)
    K = 2 * a.shape[0] + 2
    F = jnp.zeros((3, K), cdtype).at[2, 0].set(M0.astype(cdtype))
    F = _rf_matrix(excitation, jnp.zeros((), dtype), cdtype) @ F

    def body(F, alpha):
        F = _shift(_relax(F, half, T1, T2, M0))
        F = _rf_matrix(alpha, jnp.asarray(0.5 * math.pi, dtype), cdtype) @ F
        F = _shift(_relax(F, half, T1, T2, M0))
        return F, F[0, 0]

    _, echoes = jax.lax.scan(body, F, a)
    return echoes


def epg_gre(flip_angles, phases, TR, T1, T2, M0=1.0, TE=0.0, n_states=None):
    r"""Gradient-spoiled (one shift per TR) gradient-echo train by EPG, with any RF phases.

    Per TR: RF (``flip_angles[k]``, ``phases[k]``), signal ``F+_0 exp(-TE/T2) e^{-i phi_k}``
    (receiver phase = RF phase), relaxation over TR and one gradient shift. With quadratic
    phases (:func:`rf_spoiling_phases`) this is the RF-spoiled FLASH signal.

    Args:
        flip_angles: [n] rad. phases: [n] rad. TR, TE: s. T1, T2: s. M0: magnetization.
        n_states: number of k states kept (default n + 1, exact).
    Returns:
        [n] complex signals at TE.
    """
    a = jnp.asarray(flip_angles)
    p = jnp.asarray(phases)
    if a.ndim != 1 or p.shape != a.shape:
        raise ValueError(
            f"flip_angles and phases must be 1-D of equal length, got {a.shape} and {p.shape}"
        )
    check_nonempty("flip_angles", a)
    T1, T2, M0 = _params(T1, T2, M0)
    dtype = T1.dtype
    a, p = finite(a, "flip_angles").astype(dtype), finite(p, "phases").astype(dtype)
    TR, TE = positive(TR, "TR").astype(dtype), nonnegative(TE, "TE").astype(dtype)
    K = a.shape[0] + 1 if n_states is None else check_count("n_states", n_states)
    return _gre(a, p, TR, TE, T1, T2, M0, K)


@functools.partial(jax.jit, static_argnames=("K",))
def _gre(a, p, TR, TE, T1, T2, M0, K):
    """The spoiled GRE train of checked inputs with K states (compiled once per shape)."""
    cdtype = complex_dtype(T1.dtype)
    F = jnp.zeros((3, K), cdtype).at[2, 0].set(M0.astype(cdtype))
    eTE = jnp.exp(-TE / T2).astype(cdtype)

    def body(F, ap):
        alpha, phi = ap
        F = _rf_matrix(alpha, phi, cdtype) @ F
        s = F[0, 0] * eTE * cis(-phi).astype(cdtype)
        F = _shift(_relax(F, TR, T1, T2, M0))
        return F, s

    _, sig = jax.lax.scan(body, F, (a, p))
    return sig
