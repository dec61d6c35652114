"""Example: the Er3+ moment of CsErSe2 from its measured susceptibility (Curie-Weiss, 100-350 K).

    python fitting/example_magnetism.py             # this example, through the Python API
    python fitting/example_magnetism.py ARGS ...    # the same as: netmag fit magnetism ARGS

Fits chi(T) = C / (T - theta) + chi0 to the 1 T curves along ab and c of
data/CsErSe2/CsErSe2_MT.dat (see its PROVENANCE.md) and compares the powder-averaged
effective moment with the free-ion value g_J sqrt(J (J + 1)) = 9.58 mu_B.
"""

import math
import sys
from pathlib import Path

import jax

import netmag_jax.fit as nf
from netmag_jax.fit import workflows as netmag_workflows
from netmag_jax.fit.workflows import magnetism

DATA = Path(__file__).resolve().parent / "data" / "CsErSe2"


def example() -> None:
    jax.config.update("jax_enable_x64", True)  # measured data: fit in float64
    pairs = nf.read_column_pairs(DATA / "CsErSe2_MT.dat")
    curie = {}
    for direction in ("ab", "c"):
        T, chi = pairs[f"1 T H//{direction}"]
        _, out, _ = magnetism.fit_curie_weiss(T, chi, 100.0, 350.0)
        curie[direction] = out["C_emuK_per_mol"][0]
        theta, dtheta = out["theta_K"]
        print(
            f"H // {direction:2s}: theta = {theta:7.2f} +- {dtheta:.2f} K, "
            f"mu_eff = {out['mu_eff_muB'][0]:.3f} mu_B, chi2_red = {out['chi2_red']:.2f}"
        )
    powder = (2 * curie["ab"] + curie["c"]) / 3
    mu = math.sqrt(powder / nf.CURIE_CGS_PER_MUEFF2)
    print(f"powder mu_eff = {mu:.3f} mu_B (free Er3+ ion: {1.2 * math.sqrt(7.5 * 8.5):.3f})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and netmag_workflows.wants_float64("magnetism", sys.argv[1:]):
        jax.config.update("jax_enable_x64", True)  # as `netmag fit magnetism` does
    sys.exit(magnetism.main(sys.argv[1:]) if len(sys.argv) > 1 else example())
