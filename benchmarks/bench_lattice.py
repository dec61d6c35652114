"""Checkerboard Metropolis for the 2D Ising model: netmag_jax's general kernel (XLA, rolls +
colour masks, ``lattice.evolve``) and its specialised ``lattice.ising_square_metropolis``
(packed int8 checkerboard, counter-hash RNG) against a vectorised NumPy implementation of the
same algorithm, on the same lattice, in one process; plus classical Heisenberg updates per
second on a cubic lattice.

Both sides: per colour of the checkerboard, local field from the four rolled neighbours,
dE = 2 J s h, accept where u < exp(-dE/T), flip. Checked first: both give the same energy and
|m| at T = 2.0 J/k_B (to statistical accuracy) before timing.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from netmag_jax import lattice as nl


def numpy_sweeps(s, T, n_sweeps, rng):
    """Vectorised NumPy checkerboard Metropolis, J = 1, s [L, L] of +-1 (float32)."""
    L = s.shape[0]
    ij = np.add.outer(np.arange(L), np.arange(L))
    masks = [(ij % 2) == c for c in (0, 1)]
    for _ in range(n_sweeps):
        for mask in masks:
            h = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            dE = 2.0 * s * h
            acc = mask & (rng.random(s.shape, dtype=np.float32) < np.exp(-dE / T))
            s = np.where(acc, -s, s)
    return s


def _neighbour_sum(s):
    """Sum of the six rolled neighbours of s [L, L, L, 3] (periodic simple cubic)."""
    return sum(np.roll(s, sh, ax) for ax in range(3) for sh in (1, -1))


def numpy_heisenberg_sweeps(s, T, n_sweeps, rng):
    """Vectorised NumPy twin of ``lattice.evolve(Heisenberg(cubic(L)), ..., n_overrelax=1)``:
    J = 1, s [L, L, L, 3] float32 unit vectors; per sweep a Metropolis pass (uniformly random
    new direction, accepted where u < exp(-dE/T), dE = -(s_new - s_old) . h) over the two
    checkerboard colours, then an over-relaxation pass s -> 2 (s.h / h.h) h - s."""
    L = s.shape[0]
    par = np.add.outer(np.add.outer(np.arange(L), np.arange(L)), np.arange(L)) % 2
    masks = [par == c for c in (0, 1)]
    for _ in range(n_sweeps):
        for mask in masks:
            h = _neighbour_sum(s)
            u = rng.random(s.shape, dtype=np.float32)
            phi, z = np.float32(2 * np.pi) * u[..., 0], 2 * u[..., 1] - 1
            rho = np.sqrt(np.maximum(1 - z * z, 0))
            new = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)
            dE = -np.sum((new - s) * h, axis=-1)
            acc = mask & (u[..., 2] < np.exp(-dE / np.float32(T)))
            s = np.where(acc[..., None], new, s)
        for mask in masks:
            h = _neighbour_sum(s)
            proj = np.sum(s * h, axis=-1, keepdims=True) / np.sum(h * h, axis=-1, keepdims=True)
            s = np.where(mask[..., None], 2 * proj * h - s, s)
    return s


def heisenberg(quick: bool, key) -> dict:
    """Heisenberg Metropolis + over-relaxation on L^3 simple cubic: same energy, then
    site updates per second of lattice.evolve and of the NumPy twin."""
    Lh = 16 if quick else 32
    nh = 10 if quick else 30
    T = 1.0  # below Tc = 1.443 J/k_B
    hm = nl.Heisenberg(nl.cubic(Lh))
    up = np.zeros((Lh, Lh, Lh, 3), np.float32)
    up[..., 2] = 1.0
    n_eq = 50
    sj = nl.evolve(hm, key, jnp.asarray(up.reshape(-1, 3)), T, n_eq, n_overrelax=1)
    sn = numpy_heisenberg_sweeps(up, T, n_eq, np.random.default_rng(2))
    e = [
        float(np.sum(x * _neighbour_sum(x)) / (-2 * x[..., 0].size))
        for x in (np.asarray(sj).reshape(up.shape), sn)
    ]
    # one configuration each; sigma(E/N) ~ sqrt(C T^2 / N), C < 2 k_B
    assert abs(e[0] - e[1]) < 6 * np.sqrt(2.0 * T * T / Lh**3), e
    f_h = lambda: nl.evolve(hm, key, sj, T, nh, n_overrelax=1).block_until_ready()  # noqa
    f_h()  # compile
    t_h = _time(f_h)
    rng = np.random.default_rng(3)
    t_n = _time(lambda: numpy_heisenberg_sweeps(sn, T, nh, rng), repeat=2)
    # CPU seconds (all threads): the fair figure on a shared, loaded machine
    c_h = _time(f_h, clock=time.process_time)
    c_n = _time(lambda: numpy_heisenberg_sweeps(sn, T, nh, rng), repeat=2, clock=time.process_time)
    updates = Lh**3 * nh * 2  # Metropolis + over-relaxation
    return {
        "heisenberg_ratio_cpu_time": c_n / c_h,
        "heisenberg_L": Lh,
        "heisenberg_energy_per_site": {"jax": e[0], "numpy": e[1]},
        "heisenberg_updates_per_s": updates / t_h,
        "heisenberg_numpy_updates_per_s": updates / t_n,
        "heisenberg_ratio": t_n / t_h,
    }


def energy_m(s):
    s = np.asarray(s, dtype=np.float64).reshape(int(np.sqrt(s.size)), -1)
    e = -np.mean(s * np.roll(s, 1, 0) + s * np.roll(s, 1, 1))
    return e, abs(s.mean())


def _time(f, repeat=3, clock=time.perf_counter):
    """Best of ``repeat`` calls, by wall clock (or by ``clock``, e.g. process CPU time)."""
    best = np.inf
    for _ in range(repeat):
        t = clock()
        f()
        best = min(best, clock() - t)
    return best


def main(quick: bool = False) -> dict:
    L = 256 if quick else 1024
    n = 20 if quick else 50
    T = 2.0
    model = nl.Ising(nl.square(L))
    up = jnp.ones((L * L, 1), jnp.float32)
    key = jax.random.key(0)

    # same physics: equilibrate both from the ordered state at T = 2.0
    n_eq = 100 if quick else 200
    sj = nl.evolve(model, key, up, T, n_eq)
    sn = numpy_sweeps(np.ones((L, L), np.float32), T, n_eq, np.random.default_rng(0))
    (ej, mj), (en, mn) = energy_m(sj), energy_m(sn)
    # one configuration each: sigma(E/N) = sqrt(C T^2 / N) with C ~ 0.8 k_B near T = 2.0
    tol = 6.0 * np.sqrt(2 * 0.8 * T * T / (L * L))
    assert abs(ej - en) < tol and abs(mj - mn) < tol, (ej, en, mj, mn, tol)

    # the specialised kernel: packed int8 checkerboard, counter-hash RNG, acceptance table
    sf = nl.ising_square_metropolis(jnp.ones((L, L), jnp.int8), T, n_eq, key)
    m_f, e_f = (float(v) for v in nl.ising_square_observables(sf))
    assert abs(e_f - en) < tol and abs(abs(m_f) - mn) < tol, (e_f, en, m_f, mn, tol)

    f_jax = lambda: nl.evolve(model, key, sj, T, n).block_until_ready()  # noqa: E731
    f_jax()  # compile
    t_jax = _time(f_jax)
    f_fast = lambda: nl.ising_square_metropolis(sf, T, n, key).block_until_ready()  # noqa: E731
    f_fast()  # compile
    t_fast = _time(f_fast)
    rng = np.random.default_rng(1)
    t_np = _time(lambda: numpy_sweeps(sn, T, n, rng), repeat=2)
    flips = L * L * n
    res = {
        "L": L,
        "sweeps": n,
        "energy_per_site": {"jax": ej, "fast": e_f, "numpy": en},
        "jax_flips_per_s": flips / t_jax,
        "fast_flips_per_s": flips / t_fast,
        "numpy_flips_per_s": flips / t_np,
        "ratio_jax_over_numpy": t_np / t_jax,
        "ratio_fast_over_numpy": t_np / t_fast,
        "spin_memory_bytes": int(L * L * 4),
        "fast_spin_memory_bytes": int(L * L),
    }

    res.update(heisenberg(quick, key))

    print(f"2D Ising L={L}, {n} sweeps, T=2.0: E/N jax {ej:.4f} numpy {en:.4f}")
    print(f"  general (lattice.evolve)          : {res['jax_flips_per_s'] / 1e6:8.1f} Mflips/s")
    print(f"  lattice.ising_square_metropolis   : {res['fast_flips_per_s'] / 1e6:8.1f} Mflips/s")
    print(f"  NumPy                             : {res['numpy_flips_per_s'] / 1e6:8.1f} Mflips/s")
    print(
        f"  ratio general/numpy = {res['ratio_jax_over_numpy']:.1f}x; "
        f"ising_square_metropolis/numpy = {res['ratio_fast_over_numpy']:.1f}x "
        "(goal >= 20x and >= 1e9 flips/s)"
    )
    print(
        f"Heisenberg cubic L={res['heisenberg_L']}, T=1.0: E/N jax "
        f"{res['heisenberg_energy_per_site']['jax']:.4f} numpy "
        f"{res['heisenberg_energy_per_site']['numpy']:.4f}\n"
        f"  lattice.evolve (Metropolis + over-relaxation): "
        f"{res['heisenberg_updates_per_s'] / 1e6:8.1f} M site updates/s\n"
        f"  NumPy twin                                   : "
        f"{res['heisenberg_numpy_updates_per_s'] / 1e6:8.1f} M site updates/s\n"
        f"  ratio = {res['heisenberg_ratio']:.2f}x wall, "
        f"{res['heisenberg_ratio_cpu_time']:.2f}x CPU time (goal >= 10x)"
    )
    return res


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
