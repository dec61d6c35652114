"""Classical charges in a magnetic field: the Bohr-van Leeuwen theorem by simulation.

``simulate_charges`` runs a Langevin simulation of independent charges in a hard-walled disk
or square in a uniform perpendicular field and measures the orbital moment of the interior
(closed cyclotron orbits, diamagnetic) and edge (skipping orbits, paramagnetic) charges;
``predicted_moments`` gives the exact equilibrium values (total zero).
"""

from ._moments import MomentPrediction as MomentPrediction
from ._moments import predicted_moments as predicted_moments
from ._simulate import ChargeMoments as ChargeMoments
from ._simulate import simulate_charges as simulate_charges

__all__ = ["ChargeMoments", "MomentPrediction", "predicted_moments", "simulate_charges"]
