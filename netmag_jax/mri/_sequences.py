r"""Sequences as data: RF, gradients, ADC and delays on a piecewise-constant raster (the
closed-form signals they are checked against live in ``_steady_state``).

A :class:`Sequence` holds the engine's arrays: ``rf`` [n] complex T, ``gradient`` [n, 3] T/m,
``dt`` [n] s, the ADC sample steps ``adc`` (static tuple of step indices; a sample is taken
at the end of its step) and the receiver phase ``adc_phase`` [n_adc] rad. Pulses are
treated as hard pulses lasting ``pulse_duration`` unless a waveform is given; timings (TE,
TI, TR) are measured between pulse centres, as on a scanner.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_static_positive, is_concrete
from .._dtypes import complex_dtype
from .._numerics import cis
from ..constants import GAMMA_1H, GAMMA_1H_HZ
from ._bloch import BlochResult, simulate
from ._spins import Spins


class Sequence(eqx.Module):
    """A pulse sequence on a piecewise-constant raster (see module docstring).

    Attributes:
        rf: [n] complex B1 [T]. gradient: [n, 3] T/m. dt: [n] s.
        adc: static tuple of ADC step indices (sample at the end of each listed step).
        adc_phase: [n_adc] receiver phase [rad] (follows the RF phase for RF spoiling).
    """

    rf: jax.Array
    gradient: jax.Array
    dt: jax.Array
    adc_phase: jax.Array
    adc: tuple = eqx.field(static=True)

    @property
    def n_steps(self) -> int:
        return self.rf.shape[0]

    @property
    def duration(self):
        """Total duration [s]."""
        return jnp.sum(self.dt)

    def adc_times(self):
        """Times of the ADC samples from the sequence start [s], [n_adc].

        Summed in extended precision (NumPy ``longdouble``) and returned as float64 NumPy
        when ``dt`` is concrete, whatever its dtype (a float32 running sum drifts by ~5 us
        over 10 s of 10 us steps); a traced ``dt`` gives the ``jnp.cumsum`` in its dtype.
        """
        idx = np.asarray(self.adc, dtype=np.int64)
        if not is_concrete(self.dt):
            return jnp.cumsum(self.dt)[idx]
        return np.cumsum(np.asarray(self.dt).astype(np.longdouble))[idx].astype(np.float64)

    def simulate(self, spins: Spins, M_init=None, **kwargs) -> BlochResult:
        """Run :func:`simulate` on this sequence (keyword arguments are passed on)."""
        return simulate(
            self.rf,
            self.gradient,
            self.dt,
            spins,
            adc=np.asarray(self.adc, int),
            M_init=M_init,
            adc_phase=self.adc_phase,
            **kwargs,
        )

    def __add__(self, other: Sequence) -> Sequence:
        n = self.n_steps
        return Sequence(
            jnp.concatenate([self.rf, other.rf]),
            jnp.concatenate([self.gradient, other.gradient]),
            jnp.concatenate([self.dt, other.dt]),
            jnp.concatenate([self.adc_phase, other.adc_phase]),
            tuple(self.adc) + tuple(n + i for i in other.adc),
        )


class SequenceBuilder:
    """Append blocks (pulses, gradients, delays, readouts) and build a :class:`Sequence`.

    All durations in s, gradients in T/m ([3] vectors), RF in T. Amplitudes may be traced
    JAX values (differentiable); durations and sample counts must be concrete numbers.
    """

    def __init__(self):
        self._rf, self._g, self._dt, self._adc, self._ph = [], [], [], [], []
        self._n = 0

    def _append(self, rf, g, dt, adc=None, phase=None):
        xp = jnp if any(isinstance(v, jax.Array) for v in (rf, g, dt, phase)) else np
        rf = xp.atleast_1d(xp.asarray(rf))
        k = rf.shape[0]
        self._rf.append(rf)
        self._g.append(xp.broadcast_to(xp.asarray(g), (k, 3)))
        self._dt.append(xp.broadcast_to(xp.asarray(dt), (k,)))
        if adc is not None:
            self._adc.extend(self._n + int(i) for i in adc)
            self._ph.append(
                xp.broadcast_to(xp.asarray(0.0 if phase is None else phase), (len(adc),))
            )
        self._n += k
        return self

    def pulse(self, rf, duration, gradient=(0.0, 0.0, 0.0)):
        """An RF waveform [k] of total ``duration`` [s] (k equal steps), optional gradient [3]."""
        check_static_positive("duration", duration)
        rf = jnp.atleast_1d(rf) if isinstance(rf, jax.Array) else np.atleast_1d(np.asarray(rf))
        return self._append(rf, gradient, duration / rf.shape[0])

    def delay(self, duration, gradient=(0.0, 0.0, 0.0), n_steps: int = 1):
        """Free precession for ``duration`` [s] (under a constant gradient [3] T/m)."""
        if duration < 0:
            raise ValueError(f"negative delay {duration} s: the timing is impossible")
        if duration == 0:
            return self
        return self._append(np.zeros(n_steps), gradient, duration / n_steps)

    def readout(self, n_samples: int, dwell, gradient=(0.0, 0.0, 0.0), phase=0.0):
        """``n_samples`` ADC samples, one at the end of each ``dwell`` [s] step, under
        ``gradient`` [T/m]."""
        check_static_positive("dwell", dwell)
        return self._append(np.zeros(n_samples), gradient, dwell, adc=range(n_samples), phase=phase)

    def build(self) -> Sequence:
        """Concatenate the blocks into a :class:`Sequence` (default float/complex dtypes)."""
        if not self._rf:
            raise ValueError("empty sequence")
        fdt, cdt = jnp.result_type(float), jnp.result_type(complex)

        def cat(parts, dtype):
            if any(isinstance(p, jax.Array) for p in parts):
                return jnp.concatenate([jnp.asarray(p).astype(dtype) for p in parts])
            return jnp.asarray(np.concatenate(parts).astype(dtype))

        ph = cat(self._ph, fdt) if self._ph else jnp.zeros((0,), fdt)
        return Sequence(
            cat(self._rf, cdt), cat(self._g, fdt), cat(self._dt, fdt), ph, tuple(self._adc)
        )


def _hard(flip, duration, phase):
    """Constant B1 [T] of a hard pulse (NumPy when concrete, JAX when traced)."""
    if isinstance(flip, jax.Array) or isinstance(phase, jax.Array):
        amp = jnp.asarray(flip) / (GAMMA_1H * duration)
        if not jnp.issubdtype(amp.dtype, jnp.floating):
            amp = amp.astype(jnp.result_type(float))
        return amp.astype(complex_dtype(amp.dtype)) * cis(jnp.asarray(phase, amp.dtype))
    return np.asarray(flip / (GAMMA_1H * duration) * np.exp(1j * phase))


def fid(flip_angle=math.pi / 2, n_samples=256, dwell=1e-4, pulse_duration=1e-4) -> Sequence:
    """Free induction decay: one hard pulse about x, then ``n_samples`` samples every ``dwell``.

    Sample k is at ``pulse_duration/2 + (k + 1) dwell`` after the pulse centre.
    """
    b = SequenceBuilder()
    b.pulse(_hard(flip_angle, pulse_duration, 0.0), pulse_duration)
    b.readout(n_samples, dwell)
    return b.build()


def spin_echo(
    TE, flip_angle=math.pi / 2, refocus_angle=math.pi, pulse_duration=1e-5, n_samples=1, dwell=1e-5
) -> Sequence:
    r"""Hahn spin echo: 90_x - TE/2 - 180_y - TE/2 - echo (Hahn 1950; CPMG phase).

    Static off-resonance is refocused: echo ``= M0 exp(-TE/T2)`` at TE. The ADC takes
    ``n_samples`` samples spaced by ``dwell`` centred on TE (the middle one, or the one right
    after TE for even n, lies exactly at TE).
    """
    check_static_positive("TE", TE)
    half = TE / 2 - pulse_duration
    pre = (n_samples // 2 + 1) * dwell  # sample n_samples//2 ends exactly at TE
    if half + pulse_duration / 2 - pre < 0:
        raise ValueError("TE too short for the pulses and the readout")
    b = SequenceBuilder()
    b.pulse(_hard(flip_angle, pulse_duration, 0.0), pulse_duration)
    b.delay(half + pulse_duration / 2)
    b.pulse(_hard(refocus_angle, pulse_duration, math.pi / 2), pulse_duration)
    b.delay(half + pulse_duration / 2 - pre)
    b.readout(n_samples, dwell)
    return b.build()


def inversion_recovery(
    TI, flip_angle=math.pi / 2, inversion_angle=math.pi, pulse_duration=1e-5, spoiler=None
) -> Sequence:
    r"""Inversion recovery: 180 - TI - 90 - one ADC sample right after the excitation.

    Signal ``M0 (1 - 2 exp(-TI/T1))`` (ideal pulses, full recovery before the inversion).

    Args:
        TI: inversion time between pulse centres [s]. spoiler: optional (gradient [3] T/m,
            duration s) applied right after the inversion to dephase residual Mxy.
    """
    check_static_positive("TI", TI)
    b = SequenceBuilder()
    b.pulse(_hard(inversion_angle, pulse_duration, 0.0), pulse_duration)
    wait = TI - pulse_duration
    if spoiler is not None:
        g, d = spoiler
        b.delay(d, gradient=g)
        wait -= d
    b.delay(wait)
    b.pulse(_hard(flip_angle, pulse_duration, 0.0), pulse_duration)
    b.readout(1, 1e-9)
    return b.build()


def cpmg(
    n_echoes,
    echo_spacing,
    refocus_angle=math.pi,
    flip_angle=math.pi / 2,
    pulse_duration=1e-5,
    crusher_moment=(0.0, 0.0, 0.0),
) -> Sequence:
    r"""Carr-Purcell-Meiboom-Gill multi-echo train: 90_x, then (refocus_y ... echo) x n_echoes.

    Pulse centres at 0, ESP/2, 3 ESP/2, ...; one ADC sample at each echo (n ESP). Every free
    interval between a pulse and an echo (or between consecutive pulses' halves) carries the
    same gradient moment ``crusher_moment`` [cycles/m, per axis] (``gamma_bar int G dt``),
    which is one EPG 'shift' when the isochromats span one cycle.

    Args:
        n_echoes: number of echoes. echo_spacing: ESP [s]. refocus_angle: [rad] (scalar or
            [n_echoes]). flip_angle: excitation [rad]. pulse_duration: hard pulses [s].
        crusher_moment: [3] cycles/m per half echo spacing.
    """
    check_static_positive("echo_spacing", echo_spacing)
    n_echoes = int(n_echoes)
    if n_echoes < 1:
        raise ValueError("n_echoes must be >= 1")
    half = echo_spacing / 2 - pulse_duration
    if half <= 0:
        raise ValueError("echo_spacing too short for the pulses")
    xp = jnp if isinstance(refocus_angle, jax.Array) else np
    angles = xp.broadcast_to(xp.asarray(refocus_angle), (n_echoes,))
    m = np.asarray(crusher_moment, dtype=float)
    b = SequenceBuilder()
    b.pulse(_hard(flip_angle, pulse_duration, 0.0), pulse_duration)
    b.delay(half, gradient=tuple(m / (GAMMA_1H_HZ * half)))
    g_after = tuple(m / (GAMMA_1H_HZ * (half + pulse_duration / 2)))
    for k in range(n_echoes):
        b.pulse(_hard(angles[k], pulse_duration, math.pi / 2), pulse_duration)
        b.delay(half, gradient=g_after)
        b.readout(1, pulse_duration / 2, gradient=g_after)
        if k < n_echoes - 1:
            b.delay(half + pulse_duration / 2, gradient=g_after)
    return b.build()


def rf_spoiling_phases(n, increment_deg=117.0):
    """Quadratic RF-spoiling phases ``phi_k = increment k (k + 1) / 2`` [rad] (Zur et al. 1991)."""
    k = np.arange(n)
    return np.deg2rad(increment_deg) * k * (k + 1) / 2.0


def gre(
    flip_angle,
    TR,
    TE,
    n_repetitions,
    spoil_increment_deg=117.0,
    spoiler_moment=(0.0, 0.0, 0.0),
    pulse_duration=1e-5,
) -> Sequence:
    r"""Spoiled gradient echo (FLASH) toward steady state: one ADC sample at TE every TR.

    Each TR: hard pulse with phase ``phi_k`` (quadratic RF spoiling, 0 increment = none), ADC
    at TE demodulated with ``phi_k``, then a spoiler gradient of moment ``spoiler_moment``
    [cycles/m per axis, gamma_bar int G dt] for the rest of the TR.
    With complete spoiling the steady state is Ernst's (:func:`ernst_signal`).
    """
    check_static_positive("TR", TR)
    phases = rf_spoiling_phases(int(n_repetitions), spoil_increment_deg)
    rest = TR - TE - pulse_duration / 2
    if TE - pulse_duration / 2 < 0 or rest < 0:
        raise ValueError("TE must lie between the pulse end and TR")
    spoiler = tuple(np.asarray(spoiler_moment, dtype=float) / (GAMMA_1H_HZ * rest))
    b = SequenceBuilder()
    for ph in phases:
        b.pulse(_hard(flip_angle, pulse_duration, ph), pulse_duration)
        b.delay(TE - pulse_duration / 2 - 1e-9)
        b.readout(1, 1e-9, phase=ph)
        b.delay(rest, gradient=spoiler)
    return b.build()


def bssfp(flip_angle, TR, n_repetitions, TE=None, pulse_duration=1e-5, alternate=True) -> Sequence:
    r"""Balanced SSFP: pulses every TR with alternating phase (0, pi, ...), ADC at TE.

    No net gradient per TR (fully balanced), so each isochromat reaches the Freeman-Hill
    steady state (:func:`bssfp_signal`). The ADC phase follows the RF phase.
    """
    check_static_positive("TR", TR)
    TE = TR / 2 if TE is None else TE
    b = SequenceBuilder()
    for k in range(int(n_repetitions)):
        ph = math.pi * (k % 2) if alternate else 0.0
        b.pulse(_hard(flip_angle, pulse_duration, ph), pulse_duration)
        b.delay(TE - pulse_duration / 2 - 1e-9)
        b.readout(1, 1e-9, phase=ph)
        b.delay(TR - TE - pulse_duration / 2)
    return b.build()


def cartesian_gre(
    fov,
    matrix,
    flip_angle=math.pi / 9,  # 20 degrees
    TR=10e-3,
    TE=4e-3,
    dwell=20e-6,
    spoil_increment_deg=117.0,
    pulse_duration=1e-4,
    spoiler_moment=0.0,
    dummy_scans=0,
) -> Sequence:
    r"""2D Cartesian spoiled gradient echo for imaging on a ``matrix = (nx, ny)`` k-space grid.

    Readout along x, phase encoding along y, both centred: sample j of line l is at
    ``k = ((j - nx/2)/fov_x, (l - ny/2)/fov_y)`` [1/m], ``k = gamma_bar int G dt``, and sample
    ``nx/2`` is at TE. Per TR: hard pulse (RF-spoiled phase), prephaser + phase encode
    (rectangular, half the readout long), readout, then a lobe that rewinds x and y and plays
    the z spoiler moment ``spoiler_moment`` [cycles/m] (dephases isochromats spread in z).
    Reconstruct with :func:`reconstruct_cartesian`.

    Args:
        fov: (fov_x, fov_y) [m]. matrix: (nx, ny) (nx even). flip_angle [rad].
        TR, TE, dwell, pulse_duration [s]. spoil_increment_deg: RF spoiling (0 = off).
        spoiler_moment: [1/m]. dummy_scans: repetitions without ADC before the first line.
    """
    fx, fy = fov
    nx, ny = (int(m) for m in matrix)
    T_ro = nx * dwell
    g_ro = 1.0 / (fx * dwell * GAMMA_1H_HZ)  # dk = 1/fov per dwell
    t_pre = T_ro / 2
    g_pre = -(nx / 2 + 1) * dwell * g_ro / t_pre  # sample j = nx/2 at k = 0
    t_free = TE - pulse_duration / 2 - t_pre - (nx / 2 + 1) * dwell
    if t_free < 0:
        raise ValueError("TE too short for the prephaser and half the readout")
    rest = TR - pulse_duration - t_free - t_pre - T_ro
    if rest <= 0:
        raise ValueError("TR too short for the readout and the rewinder")
    b = SequenceBuilder()
    n_tr = ny + int(dummy_scans)
    phases = rf_spoiling_phases(n_tr, spoil_increment_deg)
    gz = spoiler_moment / (GAMMA_1H_HZ * rest)
    gx_rew = -(g_pre * t_pre + g_ro * T_ro) / rest
    for r in range(n_tr):
        line = max(r - int(dummy_scans), 0)
        g_pe = (line - ny / 2) / fy / (GAMMA_1H_HZ * t_pre)
        ph = float(phases[r])
        b.pulse(_hard(flip_angle, pulse_duration, ph), pulse_duration)
        b.delay(t_free)
        b.delay(t_pre, gradient=(g_pre, g_pe, 0.0))
        if r >= int(dummy_scans):
            b.readout(nx, dwell, gradient=(g_ro, 0.0, 0.0), phase=ph)
        else:
            b.delay(T_ro, gradient=(g_ro, 0.0, 0.0))
        b.delay(rest, gradient=(gx_rew, -g_pe * t_pre / rest, gz))
    return b.build()
