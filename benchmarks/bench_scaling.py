"""Strong and weak scaling of a Bloch simulation over the devices present.

The spin axis of an MRI simulation is split across a 1-D device mesh
(``mri.shard_spins``); under ``jit`` each device simulates its own spins and the received
signal becomes an all-reduce. Strong scaling: a fixed number of spins on 1, 2, 4, ...
devices (ideal: time / n_devices). Weak scaling: a fixed number of spins per device (ideal:
constant time). The peer is the single-device run of the same code; the printed ratios are
speed-ups (strong) and efficiencies (weak).

On a CPU-only machine there is one device; fake several with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (they share the same cores, so the
numbers then show the overhead of sharding, not a speed-up). On a multi-GPU host it measures
real scaling.
"""

from __future__ import annotations

import math
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from netmag_jax import mri
from netmag_jax.parallel import device_mesh


def _best(f, repeat=3):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(f())
        ts.append(time.perf_counter() - t0)
    return min(ts)


def _problem(n_spins, n_steps, dtype):
    rf = jnp.asarray(mri.sinc(math.pi / 2, 2e-3, time_bandwidth=4.0, n=n_steps))
    dt = jnp.full(rf.shape, 2e-3 / n_steps, dtype)
    g = jnp.zeros((n_steps, 3), dtype).at[:, 2].set(10e-3)
    z = jnp.linspace(-0.01, 0.01, n_spins, dtype=dtype)
    pos = jnp.stack([jnp.zeros_like(z), jnp.zeros_like(z), z], -1)
    spins = mri.Spins(
        positions=pos,
        T1=jnp.full(z.shape, 1.0, dtype),
        T2=jnp.full(z.shape, 0.1, dtype),
        M0=jnp.ones_like(z),
    )
    return rf.astype(jnp.complex64 if dtype == jnp.float32 else jnp.complex128), g, dt, spins


def main(quick: bool = False) -> dict:
    devices = jax.devices()
    n_dev_all = len(devices)
    counts = [n for n in (1, 2, 4, 8, 16, 32, 64) if n <= n_dev_all]
    n_steps = 64 if quick else 256
    n_strong = 8192 if quick else 65536
    per_dev = 2048 if quick else 16384
    dtype = jnp.float32
    run = jax.jit(lambda rf, g, dt, s: mri.simulate(rf, g, dt, s).M)

    print(f"devices: {n_dev_all} x {devices[0].platform}; {n_steps} steps, float32")
    out = {"devices": n_dev_all, "platform": devices[0].platform, "strong": [], "weak": []}
    t1_strong = t1_weak = None
    rf, g, dt, spins = _problem(n_strong, n_steps, dtype)
    ref = np.asarray(run(rf, g, dt, spins))
    for n in counts:
        mesh = device_mesh(devices[:n])
        sh = mri.shard_spins(spins, mesh)
        M = np.asarray(run(rf, g, dt, sh))
        assert np.max(np.abs(M - ref)) < 1e-5, "sharded result differs from single device"
        t = _best(partial(run, rf, g, dt, sh))
        t1_strong = t if n == 1 else t1_strong
        out["strong"].append({"devices": n, "seconds": t, "speedup": t1_strong / t})
        print(
            f"strong  {n:3d} devices  {n_strong} spins  {t * 1e3:8.2f} ms  "
            f"speed-up {t1_strong / t:5.2f}x (ideal {n}x)"
        )
    for n in counts:
        rf, g, dt, spins = _problem(per_dev * n, n_steps, dtype)
        sh = mri.shard_spins(spins, device_mesh(devices[:n]))
        jax.block_until_ready(run(rf, g, dt, sh))
        t = _best(partial(run, rf, g, dt, sh))
        t1_weak = t if n == 1 else t1_weak
        out["weak"].append({"devices": n, "seconds": t, "efficiency": t1_weak / t})
        print(
            f"weak    {n:3d} devices  {per_dev * n} spins  {t * 1e3:8.2f} ms  "
            f"efficiency {t1_weak / t:5.2f} (ideal 1.00)"
        )
    return out


if __name__ == "__main__":
    main()
