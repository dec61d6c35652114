r"""A Pulseq file on a phantom: file -> sequence -> signal -> k-space -> image."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from ._phantoms import Phantom
from ._pulseq import parse_pulseq
from ._pulseq_convert import pulseq_to_sequence
from ._recon import cartesian_image, kspace_trajectory
from ._sequences import Sequence


class SeqSimulation(eqx.Module):
    """What :func:`simulate_seq` returns.

    Attributes:
        sequence: the file as a :class:`Sequence`.
        signal: [n_adc] or [n_coils, n_adc] complex received signal (unit of M0), or None
            without ADC samples.
        kspace: [n_adc, 3] sample positions [1/m] (restarted at each RF pulse), or None
            without ADC samples.
        image: [..., ny, nx] complex image, or None if the samples are not a full Cartesian
            grid with a FOV in [DEFINITIONS].
    """

    sequence: Sequence
    signal: jax.Array | None
    kspace: np.ndarray | None = None
    image: jax.Array | None = None


def simulate_seq(path, phantom, coils=None, **kwargs) -> SeqSimulation:
    """Simulate a Pulseq file on a phantom; reconstruct an image if the readout is Cartesian.

    Args:
        path: ``.seq`` file (v1.4/v1.5).
        phantom: :class:`Phantom` (from :func:`shepp_logan`, :func:`cylinder`) or :class:`Spins`.
        coils: optional [n_coils, N] receive sensitivities.
        **kwargs: passed to :func:`simulate` (e.g. ``checkpoint``).
    Returns:
        :class:`SeqSimulation` (sequence, signal, k-space, image).
    Raises:
        ValueError: malformed or inconsistent file (message names the line).
    """
    spins = phantom.spins if isinstance(phantom, Phantom) else phantom
    pf = parse_pulseq(path)
    seq = pulseq_to_sequence(pf)
    res = seq.simulate(spins, coils=coils, **kwargs)
    if not seq.adc:
        return SeqSimulation(seq, res.signal)
    k = kspace_trajectory(seq)
    fov = pf.definitions.get("FOV")
    image = None
    if isinstance(fov, list) and len(fov) >= 2:
        image = cartesian_image(res.signal, k, (float(fov[0]), float(fov[1])))
    return SeqSimulation(seq, res.signal, k, image)
