"""Shared pieces of the workflow commands: the shipped data, one-line errors, float64, output
(atomic writes, a safe ``--prefix``, no overwriting without ``--overwrite``)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..._errors import USER_ERRORS, is_user_error, one_line
from ..._io import atomic_write as atomic_write
from ..._io import prepare_outputs as prepare_outputs
from ..._io import write_json as write_json


#: Data shipped with the workflows (``data/CsErSe2``: measured M(H) and M/H(T) of CsErSe2,
#: with its PROVENANCE.md); the default input of ``netmag fit magnetism`` / ``crystal_field``.
DATA = Path(__file__).resolve().parent / "data"


def run_command(
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
    *,
    catch: bool = True,
) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run ``command(args)``; returns its status.

    A user mistake (unreadable or missing file, unwritable output, shapes that do not
    match, a missing optional reader such as nibabel: ``netmag_jax._errors.is_user_error``)
    ends the command with one line ``"<prog>: <message>"`` (SystemExit, exit status 1), not
    a traceback. An error raised inside JAX itself is a bug and keeps its traceback. With
    ``catch=False`` every error propagates: ``netmag fit`` reports it itself (one line, or
    the traceback with ``netmag --debug``).
    """
    args = parser.parse_args(argv)
    if not catch:
        return int(command(args) or 0)
    try:
        return int(command(args) or 0)
    except USER_ERRORS as err:
        if not is_user_error(err):
            raise
        raise SystemExit(f"{parser.prog}: {one_line(err)}") from None


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


def add_output_options(p: argparse.ArgumentParser, default: Path) -> None:
    """``--out`` (default ``default``) and ``--overwrite`` of a command writing files
    (checked by ``prepare_outputs`` before any computation)."""
    p.add_argument("--out", type=Path, default=default, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")


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
