"""Benchmark: netmag_jax.statmech against NumPy / SciPy baselines, float64 on both sides.

1. SingleIon: thermal moment of Er3+ (J = 15/2, 16 x 16 Hamiltonian, trigonal crystal field)
   at N (B, T) points; JAX (jit + vmap, moment = -dF/dB by autodiff, methods 'eigh' and
   'expm') vs NumPy (batched ``np.linalg.eigh`` over the stack, moment from the Hellmann-Feynman
   thermal average -g mu_B <J>) and vs a plain Python loop of ``np.linalg.eigh``.
2. Paramagnet: moment at 10^5 (B, T) points by autodiff of the log-sum-exp free energy vs
   the NumPy closed form g J B_J(x) (coth form).
3. ElectronGas: chemical potential at 40 temperatures (optimistix Newton on Gauss-Legendre
   Fermi-Dirac integrals) vs SciPy (``brentq`` on ``quad`` integrals).
Each pair is checked to agree before timing; JAX is timed after its compile.
"""

from __future__ import annotations

import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from netmag_jax.constants import HBAR, K_B, M_E, MU_B, meV_to_J  # noqa: E402
from netmag_jax.statmech import (  # noqa: E402
    ElectronGas,
    Paramagnet,
    SingleIon,
    angular_momentum,
    brillouin,
    stevens_operator,
)

ER_CF = {
    (2, 0): -3.6e-2,
    (4, 0): -3.9e-4,
    (4, 3): -1.4e-2,
    (6, 0): 3.1e-6,
    (6, 3): -8.9e-6,
    (6, 6): 3.4e-6,
}  # meV, size of the CsErSe2 parameters


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _numpy_er_moment(B, T, batched=True):
    jx, jy, jz = angular_momentum(7.5)
    hcf = sum(meV_to_J(v) * stevens_operator(7.5, k, q) for (k, q), v in ER_CF.items())
    g = 1.2
    J = np.stack([jx, jy, jz])
    if batched:
        H = hcf[None] + g * MU_B * np.einsum("na,aij->nij", B, J)
        E, V = np.linalg.eigh(H)
        p = np.exp(-(E - E[:, :1]) / (K_B * T[:, None]))
        p /= p.sum(axis=1, keepdims=True)
        expJ = np.einsum("nim,aij,njm,nm->na", V.conj(), J, V, p).real
        return -g * expJ
    out = np.empty_like(B)
    for i in range(B.shape[0]):
        E, V = np.linalg.eigh(hcf + g * MU_B * np.einsum("a,aij->ij", B[i], J))
        p = np.exp(-(E - E[0]) / (K_B * T[i]))
        p /= p.sum()
        out[i] = -g * np.einsum("im,aij,jm,m->a", V.conj(), J, V, p).real
    return out


def bench_single_ion(n_points, repeat):
    rng = np.random.default_rng(0)
    B = rng.uniform(-9.0, 9.0, (n_points, 3))
    T = rng.uniform(1.8, 50.0, n_points)
    res = {}
    ref = _numpy_er_moment(B, T)
    np.testing.assert_allclose(
        _numpy_er_moment(B[:20], T[:20], batched=False), ref[:20], rtol=1e-10, atol=1e-12
    )
    t_np = _best(lambda: _numpy_er_moment(B, T), repeat)
    t_loop = _best(lambda: _numpy_er_moment(B, T, batched=False), max(1, repeat // 2))
    res["numpy_batched_s"], res["numpy_loop_s"] = t_np, t_loop
    Bj, Tj = jnp.asarray(B), jnp.asarray(T)
    for method in ("eigh", "expm"):
        ion = SingleIon(7.5, 1.2, {k: meV_to_J(v) for k, v in ER_CF.items()}, method=method)
        f = jax.jit(lambda b, t, ion=ion: ion.moment(b, t))
        np.testing.assert_allclose(f(Bj, Tj), ref, rtol=1e-8, atol=1e-10)
        t_j = _best(lambda f=f: f(Bj, Tj).block_until_ready(), repeat)
        res[f"jax_{method}_s"] = t_j
        res[f"speedup_{method}_vs_numpy_batched"] = t_np / t_j
        res[f"speedup_{method}_vs_numpy_loop"] = t_loop / t_j
    return res


def bench_paramagnet(n_points, repeat):
    rng = np.random.default_rng(1)
    B = rng.uniform(-10.0, 10.0, n_points)
    T = rng.uniform(0.5, 300.0, n_points)
    J, g = 3.5, 2.0

    def numpy_closed_form():
        x = g * MU_B * J * B / (K_B * T)
        a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
        return g * J * (a / np.tanh(a * x) - b / np.tanh(b * x))

    p = Paramagnet(J, g)
    f = jax.jit(lambda b, t: p.moment(b, t))
    Bj, Tj = jnp.asarray(B), jnp.asarray(T)
    np.testing.assert_allclose(f(Bj, Tj), numpy_closed_form(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        f(Bj, Tj), g * J * brillouin(J, g * MU_B * J * Bj / (K_B * Tj)), rtol=1e-12, atol=1e-14
    )
    t_np = _best(numpy_closed_form, repeat)
    t_j = _best(lambda: f(Bj, Tj).block_until_ready(), repeat)
    return {"numpy_closed_form_s": t_np, "jax_autodiff_s": t_j, "speedup_vs_numpy": t_np / t_j}


def bench_electron_gas(n_temps, repeat):
    from scipy.integrate import quad
    from scipy.optimize import brentq

    n = 2.65e28
    T = np.geomspace(10.0, 1e6, n_temps)
    nc_const = (M_E * K_B / (2 * math.pi * HBAR**2)) ** 1.5

    def f_half(eta):
        def g(t):
            return 2 * t * t / (math.exp(t * t - eta) + 1) if t * t - eta < 700 else 0.0

        a = math.sqrt(max(eta, 0.0))
        return (
            quad(g, 0, a, epsrel=1e-12, limit=200)[0]
            + quad(g, a, math.sqrt(max(eta, 0.0) + 60), epsrel=1e-12, limit=200)[0]
        ) / math.gamma(1.5)

    def scipy_mu():
        out = []
        for t in T:
            y = n / (2 * nc_const * t**1.5)
            out.append(
                K_B
                * t
                * brentq(lambda e: math.log(f_half(e) / y), -60.0, 1e5, xtol=1e-13, rtol=1e-13)
            )
        return np.array(out)

    gas = ElectronGas(n)
    f = jax.jit(lambda t: gas.chemical_potential(t))
    Tj = jnp.asarray(T)
    ref = scipy_mu()
    np.testing.assert_allclose(f(Tj), ref, rtol=1e-9, atol=1e-9 * K_B * T.max())
    t_sp = _best(scipy_mu, max(1, repeat // 2))
    t_j = _best(lambda: f(Tj).block_until_ready(), repeat)
    return {"scipy_brentq_quad_s": t_sp, "jax_newton_s": t_j, "speedup_vs_scipy": t_sp / t_j}


def main(quick: bool = False) -> dict:
    repeat = 3 if quick else 7
    results = {
        "single_ion_er3+": bench_single_ion(50 if quick else 200, repeat),
        "paramagnet": bench_paramagnet(10_000 if quick else 100_000, repeat),
        "electron_gas": bench_electron_gas(10 if quick else 40, repeat),
    }
    for name, res in results.items():
        print(f"== {name}")
        for k, v in res.items():
            print(f"   {k:34s} {v:.4g}")
    return results


if __name__ == "__main__":
    main()
