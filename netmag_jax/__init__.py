"""netmag_jax: differentiable physics of net magnetization in JAX.

From one quantum spin to the MRI signal; every model is a pure JAX function or an
``equinox.Module`` with array leaves, so ``jit``, ``vmap`` and ``grad`` work on all of it.

Subpackages (imported with the package; nothing is computed at import time):

- ``statmech``   independent moments: Paramagnet, SingleIon (crystal field), ElectronGas
- ``classical``  Bohr-van Leeuwen: classical charges in a field (interior vs edge currents)
- ``lattice``    lattices, Ising/XY/Heisenberg Monte Carlo, mean field (ferro/antiferro/ferri)
- ``dynamics``   LLG, micromagnetics, Stoner-Wohlfarth, hysteresis, thermal stability, STT
- ``mri``        Bloch engine, pulses, sequences, EPG, Pulseq, phantoms; ``mri.design``
- ``fit``        batched least squares (bounds, Rician, covariance), voxel maps, matching
- ``parallel``   sharding of batch axes over devices

x64 is never switched on by the library; enable it yourself
(``jax.config.update("jax_enable_x64", True)``) for float64.
"""

__version__ = "0.1.0"

from . import constants as constants
from . import statmech as statmech
from . import classical as classical
from . import lattice as lattice
from . import dynamics as dynamics
from . import mri as mri
from . import fit as fit
from . import parallel as parallel
