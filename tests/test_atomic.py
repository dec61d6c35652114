"""Atomic output (netmag_jax._io): a killed run leaves the old file or the new one, never a
truncated one; temporaries are recognisable and cleaned; a run's outputs are marked complete
or failed. The invariants are checked on real files read back with numpy and nibabel."""

import json
import os
import runpy
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import netmag_jax.fit as nf
from netmag_jax import _io

nib = pytest.importorskip("nibabel")

#: the writer process: the writers of `netmag fit relaxometry` (NIfTI map), `netmag simulate`
#: (.npy) and `mri.write_pulseq` (.seq), called in a loop with a new content each round
WRITER = '''
import math
import sys
from pathlib import Path

import numpy as np

SHAPE = (64, 64, 32)  # 131072 voxels: 1 MB float64 .npy, 0.5 MB float32 NIfTI


def content(k):
    """Generation k: seeded normal noise (incompressible) whose first value is k."""
    a = np.random.default_rng(k).standard_normal(SHAPE)
    a.flat[0] = k
    return a


def sequences():
    from netmag_jax import mri

    return [mri.gre(math.radians(a), 10e-3, 3e-3, 40) for a in (10.0, 30.0)]


if __name__ == "__main__":
    import jax

    jax.config.update("jax_enable_x64", True)  # as the tests' own process (conftest)
    import netmag_jax.fit as nf
    from netmag_jax import mri
    from netmag_jax._io import save_npy

    out = Path(sys.argv[1])
    seqs = sequences()
    print("ready", flush=True)
    k = 0
    while True:
        a = content(k)
        save_npy(out / "signal.npy", a)
        nf.save_nifti(out / "T2map.nii.gz", a)
        mri.write_pulseq(seqs[k % 2], out / "gre.seq")
        k += 1
'''

TARGETS = ("signal.npy", "T2map.nii.gz", "gre.seq")


def _check_complete(folder: Path, writer, seq_texts) -> None:
    """Every target is absent or one complete generation; anything else is a temporary."""
    for name in os.listdir(folder):
        assert name in TARGETS or _io.is_temporary(name), name
    if (folder / "signal.npy").exists():
        a = np.load(folder / "signal.npy")  # a truncated .npy fails to load
        np.testing.assert_array_equal(a, writer["content"](int(a.flat[0])))
    if (folder / "T2map.nii.gz").exists():
        m = np.asarray(nib.load(str(folder / "T2map.nii.gz")).get_fdata(), np.float32)
        k = int(m.flat[0])
        np.testing.assert_array_equal(m, writer["content"](k).astype(np.float32))
    if (folder / "gre.seq").exists():
        assert (folder / "gre.seq").read_text() in seq_texts


def test_sigkill_leaves_old_or_new_file_and_no_stray_output(tmp_path):
    """4 writer processes, each killed with SIGKILL at a seeded random time (0.05-1.5 s into
    its write loop): every .npy, NIfTI and .seq left is absent or a complete generation
    (loaded and compared value by value), the only other files are recognisable
    temporaries, and the next write of each target removes those of the dead process.
    (Before the shared writer, 6/6 SIGKILL trials left a truncated .npy.)"""
    from netmag_jax import mri

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writer = runpy.run_path(str(script))
    ref = tmp_path / "ref"
    seq_texts = {
        mri.write_pulseq(s, ref / f"{i}.seq").path.read_text()
        for i, s in enumerate(writer["sequences"]())
    }
    delays = np.random.default_rng(17).uniform(0.05, 1.5, 4)
    root = Path(nf.__file__).parents[2]  # the netmag_jax under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    procs, folders = [], []
    for i in range(len(delays)):
        folders.append(tmp_path / f"run{i}")
        folders[-1].mkdir()
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), str(folders[-1])],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    try:
        deadlines = []
        for p, d in zip(procs, delays, strict=True):
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            deadlines.append((time.monotonic() + d, p))
        for t, p in sorted(deadlines, key=lambda x: x[0]):
            time.sleep(max(t - time.monotonic(), 0.0))
            p.send_signal(signal.SIGKILL)
            assert p.wait(timeout=30) == -signal.SIGKILL  # killed in its loop, reaped
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for folder in folders:
        _check_complete(folder, writer, seq_texts)
        # a later run writes the same targets: the dead writer's temporaries go
        a = writer["content"](10_000)
        _io.save_npy(folder / "signal.npy", a)
        nf.save_nifti(folder / "T2map.nii.gz", a)
        mri.write_pulseq(writer["sequences"]()[0], folder / "gre.seq")
        assert sorted(os.listdir(folder)) == sorted(TARGETS)
        _check_complete(folder, writer, seq_texts)


