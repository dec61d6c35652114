r"""The fast Bloch engine: macro-steps (``_segments``), each by its cheapest exact rule.

Per macro-step and spin (state ``Mx, My, Mz`` plus carried ``E2 = exp(-dt/T2)``,
``E1 - 1 = expm1(-dt/T1)`` and the phasor ``p = E2 exp(-i theta)``):

* RF step: the exact rotation by ``w = (-gamma b1 dt Re B1, -gamma b1 dt Im B1,
  -(gamma m.r + omega dt))`` (``m = G dt``, Rodrigues) then relaxation, as the reference
  engine; the Rodrigues coefficients come from their Taylor series in ``|w|^2`` (no square
  root, no sine: :func:`~._kernels.series_coefficients`) whenever a per-step bound on
  ``|w|^2`` over all spins is <= 1, else from ``sin``/``cos`` (the reference's formula);
* RF-free step: ``Mxy <- p Mxy`` with ``p = E2 exp(-i (gamma m.r + omega dt))`` (a rotation
  about z and T2 decay, exactly), ``Mz <- Mz + (Mz - M0)(E1 - 1)``; the phasor is reused
  (one complex multiply per spin) when the step repeats the previous one;
* the relaxation factors are recomputed only when dt changes;
* at ADC steps the coil sums are taken from the recursion.

The branch of each macro-step is chosen by ``lax.switch`` inside one ``lax.scan``; long
programs are split into ~sqrt(m) checkpointed chunks (reverse-mode memory O(sqrt(m) N)), and
many spins are processed in chunks (``lax.map``) with the time scan inside each chunk, so the
working set stays in cache.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import require
from .._numerics import rotation_coefficients
from ..constants import GAMMA_1H
from ._kernels import (
    SERIES_MAX,
    emit,
    empty_signal,
    gather_signal,
    rodrigues,
    series_coefficients,
    spin_params,
)
from ._segments import EMIT, NEW_DT, REUSE, RF, Program


def _relaxation(code, dt, spin, st):
    """(E2, E1 - 1) per spin: recomputed when the step's dt differs, else carried."""
    if code & NEW_DT:
        return jnp.exp(-dt * spin[6]), jnp.expm1(-dt * spin[5])
    return st[3], st[4]


def _rf_update(code, trig, inp, spin, st):
    rf_re, rf_im, m, dt = inp
    x, y, z, b1, omega = spin[:5]
    wx = -GAMMA_1H * dt * b1 * rf_re
    wy = -GAMMA_1H * dt * b1 * rf_im
    wz = -(GAMMA_1H * (m[0] * x + m[1] * y + m[2] * z) + omega * dt)
    s = wx * wx + wy * wy + wz * wz
    A, B, C = rotation_coefficients(s) if trig else series_coefficients(s)
    nx, ny, nz = rodrigues(st[0], st[1], st[2], wx, wy, wz, A, B, C)
    e2, e1m1 = _relaxation(code, dt, spin, st)
    return (nx * e2, ny * e2, nz + (nz - spin[7]) * e1m1, e2, e1m1, st[5], st[6])


def _free_update(code, trig, inp, spin, st):
    _, _, m, dt = inp
    x, y, z, _, omega = spin[:5]
    if code & REUSE:
        e2, e1m1, pr, pi = st[3], st[4], st[5], st[6]
    else:
        th = GAMMA_1H * (m[0] * x + m[1] * y + m[2] * z) + omega * dt
        if trig:
            c, sn = jnp.cos(th), jnp.sin(th)
        else:
            A, _, c = series_coefficients(th * th)
            sn = A * th
        e2, e1m1 = _relaxation(code, dt, spin, st)
        pr, pi = e2 * c, -e2 * sn
    mx, my, mz = st[0], st[1], st[2]
    return (pr * mx - pi * my, pr * my + pi * mx, mz + (mz - spin[7]) * e1m1, e2, e1m1, pr, pi)


