"""Shared pieces of the workflow commands: the shipped data, one-line errors, float64, output
(atomic writes, a safe ``--prefix``, no overwriting without ``--overwrite``)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .._io import atomic_write as atomic_write


#: Data shipped with the workflows (``data/CsErSe2``: measured M(H) and M/H(T) of CsErSe2,
#: with its PROVENANCE.md); the default input of ``netmag fit magnetism`` / ``crystal_field``.
DATA = Path(__file__).resolve().parent / "data"


#: modules whose own errors are bugs of the computation, not mistakes in the user's input
_ENGINES = ("jax", "jaxlib", "equinox", "optimistix", "optax")


def _raised_in_engine(err: BaseException) -> bool:
    """True if ``err`` was raised inside JAX or its libraries (the last traceback frame)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = "" if tb is None else tb.tb_frame.f_globals.get("__name__", "")
    return module.split(".")[0] in _ENGINES


def run_command(
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run ``command(args)``; returns its status.

    A user mistake (unreadable or missing file, shapes that do not match, a missing optional
    reader such as nibabel: ``ValueError``, ``OSError``, ``ImportError`` raised by the readers
    and checks) ends the command with one line ``"<prog>: <message>"`` on stderr and exit
    status 1, not a traceback. An error raised inside JAX itself is a bug and keeps its
    traceback.
    """
    args = parser.parse_args(argv)
    try:
        return int(command(args) or 0)
    except (ValueError, OSError, ImportError) as err:
        if _raised_in_engine(err):
            raise
        raise SystemExit(f"{parser.prog}: {err}") from None


def first_line(doc: str | None) -> str:
    """The summary line of a docstring ("" for none): the command's description."""
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def workflow_parser(name: str, doc: str | None):
    """(parser of ``netmag fit <name>``, its subcommand group with ``dest="cmd"``); the
    description is the first line of the workflow's docstring ``doc``."""
    parser = argparse.ArgumentParser(
        prog=f"netmag fit {name}",
        description=first_line(doc),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser, parser.add_subparsers(dest="cmd", required=True)


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as indented JSON (NumPy / JAX scalars as floats), atomically."""
    text = json.dumps(obj, indent=2, default=float)
    atomic_write(path, lambda tmp: tmp.write_text(text))


_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def check_prefix(prefix: str) -> str:
    """A file-name prefix that stays inside the output folder (no separators, no ``..``,
    not hidden); returns it.

    Raises:
        ValueError: the prefix could name a file outside ``--out``.
    """
    if not _PREFIX.fullmatch(prefix) or ".." in prefix:
        raise ValueError(
            f"--prefix {prefix!r} must be a plain file-name prefix (letters, digits, . _ + -; "
            "no path separators or '..'), e.g. sub-01"
        )
    return prefix


def prepare_outputs(out: Path, names: Iterable[str], overwrite: bool) -> Path:
    """Create the output folder and check that none of the files ``names`` exists (unless
    ``overwrite``); done before any computation, so a refused run writes nothing.

    Raises:
        ValueError: a file exists and ``overwrite`` is False (the message names it and the
            ``--overwrite`` option), or ``out`` is not a folder.
        OSError: the folder cannot be created.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise ValueError(f"{out / existing[0]}{more} exists; pass --overwrite to replace")
    return out


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (matplotlib is an optional extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, dpi: int = 90) -> str:
    """Lay out, write and close ``fig``; returns the file name (for the JSON summary)."""
    fig.tight_layout()
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=Path(path).suffix[1:]))
    finally:
        pyplot().close(fig)
    return Path(path).name
