"""Design a B1-robust inversion pulse, compare it with a hyperbolic secant, export it.

An adiabatic hyperbolic-secant (HS1) pulse inverts the magnetization for any B1 above its
adiabatic threshold; at a fixed peak B1 and a short duration the threshold is only partly
met, so the inversion degrades where the transmit field is low (B1 inhomogeneity, e.g. at
3 T and above). This example:

1. builds the target: M_z -> -M0 over B1 scales 0.8-1.2 and off-resonances of +-200 Hz;
2. finds the best HS1 pulse (``mri.hyperbolic_secant``) at the same duration and peak B1;
3. designs a pulse by optimal control (``mri.design.optimize_pulse``, L-BFGS through the
   Bloch simulation), started from the HS1 pulse, with the HS1 pulse's RF energy as limit;
4. checks both with the independent Bloch engine (``mri.simulate``) and prints the numbers;
5. exports the designed pulse as a Pulseq v1.5 file ``inversion_pulse.seq`` (``mri.write_pulseq``;
   pypulseq and scanners read it).

The shapes are those of a Pulseq ``[SHAPES]`` section; writing a complete ``.seq`` file
needs a Pulseq writer in the package, which this example will use once it is there.

Run: ``python examples/05_design_inversion.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures go to files

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from netmag_jax import mri  # noqa: E402
from netmag_jax.mri import design  # noqa: E402

DURATION = 8e-3  # pulse duration [s]
B1_MAX = 15e-6  # peak B1 [T] (both pulses)
B1_SCALES = (0.8, 1.2)  # relative transmit field covered
OFF_RESONANCE = 200.0  # +- [Hz]
HS_BETA_T = 5.3  # HS1 amplitude modulation: beta T / 2
HS_MUS = (1.0, 2.0, 4.0, 6.0)  # HS1 frequency-sweep parameters tried


def target_grid(quick: bool) -> tuple[np.ndarray, np.ndarray, design.Target]:
    """B1 scales, off-resonances [Hz] and the uniform inversion target on their grid."""
    scales = np.linspace(*B1_SCALES, 5 if quick else 9)
    offsets = np.linspace(-OFF_RESONANCE, OFF_RESONANCE, 5 if quick else 17)
    target = design.uniform_target("inversion", off_resonance=offsets, b1_scale=scales)
    return scales, offsets, target


def best_hs1(target: design.Target, n: int) -> tuple[float, np.ndarray, float]:
    """The HS1 pulse (sweep parameter mu) with the lowest RMS error: mu, B1 [T] (n,), error."""
    dt = DURATION / n
    best = None
    for mu in HS_MUS:
        rf = np.asarray(mri.hyperbolic_secant(DURATION, n, b1_max=B1_MAX, beta_t=HS_BETA_T, mu=mu))
        err = float(design.target_error(target, rf, 0.0, dt))
        if best is None or err < best[2]:
            best = (mu, rf, err)
    assert best is not None
    return best


def bloch_mz(rf: np.ndarray, scales: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """M_z / M0 after ``rf`` [T] on the (B1 scale, off-resonance) grid, by ``mri.simulate``
    (relaxation-free isochromats: T1 = T2 = 1e9 s), independent of the designer's engine."""
    S, F = np.meshgrid(scales, offsets, indexing="ij")
    spins = mri.Spins(np.zeros(S.size), 1e9, 1e9, M0=1.0, off_resonance=F.ravel(), b1=S.ravel())
    gradient = np.zeros((len(rf), 3))
    res = mri.simulate(rf, gradient, DURATION / len(rf), spins)
    return np.asarray(res.M)[:, 2].reshape(S.shape)


