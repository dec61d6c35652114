"""Magnetometry fits: g and J from M(H, T) (Brillouin), Curie-Weiss chi(T), exchange from theta.

Usage (``netmag fit magnetism ...``, or ``main([...])`` from Python)::

    netmag fit magnetism brillouin --data run.dat --J 3.5 --out out/
    netmag fit magnetism brillouin --data mh.csv --J scan --out out/
    netmag fit magnetism curie-weiss --data mt.dat --tmin 100 --tmax 300 --out out/
    netmag fit magnetism exchange --data mt.dat --tmin 5 --tmax 20 --S 0.5 --z 6 --out out/

Input (``--data``, required): a Quantum Design MPMS/PPMS ``.dat`` (``[Header]`` then a
``[Data]`` table with named columns) or a long CSV/TSV table with named columns (T, H, M,
sigma), read by ``netmag_jax.fit.read_magnetometry``: columns found by name or chosen with
``--temperature-column`` / ``--field-column`` / ``--moment-column`` / ``--sigma-column``;
units (emu, emu/g, emu/mol, A m2, mu_B; Oe, T, ...) from the column names or ``--field-unit``
/ ``--moment-unit``, converted to mu_0 H [T] and mu_B per ion (emu needs the sample mass and
molar mass: QD header or ``--mass`` [mg] / ``--molar-mass`` [g/mol]). ``--format pairs``
reads (x, y) column-pair tables whose labels name the temperature ("2K") or field ("1 T").
Noise: the file's error column, or ``--sigma`` [mu_B per ion], or ``--rel-sigma``.

Models:
* brillouin: free moments of angular momentum J in a Weiss molecular field,
  M = g J B_J(g mu_B J (B + lambda M) / k_B T), lambda = 3 k_B theta / (g^2 J(J+1) mu_B)
  solved self-consistently [+ chi_vv B with ``--van-vleck``; theta fitted with ``--theta``,
  else 0]; fits g; J fixed (``--J 3.5``) or scanned over half-integers
  1/2 ... ``--J-max`` (``--J scan``), the lowest chi2 reported with the whole scan; reports
  the saturation moment g J and mu_eff = g sqrt(J (J + 1)).
* curie-weiss: chi(T) = C / (T - theta) + chi0 [emu/mol, per mole of magnetic ions] with
  chi = M / H at each point; mu_eff = sqrt(C / 0.12505) mu_B; choose a window where M is
  linear in H (``--tmin``, ``--tmax``, ``--max-field``).
* exchange: mean-field (Weiss) relation between theta and the exchange constant of
  H = -sum_<ij> J S_i . S_j (each bond once, z neighbours): theta = z J S (S + 1) / (3 k_B),
  so J = 3 k_B theta / (z S (S + 1)); theta > 0 ferromagnetic, < 0 antiferromagnetic.
Fit quality: reduced chi2. Outputs (``<cmd>_fit.json``, ``<cmd>_fit.png``) are written only
after a successful fit, each atomically (temporary file + rename); the JSON summary last, with
``"run_status": "complete"`` (``"failed"`` and the error if writing stopped; ``"running"`` if
the run was killed while writing); progress goes to stderr.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np

import netmag_jax.fit as nf
from netmag_jax import constants as const

from ..._io import run_outputs
from ._common import add_output_options, prepare_outputs, pyplot, run_command, save_figure
from ._common import workflow_parser
from ._magnetometry_io import add_data_arguments, load_points

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
_BRILLOUIN_MODELS: dict = {}


def brillouin_model(van_vleck: bool = True, theta: bool = False):
    """``model(x, g[, theta][, chi_vv])``, x rows (B [T], T [K], J):
    M = g J B_J(g mu_B J (B + lambda M) / k_B T) + chi_vv B [mu_B per ion], the Weiss
    molecular field lambda = 3 k_B theta / (g^2 J (J + 1) mu_B) solved self-consistently
    (``fit.brillouin_weiss_moment``; theta = 0: free moments).

    J travels in the data, so one compiled fit serves every J of a scan.
    """
    key = (bool(van_vleck), bool(theta))
    if key not in _BRILLOUIN_MODELS:

        def model(x, g, *extra):
            if theta:
                m = nf.brillouin_weiss_moment(x[:, 0], x[:, 1], g, x[:, 2], extra[0])
            else:
                m = nf.brillouin_moment(x[:, 0], x[:, 1], g, x[:, 2])
            return m + extra[-1] * x[:, 0] if van_vleck else m

        _BRILLOUIN_MODELS[key] = model
    return _BRILLOUIN_MODELS[key]


def fit_brillouin_points(B, T, M, sigma, J, *, g0=2.0, van_vleck=False, theta=False):
    """Fit g (and theta [K], chi_vv [mu_B/T] when asked) of free moments of fixed J.

    Args:
        B: (m,) field mu_0 H [T]. T: (m,) temperature [K]. M: (m,) moment [mu_B per ion].
        sigma: (m,) noise of M [mu_B per ion]. J: angular momentum (multiple of 1/2).
    Returns:
        (FitResult, summary dict).
    """
    B, T, M, sigma = (np.asarray(a, float) for a in (B, T, M, sigma))
    x = np.stack([B, T, np.full(B.shape, float(J))], 1)
    p0, lo, hi = [g0], [0.01], [30.0]
    if theta:
        p0, lo, hi = [*p0, 0.0], [*lo, -1e3], [*hi, 0.99 * float(T.min())]
    if van_vleck:
        p0, lo, hi = [*p0, 0.0], [*lo, -10.0], [*hi, 10.0]
    model = brillouin_model(van_vleck, theta)
    res = nf.curve_fit(model, x, M, p0, sigma=sigma, absolute_sigma=True, bounds=(lo, hi))
    p, e = np.asarray(res.params), np.asarray(res.stderr)
    g, dg, root = float(p[0]), float(e[0]), float(np.sqrt(J * (J + 1)))
    out = {
        "J": float(J),
        "g": [g, dg],
        "saturation_moment_muB": [g * J, dg * J],
        "mu_eff_muB": [g * root, dg * root],
        "chi2_red": float(res.chi2_red),
        "n_points": int(M.size),
        "converged": bool(res.converged),
    }
    if theta:
        out["theta_K"] = [float(p[1]), float(e[1])]
    if van_vleck:
        out["chi_vv_muB_per_T"] = [float(p[-1]), float(e[-1])]
    return res, out


def fit_brillouin(curves, J=0.5, g0=2.0):
    """Fit g and chi_vv [mu_B/T] to M(H) curves of ``load_mh`` (all temperatures at once).

    Returns (FitResult, summary, (x, y, sigma)) with x rows (B, T, J).
    """
    B = np.concatenate([c["B"] for c in curves])
    T = np.concatenate([np.full(c["B"].shape, c["T"]) for c in curves])
    y = np.concatenate([c["M"] for c in curves])
    sigma = np.concatenate([np.full(c["M"].shape, c["sigma"]) for c in curves])
    res, out = fit_brillouin_points(B, T, y, sigma, J, g0=g0, van_vleck=True)
    return res, out, (np.stack([B, T, np.full(B.shape, float(J))], 1), y, sigma)


def scan_J(B, T, M, sigma, J_max=8.0, progress=None, **kw):
    """Brillouin fits for J = 1/2, 1, ..., J_max; returns (best J, its FitResult, summary
    with the scan table). Best = lowest chi2 (every J has the same number of parameters).
    """
    table, best = [], None
    for J in np.arange(0.5, float(J_max) + 0.25, 0.5):
        res, out = fit_brillouin_points(B, T, M, sigma, float(J), **kw)
        table.append({"J": float(J), "g": out["g"][0], "chi2_red": out["chi2_red"]})
        if progress:
            progress(f"J = {J:g}: g = {out['g'][0]:.5f}, chi2_red = {out['chi2_red']:.4g}")
        if best is None or out["chi2_red"] < best[2]["chi2_red"]:
            best = (float(J), res, out)
    if best is None:
        raise ValueError(f"J_max must be >= 0.5, got {J_max}")
    best[2]["J_scan"] = table
    return best


def fit_curie_weiss(T, chi, tmin, tmax, rel_sigma=0.01, sigma=None):
    """Curie-Weiss fit chi = C/(T - theta) + chi0 on tmin <= T <= tmax (chi in emu/mol).

    sigma: (m,) absolute noise of chi (same unit); default rel_sigma * |chi|.
    """
    T, chi = np.asarray(T, float), np.asarray(chi, float)
    sel = (tmin <= T) & (tmax >= T)
    if sel.sum() < 4:
        raise ValueError(f"fewer than 4 points between {tmin} and {tmax} K")
    s = rel_sigma * np.abs(chi) if sigma is None else np.asarray(sigma, float)
    T, chi, s = T[sel], chi[sel], s[sel]
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
        sigma=s,
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
        "T_range_K": [float(tmin), float(tmax)],
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
def _figure(series, xlabel, ylabel, title):
    """Data series (``kind="data"``: points with error bars) and model lines in one panel."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    color = None
    for s in series:  # a model line takes the colour of the data series before it
        if s.get("kind") == "data":
            eb = ax.errorbar(s["x"], s["y"], yerr=s.get("yerr"), fmt="o", ms=3, label=s["label"])
            color = eb[0].get_color()
        else:
            ax.plot(s["x"], s["y"], "-", color=color, label=s["label"])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


