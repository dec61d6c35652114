"""Benchmark: jitted JAX Langevin charges (netmag_jax.classical) vs a vectorised NumPy twin.

Both sides run the same exact-rotation Boris / exact-OU scheme (O + B/2 A B/2, specular disk
wall) for the same number of electrons and steps, measuring the interior / edge / total orbital
moments at every step. Checks before timing: (1) with zero friction (no noise) the two
trajectories from the same initial state agree to round-off; (2) with the bath on, the
moments of both agree within their statistical errors. Then both are timed (JAX after its
compile) and the speed ratio printed. Runs in float64 on both sides.
"""

from __future__ import annotations

import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from netmag_jax import constants as const  # noqa: E402
from netmag_jax.classical import simulate_charges  # noqa: E402


# --- the NumPy twin (reduced units: length R, velocity v_th, time R/v_th) -------------------
def _rotate(vx, vy, angle):
    c, s = math.cos(angle), math.sin(angle)
    return c * vx - s * vy, s * vx + c * vy


def _drift_disk(x, y, vx, vy, h, n_bounce=3):
    t_left = np.full_like(x, h)
    for _ in range(n_bounce):
        ex, ey = x + t_left * vx, y + t_left * vy
        out = ex * ex + ey * ey > 1.0
        a = np.where(out, vx * vx + vy * vy, 1.0)
        b = x * vx + y * vy
        c = x * x + y * y - 1.0
        t_hit = np.clip((-b + np.sqrt(np.maximum(b * b - a * c, 0.0))) / a, 0.0, t_left)
        hx, hy = x + t_hit * vx, y + t_hit * vy
        inv = 1.0 / np.maximum(np.sqrt(hx * hx + hy * hy), 1e-30)
        nx, ny = hx * inv, hy * inv
        vn2 = 2.0 * (vx * nx + vy * ny)
        x, y = np.where(out, hx, ex), np.where(out, hy, ey)
        vx, vy = np.where(out, vx - vn2 * nx, vx), np.where(out, vy - vn2 * ny, vy)
        t_left = np.where(out, t_left - t_hit, 0.0)
    x, y = x + t_left * vx, y + t_left * vy
    rad = np.sqrt(x * x + y * y)
    shrink = np.where(rad > 1.0, 1.0 / np.maximum(rad, 1.0), 1.0)
    return x * shrink, y * shrink, vx, vy


def numpy_simulate(r, v, n_steps, omega, h, gamma_h, rng, record=False):
    """Same scheme and measurements as simulate_charges (disk, reduced units, charge < 0)."""
    c_ou = math.exp(-gamma_h)
    s_ou = math.sqrt(1.0 - c_ou * c_ou)
    x, y, vx, vy = r[:, 0].copy(), r[:, 1].copy(), v[:, 0].copy(), v[:, 1].copy()
    n = x.shape[0]
    acc_i, acc_e, acc_v2 = np.zeros(n), np.zeros(n), np.zeros(n)
    traj = []
    for _ in range(n_steps):
        if gamma_h > 0:
            xi = rng.standard_normal((2, n))
            vx, vy = c_ou * vx + s_ou * xi[0], c_ou * vy + s_ou * xi[1]
        vx, vy = _rotate(vx, vy, -0.5 * omega * h)
        x, y, vx, vy = _drift_disk(x, y, vx, vy, h)
        vx, vy = _rotate(vx, vy, -0.5 * omega * h)
        mom = -0.5 * (x * vy - y * vx)
        gx, gy = omega * x + vy, omega * y - vx
        v2 = vx * vx + vy * vy
        fits = np.sqrt(gx * gx + gy * gy) + np.sqrt(v2) <= abs(omega)
        acc_i += np.where(fits, mom, 0.0)
        acc_e += np.where(fits, 0.0, mom)
        acc_v2 += v2
        if record:
            traj.append(np.stack([x, y], axis=-1))
    means = [a / n_steps for a in (acc_i, acc_e, acc_i + acc_e)]
    sums = [(m.sum(), math.sqrt(n) * m.std(ddof=1)) for m in means]
    return sums, (np.array(traj) if record else None)


