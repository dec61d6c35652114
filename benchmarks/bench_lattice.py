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


def energy_m(s):
    s = np.asarray(s, dtype=np.float64).reshape(int(np.sqrt(s.size)), -1)
    e = -np.mean(s * np.roll(s, 1, 0) + s * np.roll(s, 1, 1))
    return e, abs(s.mean())


def _time(f, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
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

    Lh = 16 if quick else 32
    hm = nl.Heisenberg(nl.cubic(Lh))
    hs = jnp.zeros((Lh**3, 3), jnp.float32).at[:, 2].set(1.0)
    nh = 10 if quick else 30
    f_h = lambda: nl.evolve(hm, key, hs, 1.4, nh, n_overrelax=1).block_until_ready()  # noqa
    f_h()
    t_h = _time(f_h)
    res["heisenberg_L"] = Lh
    res["heisenberg_updates_per_s"] = Lh**3 * nh * 2 / t_h  # Metropolis + over-relaxation

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
        f"Heisenberg cubic L={Lh}: {res['heisenberg_updates_per_s'] / 1e6:.1f} M site "
        "updates/s (Metropolis + over-relaxation)"
    )
    return res


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
