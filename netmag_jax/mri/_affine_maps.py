r"""RF blocks as exact affine maps shared by classes of spins.

Every step of the Bloch engine is affine in ``(M, M0)``: rotation, then
``Mxy E2``, ``Mz + (Mz - M0)(E1 - 1)``. A block of steps is therefore exactly

.. math:: \mathbf M \mapsto \Phi\,\mathbf M + M_0\,\mathbf c,

with Phi (3 x 3) and c (3) the block applied to the unit vectors (M0 = 0) and to M = 0
(M0 = 1). When every gradient moment of the block is parallel to one unit vector u, a spin's
block depends only on ``(u . r, df, b1, T1, T2)``; spins equal in these (one class per
distinct slice position and tissue for a slice-selective pulse on a 2D phantom) share Phi
and c, computed once by stepping 4 pseudo-spins per class. Applying it is a 3 x 3
multiply-add per spin, whatever the pulse length.

Planned concretely before tracing: the spin parameters, the RF zero pattern, the gradient
moments and dt must be concrete (otherwise, or when classes are not fewer than a quarter of
the spins, every spin is stepped as usual).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import is_concrete

#: RF blocks shorter than this many steps are stepped per spin
MIN_STEPS = 8


class AffinePlan(NamedTuple):
    """Blocks handled by class maps.

    Attributes:
        blocks: [(start, stop)] original step ranges of the blocks (RF steps, no ADC).
        u: [3] common unit direction of the blocks' gradient moments.
        cls: [N] class index of each spin. reps: [K] index of one spin per class.
    """

    blocks: tuple
    u: np.ndarray
    cls: np.ndarray
    reps: np.ndarray


def _rf_runs(rf, adc_mask):
    """Maximal runs [a, b) of RF steps (rf != 0) without ADC samples, >= MIN_STEPS long."""
    on = np.concatenate([[False], (rf != 0) & ~adc_mask, [False]])
    edges = np.nonzero(np.diff(on.astype(np.int8)))[0]
    return [
        (int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= MIN_STEPS
    ]


def _direction(g):
    """Unit vector u with every row of g parallel to u (exactly), or None."""
    nz = g[np.any(g != 0, axis=1)]
    if nz.shape[0] == 0:
        return np.array([0.0, 0.0, 1.0])
    u = nz[0] / np.linalg.norm(nz[0])
    resid = nz - np.outer(nz @ u, u)
    ok = np.all(np.abs(resid) <= 1e-12 * np.linalg.norm(nz, axis=1)[:, None])
    return u if ok else None


def plan_affine(rf, gradient, dt, idx, spins) -> AffinePlan | None:
    """Find the RF blocks and spin classes that class maps make cheaper (or None)."""
    leaves = (rf, gradient, dt, spins.positions, spins.T1, spins.T2, spins.b1)
    if not all(is_concrete(x) for x in leaves + (spins.off_resonance, spins.chemical_shift)):
        return None
    rf, g = np.asarray(rf), np.asarray(gradient, np.float64)
    adc_mask = np.zeros(rf.shape[0], bool)
    if idx is not None and len(idx):
        adc_mask[np.asarray(idx)] = True
    runs = _rf_runs(rf, adc_mask)
    if not runs:
        return None
    u = None
    blocks = []
    for a, b in runs:
        d = _direction(g[a:b])
        if d is None:
            continue
        if u is None:
            u = d
        if abs(abs(float(d @ u)) - 1.0) < 1e-12:
            blocks.append((a, b))
    if u is None or not blocks:
        return None
    proj = np.asarray(spins.positions, np.float64) @ u
    key = np.stack(
        [
            proj,
            np.asarray(spins.frequency_offset(), np.float64),
            np.asarray(spins.b1, np.float64),
            np.asarray(spins.T1, np.float64),
            np.asarray(spins.T2, np.float64),
        ],
        axis=1,
    )
    _, reps, cls = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if 4 * reps.shape[0] >= spins.n:
        return None
    return AffinePlan(tuple(blocks), u, cls.reshape(-1).astype(np.int32), reps.astype(np.int32))
