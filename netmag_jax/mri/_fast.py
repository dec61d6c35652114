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
* at ADC steps the coil sums are taken from the recursion; a bundle of up to ``BUNDLE``
  reusing samples runs as an inner loop (complex multiply and coil sum; unused slots, dt = 0,
  skipped), Mz relaxed once at its end;
* an RF block planned by ``_affine_maps``: ``M <- Phi[cls] M + M0 c[cls]``, with the class
  maps computed beforehand by :func:`class_maps`.

The branch of each bundle is chosen by ``lax.switch`` inside one ``lax.scan``; long programs
are split into ~sqrt(m) checkpointed chunks with the engine's own reverse mode
(``_adjoint``: memory O(sqrt(m) N), each bundle transposed by its own branch's VJP), and many
spins are processed in chunks (``lax.map``) with the time scan inside each chunk.

Precision: the same exact rules as the reference, so both agree to rounding (1e-12 M0 in
float64). In float32 both carry the rounding of accumulated phases (~1e-4 M0 after hundreds
of radians per spin); merged runs and reused phasors round differently, not worse.
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
from ._adjoint import scan_bundles
from ._affine_maps import compose_maps, conjugate_maps
from ._kernels import (
    SERIES_MAX,
    emit,
    empty_signal,
    gather_signal,
    rodrigues,
    series_coefficients,
    spin_params,
)
from ._segments import AFFINE, BUNDLE, COUNT_SHIFT, EMIT, NEW_DT, REUSE, RF, RFRUN, RUN, Program


def _relaxation(code, dt, spin, st):
    """(E2, E1 - 1) per spin: recomputed when the step's dt differs, else carried."""
    if code & NEW_DT:
        return jnp.exp(-dt * spin[6]), jnp.expm1(-dt * spin[5])
    return st[2], st[3]


def _rf_update(code, trig, inp, spin, st):
    """One RF step: exact rotation (Rodrigues) then relaxation. ``st`` = (Mxy, Mz, E2,
    E1 - 1, phasor)."""
    rf_re, rf_im, m, dt = inp[:4]
    x, y, z, b1, omega = spin[:5]
    wx = -GAMMA_1H * dt * b1 * rf_re
    wy = -GAMMA_1H * dt * b1 * rf_im
    wz = -(GAMMA_1H * (m[0] * x + m[1] * y + m[2] * z) + omega * dt)
    s = wx * wx + wy * wy + wz * wz
    A, B, C = rotation_coefficients(s) if trig else series_coefficients(s)
    nx, ny, nz = rodrigues(st[0].real, st[0].imag, st[1], wx, wy, wz, A, B, C)
    e2, e1m1 = _relaxation(code, dt, spin, st)
    mxy = jax.lax.complex(nx * e2, ny * e2)
    return (mxy, nz + (nz - spin[7]) * e1m1, e2, e1m1, st[4])


def _free_update(code, trig, inp, spin, st):
    """One RF-free step: ``Mxy <- p Mxy``, ``p = E2 exp(-i theta)``; Mz relaxes."""
    _, _, m, dt = inp[:4]
    x, y, z, _, omega = spin[:5]
    if code & REUSE:
        e2, e1m1, p = st[2], st[3], st[4]
    else:
        th = GAMMA_1H * (m[0] * x + m[1] * y + m[2] * z) + omega * dt
        if trig:
            c, sn = jnp.cos(th), jnp.sin(th)
        else:
            A, _, c = series_coefficients(th * th)
            sn = A * th
        e2, e1m1 = _relaxation(code, dt, spin, st)
        p = jax.lax.complex(e2 * c, -e2 * sn)
    return (p * st[0], st[1] + (st[1] - spin[7]) * e1m1, e2, e1m1, p)


def _branch(code, trig, spin, coils, record, zeros_out, maps, unroll=True):
    """The function of one bundle of code ``code`` (``trig``: sin/cos Rodrigues) for
    ``lax.switch``: (state, inputs with a leading BUNDLE axis) -> (state, emissions
    [BUNDLE, ...])."""
    if code & RUN:
        return _run_branch(spin, coils, record)
    if code & AFFINE:
        return _affine_branch(spin, maps, zeros_out)
    if code & RFRUN:
        return _rf_run_branch(code, trig, spin, zeros_out, unroll)
    update = _rf_update if code & RF else _free_update

    def f(st, inp):
        st = update(code, trig, jax.tree_util.tree_map(lambda a: a[0], inp), spin, st)
        if not code & EMIT:
            return st, zeros_out
        out = emit(st[0], st[1], coils, record)
        return st, jax.tree_util.tree_map(lambda z, o: z.at[0].set(o), zeros_out, out)

    return f


def _rf_run_branch(code, trig, spin, zeros_out, unroll=True):
    """The ``code >> COUNT_SHIFT`` consecutive RF steps of one dt of an RFRUN bundle (the
    bundle's other slots are unused and not computed); slot 0 recomputes the relaxation
    factors when ``code`` has NEW_DT. ``unroll``: the steps unrolled in Python, so XLA fuses
    them into one pass over the spins (the forward); else slots 1.. as a ``lax.scan`` that
    XLA unrolls (the same function, for the per-bundle VJPs of the reverse pass: the VJP of
    the Python-unrolled steps compiled 2.3x slower, that of a rolled scan ran 1.6x slower;
    benchmarks/README.md). The select on ``dt > 0`` in the forward never changes a value
    (every computed slot has dt > 0): it is kept because XLA's CPU backend emits 25% faster
    code for the fused steps with it (SLR benchmark, measured both ways)."""
    count = code >> COUNT_SHIFT

    def f(st, inp):
        st = _rf_update(code, trig, jax.tree_util.tree_map(lambda a: a[0], inp), spin, st)
        rest = jax.tree_util.tree_map(lambda a: a[1:count], inp)
        if unroll:
            for k in range(count - 1):
                x = jax.tree_util.tree_map(lambda a, k=k: a[k], rest)
                new = _rf_update(RF, trig, x, spin, st)
                used = x[3] > 0
                st = jax.tree_util.tree_map(lambda a, b, u=used: jnp.where(u, a, b), new, st)
        else:
            body = lambda c, x: (_rf_update(RF, trig, x, spin, c), None)  # noqa: E731
            st = jax.lax.scan(body, st, rest, unroll=True)[0]
        return st, zeros_out

    return f


def _affine_branch(spin, maps, zeros_out):
    """A class-map block: ``M <- Phi[cls] M + M0 c[cls]`` (``maps`` [n_blocks, K, 12])."""

    def f(st, inp):
        P = maps[inp[4][0]][spin[8]]  # [N, 12]: Phi row-major, then c
        mx, my, mz = st[0].real, st[0].imag, st[1]
        m0 = spin[7]
        nx = P[:, 0] * mx + P[:, 1] * my + P[:, 2] * mz + m0 * P[:, 9]
        ny = P[:, 3] * mx + P[:, 4] * my + P[:, 5] * mz + m0 * P[:, 10]
        nz = P[:, 6] * mx + P[:, 7] * my + P[:, 8] * mz + m0 * P[:, 11]
        return (jax.lax.complex(nx, ny), nz, st[2], st[3], st[4]), zeros_out

    return f


def class_maps(rf, gradient, dt, spins, blocks, u, reps):
    """[n_blocks, K, 12] affine maps (Phi row-major, c) of the RF blocks per spin class, by
    stepping 4 pseudo-spins per class (unit vectors with M0 = 0, and M = 0 with M0 = 1)
    through each distinct block with the reference rule (``_affine_maps``); ``blocks`` =
    (ranges, source, phase) of the plan: a repeated block's map is its source's conjugated
    by a rotation about z (:func:`~._affine_maps.conjugate_maps`). Distinct blocks of equal
    length are stepped together (vmap), each cut into ~sqrt(L) pieces of ~sqrt(L) steps
    stepped in parallel (vmap) and composed (:func:`~._affine_maps.compose_maps`): a chain of
    ~sqrt(L) sequential steps instead of L."""
    blocks, source, phase = blocks
    K = reps.shape[0]
    reps = jnp.asarray(reps)
    sp = spin_params(spins)
    proj = (spins.positions[reps] @ jnp.asarray(u, spins.dtype))[:, None]
    pos = jnp.tile(proj * jnp.asarray(u, spins.dtype)[None, :], (4, 1))  # [4K, 3]
    types = np.repeat(np.arange(4), K)
    m0 = jnp.asarray(types == 3, spins.dtype)
    pspin = (pos[:, 0], pos[:, 1], pos[:, 2]) + tuple(jnp.tile(a[reps], 4) for a in sp[3:7])
    pspin = pspin + (m0,)
    eye = np.zeros((4 * K, 3))
    eye[types < 3, types[types < 3]] = 1.0
    M = jnp.asarray(eye, spins.dtype)
    one = jnp.ones_like(m0)
    st0 = (jax.lax.complex(M[:, 0], M[:, 1]), M[:, 2], one, 0 * one, jax.lax.complex(one, 0 * one))

    def run_block(inp):
        def body(st, x):
            return _rf_update(RF | NEW_DT, True, x, pspin, st), None

        st, _ = jax.lax.scan(body, st0, inp)
        out = jnp.stack([st[0].real, st[0].imag, st[1]], axis=-1).reshape(4, K, 3)
        phi = jnp.moveaxis(out[:3], 0, -1)  # [K, 3 rows, 3 cols]
        return jnp.concatenate([phi.reshape(K, 9), out[3]], axis=-1)

    maps: dict = {}
    distinct = sorted(set(source))
    for L in sorted({blocks[i][1] - blocks[i][0] for i in distinct}):
        which = [i for i in distinct if blocks[i][1] - blocks[i][0] == L]
        lp = int(math.ceil(math.sqrt(L)))  # steps per piece; pieces padded with identities
        n_p = -(-L // lp)
        idx = np.array([blocks[i][0] + np.minimum(np.arange(n_p * lp), L - 1) for i in which])
        steps, valid = jnp.asarray(idx), jnp.asarray(np.arange(n_p * lp) < L)[None, :]
        d = jnp.where(valid, dt[steps], 0.0)
        r = jnp.where(valid, rf[steps], 0.0)
        inp = (r.real, r.imag, gradient[steps] * d[..., None], d)
        inp = tuple(a.reshape((len(which), n_p, lp) + a.shape[2:]) for a in inp)
        out = compose_maps(jax.vmap(jax.vmap(run_block))(inp))
        for j, i in enumerate(which):
            maps[i] = out[j]
    return conjugate_maps(maps, source, phase)


def _run_branch(spin, coils, record):
    """A bundle of reusing, sampling steps (``BUNDLE`` slots, unused ones with dt = 0 at the
    end of a partly filled bundle): the inner loop is ``Mxy <- p Mxy`` and the coil sums,
    skipped (``Mxy`` kept) in unused slots; Mz relaxes once over the bundle's duration
    ``sum dt`` (per step when M is recorded). Not checkpointed: its VJP in the engine's
    reverse pass (``_adjoint``) is taken per bundle, after the switch, so its residuals are
    its own (a checkpoint there recomputed the bundle once more); the inner loop is a scan
    that XLA unrolls (value_and_grad / forward of the benchmark 4.5 -> 4.1 with both, the
    readout's forward unchanged; benchmarks/README.md)."""

    def f(st, inp):
        mxy, mz, e2, e1m1, p = st

        def inner(carry, used):
            z, mzz = carry
            z = jnp.where(used, p * z, z)
            if record:
                mzz = jnp.where(used, mzz + (mzz - spin[7]) * e1m1, mzz)
            return (z, mzz), emit(z, mzz, coils, record)

        (mxy, mz_in), out = jax.lax.scan(inner, (mxy, mz), inp[3] > 0, unroll=True)
        if not record:
            mz_in = mz + (mz - spin[7]) * jnp.expm1(-jnp.sum(inp[3]) * spin[5])
        return (mxy, mz_in, e2, e1m1, p), out

    return f


def _zeros_out(N, n_out, cdtype, rdtype, record):
    out = {"s": jnp.zeros((BUNDLE, n_out), cdtype)}
    if record:
        out["M"] = jnp.zeros((BUNDLE, N, 3), rdtype)
    return out


def _trig_needed(spin, xs):
    """Per bundle: does a bound on ``|w|^2`` over the chunk's spins (Cauchy-Schwarz) exceed
    ``SERIES_MAX``, so that sin/cos are needed instead of the series?"""
    rf_re, rf_im, mom, dt = xs
    rmax = jnp.sqrt(jnp.max(jnp.sum(jnp.stack(spin[:3]) ** 2, axis=0)))
    b1max = jnp.max(jnp.abs(spin[3]))
    wmax = jnp.max(jnp.abs(spin[4]))
    rot = GAMMA_1H * dt * b1max * jnp.sqrt(rf_re**2 + rf_im**2)
    wz = GAMMA_1H * jnp.sqrt(jnp.sum(mom**2, axis=-1)) * rmax + wmax * dt
    return jnp.any(rot * rot + wz * wz > SERIES_MAX, axis=1).astype(jnp.int32)


def _simulate_chunk(spin, state, coils, maps, xs, *, codes, m, chunk, record, cdtype, progress):
    """Scan the bundles over one chunk of spins (``_adjoint.scan_bundles``: checkpointed, with
    a per-bundle reverse mode); returns (final state, emissions)."""
    N = spin[0].shape[0]
    n_out = 1 if coils is None else coils.shape[0]

    def make_branches(sp, co, mp, unroll=True):
        zo = _zeros_out(N, n_out, cdtype, sp[0].dtype, record)
        return [_branch(c, t, sp, co, record, zo, mp, unroll) for c in codes for t in (False, True)]

    index = 2 * xs[5] + _trig_needed(spin, xs[:4])
    return scan_bundles(
        make_branches,
        spin[:8],
        spin[8],
        state,
        coils,
        maps,
        xs[:4],
        (xs[4], index),
        m=m,
        chunk=chunk,
        progress=progress,
    )


def _bundle_inputs(rf, gradient, dt, group, first, slot, block, n_bundles):
    """Differentiable bundle inputs [n_bundles, BUNDLE, ...]: Re B1, Im B1, moment G dt [3],
    dt and class-map block of each macro-step in its slot (merged runs summed, unused slots
    zero)."""
    m = first.shape[0]
    group, first, slot = jnp.asarray(group), jnp.asarray(first), jnp.asarray(slot)
    d = jax.ops.segment_sum(dt, group, m, indices_are_sorted=True)
    mom = jax.ops.segment_sum(gradient * dt[:, None], group, m, indices_are_sorted=True)
    r = rf[first]

    def place(a):
        out = jnp.zeros((n_bundles * BUNDLE,) + a.shape[1:], a.dtype).at[slot].set(a)
        return out.reshape((n_bundles, BUNDLE) + a.shape[1:])

    return place(r.real), place(r.imag), place(mom), place(d), place(jnp.asarray(block))


def _spin_chunks(a, n_chunks, size):
    """[N, ...] -> [n_chunks, size, ...], zero-padded (padding spins have M0 = 0 and stay 0)."""
    pad = n_chunks * size - a.shape[0]
    a = jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)])
    return a.reshape((n_chunks, size) + a.shape[1:])


