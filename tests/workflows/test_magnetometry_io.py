"""Magnetometry files as instruments write them: readers, unit conversion, the CLI on them.

The Quantum Design files are built line by line in the layout MPMS3 MultiVu writes (seen in
the public MPMS3 files of RinehartGroup/MagnetoPy, tests/data/mvsh4.dat, "MPMS3 Measurement
Release 1.1.16, MultiVu Release 2.3.4.19"): a ``[Header]`` block of comma-separated records
(``INFO,<value>,<KEY>``, SAMPLE_MASS in mg, SAMPLE_MOLECULAR_WEIGHT in g/mol), ``[Data]``,
a line of column names with units, a quoted comment row that fills two fields, then rows
whose unused columns are empty; CRLF line ends. The synthetic Gd3+ data (J = 7/2, g = 2,
L = 0) come from the closed-form Brillouin function written out here in NumPy.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netmag_jax.fit as nf
from netmag_jax.fit.workflows import magnetism as M

MU_B, K_B, N_A = 9.2740100783e-24, 1.380649e-23, 6.02214076e23  # CODATA 2018
NA_MUB = N_A * MU_B * 1e3  # emu/mol per mu_B/ion: 5584.94
MASS_MG, W = 12.3, 371.70  # GdCl3.6H2O: 157.25 + 3 x 35.45 + 6 x 18.015 g/mol
QD_COLUMNS = (
    "Comment,Time Stamp (sec),Temperature (K),Magnetic Field (Oe),Moment (emu),"
    "M. Std. Err. (emu),Transport Action,Averaging Time (sec),Min. Temperature (K),"
    "DC Moment Fixed Ctr (emu),DC Moment Err Fixed Ctr (emu),DC Moment Free Ctr (emu),"
    "DC Moment Err Free Ctr (emu),Map 01"
)


def brillouin_np(J, x):
    """B_J(x) from its closed form (coth), NumPy only."""
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    return a / np.tanh(a * x) - b / np.tanh(b * x)


def gd_set(seed=0, temps=(2.0, 4.0, 10.0, 30.0), n=12):
    """Synthetic Gd3+ M(H) [mu_B per ion] at several T with noise sigma = 2e-3 + 1e-3 M."""
    T = np.repeat(np.asarray(temps), n)
    H = np.tile(np.linspace(2000.0, 70000.0, n), len(temps))  # Oe
    J, g = 3.5, 2.0
    m = g * J * brillouin_np(J, g * MU_B * J * H * 1e-4 / (K_B * T))
    sig = 2e-3 + 1e-3 * m
    return T, H, m + np.random.default_rng(seed).normal(0.0, sig), sig


def write_qd(path, T, H, m_emu, err_emu, *, dc=False, delim=",", mass=MASS_MG, extra=()):
    """An MPMS3 .dat: VSM rows fill 'Moment (emu)'; DC rows (dc=True) leave it empty and fill
    'DC Moment Free Ctr (emu)' and its error, as MultiVu does."""
    head = [
        "[Header]",
        "; MPMS3 Data File (default extension .dat)",
        "; Copyright (c) 2007, Quantum Design, Inc. All rights reserved.",
        "TITLE,",
        "FILEOPENTIME,3860779097.57033,05/03/2022,10:44 pm",
        "BYAPP,MPMS3 w/ AC,1.0,1.1",
        "INFO,MPMS3 Measurement Release 1.1.16 Build 424, MultiVu Release 2.3.4.19,APPNAME",
        "INFO,GdCl3.6H2O,SAMPLE_MATERIAL",
        f"INFO,{mass},SAMPLE_MASS",
        "INFO,,SAMPLE_VOLUME",
        f"INFO,{W},SAMPLE_MOLECULAR_WEIGHT",
        "DATATYPE,COMMENT,1",
        "STARTUPAXIS,X,2",
        "FIELDGROUP, DC, 2,3,4,14,56,57",
        "[Data]",
        QD_COLUMNS,
        '"MvsH, Gd salt",3860779097.67536',
    ]
    rows = []
    for i in range(len(T)):
        vsm = ("", "") if dc else (f"{m_emu[i]:.10g}", f"{err_emu[i]:.6g}")
        dcm = (f"{m_emu[i]:.10g}", f"{err_emu[i]:.6g}") if dc else ("", "")
        f = [
            "",
            f"{3860779100 + 30 * i}",
            f"{T[i]:.9g}",
            f"{H[i]:.9g}",
            *vsm,
            "1",
            "",
            f"{T[i]:.9g}",
            "",
            "",
            *dcm,
            "",
        ]
        rows.append(delim.join(f))
    head[-2] = QD_COLUMNS.replace(",", delim)
    Path(path).write_text("\r\n".join([*head, *rows, *extra]) + "\r\n")


def gd_qd(path, **kw):
    T, H, m, s = gd_set()
    scale = MASS_MG * 1e-3 / W * NA_MUB  # emu per (mu_B per ion)
    write_qd(path, T, H, m * scale, s * scale, **kw)
    return T, H, m, s


def gd_csv(path):
    T, H, m, s = gd_set(seed=1)
    lines = [
        "# synthetic Gd3+ (J = 7/2, g = 2), closed-form Brillouin + noise",
        "T (K),mu0H (T),M (emu/mol),sigma (emu/mol)",
    ]
    lines += [
        f"{a},{b * 1e-4:.9g},{c * NA_MUB:.10g},{d * NA_MUB:.6g}"
        for a, b, c, d in zip(T, H, m, s, strict=True)
    ]
    Path(path).write_text("\n".join(lines) + "\n")
    return T, H, m, s


# --- readers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dc, delim", [(False, ","), (True, ","), (False, "\t")])
def test_qd_dat_read_and_converted_to_muB_per_ion(tmp_path, dc, delim):
    """VSM and DC files (and a tab-separated copy): the moment column with data is chosen,
    the comment row skipped, emu -> mu_B per ion with the header's mass and molar mass
    (M = m W / (m_s N_A mu_B)) to 1e-9, Oe -> T (1e-4), each point keeps its file line."""
    T, H, m, s = gd_qd(tmp_path / "gd.dat", dc=dc, delim=delim)
    d = nf.read_magnetometry(tmp_path / "gd.dat")
    np.testing.assert_allclose(d.M, m, rtol=1e-9)
    np.testing.assert_allclose(d.sigma, s, rtol=1e-5)
    np.testing.assert_allclose(d.B, H * 1e-4, rtol=1e-8)  # written with 9 digits
    np.testing.assert_allclose(d.T, T, rtol=1e-8)
    assert d.columns["M"] == ("DC Moment Free Ctr (emu)" if dc else "Moment (emu)")
    assert d.columns["sigma"] == ("DC Moment Err Free Ctr (emu)" if dc else "M. Std. Err. (emu)")
    assert d.lines[0] == 18 and d.header["SAMPLE_MASS"] == str(MASS_MG)


def test_long_table_and_units(tmp_path):
    """Long CSV in emu/mol and T; a TSV in emu/g with H in kOe and M named by option; the
    conversions are the definitions (1 kOe = 0.1 T, emu/g x W = emu/mol, N_A mu_B per ion)."""
    T, H, m, s = gd_csv(tmp_path / "gd.csv")
    d = nf.read_magnetometry(tmp_path / "gd.csv")
    np.testing.assert_allclose(d.M, m, rtol=1e-9)
    np.testing.assert_allclose(d.B, H * 1e-4, rtol=1e-8)
    p = tmp_path / "gd.tsv"
    rows = [f"{a}\t{b / 1e3}\t{c * NA_MUB / W:.10g}" for a, b, c in zip(T, H, m, strict=True)]
    p.write_text("Temp\tField [kOe]\tmag\n" + "\n".join(rows) + "\n")
    d = nf.read_magnetometry(p, moment="mag", moment_unit="emu/g", molar_mass=W)
    np.testing.assert_allclose(d.M, m, rtol=1e-9)
    np.testing.assert_allclose(d.B, H * 1e-4, rtol=1e-12)
    assert d.sigma is None
    np.testing.assert_allclose(
        nf.moment_to_muB(1e3, "A m2", mass_mg=1e3, molar_mass=1.0), 1e6 / NA_MUB
    )
    np.testing.assert_allclose(nf.field_to_tesla(1.0, "A/m"), 4e-7 * math.pi, rtol=1e-9)


@pytest.mark.parametrize(
    "body, kw, msg",
    [
        ("T (K),H (Oe)\n2,100\n", {}, "no M column found"),
        (
            "T (K),H (Oe),M (emu/mol)\n2,100,1\n3,nan,2\n",
            {},
            "line 3, column 'H \\(Oe\\)'.*not a finite",
        ),
        ("T (K),H,M (emu/mol)\n2,100 Oe,1\n3,1 T,2\n", {}, "line 3.*mixed units"),
        ("T (K),H (Oe),M (emu/mol)\n2,100,1\n", {"moment_unit": "emu"}, "mixed units"),
        ("T (K),H (Oe),M (emu/mol)\n2,100,1\n3,,2\n", {}, "line 3: column 'H \\(Oe\\)' is empty"),
        ("T (K),H (Oe),M (emu)\n2,100,1\n", {}, "need the sample mass"),
        ("T (K),H (Oe),M (emu/mol)\n0,100,1\n", {}, "line 2: temperature 0.0 K <= 0"),
        ("T (K),H (Oe),M (emu/mol)\n2,100,x1\n", {}, "line 2.*cannot read 'x1'"),
        ("T (K),H (parsec),M (emu/mol)\n2,100,1\n", {}, "unknown field unit"),
        (
            "T (K),H (Oe),M (emu/mol),sigma (emu/mol)\n2,100,1,0\n",
            {},
            "line 2: error 0.0 is not > 0",
        ),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, body, kw, msg):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(ValueError, match=msg) as e:
        nf.read_magnetometry(p, **kw)
    assert "bad.csv" in str(e.value)


def test_qd_without_named_columns_and_missing_file(tmp_path):
    p = tmp_path / "x.dat"
    p.write_text(
        "[Header]\r\nTITLE,\r\n[Data]\r\nComment,Time Stamp (sec),Temperature (K)\r\n,1,2\r\n"
    )
    with pytest.raises(ValueError, match="x.dat: no H column found"):
        nf.read_magnetometry(p)
    with pytest.raises(ValueError, match="x.dat: no H column named 'B'"):
        nf.read_magnetometry(p, field="B")
    with pytest.raises(ValueError, match="cannot read"):
        nf.read_magnetometry(tmp_path / "missing.dat")


# --- the command line -------------------------------------------------------------------------
def test_cli_fits_gd_from_qd_dat_and_long_csv(tmp_path, capsys):
    """Done-when of issue 14: an MPMS .dat (J fixed) and a long CSV (J scanned over
    half-integers) of synthetic Gd3+ fit through the CLI to g = 2 within 1e-3 with no option
    but the file; the scan picks J = 7/2; progress and 'compiling' go to stderr."""
    gd_qd(tmp_path / "gd.dat")
    gd_csv(tmp_path / "gd.csv")
    assert (
        M.main(
            [
                "brillouin",
                "--data",
                str(tmp_path / "gd.dat"),
                "--J",
                "7/2",
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "compiling…" in err and "48 points" in err
    a = json.loads((tmp_path / "a" / "brillouin_fit.json").read_text())
    assert abs(a["g"][0] - 2.0) < 1e-3 and a["converged"] and a["J"] == 3.5
    assert (tmp_path / "a" / a["figure"]).is_file()
    assert (
        M.main(
            [
                "brillouin",
                "--data",
                str(tmp_path / "gd.csv"),
                "--no-figure",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    b = json.loads((tmp_path / "b" / "brillouin_fit.json").read_text())
    assert b["J"] == 3.5 and abs(b["g"][0] - 2.0) < 1e-3 and len(b["J_scan"]) == 16
    assert 0.3 < b["chi2_red"] < 2.0  # noise model right: chi2_red ~ 1
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["brillouin_fit.json"]


def test_cli_curie_weiss_of_gd_gives_free_ion_moment(tmp_path):
    """M/H of the Gd set at 10 and 30 K, <= 1 T (linear regime within 3e-3): C = 0.12505
    g^2 J(J+1) = 7.878 emu K/mol (mu_eff = 7.94 mu_B) and theta ~ 0 within their errors."""
    gd_csv(tmp_path / "gd.csv")
    argv = ["curie-weiss", "--data", str(tmp_path / "gd.csv"), "--tmin", "9", "--max-field", "1"]
    assert M.main([*argv, "--out", str(tmp_path), "--no-figure"]) == 0
    out = json.loads((tmp_path / "curie-weiss_fit.json").read_text())
    assert abs(out["mu_eff_muB"][0] / (2 * math.sqrt(3.5 * 4.5)) - 1) < 0.02


@pytest.mark.parametrize(
    "setup, argv, msg",
    [
        ("T (K),H (Oe)\n2,100\n", [], "no M column found"),
        ("T (K),H (Oe),M (emu/mol)\n2,1e4,1\n3,1 T,2\n", [], "mixed units"),
        ("T (K),H (Oe),M (emu/mol)\n2,1e4,1\n3,2e4,NaN\n", [], "line 3.*not a finite"),
        ("T (K),H (Oe),M (emu/mol)\n2,1e4,1\n3,2e4,2\n4,3e4,3\n", [], "no error column"),
        ("T (K),H (Oe),M (emu/mol)\n2,1e4,1\n", ["--sigma", "1", "--J", "1.3"], "multiple of 1/2"),
    ],
)
def test_cli_bad_input_one_line_no_output(tmp_path, setup, argv, msg):
    """A data error ends with one line 'netmag fit magnetism: <file...>' and exit status 1;
    the output folder is not created."""
    p = tmp_path / "in.csv"
    p.write_text(setup)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        M.main(["brillouin", "--data", str(p), "--out", str(out), *argv])
    text = str(e.value.code)
    assert text.startswith("netmag fit magnetism: ") and "\n" not in text
    assert __import__("re").search(msg, text) and not out.exists()


def test_cli_process_prints_no_traceback(tmp_path):
    """The console command on a QD file without the named columns: exit 1, one stderr line
    naming the file, no traceback, no output files."""
    p = tmp_path / "x.dat"
    p.write_text("[Header]\r\n[Data]\r\nComment,Temperature (K),Moment (emu)\r\n,2,1e-3\r\n")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "netmag_jax.cli",
            "fit",
            "magnetism",
            "brillouin",
            "--data",
            str(p),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=300,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "x.dat: no H column found" in r.stderr
    assert not (tmp_path / "o").exists()


# --- physical ranges and byte-order marks -----------------------------------------------------
@pytest.mark.parametrize(
    "body, kw, msg",
    [  # the limits: nf.MAX_* in netmag_jax.fit._magnetometry_units (with their sources)
        (
            "T (K),H (T),M (muB)\n2,1,1\n2,2,1e300\n",
            {},
            r"line 3, column 'M \(muB\)': moment 1e\+300",
        ),
        # 1e307 A m2 = 1e310 emu: beyond float range after the conversion (inf)
        ("T (K),H (T),M (A m2)\n2,1,1e307\n", {"mass_mg": 1.0, "molar_mass": W}, "line 2.*inf"),
        ("T (K),H (T),M (muB)\n2,1,1\n2,70000,1\n", {}, r"line 3, column 'H \(T\)': field"),
        ("T (K),H (T),M (muB)\n2,1,1\n1e5,1,1\n", {}, r"line 3, column 'T \(K\)': temperature"),
        ("T (K),H (T),M (muB),dM (muB)\n2,1,1,1e301\n", {}, r"line 2, column 'dM \(muB\)': error"),
    ],
)
def test_values_beyond_physical_range_name_file_and_line(tmp_path, body, kw, msg):
    """Moments beyond 1e3 mu_B per ion (100 x the largest ionic moment, g_J J = 10 for Dy3+,
    Ho3+), fields beyond 1e4 T (~8 x the 1200 T laboratory record), T beyond 1e4 K, and
    values that overflow in the unit conversion: ValueError naming file, line and column."""
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(ValueError, match=msg) as e:
        nf.read_magnetometry(p, **kw)
    assert str(e.value).startswith("bad.csv line ") and "physical range" in str(e.value)


def test_cli_moment_of_1e300_exits_with_one_line(tmp_path):
    """`netmag fit magnetism` on a CSV with a moment of 1e300 mu_B: one line, exit status 1,
    nothing written (it used to fit and exit 0); the pairs format names the point."""
    p = tmp_path / "huge.csv"
    p.write_text("T (K),H (T),M (muB),dM (muB)\n" + "".join(f"2,{b},1e300,1\n" for b in (1, 2, 3)))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        M.main(["brillouin", "--data", str(p), "--J", "3.5", "--out", str(out)])
    assert str(e.value.code).startswith("netmag fit magnetism: huge.csv line 2, column 'M (muB)'")
    q = tmp_path / "pairs.txt"
    q.write_text("2K H//ab\n1\t1\n2\t1e300\n3\t1\n")
    argv = ["brillouin", "--data", str(q), "--format", "pairs", "--field-unit", "T"]
    with pytest.raises(SystemExit) as e:
        M.main([*argv, "--moment-unit", "muB", "--sigma", "0.1", "--out", str(out)])
    assert str(e.value.code).startswith(f"netmag fit magnetism: {q} point 2: moment 1e+300")
    assert not out.exists()


def test_utf8_bom_reads_and_fits_like_the_file_without(tmp_path, capsys):
    """A UTF-8 byte-order mark (Excel's "CSV UTF-8") changes nothing: the same columns, the
    same values bit for bit, the same J scan and g (the fit is deterministic)."""
    gd_csv(tmp_path / "plain.csv")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "plain.csv").read_bytes())
    a, b = (nf.read_magnetometry(tmp_path / f"{n}.csv") for n in ("plain", "bom"))
    assert a.columns == b.columns and a.units == b.units
    for k in ("T", "B", "M", "sigma", "lines"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    fits = []
    for name in ("plain", "bom"):
        argv = ["brillouin", "--data", str(tmp_path / f"{name}.csv"), "--J-max", "4"]
        assert M.main([*argv, "--no-figure", "--out", str(tmp_path / name)]) == 0
        fit = json.loads((tmp_path / name / "brillouin_fit.json").read_text())
        fits.append({k: v for k, v in fit.items() if k != "input"})
    assert fits[0] == fits[1] and fits[0]["J"] == 3.5  # Gd3+: J = 7/2


def test_qd_dat_with_bom_and_latin1_bytes(tmp_path):
    """A MultiVu .dat with a byte-order mark and a Windows (cp1252/Latin-1) byte in a header
    record ("µ"): still read as a QD file (the mark used to survive the Latin-1 fallback as
    "ï»¿" before [Header], so the file was taken for a table) and equal to the plain file."""
    gd_qd(tmp_path / "gd.dat")
    text = (tmp_path / "gd.dat").read_text().replace("TITLE,", "TITLE,µSQUID run")
    (tmp_path / "bom.dat").write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    a, b = (nf.read_magnetometry(tmp_path / n) for n in ("gd.dat", "bom.dat"))
    assert b.header["SAMPLE_MASS"] == str(MASS_MG) and a.columns == b.columns
    np.testing.assert_array_equal(a.M, b.M)
    np.testing.assert_array_equal(a.B, b.B)


def test_j_scan_of_points_at_one_field_over_temperature_is_an_error(tmp_path):
    """Points all at one mu0 H / T fit every J with chi2 = 0 (M depends on B / T only): a J
    scan used to return an arbitrary pick (four rows at 2 K, 1 T gave J = 7.5, g = 0.39, the
    'strange answer' first seen with a BOM file: the file without the mark gave the same);
    now one line saying why and what to measure, with or without the mark."""
    text = "T (K),H (T),M (muB),dM (muB)\n" + "2,1,1,0.1\n4,2,1,0.1\n" * 2
    for name, raw in (("plain", text.encode()), ("bom", b"\xef\xbb\xbf" + text.encode())):
        (tmp_path / f"{name}.csv").write_bytes(raw)
        out = tmp_path / name
        with pytest.raises(SystemExit) as e:
            M.main(["brillouin", "--data", str(tmp_path / f"{name}.csv"), "--out", str(out)])
        assert "1 distinct values of mu0 H / T cannot determine J and g" in str(e.value.code)
        assert not out.exists()
