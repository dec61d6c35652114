"""Micromagnetic effective field and LLG step on the muMAG standard problem 4 mesh.

netmag_jax (jit, float64 and float32) against a NumPy implementation of the same
finite-difference model (exchange + Newell demag by FFT + Zeeman, geometric Heun step), and
against magnum.np (PyTorch, CPU, float64) when it is installed: effective field, demag field
alone, and one Heun step (two field evaluations), on the same mesh. Prints ratios.
"""

from __future__ import annotations

import time

import numpy as np


def _timeit(f, n_min=5, t_min=0.5):
    f()  # warm-up / compile
    n, t0 = 0, time.perf_counter()
    while n < n_min or time.perf_counter() - t0 < t_min:
        f()
        n += 1
    return (time.perf_counter() - t0) / n


# --- NumPy reference implementation ----------------------------------------------------------
class NumpyMicromagnet:
    """Exchange + demag (FFT convolution with the Newell tensor) + Zeeman, in NumPy float64."""

    def __init__(self, shape, cell, Ms, A, H_ext):
        from netmag_jax import dynamics as dyn

        self.shape, self.cell, self.Ms, self.A = shape, cell, Ms, A
        self.H_ext = np.asarray(H_ext, float)
        self.pad = tuple(2 * n if n > 1 else 1 for n in shape)
        offs = []
        for n, d in zip(shape, cell, strict=False):
            idx = np.concatenate([np.arange(n), [0], np.arange(-(n - 1), 0)]) if n > 1 else [0]
            offs.append(np.asarray(idx, float) * d)
        X, Y, Z = np.meshgrid(*offs, indexing="ij")
        K = dyn.demag_tensor(X, Y, Z, cell)
        for ax, n in enumerate(shape):
            if n > 1:
                sl = [slice(None)] * 4
                sl[ax + 1] = n
                K[tuple(sl)] = 0.0
        self.Kk = np.fft.rfftn(K, axes=(1, 2, 3)).real

    def field(self, m):
        from netmag_jax import constants as C

        Mk = np.fft.rfftn(self.Ms * m, s=self.pad, axes=(0, 1, 2))
        xx, yy, zz, xy, xz, yz = self.Kk
        Hk = np.stack(
            [
                xx * Mk[..., 0] + xy * Mk[..., 1] + xz * Mk[..., 2],
                xy * Mk[..., 0] + yy * Mk[..., 1] + yz * Mk[..., 2],
                xz * Mk[..., 0] + yz * Mk[..., 1] + zz * Mk[..., 2],
            ],
            axis=-1,
        )
        nx, ny, nz = self.shape
        H = -np.fft.irfftn(Hk, s=self.pad, axes=(0, 1, 2))[:nx, :ny, :nz]
        mp = np.pad(m, ((1, 1), (1, 1), (1, 1), (0, 0)), mode="edge")
        c = 2 * self.A / (C.MU_0 * self.Ms)
        lap = np.zeros_like(m)
        for ax, d in enumerate(self.cell):
            sp, sm = [slice(1, -1)] * 3, [slice(1, -1)] * 3
            sp[ax], sm[ax] = slice(2, None), slice(None, -2)
            lap += (mp[tuple(sp)] + mp[tuple(sm)] - 2 * m) / d**2
        return H + c * lap + self.H_ext

    def step(self, m, dt, alpha):
        """Geometric Heun step (same scheme as netmag_jax.dynamics.llg)."""
        from netmag_jax import constants as C
        from netmag_jax.dynamics import GAMMA_E

        def omega(mm):
            H = self.field(mm)
            return GAMMA_E * C.MU_0 / (1 + alpha**2) * (H + alpha * np.cross(mm, H))

        def rot(mm, th):
            t = np.linalg.norm(th, axis=-1, keepdims=True)
            a = np.sinc(t / np.pi)
            b = 0.5 * np.sinc(t / (2 * np.pi)) ** 2
            txm = np.cross(th, mm)
            return mm + a * txm + b * np.cross(th, txm)

        w1 = omega(m)
        w2 = omega(rot(m, w1 * dt))
        return rot(m, 0.5 * (w1 + w2) * dt)


