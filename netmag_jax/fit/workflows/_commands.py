"""The ``netmag fit WORKFLOW ...`` commands: workflow name -> module with ``main(argv)``."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from types import MappingProxyType, ModuleType

from . import crystal_field, magnetism, relaxometry
from ._common import first_line

#: ``netmag fit NAME ARGS`` runs ``WORKFLOWS[NAME].main(ARGS)`` (read-only mapping).
WORKFLOWS: MappingProxyType[str, ModuleType] = MappingProxyType(
    {"crystal_field": crystal_field, "magnetism": magnetism, "relaxometry": relaxometry}
)


def describe(width: int = 80) -> str:
    """``name  first line of its docstring`` per workflow, wrapped to ``width`` (``--help``)."""
    pad = max(map(len, WORKFLOWS)) + 4
    return "\n".join(
        textwrap.fill(
            first_line(mod.__doc__),
            width,
            initial_indent=f"  {name:<{pad - 2}}",
            subsequent_indent=" " * pad,
        )
        for name, mod in WORKFLOWS.items()
    )


def wants_float64(name: str, argv: Sequence[str] | None = None) -> bool:
    """Whether ``netmag fit name argv`` computes in float64: the workflow's ``FLOAT64`` flag
    (fits of measured magnetometry), or ``--x64`` among its arguments (relaxometry)."""
    return bool(getattr(WORKFLOWS.get(name), "FLOAT64", False)) or "--x64" in (argv or [])


def run_workflow(name: str, argv: Sequence[str] | None = None, *, catch: bool = True) -> int:
    """Run workflow ``name`` with its command-line arguments ``argv``; returns the exit status.

    ``catch``: a user mistake ends with one line (SystemExit); False lets every error
    propagate to the caller (``netmag fit``, which shows the traceback with ``--debug``).

    Raises:
        ValueError: ``name`` is not one of ``WORKFLOWS``.
    """
    if name not in WORKFLOWS:
        raise ValueError(f"unknown workflow {name!r}; available: {sorted(WORKFLOWS)}")
    return WORKFLOWS[name].main(list(argv or []), catch=catch)
