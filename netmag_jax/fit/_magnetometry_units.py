r"""Units of magnetometry files: conversion to mu_B per magnetic ion and mu_0 H in tesla, and
the physical range of each quantity.

Unit conversion to mu_B per ion, with n_ion = ions per formula unit:

* emu:       :math:`M = m\,W / (m_s N_A \mu_B n_{ion})` (sample mass m_s [g], molar mass W
  [g/mol] of the formula unit; N_A mu_B = 5584.9 emu/mol);
* emu/g:     :math:`M = m\,W / (N_A \mu_B n_{ion})`; emu/mol: :math:`M = m / (N_A\mu_B n_{ion})`;
* A m^2:     1e3 emu; mu_B (per ion) as is; mu_B/f.u.: divided by n_ion;
* a susceptibility column (``emu/mol/Oe``, ``emu/(mol Oe)``): multiplied by H [Oe] first.

Fields: Oe and G (1e-4 T of :math:`\mu_0 H`), kOe, T, mT, A/m (:math:`\mu_0 H`).
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..constants import MU_0, MU_B, N_A

#: N_A mu_B in emu/mol: the molar moment of one Bohr magneton per ion (cgs)
_NA_MUB_EMU = N_A * MU_B * 1e3

#: accepted field units -> tesla of mu_0 H per unit
FIELD_UNITS = {"oe": 1e-4, "g": 1e-4, "koe": 0.1, "t": 1.0, "mt": 1e-3, "a/m": MU_0}
#: accepted moment units (normalised spelling) -> kind of conversion
MOMENT_UNITS = ("emu", "emu/g", "emu/mol", "am2", "mub", "mub/ion", "mub/f.u.")
#: physical ranges of the values read (beyond them a value is a unit, mass or typing mistake):
#: |M| [mu_B per magnetic ion]: 100 x the largest moment of a free ion (Dy3+, Ho3+: g_J J = 10)
MAX_MOMENT_MUB = 1e3
#: |mu_0 H| [T]: ~8 x the strongest field made in a laboratory (1200 T, electromagnetic flux
#: compression: D. Nakamura et al., Rev. Sci. Instrum. 89, 095106 (2018)); a field in Oe
#: read as T is 1e4 x too large
MAX_FIELD_T = 1e4
#: T [K]: ~8 x the hottest magnetometer furnaces (VSM ovens, ~1300 K)
MAX_TEMPERATURE_K = 1e4


def norm_unit(u: str) -> str:
    """A unit's spelling reduced to one form (lower case, no blanks, mu for µ): "A·m²" ->
    "am2", "emu/(mol Oe)" -> "emu/mol/oe"."""
    u = u.strip().lower().replace("µ", "mu").replace("μ", "mu").replace("²", "2")
    u = re.sub(r"\s+", "", u).replace("^", "").replace("·", "").replace("*", "")
    return {
        "mu_b": "mub",
        "mub/ion": "mub/ion",
        "emu/(moloe)": "emu/mol/oe",
        "emumol-1oe-1": "emu/mol/oe",
        "emu/mol-oe": "emu/mol/oe",
        "emu/moloe": "emu/mol/oe",
        "am2": "am2",
        "a.m2": "am2",
        "a m2": "am2",
        "j/t": "am2",
        "mub/fu": "mub/f.u.",
        "mub/f.u": "mub/f.u.",
    }.get(u, u)


def field_to_tesla(values, unit: str, where: str = "") -> np.ndarray:
    """Field values in ``unit`` (Oe, G, kOe, T, mT, A/m) -> mu_0 H [T]."""
    u = norm_unit(unit)
    if u not in FIELD_UNITS:
        raise ValueError(f"{where}unknown field unit {unit!r}; use one of Oe, G, kOe, T, mT, A/m")
    return np.asarray(values, float) * FIELD_UNITS[u]


def moment_to_muB(
    values,
    unit: str,
    *,
    H_Oe=None,
    mass_mg: float | None = None,
    molar_mass: float | None = None,
    ions_per_formula: float = 1.0,
    where: str = "",
) -> np.ndarray:
    """Moments in ``unit`` -> mu_B per magnetic ion (module docstring for the relations).

    Args:
        values: moments (or susceptibilities for units ending in ``/Oe``).
        unit: emu, emu/g, emu/mol, A m2, muB, muB/ion, muB/f.u., or any of these per Oe.
        H_Oe: field [Oe] of each value (only for a susceptibility unit).
        mass_mg: sample mass [mg] (emu). molar_mass: [g/mol] of the formula unit (emu, emu/g).
        ions_per_formula: magnetic ions per formula unit (> 0).
    """
    u = norm_unit(unit)
    v = np.asarray(values, float)
    if u.endswith("/oe"):
        if H_Oe is None:
            raise ValueError(f"{where}a susceptibility unit {unit!r} needs the field")
        v, u = v * np.asarray(H_Oe, float), u[: -len("/oe")]
    if u not in MOMENT_UNITS:
        raise ValueError(f"{where}unknown moment unit {unit!r}; use one of {list(MOMENT_UNITS)}")
    if not (ions_per_formula > 0 and math.isfinite(ions_per_formula)):
        raise ValueError(f"{where}ions per formula unit must be > 0, got {ions_per_formula}")
    for units_needing, label, val in (
        (("emu", "am2"), "sample mass [mg]", mass_mg),
        (("emu", "am2", "emu/g"), "molar mass [g/mol]", molar_mass),
    ):
        if u in units_needing and (val is None or not (val > 0 and math.isfinite(val))):
            raise ValueError(f"{where}moments in {unit!r} need the {label} (> 0)")
    if u == "am2":
        v, u = v * 1e3, "emu"
    if u == "emu" and mass_mg is not None:
        v, u = v / (mass_mg * 1e-3), "emu/g"
    if u == "emu/g" and molar_mass is not None:
        v, u = v * molar_mass, "emu/mol"
    if u == "emu/mol":
        return v / (_NA_MUB_EMU * ions_per_formula)
    return v / ions_per_formula if u == "mub/f.u." else v
