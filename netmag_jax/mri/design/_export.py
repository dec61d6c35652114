"""Export of a designed pulse: Pulseq shapes (magnitude, phase, amplitude in Hz) and the
pulse as a :class:`Sequence` for ``mri.write_pulseq`` (``netmag design --seq``).

The compression is Pulseq's (derivative, then runs of equal values written as v, v,
count - 2; ``mri._pulseq_write.compress_shape``); ``netmag_jax.mri.decompress_shape`` (the
Pulseq reader's) inverts it.
"""

from __future__ import annotations

import numpy as np

from ...constants import GAMMA_1H_HZ
from .._pulseq_write import compress_shape as compress_shape
from .._sequences import Sequence, SequenceBuilder


def pulseq_shape(rf, dt):
    """Pulseq RF shapes: magnitude in [0, 1], phase / 2 pi in [0, 1), amplitude in Hz.

    B1(t_k) = (amplitude / gamma_bar) magnitude_k exp(2 pi i phase_k), gamma_bar = 42.577 MHz/T.

    Args:
        rf: complex B1 [T], shape (n,); dt: raster time [s].

    Returns:
        dict: "magnitude", "phase" (arrays (n,)), "amplitude_hz" (gamma_bar max|B1|),
        "dt" [s], "duration" [s], "magnitude_compressed", "phase_compressed" (Pulseq
        run-length-of-derivative compression, see :func:`compress_shape`).
    """
    rf = np.asarray(rf)
    peak = float(np.max(np.abs(rf)))
    if peak == 0.0:
        raise ValueError("the pulse is zero everywhere; nothing to export")
    mag = np.abs(rf) / peak
    phase = np.mod(np.angle(rf) / (2 * np.pi), 1.0)
    phase = np.where(mag > 0, phase, 0.0)
    return {
        "magnitude": mag,
        "phase": phase,
        "amplitude_hz": GAMMA_1H_HZ * peak,
        "dt": float(dt),
        "duration": float(dt) * rf.size,
        "magnitude_compressed": compress_shape(mag),
        "phase_compressed": compress_shape(phase),
    }


def pulse_sequence(result, rewinder=1e-3, readout=1e-5) -> Sequence:
    """A designed pulse as a :class:`Sequence`: the pulse (B1 and slice gradient along z on
    its own steps), a constant z rewinder of ``-rewind`` x the pulse's gradient moment over
    ``rewinder`` [s] (none when the target has ``rewind = 0``), and one ADC sample
    ``readout`` [s] later (so that a simulation of the file returns the transverse
    magnetization after the pulse as its signal).

    Args:
        result: ``DesignResult`` (rf [n] T, gradient scalar or [n] T/m, dt s, target).
        rewinder: rewinder duration [s]. readout: time from the rewinder's end to the sample.
    """
    rf = np.asarray(result.rf)
    g = np.broadcast_to(np.asarray(result.gradient, float), rf.shape)
    dt = float(result.dt)
    b = SequenceBuilder()
    for i in range(rf.size):
        b.pulse(rf[i : i + 1], dt, gradient=(0.0, 0.0, float(g[i])))
    fraction = float(result.target.rewind)
    if fraction != 0.0:
        b.delay(rewinder, gradient=(0.0, 0.0, -fraction * float(np.sum(g)) * dt / rewinder))
    b.readout(1, readout)
    return b.build()
