r"""Slonczewski spin-transfer torque: torque fields and the macrospin critical current.

A current density J (A/m^2) polarized along p through a free layer of thickness d exerts the
damping-like torque -gamma mu0 H_dl m x (m x p) with (Slonczewski, J. Magn. Magn. Mater. 159,
L1 (1996), constant-efficiency form)::

    H_dl = hbar eta J / (2 e mu0 Ms d)      [A/m],

eta the spin-polarization efficiency; a field-like torque is H_fl = beta H_dl. J > 0 pushes m
towards p.
"""

from __future__ import annotations

from .. import constants as C
from .._checks import finite, finite_result, positive


def stt_field(J, Ms, thickness, eta=0.5):
    r"""Damping-like spin-torque field H_dl = hbar eta J / (2 e mu0 Ms d) [A/m].

    Args:
        J: current density [A/m^2] (sign: > 0 favours m parallel to p).
        Ms: saturation magnetization [A/m] (> 0).
        thickness: free-layer thickness d [m] (> 0).
        eta: spin-polarization efficiency (dimensionless, > 0).
    """
    Ms, d, eta = positive(Ms, "Ms"), positive(thickness, "thickness"), positive(eta, "eta")
    # constant x J first, then one factor at a time: no intermediate under/overflow
    h = C.HBAR / (2.0 * C.E_CHARGE * C.MU_0) * finite(J, "J") * eta / Ms / d
    return finite_result(h, "stt_field", ("J", "Ms", "thickness", "eta"))


def critical_current_density(alpha, Ms, thickness, H_k_eff, eta=0.5, H_ext=0.0):
    r"""Zero-temperature critical current density of a perpendicular free layer [A/m^2].

    Linear stability of m = -p under damping-like torque: the state becomes unstable when
    H_dl > alpha (H_k_eff - H_ext), i.e.

        J_c0 = 2 e alpha mu0 Ms d (H_k_eff - H_ext) / (hbar eta)

    (Sun, Phys. Rev. B 62, 570 (2000)), H_k_eff = 2 K_eff/(mu0 Ms) the effective perpendicular
    anisotropy field [A/m] (shape anisotropy included), H_ext [A/m] an applied field along p.

    Args:
        alpha: Gilbert damping (> 0); Ms [A/m]; thickness [m]; H_k_eff [A/m]; eta; H_ext [A/m].
    """
    alpha, Ms = positive(alpha, "alpha"), positive(Ms, "Ms")
    d, eta = positive(thickness, "thickness"), positive(eta, "eta")
    dH = finite(H_k_eff, "H_k_eff") - finite(H_ext, "H_ext")
    # one factor at a time, the constant 2 e mu0 / hbar last: no intermediate under/overflow
    # (nor a subnormal, which XLA flushes to 0) for any one argument at 1e+-300
    jc = alpha / eta * dH * Ms * d * (2.0 * C.E_CHARGE * C.MU_0 / C.HBAR)
    names = ("alpha", "Ms", "thickness", "H_k_eff", "eta", "H_ext")
    return finite_result(jc, "critical_current_density", names)
