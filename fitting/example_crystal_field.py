"""Example: the published CsErSe2 crystal field against the measured magnetization.

    python fitting/example_crystal_field.py             # this example, through the Python API
    python fitting/example_crystal_field.py ARGS ...    # the same as: netmag fit crystal_field ARGS

Prints the Kramers doublets and ground-doublet g factors of the Er3+ Stevens parameters
published by Scheie et al. (PRB 101, 144432, 2020; neutron fit) next to the measured neutron
peaks, and the unit of M/H in data/CsErSe2/CsErSe2_MT.dat. The fit of these parameters to
M(H) is ``netmag fit crystal_field fit --out DIR`` (a few minutes on a CPU).
"""

import sys

import jax

from netmag_jax.fit import workflows as netmag_workflows
from netmag_jax.fit.workflows import crystal_field as cf


def example() -> None:
    jax.config.update("jax_enable_x64", True)  # level differences of ~1e-3 meV: float64
    levels = cf.doublet_energies(cf.SCHEIE_2020_MEV)
    print("doublets above the ground doublet [meV]:", levels[1:5])
    print("measured neutron peaks [meV]:          ", [float(v) for v in cf.SCHEIE_2020_PEAKS_MEV])
    g_ab, g_c = cf.ground_doublet_g(cf.SCHEIE_2020_MEV)
    print(f"ground doublet g_ab = {g_ab:.2f}, g_c = {g_c:.2f}")
    units = cf.mt_units()
    print(
        f"M/H in the MT file: {units['unit']} (median ratio {units['ratio_median']:.0f} "
        f"over {units['n_pairs']} matched points; N_A mu_B = {units['N_A_muB_emu_per_mol']:.0f})"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and netmag_workflows.wants_float64("crystal_field", sys.argv[1:]):
        jax.config.update("jax_enable_x64", True)  # as `netmag fit crystal_field` does
    sys.exit(cf.main(sys.argv[1:]) if len(sys.argv) > 1 else example())
