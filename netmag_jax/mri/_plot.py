"""Figures of a simulated sequence, as KomaMRI and pypulseq draw them (matplotlib).

- :func:`plot_sequence`: the sequence diagram, |B1| [uT] and its phase, Gx, Gy, Gz [mT/m]
  against time [ms], ADC samples as marks;
- :func:`plot_kspace`: the k-space trajectory at the ADC samples, ky against kx [1/m];
- :func:`plot_signal`: |signal| and its phase against the ADC sample index;
- :func:`plot_image`: |image| in grey with the field of view in mm;
- :func:`plot_simulation`: the four as PNG files of a :class:`SeqSimulation`.

Files are written atomically (temporary file in the target folder, then ``os.replace``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_path


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'netmag_jax[plot]'") from None
    return plt


def _save(fig, path):
    """Save ``fig`` as PNG at ``path`` atomically and close it; returns the path."""
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    return Path(path)


def plot_sequence(seq, path, t_max=None):
    """Sequence diagram of a :class:`Sequence`: |B1| [uT], phase [rad], G [mT/m], ADC.

    Args:
        seq: :class:`Sequence`. path: PNG file.
        t_max: draw up to this time [s] (default: the whole sequence, at most 10 000 steps).
    Returns:
        the path written.
    """
    plt = _pyplot()
    dt = np.asarray(seq.dt)
    t = np.concatenate([[0.0], np.cumsum(dt)])
    stop = len(dt) if t_max is None else int(np.searchsorted(t, t_max))
    stop = max(1, min(stop, 10_000))
    rf = np.asarray(seq.rf)[:stop]
    g = np.asarray(seq.gradient)[:stop]
    ms = 1e3 * t[: stop + 1]
    fig, axes = plt.subplots(4, 1, figsize=(8, 6), sharex=True)
    axes[0].stairs(1e6 * np.abs(rf), ms, color="k")
    axes[0].set_ylabel("|B1| [uT]")
    on = np.abs(rf) > 0
    axes[1].plot(0.5 * (ms[1:] + ms[:-1])[on], np.angle(rf[on]), ".", ms=2)
    axes[1].set_ylabel("RF phase [rad]")
    for i, name in enumerate("xyz"):
        axes[2].stairs(1e3 * g[:, i], ms, label=f"G{name}")
    axes[2].set_ylabel("G [mT/m]")
    axes[2].legend(loc="upper right", fontsize=7)
    adc = np.asarray(seq.adc, int)
    adc = adc[adc < stop]
    axes[3].vlines(ms[adc + 1], 0, 1, lw=0.5)
    axes[3].set(ylabel="ADC", xlabel="time [ms]", yticks=[])
    fig.suptitle("sequence diagram")
    return _save(fig, path)


def plot_kspace(kspace, path):
    """k-space trajectory ky against kx [1/m] at the ADC samples (order shown by colour)."""
    plt = _pyplot()
    k = np.asarray(kspace)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(k[:, 0], k[:, 1], lw=0.3, color="0.7")
    ax.scatter(k[:, 0], k[:, 1], c=np.arange(len(k)), s=3, cmap="viridis")
    ax.set(xlabel="kx [1/m]", ylabel="ky [1/m]", title="k-space trajectory", aspect="equal")
    return _save(fig, path)


def plot_signal(signal, path):
    """|signal| and phase against the ADC sample index (first coil if several)."""
    plt = _pyplot()
    s = np.asarray(signal)
    s = s.reshape(-1, s.shape[-1])[0]
    fig, ax = plt.subplots(2, 1, figsize=(7, 4), sharex=True)
    ax[0].plot(np.abs(s), lw=0.8)
    ax[0].set_ylabel("|signal| [M0 units]")
    ax[1].plot(np.angle(s), ".", ms=1.5)
    ax[1].set(ylabel="phase [rad]", xlabel="ADC sample")
    return _save(fig, path)


def plot_image(image, path, fov=None, title="|image|"):
    """|image| in grey; axes in mm when ``fov`` (fx, fy) [m] is given."""
    plt = _pyplot()
    img = np.abs(np.asarray(image))
    img = img.reshape((-1,) + img.shape[-2:])[0]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    extent = None
    if fov is not None:
        fx, fy = (1e3 * float(f) for f in fov)
        extent = (-fx / 2, fx / 2, fy / 2, -fy / 2)
        ax.set(xlabel="x [mm]", ylabel="y [mm]")
    ax.imshow(img, cmap="gray", extent=extent)
    ax.set_title(title)
    return _save(fig, path)


def plot_simulation(sim, folder, name="seq"):
    """PNG files of a :class:`SeqSimulation`: ``sequence.png``, ``kspace.png``,
    ``signal.png`` and ``image.png`` (those that exist) in ``folder``; returns their paths."""
    folder = Path(folder)
    out = {"sequence": plot_sequence(sim.sequence, folder / "sequence.png")}
    if sim.kspace is not None:
        out["kspace"] = plot_kspace(sim.kspace, folder / "kspace.png")
    if sim.signal is not None:
        out["signal"] = plot_signal(sim.signal, folder / "signal.png")
    if sim.image is not None:
        out["image"] = plot_image(sim.image, folder / "image.png", sim.fov, f"{name}: |image|")
    return out
