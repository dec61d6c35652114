"""Magnetization dynamics and domains: LLG (thermal field, spin-transfer torque),
finite-difference micromagnetics (exchange, anisotropy, Zeeman, Newell demag, DMI), energy
minimization, hysteresis, the Stoner-Wohlfarth particle and thermal stability of grains."""

from ._demag import demag_tensor as demag_tensor, prism_demag_factors as prism_demag_factors
from ._hysteresis import HysteresisResult as HysteresisResult, hysteresis as hysteresis
from ._llg import (
    GAMMA_E as GAMMA_E,
    LLGSolution as LLGSolution,
    llg as llg,
    llg_rhs as llg_rhs,
    rotate as rotate,
    thermal_sigma as thermal_sigma,
)
from ._micromagnet import Micromagnet as Micromagnet, RelaxResult as RelaxResult, relax as relax
from ._stoner_wohlfarth import (
    TAU0 as TAU0,
    SWBranches as SWBranches,
    SWLoop as SWLoop,
    anisotropy_field as anisotropy_field,
    brown_escape_time as brown_escape_time,
    coercivity as coercivity,
    energy_barrier as energy_barrier,
    retention_time as retention_time,
    stoner_wohlfarth as stoner_wohlfarth,
    sw_energy as sw_energy,
    sw_loop as sw_loop,
    switching_field as switching_field,
    thermal_stability as thermal_stability,
)
from ._stt import critical_current_density as critical_current_density, stt_field as stt_field
