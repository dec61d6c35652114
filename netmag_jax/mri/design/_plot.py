"""Figure of a designed pulse: |B1|(t), phase(t) and the simulated profile (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..._io import atomic_write
from ._profile import simulate_pulse


def _simulate(result, rf, n_off, n_b1):
    """The pulse ``rf`` on the target's grid, first ``n_off`` off-resonances and ``n_b1``
    B1 scales (None: all)."""
    tg = result.target
    df, s = tg.off_resonance[:n_off], tg.b1_scale[:n_b1]
    return simulate_pulse(rf, result.gradient, result.dt, tg.positions, df, s, rewind=tg.rewind)


def _slice_profile(ax, result, rfs):
    """Profile across positions (first off-resonance and B1 scale) of each pulse."""
    tg = result.target
    for rf, lab, ls in rfs:
        prof = _simulate(result, rf, 1, 1)
        if tg.kind == "mz":
            y, yl = np.asarray(prof["mz"][0, 0]), "M_z"
        elif tg.kind == "beta_sq":
            y, yl = np.abs(np.asarray(prof["beta"][0, 0])) ** 2, "|β|²"
        else:
            y, yl = np.abs(np.asarray(prof["mxy"][0, 0])), "|M_xy|"
        ax.plot(np.asarray(tg.positions) * 1e3, y, ls, label=lab)
        ax.set(xlabel="position [mm]", ylabel=yl, title="simulated profile")
    ax.legend()


def _spectral_profile(ax, result, rfs):
    """Profile across off-resonances, one curve per B1 scale, of each pulse (one position)."""
    tg = result.target
    key = "mz" if tg.kind == "mz" else "mxy"
    for rf, _, ls in rfs:
        y = np.asarray(_simulate(result, rf, None, None)[key][:, :, 0])
        ax.plot(np.asarray(tg.off_resonance), (np.abs(y) if key == "mxy" else y).T, ls)
    ax.set(xlabel="off-resonance [Hz]", ylabel=key, title="profile for each B1 scale")


def plot_design(result, path=None, compare=None, labels=("designed", "reference")):
    """Plot |B1|(t), phase(t), and the simulated profile; save to ``path`` if given.

    Args:
        result: a :class:`DesignResult`.
        path: PNG path or None. compare: optional complex B1 [T] (n,) of a reference pulse
            with the same gradient and dt, drawn dashed.
        labels: legend labels of the designed and the reference pulse.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib  # optional dependency (the "plot" extra)

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = (np.arange(result.rf.shape[0]) + 0.5) * result.dt * 1e3
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    rfs = [(np.asarray(result.rf), labels[0], "-")]
    if compare is not None:
        rfs.append((np.asarray(compare), labels[1], "--"))
    for rf, lab, ls in rfs:
        ax[0].plot(t, np.abs(rf) * 1e6, ls, label=lab)
        ax[1].plot(t, np.angle(rf), ls, label=lab)
    ax[0].set(xlabel="t [ms]", ylabel="|B1| [µT]", title="RF magnitude")
    ax[1].set(xlabel="t [ms]", ylabel="phase [rad]", title="RF phase")
    ax[0].legend()
    if result.target.positions.shape[0] > 1:
        _slice_profile(ax[2], result, rfs)
    else:
        _spectral_profile(ax[2], result, rfs)
    fig.tight_layout()
    if path is not None:
        fmt = Path(path).suffix[1:] or "png"  # the temporary name has another ending
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format=fmt))
        plt.close(fig)
    return fig