def plot(out: Path, d: dict) -> Path:
    """Waveforms, M_z against B1 scale on resonance, and the M_z maps of both pulses."""
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.8))
    t_ms = (np.arange(len(d["rf"])) + 0.5) * DURATION / len(d["rf"]) * 1e3
    ax[0].plot(t_ms, np.abs(d["hs"]) * 1e6, "--", label=f"HS1 (mu = {d['mu']:g})")
    ax[0].plot(t_ms, np.abs(d["rf"]) * 1e6, label="designed")
    ax[0].set(xlabel="t [ms]", ylabel="|B1| [µT]", title="waveforms (same duration, peak B1)")
    ax[0].legend(fontsize=8)
    centre = len(d["offsets"]) // 2
    ax[1].plot(d["scales"], d["mz_hs"][:, centre], "o--", label="HS1")
    ax[1].plot(d["scales"], d["mz"][:, centre], "o-", label="designed")
    ax[1].axhline(-1.0, color="k", lw=0.6)
    ax[1].set(xlabel="B1 scale", ylabel="M_z / M0", title="on resonance (Bloch engine)")
    ax[1].legend(fontsize=8)
    extent = [d["offsets"][0], d["offsets"][-1], d["scales"][0], d["scales"][-1]]
    for a, key, name in ((ax[2], "mz_hs", "HS1"), (ax[3], "mz", "designed")):
        im = a.imshow(d[key], origin="lower", aspect="auto", vmin=-1, vmax=-0.8, extent=extent)
        a.set(xlabel="off-resonance [Hz]", ylabel="B1 scale", title=f"M_z after {name}")
        fig.colorbar(im, ax=a)
    fig.tight_layout()
    path = out / "design_inversion.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def export(out: Path, res: design.DesignResult) -> mri.PulseqExport:
    """The designed pulse as a Pulseq v1.5 file ``inversion_pulse.seq`` (RF resampled onto
    the 1 us RF raster; the export reports the resampling error)."""
    return mri.write_pulseq(res, out / "inversion_pulse.seq", name="inversion", rf_use="i")


def run(out: Path, quick: bool) -> dict:
    """Design, compare, export; returns the key numbers."""
    n = 96 if quick else 256
    scales, offsets, target = target_grid(quick)
    mu, hs, err_hs = best_hs1(target, n)
    e_hs = float(np.sum(np.abs(hs) ** 2) * DURATION / n)
    t0 = time.perf_counter()
    res = design.optimize_pulse(
        target,
        DURATION,
        n,
        b1_max=B1_MAX,
        init=hs,
        loss=design.DesignLoss(max_energy=e_hs),
        stop=design.Stopping(max_iter=25 if quick else 200),
    )
    seconds = time.perf_counter() - t0
    rf = np.asarray(res.rf)
    d = dict(scales=scales, offsets=offsets, mu=mu, hs=hs, rf=rf)
    d["mz"], d["mz_hs"] = bloch_mz(rf, scales, offsets), bloch_mz(hs, scales, offsets)
    figure = plot(out, d)
    seq = export(out, res)
    return {
        "HS1 mu": mu,
        "RMS(M_z + 1) HS1": err_hs,
        "RMS(M_z + 1) designed": float(res.target_error),
        "RMS(M_z + 1) designed, Bloch engine": float(np.sqrt(np.mean((d["mz"] + 1) ** 2))),
        "worst M_z HS1": float(d["mz_hs"].max()),
        "worst M_z designed": float(d["mz"].max()),
        "energy designed / HS1": float(res.energy) / e_hs,
        "peak B1 designed [uT]": float(res.peak_b1) * 1e6,
        "iterations": int(res.n_iter),
        "design seconds": seconds,
        "figure": str(figure),
        "pulse": str(seq.path),
        "RF resampling error (relative L2)": float(seq.rf_error),
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small grid and few iterations (CI)")
    p.add_argument("--out", type=Path, default=Path("examples_out/05_design_inversion"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    numbers = run(args.out, args.quick)
    for key, value in numbers.items():
        print(f"{key:40s} {value:.4g}" if isinstance(value, float) else f"{key:40s} {value}")
    return numbers


if __name__ == "__main__":
    main()
