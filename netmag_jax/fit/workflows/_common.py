"""Shared pieces of the workflow commands: the shipped data, one-line errors, float64, output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path


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
    """Write ``obj`` as indented JSON (NumPy / JAX scalars as floats)."""
    Path(path).write_text(json.dumps(obj, indent=2, default=float))


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (matplotlib is an optional extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, dpi: int = 90) -> str:
    """Lay out, write and close ``fig``; returns the file name (for the JSON summary)."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return Path(path).name
