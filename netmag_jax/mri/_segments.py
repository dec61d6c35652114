r"""Segmenting a step list once, before tracing, into the macro-steps of the fast Bloch engine.

A step whose RF is exactly zero is a rotation about z by ``-(gamma G.r + 2 pi df) dt`` plus
relaxation. Rotations about z commute with each other and with relaxation, so any run of
consecutive RF-free steps with no ADC sample inside is *exactly* one step of length
``sum dt`` whose gradient moment is ``sum G dt``:

.. math:: e^{-\sum_k dt_k/T_2}\,e^{-i\sum_k (\gamma\,\mathbf G_k\cdot\mathbf r + \omega)\,dt_k}
          = e^{-T/T_2}\,e^{-i(\gamma\,\mathbf m\cdot\mathbf r + \omega T)},\quad
          T = \sum_k dt_k,\ \mathbf m = \sum_k \mathbf G_k\,dt_k,

and Mz relaxes over T. A run is cut after every ADC sample (a sample is taken at the end of
its step) and at every RF step; RF steps stay single macro-steps.

Each macro-step also carries static flags that let the engine skip work:

* ``new_dt``: its length differs from the previous macro-step's, so the per-spin relaxation
  factors ``exp(-dt/T2)``, ``expm1(-dt/T1)`` must be recomputed (else they are reused);
* ``reuse``: an RF-free macro-step identical (moment and length) to the previous RF-free one,
  which reuses the previous per-spin phasor: one complex multiply per spin (readouts under a
  constant gradient);
* ``emit``: an ADC sample is taken at its end.

Finally each run of reusing, sampling macro-steps (a readout under a constant gradient) is
cut into *bundles* of ``BUNDLE`` (the last one partly filled) that the engine runs as an
inner loop of complex multiplies and coil sums, with Mz relaxed once at its end; each run of
RF macro-steps of one dt without ADC samples (an RF pulse) is cut the same way into RFRUN
bundles, which the engine unrolls so that XLA fuses their steps into one pass over the spins
(the state stays in registers: the RF steps are memory-bound otherwise); every other
macro-step is a bundle of one. The engine scans over bundles, each holding ``BUNDLE`` slots
(unused slots have dt = 0 and are skipped or ignored).

Only the *pattern* (which RF samples are zero, where the ADC samples are, which steps repeat)
must be concrete; the values stay differentiable. A traced ``rf`` makes every step an RF
step; a traced gradient or dt disables the reuse flags.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import is_concrete

#: flag bits of a macro-step code (RUN: a bundle of BUNDLE reusing, sampling steps; AFFINE:
#: an RF block applied as a class map, see ``_affine_maps``; RFRUN: a bundle of up to BUNDLE
#: consecutive RF steps of one dt, unrolled in one pass over the spins)
RF, NEW_DT, REUSE, EMIT, RUN, AFFINE, RFRUN = 1, 2, 4, 8, 16, 32, 64
#: an RFRUN bundle's code carries its number of RF steps (1..BUNDLE) from this bit up, so the
#: engine unrolls exactly those steps (a 4-step pulse costs 4 steps, not BUNDLE)
COUNT_SHIFT = 8
#: macro-steps per bundle (16: within 5% of 32 and 64 on a 256-sample readout, and the 15
#: reusing samples of a 16-sample readout fit one bundle; benchmarks/README.md)
BUNDLE = 16


class Program(NamedTuple):
    """The macro-step plan of one sequence (all NumPy, concrete).

    Attributes:
        group: [n] macro-step index of each original step (non-decreasing).
        first: [m] first original step of each macro-step.
        code: [m] flag bits (RF | NEW_DT | REUSE | EMIT) of each macro-step.
        adc_macro: [n_adc] macro-step index of each ADC sample, in the order of ``adc``.
        slot: [m] flat slot ``bundle * BUNDLE + position`` of each macro-step.
        bundle_code: [n_bundles] code of each bundle (its first macro-step's, | RUN).
        block: [m] index of the class-map block of an AFFINE macro-step (0 elsewhere).
    """

    group: np.ndarray
    first: np.ndarray
    code: np.ndarray
    adc_macro: np.ndarray
    slot: np.ndarray
    bundle_code: np.ndarray
    block: np.ndarray

    @property
    def n_macro(self) -> int:
        return int(self.first.shape[0])

    @property
    def n_bundles(self) -> int:
        return int(self.bundle_code.shape[0])


def _concrete_numpy(x):
    return np.asarray(x) if is_concrete(x) else None


def _rf_free(rf, n):
    """Concrete bool mask of RF-free steps (all False when rf is traced)."""
    r = _concrete_numpy(rf)
    if r is None:
        return np.zeros(n, bool)
    return r == 0


def _groups(free, adc_mask, blocks):
    """Macro-step index per step: RF steps alone; free runs cut after ADC steps and at RF;
    each class-map block [a, b) one macro-step."""
    n = free.shape[0]
    # a new group starts at step i unless steps i-1 and i are both free and i-1 has no ADC
    start = np.ones(n, bool)
    start[1:] = ~(free[1:] & free[:-1] & ~adc_mask[:-1])
    for a, b in blocks:
        start[a + 1 : b] = False
        if b < n:
            start[b] = True
    return np.cumsum(start) - 1, np.nonzero(start)[0]


def _sums(values, first):
    """Sums of ``values`` over the macro-steps starting at ``first`` (contiguous groups)."""
    return np.add.reduceat(values, first, axis=0)


def build_program(rf, gradient, dt, idx, blocks=()) -> Program:
    """Plan the macro-steps of a sequence (see the module docstring).

    Args:
        rf: [n] complex RF (concrete or traced); gradient: [n, 3]; dt: [n];
        idx: concrete ADC step indices (or None); blocks: step ranges [a, b) applied as
            class maps (``_affine_maps``), each one AFFINE macro-step.
    Returns:
        :class:`Program`.
    """
    n = rf.shape[0]
    adc_mask = np.zeros(n, bool)
    if idx is not None and len(idx):
        adc_mask[np.asarray(idx)] = True
    free = _rf_free(rf, n)
    group, first = _groups(free, adc_mask, blocks)
    m = first.shape[0]
    block = np.zeros(m, np.int32)
    is_affine = np.zeros(m, bool)
    for i, (a, _) in enumerate(blocks):
        block[group[a]] = i
        is_affine[group[a]] = True
    is_free = free[first]
    emit = _sums(adc_mask.astype(np.int64), first) > 0
    g, d = _concrete_numpy(gradient), _concrete_numpy(dt)
    new_dt = np.ones(m, bool)
    reuse = np.zeros(m, bool)
    if g is not None and d is not None:
        dsum = _sums(d, first)
        msum = _sums(g * d[:, None], first)
        same_dt = np.zeros(m, bool)
        same_dt[1:] = dsum[1:] == dsum[:-1]
        new_dt = ~same_dt
        same_m = np.zeros(m, bool)
        same_m[1:] = np.all(msum[1:] == msum[:-1], axis=1)
        reuse[1:] = is_free[1:] & is_free[:-1] & same_m[1:] & same_dt[1:]
    code = (
        np.where(is_free, 0, RF)
        + np.where(new_dt & ~reuse, NEW_DT, 0)
        + np.where(reuse, REUSE, 0)
        + np.where(emit, EMIT, 0)
    ).astype(np.int32)
    code[0] |= NEW_DT
    code[0] &= ~REUSE
    # a class map leaves the carried relaxation factors stale: the next step recomputes them
    code[1:] |= np.where(is_affine[:-1], NEW_DT, 0).astype(np.int32)
    code[is_affine] = AFFINE
    adc_macro = group[np.asarray(idx, dtype=np.int64)] if idx is not None else np.zeros(0, int)
    slot, bundle_code = _bundles(code)
    return Program(
        group.astype(np.int32), first.astype(np.int32), code, adc_macro, slot, bundle_code, block
    )


def _bundles(code):
    """Flat slots of the macro-steps and the bundle codes: a run of L >= 2 consecutive
    REUSE | EMIT steps becomes ceil(L / BUNDLE) RUN bundles, and a run of L >= 2 RF steps of
    one dt (the first may be NEW_DT; no ADC) ceil(L / BUNDLE) RFRUN bundles, the last one
    partly filled (its unused slots have dt = 0, which the engine skips; an RFRUN code
    carries its step count from bit ``COUNT_SHIFT``); every other step is a bundle of
    one."""
    m = code.shape[0]
    kind = np.zeros(m, np.int32)  # 1: readout run, 2: RF run
    kind[code == (REUSE | EMIT)] = 1
    kind[(code & ~NEW_DT) == RF] = 2
    # a new segment starts where the kind changes, and an RF run restarts at NEW_DT
    brk = np.ones(m, bool)
    brk[1:] = (kind[1:] != kind[:-1]) | ((kind[1:] == 2) & ((code[1:] & NEW_DT) > 0))
    seg = np.cumsum(brk) - 1
    seg_start = np.nonzero(brk)[0]
    seg_len = np.diff(np.append(seg_start, m))
    in_bundle = (kind > 0) & (seg_len[seg] >= 2)
    start = ~in_bundle | (((np.arange(m) - seg_start[seg]) % BUNDLE) == 0)
    bundle = np.cumsum(start) - 1
    first_of = np.nonzero(start)[0]
    slot = bundle * BUNDLE + (np.arange(m) - first_of[bundle])
    fc = code[first_of]
    count = np.bincount(bundle, minlength=first_of.shape[0])
    bundle_code = np.where(
        in_bundle[first_of],
        np.where(
            kind[first_of] == 1,
            REUSE | EMIT | RUN,
            RF | RFRUN | (fc & NEW_DT) | (count << COUNT_SHIFT),
        ),
        fc,
    )
    return slot, bundle_code.astype(np.int32)
