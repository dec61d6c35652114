r"""The Bloch engine: piecewise-constant steps, each an exact rotation then exact relaxation.

In the rotating frame (see ``_spins``) the Bloch equation of one isochromat is

.. math::
    \dot{\mathbf M} = \gamma\,\mathbf M\times\mathbf B_\mathrm{eff}
      - \frac{M_x\hat x + M_y\hat y}{T_2} - \frac{M_z - M_0}{T_1}\hat z,\qquad
    \mathbf B_\mathrm{eff} = \big(b_1\,\mathrm{Re}\,B_1,\; b_1\,\mathrm{Im}\,B_1,\;
      \mathbf G\cdot\mathbf r + 2\pi\,\Delta f/\gamma\big),

with gamma = ``GAMMA_1H`` > 0, so the precession is left-handed (clockwise about B): an RF
pulse along +x tips +z towards +y, and an off-resonance ``df > 0`` makes
``Mxy = Mx + i My`` turn as ``exp(-i 2 pi df t)``; with ``k = gamma/(2 pi) int G dt`` the
signal is ``s(k) = int m(r) exp(-i 2 pi k . r) dr`` (the usual MRI Fourier convention).

Each step of length ``dt`` holds B_eff constant and applies (i) the exact rotation by the
rotation vector ``w = -gamma B_eff dt`` (Rodrigues' formula of ``netmag_jax._numerics.rotate``,
written in ``theta^2 = |w|^2`` with a series near 0 so that values and all derivatives are
finite at zero field), then
(ii) the exact relaxation ``Mxy *= exp(-dt/T2)``, ``Mz = M0 + (Mz - M0) exp(-dt/T1)``.
This is the usual first-order splitting (error O(dt^2 |B| / T) per step, zero when the
rotation is about z since z-rotations commute with relaxation).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import (
    check_ndim,
    check_option,
    check_static_positive,
    is_concrete,
    require,
    shape_of,
)
from .._dtypes import complex_dtype
from .._numerics import rotation_coefficients
from ..constants import GAMMA_1H
from ._affine_maps import plan_affine
from ._fast import prepare, run_fast
from ._kernels import emit, empty_signal, gather_signal, rodrigues, spin_params
from ._segments import RUN, build_program
from ._spins import Spins


def _step(state, inputs, spin):
    """One step for all spins; ``state`` = (Mx, My, Mz) each [N]."""
    mx, my, mz = state
    rf_re, rf_im, g, dt = inputs
    x, y, z, b1, omega_off, r1, r2, m0 = spin
    gdt = GAMMA_1H * dt
    wx = -gdt * b1 * rf_re
    wy = -gdt * b1 * rf_im
    wz = -dt * (GAMMA_1H * (g[0] * x + g[1] * y + g[2] * z) + omega_off)
    A, B, C = rotation_coefficients(wx * wx + wy * wy + wz * wz)
    nx, ny, nz = rodrigues(mx, my, mz, wx, wy, wz, A, B, C)
    e2 = jnp.exp(-dt * r2)
    e1m1 = jnp.expm1(-dt * r1)  # E1 - 1, accurate for dt << T1
    return (nx * e2, ny * e2, nz + (nz - m0) * e1m1)


class BlochResult(eqx.Module):
    """Output of :func:`simulate`.

    Attributes:
        M: [N, 3] final magnetization (same unit as ``Spins.M0``).
        signal: received complex signal at the ADC samples: [n_adc] without coils,
            [n_coils, n_adc] with coil sensitivities; ``None`` without ADC.
        M_adc: [n_adc, N, 3] magnetization at the ADC samples when ``record_magnetization``.
    """

    M: jax.Array
    signal: jax.Array | None = None
    M_adc: jax.Array | None = None


def _adc_indices(adc, n):
    """Concrete ADC sample indices (sample = end of step i) from a bool mask or an int list."""
    if adc is None:
        return None
    if not is_concrete(adc):
        raise ValueError("adc must be concrete (a NumPy bool mask or index list), not traced")
    a = np.asarray(adc)
    if a.dtype == bool:
        if a.shape != (n,):
            raise ValueError(f"adc mask must have shape ({n},), got {a.shape}")
        return np.nonzero(a)[0]
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError("adc must be a bool mask [n] or a 1-D array of integer step indices")
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(
            f"ADC sample indices outside the sequence (0..{n - 1}): min {a.min()}, max {a.max()}"
        )
    return a


def _cast(x, dtype):
    """``x`` as ``dtype``; a concrete value stays concrete (NumPy), also under ``jax.jit``,
    where a JAX cast of a closed-over waveform would stage it as a tracer and hide the
    sequence's structure (zero RF, repeated gradients) from the fast engine's planner."""
    if is_concrete(x):
        return np.asarray(x).astype(dtype)
    return jnp.asarray(x).astype(dtype)


def check_waveforms(rf, gradient, dt, dtype):
    """Shapes checked and cast before tracing: (rf [n] complex, gradient [n, 3], dt [n]).

    Concrete inputs come back as NumPy arrays (see ``_cast``), traced ones as JAX arrays.

    Args:
        rf: [n] B1 [T] (real is B1x); gradient: [n, 3] T/m; dt: [n] or scalar s;
        dtype: the real dtype of the simulation (rf gets the matching complex dtype).
    """
    check_ndim("rf", rf, 1)
    n = shape_of(rf)[0]
    if n == 0:
        raise ValueError("the sequence must have at least one step")
    rf = _cast(rf, complex_dtype(dtype))
    gradient = _cast(gradient, dtype)
    if gradient.shape != (n, 3):
        raise ValueError(f"gradient must have shape ({n}, 3) to match rf, got {gradient.shape}")
    dt = _cast(dt, dtype)
    if dt.ndim == 0:
        dt = np.full((n,), dt) if isinstance(dt, np.ndarray) else jnp.broadcast_to(dt, (n,))
    if dt.shape != (n,):
        raise ValueError(f"dt must be a scalar or have shape ({n},) to match rf, got {dt.shape}")
    return rf, gradient, dt


def _check_receive(coils, adc_phase, M_init, idx, n, spins):
    """Coil sensitivities [n_coils, N], receiver phase [n_adc] and initial M [N, 3], cast."""
    N, dtype = spins.n, spins.dtype
    if coils is not None:
        coils = jnp.asarray(coils).astype(complex_dtype(dtype))
        if coils.ndim != 2 or coils.shape[1] != N:
            raise ValueError(f"coils must have shape (n_coils, {N}), got {coils.shape}")
    if adc_phase is not None:
        if idx is None:
            raise ValueError("adc_phase given without adc")
        adc_phase = jnp.asarray(adc_phase).astype(dtype)
        if adc_phase.shape == (n,):
            adc_phase = adc_phase[idx]
        elif adc_phase.shape != (len(idx),):
            raise ValueError(
                f"adc_phase must have shape ({n},) or ({len(idx)},), got {adc_phase.shape}"
            )
    if M_init is not None:
        M_init = jnp.asarray(M_init).astype(dtype)
        if M_init.shape != (N, 3):
            raise ValueError(f"M_init must have shape ({N}, 3), got {M_init.shape}")
    return coils, adc_phase, M_init


def _auto_chunk(n):
    return int(math.ceil(math.sqrt(n))) if n > 128 else None


#: largest number of spins per chunk of the fast engine (time scan inside each chunk) for a
#: program with readout runs (memory-bound inner loops): the state and spin parameters (~16
#: floats per spin) stay in a core's L2 cache (benchmarks/bench_bloch.py, 1e5-spin readout,
#: 2 MB L2: chunks of 8e3-2e4 spins within 3%, 2.5e4 30% slower, all at once 2.5x slower)
SPIN_CHUNK = 16384
#: the same for a program without readout runs (RF steps, compute-bound: the fixed cost per
#: bundle and chunk dominates; 2e4-spin SLR pulse: 2 chunks 10% slower than one, 3 chunks 25%)
SPIN_CHUNK_RF = 32768


def _auto_spin_chunk(n: int, has_runs: bool) -> int | None:
    """Equal chunks of at most ~``SPIN_CHUNK`` (``SPIN_CHUNK_RF`` without readout runs)
    spins: ``ceil(n / ceil(n / limit))`` rounded up to a multiple of 128, so the zero padding
    is < 128 spins per chunk (a fixed chunk of 32768 padded 1e5 spins to 131072). On a GPU
    (JAX's default backend not the CPU) all spins at once (None): chunks that fit a CPU
    core's cache leave a GPU idle (benchmarks/gpu_bloch.py, H200, 256-sample readout:
    1e5 spins 2.0e9 spin-steps/s in chunks vs 8.4e9 at once, 1e6 spins 2.6e9 vs 5.6e10)."""
    if jax.default_backend() != "cpu":
        return None
    limit = SPIN_CHUNK if has_runs else SPIN_CHUNK_RF
    size = -(-n // max(1, -(-n // limit)))
    return -(-size // 128) * 128


def simulate(
    rf,
    gradient,
    dt,
    spins: Spins,
    adc=None,
    M_init=None,
    *,
    coils=None,
    adc_phase=None,
    checkpoint="auto",
    record_magnetization=False,
    method="fast",
    spin_chunk="auto",
    class_maps=True,
    progress=False,
) -> BlochResult:
    r"""Simulate the Bloch equation for piecewise-constant RF and gradient waveforms.

    (Long because this docstring documents every option of the public engine; the body is
    input checks and the dispatch between the two engines.)

    Step i lasts ``dt[i]``, with complex RF ``rf[i]`` (B1x + i B1y [T], rotating frame) and
    gradient ``gradient[i]`` [T/m]; the step is an exact rotation about
    ``B_eff = (b1 Re rf, b1 Im rf, G.r + 2 pi df/gamma)`` by ``-gamma |B_eff| dt`` followed by
    exact T1/T2 relaxation (module docstring). ADC sample ``i`` is taken at the end of step i.
    The demodulated signal of coil c is

    .. math:: s_c(t_i) = e^{-i\phi_i}\sum_{j} C_{cj}\,(M_{x,j} + i M_{y,j})(t_i),

    with ``C`` the coil sensitivities and ``phi_i`` the receiver phase (RF spoiling).
    Differentiable w.r.t. rf, gradient, dt and every field of ``spins``. Long sequences
    are split into ~sqrt(n) checkpointed chunks so reverse-mode memory is O(sqrt(n) N).
    Precision: float32 agrees with float64 to ~1e-5 M0 over hundreds of steps (tested).

    ``method="fast"`` (default) first merges every run of RF-free steps without an ADC
    sample into one exact step and then applies each step by its cheapest exact rule (a
    complex multiply per spin for RF-free steps, reused phasors under a constant gradient,
    series Rodrigues coefficients for small rotations; see ``_segments`` and ``_fast``). It
    needs the zero pattern of ``rf`` to be concrete to merge (a traced ``rf`` runs every step
    as an RF step); waveforms that a ``jax.jit``-ed function closes over stay concrete, so
    jitting a simulation over its spins (batch evaluation, fitting T1/T2 maps) keeps the
    merged program. ``method="reference"`` applies the full rotation at every step, as
    written in the module docstring; both agree to rounding (tested).

    Args:
        rf: [n] complex B1 [T] (a real array is taken as B1x).
        gradient: [n, 3] T/m.
        dt: [n] s (or a scalar for all steps), > 0 (checked at run time).
        spins: :class:`Spins` with N isochromats.
        adc: None, a bool mask [n], or integer step indices (concrete).
        M_init: [N, 3] initial magnetization; default equilibrium (0, 0, M0).
        coils: optional [n_coils, N] complex receive sensitivities (finite, checked at run
            time).
        adc_phase: optional receiver phase [rad], [n] (per step) or [n_adc] (finite).
        checkpoint: "auto" (checkpointed chunks of ceil(sqrt(n)) steps when n > 128: reverse
            mode stores O(sqrt(n) N) and is faster, being memory-bound), None/False (plain
            scan, ~1.5x faster forward-only) or an int chunk length.
        record_magnetization: also return M at the ADC samples ([n_adc, N, 3]).
        method: "fast" (default) or "reference".
        spin_chunk: fast engine only: spins per chunk (the time scan runs inside each chunk,
            ``lax.map`` over chunks); "auto" = equal chunks of at most ~``SPIN_CHUNK``
            spins (``SPIN_CHUNK_RF`` without readout runs; ``_auto_spin_chunk``) on the
            CPU and all spins at once on a GPU, None = all spins at once.
        class_maps: fast engine only: apply RF blocks (>= 8 steps, gradient moments along
            one direction) as exact affine maps shared by spins of equal (position along
            the gradient, off-resonance, b1, T1, T2) when such classes are fewer than a
            quarter of the spins and everything is concrete (``_affine_maps``).
        progress: fast engine only: print ``Bloch simulation: k/n chunks of steps`` on
            stderr as the checkpointed chunks of steps complete (long simulations).
    Returns:
        :class:`BlochResult` (``M`` [N, 3], ``signal``, ``M_adc``).
    """
    if not isinstance(spins, Spins):
        raise TypeError("spins must be a netmag_jax.mri.Spins")
    check_option("method", method, ("fast", "reference"))
    rf, gradient, dt = check_waveforms(rf, gradient, dt, spins.dtype)
    n = rf.shape[0]
    idx = _adc_indices(adc, n)
    coils, adc_phase, M_init = _check_receive(coils, adc_phase, M_init, idx, n, spins)
    record = bool(record_magnetization)
    if method == "fast":
        if spin_chunk != "auto" and spin_chunk is not None:
            check_static_positive("spin_chunk", spin_chunk)
            spin_chunk = int(spin_chunk)
        plan = plan_affine(rf, gradient, dt, idx, spins) if class_maps else None
        program = build_program(rf, gradient, dt, idx, () if plan is None else plan.blocks)
        if spin_chunk == "auto":
            spin_chunk = _auto_spin_chunk(spins.n, bool(np.any(program.bundle_code & RUN)))
        arrays, static = prepare(
            program, checkpoint, idx is None, spin_chunk, record, plan, bool(progress)
        )
        M, sig, M_adc = run_fast(
            rf, gradient, dt, spins, M_init, coils, adc_phase, arrays, static=static
        )
        return BlochResult(M=M, signal=sig, M_adc=M_adc)
    chunk = _auto_chunk(n) if checkpoint == "auto" else (int(checkpoint) if checkpoint else None)
    if chunk is not None and chunk >= n:
        chunk = None
    return _run(
        rf,
        gradient,
        dt,
        spins,
        M_init,
        coils,
        adc_phase,
        idx=None if idx is None else tuple(int(i) for i in idx),
        chunk=chunk,
        record_magnetization=record,
    )


@eqx.filter_jit
def _run(rf, gradient, dt, spins, M_init, coils, adc_phase, *, idx, chunk, record_magnetization):
    """Jitted reference engine of :func:`simulate` (inputs already shaped and cast)."""
    n = rf.shape[0]
    cdtype = rf.dtype
    rf = require(rf, jnp.isfinite(rf.real) & jnp.isfinite(rf.imag), "rf must be finite")
    gradient = require(gradient, jnp.isfinite(gradient), "gradient must be finite")
    dt = require(dt, jnp.isfinite(dt) & (dt > 0), "dt must be finite and > 0")
    if coils is not None:
        coils = require(coils, jnp.isfinite(coils.real) & jnp.isfinite(coils.imag), "coils")
    if adc_phase is not None:
        adc_phase = require(adc_phase, jnp.isfinite(adc_phase), "adc_phase must be finite")
    if M_init is None:
        zero = jnp.zeros_like(spins.M0)
        state = (zero, zero, spins.M0)
    else:
        M_init = require(M_init, jnp.isfinite(M_init), "M_init must be finite")
        state = (M_init[:, 0], M_init[:, 1], M_init[:, 2])
    spin = spin_params(spins)
    want_out = idx is not None and len(idx) > 0

    # Every step emits the coil sums (N operations, cheap next to the rotation) and the ADC
    # steps are gathered afterwards.
    def body(st, inp):
        st = _step(st, inp, spin)
        if not want_out:
            return st, None
        return st, emit(jax.lax.complex(st[0], st[1]), st[2], coils, record_magnetization)

    xs = (rf.real, rf.imag, gradient, dt)
    if chunk is not None:
        n_chunks = -(-n // chunk)
        pad = n_chunks * chunk - n
        # zero-length steps are the identity (no rotation, exp(0) = 1 relaxation)
        xs = jax.tree_util.tree_map(
            lambda a: jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)]), xs
        )
        xs = jax.tree_util.tree_map(lambda a: a.reshape((n_chunks, chunk) + a.shape[1:]), xs)

        @jax.checkpoint
        def chunk_body(st, xc):
            return jax.lax.scan(body, st, xc)

        state, ys = jax.lax.scan(chunk_body, state, xs)
        if ys is not None:
            ys = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:])[:n], ys)
    else:
        state, ys = jax.lax.scan(body, state, xs)

    M = jnp.stack(state, axis=-1)
    if not want_out:
        empty = None if idx is None else empty_signal(coils, cdtype)
        return BlochResult(M=M, signal=empty, M_adc=None)
    assert ys is not None  # every step emits when there are ADC samples
    sig, M_adc = gather_signal(ys, np.asarray(idx), adc_phase, coils, record_magnetization)
    return BlochResult(M=M, signal=sig, M_adc=M_adc)
