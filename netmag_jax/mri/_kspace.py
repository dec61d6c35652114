r"""k-space trajectory of a :class:`Sequence`: ``k = gamma_bar int G dt`` [1/m]."""

from __future__ import annotations

import numpy as np

from ..constants import GAMMA_1H_HZ
from ._sequences import Sequence


def kspace_trajectory(seq: Sequence, reset_on_rf=True):
    """k-space position ``gamma_bar int G dt`` [1/m] at the ADC samples, [n_adc, 3].

    The integral restarts at the centre of every RF pulse (excitation) when ``reset_on_rf``.
    """
    g = np.asarray(seq.gradient)
    dt = np.asarray(seq.dt)
    rf_on = np.abs(np.asarray(seq.rf)) > 0
    k = np.zeros(3)
    out = np.zeros((len(dt), 3))
    i = 0
    n = len(dt)
    while i < n:
        if reset_on_rf and rf_on[i]:
            j = i
            while j < n and rf_on[j]:
                j += 1
            # restart at the pulse centre: keep only the second half of the pulse's moment
            tc = 0.5 * dt[i:j].sum()
            k = np.zeros(3)
            t = 0.0
            for s in range(i, j):
                lo, hi = t, t + dt[s]
                k = k + GAMMA_1H_HZ * g[s] * max(0.0, hi - max(lo, tc))
                out[s] = k
                t = hi
            i = j
            continue
        k = k + GAMMA_1H_HZ * g[i] * dt[i]
        out[i] = k
        i += 1
    return out[np.asarray(seq.adc, int)]