def main(quick: bool = False) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import equinox as eqx
    import jax.numpy as jnp

    from netmag_jax import constants as C
    from netmag_jax import dynamics as dyn

    shape = (50, 12, 1) if quick else (100, 25, 1)  # SP4: 500 x 125 x 3 nm, 5 nm cells
    cell = (500e-9 / shape[0], 125e-9 / shape[1], 3e-9)
    Ms, A, alpha, dt = 8e5, 1.3e-11, 0.02, 2e-13
    H = np.array([-24.6e-3, 4.3e-3, 0.0]) / C.MU_0
    n_cells = int(np.prod(shape))
    m_np = np.random.default_rng(0).normal(size=shape + (3,))
    m_np /= np.linalg.norm(m_np, axis=-1, keepdims=True)

    ref = NumpyMicromagnet(shape, cell, Ms, A, H)
    mm = dyn.Micromagnet(shape, cell, Ms=Ms, A=A, H_ext=tuple(H))
    field = eqx.filter_jit(mm.field)
    demag = eqx.filter_jit(mm.demag_field)

    def jax_step_fn(dtype):
        m0 = jnp.asarray(m_np, dtype)
        f = eqx.filter_jit(lambda m: dyn.llg(m, mm.field, dt, 1, alpha=alpha).m[-1])
        return m0, f

    # correctness: same numbers on both sides
    h_ref = ref.field(m_np)
    h_jax = np.asarray(field(jnp.asarray(m_np)))
    err_field = float(np.max(np.abs(h_jax - h_ref)) / np.max(np.abs(h_ref)))
    s_ref = ref.step(m_np, dt, alpha)
    m0_64, step64 = jax_step_fn(jnp.float64)
    err_step = float(np.max(np.abs(np.asarray(step64(m0_64)) - s_ref)))
    assert err_field < 1e-10 and err_step < 1e-10, (err_field, err_step)

    res = {
        "mesh": list(shape),
        "cells": n_cells,
        "dt_s": dt,
        "check_field_rel_err": err_field,
        "check_step_abs_err": err_step,
    }
    m64 = jnp.asarray(m_np)
    m32 = jnp.asarray(m_np, jnp.float32)
    res["jax_field_f64_s"] = _timeit(lambda: field(m64).block_until_ready())
    res["jax_field_f32_s"] = _timeit(lambda: field(m32).block_until_ready())
    res["jax_demag_f64_s"] = _timeit(lambda: demag(m64).block_until_ready())
    res["numpy_field_s"] = _timeit(lambda: ref.field(m_np))
    m0_32, step32 = jax_step_fn(jnp.float32)
    res["jax_step_f64_s"] = _timeit(lambda: step64(m0_64).block_until_ready())
    res["jax_step_f32_s"] = _timeit(lambda: step32(m0_32).block_until_ready())
    res["numpy_step_s"] = _timeit(lambda: ref.step(m_np, dt, alpha))
    # many steps inside one jit (lax.scan), the way llg is used
    n_scan = 50
    many = eqx.filter_jit(
        lambda m: dyn.llg(m, mm.field, dt, n_scan, alpha=alpha, save_every=n_scan).m[-1]
    )
    res["jax_step_in_scan_f64_s"] = _timeit(lambda: many(m0_64).block_until_ready()) / n_scan
    res["jax_step_in_scan_f32_s"] = _timeit(lambda: many(m0_32).block_until_ready()) / n_scan

    try:
        import torch
        import magnumnp as mn

        mesh = mn.Mesh(shape, cell)
        state = mn.State(mesh)
        state.material = {"Ms": Ms, "A": A, "alpha": alpha}
        state.m = torch.tensor(m_np)
        terms = [mn.DemagField(), mn.ExchangeField(), mn.ExternalField(torch.tensor(H))]
        llg = mn.LLGSolver(terms)
        h_mn = sum(t.h(state) for t in terms).cpu().numpy()
        res["check_magnumnp_field_rel_err"] = float(
            np.max(np.abs(h_mn - h_ref)) / np.max(np.abs(h_ref))
        )

        def mn_step():
            m = state.m
            k1 = llg.dm(0.0, m, state)
            k2 = llg.dm(dt, m + dt * k1, state)
            state.m = m + 0.5 * dt * (k1 + k2)
            state.m = state.m / torch.linalg.norm(state.m, dim=-1, keepdim=True)
            state.m = m

        res["magnumnp_field_s"] = _timeit(lambda: sum(t.h(state) for t in terms))
        res["magnumnp_demag_s"] = _timeit(lambda: terms[0].h(state))
        res["magnumnp_step_s"] = _timeit(mn_step)
    except Exception as e:  # magnum.np is optional
        res["magnumnp_error"] = f"{type(e).__name__}: {e}"[:200]

    lines = [
        f"mesh {shape} ({n_cells} cells), dt = {dt:g} s; field rel. err vs NumPy "
        f"{err_field:.1e}, step abs. err {err_step:.1e}"
    ]
    for key in ("field", "step"):
        for peer in ("numpy", "magnumnp"):
            pk = f"{peer}_{key}_s"
            if pk in res:
                for prec in ("f64", "f32"):
                    jk = f"jax_{key}_{prec}_s"
                    res[f"ratio_{key}_{peer}_over_jax_{prec}"] = res[pk] / res[jk]
                    lines.append(
                        f"{key:5s} {peer:8s} {res[pk] * 1e3:8.3f} ms / jax {prec} "
                        f"{res[jk] * 1e3:8.3f} ms = {res[pk] / res[jk]:6.2f}x"
                    )
    if "magnumnp_demag_s" in res:
        res["ratio_demag_magnumnp_over_jax_f64"] = res["magnumnp_demag_s"] / res["jax_demag_f64_s"]
        lines.append(
            f"demag magnumnp {res['magnumnp_demag_s'] * 1e3:8.3f} ms / jax f64 "
            f"{res['jax_demag_f64_s'] * 1e3:8.3f} ms = "
            f"{res['ratio_demag_magnumnp_over_jax_f64']:6.2f}x"
        )
    for prec in ("f64", "f32"):
        cs = n_cells / res[f"jax_step_in_scan_{prec}_s"]
        res[f"jax_cell_steps_per_s_{prec}"] = cs
        lines.append(
            f"jax {prec} in lax.scan: {res[f'jax_step_in_scan_{prec}_s'] * 1e3:.3f} ms "
            f"per step = {cs:.3g} cell-steps/s"
        )
    if "check_magnumnp_field_rel_err" in res:
        lines.append(f"magnum.np field rel. err vs NumPy {res['check_magnumnp_field_rel_err']:.1e}")
    if "magnumnp_error" in res:
        lines.append(f"magnum.np not run: {res['magnumnp_error']}")
    if "magnumnp_step_s" in res:
        res["magnumnp_cell_steps_per_s"] = n_cells / res["magnumnp_step_s"]
        lines.append(f"magnum.np Heun: {res['magnumnp_cell_steps_per_s']:.3g} cell-steps/s")
    print("\n".join(lines))
    return res


if __name__ == "__main__":
    main()
