"""Magnetometry from an instrument file: g, J and the Weiss temperature of a Gd3+ salt.

    python examples/02_magnetometry_fit.py [--out DIR] [--quick]

Data (synthetic, made here): a Gd3+ paramagnet (J = 7/2, g = 2, L = 0) with a weak
antiferromagnetic molecular field (Weiss temperature theta = -1.5 K), M from the mean-field
equation M = g J B_J(g mu_B J (B + lambda M) / k_B T), lambda =
``statmech.lambda_from_theta(theta, J, g)``, solved with scipy's brentq, plus Gaussian noise
(0.2 % + 2e-5 mu_B). The moments are written in emu for a 12.3 mg sample of GdCl3.6H2O
(371.70 g/mol) into a Quantum Design MPMS3-style ``.dat`` (``[Header]`` with SAMPLE_MASS in
mg and SAMPLE_MOLECULAR_WEIGHT, ``[Data]`` with the MultiVu column names), as the instrument
writes it. Then, through the ``netmag fit magnetism`` command (in-process, no option but the
data window):

* M(H) at 10, 20 and 40 K, J scanned over half-integers with g and theta fitted: the best J
  and its g;
* M/H at 0.1 T from 20 to 300 K: Curie-Weiss C, theta_CW and mu_eff = g sqrt(J(J+1)).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import jax
import numpy as np
from scipy.optimize import brentq

from netmag_jax import constants as const
from netmag_jax import statmech
from netmag_jax.fit.workflows import magnetism

J, G, THETA = 3.5, 2.0, -1.5
MASS_MG, MOLAR_MASS = 12.3, 371.70  # GdCl3.6H2O
COLUMNS = (
    "Comment,Time Stamp (sec),Temperature (K),Magnetic Field (Oe),Moment (emu),"
    "M. Std. Err. (emu),Transport Action,DC Moment Free Ctr (emu),DC Moment Err Free Ctr (emu)"
)


def mean_field_moment(B, T, lam):
    """M [mu_B] solving M = g J B_J(g mu_B J (B + lam M) / k_B T) (brentq on [-gJ, gJ])."""
    sat = G * J

    def f(m):
        x = G * const.MU_B * J * (B + lam * m) / (const.K_B * T)
        return m - sat * float(statmech.brillouin(J, x))

    return brentq(f, -sat, sat, xtol=1e-14)


def write_mpms_dat(path: Path, T, H_Oe, M_muB, err_muB) -> None:
    """M(H, T) as an MPMS3 MultiVu .dat (moments in emu of the sample)."""
    emu = MASS_MG * 1e-3 / MOLAR_MASS * const.N_A * const.MU_B * 1e3  # emu per mu_B/ion
    head = [
        "[Header]",
        "; MPMS3 Data File (default extension .dat)",
        "TITLE,synthetic Gd3+ (netmag_jax example 02)",
        "BYAPP,MPMS3,1.0,1.1",
        "INFO,GdCl3.6H2O,SAMPLE_MATERIAL",
        f"INFO,{MASS_MG},SAMPLE_MASS",
        f"INFO,{MOLAR_MASS},SAMPLE_MOLECULAR_WEIGHT",
        "DATATYPE,COMMENT,1",
        "[Data]",
        COLUMNS,
    ]
    rows = [
        f",{3.86e9 + 20 * i:.0f},{t:.6f},{h:.4f},{m * emu:.9e},{e * emu:.4e},1,,"
        for i, (t, h, m, e) in enumerate(zip(T, H_Oe, M_muB, err_muB, strict=True))
    ]
    path.write_text("\r\n".join(head + rows) + "\r\n")


def synthetic_set(quick: bool, seed: int = 2):
    """(T [K], H [Oe], M [mu_B], sigma [mu_B]): M(H) curves and an M/H(T) sweep at 0.1 T."""
    lam = statmech.lambda_from_theta(THETA, J, G)
    n_h = 8 if quick else 25
    T = [np.full(n_h, t) for t in (10.0, 20.0, 40.0)]
    H = [np.linspace(2e3, 7e4, n_h)] * 3
    t_sweep = np.geomspace(20.0, 300.0, 20 if quick else 40)
    T.append(t_sweep)
    H.append(np.full(t_sweep.shape, 1e3))
    T, H = np.concatenate(T), np.concatenate(H)
    M = np.array([mean_field_moment(h * 1e-4, t, lam) for t, h in zip(T, H, strict=True)])
    sigma = 2e-3 * np.abs(M) + 2e-5
    return T, H, M + np.random.default_rng(seed).normal(0.0, sigma), sigma


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("examples_out/02_magnetometry_fit"))
    p.add_argument("--quick", action="store_true", help="CI size")
    args = p.parse_args(argv)
    jax.config.update("jax_enable_x64", True)  # measured-data fits in float64, as the CLI
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "gd_salt_mpms.dat"
    write_mpms_dat(data, *synthetic_set(args.quick))
    common = ["--data", str(data), "--out", str(args.out), "--overwrite"]  # reruns replace
    j_max = "4.5" if args.quick else "8"
    magnetism.main(
        [
            "brillouin",
            *common,
            "--J",
            "scan",
            "--J-max",
            j_max,
            "--theta",
            "--tmin",
            "9",
            "--min-field",
            "0.15",
        ]
    )
    bri = json.loads((args.out / "brillouin_fit.json").read_text())
    magnetism.main(["curie-weiss", *common, "--max-field", "0.15", "--tmin", "19"])
    cw = json.loads((args.out / "curie-weiss_fit.json").read_text())
    numbers = {
        "J_best": bri["J"],
        "g": bri["g"],
        "theta_brillouin_K": bri["theta_K"],
        "theta_CW_K": cw["theta_K"],
        "mu_eff_CW_muB": cw["mu_eff_muB"],
        "mu_eff_free_ion_muB": G * math.sqrt(J * (J + 1)),
        "figures": [bri["figure"], cw["figure"]],
    }
    print(f"data: {data} (synthetic Gd3+, J = {J}, g = {G}, theta = {THETA} K)")
    print(f"best J = {bri['J']:g}, g = {bri['g'][0]:.4f} +- {bri['g'][1]:.4f}")
    print(f"theta (Brillouin fit) = {bri['theta_K'][0]:.3f} +- {bri['theta_K'][1]:.3f} K")
    print(
        f"theta_CW = {cw['theta_K'][0]:.3f} +- {cw['theta_K'][1]:.3f} K, mu_eff = "
        f"{cw['mu_eff_muB'][0]:.3f} mu_B (free ion {numbers['mu_eff_free_ion_muB']:.3f})"
    )
    return numbers


if __name__ == "__main__":
    main()