def _branch(code, trig, spin, coils, record, zeros_out):
    """The step function of one (code, trig) combination, for ``lax.switch``."""
    update = _rf_update if code & RF else _free_update

    def f(st, inp):
        st = update(code, trig, inp, spin, st)
        return st, (emit(st, coils, record) if code & EMIT else zeros_out)

    return f


def _zeros_out(N, n_out, cdtype, rdtype, record):
    out = {"s": jnp.zeros((n_out,), cdtype)}
    if record:
        out["M"] = jnp.zeros((N, 3), rdtype)
    return out


def _chunk_steps(xs, m, chunk):
    """Pad the macro-step inputs with identity steps and reshape to [n_chunks, chunk, ...]."""
    n_chunks = -(-m // chunk)
    pad = n_chunks * chunk - m

    def f(a):
        if a.dtype == jnp.int32:  # branch index of the padding: position 0 is the identity
            a = jnp.concatenate([a, jnp.zeros((pad,), a.dtype)])
        else:
            a = jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)])
        return a.reshape((n_chunks, chunk) + a.shape[1:])

    return jax.tree_util.tree_map(f, xs)


def _simulate_chunk(spin, state, coils, xs, *, codes, m, chunk, record, cdtype):
    """Scan the macro-steps over one chunk of spins; returns (final state, emissions)."""
    N = spin[0].shape[0]
    n_out = 1 if coils is None else coils.shape[0]
    zo = _zeros_out(N, n_out, cdtype, spin[0].dtype, record)
    branches = [_branch(c, t, spin, coils, record, zo) for c in codes for t in (False, True)]
    rf_re, rf_im, mom, dt, pos = xs
    # per-step bound on |w|^2 over the chunk's spins (Cauchy-Schwarz): series or sin/cos
    rmax = jnp.sqrt(jnp.max(jnp.sum(jnp.stack(spin[:3]) ** 2, axis=0)))
    b1max = jnp.max(jnp.abs(spin[3]))
    wmax = jnp.max(jnp.abs(spin[4]))
    rot = GAMMA_1H * dt * b1max * jnp.sqrt(rf_re**2 + rf_im**2)
    wz = GAMMA_1H * jnp.sqrt(jnp.sum(mom**2, axis=1)) * rmax + wmax * dt
    trig = (rot * rot + wz * wz > SERIES_MAX).astype(jnp.int32)
    index = 2 * pos + trig

    def body(st, inp):
        return jax.lax.switch(inp[4], branches, st, inp[:4])

    scan_xs = (rf_re, rf_im, mom, dt, index)
    if chunk is None:
        return jax.lax.scan(body, state, scan_xs)

    @jax.checkpoint
    def chunk_body(st, xc):
        return jax.lax.scan(body, st, xc)

    state, ys = jax.lax.scan(chunk_body, state, _chunk_steps(scan_xs, m, chunk))
    ys = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:])[:m], ys)
    return state, ys


def _macro_inputs(rf, gradient, dt, program: Program):
    """Differentiable macro-step inputs: (Re B1, Im B1, moment G dt [m, 3], dt) per macro-step."""
    m = program.n_macro
    group = jnp.asarray(program.group)
    first = jnp.asarray(program.first)
    d = jax.ops.segment_sum(dt, group, m, indices_are_sorted=True)
    mom = jax.ops.segment_sum(gradient * dt[:, None], group, m, indices_are_sorted=True)
    r = rf[first]
    return r.real, r.imag, mom, d


def _spin_chunks(a, n_chunks, size):
    """[N, ...] -> [n_chunks, size, ...], zero-padded (padding spins have M0 = 0 and stay 0)."""
    pad = n_chunks * size - a.shape[0]
    a = jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)])
    return a.reshape((n_chunks, size) + a.shape[1:])


