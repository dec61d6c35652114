"""Magnetometry fits: moments and g from M(H, T), Curie-Weiss chi(T), exchange from theta.

Usage (``netmag fit magnetism ...``, or ``main([...])`` from Python)::

    netmag fit magnetism brillouin --data CsErSe2_MH.dat \
        --select "H//ab" --J 0.5 --temps 2 --max-field 1.0 --out out/
    netmag fit magnetism curie-weiss --data CsErSe2_MT.dat \
        --select "1 T H//ab" --tmin 100 --tmax 350 --out out/
    netmag fit magnetism exchange --data ... --select "0.1 T H//c" --tmin 5 --tmax 20 \
        --S 0.5 --z 6 --out out/

Without ``--data`` the commands read the measured CsErSe2 data shipped with the package
(``DATA / "CsErSe2"``, see its PROVENANCE.md).

Input files are column-pair tables (``netmag_jax.fit.read_column_pairs``): M(H) files with
labels naming the temperature ("2K H//ab"), fields in Oe (``--field-unit``) and moments in
Bohr magnetons per ion; chi(T) files with M/H in emu mol^-1 Oe^-1 (cgs molar), one pair per
field ("0.1 T H//ab").

Models:
* brillouin: free moments of angular momentum J (J = 1/2 for an effective ground doublet)
  plus a Van Vleck term, M = g J B_J(g mu_B J B / k_B T) + chi_vv B [mu_B per ion];
  fits g and chi_vv; reports the saturation moment g J and mu_eff = g sqrt(J (J + 1)).
* curie-weiss: chi(T) = C / (T - theta) + chi0 [emu/mol]; mu_eff = sqrt(C / 0.12505) mu_B.
* exchange: mean-field (Weiss) relation between theta and the exchange constant of
  H = -sum_<ij> J S_i . S_j (each bond once, z neighbours): theta = z J S (S + 1) / (3 k_B),
  so J = 3 k_B theta / (z S (S + 1)); theta > 0 ferromagnetic, < 0 antiferromagnetic.
Noise: for M(H) the spread of repeated points at the same field (sigma per curve); for chi(T)
a relative uncertainty ``--rel-sigma`` (default 1 %). Fit quality: reduced chi2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np

import netmag_jax.fit as nf
from netmag_jax import constants as const

from ._common import (
    DATA,
    pyplot,
    run_command,
    save_figure,
    workflow_parser,
    write_json,
)

#: ``netmag fit magnetism`` computes in float64 (fits of measured magnetization);
#: the command line switches it on, the library never does
FLOAT64 = True


# --- data helpers -------------------------------------------------------------------------------
def label_temperature(label: str) -> float:
    """Temperature [K] named in a column label such as "2K H//ab"."""
    m = re.search(r"([\d.]+)\s*K\b", label)
    if not m:
        raise ValueError(f"no temperature (e.g. '2K') in column label {label!r}")
    return float(m.group(1))


def label_field(label: str) -> float:
    """Field [T] named in a column label such as "0.1 T H//ab"."""
    m = re.search(r"([\d.]+)\s*T\b", label)
    if not m:
        raise ValueError(f"no field (e.g. '0.1 T') in column label {label!r}")
    return float(m.group(1))


def zero_field_offset(H, M, tol=1.0):
    """Mean measured M at H = 0 (|H| <= tol, in the file's field unit); 0 if none."""
    z = np.abs(H) <= tol
    return float(np.mean(M[z])) if z.any() else 0.0


def duplicate_noise(H, M, rel_tol=1e-3, floor=1e-6):
    """Noise sigma from repeated points: consecutive rows at the same field differ by noise.

    sigma^2 = mean((M_i - M_{i+1})^2) / 2 over pairs with |H_i - H_{i+1}| <= rel_tol max|H|.
    """
    H, M = np.asarray(H), np.asarray(M)
    same = np.abs(np.diff(H)) <= rel_tol * max(np.max(np.abs(H)), 1e-30)
    if not same.any():
        raise ValueError("no repeated field points to estimate the noise from")
    d = np.diff(M)[same]
    return max(float(np.sqrt(np.mean(d * d) / 2.0)), floor)


def load_mh(path, select=None, temps=None, max_field=None, field_unit="Oe"):
    """M(H) curves as a list of dicts (label, T, B [T], M [mu_B], sigma, offset).

    The zero-field offset of each curve is subtracted; sigma is from repeated points.
    """
    scale = {"Oe": 1e-4, "T": 1.0, "A/m": const.MU_0}[field_unit]
    curves = []
    for label, (H, M) in nf.read_column_pairs(path).items():
        if select and select not in label:
            continue
        T = label_temperature(label)
        if temps and not any(abs(T - t) < 1e-6 for t in temps):
            continue
        off = zero_field_offset(H, M, tol=1e-9 + 1e-6 * np.max(np.abs(H)))
        sig = duplicate_noise(H, M)
        B = H * scale
        keep = B > 0
        if max_field is not None:
            keep &= max_field >= B
        curves.append(dict(label=label, T=T, B=B[keep], M=M[keep] - off, sigma=sig, offset=off))
    if not curves:
        raise ValueError(f"no column pairs of {path} match select={select!r}, temps={temps}")
    return curves


# --- models -------------------------------------------------------------------------------------
_BRILLOUIN_MODELS = {}


def brillouin_model(J):
    """``model(x, g, chi_vv)`` with x = (B [T], T [K]) rows: M = g J B_J(...) + chi_vv B."""
    J = float(J)
    if J not in _BRILLOUIN_MODELS:

        def model(x, g, chi_vv):
            return nf.brillouin_moment(x[:, 0], x[:, 1], g, J) + chi_vv * x[:, 0]

        _BRILLOUIN_MODELS[J] = model
    return _BRILLOUIN_MODELS[J]


def fit_brillouin(curves, J=0.5, g0=2.0):
    """Fit g and chi_vv [mu_B/T] to M(H) curves (all temperatures at once)."""
    x = np.concatenate([np.stack([c["B"], np.full(c["B"].shape, c["T"])], 1) for c in curves])
    y = np.concatenate([c["M"] for c in curves])
    sigma = np.concatenate([np.full(c["M"].shape, c["sigma"]) for c in curves])
    res = nf.curve_fit(
        brillouin_model(J),
        x,
        y,
        [g0, 0.0],
        sigma=sigma,
        absolute_sigma=True,
        bounds=([0.01, -10.0], [30.0, 10.0]),
    )
    g, dg = float(res.params[0]), float(res.stderr[0])
    out = {
        "J": J,
        "g": [g, dg],
        "chi_vv_muB_per_T": [float(res.params[1]), float(res.stderr[1])],
        "saturation_moment_muB": [g * J, dg * J],
        "mu_eff_muB": [g * np.sqrt(J * (J + 1)), dg * np.sqrt(J * (J + 1))],
        "chi2_red": float(res.chi2_red),
        "n_points": int(y.size),
        "converged": bool(res.converged),
    }
    return res, out, (x, y, sigma)


def fit_curie_weiss(T, chi, tmin, tmax, rel_sigma=0.01):
    """Curie-Weiss fit chi = C/(T - theta) + chi0 on tmin <= T <= tmax (chi in emu/mol)."""
    T, chi = np.asarray(T), np.asarray(chi)
    sel = (tmin <= T) & (tmax >= T)
    if sel.sum() < 4:
        raise ValueError(f"fewer than 4 points between {tmin} and {tmax} K")
    T, chi = T[sel], chi[sel]
    # start: Curie law through the two end points (chi0 = 0)
    inv = 1.0 / chi
    slope = (inv[np.argmax(T)] - inv[np.argmin(T)]) / (T.max() - T.min())
    C0 = 1.0 / slope if slope > 0 else 1.0
    th0 = float(np.clip(T.min() - C0 * inv[np.argmin(T)], -10 * T.max(), 0.9 * T.min()))
    res = nf.curve_fit(
        nf.curie_weiss_chi,
        T,
        chi,
        [C0, th0, 0.0],
        sigma=rel_sigma * chi,
        absolute_sigma=True,
        bounds=([0.0, -1e4, -1.0], [1e4, 0.99 * T.min(), 1.0]),
    )
    C, dC = float(res.params[0]), float(res.stderr[0])
    mu = np.sqrt(C / nf.CURIE_CGS_PER_MUEFF2)
    out = {
        "C_emuK_per_mol": [C, dC],
        "theta_K": [float(res.params[1]), float(res.stderr[1])],
        "chi0_emu_per_mol": [float(res.params[2]), float(res.stderr[2])],
        "mu_eff_muB": [float(mu), float(0.5 * mu * dC / C)],
        "chi2_red": float(res.chi2_red),
        "n_points": int(T.size),
        "T_range_K": [tmin, tmax],
        "rel_sigma": rel_sigma,
        "converged": bool(res.converged),
    }
    return res, out, (T, chi)


def exchange_from_theta(theta, dtheta, S, z):
    r"""Mean-field exchange constant from the Weiss temperature.

    H = -sum_<ij> J S_i.S_j (each bond once, z neighbours per site):
    :math:`\theta = z J S(S+1)/(3 k_B)`, so :math:`J = 3 k_B \theta / (z S (S+1))`.
    Returns dict with J in K (J/k_B), meV and joules, each [value, stderr].
    """
    f = 3.0 / (z * S * (S + 1.0))
    JK, dJK = f * theta, f * dtheta
    return {
        "S": S,
        "z": z,
        "J_K": [JK, dJK],
        "J_meV": [float(const.K_to_meV(JK)), float(const.K_to_meV(dJK))],
        "J_joule": [float(const.K_to_J(JK)), float(const.K_to_J(dJK))],
        "relation": "theta = z J S(S+1) / (3 k_B), H = -sum_<ij> J S_i.S_j (bonds once)",
    }


# --- figures ------------------------------------------------------------------------------------
def _plot(path, series, xlabel, ylabel, title):
    """Data series (``kind="data"``: points with error bars) and model lines in one panel."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for s in series:
        if s.get("kind") == "data":
            ax.errorbar(s["x"], s["y"], yerr=s.get("yerr"), fmt="o", ms=3, label=s["label"])
        else:
            ax.plot(s["x"], s["y"], "-", label=s["label"])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


# --- command line -------------------------------------------------------------------------------
def build_parser():
    """The ``netmag fit magnetism`` argument parser (brillouin, curie-weiss, exchange)."""
    p, sub = workflow_parser("magnetism", __doc__)
    s = sub.add_parser("brillouin", help="g and moment from M(H, T) (Brillouin + Van Vleck)")
    s.add_argument("--data", type=Path, default=DATA / "CsErSe2" / "CsErSe2_MH.dat")
    s.add_argument("--select", default="H//ab", help="substring of the column labels to use")
    s.add_argument("--temps", type=float, nargs="*", help="temperatures [K] to use")
    s.add_argument("--J", type=float, default=0.5, help="angular momentum (0.5: doublet)")
    s.add_argument("--max-field", type=float, help="largest field used [T]")
    s.add_argument("--field-unit", choices=["Oe", "T", "A/m"], default="Oe")
    for name, default, hlp in (
        ("curie-weiss", (100.0, 350.0, "1 T H//ab"), "chi(T) = C/(T-theta)+chi0"),
        ("exchange", (5.0, 20.0, "0.1 T H//ab"), "exchange J from the Weiss theta"),
    ):
        s2 = sub.add_parser(name, help=hlp)
        s2.add_argument("--data", type=Path, default=DATA / "CsErSe2" / "CsErSe2_MT.dat")
        s2.add_argument("--select", default=default[2], help="column label to fit")
        s2.add_argument("--tmin", type=float, default=default[0])
        s2.add_argument("--tmax", type=float, default=default[1])
        s2.add_argument("--rel-sigma", type=float, default=0.01, help="relative uncertainty of chi")
        if name == "exchange":
            s2.add_argument("--S", type=float, default=0.5, help="(effective) spin")
            s2.add_argument("--z", type=int, default=6, help="number of neighbours")
    for s3 in sub.choices.values():
        s3.add_argument("--out", type=Path, default=Path("magnetism_fit"))
        s3.add_argument("--no-figure", action="store_true")
    return p


def main(argv=None) -> int:
    """``netmag fit magnetism ARGS``: fit, write ``<cmd>_fit.json`` (+ figure); returns 0.

    Fits run in float64 (measured data). A user mistake exits with one line.
    """
    return run_command(build_parser(), _run, argv)


def _run(args) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    out = _brillouin(args) if args.cmd == "brillouin" else _curie_weiss(args)
    write_json(args.out / f"{args.cmd}_fit.json", out)
    print(json.dumps(out, indent=2, default=float))
    return 0


def _brillouin(args) -> dict:
    """``brillouin``: g and chi_vv from the selected M(H) curves; figure of data and fit."""
    curves = load_mh(args.data, args.select, args.temps, args.max_field, args.field_unit)
    res, out, _ = fit_brillouin(curves, J=args.J)
    out["curves"] = [{k: c[k] for k in ("label", "T", "sigma", "offset")} for c in curves]
    if args.no_figure:
        return out
    series = []
    model = brillouin_model(args.J)
    for c in curves:
        series.append(dict(kind="data", x=c["B"], y=c["M"], yerr=c["sigma"], label=c["label"]))
        xx = jnp.asarray(np.stack([c["B"], np.full(c["B"].shape, c["T"])], 1))
        series.append(
            dict(x=c["B"], y=np.asarray(model(xx, *res.params)), label=f"fit {c['T']:g} K")
        )
    out["figure"] = _plot(
        args.out / "brillouin_fit.png",
        series,
        "mu0 H [T]",
        "M [mu_B / ion]",
        f"J = {args.J:g}: g = {out['g'][0]:.4f}"
        f" +- {out['g'][1]:.4f}, chi2_red = {out['chi2_red']:.2f}",
    )
    return out


def _curie_weiss(args) -> dict:
    """``curie-weiss`` / ``exchange``: Curie-Weiss fit of one chi(T) column (+ exchange J)."""
    pairs = nf.read_column_pairs(args.data)
    if args.select not in pairs:
        raise ValueError(f"no column {args.select!r} in {args.data}; have {sorted(pairs)}")
    T, chi = pairs[args.select]
    res, out, (Tf, chif) = fit_curie_weiss(T, chi, args.tmin, args.tmax, args.rel_sigma)
    out["column"] = args.select
    if args.cmd == "exchange":
        out["exchange"] = exchange_from_theta(out["theta_K"][0], out["theta_K"][1], args.S, args.z)
    if args.no_figure:
        return out
    fitted = nf.curie_weiss_chi(Tf, *[float(v) for v in res.params])
    out["figure"] = _plot(
        args.out / f"{args.cmd}_fit.png",
        [
            dict(kind="data", x=Tf, y=1.0 / chif, label=f"{args.select} (1/chi)"),
            dict(x=Tf, y=1.0 / np.asarray(fitted), label="Curie-Weiss fit"),
        ],
        "T [K]",
        "1/chi [mol emu^-1]",
        f"theta = {out['theta_K'][0]:.2f} +- {out['theta_K'][1]:.2f} K, mu_eff = "
        f"{out['mu_eff_muB'][0]:.3f} mu_B",
    )
    return out
