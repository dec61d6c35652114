"""MRI signal physics with the Bloch engine: Larmor precession, FID and T2*, the induced coil
voltage, spin echo, inversion recovery, a CPMG train (EPG vs isochromats), a sinc slice profile.
"""

from __future__ import annotations

import math
import pathlib

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _common import main, number, output_dir, save_figure

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H, HBAR, K_B, MU_0

TITLE = "MRI signal: precession, FID, EMF, spin echo, inversion recovery, CPMG, slice profile"

B0, TEMPERATURE = 3.0, 310.0  # T, K
F0 = GAMMA_1H * B0 / (2 * math.pi)  # Larmor frequency [Hz]


def equilibrium() -> tuple[dict, float]:
    """Larmor frequency and Curie-law M0 of water protons at 3 T, 310 K."""
    M0 = float(mri.equilibrium_magnetization(B0, TEMPERATURE))
    numbers = {
        "larmor_frequency_3T": number(
            float(mri.larmor_frequency(B0)) / (2 * math.pi),
            42.577478e6 * 3.0,
            "Hz",
            "gamma_p / 2 pi = 42.577478 MHz/T (CODATA) x 3 T",
            rtol=1e-6,
        ),
        "M0_water_3T_310K": number(
            M0, 9.33e-3, "A/m", "Curie law n gamma^2 hbar^2 B0 / (4 k_B T), n = 6.69e28", rtol=1e-3
        ),
    }
    return numbers, M0


def precession(out: pathlib.Path) -> tuple[dict, str]:
    """Precession after a 90 deg pulse: rotating frame vs lab frame."""
    sp1 = mri.Spins(jnp.zeros((1, 3)), 1.0, 0.05, M0=1.0, off_resonance=50.0)
    n = 200
    res = mri.simulate(
        jnp.zeros(n),
        jnp.zeros((n, 3)),
        1e-4,
        sp1,
        adc=np.ones(n, bool),
        M_init=jnp.array([[0.0, 1.0, 0.0]]),
        record_magnetization=True,
    )
    t = 1e-4 * np.arange(1, n + 1)
    M = np.asarray(res.M_adc)[:, 0]
    t_lab = np.linspace(0, 4 / F0, 400)
    mxy0 = M[0, 0] + 1j * M[0, 1]
    mx_lab = np.real(mxy0 * np.exp(-1j * 2 * np.pi * F0 * t_lab))
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for k, label in enumerate(("Mx", "My", "Mz")):
        ax[0].plot(t * 1e3, M[:, k], label=label)
    ax[0].set(xlabel="t [ms]", ylabel="M / M0", title="rotating frame, 50 Hz off-resonance")
    ax[0].legend()
    ax[1].plot(t_lab * 1e9, mx_lab)
    ax[1].set(xlabel="t [ns]", ylabel="Mx (lab) / M0", title=f"lab frame: {F0 / 1e6:.2f} MHz")
    numbers = {
        "precession_T2_decay_20ms": number(
            float(abs(M[199, 0] + 1j * M[199, 1])),
            math.exp(-0.02 / 0.05),
            "M0",
            "exp(-t/T2)",
            rtol=1e-6,
        )
    }
    return numbers, save_figure(fig, out, "precession.png", dpi=110)


def fid(M0: float, quick: bool) -> dict:
    """FID with T2*: Lorentzian off-resonance (HWHM d) -> 1/T2* = 1/T2 + 2 pi d."""
    N = 400 if quick else 4000
    d, T2 = 20.0, 0.05
    q = (np.arange(N) + 0.5) / N
    df = d * np.tan(np.pi * (q - 0.5))
    sp = mri.Spins(jnp.zeros((N, 3)), 1.0, T2, M0=M0 / N, off_resonance=jnp.asarray(df))
    s = np.asarray(mri.fid(n_samples=100, dwell=2e-4, pulse_duration=1e-6).simulate(sp).signal)
    tf = 0.5e-6 + 2e-4 * np.arange(1, 101)
    T2s_ref = 1 / (1 / T2 + 2 * np.pi * d)
    sel = tf < 2 * T2s_ref
    slope = np.polyfit(tf[sel], np.log(np.abs(s[sel])), 1)[0]
    return dict(signal=s, t=tf, T2=T2, T2s=T2s_ref, T2s_fit=-1 / slope)


