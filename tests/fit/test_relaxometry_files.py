"""Relaxometry on files as scanners write them: NIfTI per echo with BIDS sidecars (written by
nibabel, a real writer), scanner intensities, bad input as one-line errors, atomic outputs."""

import json

import numpy as np
import pytest

import netmag_jax.fit as nf
from netmag_jax.fit.workflows import relaxometry as R

nib = pytest.importorskip("nibabel")

TE = 0.01 * np.arange(1, 33)  # 32 echoes, 10 ms
AFFINE = np.diag([1.5, 1.5, 3.0, 1.0])


def _phantom(shape=(12, 10, 1), M0=1000.0, sigma=20.0, seed=0):
    """Rician magnitudes: T2 from 40 to 200 ms across x, M0 = 1000, sigma = 20 (SNR 50)."""
    rng = np.random.default_rng(seed)
    T2 = np.broadcast_to(np.linspace(0.04, 0.2, shape[0])[:, None, None], shape)
    S = M0 * np.exp(-TE / T2[..., None])
    noise = sigma * (rng.standard_normal(S.shape) + 1j * rng.standard_normal(S.shape))
    return np.abs(S + noise), T2


def _write_echoes(folder, Y, te=TE, sidecar=True):
    """One NIfTI per echo (float32, mm units) and a BIDS sidecar with its EchoTime [s]."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(Y.shape[-1]):
        img = nib.Nifti1Image(Y[..., k].astype(np.float32), AFFINE)
        img.header.set_xyzt_units("mm", "sec")
        nib.save(img, str(folder / f"sub-01_echo-{k + 1}_MESE.nii.gz"))
        if sidecar:
            meta = {"EchoTime": float(te[k]), "RepetitionTime": 3.0, "FlipAngle": 90}
            (folder / f"sub-01_echo-{k + 1}_MESE.json").write_text(json.dumps(meta))
    return str(folder / "sub-01_echo-*_MESE.nii.gz")


def _cli_error(argv):
    with pytest.raises(SystemExit) as e:
        R.main(argv)
    msg = str(e.value.code)
    assert msg.startswith("netmag fit relaxometry: ") and "\n" not in msg
    return msg


def test_rician_float32_per_echo_files_at_scanner_scale(tmp_path):
    """Per-echo NIfTI + sidecars (globbed, sorted by EchoTime, not by name), M0 = 1000,
    sigma = 20, --noise rician in float32 (the command line's default): < 1 % failed voxels,
    median T2 within 2 % of the truth; maps keep the affine and units, get qMRI-BIDS names and
    sidecars; the summary reports a true reduced chi2 (about 1 for Rician data near SNR 50:
    E[chi2_red] is 1 for Gaussian noise; the check allows 0.7-1.5)."""
    Y, T2 = _phantom()
    pattern = _write_echoes(tmp_path / "in", Y)
    out = tmp_path / "maps"
    argv = ["t2", "--data", pattern, "--noise", "rician", "--sigma", "20", "--threshold", "0"]
    assert R.main(argv + ["--out", str(out), "--no-figure"]) == 0
    img = nib.load(str(out / "sub-01_T2map.nii.gz"))
    np.testing.assert_allclose(img.affine, AFFINE)
    assert img.header.get_xyzt_units() == ("mm", "sec")
    t2 = img.get_fdata()
    assert np.mean(np.isnan(t2)) < 0.01
    assert abs(np.nanmedian(t2 / T2) - 1) < 0.02
    side = json.loads((out / "sub-01_T2map.json").read_text())
    assert side["Units"] == "s" and side["NoiseModel"] == "rician"
    assert side["EchoTime"] == pytest.approx(TE.tolist()) and len(side["BasedOn"]) == 32
    summary = json.loads((out / "sub-01_fit.json").read_text())
    assert summary["complete"] and summary["protocol"]["source"] == "sidecar"
    assert 0.7 < summary["median_chi2_red"] < 1.5
    assert (out / "sub-01_M0map.nii.gz").exists()
    assert (out / "sub-01_desc-stderr_T2map.nii.gz").exists()
    # existing outputs are not overwritten without --overwrite; the prefix cannot escape --out
    msg = _cli_error(argv + ["--out", str(out)])
    assert "--overwrite" in msg
    assert R.main(argv + ["--out", str(out), "--no-figure", "--overwrite"]) == 0
    msg = _cli_error(argv + ["--out", str(out), "--prefix", "../escape"])
    assert "--prefix" in msg and not (tmp_path / "escape_T2map.nii.gz").exists()


def _one_file(tmp_path, Y, te=TE, name="mese.nii.gz"):
    p = tmp_path / name
    nib.save(nib.Nifti1Image(Y.astype(np.float32), AFFINE), str(p))
    if te is not None:
        (tmp_path / name.replace(".nii.gz", ".json")).write_text(json.dumps({"EchoTime": list(te)}))
    return str(p)


@pytest.mark.parametrize(
    "case, expect",
    [
        ("ms", "look like milliseconds"),
        ("count", "31 echo times given, the data have 32 volumes"),
        ("zeros", "all zero"),
        ("allnan", "no voxel has finite data"),
        ("emptymask", "selects no voxel"),
        ("sidecar", "line 1"),
        ("nosidecar", "EchoTime"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, case, expect):
    """Each user mistake ends with one line naming the fix and exit status 1; the output
    folder stays empty (the checks run before any file is written)."""
    Y, _ = _phantom(shape=(3, 2, 1))
    te = TE
    if case == "ms":
        te = TE * 1000
    if case == "count":
        te = TE[:-1]
    if case == "zeros":
        Y = np.zeros_like(Y)
    if case == "allnan":
        Y = np.full_like(Y, np.nan)
    data = _one_file(tmp_path, Y, None if case == "nosidecar" else te)
    if case == "sidecar":
        (tmp_path / "mese.json").write_text('{"EchoTime": [0.01,')
    argv = ["t2", "--data", data, "--out", str(tmp_path / "out"), "--threshold", "0"]
    if case == "emptymask":
        nib.save(nib.Nifti1Image(np.zeros((3, 2, 1), np.float32), AFFINE), str(tmp_path / "m.nii"))
        argv += ["--mask", str(tmp_path / "m.nii")]
    msg = _cli_error(argv)
    assert expect in msg, msg
    if case == "sidecar":
        assert "mese.json" in msg
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_bad_voxels_get_a_status_and_single_voxel_maps(tmp_path):
    """One NaN voxel and one with a negative value (impossible for Rician magnitudes) are
    flagged, counted and NaN in the maps; the others fit. A single-voxel input (1-D NIfTI)
    writes a 1 x 1 x 1 map holding the fitted T2 (exact data: T2 = 80 ms to 1e-4)."""
    Y, T2 = _phantom(shape=(3, 2, 1))
    Y[0, 0, 0, 5] = np.nan
    Y[1, 1, 0, 7] = -1.0
    data = _one_file(tmp_path, Y)
    out = tmp_path / "out"
    argv = ["t2", "--data", data, "--noise", "rician", "--sigma", "20", "--threshold", "0.1"]
    assert R.main(argv + ["--out", str(out), "--no-figure"]) == 0
    t2 = nib.load(str(out / "sub-01_T2map.nii.gz")).get_fdata()
    assert np.isnan(t2[0, 0, 0]) and np.isnan(t2[1, 1, 0])
    assert np.sum(np.isfinite(t2)) == 4
    s = json.loads((out / "sub-01_fit.json").read_text())
    assert s["nonfinite_voxels"] == 1 and s["negative_voxels"] == 1 and s["n_converged"] == 4
    one = _one_file(tmp_path, 500 * np.exp(-TE / 0.08), name="one.nii.gz")
    assert R.main(["t2", "--data", one, "--out", str(tmp_path / "o1")]) == 0
    m = nib.load(str(tmp_path / "o1" / "sub-01_T2map.nii.gz")).get_fdata()
    assert m.shape == (1, 1, 1)
    np.testing.assert_allclose(m[0, 0, 0], 0.08, rtol=1e-4)


def test_auto_mask_ignores_nan_and_bound_pile_up_is_flagged(tmp_path, capsys):
    """auto_mask with a NaN voxel masks only that voxel (a NaN percentile used to mask all).
    Echo times given 1e4x too small: every T2 (4-20 us then) lands on the 0.1 ms lower bound and
    the summary flags the pile-up."""
    Y, _ = _phantom(shape=(3, 2, 1))
    Y[2, 1, 0, 0] = np.nan
    mask = R.auto_mask(Y, 0.1)
    assert mask.sum() == 5 and not mask[2, 1, 0]
    data = _one_file(tmp_path, Y, te=None)
    argv = ["t2", "--data", data, "--te", *map(str, TE / 1e4), "--no-figure"]
    assert R.main(argv + ["--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "sub-01_fit.json").read_text())
    assert s["on_bound"]["T2"]["lower"] > 0.5 and "lower bound" in s["flags"][0]
    assert "warning: T2" in capsys.readouterr().err


def test_atomic_write_keeps_the_old_file_on_error(tmp_path):
    """A writer that fails half-way leaves the previous file intact and no temporary file."""
    p = tmp_path / "x.json"
    p.write_text("old")

    def broken(tmp):
        tmp.write_text("partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        nf.atomic_write(p, broken)
    assert p.read_text() == "old" and [f.name for f in tmp_path.iterdir()] == ["x.json"]
    nf.atomic_write(p, lambda tmp: tmp.write_text("new"))
    assert p.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_out_that_is_a_file_is_one_line(tmp_path):
    """--out naming an existing file: one line, exit status 1, the file untouched."""
    Y, _ = _phantom(shape=(3, 2, 1))
    data = _one_file(tmp_path, Y)
    (tmp_path / "taken").write_text("keep")
    msg = _cli_error(["t2", "--data", data, "--out", str(tmp_path / "taken")])
    assert "not a folder" in msg and (tmp_path / "taken").read_text() == "keep"
