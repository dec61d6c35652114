"""Magnetization dynamics and domains: LLG (thermal field, spin-transfer torque),
finite-difference micromagnetics (exchange, anisotropy, Zeeman, Newell demag, DMI), energy
minimization, hysteresis, the Stoner-Wohlfarth particle and thermal stability of grains."""

from .._numerics import rotate as rotate
from ..constants import GAMMA_E as GAMMA_E
from ._demag import demag_tensor as demag_tensor
from ._demag import prism_demag_factors as prism_demag_factors
from ._hysteresis import HysteresisResult as HysteresisResult
from ._hysteresis import hysteresis as hysteresis
from ._llg import (
    LLG_MAX_STEP as LLG_MAX_STEP,
)
from ._llg import (
    LLGSolution as LLGSolution,
)
from ._llg import (
    llg as llg,
)
from ._llg import (
    llg_rhs as llg_rhs,
)
from ._llg import (
    thermal_sigma as thermal_sigma,
)
from ._micromagnet import Micromagnet as Micromagnet
from ._micromagnet import heun_stability_limit as heun_stability_limit
from ._micromagnet import RelaxResult as RelaxResult
from ._micromagnet import relax as relax
from ._stoner_wohlfarth import (
    TAU0 as TAU0,
)
from ._stoner_wohlfarth import (
    SWBranches as SWBranches,
)
from ._stoner_wohlfarth import (
    SWLoop as SWLoop,
)
from ._stoner_wohlfarth import (
    anisotropy_field as anisotropy_field,
)
from ._stoner_wohlfarth import (
    brown_escape_time as brown_escape_time,
)
from ._stoner_wohlfarth import (
    coercivity as coercivity,
)
from ._stoner_wohlfarth import (
    energy_barrier as energy_barrier,
)
from ._stoner_wohlfarth import (
    retention_time as retention_time,
)
from ._stoner_wohlfarth import (
    stoner_wohlfarth as stoner_wohlfarth,
)
from ._stoner_wohlfarth import (
    sw_energy as sw_energy,
)
from ._stoner_wohlfarth import (
    sw_loop as sw_loop,
)
from ._stoner_wohlfarth import (
    switching_field as switching_field,
)
from ._stoner_wohlfarth import (
    thermal_stability as thermal_stability,
)
from ._stt import critical_current_density as critical_current_density
from ._stt import stt_field as stt_field
