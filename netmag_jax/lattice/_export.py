r"""Monte Carlo results out: an ``xarray.Dataset``, an HDF5 file, and susceptibilities in the
units experimentalists plot.

The observables of a run are arrays over temperature (``sublattice_magnetization`` over
temperature and sublattice), each with a jackknife error ``<name>_err``; the final spin
configurations are not exported. Units are those of
:class:`~netmag_jax.lattice.Observables` (energies J per site, susceptibilities 1/J per site,
specific heat J/K per site), written into the attributes.

Molar susceptibility from the per-site susceptibility :math:`\chi_{\rm site}` [1/J] of spins
carrying a moment :math:`\mu = p\,\mu_B` each (p per unit spin): the moment per site responds
as :math:`dm/dB = \mu^2 \chi_{\rm site}` [J/T^2], so

.. math::
    \chi_{\rm mol}^{\rm SI} = N_A\,\mu_0\,\mu^2\,\chi_{\rm site}\, n_{\rm f}\quad
    [{\rm m^3/mol}],\qquad \chi_{\rm mol}^{\rm CGS} = \frac{10^6}{4\pi}\,
    \chi_{\rm mol}^{\rm SI}\quad [{\rm emu\,mol^{-1}\,Oe^{-1}} = {\rm cm^3/mol}],

with :math:`n_{\rm f}` magnetic sites per formula unit. For free classical spins,
:math:`\chi_{\rm site} = 1/(3k_BT)` (uniform, n = 3) and this is Curie's law
:math:`\chi T = N_A\mu_0 p^2\mu_B^2/3k_B = 0.12505\,p^2` emu K/mol.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .._io import atomic_path
from ..constants import MU_0, MU_B, N_A

#: units of the exported fields (per site; the error of each has the same unit)
UNITS = {
    "temperatures": "K",
    "magnetization": "1 (per site, units of the spin moment)",
    "staggered_magnetization": "1",
    "sublattice_magnetization": "1",
    "energy": "J per site",
    "susceptibility": "1/J per site",
    "uniform_susceptibility": "1/J per site",
    "staggered_susceptibility": "1/J per site",
    "specific_heat": "J/K per site",
    "binder": "1",
    "tau_m": "sweeps",
    "tau_e": "sweeps",
    "rhat": "1",
    "equilibrated": "bool",
}

_MOLAR_UNITS = {"emu/mol/Oe": 1e6 / (4.0 * math.pi), "m^3/mol": 1.0}


def _fields(obs) -> dict[str, np.ndarray]:
    """Every exported array of ``obs`` as NumPy (spins left out)."""
    return {
        name: np.asarray(getattr(obs, name))
        for name in obs.__dataclass_fields__
        if name not in ("spins", "temperatures")
    }


def to_xarray(obs):
    """:class:`~netmag_jax.lattice.Observables` -> ``xarray.Dataset`` (see the module)."""
    try:
        import xarray as xr
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise ImportError("to_xarray needs xarray: pip install 'netmag_jax[lattice]'") from e
    data = {}
    for name, v in _fields(obs).items():
        dims = ("temperature", "sublattice")[: v.ndim]
        base = name.removesuffix("_err")
        data[name] = xr.Variable(dims, v, attrs={"units": UNITS.get(base, "")})
    T = np.asarray(obs.temperatures)
    return xr.Dataset(data, coords={"temperature": ("temperature", T, {"units": "K"})})


def to_hdf5(obs, path, group: str = "/") -> None:
    """Write the observables to an HDF5 file: one dataset per field (``temperature`` [nT] K
    first), each with a ``units`` attribute. Written atomically: a temporary file in the
    target folder, then renamed over ``path``."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise ImportError("to_hdf5 needs h5py: pip install 'netmag_jax[lattice]'") from e
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{path}: the folder {folder} does not exist")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        g = f.require_group(group)
        g.create_dataset("temperature", data=np.asarray(obs.temperatures)).attrs["units"] = "K"
        for name, v in _fields(obs).items():
            g.create_dataset(name, data=v).attrs["units"] = UNITS.get(name.removesuffix("_err"), "")


def molar_susceptibility(chi_site, moment_bohr, units: str, sites_per_formula):
    """Per-site susceptibility [1/J] -> molar susceptibility (see the module docstring).

    Args:
        chi_site: susceptibility per site, 1/J (any shape).
        moment_bohr: moment of one unit spin, Bohr magnetons (> 0).
        units: "emu/mol/Oe" (CGS, = cm^3/mol) or "m^3/mol" (SI molar).
        sites_per_formula: magnetic sites per formula unit (> 0).
    """
    if units not in _MOLAR_UNITS:
        raise ValueError(f"units must be one of {tuple(_MOLAR_UNITS)}, got {units!r}")
    for name, v in (("moment_bohr", moment_bohr), ("sites_per_formula", sites_per_formula)):
        if not (np.ndim(v) == 0 and np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    mu = float(moment_bohr) * MU_B
    return (
        np.asarray(chi_site)
        * (N_A * MU_0 * mu * mu * float(sites_per_formula))
        * (_MOLAR_UNITS[units])
    )
