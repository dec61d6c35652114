"""Pulse-design kernel vs sigpy's SLR simulator ``sigpy.mri.rf.sim.abrm``.

Same pulse (a 256-sample SLR 90° pulse) and same spins (positions across the slice). After a
check that both compute the same Cayley–Klein parameters, times: sigpy ``abrm`` (NumPy loop
over samples, vectorised over spins), our exact-rotation kernel (float64 and float32), our
hard-pulse kernel, and our hard-pulse loss *with its gradient* w.r.t. all RF samples (what one
design iteration needs). All jitted and warmed up first; one process; best of repeats.
"""

from __future__ import annotations

import time

import numpy as np


def _best(f, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main(quick: bool = False) -> dict:
    import jax
    import jax.numpy as jnp
    from sigpy.mri.rf import dzrf
    from sigpy.mri.rf.sim import abrm

    from netmag_jax.constants import GAMMA_1H_HZ
    from netmag_jax.mri import design

    n, T, tb, dz = 256, 2.56e-3, 8.0, 5e-3
    n_pos = 2000 if quick else 20000
    repeats = 3 if quick else 5
    dt = T / n
    G = tb / T / GAMMA_1H_HZ / dz
    rf_sig = dzrf(n, tb, "ex", "ls")
    rf = design.slr_pulse(n, T, tb, "ex")  # = rf_sig / (gamma dt)
    z = np.linspace(-2 * dz, 2 * dz, n_pos)
    x_sig = -GAMMA_1H_HZ * G * z * T  # sigpy's position units

    def ours(dtype, rule):
        cd = jnp.complex128 if dtype == jnp.float64 else jnp.complex64
        f = jax.jit(
            lambda r: design.simulate_pulse(
                r,
                G,
                dt,
                jnp.asarray(z, dtype),
                jnp.zeros(1, dtype),
                jnp.ones(1, dtype),
                rule=rule,
            )
        )
        r = jnp.asarray(rf, cd)
        out = jax.block_until_ready(f(r))
        return f, r, out

    # agreement: alpha = sigpy alpha, beta = -sigpy beta (convention, see slr_pulse)
    a_s, b_s = abrm(rf_sig, x_sig)
    f64, r64, o64 = (
        ours(jnp.float64, "exact") if jax.config.read("jax_enable_x64") else (None, None, None)
    )
    f32, r32, o32 = ours(jnp.float32, "exact")
    fh, rh, oh = ours(jnp.float32, "hard")
    err32 = float(np.max(np.abs(np.asarray(o32["beta"][0, 0]) + b_s)))
    errh = float(np.max(np.abs(np.asarray(oh["beta"][0, 0]) + b_s)))
    assert err32 < 1e-4, err32
    assert errh < 5e-3, errh
    if o64 is not None:
        err64 = float(np.max(np.abs(np.asarray(o64["beta"][0, 0]) + b_s)))
        assert err64 < 1e-10, err64

    target = design.slice_target("excitation", dz, fov=4 * dz, n_positions=n_pos)
    target = jax.tree_util.tree_map(
        lambda v: (
            v.astype(jnp.complex64 if jnp.iscomplexobj(v) else jnp.float32)
            if isinstance(v, jax.Array)
            else v
        ),
        target,
    )
    gvec = jnp.full(n, G, jnp.float32)
    loss_grad = jax.jit(
        jax.value_and_grad(
            lambda re, im: design.profile_loss(
                target, jax.lax.complex(re, im), gvec, jnp.float32(dt), "hard", True
            ),
            argnums=(0, 1),
        )
    )
    re, im = jnp.asarray(rf.real, jnp.float32), jnp.asarray(rf.imag, jnp.float32)
    jax.block_until_ready(loss_grad(re, im))

    t_sig = _best(lambda: abrm(rf_sig, x_sig), max(1, repeats - 2))
    t32 = _best(lambda: jax.block_until_ready(f32(r32)), repeats)
    th = _best(lambda: jax.block_until_ready(fh(rh)), repeats)
    tg = _best(lambda: jax.block_until_ready(loss_grad(re, im)), repeats)
    res = {
        "n_samples": n,
        "n_spins": n_pos,
        "sigpy_abrm_s": t_sig,
        "exact_f32_s": t32,
        "hard_f32_s": th,
        "hard_f32_loss_and_grad_s": tg,
        "max_abs_beta_diff_exact_f32": err32,
        "max_abs_beta_diff_hard": errh,
        "speedup_exact_f32": t_sig / t32,
        "speedup_hard_f32": t_sig / th,
        "speedup_loss_and_grad_vs_sigpy_forward": t_sig / tg,
    }
    if f64 is not None:
        t64 = _best(lambda: jax.block_until_ready(f64(r64)), repeats)
        res.update(exact_f64_s=t64, speedup_exact_f64=t_sig / t64)
    steps = n * n_pos
    print(f"pulse simulation: {n} samples x {n_pos} spins ({steps:.2e} spin-steps), 1 process")
    print(
        f"  sigpy abrm (float64)          {t_sig * 1e3:9.2f} ms   {steps / t_sig:.2e} spin-steps/s"
    )
    if f64 is not None:
        print(
            f"  ours exact, float64            {res['exact_f64_s'] * 1e3:9.2f} ms   "
            f"x{res['speedup_exact_f64']:.1f}"
        )
    print(f"  ours exact, float32            {t32 * 1e3:9.2f} ms   x{t_sig / t32:.1f}")
    print(f"  ours hard-pulse, float32       {th * 1e3:9.2f} ms   x{t_sig / th:.1f}")
    print(
        f"  ours loss + gradient, float32  {tg * 1e3:9.2f} ms   x{t_sig / tg:.1f} "
        f"(vs sigpy forward only)"
    )
    print(f"  agreement with sigpy: |dbeta| exact f32 {err32:.1e}, hard {errh:.1e}")
    return res


if __name__ == "__main__":
    import sys

    if "--x64" in sys.argv:
        import jax

        jax.config.update("jax_enable_x64", True)
    main(quick="--quick" in sys.argv)