# --- command line -------------------------------------------------------------------------------
def build_parser():
    """The ``netmag fit magnetism`` argument parser (brillouin, curie-weiss, exchange)."""
    p, sub = workflow_parser("magnetism", __doc__)
    s = sub.add_parser("brillouin", help="g (and J) from M(H, T) of free moments")
    s.add_argument("--J", default="scan", help="angular momentum (3.5 or 7/2) or 'scan'")
    s.add_argument("--J-max", type=float, default=8.0, help="largest J of a scan")
    s.add_argument("--g0", type=float, default=2.0, help="starting g")
    s.add_argument("--theta", action="store_true", help="fit a Weiss temperature too")
    s.add_argument("--van-vleck", action="store_true", help="fit a linear term chi_vv B")
    cw = sub.add_parser("curie-weiss", help="chi(T) = C/(T-theta)+chi0 from M/H")
    ex = sub.add_parser("exchange", help="exchange J from the Weiss theta")
    ex.add_argument("--S", type=float, default=0.5, help="(effective) spin")
    ex.add_argument("--z", type=int, default=6, help="number of neighbours")
    for a in (s, cw, ex):
        add_data_arguments(a)
        add_output_options(a, Path("magnetism_fit"))
        a.add_argument("--no-figure", action="store_true")
    return p


