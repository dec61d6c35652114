"""Bloch engine throughput on one accelerator: spin-steps per second, float32.

Two workloads through the public ``mri.simulate`` (fast engine, default options):

* RF: a 512-step sinc pulse under a slice-select gradient (every step a full rotation plus
  relaxation); goal >= 1e11 spin-steps/s for 1e6 spins on one H100-class GPU;
* free precession: a 256-sample readout under a constant gradient (complex multiply and
  coil sum per spin and step); goal >= 1e12 spin-steps/s.

Each result is checked against ``method="reference"`` on the first 1000 spins before timing.
``python benchmarks/gpu_bloch.py [--spins N] [--quick]`` (``--quick``: 1e4 spins, any
device, for a correctness run on CPU).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np


def _best(f, repeat):
    f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def _workloads(N):
    import jax.numpy as jnp

    from netmag_jax import mri

    rng = np.random.default_rng(0)
    pos = jnp.asarray(rng.uniform(-0.1, 0.1, (N, 3)), jnp.float32)
    T1 = jnp.asarray(rng.uniform(0.3, 1.5, N), jnp.float32)
    T2 = jnp.asarray(rng.uniform(0.02, 0.2, N), jnp.float32)
    spins = mri.Spins(pos, T1, T2, M0=1.0)
    n_rf = 512
    rf = mri.sinc(math.pi / 2, 2e-3, 6.0, n_rf).astype(jnp.complex64)
    g_rf = (
        jnp.zeros((n_rf, 3), jnp.float32).at[:, 2].set(mri.slice_select_gradient(6.0, 2e-3, 5e-3))
    )
    n_ro = 256
    M_tr = jnp.tile(jnp.array([[1.0, 0.0, 0.0]], jnp.float32), (N, 1))
    g_ro = jnp.tile(jnp.array([[1e-2, 0.0, 0.0]], jnp.float32), (n_ro, 1))
    return {
        "rf": (n_rf, (rf, g_rf, jnp.float32(2e-3 / n_rf), spins), {}),
        "free_precession": (
            n_ro,
            (jnp.zeros(n_ro, jnp.complex64), g_ro, jnp.float32(1e-5), spins),
            {"adc": np.arange(n_ro), "M_init": M_tr},
        ),
    }


def _check(args, kw, N):
    """Fast vs reference on the first min(N, 1000) spins (float32 rounding)."""
    import jax.numpy as jnp

    from netmag_jax import mri

    n = min(N, 1000)
    sp = args[3]
    small = mri.Spins(sp.positions[:n], sp.T1[:n], sp.T2[:n], M0=sp.M0[:n])
    kw = dict(kw)
    if "M_init" in kw:
        kw["M_init"] = kw["M_init"][:n]
    a = mri.simulate(*args[:3], small, **kw)
    b = mri.simulate(*args[:3], small, method="reference", **kw)
    return float(jnp.max(jnp.abs(a.M - b.M)))


def main(argv=None) -> dict:
    import jax

    from netmag_jax import mri

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spins", type=float, default=1e6)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    N = 10_000 if a.quick else int(a.spins)
    out = {"device": str(jax.devices()[0]), "spins": N}
    goals = {"rf": 1e11, "free_precession": 1e12}
    for name, (n_steps, args, kw) in _workloads(N).items():
        out[f"{name}_max_abs_diff_vs_reference"] = _check(args, kw, N)

        def run(args=args, kw=kw):
            return jax.block_until_ready(mri.simulate(*args, **kw).M)

        t = _best(run, a.repeat)
        out[f"{name}_spin_steps_per_s (goal >= {goals[name]:.0e})"] = n_steps * N / t
    for k, v in out.items():
        print(f"{k:50s} {v:.4g}" if isinstance(v, float) else f"{k:50s} {v}")
    return out


if __name__ == "__main__":
    main()
