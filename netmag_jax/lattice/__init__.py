"""Interacting spins: lattices, exchange models, Monte Carlo and mean field.

Energy convention everywhere: :math:`H = -\\sum_{\\rm bonds} J_{ij} S_i\\cdot S_j` with each
bond once (J > 0 ferromagnetic), classical unit spins for Monte Carlo, exchange in joules,
temperatures in kelvin.
"""

from ._checkerboard import (
    ising_square_metropolis as ising_square_metropolis,
    ising_square_observables as ising_square_observables,
)
from ._kernels import (
    ReducedModel as ReducedModel,
    metropolis_sweep as metropolis_sweep,
    wolff_update as wolff_update,
)
from ._lattice import (
    Lattice as Lattice,
    bcc as bcc,
    by_name as by_name,
    chain as chain,
    cubic as cubic,
    fcc as fcc,
    from_cell as from_cell,
    honeycomb as honeycomb,
    square as square,
    triangular as triangular,
)
from ._meanfield import (
    TwoSublattice as TwoSublattice,
    mean_field_tc as mean_field_tc,
    weiss as weiss,
)
from ._models import (
    XY as XY,
    Heisenberg as Heisenberg,
    Ising as Ising,
    SpinModel as SpinModel,
    classical_exchange as classical_exchange,
    convert_exchange as convert_exchange,
    exchange_from_K as exchange_from_K,
    exchange_from_meV as exchange_from_meV,
)
from ._montecarlo import (
    evolve as evolve,
    simulate as simulate,
)
from ._observables import (
    RHAT_MAX as RHAT_MAX,
    EquilibrationWarning as EquilibrationWarning,
    Observables as Observables,
    binder_crossing as binder_crossing,
)
from ._structure import (
    BondClass as BondClass,
    bond_classes as bond_classes,
    from_structure as from_structure,
)
