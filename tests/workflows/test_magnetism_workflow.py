"""netmag_jax.fit.workflows magnetism and crystal_field on the shipped CsErSe2 data."""

import json
import math

import numpy as np
import pytest
import scipy.optimize as so
from jax.test_util import check_grads

import netmag_jax.fit as nf
from netmag_jax import constants as const
from netmag_jax import statmech
from netmag_jax.fit.workflows import DATA as SHIPPED
from netmag_jax.fit.workflows import crystal_field as CF
from netmag_jax.fit.workflows import magnetism as M

DATA = SHIPPED / "CsErSe2"
#: the MT file as column pairs "1 T H//ab" of (T, M/H in emu mol^-1 Oe^-1), 1 % noise
MT_PAIRS = [
    "--data",
    str(DATA / "CsErSe2_MT.dat"),
    "--format",
    "pairs",
    "--moment-unit",
    "emu/mol/Oe",
    "--rel-sigma",
    "0.01",
]


def test_data_is_required(capsys):
    """No silent fallback to the shipped file: without --data argparse stops (exit 2)."""
    with pytest.raises(SystemExit) as e:
        M.main(["brillouin", "--J", "0.5"])
    assert e.value.code == 2 and "--data" in capsys.readouterr().err


def test_reader_handles_the_files_as_they_are():
    """Column lengths equal an independent count of the numeric fields per column (plain
    Python split on tabs); CRLF, '--' padding and repeated header tabs are handled."""
    for name, n_pairs in (("CsErSe2_MH.dat", 6), ("CsErSe2_MT.dat", 12)):
        pairs = nf.read_column_pairs(DATA / name)
        assert len(pairs) == n_pairs
        rows = [ln.split("\t") for ln in (DATA / name).read_text().splitlines()[1:] if ln]
        for k, (x, y) in enumerate(pairs.values()):
            n = sum(
                1
                for r in rows
                if len(r) > 2 * k + 1
                and r[2 * k].strip() not in ("", "--")
                and r[2 * k + 1].strip() not in ("", "--")
            )
            assert len(x) == len(y) == n
    mh = nf.read_column_pairs(DATA / "CsErSe2_MH.dat")
    H, Mv = mh["2K H//ab"]
    assert H[0] == 0.0 and abs(Mv[0] + 0.006553) < 1e-6  # the offset at H = 0


@pytest.mark.parametrize(
    "text, msg",
    [
        ("a\tb\tc\n1\t2\t3\t4\n", "header names 3"),
        ("a\n1\t2\t3\n", "even number"),
        ("a\n1\tx\n", "cannot read"),
        ("a\n", "header line and at least one"),
    ],
)
def test_reader_rejects_bad_files(tmp_path, text, msg):
    p = tmp_path / "f.dat"
    p.write_text(text)
    with pytest.raises(ValueError, match=msg):
        nf.read_column_pairs(p)
    with pytest.raises(ValueError, match="cannot read"):
        nf.read_column_pairs(tmp_path / "missing.dat")


def test_column_pairs_with_a_byte_order_mark(tmp_path):
    """A UTF-8 byte-order mark does not become part of the first label: the pairs and their
    labels equal those of the file without it."""
    raw = (DATA / "CsErSe2_MH.dat").read_bytes()
    (tmp_path / "bom.dat").write_bytes(b"\xef\xbb\xbf" + raw)
    plain, bom = (nf.read_column_pairs(p) for p in (DATA / "CsErSe2_MH.dat", tmp_path / "bom.dat"))
    assert list(bom) == list(plain) and not list(bom)[0].startswith("\ufeff")
    for (x0, y0), (x1, y1) in zip(plain.values(), bom.values(), strict=True):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)


