"""Command-line side of the magnetometry readers: the data options and one loader.

``add_data_arguments(parser)`` adds ``--data`` (required), the format, the column names,
units, sample mass / molar mass, the noise (``--sigma``, ``--rel-sigma`` or an error column)
and the temperature / field windows; ``load_points(args)`` returns the selected points as a
``netmag_jax.fit.MagnetometryData`` with sigma set, or raises ValueError with one line.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

import netmag_jax.fit as nf

from .._magnetometry import check_ranges


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """The input options shared by the magnetometry commands."""
    g = p.add_argument_group("input")
    g.add_argument("--data", type=Path, required=True, help="QD .dat or CSV/TSV table")
    g.add_argument(
        "--format",
        choices=["auto", "qd", "table", "pairs"],
        default="auto",
        help="auto: QD .dat if it starts with [Header], else a table with named columns; "
        "pairs: (x, y) column pairs labelled '2K ...' (M(H)) or '1 T ...' (M/H(T))",
    )
    for role, hlp in (
        ("temperature", "temperature column [K]"),
        ("field", "field column"),
        ("moment", "moment column"),
        ("sigma", "standard-error column of the moment"),
    ):
        g.add_argument(f"--{role}-column", help=f"{hlp} (default: found by name)")
    g.add_argument("--field-unit", help="Oe, G, kOe, T, mT, A/m (when the file names none)")
    g.add_argument(
        "--moment-unit", help="emu, emu/g, emu/mol, A m2, muB, muB/f.u., or <unit>/Oe for M/H"
    )
    g.add_argument("--mass", type=float, help="sample mass [mg] (default: QD header)")
    g.add_argument("--molar-mass", type=float, help="[g/mol] of the formula unit (QD header)")
    g.add_argument("--ions-per-formula", type=float, default=1.0, help="magnetic ions per f.u.")
    g.add_argument("--select", help="pairs format: substring of the column labels to use")
    n = p.add_argument_group("noise and selection")
    n.add_argument("--sigma", type=float, help="noise of M [mu_B per ion] (overrides a column)")
    n.add_argument("--rel-sigma", type=float, help="relative noise of M (sigma = r |M|)")
    n.add_argument("--tmin", type=float, help="lowest temperature used [K]")
    n.add_argument("--tmax", type=float, help="highest temperature used [K]")
    n.add_argument("--min-field", type=float, help="smallest field used [T] (default > 0)")
    n.add_argument("--max-field", type=float, help="largest field used [T]")


def _label_value(label: str, unit: str) -> float | None:
    m = re.search(r"([-+]?[\d.]+)\s*" + unit + r"\b", label)
    return float(m.group(1)) if m else None


def read_pairs(args) -> nf.MagnetometryData:
    """A column-pair table (``read_column_pairs``) as points: a label naming a temperature
    ("2K H//ab") holds (H, M); a label naming a field ("1 T H//ab") holds (T, M or M/H)."""
    Ts, Hs, Ms = [], [], []
    for label, (x, y) in nf.read_column_pairs(args.data).items():
        if args.select and args.select not in label:
            continue
        T, B = _label_value(label, "K"), _label_value(label, "T")
        if T is not None:
            Ts.append(np.full(x.shape, T))
            Hs.append(nf.field_to_tesla(x, _need(args.field_unit, "--field-unit", args)))
        elif B is not None:
            Ts.append(x)
            Hs.append(np.full(x.shape, B))
        else:
            raise ValueError(
                f"{args.data}: label {label!r} names no temperature (2K) or field (1 T)"
            )
        Ms.append(y)
    if not Ts:
        raise ValueError(f"{args.data}: no column pairs match --select {args.select!r}")
    B = np.concatenate(Hs)
    with np.errstate(over="ignore"):  # an overflow to inf is reported by check_ranges
        M = nf.moment_to_muB(
            np.concatenate(Ms),
            _need(args.moment_unit, "--moment-unit", args),
            H_Oe=B * 1e4,
            mass_mg=args.mass,
            molar_mass=args.molar_mass,
            ions_per_formula=args.ions_per_formula,
            where=f"{args.data}: ",
        )
    T = np.concatenate(Ts)
    data = nf.MagnetometryData(
        T=T, B=B, M=M, sigma=None, lines=np.zeros(T.shape, int), source=str(args.data)
    )
    return check_ranges(data)  # no file lines: the error names the point


def _need(value, option: str, args):
    if value is None:
        raise ValueError(f"{args.data}: the pairs format names no units; give {option}")
    return value


def load_points(args, *, positive_field: bool = True) -> nf.MagnetometryData:
    """Read ``args.data``, keep the T / field window, set sigma; ValueError on bad input.

    sigma: ``--sigma`` (mu_B per ion), else ``--rel-sigma`` x |M|, else the file's error
    column; none of these is an error (fits need the noise to give a chi2 and errors).
    """
    if args.format == "pairs":
        d = read_pairs(args)
    else:
        d = nf.read_magnetometry(
            args.data,
            temperature=args.temperature_column,
            field=args.field_column,
            moment=args.moment_column,
            sigma=args.sigma_column,
            field_unit=args.field_unit,
            moment_unit=args.moment_unit,
            mass_mg=args.mass,
            molar_mass=args.molar_mass,
            ions_per_formula=args.ions_per_formula,
            format=args.format,
        )
    for name in ("sigma", "rel_sigma", "tmin", "tmax", "min_field", "max_field"):
        v = getattr(args, name)
        if v is not None and not (np.isfinite(v) and v >= 0):
            raise ValueError(f"--{name.replace('_', '-')} must be finite and >= 0, got {v}")
    keep = np.ones(d.T.shape, bool)
    if args.tmin is not None:
        keep &= args.tmin <= d.T
    if args.tmax is not None:
        keep &= args.tmax >= d.T
    absB = np.abs(d.B)
    keep &= (
        absB >= args.min_field
        if args.min_field is not None
        else (absB > 0 if positive_field else keep)
    )
    if args.max_field is not None:
        keep &= absB <= args.max_field
    if keep.sum() < 3:
        raise ValueError(f"{args.data}: {int(keep.sum())} points in the chosen T / field window")
    if args.sigma is not None:
        sigma = np.full(d.M.shape, float(args.sigma))
    elif args.rel_sigma is not None:
        sigma = args.rel_sigma * np.abs(d.M)
    elif d.sigma is not None:
        sigma = d.sigma
    else:
        raise ValueError(
            f"{args.data}: no error column found; give --sigma, --rel-sigma or --sigma-column"
        )
    sigma = sigma[keep]
    if not np.all(sigma > 0):
        raise ValueError(f"{args.data}: the noise sigma must be > 0 at every point used")
    pick = {k: getattr(d, k)[keep] for k in ("T", "B", "M", "lines")}
    return replace(d, sigma=sigma, **pick)
