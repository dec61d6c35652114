"""Batched autodiff least squares and maximum likelihood: ``curve_fit``, ``fit_voxels``,
``dictionary_match``, signal-model adapters and readers for measured data files."""

from ._fit import FitResult as FitResult, curve_fit as curve_fit, fit_voxels as fit_voxels
from ._lm import STATUS_MESSAGES as STATUS_MESSAGES
from ._special import log_i0 as log_i0, bessel_ratio as bessel_ratio, rician_nll as rician_nll