def test_doublet_g_from_2K_mh_matches_scipy():
    """Effective spin-1/2 ground doublet at 2 K (H // ab, <= 0.6 T): g and chi_vv equal an
    independent scipy fit of M = (g/2) tanh(g mu_B B / 2 k_B T) + chi_vv B to 1e-6."""
    curves = M.load_mh(DATA / "CsErSe2_MH.dat", "H//ab", [2.0], 0.6)
    res, out, (x, y, s) = M.fit_brillouin(curves, J=0.5)

    def f(xx, g, chi):
        return (
            0.5 * g * np.tanh(g * const.MU_B * xx[:, 0] / (2 * const.K_B * xx[:, 1]))
            + chi * xx[:, 0]
        )

    p, cov = so.curve_fit(
        f, x, y, p0=[2.0, 0.0], sigma=s, absolute_sigma=True, xtol=1e-15, ftol=1e-15
    )
    np.testing.assert_allclose(res.params, p, rtol=1e-6)
    np.testing.assert_allclose(res.stderr, np.sqrt(np.diag(cov)), rtol=1e-5)
    assert 5.0 < out["g"][0] < 8.0 and out["converged"]


def test_curie_weiss_high_T_gives_er3_free_ion_moment(tmp_path):
    """chi(T) at 1 T, 100-350 K, both directions: powder Curie constant (2 C_ab + C_c)/3
    gives mu_eff within 5% of the free Er3+ ion g_J sqrt(J(J+1)) = 9.58 mu_B; the ab fit
    equals scipy's on the same points to 1e-6."""
    C = {}
    for d in ("ab", "c"):
        argv = [*MT_PAIRS, "--select", f"1 T H//{d}", "--tmin", "100", "--tmax", "350"]
        assert M.main(["curie-weiss", *argv, "--out", str(tmp_path / d), "--no-figure"]) == 0
        out = json.loads((tmp_path / d / "curie-weiss_fit.json").read_text())
        C[d] = out["C_emuK_per_mol"][0]
        assert out["converged"] and 0.2 < out["chi2_red"] < 5
    mu = math.sqrt((2 * C["ab"] + C["c"]) / 3 / nf.CURIE_CGS_PER_MUEFF2)
    assert abs(mu / (1.2 * math.sqrt(7.5 * 8.5)) - 1) < 0.05
    T, chi = nf.read_column_pairs(DATA / "CsErSe2_MT.dat")["1 T H//ab"]
    res, out, (Tf, chif) = M.fit_curie_weiss(T, chi, 100.0, 350.0)
    p, _ = so.curve_fit(
        lambda t, c, th, c0: c / (t - th) + c0,
        Tf,
        chif,
        p0=[10.0, 0.0, 0.0],
        sigma=0.01 * chif,
        absolute_sigma=True,
        xtol=1e-15,
        ftol=1e-15,
    )
    np.testing.assert_allclose(res.params, p, rtol=1e-6, atol=1e-9)


