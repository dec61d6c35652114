"""Bloch engine speed vs sigpy's ``abrm`` and a NumPy reference loop (same pulse, same spins).

1. RF simulation of a 512-sample SLR pulse (sigpy.mri.rf.dzrf) over 20 000 positions:
   netmag_jax ``cayley_klein`` (float32 and float64) vs sigpy ``sim.abrm`` (NumPy, complex128).
2. Full Bloch (rotation + relaxation) of a sinc pulse with a slice gradient:
   netmag_jax ``simulate`` vs a NumPy loop over time vectorised over spins (Rodrigues).
Agreement is checked before timing; the speed is reported in spin-steps per second.
"""

from __future__ import annotations

import math
import time

import numpy as np


def _best(f, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def _numpy_bloch(rf, g, dt, pos, T1, T2, M0, gamma):
    """Reference: per step, exact rotation (Rodrigues) then relaxation, NumPy over spins."""
    N = pos.shape[0]
    M = np.zeros((N, 3))
    M[:, 2] = M0
    for k in range(len(dt)):
        w = (
            -gamma
            * dt[k]
            * np.stack([np.full(N, rf[k].real), np.full(N, rf[k].imag), pos @ g[k]], -1)
        )
        th = np.sqrt(np.sum(w * w, -1, keepdims=True))
        n = w / np.where(th > 0, th, 1.0)
        c, s = np.cos(th), np.sin(th)
        M = c * M + s * np.cross(n, M) + (1 - c) * np.sum(n * M, -1, keepdims=True) * n
        e2, e1 = np.exp(-dt[k] / T2), np.exp(-dt[k] / T1)
        M[:, 0] *= e2
        M[:, 1] *= e2
        M[:, 2] = M0 + (M[:, 2] - M0) * e1
    return M


def main(quick: bool = False) -> dict:
    import jax
    import jax.numpy as jnp

    from netmag_jax import mri
    from netmag_jax.constants import GAMMA_1H

    results = {"device": str(jax.devices()[0])}
    n_t = 512
    n_x = 2000 if quick else 20000
    repeat = 2 if quick else 3
    x = np.linspace(-8, 8, n_x)

    # --- 1. SLR pulse, rotation only: vs sigpy abrm ---------------------------------------------
    try:
        import sigpy.mri.rf as sprf
    except ImportError:  # sigpy is optional (bench extra)
        sprf = None
    dt = 1e-5
    if sprf is not None:
        pulse = sprf.dzrf(n=n_t, tb=8, ptype="ex", ftype="ls", d1=0.01, d2=0.01)
    else:
        pulse = np.asarray(mri.sinc(math.pi / 2, n_t * dt, 8.0, n_t)) * GAMMA_1H * dt
    # sigpy rotates by +rf and +x 2 pi / n per step; ours by -gamma B dt: negate both
    B1 = -np.asarray(pulse) / (GAMMA_1H * dt)
    G = -2 * np.pi / n_t / (GAMMA_1H * dt)
    grad = np.tile([[0.0, 0.0, G]], (n_t, 1))
    pos = np.stack([0 * x, 0 * x, x], -1)
    for name, fdt, cdt in [
        ("float32", jnp.float32, jnp.complex64),
        ("float64", jnp.float64, jnp.complex128),
    ]:
        if name == "float64" and not jax.config.jax_enable_x64:
            continue
        args = (
            jnp.asarray(B1, cdt),
            jnp.asarray(grad, fdt),
            jnp.asarray(dt, fdt),
            jnp.asarray(pos, fdt),
        )
        f = jax.jit(mri.cayley_klein)
        a, b = f(*args)
        jax.block_until_ready(b)
        t = _best(lambda f=f, args=args: jax.block_until_ready(f(*args)), repeat)
        results[f"netmag_cayley_klein_{name}_s"] = t
        results[f"netmag_cayley_klein_{name}_spin_steps_per_s"] = n_t * n_x / t
        results[f"_ab_{name}"] = (np.asarray(a), np.asarray(b))
    if sprf is not None:
        a_s, b_s = sprf.sim.abrm(pulse, x)
        t_sp = _best(lambda: sprf.sim.abrm(pulse, x), 1)
        results["sigpy_abrm_s"] = t_sp
        results["sigpy_abrm_spin_steps_per_s"] = n_t * n_x / t_sp
        for name in ("float32", "float64"):
            if f"_ab_{name}" in results:
                a, b = results[f"_ab_{name}"]
                err = float(np.max(np.abs(2 * np.conj(a) * b - 2 * np.conj(a_s) * b_s)))
                results[f"max_abs_diff_mxy_{name}_vs_sigpy"] = err
                results[f"speedup_{name}_vs_sigpy"] = (
                    t_sp / results[f"netmag_cayley_klein_{name}_s"]
                )
    for k in [k for k in results if k.startswith("_ab_")]:
        del results[k]

    # --- 2. full Bloch with relaxation vs NumPy loop -----------------------------------------
    n_b = 1000 if quick else 10000
    tau, nr = 2e-3, 256
    rf = np.asarray(mri.sinc(math.pi / 2, tau, 4.0, nr))
    Gz = float(mri.slice_select_gradient(4.0, tau, 5e-3))
    g = np.tile([[0.0, 0.0, Gz]], (nr, 1))
    dts = np.full(nr, tau / nr)
    z = np.linspace(-1e-2, 1e-2, n_b)
    posb = np.stack([0 * z, 0 * z, z], -1)
    T1, T2 = 0.8, 0.05
    t0 = time.perf_counter()
    M_np = _numpy_bloch(rf, g, dts, posb, T1, T2, 1.0, GAMMA_1H)
    t_np = time.perf_counter() - t0
    results["numpy_bloch_s"] = t_np
    results["numpy_bloch_spin_steps_per_s"] = nr * n_b / t_np
    fdt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    sp = mri.Spins(jnp.asarray(posb, fdt), T1, T2, M0=1.0)
    sim = jax.jit(lambda r, gg, d, s: mri.simulate(r, gg, d, s, checkpoint=None).M)
    argsb = (jnp.asarray(rf), jnp.asarray(g, fdt), jnp.asarray(dts, fdt), sp)
    M_j = jax.block_until_ready(sim(*argsb))
    t_j = _best(lambda: jax.block_until_ready(sim(*argsb)), repeat)
    results["netmag_simulate_s"] = t_j
    results["netmag_simulate_spin_steps_per_s"] = nr * n_b / t_j
    results["max_abs_diff_M_vs_numpy"] = float(np.max(np.abs(np.asarray(M_j) - M_np)))
    results["speedup_simulate_vs_numpy"] = t_np / t_j
    # gradient of a loss w.r.t. all RF samples (what pulse design needs)
    loss = jax.jit(jax.grad(lambda r: jnp.sum(mri.simulate(r, argsb[1], argsb[2], sp).M[:, 2])))
    jax.block_until_ready(loss(argsb[0]))
    t_g = _best(lambda: jax.block_until_ready(loss(argsb[0])), repeat)
    results["netmag_grad_rf_s"] = t_g
    results["grad_over_forward"] = t_g / t_j

    for k, v in results.items():
        print(f"{k:48s} {v:.4g}" if isinstance(v, float) else f"{k:48s} {v}")
    return results


if __name__ == "__main__":
    import sys

    if "--x64" in sys.argv:
        import jax

        jax.config.update("jax_enable_x64", True)
    main(quick="--quick" in sys.argv)
