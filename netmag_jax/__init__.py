"""netmag_jax: differentiable physics of net magnetization in JAX.

From one quantum spin to the MRI signal; every model is a pure JAX function or an
``equinox.Module`` with array leaves, so ``jit``, ``vmap`` and ``grad`` work on all of it.
Subpackages: ``statmech``, ``classical``, ``lattice``, ``dynamics``, ``mri``, ``fit``.
Nothing heavy happens at import; x64 is never switched on by the library.
"""

__version__ = "0.1.0"

from . import constants as constants
from . import statmech as statmech