def main(argv=None, *, catch: bool = True) -> int:
    """``netmag fit magnetism ARGS``: fit, write ``<cmd>_fit.json`` (+ figure); returns 0.

    Fits run in float64 (measured data). A user mistake, or an output file that exists
    without ``--overwrite``, exits with one line and writes nothing.
    ``catch=False`` lets errors propagate (``run_command``).
    """
    return run_command(build_parser(), _run, argv, catch=catch)


def _progress(msg: str) -> None:
    print(f"netmag fit magnetism: {msg}", file=sys.stderr, flush=True)


def parse_J(text: str) -> float | None:
    """``--J``: a positive multiple of 1/2 ("3.5", "7/2"), or None for "scan"."""
    if text == "scan":
        return None
    try:
        num, _, den = text.partition("/")
        J = float(num) / (float(den) if den else 1.0)
    except (ValueError, ZeroDivisionError):
        raise ValueError(
            f"--J must be a number such as 3.5 or 7/2, or 'scan'; got {text!r}"
        ) from None
    if not (J > 0 and abs(2 * J - round(2 * J)) < 1e-9):
        raise ValueError(f"--J must be a positive multiple of 1/2, got {text!r}")
    return J


def _run(args) -> int:
    J = parse_J(args.J) if args.cmd == "brillouin" else None
    d = load_points(args)
    if args.cmd == "brillouin":
        check_brillouin_data(d, J, args.theta, args.van_vleck)
    names = [f"{args.cmd}_fit.json"] + ([] if args.no_figure else [f"{args.cmd}_fit.png"])
    prepare_outputs(args.out, names, args.overwrite)  # before the fit
    _progress(f"{d.M.size} points from {args.data} (columns {d.columns or 'pairs'})")
    _progress("compiling… (the first fit compiles; later fits reuse it)")
    out, fig = _brillouin(args, d, J) if args.cmd == "brillouin" else _curie_weiss(args, d)
    out["input"] = {"file": str(args.data), "columns": d.columns, "units": d.units}
    try:
        with run_outputs(args.out / f"{args.cmd}_fit.json") as summary:
            if fig is not None:
                out["figure"] = save_figure(fig, args.out / f"{args.cmd}_fit.png")
            summary.update(out)
    finally:
        if fig is not None:
            pyplot().close(fig)
    print(json.dumps(summary, indent=2))
    return 0


