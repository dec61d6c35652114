"""Equilibrium magnetism of independent moments and of the free electron gas."""

from .._numerics import brillouin as brillouin, langevin as langevin
