"""Export of a designed pulse to the Pulseq shape format (magnitude, phase, amplitude in Hz).

The compression is Pulseq's (derivative, then runs of equal values written as v, v,
count - 2); ``netmag_jax.mri.decompress_shape`` (the Pulseq reader's) inverts it.
"""

from __future__ import annotations

import numpy as np

from ...constants import GAMMA_1H_HZ


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


def compress_shape(w, quantum=1e-9):
    """Pulseq shape compression: derivative, then runs of equal values as v, v, count - 2.

    Args:
        w: shape samples, shape (n,); quantum: quantisation step of the cumulative sum.

    Returns:
        (num_samples, compressed values as a float array).
    """
    w = np.asarray(w, float).ravel()
    q = np.round(w / quantum)
    d = np.diff(np.concatenate([[0.0], q])) * quantum
    out = []
    i = 0
    while i < d.size:
        j = i
        while j + 1 < d.size and d[j + 1] == d[i]:
            j += 1
        run = j - i + 1
        if run >= 2:
            out += [d[i], d[i], float(run - 2)]
        else:
            out.append(d[i])
        i = j + 1
    return w.size, np.asarray(out)
