"""Bloch engine throughput on one accelerator: spin-steps per second, float32.

Two workloads through the public ``mri.simulate`` (fast engine, default options):

* RF: a 512-step sinc pulse under a slice-select gradient (every step a full rotation plus
  relaxation); goal >= 1e11 spin-steps/s for 1e6 spins on one H100-class GPU;
* free precession: a 256-sample readout under a constant gradient (complex multiply and
  coil sum per spin and step); goal >= 1e12 spin-steps/s.

Each result is checked against ``method="reference"`` on the first 1000 spins before timing.
Each workload is timed for every spin count in ``--spins`` (default 1e6, 1e7), every memory
layout in ``--chunks`` (default ``auto``, the default ``spin_chunk``: all spins at once on a
GPU; ``none``: all at once; an integer: spins per chunk), and two ways of calling: ``eager``
(``mri.simulate`` as is, with its host-side planning per call) and ``jit`` (inside
``jax.jit`` with the spins as arguments). ``--grad`` adds ``value_and_grad`` over forward for
the 1e4-step sequence of ``bench_bloch.py`` (goal <= 3) at 1e4 and 1e6 spins.
``--profile`` times the RF bundle alone (1, 4, 16 steps) and counts the kernels XLA makes of
it (``--hlo-dir D``: the optimised HLO written to D).
``python benchmarks/gpu_bloch.py [--spins N ...] [--chunks auto none ...] [--grad]
[--profile [--hlo-dir D]] [--quick]``
(``--quick``: 1e4 spins, any device, for a correctness run on CPU).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

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


def _calls(args, kw, spin_chunk):
    """``eager``: ``mri.simulate`` called as is (host-side planning each call, as in a
    script); ``jit``: inside ``jax.jit`` with the spins (and initial state) as arguments (a
    batch evaluation or optimisation loop: traced positions, so no class-map planning)."""
    import jax

    from netmag_jax import mri

    rf, g, dt, spins = args
    kw = dict(kw)
    M_init = kw.pop("M_init", None)

    @jax.jit
    def jitted(spins, M_init):  # the whole result: returning M alone lets XLA drop the signal
        return mri.simulate(rf, g, dt, spins, M_init=M_init, spin_chunk=spin_chunk, **kw)

    return {
        "eager": lambda: jax.block_until_ready(
            mri.simulate(rf, g, dt, spins, M_init=M_init, spin_chunk=spin_chunk, **kw)
        ),
        "jit": lambda: jax.block_until_ready(jitted(spins, M_init)),
    }


def _rf_kernel_profile(N: int, repeat: int, hlo_dir=None) -> dict:
    """The RF bundle alone, jitted on N spins (no scan, no switch): seconds per spin-step
    for bundles of 1, 4 and 16 steps (series and sin/cos coefficients), and how many kernels
    XLA makes of each (the ENTRY computation's fusions and custom calls); with ``hlo_dir``
    the optimised HLO of each is written there."""
    import jax
    import jax.numpy as jnp

    from netmag_jax.mri import _fast
    from netmag_jax.mri._segments import BUNDLE, COUNT_SHIFT, NEW_DT, RFRUN

    rng = np.random.default_rng(0)
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    spin = (
        *(f32(rng.uniform(-0.1, 0.1, N)) for _ in range(3)),
        f32(np.ones(N)),
        f32(rng.uniform(-100, 100, N)),
        f32(1 / rng.uniform(0.3, 1.5, N)),
        f32(1 / rng.uniform(0.02, 0.2, N)),
        f32(np.ones(N)),
    )
    one = jnp.ones(N, jnp.float32)
    st = (jnp.zeros(N, jnp.complex64), one, one, 0 * one, jnp.ones(N, jnp.complex64))
    inp = (
        f32(np.full(BUNDLE, 2e-6)),
        f32(np.zeros(BUNDLE)),
        f32(np.tile([0.0, 0.0, 5e-3 * 4e-6], (BUNDLE, 1))),
        f32(np.full(BUNDLE, 4e-6)),
        jnp.zeros(BUNDLE, jnp.int32),
    )
    zeros_out = _fast._zeros_out(N, 1, jnp.complex64, jnp.float32, False)
    out = {}
    for trig in (False, True):
        for count in (1, 4, BUNDLE):
            code = RFRUN | NEW_DT | (count << COUNT_SHIFT)

            def f(st, inp, spin, code=code, trig=trig):
                return _fast._rf_run_branch(code, trig, spin, zeros_out)(st, inp)[0]

            compiled = jax.jit(f).lower(st, inp, spin).compile()
            text = compiled.as_text()
            entry = text[text.find("ENTRY") :]
            entry = entry[: entry.find("\n}")]
            kernels = entry.count(" fusion(") + entry.count(" custom-call(")
            name = f"rf_bundle_{count}_{'trig' if trig else 'series'}"
            if hlo_dir:
                Path(hlo_dir, name + ".hlo.txt").write_text(text)
            t = _best(lambda c=compiled: jax.block_until_ready(c(st, inp, spin)), repeat)
            out[name + "_ps_per_spin_step"] = t / (N * count) * 1e12
            out[name + "_kernels"] = kernels
            print(
                f"{name:28s} {t / (N * count) * 1e12:8.2f} ps/spin-step  {kernels} kernels",
                flush=True,
            )
    return out


def _chunk(c: str):
    return None if c == "none" else (c if c == "auto" else int(float(c)))


def _grad_ratio(N: int, repeat: int) -> tuple[float, float]:
    """(forward s, value_and_grad s) of bench_bloch's 1e4-step loss at N spins."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_bloch

    res: dict = {}
    bench_bloch._value_and_grad(res, False, repeat, n_spins=N)
    return res["vjp_forward_s"], res["vjp_value_and_grad_s"]


def main(argv=None) -> dict:
    import jax

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spins", type=float, nargs="+", default=[1e6, 1e7])
    p.add_argument("--chunks", nargs="+", default=["auto"])
    p.add_argument("--grad", action="store_true")
    p.add_argument("--profile", action="store_true", help="the RF bundle alone (kernels)")
    p.add_argument("--hlo-dir", default=None, help="with --profile: write the HLO there")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    sizes = [10_000] if a.quick else [int(n) for n in a.spins]
    out = {"device": str(jax.devices()[0]), "jax": jax.__version__}
    print(f"device {out['device']}  jax {out['jax']}", flush=True)
    goals = {"rf": 1e11, "free_precession": 1e12}
    for N in sizes:
        for name, (n_steps, args, kw) in _workloads(N).items():
            d = _check(args, kw, N)
            out[f"{name}_N{N:.0e}_max_abs_diff_vs_reference"] = d
            for c in a.chunks:
                for mode, run in _calls(args, kw, _chunk(c)).items():
                    rate = n_steps * N / _best(run, a.repeat)
                    key = f"{name}_N{N:.0e}_chunk_{c}_{mode}_spin_steps_per_s"
                    out[key] = rate
                    print(
                        f"{key:60s} {rate:.4g}  (goal >= {goals[name]:.0e}; vs reference {d:.1e})",
                        flush=True,
                    )
    if a.profile:
        out |= _rf_kernel_profile(sizes[0], a.repeat, a.hlo_dir)
    if a.grad:
        for N in [1000] if a.quick else [10_000, 1_000_000]:
            t_f, t_vg = _grad_ratio(N, a.repeat)
            out[f"value_and_grad_N{N:.0e}_forward_s"] = t_f
            out[f"value_and_grad_N{N:.0e}_over_forward (goal <= 3)"] = t_vg / t_f
            print(
                f"value_and_grad N={N:.0e}: forward {t_f:.4g} s, ratio {t_vg / t_f:.3g}", flush=True
            )
    for k, v in out.items():
        print(f"{k:75s} {v:.4g}" if isinstance(v, float) else f"{k:75s} {v}")
    return out


if __name__ == "__main__":
    main()
