"""Example: T1 of the 14 spheres of a synthetic ISMRM/NIST phantom with the relaxometry workflow.

    python fitting/example_relaxometry.py             # this example, through the Python API
    python fitting/example_relaxometry.py ARGS ...    # the same as: netmag fit relaxometry ARGS

Magnitude inversion recovery (12 TIs, SNR 200) fitted voxel by voxel with polarity
restoration; the sphere means are printed next to the phantom's 3 T reference T1.
"""

import sys

import jax

import numpy as np

from netmag_jax.fit import workflows as netmag_workflows
from netmag_jax.fit.workflows import relaxometry


def example() -> None:
    d = relaxometry.synth("ir", seed=0)
    labels = d["labels"]
    res, _ = relaxometry.fit_ir_magnitude(d["protocol"]["ti"], d["data"], mask=labels > 0)
    t1 = np.asarray(res.params[..., 2])
    print("sphere   T1 fitted [s]   T1 reference [s]")
    for k, ref in enumerate(relaxometry.NIST_T1_3T, start=1):
        print(f"{k:6d}   {t1[labels == k].mean():13.4f}   {ref:16.4f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and netmag_workflows.wants_float64("relaxometry", sys.argv[1:]):
        jax.config.update("jax_enable_x64", True)  # as `netmag fit relaxometry` does
    sys.exit(relaxometry.main(sys.argv[1:]) if len(sys.argv) > 1 else example())
