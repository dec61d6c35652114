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

Blocks that repeat share their maps. Two blocks with bitwise equal gradients and dt whose
RF differ by a global phase, ``rf_i = rf_j exp(i phi)`` (RF spoiling, bSSFP phase cycling,
the identical refocusing pulses of a TSE train; checked to 8 eps of the largest sample),
have conjugate maps: the Bloch equation commutes with rotations about z (the gradient and
off-resonance fields are along z), so with ``R = R_z(phi)``

.. math:: \Phi_i = R\,\Phi_j\,R^{\mathsf T},\qquad \mathbf c_i = R\,\mathbf c_j,

exact to the rounding of the RF samples; only the distinct blocks are stepped.

Planned concretely before tracing: the spin parameters, the RF zero pattern, the gradient
moments and dt must be concrete (otherwise, or when classes are not fewer than a quarter of
the spins, every spin is stepped as usual). Since everything a plan depends on is concrete,
a planned simulation is never differentiated through the plan (the phases are constants).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
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
        source: [n_blocks] index of the block whose map each block reuses (itself for the
            distinct blocks). phase: [n_blocks] global RF phase [rad] of each block relative
            to its source.
    """

    blocks: tuple
    u: np.ndarray
    cls: np.ndarray
    reps: np.ndarray
    source: tuple = ()
    phase: tuple = ()


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


def _same_up_to_phase(r, q, tol):
    """The global phase phi [rad] with ``r = q exp(i phi)`` to within ``tol``, or None."""
    z = complex(np.vdot(q, r))
    if z == 0:
        return 0.0 if not np.any(r) and not np.any(q) else None
    phi = float(np.angle(z))
    return phi if np.max(np.abs(r - q * np.exp(1j * phi))) <= tol else None


def repeated_blocks(rf, g, dt, blocks):
    """(source, phase) of :class:`AffinePlan`: each block's first earlier block with bitwise
    equal gradient and dt and RF equal up to a global phase (8 eps of the largest sample)."""
    eps = float(np.finfo(rf.dtype).eps)
    groups: dict = {}
    source, phase = [], []
    for i, (a, b) in enumerate(blocks):
        key = (b - a, g[a:b].tobytes(), dt[a:b].tobytes())
        r = rf[a:b].astype(np.complex128)
        tol = 8 * eps * float(np.max(np.abs(r)))
        for j in groups.get(key, ()):
            phi = _same_up_to_phase(r, rf[blocks[j][0] : blocks[j][1]].astype(np.complex128), tol)
            if phi is not None:
                source.append(j)
                phase.append(phi)
                break
        else:
            groups.setdefault(key, []).append(i)
            source.append(i)
            phase.append(0.0)
    return tuple(source), tuple(phase)


def _row_classes(key, limit):
    """(first row of each class, class of each row) of the distinct rows of ``key`` [N, c],
    classes in lexicographic order (as ``np.unique(key, axis=0)``, but by 1-D sorts of
    per-column codes, several times faster; codes are re-compressed after each column so
    they stay below N); None as soon as the classes of the first columns reach ``limit``
    (adding columns only splits classes: distinct positions reject after one sort)."""
    codes = None
    for col in key.T:
        _, inv = np.unique(col, return_inverse=True)
        inv = inv.reshape(-1)
        if codes is None:
            codes = inv
        else:
            _, codes = np.unique(codes * (int(inv.max()) + 1) + inv, return_inverse=True)
        if int(codes.max()) + 1 >= limit:
            return None
    assert codes is not None
    _, reps, cls = np.unique(codes.reshape(-1), return_index=True, return_inverse=True)
    return reps, cls


def _host_rows(x, rows):
    """``x[rows]`` as NumPy. An array on an accelerator is gathered there, so only the rows
    reach the host; one on the CPU (or NumPy) is indexed in NumPy, which avoids JAX's
    per-call indexing dispatch (~1 ms)."""
    if isinstance(x, jax.Array) and any(d.platform != "cpu" for d in x.devices()):
        return np.asarray(x[rows])
    return np.asarray(x)[rows]


def _surely_distinct(positions, u) -> bool:
    """True when the projections ``positions @ u`` of a sample of ``s = 8 sqrt(N)`` spins
    (fixed seed) repeat fewer than 32 values, which rules out a class plan (fewer than N/4
    classes) with overwhelming probability: with D < N/4 classes two sampled spins share a
    class with probability ``sum_i p_i^2 >= 1/D > 4/N`` per pair, so at least
    ``2 s^2 / N = 128`` repeats are expected (distinct float32 positions repeat about one
    value by rounding). A wrong answer costs only speed (per-spin stepping is exact too).
    Only the sampled rows are projected (and, from a GPU, copied to the host), so planning
    for 10^6-10^7 distinct spins (a GPU batch) takes about a millisecond; for N < 4096 the
    full classification is cheap and this returns False."""
    n = positions.shape[0]
    s = 8 * math.isqrt(n)
    if 8 * s > n:
        return False
    rows = np.random.default_rng(0).choice(n, s, replace=False)
    sample = _host_rows(positions, rows).astype(np.float64) @ u
    return s - np.unique(sample).size < 32


def plan_affine(rf, gradient, dt, idx, spins) -> AffinePlan | None:
    """Find the RF blocks and spin classes that class maps make cheaper (or None)."""
    leaves = (rf, gradient, dt, spins.positions, spins.T1, spins.T2, spins.b1)
    if not all(is_concrete(x) for x in leaves + (spins.off_resonance, spins.chemical_shift)):
        return None
    rf, g, dtn = np.asarray(rf), np.asarray(gradient), np.asarray(dt)
    adc_mask = np.zeros(rf.shape[0], bool)
    if idx is not None and len(idx):
        adc_mask[np.asarray(idx)] = True
    runs = _rf_runs(rf, adc_mask)
    if not runs:
        return None
    u = None
    blocks = []
    directions: dict = {}  # by gradient content: repeated blocks are checked once
    for a, b in runs:
        gk = g[a:b].tobytes()
        if gk not in directions:
            directions[gk] = _direction(g[a:b].astype(np.float64))
        d = directions[gk]
        if d is None:
            continue
        if u is None:
            u = d
        if abs(abs(float(d @ u)) - 1.0) < 1e-12:
            blocks.append((a, b))
    if u is None or not blocks:
        return None
    if _surely_distinct(spins.positions, u):
        return None
    proj = np.asarray(spins.positions, np.float64) @ u
    key = np.stack(
        [
            proj,
            # equal (off-resonance, chemical shift) give equal frequencies (B0 is common)
            np.asarray(spins.off_resonance, np.float64),
            np.asarray(spins.chemical_shift, np.float64),
            np.asarray(spins.b1, np.float64),
            np.asarray(spins.T1, np.float64),
            np.asarray(spins.T2, np.float64),
        ],
        axis=1,
    )
    classes = _row_classes(key, limit=-(-spins.n // 4))
    if classes is None:
        return None
    reps, cls = classes
    source, phase = repeated_blocks(rf, g, dtn, blocks)
    cls = cls.reshape(-1).astype(np.int32)
    return AffinePlan(tuple(blocks), u, cls, reps.astype(np.int32), source, phase)


def conjugate_maps(maps, source, phase):
    """[n_blocks, K, 12] maps of every block from those of the distinct blocks.

    Args:
        maps: {block index: [K, 12] map (Phi row-major, then c)} of the distinct blocks.
        source, phase: of :class:`AffinePlan`.
    Returns:
        ``Phi_i = R Phi_j R^T``, ``c_i = R c_j`` with ``R = R_z(phase_i)``, ``j = source_i``.
    """
    src = jnp.stack([maps[i] for i in source])  # [n_blocks, K, 12]
    K = src.shape[1]
    phi, cvec = src[..., :9].reshape(-1, K, 3, 3), src[..., 9:, None]
    c, s = np.cos(np.asarray(phase)), np.sin(np.asarray(phase))
    rz = np.zeros((len(source), 1, 3, 3))
    rz[:, 0, 0, 0], rz[:, 0, 0, 1], rz[:, 0, 1, 0], rz[:, 0, 1, 1] = c, -s, s, c
    rz[:, 0, 2, 2] = 1.0
    rz = jnp.asarray(rz, src.dtype)
    phi = rz @ phi @ jnp.swapaxes(rz, -1, -2)
    cvec = (rz @ cvec)[..., 0]
    return jnp.concatenate([phi.reshape(-1, K, 9), cvec], axis=-1)


def compose_maps(maps):
    """[..., P, K, 12] maps of P consecutive pieces of a block (first piece first) ->
    [..., K, 12] map of the whole block: ``(Phi2, c2) o (Phi1, c1) = (Phi2 Phi1,
    Phi2 c1 + c2)``, pairwise in ceil(log2 P) rounds (padded with identity maps)."""
    P = maps.shape[-3]
    pad = (1 << max(P - 1, 0).bit_length()) - P
    phi = maps[..., :9].reshape(maps.shape[:-1] + (3, 3))
    c = maps[..., 9:]
    if pad:
        eye = jnp.eye(3, dtype=maps.dtype)
        eye = jnp.broadcast_to(eye, phi.shape[:-4] + (pad,) + phi.shape[-3:])
        phi = jnp.concatenate([phi, eye], axis=-4)
        c = jnp.concatenate([c, jnp.zeros(c.shape[:-3] + (pad,) + c.shape[-2:], c.dtype)], -3)
    while phi.shape[-4] > 1:
        first, second = phi[..., 0::2, :, :, :], phi[..., 1::2, :, :, :]
        c = (second @ c[..., 0::2, :, :, None])[..., 0] + c[..., 1::2, :, :]
        phi = second @ first
    phi, c = phi[..., 0, :, :, :], c[..., 0, :, :]
    return jnp.concatenate([phi.reshape(phi.shape[:-2] + (9,)), c], axis=-1)