def test_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    """A writer that raises half-way: the old content stays, no temporary is left; a
    successful write replaces the file with the mode a plain open() gives (not mkstemp's
    0600)."""
    p = tmp_path / "x.npy"
    _io.save_npy(p, np.arange(3.0))

    def broken(tmp):
        tmp.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _io.atomic_write(p, broken)
    np.testing.assert_array_equal(np.load(p), np.arange(3.0))
    assert os.listdir(tmp_path) == ["x.npy"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask


def test_temporaries_of_live_processes_and_other_names_are_kept(tmp_path):
    """Only a dead process's temporary of the same target is removed: a running writer's
    (this process) and a file that merely looks similar stay."""
    target = tmp_path / "m.nii.gz"
    with _io.atomic_path(target) as live:
        assert _io.is_temporary(live) and live.name.startswith(".m.nii.gz.")
        assert not live.name.endswith(".nii.gz")  # a glob for *.nii.gz never matches it
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        pid = int(dead.stdout)  # a process that has exited
        stale = tmp_path / live.name.replace(f".{os.getpid()}.", f".{pid}.", 1)
        stale.write_bytes(b"left by a killed writer")
        other = tmp_path / "m.nii.gz.netmag-tmp"  # not hidden: not a temporary name
        other.write_bytes(b"")
        nf.save_nifti(target, np.ones((2, 2, 2)))  # removes the stale one, not the live one
        assert live.exists() and not stale.exists() and other.exists()
        assert not _io.is_temporary(other)
        live.write_bytes(target.read_bytes())
    assert not live.exists() and target.exists()


@pytest.mark.parametrize("name", ["map.nii", "map.nii.gz"])
def test_save_nifti_writes_what_nibabel_reads(tmp_path, name):
    """save_nifti (bytes written through the atomic path) round-trips through nibabel's own
    reader: data (float32), affine and units; a name that is not NIfTI is refused."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 3, 2)).astype(np.float32)
    aff = np.diag([1.5, 2.0, 3.0, 1.0])
    header = nib.Nifti1Image(a, aff).header
    header.set_xyzt_units("mm", "sec")
    nf.save_nifti(tmp_path / name, a, aff, header)
    img = nib.load(str(tmp_path / name))
    np.testing.assert_array_equal(np.asarray(img.get_fdata(), np.float32), a)
    np.testing.assert_array_equal(img.affine, aff)
    assert img.header.get_xyzt_units() == ("mm", "sec")
    with pytest.raises(ValueError, match=r"map.img: a NIfTI file name must end in \.nii"):
        nf.save_nifti(tmp_path / "map.img", a)


def test_run_outputs_marks_complete_running_and_failed(tmp_path):
    """The summary is "running" while outputs are written, "complete" (with the fields) when
    the block ends, "failed" with the error when it raises."""
    summary = tmp_path / "fit.json"
    with _io.run_outputs(summary) as fields:
        assert json.loads(summary.read_text())["run_status"] == "running"
        fields["n"] = 3
    assert json.loads(summary.read_text()) == {"n": 3, "run_status": "complete"}
    with pytest.raises(OSError), _io.run_outputs(summary) as fields:
        fields["n"] = 4
        (tmp_path / "blocker").write_text("")
        _io.save_npy(tmp_path / "blocker" / "x.npy", [1.0])
    s = json.loads(summary.read_text())
    assert s["run_status"] == "failed" and s["n"] == 4
    assert s["error"].startswith(("FileExistsError: ", "NotADirectoryError: "))
    assert "blocker" in s["error"]
