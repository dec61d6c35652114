"""Equilibrium magnetism of independent moments and of the free electron gas.

- ``Paramagnet(J, g, n)``: exact 2J+1-level ion in a field; moment, magnetization,
  susceptibility, entropy, heat capacity, all by autodiff of one free energy.
- ``curie_constant``, ``curie_constant_molar``, ``effective_moment``, ``curie_weiss``.
- ``brillouin(J, x)``, ``langevin(x)``: the closed-form moment curves.
"""

from .._numerics import brillouin as brillouin, langevin as langevin
from ._paramagnet import (
    Paramagnet as Paramagnet,
    curie_constant as curie_constant,
    curie_constant_molar as curie_constant_molar,
    curie_weiss as curie_weiss,
    effective_moment as effective_moment,
)
