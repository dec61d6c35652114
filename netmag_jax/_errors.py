"""Which errors of a command are the user's mistakes, and how one is shown in one line.

Shared by ``netmag`` (``cli.main``) and the workflows' own ``main(argv)``, so every command
reports a bad input the same way: one line, exit status 1.
"""

from __future__ import annotations

import re

import equinox as eqx

#: what a user's input can raise: bad values and files (ValueError, also UnicodeDecodeError),
#: missing or unwritable paths (OSError), a missing optional reader such as nibabel
#: (ImportError), invalid values found inside jit (equinox)
USER_ERRORS = (ValueError, OSError, ImportError, eqx.EquinoxRuntimeError)

#: modules whose own errors are bugs of the computation, not mistakes in the user's input
_ENGINES = ("jax", "jaxlib", "equinox", "optimistix", "optax")


def _raised_in_engine(err: BaseException) -> bool:
    """True if ``err`` was raised inside JAX or its libraries (the last traceback frame)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = "" if tb is None else tb.tb_frame.f_globals.get("__name__", "")
    return module.split(".")[0] in _ENGINES


def is_user_error(err: BaseException) -> bool:
    """Whether ``err`` reports a mistake in the user's input (``USER_ERRORS``, not raised
    inside JAX itself, where it is a bug; ``eqx.error_if`` checks count as the user's)."""
    if isinstance(err, eqx.EquinoxRuntimeError):
        return True
    return isinstance(err, USER_ERRORS) and not _raised_in_engine(err)


def one_line(err: BaseException) -> str:
    """An error as one line: its first non-empty line (for equinox's value errors, the
    message given to ``eqx.error_if``); for a file error, what and where."""
    if isinstance(err, OSError) and err.filename is not None:
        what = err.strerror or type(err).__name__
        return f"cannot access {err.filename}: {what}; check the path and its permissions"
    text = str(err)
    inside_jit = re.search(r"EquinoxRuntimeError: (.+)", text)  # eqx.error_if's own message
    if inside_jit:
        return inside_jit.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__