def fid_emf(out: pathlib.Path, M0: float, quick: bool) -> tuple[dict, str]:
    """The FID and the EMF it induces: 1 mL of water at 3 T in a loop of radius 5 cm."""
    f = fid(M0, quick)
    s, tf = f["signal"], f["t"]
    b = MU_0 / (2 * 0.05)  # on-axis field per ampere at the loop centre
    emf = np.asarray(mri.induced_emf(s, B0, b, volume=1e-6))
    curie = 6.69e28 * GAMMA_1H**2 * HBAR**2 * B0 / (4 * K_B * TEMPERATURE)
    numbers = {
        "T2star_fit": number(
            f["T2s_fit"],
            f["T2s"],
            "s",
            "Lorentzian line: 1/T2* = 1/T2 + 2 pi HWHM (finite isochromat sampling of the line)",
            rtol=0.01,
        ),
        "emf_peak_1mL_3T": number(
            float(abs(mri.induced_emf(jnp.asarray(M0), B0, b, volume=1e-6))),
            float(GAMMA_1H * B0 * b * 1e-6 * curie),
            "V",
            "Faraday + reciprocity: omega0 (mu0/2a) V M0, M0 from the Curie formula",
            rtol=1e-6,
        ),
    }
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].plot(tf * 1e3, np.abs(s) / M0, label="|signal| / M0")
    ax[0].plot(tf * 1e3, np.exp(-tf / f["T2s"]), "--", label="exp(-t/T2*)")
    ax[0].plot(tf * 1e3, np.exp(-tf / f["T2"]), ":", label="exp(-t/T2)")
    ax[0].set(xlabel="t [ms]", title="FID of a Lorentzian-broadened line")
    ax[0].legend()
    ax[1].plot(tf * 1e3, np.real(emf) * 1e6, label="Re E")
    ax[1].plot(tf * 1e3, np.abs(emf) * 1e6, label="|E|")
    ax[1].set(xlabel="t [ms]", ylabel="EMF envelope [uV]", title="coil voltage (1 mL water, 3 T)")
    ax[1].legend()
    return numbers, save_figure(fig, out, "fid_emf.png", dpi=110)


def _ir_signal(ti: float) -> float:
    """Inversion-recovery signal [M0] of one spin, T1 = 0.8 s, T2 = 80 ms."""
    sp1 = mri.Spins(jnp.zeros((1, 3)), 0.8, 0.08, M0=1.0)
    signal = mri.inversion_recovery(ti, pulse_duration=1e-8).simulate(sp1).signal
    return float(np.asarray(signal)[0].imag)


def _ir_null() -> float:
    """The inversion time of the IR null, by a secant iteration on the engine [s]."""
    x0, x1 = 0.4, 0.7
    f0, f1 = _ir_signal(x0), _ir_signal(x1)
    for _ in range(4):
        x0, x1, f0 = x1, x1 - f1 * (x1 - x0) / (f1 - f0), f1
        f1 = _ir_signal(x1)
    return x1


def spin_echo_ir(out: pathlib.Path, quick: bool) -> tuple[dict, str]:
    """Hahn echoes of a +-200 Hz spread against exp(-TE/T2); inversion recovery and null."""
    Ns = 64
    sp = mri.Spins(
        jnp.zeros((Ns, 3)), 0.8, 0.08, M0=1.0 / Ns, off_resonance=jnp.linspace(-200, 200, Ns)
    )
    TEs = np.array([0.02, 0.06, 0.1]) if quick else np.linspace(0.01, 0.16, 6)
    echoes = [mri.spin_echo(te, pulse_duration=1e-7).simulate(sp).signal for te in TEs]
    se = np.array([float(np.asarray(s)[0].imag) for s in echoes])
    TIs = np.linspace(0.05, 2.0, 5 if quick else 12)
    ir = np.array([_ir_signal(ti) for ti in TIs])
    numbers = {
        "spin_echo_max_error": number(
            float(np.max(np.abs(se - np.exp(-TEs / 0.08)))),
            0.0,
            "M0",
            "Hahn echo exp(-TE/T2)",
            atol=1e-5,
        ),
        "ir_null_TI": number(
            _ir_null(), 0.8 * math.log(2), "s", "1 - 2 exp(-TI/T1) = 0 at TI = T1 ln 2", rtol=1e-6
        ),
    }
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    tt = np.linspace(0, TEs.max(), 100)
    ax[0].plot(TEs * 1e3, se, "o", label="engine")
    ax[0].plot(tt * 1e3, np.exp(-tt / 0.08), label="exp(-TE/T2)")
    ax[0].set(xlabel="TE [ms]", ylabel="echo / M0", title="spin echo (+-200 Hz spread)")
    ax[0].legend()
    ti = np.linspace(0, 2.0, 100)
    ax[1].plot(TIs, ir, "o", label="engine")
    ax[1].plot(ti, 1 - 2 * np.exp(-ti / 0.8), label="1 - 2 exp(-TI/T1)")
    ax[1].set(xlabel="TI [s]", ylabel="signal / M0", title="inversion recovery, T1 = 0.8 s")
    ax[1].legend()
    return numbers, save_figure(fig, out, "spin_echo_ir.png", dpi=110)


