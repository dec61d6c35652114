r"""k-space trajectory: ``k(t) = gamma_bar int G dt`` [1/m] since the last excitation.

As pypulseq's ``Sequence.calculate_kspace``: at the centre of an excitation pulse k restarts
at 0, at the centre of a refocusing pulse it is negated (``k -> -k``), and other pulses
(inversion, saturation, preparation) leave it alone. The pulse centre is pypulseq's: the
file's stored centre (v1.5) or the middle of the samples at the peak magnitude.

For a :class:`PulseqFile` the RF uses and centres come from the file (v1.3/1.4 files, which
store no use, by pypulseq's ``detect_rf_use`` rule) and every centre is a step edge, so k is
exact. A bare :class:`Sequence` carries no use: each run of non-zero RF steps is one pulse,
an excitation if its flip angle is below 90.01 degrees and a refocusing pulse otherwise (the
same rule), centred at its peak.
"""

from __future__ import annotations

import numpy as np

from ..constants import GAMMA_1H_HZ
from ._pulseq import PulseqFile
from ._pulseq_convert import sequence_arrays
from ._sequences import Sequence


def _apply_events(moment_end, dt, events, adc):
    """k at the ends of the steps ``adc`` from the running moment ``moment_end`` [m, 3].

    ``events`` are ``(step, fraction, kind)`` sorted in time: the pulse centre lies at
    ``fraction`` of step ``step``; kind "excitation" restarts k, "refocusing" negates it.
    """
    m_event, k_after, steps = [], [], []
    k_prev_after, m_prev = np.zeros(3), np.zeros(3)
    for step, frac, kind in events:
        if kind not in ("excitation", "refocusing"):
            continue
        before = moment_end[step - 1] if step > 0 else np.zeros(3)
        grad_step = moment_end[step] - before if step >= 0 else np.zeros(3)
        m = before + frac * grad_step
        k_before = m - m_prev + k_prev_after
        k_prev_after = np.zeros(3) if kind == "excitation" else -k_before
        m_prev = m
        m_event.append(m)
        k_after.append(k_prev_after)
        steps.append(step)
    k = moment_end[adc].copy()
    if steps:
        j = np.searchsorted(np.asarray(steps), adc, side="right") - 1
        has = j >= 0
        k[has] += np.asarray(k_after)[j[has]] - np.asarray(m_event)[j[has]]
    return k


def _pulse_events(rf, dt):
    """``(step, fraction, kind)`` of each run of non-zero RF in a bare sequence."""
    on = np.abs(rf) > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
    events = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        amp = np.abs(rf[a:b])
        peak = a + np.flatnonzero(amp >= amp.max() * 0.99999)
        t_start = np.concatenate([[0.0], np.cumsum(dt[a:b])])
        t_mid = t_start[peak - a] + 0.5 * dt[peak]
        tc = 0.5 * (t_mid[0] + t_mid[-1])
        step = a + int(np.searchsorted(t_start[1:], tc, side="left"))
        frac = (tc - t_start[step - a]) / dt[step]
        flip_deg = np.degrees(abs(np.sum(rf[a:b] * dt[a:b])) * 2 * np.pi * GAMMA_1H_HZ)
        events.append((step, frac, "excitation" if flip_deg < 90.01 else "refocusing"))
    return events


def kspace_trajectory(source, reset_on_rf=True):
    """k-space position ``gamma_bar int G dt`` [1/m] at the ADC samples, [n_adc, 3].

    Args:
        source: a :class:`Sequence`, or a :class:`PulseqFile` (RF uses and centres from the
            file: exact, as pypulseq's ``calculate_kspace``).
        reset_on_rf: apply the excitation restarts and refocusing negations (module
            docstring); False gives the plain running integral from the sequence start.
    """
    if isinstance(source, PulseqFile):
        a = sequence_arrays(source)
        g, dt, adc = a.gradient, a.dt, a.adc
        events = [(step, 1.0, kind) for step, kind, _ in a.rf_events]
        scale = 1.0  # the file's gradients are gamma_bar G [Hz/m] already
    elif isinstance(source, Sequence):
        g, dt = np.asarray(source.gradient, float), np.asarray(source.dt, float)
        adc = np.asarray(source.adc, np.int64)
        events = _pulse_events(np.asarray(source.rf), dt)
        scale = GAMMA_1H_HZ
    else:
        raise TypeError(f"source must be a Sequence or a PulseqFile, got {type(source)}")
    moment_end = scale * np.cumsum(g * dt[:, None], axis=0)
    if not reset_on_rf:
        return moment_end[adc]
    return _apply_events(moment_end, dt, events, adc)