def test_exchange_mean_field_relation(tmp_path):
    """J = 3 k_B theta / (z S (S+1)) (analytic), applied to the low-T Weiss temperature."""
    out = M.exchange_from_theta(-2.0, 0.1, 0.5, 6)
    assert out["J_K"][0] == pytest.approx(-2.0 * 3 / (6 * 0.75))
    assert out["J_meV"][0] == pytest.approx(const.K_to_meV(-4.0 / 3.0))
    argv = [*MT_PAIRS, "--select", "0.1 T H//ab", "--tmin", "5", "--tmax", "20"]
    assert M.main(["exchange", *argv, "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "exchange_fit.json").read_text())
    assert res["exchange"]["J_K"][0] < 0  # antiferromagnetic (theta < 0) on the triangle
    assert (tmp_path / res["figure"]).exists()


def test_mt_unit_is_emu_per_mol_oe():
    """M/H in the MT file over M[mu_B]/H[Oe] at matching (T, H) equals N_A mu_B = 5585 emu/mol
    within 1.5% (so M/H is emu mol^-1 Oe^-1)."""
    u = CF.mt_units()
    assert u["n_pairs"] >= 20
    assert abs(u["ratio_median"] / 5584.94 - 1) < 0.015 and u["unit"] == "emu mol^-1 Oe^-1"


def _hutchings_trigonal(bkq_meV):
    """Independent H [meV] of Er3+ (J = 15/2) from Hutchings' explicit operator formulas
    (O20, O40, O43, O60, O63, O66 written out in J_z, J_+, J_-; basis m = -J..J, the order
    PyCrystalField uses), numpy only."""
    J = 7.5
    m = np.arange(-J, J + 1)
    jz = np.diag(m)
    jp = np.diag(np.sqrt(J * (J + 1) - m[:-1] * (m[:-1] + 1)), -1)  # <m+1|J+|m>
    jm = jp.T
    X, one, mp = J * (J + 1), np.eye(m.size), np.linalg.matrix_power
    c3 = mp(jp, 3) + mp(jm, 3)
    z3 = 11 * mp(jz, 3) - (3 * X + 59) * jz
    ops = [
        3 * mp(jz, 2) - X * one,
        35 * mp(jz, 4) - (30 * X - 25) * mp(jz, 2) + (3 * X * X - 6 * X) * one,
        0.25 * (c3 @ jz + jz @ c3),
        231 * mp(jz, 6)
        - (315 * X - 735) * mp(jz, 4)
        + (105 * X * X - 525 * X + 294) * mp(jz, 2)
        + (-5 * X**3 + 40 * X * X - 60 * X) * one,
        0.25 * (c3 @ z3 + z3 @ c3),
        0.5 * (mp(jp, 6) + mp(jm, 6)),
    ]
    return sum(b * o for b, o in zip(bkq_meV, ops, strict=False)), m


@pytest.mark.skipif(not hasattr(statmech, "SingleIon"), reason="statmech.SingleIon not merged")
def test_published_cef_reproduces_the_authors_neutron_levels_and_ground_state():
    """Published CsErSe2 B_kq (Scheie et al. 2020, the authors' CES_CEF_fit2 notebook):
    SingleIon's zero-field doublets equal an independent numpy Hamiltonian from Hutchings'
    formulas (1e-9 meV); they lie within 0.05 meV of the notebook's measured neutron peaks;
    the ground doublet is the m = -13/2, -7/2, -1/2, 5/2, 11/2 state with the weights the
    notebook prints for it (0.329, 0.252, 0.255, 0.110, 0.0146 of its 0.96 in that sector);
    its in-plane g agrees with the effective-doublet g_ab of the 2 K data (6.6) within 5 %."""
    bkq = CF.SCHEIE_2020_MEV
    lev = const.J_to_meV(np.sort(np.asarray(CF._single_ion(bkq).energy_levels(np.zeros(3)))))
    lev = (lev - lev[0])[::2]
    h, m = _hutchings_trigonal(bkq)
    e, v = np.linalg.eigh(h)
    assert np.allclose(lev, (e - e[0])[::2], atol=1e-9)
    assert np.allclose(lev[1:5], CF.SCHEIE_2020_PEAKS_MEV, atol=0.05)
    sector = np.isin(m, [-6.5, -3.5, -0.5, 2.5, 5.5])
    es, vs = np.linalg.eigh(h[np.ix_(sector, sector)])
    assert es[0] == pytest.approx(e[0], abs=1e-9)
    printed = np.array([0.57385414, -0.50249657, 0.5052531, 0.33105421, 0.12071817]) ** 2
    assert np.allclose(vs[:, 0] ** 2, printed / printed.sum(), atol=2e-3)
    g_ab, g_c = CF.ground_doublet_g(bkq)
    assert g_ab == pytest.approx(6.6, rel=0.05)
    assert g_c > g_ab  # the neutron-only set is less easy-plane than the 2 K data


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(statmech, "SingleIon"), reason="statmech.SingleIon not merged")
def test_cef_fit_improves_on_published_start():
    """Crystal-field fit of the six Stevens parameters to M(H) at 2, 10, 50 K, both
    directions (every 8th point, 15 iterations): reduces chi2_red from the published start by more
    than 10x, and the fitted levels keep the 8 Kramers doublets within 0-40 meV."""
    res, out, _ = CF.fit_cef(thin=8, max_iter=15)
    assert np.all(np.isfinite(np.asarray(res.params)))
    assert out["chi2_red"] < out["chi2_red_published"] / 10
    assert len(out["levels_meV"]) == 8 and max(out["levels_meV"]) < 40


def test_brillouin_weiss_moment_solves_the_mean_field_equation():
    """m = g J B_J(g mu_B J (B + lam m) / k_B T), lam = 3 k_B theta / (g^2 J(J+1) mu_B):
    equal to scipy's brentq root of the same equation (coth form in NumPy) to 1e-10 for an
    antiferromagnetic and a ferromagnetic theta (ordered branch below theta); forward-mode
    derivatives equal finite differences; theta = 0 is brillouin_moment."""
    J, g = 3.5, 2.0

    def bj(x):
        a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
        return a / np.tanh(a * x) - b / np.tanh(b * x)

    B = np.array([7.0, 0.1, 0.01])
    T = np.array([2.0, 20.0, 1.0])
    th = np.array([-1.5, -1.5, 3.0])
    got = nf.brillouin_weiss_moment(B, T, g, np.full(3, J), th)
    for i in range(3):
        lam = 3 * const.K_B * th[i] / (g * g * J * (J + 1) * const.MU_B)
        ref = so.brentq(
            lambda m, i=i, lam=lam: (
                m - g * J * bj(g * const.MU_B * J * (B[i] + lam * m) / (const.K_B * T[i]))
            ),
            1e-9,
            g * J,
            xtol=1e-15,
        )
        assert float(got[i]) == pytest.approx(ref, abs=1e-10)
    free = nf.brillouin_weiss_moment(B, T, g, np.full(3, J), np.zeros(3))
    np.testing.assert_allclose(free, nf.brillouin_moment(B, T, g, J), rtol=1e-12)
    check_grads(
        lambda gg, tt: nf.brillouin_weiss_moment(B[:2], T[:2], gg, np.full(2, J), tt),
        (np.asarray(2.0), np.asarray(-1.0)),
        order=1,
        modes=("fwd",),  # the Jacobians of the fits are forward mode
    )


def test_crystal_field_cli_bad_input_is_one_line(tmp_path):
    """A negative temperature: one line, exit status 1, no output folder."""
    with pytest.raises(SystemExit) as e:
        CF.main(["fit", "--temps", "-2", "--out", str(tmp_path / "o")])
    assert str(e.value.code).startswith("netmag fit crystal_field: --temps must be > 0")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cef_exchange_model_limits():
    """lambda = 0: the mean-field model equals the single-ion model (1e-9 mu_B); its level
    rows equal doublet_energies of the same B_kq (1e-4 meV, their rounding); an
    antiferromagnetic lambda lowers every moment."""
    x, y, s, _ = CF.load_data((2.0, 50.0), None, 16)
    xl = np.concatenate([x, np.zeros((len(y), 2))], 1)
    xl = np.concatenate([xl, [[0, 1, 0, 1, k] for k in (1, 2, 3, 4)]])
    ones = [1.0] * 6
    mf = np.asarray(CF.cef_exchange_model(xl, *ones, 0.0, 0.0))
    np.testing.assert_allclose(mf[: len(y)], np.asarray(CF.cef_model(x, *ones)), atol=1e-9)
    lev = CF.doublet_energies(CF.SCHEIE_2020_MEV)
    np.testing.assert_allclose(mf[len(y) :], lev[1:5], atol=1e-4)
    afm = np.asarray(CF.cef_exchange_model(xl, *ones, -0.05, -0.05))
    assert np.all(afm[: len(y)] < mf[: len(y)])


def test_unwritable_out_is_one_line(tmp_path):
    """--out under a regular file cannot be created: one line naming it, exit status 1."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as e:
        CF.main(["units", "--out", str(blocker / "out")])
    msg = str(e.value.code)
    assert msg.startswith("netmag fit crystal_field: ") and "\n" not in msg and "file" in msg