def main(quick: bool = False) -> dict:
    B, T, R = 1.0, 1.0, 0.2e-6
    n_particles, n_steps = (2000, 500) if quick else (10000, 2000)
    m, q = const.M_E, -const.E_CHARGE
    v_th = math.sqrt(const.K_B * T / m)
    omega_c = q * B / m
    dt = 0.2 / abs(omega_c)
    gamma = v_th / R
    omega, h = omega_c * R / v_th, dt * v_th / R
    unit = abs(q) * R * v_th

    # (1) deterministic part: no friction, same initial state -> same trajectory
    rng = np.random.default_rng(0)
    n_chk, s_chk = 200, 300
    u, phi = rng.uniform(size=n_chk), rng.uniform(0, 2 * np.pi, n_chk)
    r0 = np.sqrt(u)[:, None] * np.stack([np.cos(phi), np.sin(phi)], -1)
    v0 = rng.standard_normal((n_chk, 2))
    jr = simulate_charges(
        jax.random.key(0),
        B,
        T,
        R,
        n_particles=n_chk,
        n_steps=s_chk,
        dt=dt,
        friction=0.0,
        n_record=n_chk,
        positions=r0 * R,
        velocities=v0 * v_th,
    )
    sums_chk, traj = numpy_simulate(r0, v0, s_chk, omega, h, 0.0, rng, record=True)
    ni = sums_chk[0][0]
    traj_diff = float(np.max(np.abs(np.asarray(jr.trajectory) / R - traj)))
    int_rel = abs(float(jr.interior) / unit - ni) / abs(ni)
    print(
        f"deterministic check ({n_chk} electrons, {s_chk} steps, no bath): "
        f"max |r_jax - r_numpy| / R = {traj_diff:.2e}, interior moment rel. diff {int_rel:.1e}"
    )
    if traj_diff > 1e-8 or int_rel > 1e-8:
        raise AssertionError("JAX and NumPy trajectories disagree")

    # (2) with the bath: statistical agreement, and timing
    def run_jax(seed):
        res = simulate_charges(
            jax.random.key(seed),
            B,
            T,
            R,
            n_particles=n_particles,
            n_steps=n_steps,
            dt=dt,
            friction=gamma,
        )
        jax.block_until_ready(res.total)
        return res

    run_jax(1)  # compile
    t0 = time.perf_counter()
    res = run_jax(2)
    t_jax = time.perf_counter() - t0

    rng = np.random.default_rng(3)
    u, phi = rng.uniform(size=n_particles), rng.uniform(0, 2 * np.pi, n_particles)
    r0 = np.sqrt(u)[:, None] * np.stack([np.cos(phi), np.sin(phi)], -1)
    v0 = rng.standard_normal((n_particles, 2))
    t0 = time.perf_counter()
    sums, _ = numpy_simulate(r0, v0, n_steps, omega, h, gamma * dt, rng)
    t_np = time.perf_counter() - t0

    z = {}
    for name, (s_np, e_np) in zip(("interior", "edge", "total"), sums, strict=False):
        s_j = float(getattr(res, name)) / unit
        e_j = float(getattr(res, name + "_err")) / unit
        z[name] = (s_j - s_np) / math.hypot(e_j, e_np)
        print(
            f"  {name:8s}: jax {s_j:+.3f} +- {e_j:.3f}   numpy {s_np:+.3f} +- {e_np:.3f}   "
            f"(|q| R v_th units), z = {z[name]:+.2f}"
        )
    if max(abs(x) for x in z.values()) > 4.0:
        raise AssertionError("JAX and NumPy moments disagree beyond 4 sigma")
    ratio = t_np / t_jax
    print(
        f"{n_particles} electrons x {n_steps} steps: JAX (jit) {t_jax:.3f} s, "
        f"NumPy {t_np:.3f} s, NumPy/JAX = {ratio:.1f}x"
    )
    return {
        "n_particles": n_particles,
        "n_steps": n_steps,
        "jax_s": t_jax,
        "numpy_s": t_np,
        "speedup_vs_numpy": ratio,
        "trajectory_max_diff": traj_diff,
        "moment_z": z,
    }


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