def check_brillouin_data(d, J, theta: bool, van_vleck: bool):
    """``d`` if its points can determine the Brillouin fit's parameters: g, J when scanned
    (``J`` None), a Weiss theta and a van Vleck slope each need one more distinct condition.
    M depends on (B, T) through x = g mu_B J B / k_B (T - theta) only, so without theta the
    distinct conditions are the distinct B / T; with theta, the distinct (B, T) points.
    Points all at one B / T fit every J equally well (chi2 = 0): the scan's pick would be
    arbitrary.

    Raises:
        ValueError: fewer distinct conditions than parameters (naming the file and count).
    """
    need = (1 if J is not None else 2) + int(theta) + int(van_vleck)
    conditions = np.stack([d.B, d.T], 1) if theta else (np.abs(d.B) / d.T)[:, None]
    found = len(np.unique(np.round(conditions, 9), axis=0))
    if found < need:
        what = "(field, temperature) points" if theta else "values of mu0 H / T"
        scan = "J and g" if J is None else "g"
        raise ValueError(
            f"{d.source}: {found} distinct {what} cannot determine {scan}"
            f"{' and theta' if theta else ''}{' and chi_vv' if van_vleck else ''}; "
            f"measure M at >= {need} different fields or temperatures"
            + (" (or fix --J)" if J is None else "")
        )
    return d


def _brillouin(args, d, J):
    """``brillouin``: g (J fixed or scanned); figure of data and fit per temperature."""
    kw = dict(g0=args.g0, van_vleck=args.van_vleck, theta=args.theta)
    if J is None:
        J, res, out = scan_J(d.B, d.T, d.M, d.sigma, args.J_max, progress=_progress, **kw)
    else:
        res, out = fit_brillouin_points(d.B, d.T, d.M, d.sigma, J, **kw)
    _progress(f"J = {J:g}: g = {out['g'][0]:.6f} +- {out['g'][1]:.1e}")
    if args.no_figure:
        return out, None
    model = brillouin_model(args.van_vleck, args.theta)
    series = []
    for T in np.unique(np.round(d.T, 1))[:8]:
        k = np.abs(d.T - T) < 0.05 + 1e-3 * T
        o = np.argsort(d.B[k])
        B = d.B[k][o]
        xx = jnp.asarray(np.stack([B, d.T[k][o], np.full(B.shape, J)], 1))
        series.append(dict(kind="data", x=B, y=d.M[k][o], yerr=d.sigma[k][o], label=f"{T:g} K"))
        series.append(dict(x=B, y=np.asarray(model(xx, *res.params)), label=f"fit {T:g} K"))
    g, dg = out["g"]
    title = f"J = {J:g}: g = {g:.4f} +- {dg:.4f}, chi2_red = {out['chi2_red']:.2f}"
    return out, _figure(series, "mu0 H [T]", "M [mu_B / ion]", title)


def _curie_weiss(args, d):
    """``curie-weiss`` / ``exchange``: chi = M/H per point, Curie-Weiss fit (+ exchange J)."""
    per_oe = const.N_A * const.MU_B * 1e3 / (d.B * 1e4)  # mu_B/ion -> emu/mol, then / H [Oe]
    chi, s = d.M * per_oe, d.sigma * per_oe
    tmin = float(d.T.min()) if args.tmin is None else args.tmin
    tmax = float(d.T.max()) if args.tmax is None else args.tmax
    res, out, (Tf, chif) = fit_curie_weiss(d.T, chi, tmin, tmax, sigma=s)
    _progress(f"theta = {out['theta_K'][0]:.3f} K, chi2_red = {out['chi2_red']:.3g}")
    if args.cmd == "exchange":
        out["exchange"] = exchange_from_theta(out["theta_K"][0], out["theta_K"][1], args.S, args.z)
    if args.no_figure:
        return out, None
    o = np.argsort(Tf)
    fitted = nf.curie_weiss_chi(Tf[o], *[float(v) for v in res.params])
    series = [
        dict(kind="data", x=Tf[o], y=1.0 / chif[o], label="1/chi = H/M"),
        dict(x=Tf[o], y=1.0 / np.asarray(fitted), label="Curie-Weiss fit"),
    ]
    th, dth = out["theta_K"]
    title = f"theta = {th:.2f} +- {dth:.2f} K, mu_eff = {out['mu_eff_muB'][0]:.3f} mu_B"
    return out, _figure(series, "T [K]", "1/chi [mol emu^-1]", title)
