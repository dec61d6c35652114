"""Batch evaluation on several devices: one script for 8 virtual CPU devices or for GPUs.

The batch axes of netmag_jax (field points, spins, voxels) are independent, so they split
across devices with no change to the physics code. This example runs three batches twice,
on all devices (sharded) and on one device, and checks that the results agree:

1. a paramagnet's moment m(B, T) on a grid of field and temperature points
   (``parallel.sharded_vmap`` of ``statmech.Paramagnet.moment``);
2. the free induction decay of a spin ensemble with a Lorentzian spread of off-resonances
   (``mri.shard_spins`` + ``mri.simulate``), whose magnitude is known in closed form:
   ``|S(t)| = exp(-t/T2) exp(-2 pi HWHM t)`` (Cauchy line: T2* decay);
3. a T2 map: one mono-exponential fit per voxel (``fit.fit_voxels(..., sharding=mesh)``).

Without GPUs, JAX fakes 8 CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``,
set below unless you set XLA_FLAGS yourself); on a GPU machine the same script uses every
GPU. For several hosts see the docs page "Several devices and several hosts".

Run: ``python examples/06_multi_device.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import os

# before JAX starts: 8 virtual CPU devices (GPUs, where present, are used instead)
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    os.environ["XLA_FLAGS"] = flags.strip()

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # figures go to files

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from netmag_jax import fit, mri, statmech  # noqa: E402
from netmag_jax.parallel import device_mesh, sharded_vmap  # noqa: E402

T2_SPINS, HWHM = 0.05, 20.0  # spin ensemble: T2 [s], Lorentzian half width of the line [Hz]


def timed(fn, *args):
    """``fn(*args)`` after one warm-up call (compilation); result and seconds of the 2nd call."""
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - t0


def maxdiff(a, b) -> float:
    """max |a - b| of two results that may live on different devices (compared on the host)."""
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def paramagnet_map(mesh, one, n: int) -> dict:
    """m(B, T) of Gd3+ (J = 7/2, g = 2) on n field x n temperature points, both ways."""
    gd = statmech.Paramagnet(J=3.5, g=2.0)
    B, T = np.meshgrid(np.linspace(0.0, 9.0, n), np.linspace(2.0, 300.0, n), indexing="ij")
    B, T = jnp.asarray(B.ravel()), jnp.asarray(T.ravel())
    m_all, s_all = timed(sharded_vmap(gd.moment, mesh), B, T)
    m_one, s_one = timed(sharded_vmap(gd.moment, one), B, T)
    return {
        "m": np.asarray(m_all).reshape(n, n),
        "maxdiff": maxdiff(m_all, m_one),
        "seconds": (s_all, s_one),
        "n": n * n,
    }


def lorentzian_spins(n: int) -> mri.Spins:
    """n isochromats at one point, off-resonances at the quantiles of a Cauchy line."""
    u = (np.arange(n) + 0.5) / n
    offsets = HWHM * np.tan(np.pi * (u - 0.5))
    return mri.Spins(np.zeros(n), 10.0, T2_SPINS, M0=1.0 / n, off_resonance=offsets)


def fid(mesh, one, n_spins: int) -> dict:
    """The FID of the ensemble on all devices and on one; the closed-form magnitude."""
    seq = mri.fid(flip_angle=np.pi / 2, n_samples=64, dwell=5e-4)
    spins = lorentzian_spins(n_spins)
    run = jax.jit(lambda s: mri.simulate(seq.rf, seq.gradient, seq.dt, s, adc=seq.adc).signal)
    s_all, t_all = timed(run, mri.shard_spins(spins, mesh))
    s_one, t_one = timed(run, mri.shard_spins(spins, one))
    t = np.asarray(seq.adc_times()) - 0.5e-4  # from the centre of the 0.1 ms hard pulse
    exact = np.exp(-t / T2_SPINS) * np.exp(-2 * np.pi * HWHM * t)
    return {
        "t": t,
        "signal": np.asarray(s_all),
        "exact": exact,
        "n": n_spins,
        "maxdiff": maxdiff(s_all, s_one),
        "seconds": (t_all, t_one),
    }


def t2_map(mesh, n_side: int) -> dict:
    """A noisy multi-echo decay per voxel (T2 from 20 to 200 ms), fitted on all devices and
    on one (``sharding=None``)."""
    te = jnp.linspace(0.01, 0.32, 16)
    t2_true = np.linspace(0.02, 0.2, n_side * n_side).reshape(n_side, n_side)
    rng = np.random.default_rng(0)
    Y = 1000.0 * np.exp(-np.asarray(te) / t2_true[..., None])
    Y = jnp.asarray(Y + 5.0 * rng.standard_normal(Y.shape))
    p0 = jnp.asarray([800.0, 0.05])

    def run(sharding):
        return fit.fit_voxels(fit.exponential_decay, te, Y, p0, sharding=sharding).params

    p_all, s_all = timed(run, mesh)
    p_one, s_one = timed(run, None)
    return {
        "t2": np.asarray(p_all[..., 1]),
        "t2_true": t2_true,
        "n": n_side * n_side,
        "maxdiff": maxdiff(p_all / p_one, 1.0),
        "seconds": (s_all, s_one),
    }


def plot(out: Path, pm: dict, fd: dict, tm: dict, n_dev: int) -> Path:
    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    im = ax[0].imshow(pm["m"].T, origin="lower", aspect="auto", extent=[0, 9, 2, 300])
    ax[0].set(xlabel="B [T]", ylabel="T [K]", title=f"Gd3+ moment [mu_B], {pm['n']} points")
    fig.colorbar(im, ax=ax[0])
    ax[1].semilogy(fd["t"] * 1e3, np.abs(fd["signal"]), "o", ms=3, label="sharded Bloch")
    ax[1].semilogy(fd["t"] * 1e3, fd["exact"], "k-", lw=0.8, label="exp(-t/T2 - 2 pi HWHM t)")
    ax[1].set(xlabel="t [ms]", ylabel="|signal| / M0", title=f"FID of {fd['n']} spins")
    ax[1].legend(fontsize=8)
    im = ax[2].imshow(tm["t2"] * 1e3, origin="lower")
    ax[2].set(title=f"T2 map [ms], {tm['n']} voxel fits")
    fig.colorbar(im, ax=ax[2])
    tasks = ("moment map", "FID", "T2 map")
    x = np.arange(3)
    secs = [pm["seconds"], fd["seconds"], tm["seconds"]]
    ax[3].bar(x - 0.2, [s[0] for s in secs], 0.4, label=f"{n_dev} devices")
    ax[3].bar(x + 0.2, [s[1] for s in secs], 0.4, label="1 device")
    ax[3].set_xticks(x, tasks)
    ax[3].set(ylabel="seconds (after compilation)", title=jax.devices()[0].platform)
    ax[3].legend(fontsize=8)
    fig.tight_layout()
    path = out / "multi_device.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(out: Path, quick: bool) -> dict:
    devices = jax.devices()
    mesh, one = device_mesh(devices), device_mesh(devices[:1])
    n_dev = len(devices)
    pm = paramagnet_map(mesh, one, 64 if quick else 512)
    fd = fid(mesh, one, n_dev * (256 if quick else 8192))
    tm = t2_map(mesh, 16 if quick else 128)
    figure = plot(out, pm, fd, tm, n_dev)
    rel = np.abs(np.abs(fd["signal"]) - fd["exact"]) / fd["exact"]
    return {
        "devices": f"{n_dev} x {devices[0].platform}",
        "moment map: points": pm["n"],
        "moment map: max |sharded - single| [mu_B]": pm["maxdiff"],
        "FID: spins": fd["n"],
        "FID: max |sharded - single| / M0": fd["maxdiff"],
        "FID: max relative deviation from closed form (first 10 samples)": float(rel[:10].max()),
        "T2 map: voxels": tm["n"],
        "T2 map: max |sharded / single - 1| of the parameters": tm["maxdiff"],
        "T2 map: median |T2 fit / T2 true - 1|": float(
            np.median(np.abs(tm["t2"] / tm["t2_true"] - 1))
        ),
        "seconds sharded / single: moment map": pm["seconds"][0] / pm["seconds"][1],
        "seconds sharded / single: FID": fd["seconds"][0] / fd["seconds"][1],
        "seconds sharded / single: T2 map": tm["seconds"][0] / tm["seconds"][1],
        "figure": str(figure),
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small batches (CI)")
    p.add_argument("--out", type=Path, default=Path("examples_out/06_multi_device"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    numbers = run(args.out, args.quick)
    for key, value in numbers.items():
        print(f"{key:66s} {value:.4g}" if isinstance(value, float) else f"{key:66s} {value}")
    return numbers


if __name__ == "__main__":
    main()