def cpmg(out: pathlib.Path, quick: bool) -> tuple[dict, str]:
    """CPMG with 120 deg refocusing: EPG vs isochromats over one crusher cycle."""
    n_echo = 8 if quick else 16
    L = 1e-3
    Nc = 2 * n_echo + 16
    spc = mri.Spins(jnp.asarray((np.arange(Nc) + 0.5) / Nc * L), 1.0, 0.1, M0=1.0)
    alpha, esp = math.radians(120), 10e-3
    seq = mri.cpmg(n_echo, esp, alpha, pulse_duration=1e-8, crusher_moment=(0, 0, 1 / L))
    iso = np.asarray(seq.simulate(spc).signal) / Nc
    epg = np.asarray(mri.epg_cpmg(jnp.full(n_echo, alpha), esp, 1.0, 0.1))
    numbers = {
        "cpmg_epg_vs_isochromats": number(
            float(np.max(np.abs(iso - epg))),
            0.0,
            "M0",
            "EPG = isochromats over one cycle (Hennig)",
            atol=1e-6,
        )
    }
    te = esp * np.arange(1, n_echo + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(te * 1e3, np.imag(iso), "o", label="isochromats")
    ax.plot(te * 1e3, np.imag(epg), "x", label="EPG")
    ax.plot(te * 1e3, np.exp(-te / 0.1), "--", label="exp(-t/T2) (180 deg)")
    ax.set(xlabel="t [ms]", ylabel="echo / M0", title="CPMG, 120 deg refocusing")
    ax.legend()
    return numbers, save_figure(fig, out, "cpmg.png", dpi=110)


def _slice_profiles(z, tau: float, tb: float, nr: int, thick: float) -> dict:
    """Final M [len(z), 3] after a windowed sinc with its refocusing lobe, at 10 and 90 deg."""
    G = float(mri.slice_select_gradient(tb, tau, thick))
    pos = jnp.asarray(np.stack([0 * z, 0 * z, z], -1))
    g = np.zeros((nr + 1, 3))
    g[:nr, 2] = G
    g[nr, 2] = -G * tau / 2 / 1e-3  # refocusing lobe of half the area over 1 ms
    dt = np.full(nr + 1, tau / nr)
    dt[nr] = 1e-3
    prof = {}
    for deg in (10, 90):
        rf = mri.sinc(math.radians(deg), tau, tb, nr)
        rfx = jnp.concatenate([rf, jnp.zeros(1, rf.dtype)])
        Mz = mri.simulate(rfx, jnp.asarray(g), jnp.asarray(dt), mri.Spins(pos, 1e6, 1e6, M0=1.0)).M
        prof[deg] = np.asarray(Mz)
    return prof


def slice_profile(out: pathlib.Path, quick: bool) -> tuple[dict, str]:
    """Slice profile of a windowed sinc (TB 4, 2 ms) for a 5 mm slice; FWHM at 10 deg."""
    tau, tb, nr, thick = 2e-3, 4.0, 128, 5e-3
    z = np.linspace(-2 * thick, 2 * thick, 201 if quick else 401)
    prof = _slice_profiles(z, tau, tb, nr, thick)
    mxy = prof[10][:, 0] + 1j * prof[10][:, 1]
    inside = z[np.abs(mxy) > 0.5 * np.abs(mxy).max()]
    numbers = {
        "slice_fwhm_10deg": number(
            float(inside.max() - inside.min()),
            thick,
            "m",
            "TB / (tau gamma_bar G) (small tip; the Hamming window widens the FWHM by a few %)",
            rtol=0.05,
        )
    }
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for deg in (10, 90):
        m = prof[deg]
        mxy_deg = np.abs(m[:, 0] + 1j * m[:, 1]) / math.sin(math.radians(deg))
        ax.plot(z * 1e3, mxy_deg, label=f"|Mxy| / sin({deg} deg)")
    ax.axvspan(-thick / 2 * 1e3, thick / 2 * 1e3, color="0.9")
    ax.set(xlabel="z [mm]", title="sinc (TB 4) slice profile, refocused")
    ax.legend()
    return numbers, save_figure(fig, out, "slice_profile.png", dpi=110)


SUMMARY = (
    "Protons in B0 = 3 T at 310 K carry the Curie-law magnetization M0 ~ 9.3 mA/m. After a 90 "
    "degree pulse the transverse magnetization precesses at the Larmor frequency (127.7 MHz "
    "in the lab frame, only the off-resonance in the rotating frame) and decays with T2; a "
    "Lorentzian spread of frequencies gives the faster T2* FID. By Faraday's law and "
    "reciprocity 1 mL of water induces ~0.1 mV in a 5 cm loop. A 180 degree pulse "
    "refocuses static dephasing (echo exp(-TE/T2)), inversion recovery nulls at T1 ln 2, and a "
    "CPMG train with 120 degree pulses shows stimulated echoes, identical in EPG and in the "
    "isochromat engine. The sinc pulse excites a slice of thickness TB/(tau gamma_bar G)."
)


def run(out: pathlib.Path, quick: bool = False) -> dict:
    out = output_dir(out)
    numbers, M0 = equilibrium()
    sections = [
        precession(out),
        fid_emf(out, M0, quick),
        spin_echo_ir(out, quick),
        cpmg(out, quick),
        slice_profile(out, quick),
    ]
    numbers.update({k: v for section_numbers, _ in sections for k, v in section_numbers.items()})
    figures = [figure for _, figure in sections]
    return {"summary": SUMMARY, "figures": figures, "numbers": numbers}


if __name__ == "__main__":
    main(run, __file__)