@eqx.filter_jit
def run_fast(rf, gradient, dt, spins, M_init, coils, adc_phase, program_arrays, *, static):
    """Jitted fast engine. ``program_arrays`` = (group, first, branch position) NumPy/JAX int
    arrays; ``static`` = (codes, n_macro, adc_macro, chunk, spin_chunk, record)."""
    codes, m, adc_macro, chunk, spin_chunk, record = static
    cdtype = rf.dtype
    rf = require(rf, jnp.isfinite(rf.real) & jnp.isfinite(rf.imag), "rf must be finite")
    gradient = require(gradient, jnp.isfinite(gradient), "gradient must be finite")
    dt = require(dt, jnp.isfinite(dt) & (dt > 0), "dt must be finite and > 0")
    T1 = require(spins.T1, jnp.isfinite(spins.T1) & (spins.T1 > 0), "T1 must be finite and > 0")
    T2 = require(spins.T2, (spins.T2 > 0) & (spins.T2 <= 2.0 * T1), "T2 must be in (0, 2 T1]")
    spins = eqx.tree_at(lambda s: (s.T1, s.T2), spins, (T1, T2))
    if coils is not None:
        coils = require(coils, jnp.isfinite(coils.real) & jnp.isfinite(coils.imag), "coils")
    if adc_phase is not None:
        adc_phase = require(adc_phase, jnp.isfinite(adc_phase), "adc_phase must be finite")
    group, first, pos = program_arrays
    prog = Program(group, first, np.zeros(0), np.zeros(0))
    xs = (*_macro_inputs(rf, gradient, dt, prog), jnp.asarray(pos, jnp.int32))
    spin = spin_params(spins)
    if M_init is None:
        zero = jnp.zeros_like(spins.M0)
        M_init = jnp.stack([zero, zero, spins.M0], axis=-1)
    else:
        M_init = require(M_init, jnp.isfinite(M_init), "M_init must be finite")
    one = jnp.ones_like(spins.M0)
    state = (M_init[:, 0], M_init[:, 1], M_init[:, 2], one, 0 * one, one, 0 * one)
    kw = {"codes": codes, "m": m, "chunk": chunk, "record": record, "cdtype": cdtype}
    N = spins.n
    if spin_chunk is None or spin_chunk >= N:
        state, ys = _simulate_chunk(spin, state, coils, xs, **kw)
        M = jnp.stack(state[:3], axis=-1)
    else:
        n_sc = -(-N // spin_chunk)
        per = (spin, state, None if coils is None else coils.T)
        per = jax.tree_util.tree_map(lambda a: _spin_chunks(a, n_sc, spin_chunk), per)

        def one_chunk(args):
            sp, st, co = args
            return _simulate_chunk(sp, st, None if co is None else co.T, xs, **kw)

        state, ys = jax.lax.map(one_chunk, per)
        M = jnp.stack(state[:3], axis=-1).reshape(-1, 3)[:N]
        ys = {"s": jnp.sum(ys["s"], axis=0)} | (
            {"M": jnp.moveaxis(ys["M"], 0, 1).reshape(m, -1, 3)[:, :N]} if record else {}
        )
    if adc_macro is None or len(adc_macro) == 0:
        empty = None if adc_macro is None else empty_signal(coils, cdtype)
        return M, empty, None
    sig, M_adc = gather_signal(ys, np.asarray(adc_macro), adc_phase, coils, record)
    return M, sig, M_adc


def prepare(program: Program, checkpoint, n_adc_none: bool, spin_chunk, record):
    """Concrete arguments of :func:`run_fast` for a program: (program arrays, static)."""
    # the identity padding step (free, NEW_DT, dt = 0) is branch position 0
    codes = [NEW_DT] + sorted(set(int(c) for c in program.code) - {NEW_DT})
    where = {c: i for i, c in enumerate(codes)}
    pos = np.array([where[int(c)] for c in program.code], np.int32)
    m = program.n_macro
    chunk = int(math.ceil(math.sqrt(m))) if (checkpoint == "auto" and m > 128) else None
    if checkpoint not in ("auto", None, False):
        chunk = int(checkpoint)
    if chunk is not None and chunk >= m:
        chunk = None
    adc = None if n_adc_none else tuple(int(i) for i in program.adc_macro)
    static = (tuple(codes), m, adc, chunk, spin_chunk, bool(record))
    return (program.group, program.first, pos), static