@eqx.filter_jit
def run_fast(rf, gradient, dt, spins, M_init, coils, adc_phase, program_arrays, *, static):
    """Jitted fast engine. ``program_arrays`` = (group, first, slot, branch position) int
    arrays; ``static`` from :func:`prepare`."""
    codes, m, adc_macro, chunk, spin_chunk, record, blocks, u, progress = static
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
    group, first, slot, block, pos, affine = program_arrays
    xs = _bundle_inputs(rf, gradient, dt, group, first, slot, block, m)
    xs = (*xs, jnp.asarray(pos, jnp.int32))
    if affine is None:
        maps, cls = jnp.zeros((1, 1, 12), spins.dtype), jnp.zeros(spins.n, jnp.int32)
    else:
        cls, reps = affine
        maps = class_maps(rf, gradient, dt, spins, blocks, u, reps)
    spin = (*spin_params(spins), jnp.asarray(cls, jnp.int32))
    if M_init is None:
        zero = jnp.zeros_like(spins.M0)
        M_init = jnp.stack([zero, zero, spins.M0], axis=-1)
    else:
        M_init = require(M_init, jnp.isfinite(M_init), "M_init must be finite")
    one = jnp.ones_like(spins.M0)
    mxy = jax.lax.complex(M_init[:, 0], M_init[:, 1])
    state = (mxy, M_init[:, 2], one, 0 * one, mxy * 0 + 1)
    kw = {"codes": codes, "m": m, "chunk": chunk, "record": record, "cdtype": cdtype}
    kw["progress"] = progress
    N = spins.n
    if spin_chunk is None or spin_chunk >= N:
        state, ys = _simulate_chunk(spin, state, coils, maps, xs, **kw)
        M = jnp.stack([state[0].real, state[0].imag, state[1]], axis=-1)
    else:
        n_sc = -(-N // spin_chunk)
        per = (spin, state, None if coils is None else coils.T)
        per = jax.tree_util.tree_map(lambda a: _spin_chunks(a, n_sc, spin_chunk), per)

        def one_chunk(args):
            sp, st, co = args
            return _simulate_chunk(sp, st, None if co is None else co.T, maps, xs, **kw)

        state, ys = jax.lax.map(one_chunk, per)
        M = jnp.stack([state[0].real, state[0].imag, state[1]], axis=-1).reshape(-1, 3)[:N]
        ys = {"s": jnp.sum(ys["s"], axis=0)} | (
            {"M": jnp.moveaxis(ys["M"], 0, 2).reshape(m, BUNDLE, -1, 3)[:, :, :N]} if record else {}
        )
    ys = jax.tree_util.tree_map(lambda a: a.reshape((m * BUNDLE,) + a.shape[2:]), ys)
    if adc_macro is None or len(adc_macro) == 0:
        empty = None if adc_macro is None else empty_signal(coils, cdtype)
        return M, empty, None
    sig, M_adc = gather_signal(ys, np.asarray(adc_macro), adc_phase, coils, record)
    return M, sig, M_adc


def prepare(
    program: Program, checkpoint, n_adc_none: bool, spin_chunk, record, plan=None, progress=False
):
    """Concrete arguments of :func:`run_fast` for a program: (program arrays, static), with
    ``static = (codes, n_bundles, flat ADC slots, checkpoint chunk, spin chunk, record)``."""
    # the identity padding bundle (free, NEW_DT, dt = 0) is branch position 0
    codes = [NEW_DT] + sorted(set(program.bundle_code.tolist()) - {NEW_DT})
    where = np.zeros(max(codes) + 1, np.int32)
    where[codes] = np.arange(len(codes))
    pos = where[program.bundle_code]
    m = program.n_bundles
    if checkpoint == "auto":
        chunk = int(math.ceil(math.sqrt(m))) if m > 128 else None
    else:
        chunk = int(checkpoint) if checkpoint else None
    if progress and not chunk:  # progress is reported once per chunk of steps
        chunk = int(math.ceil(math.sqrt(m)))
    if chunk is not None and chunk >= m and not progress:
        chunk = None
    adc = None if n_adc_none else tuple(program.slot[program.adc_macro].tolist())
    blocks, u, affine = (), None, None
    if plan is not None:
        blocks, u = (plan.blocks, plan.source, plan.phase), tuple(float(c) for c in plan.u)
        affine = (plan.cls, plan.reps)
    static = (tuple(codes), m, adc, chunk, spin_chunk, bool(record), blocks, u, progress)
    arrays = (program.group, program.first, program.slot.astype(np.int32), program.block, pos)
    return (*arrays, affine), static
