"""Batched autodiff least squares and maximum likelihood.

``curve_fit`` (one data set, scipy-like), ``fit_voxels`` (every voxel of a map: vmap, chunks,
sharding, multi-start, failed voxels flagged), ``dictionary_match`` (MR fingerprinting),
signal-model adapters in the ``model(x, *params)`` form over the ``mri`` and ``statmech``
closed forms, and readers for measured data. Solver options travel as one
``LevenbergMarquardt`` Module; each fit reports a ``RESULTS`` item.
"""

from ..constants import CURIE_CGS_PER_MUEFF2 as CURIE_CGS_PER_MUEFF2
from ._dictionary import MatchResult as MatchResult, dictionary_match as dictionary_match
from ._fit import FitResult as FitResult, curve_fit as curve_fit, fit_voxels as fit_voxels
from ._io import (
    load_nifti as load_nifti,
    read_column_pairs as read_column_pairs,
    save_nifti as save_nifti,
)
from ._lm import (
    RESULTS as RESULTS,
    STATUS_MESSAGES as STATUS_MESSAGES,
    LevenbergMarquardt as LevenbergMarquardt,
)
from ._models import (
    brillouin_moment as brillouin_moment,
    cpmg_epg as cpmg_epg,
    curie_weiss_chi as curie_weiss_chi,
    exponential_decay as exponential_decay,
    inversion_recovery_complex as inversion_recovery_complex,
    inversion_recovery_magnitude as inversion_recovery_magnitude,
    inversion_recovery_signed as inversion_recovery_signed,
    spgr as spgr,
)
from ._special import bessel_ratio as bessel_ratio, log_i0 as log_i0, rician_nll as rician_nll
from ._magnetometry import (
    MagnetometryData as MagnetometryData,
    field_to_tesla as field_to_tesla,
    moment_to_muB as moment_to_muB,
    read_magnetometry as read_magnetometry,
)
from ._models import brillouin_weiss_moment as brillouin_weiss_moment
from ._io import (
    atomic_write as atomic_write,
    load_nifti_image as load_nifti_image,
    read_bids_sidecar as read_bids_sidecar,
)
