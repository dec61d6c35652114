"""Equilibrium magnetism of independent moments and of the free electron gas.

- ``Paramagnet(J, g, n)``: exact 2J+1-level ion in a field; moment, magnetization,
  susceptibility, entropy, heat capacity, all by autodiff of one free energy.
- ``SingleIon(J, g, stevens)``: Zeeman + Stevens crystal field, diagonalised; moment vector,
  susceptibility tensor with Van Vleck terms; ``stevens_operator``, ``angular_momentum``.
- ``ElectronGas(n, m_eff, g)``: Pauli / Landau / Stoner susceptibility, chemical potential.
- ``curie_constant``, ``curie_constant_molar``, ``effective_moment``, ``curie_weiss``.
- ``brillouin(J, x)``, ``langevin(x)``: the closed-form moment curves.
"""

from .._numerics import brillouin as brillouin, fermi_dirac as fermi_dirac, langevin as langevin
from ._electron_gas import ElectronGas as ElectronGas
from ._paramagnet import (
    Paramagnet as Paramagnet,
    curie_constant as curie_constant,
    curie_constant_molar as curie_constant_molar,
    curie_weiss as curie_weiss,
    effective_moment as effective_moment,
)
from ._single_ion import SingleIon as SingleIon
from ._stevens import angular_momentum as angular_momentum, stevens_operator as stevens_operator
from ._mean_field_ion import (
    MeanFieldIon as MeanFieldIon,
    exchange_from_lambda as exchange_from_lambda,
    lambda_from_theta as lambda_from_theta,
)
