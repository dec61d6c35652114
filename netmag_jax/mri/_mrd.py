r"""Simulated raw data out as ISMRMRD / MRD (HDF5), the format recon tools (Gadgetron,
BART, ismrmrd-python-tools) read.

The file holds the XML header (encoded and recon space: matrix, field of view in mm;
``H1resonanceFrequency_Hz = gamma_bar B0``; field strength; receiver channels; trajectory
type) and one acquisition per readout: the complex samples ``[channels, samples]``
(complex64, units of the simulation's M0) with their k-space trajectory ``[samples, 3]`` in
grid units ``(k_x FOV_x, k_y FOV_y, k_z FOV_z)`` (1 = one Cartesian step; ISMRMRD leaves the
trajectory unit to the writer, this one is named in the header's ``trajectoryDescription``),
the dwell time (``sample_time_us``) and, for Cartesian data, the phase-encode line
(``idx.kspace_encode_step_1``). Readouts are the runs of ADC samples without a gap longer
than 1.5 dwell times.

Why the ``ismrmrd`` package: it is the format's reference Python implementation (maintained
by the ISMRMRD project); it reads what it writes and what scanners' converters write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..constants import GAMMA_1H_HZ
from .._io import atomic_path


def _ismrmrd():
    try:
        import ismrmrd
        import ismrmrd.xsd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("MRD output needs ismrmrd: pip install 'netmag_jax[mri]'") from None
    return ismrmrd


def readouts(times, breaks=()):
    """Start indices of the readouts in ADC sample times [s] and the dwell [s] of each.

    A readout ends at a time in ``breaks`` (e.g. RF pulse starts) that falls between two
    samples, and where the gap to the next sample exceeds 1.5 times the readout's dwell.
    """
    t = np.asarray(times, float)
    gaps = np.diff(t)
    cut = np.searchsorted(t, np.asarray(breaks, float))
    hard = set(int(c) for c in cut if 0 < c < len(t))
    starts = [0]
    for i, g in enumerate(gaps):
        j = starts[-1]
        dwell = gaps[j] if i > j else g
        if i + 1 in hard or g > 1.5 * dwell:
            starts.append(i + 1)
    bounds = starts + [len(t)]
    dwells = [
        float(np.median(np.diff(t[a:b]))) if b - a > 1 else 0.0
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return np.asarray(starts), dwells


def rf_starts(seq):
    """Start times [s] of the RF pulses (runs of non-zero B1) of a :class:`Sequence`."""
    on = np.abs(np.asarray(seq.rf)) > 0
    t = np.concatenate([[0.0], np.cumsum(np.asarray(seq.dt, float))])
    return t[np.nonzero(on & ~np.concatenate([[False], on[:-1]]))[0]]


def _encoding(xsd, matrix, fov_mm, kind, lines):
    space = xsd.encodingSpaceType(
        matrixSize=xsd.matrixSizeType(x=int(matrix[0]), y=int(matrix[1]), z=1),
        fieldOfView_mm=xsd.fieldOfViewMm(x=fov_mm[0], y=fov_mm[1], z=fov_mm[2]),
    )
    limits = xsd.encodingLimitsType(
        kspace_encoding_step_1=xsd.limitType(
            minimum=0, maximum=max(lines - 1, 0), center=lines // 2
        )
    )
    return xsd.encodingType(
        encodedSpace=space,
        reconSpace=space,
        encodingLimits=limits,
        trajectory=xsd.trajectoryType.CARTESIAN
        if kind == "cartesian"
        else xsd.trajectoryType.OTHER,
        trajectoryDescription=xsd.trajectoryDescriptionType(
            identifier="netmag_jax grid units: k FOV (1 = one 1/FOV step)"
        ),
    )


def _header(xsd, sim, matrix, b0, n_coils, lines):
    fov = tuple(sim.fov) if sim.fov else (1.0, 1.0)
    thick = sim.definitions.get("FOV")
    fz = float(thick[2]) if isinstance(thick, (list, tuple)) and len(thick) >= 3 else 0.0
    fov_mm = (1e3 * float(fov[0]), 1e3 * float(fov[1]), 1e3 * fz)
    kind = "cartesian" if sim.recon.startswith("Cartesian") else "other"
    return xsd.ismrmrdHeader(
        version=2,
        experimentalConditions=xsd.experimentalConditionsType(
            H1resonanceFrequency_Hz=int(round(GAMMA_1H_HZ * b0))
        ),
        acquisitionSystemInformation=xsd.acquisitionSystemInformationType(
            systemFieldStrength_T=float(b0), receiverChannels=int(n_coils)
        ),
        encoding=[_encoding(xsd, matrix, fov_mm, kind, lines)],
    )


def write_mrd(sim, path, *, phantom=None, B0=None, matrix=None) -> Path:
    """Write a :class:`SeqSimulation`'s raw data as an ISMRMRD file (module docstring).

    Args:
        sim: :class:`SeqSimulation` with a signal (``simulate_seq``).
        path: ``.h5`` file, written atomically (replaced if present).
        phantom: the :class:`Phantom` simulated (gives B0 and the matrix when not given).
        B0: field [T] (default: the phantom's, else 3.0).
        matrix: (nx, ny) (default: the image's, else the phantom's, else from the samples).
    Returns:
        the path written.
    Raises:
        ValueError: a simulation without signal or k-space.
    """
    ismrmrd = _ismrmrd()
    if sim.signal is None or sim.kspace is None:
        raise ValueError("the simulation has no ADC samples: no raw data to write")
    sig = np.asarray(sim.signal)
    sig = sig.reshape(-1, sig.shape[-1])
    fov = np.asarray(sim.fov if sim.fov else (1.0, 1.0), float)
    fz = sim.definitions.get("FOV")
    fz = float(fz[2]) if isinstance(fz, (list, tuple)) and len(fz) >= 3 else 1.0
    traj = np.asarray(sim.kspace, float) * np.array([fov[0], fov[1], fz])
    if B0 is None:
        B0 = float(phantom.spins.B0) if phantom is not None else 3.0
    if matrix is None:
        if sim.image is not None:
            matrix = (sim.image.shape[-1], sim.image.shape[-2])
        elif phantom is not None:
            matrix = phantom.labels.shape[::-1]
        else:
            matrix = tuple(int(2 * np.ceil(np.max(np.abs(traj[:, i])))) for i in range(2))
    starts, dwells = readouts(np.asarray(sim.sequence.adc_times()), rf_starts(sim.sequence))
    bounds = list(starts) + [sig.shape[-1]]
    header = _header(ismrmrd.xsd, sim, matrix, B0, sig.shape[0], len(starts))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.unlink()  # h5py creates the file
        with ismrmrd.Dataset(str(tmp), "dataset", create_if_needed=True) as dset:
            dset.write_xml_header(ismrmrd.xsd.ToXML(header))
            for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                acq: Any = ismrmrd.Acquisition.from_array(
                    sig[:, a:b].astype(np.complex64), traj[a:b].astype(np.float32)
                )
                acq.scan_counter = i
                acq.sample_time_us = 1e6 * dwells[i]
                line = int(np.round(np.median(traj[a:b, 1]))) + int(matrix[1]) // 2
                acq.idx.kspace_encode_step_1 = min(max(line, 0), 65535)
                if i == 0:
                    acq.set_flag(ismrmrd.ACQ_FIRST_IN_SLICE)
                if i == len(starts) - 1:
                    acq.set_flag(ismrmrd.ACQ_LAST_IN_SLICE)
                    acq.set_flag(ismrmrd.ACQ_LAST_IN_MEASUREMENT)
                dset.append_acquisition(acq)
    return path
