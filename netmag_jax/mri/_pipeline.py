r"""A Pulseq file on a phantom: file -> sequence -> signal -> k-space -> image."""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax
import numpy as np

from ._phantoms import Phantom, check_spoiling
from ._pulseq import parse_pulseq_bytes
from ._pulseq_convert import cached_by_content, pulseq_to_sequence
from ._recon import kspace_trajectory, reconstruct
from ._sequences import Sequence


class Definitions(Mapping):
    """A file's ``[DEFINITIONS]`` as a read-only, hashable mapping (list values stored as
    tuples), so that :class:`SeqSimulation` can hold it as a static field: JAX hashes static
    fields when a module passes through ``jax.jit`` (a dict is unhashable)."""

    __slots__ = ("_d",)

    def __init__(self, items=()):
        self._d = {str(k): tuple(v) if isinstance(v, list) else v for k, v in dict(items).items()}

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __hash__(self):
        return hash(tuple(sorted(self._d.items(), key=lambda kv: kv[0])))

    def __eq__(self, other):
        return isinstance(other, Mapping) and self._d == dict(other)

    def __repr__(self):
        return f"Definitions({self._d!r})"


class SeqSimulation(eqx.Module):
    """What :func:`simulate_seq` returns.

    Attributes:
        sequence: the file as a :class:`Sequence`.
        signal: [n_adc] or [n_coils, n_adc] complex received signal (unit of M0), or None
            without ADC samples.
        kspace: [n_adc, 3] sample positions [1/m], or None without ADC samples.
        image: [..., ny, nx] complex image (:func:`reconstruct`), or None.
        recon: how the image was made, or why there is none (in words).
        fov: (fx, fy) field of view [m] used: the file's ``FOV`` definition, else the
            phantom's.
        definitions: the file's ``[DEFINITIONS]`` (a read-only, hashable
            mapping, ``_pipeline.Definitions``; list values as tuples).
    """

    sequence: Sequence
    signal: jax.Array | None
    kspace: np.ndarray | None = None
    image: jax.Array | None = None
    recon: str = eqx.field(static=True, default="")
    fov: tuple = eqx.field(static=True, default=())
    definitions: Definitions = eqx.field(
        static=True, default_factory=Definitions, converter=Definitions
    )


def _slab(definitions, phantom):
    """z extent [m] for the 2-D check of :func:`reconstruct`: the file's ``FOV`` z entry,
    else the phantom's slice thickness, else None."""
    fov = definitions.get("FOV")
    if isinstance(fov, (list, tuple)) and len(fov) >= 3 and float(fov[2]) > 0:
        return float(fov[2])
    return float(phantom.slice_thickness) if isinstance(phantom, Phantom) else None


def file_fov(definitions, default=None):
    """(fx, fy) [m] from a ``[DEFINITIONS]`` ``FOV`` entry (one number: square), or
    ``default``."""
    fov = definitions.get("FOV")
    if isinstance(fov, (int, float)):
        return (float(fov), float(fov))
    if isinstance(fov, (list, tuple)) and len(fov) >= 2:
        return (float(fov[0]), float(fov[1]))
    return default


def _load(path):
    """(parsed file, :class:`Sequence`, k-space trajectory or None) of a ``.seq`` file, not
    recomputed for a file read again unchanged (:func:`~._pulseq_convert.cached_by_content`)."""

    def make(data):
        pf = parse_pulseq_bytes(data, path)
        seq = pulseq_to_sequence(pf)
        # RF uses and centres from the file: exact, as pypulseq
        return pf, seq, kspace_trajectory(pf) if seq.adc else None

    return cached_by_content(path, ("simulate_seq",), make)


def simulate_seq(
    path, phantom, coils=None, *, matrix=None, partial_fourier="homodyne", **kwargs
) -> SeqSimulation:
    """Simulate a Pulseq file on a phantom and reconstruct its image (:func:`reconstruct`).

    Args:
        path: ``.seq`` file (v1.4/v1.5).
        phantom: :class:`Phantom` (from :func:`shepp_logan`, :func:`cylinder`) or :class:`Spins`.
        coils: optional [n_coils, N] receive sensitivities.
        matrix: (nx, ny) image size (default: from the samples).
        partial_fourier: "homodyne" or "zero_fill" (see :func:`reconstruct`).
        **kwargs: passed to :func:`simulate` (e.g. ``checkpoint``).
    Returns:
        :class:`SeqSimulation` (sequence, signal, k-space, image, how it was made).
    Raises:
        ValueError: malformed or inconsistent file (message names the line).
    """
    spins = phantom.spins if isinstance(phantom, Phantom) else phantom
    pf, seq, k = _load(path)
    if isinstance(phantom, Phantom):
        check_spoiling(seq, phantom)
    res = seq.simulate(spins, coils=coils, **kwargs)
    defs = dict(pf.definitions)
    if not seq.adc:
        return SeqSimulation(seq, res.signal, recon="no ADC samples: no image", definitions=defs)
    k = np.array(k)  # the caller's own copy
    fov = file_fov(defs)
    note = ""
    if fov is None:
        if not isinstance(phantom, Phantom):
            why = "no FOV in [DEFINITIONS] and no phantom FOV: no image"
            return SeqSimulation(seq, res.signal, k, recon=why, definitions=defs)
        fov = (float(phantom.fov), float(phantom.fov))
        note = "; FOV from the phantom (the file defines none)"
    try:
        fz = _slab(defs, phantom)
        rec_fov = fov if fz is None else (*fov, fz)
        rec = reconstruct(res.signal, k, rec_fov, matrix, partial_fourier=partial_fourier)
    except ValueError as err:
        return SeqSimulation(seq, res.signal, k, None, f"no image: {err}", fov, defs)
    return SeqSimulation(seq, res.signal, k, rec.image, rec.method + note, fov, defs)
