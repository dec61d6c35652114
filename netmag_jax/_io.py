"""Output files, written atomically, and the status of a run's outputs.

Every file the package writes goes through ``atomic_path``: the content is written to a
temporary file in the target's folder, flushed to disk (``fsync``), then renamed over the
target (``os.replace``, atomic on POSIX and Windows within one file system). A reader, or a
run killed at any instant (SIGKILL, power loss after the ``fsync``), sees the old file or the
new one, never a truncated one. On an error the temporary file is removed and the error
re-raised.

Temporary names are hidden and end in :data:`TEMP_SUFFIX`
(``.<target name>.<pid>.<host>.<random>.netmag-tmp``), so a glob for the outputs
(``*.npy``, ``*.nii.gz``) never matches them. A killed writer cannot remove its temporary
file; the next write of the same target removes those left by processes of this host that
no longer run (:func:`is_temporary` recognises them).

A temporary name does not end like the target, so a writer that picks the format or appends
an extension from the file name (``np.save``/``np.savez`` on a path, nibabel, matplotlib
without ``format=``) must be given an open file or an explicit format (:func:`save_npy`,
:func:`write_text`, :func:`write_json` do).

:func:`run_outputs` marks the outputs of one run by its JSON summary: ``"run_status":
"running"`` before the first output, ``"complete"`` after the last, ``"failed"`` (with the
error) when writing stops on an error.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: key of the run's state in a JSON summary written by :func:`run_outputs`
RUN_STATUS = "run_status"

#: ending of every temporary file name (never the ending of an output)
TEMP_SUFFIX = ".netmag-tmp"

_TEMP = re.compile(r"^\..+\.(\d+)\.([A-Za-z0-9-]*)\.[0-9a-f]+" + re.escape(TEMP_SUFFIX) + "$")
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32]


def is_temporary(path) -> bool:
    """True if ``path`` names a temporary file of ``atomic_path`` (finished or not)."""
    return _TEMP.match(Path(path).name) is not None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (POSIX; elsewhere assume it does)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_stale(folder: Path, name: str) -> None:
    """Remove the temporaries of target ``name`` left in ``folder`` by dead processes of
    this host (a killed writer); those of running processes or other hosts stay."""
    pattern = glob.escape(str(folder / f".{name[:80]}.")) + "*" + TEMP_SUFFIX
    for p in glob.glob(pattern):
        m = _TEMP.match(os.path.basename(p))
        if m and m.group(2) == _HOST and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.remove(p)


def _create_temporary(path: Path) -> Path:
    """Create an empty temporary file next to ``path`` (mode 0o666 less the umask, as a
    plain ``open`` makes it) and return its path."""
    while True:
        tmp = path.parent / (
            f".{path.name[:80]}.{os.getpid()}.{_HOST}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        )
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # pragma: no cover - a 32-bit random name taken
            continue
        return tmp


def _fsync(path: Path, folder: bool = False) -> None:
    """Flush ``path``'s data (or a folder's entries, where the OS allows it) to disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if folder:  # folders cannot be opened on Windows; the rename is still atomic
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not folder:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Context manager yielding an empty temporary file next to ``path``; when the block
    ends without error the file is flushed to disk and renamed over ``path``, on an error it
    is removed (see the module docstring).

    Args:
        path: the final file; its folder is created if missing.
    Raises:
        OSError: the folder cannot be created or written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temporary(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync(path.parent, folder=True)
    _remove_stale(path.parent, path.name)


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder,
    which then replaces ``path`` (``atomic_path``; the temporary name does not end like
    ``path``: give format-by-name writers an explicit format or an open file).

    Returns the path written.
    """
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON (NumPy / JAX scalars as floats) atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=float) + "\n")


def save_npy(path, array) -> Path:
    """``np.save`` of ``array`` to ``path`` (the name is kept as given) atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array))

    return atomic_write(path, write)


def save_npz(path, **arrays) -> Path:
    """``np.savez`` of the named ``arrays`` to ``path`` (the name is kept as given)
    atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
            np.savez(f, **named)

    return atomic_write(path, write)


def prepare_outputs(out, names: Iterable[str], overwrite: bool, others: Iterable = ()) -> Path:
    """Create the output folder ``out`` and check, before any computation, that none of the
    files a run will write exists unless ``overwrite``: so a refused run writes nothing and
    leaves an earlier run's files as they were.

    Args:
        out: the output folder (``--out``); created if missing.
        names: the file names the run writes into ``out``.
        overwrite: the ``--overwrite`` option; True replaces existing files.
        others: paths written outside ``out`` (``--mrd``, ``--seq``), checked as given.
    Returns:
        ``out`` as a Path.
    Raises:
        ValueError: a file exists and ``overwrite`` is False (one line: the first such path,
            how many more, and the ``--overwrite`` option), or ``out`` is not a folder.
        OSError: the folder cannot be created.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / n for n in names] + [Path(p) for p in others]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ValueError(f"{existing[0]}{more} exists; pass --overwrite to replace")
    return out


def _error_line(err: BaseException) -> str:
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


@contextlib.contextmanager
def run_outputs(summary) -> Iterator[dict]:
    """Mark the outputs of one run by its JSON summary file ``summary``.

    On entry the summary is written as ``{"run_status": "running"}`` (replacing the summary of
    an earlier run, so old and new outputs are never taken for one complete set); the block
    writes the outputs and fills the yielded dict; when it ends without error the summary is
    written last as that dict with ``"run_status": "complete"`` (also set in the dict). On an
    error it is written as the dict with ``"run_status": "failed", "error": "<type>: <first
    line>"`` and the error re-raised. A run killed while
    writing leaves ``"running"``: only ``"complete"`` marks a complete set of outputs.
    """
    summary = Path(summary)
    write_json(summary, {RUN_STATUS: "running", "pid": os.getpid()})
    fields: dict = {}
    try:
        yield fields
    except BaseException as err:
        with contextlib.suppress(Exception):
            write_json(summary, {**fields, RUN_STATUS: "failed", "error": _error_line(err)})
        raise
    fields[RUN_STATUS] = "complete"
    write_json(summary, fields)
