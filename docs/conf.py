"""Sphinx configuration of the netmag_jax documentation (``make docs`` -> docs/_build/html).

The API reference is generated from the package itself: for every public subpackage, every
name its ``__init__`` re-exports (not starting with ``_``) gets an autosummary entry, so a name
added to the package appears in the reference without editing these sources. The generated
pages go to ``docs/api/`` (not committed).
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import netmag_jax  # noqa: E402

project = "netmag_jax"
author = "the netmag_jax authors"
copyright = "the netmag_jax authors"  # noqa: A001 (Sphinx's name)
release = version = netmag_jax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # attributes as fields: no second description of dataclass fields
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {"page_width": "1100px", "sidebar_width": "230px"}
# a reference to a function, method, module, attribute or exception that does not exist is a
# warning, so an error; type names (from annotations and the free-text types of the
# docstrings: "jax.Array", "[N, 3] m", ...) are not checked
nitpicky = True
nitpick_ignore_regex = [("py:class", ".*"), ("py:obj", ".*"), ("py:exc", r"(equinox|jax)\..*")]

# the subpackages of the reference, in the order of the physics story
SUBPACKAGES = [
    "netmag_jax.constants",
    "netmag_jax.statmech",
    "netmag_jax.classical",
    "netmag_jax.lattice",
    "netmag_jax.dynamics",
    "netmag_jax.mri",
    "netmag_jax.mri.design",
    "netmag_jax.fit",
    "netmag_jax.fit.workflows",
    "netmag_jax.parallel",
]


def public_names(modname: str) -> list[str]:
    """The public names of ``modname``: not private, not a module, not a typing helper.

    A constants module lists its upper-case constants; a package lists what its ``__init__``
    re-exports; a plain module lists what it defines.
    """
    mod = importlib.import_module(modname)
    names = []
    for name, obj in vars(mod).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        owner = getattr(obj, "__module__", None)
        if owner is None and not name.isupper():
            continue  # numbers other than named constants, typing aliases
        if owner is not None and not str(owner).startswith("netmag_jax"):
            if owner in ("builtins",) and name.isupper():
                names.append(name)  # a float/int constant
            continue
        names.append(name)
    return sorted(names, key=str.lower)


def _write_if_changed(path: Path, text: str) -> None:
    """Write a generated page only when its text changed (Sphinx rebuilds what changed)."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _write_api_pages(app) -> None:
    """Write ``api/<subpackage>.rst``: the module docstring and an autosummary table."""
    api = HERE / "api"
    api.mkdir(exist_ok=True)
    toc = []
    for modname in SUBPACKAGES:
        names = public_names(modname)
        title = f"``{modname}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {modname}", "   :no-members:", ""]
        constants = [
            n
            for n in names
            if n.isupper() and not callable(getattr(importlib.import_module(modname), n))
        ]
        others = [n for n in names if n not in constants]
        if others:
            lines += [
                f".. currentmodule:: {modname}",
                "",
                ".. autosummary::",
                "   :toctree: generated",
                "   :nosignatures:",
                "",
            ]
            lines += [f"   {n}" for n in others]
            lines.append("")
        if constants:
            mod = importlib.import_module(modname)
            lines += [
                "Constants",
                "---------",
                "",
                ".. list-table::",
                "   :header-rows: 1",
                "",
                "   * - name",
                "     - value",
            ]
            for n in constants:
                lines += [f"   * - ``{n}``", f"     - ``{getattr(mod, n)!r}``"]
            lines.append("")
        text = "\n".join(lines)
        page = api / f"{modname}.rst"
        _write_if_changed(page, text)
        toc.append(f"   {modname}")
    index = "\n".join(
        [
            "API reference",
            "=============",
            "",
            "Every public name of the package, generated from its docstrings.",
            "",
            ".. toctree::",
            "   :maxdepth: 1",
            "",
            *toc,
            "",
        ]
    )
    _write_if_changed(api / "index.rst", index)


def _example_page(script: Path, ran: Path) -> str:
    """The page of one example: its docstring, its source and, when it ran, output and
    figures (``ran``: the folder ``make examples`` / the example test wrote)."""
    import ast
    import shutil

    doc = ast.get_docstring(ast.parse(script.read_text())) or script.stem
    title, _, rest = doc.partition("\n")
    lines = [
        title,
        "=" * len(title),
        "",
        rest.strip(),
        "",
        f".. literalinclude:: ../../examples/{script.name}",
        "   :language: python",
        "   :linenos:",
        "",
    ]
    output = ran / "output.txt"
    if output.is_file():
        lines += ["Output (``--quick``)", "--------------------", "", ".. code-block:: text", ""]
        lines += ["   " + line for line in output.read_text().splitlines()] + [""]
    figures = sorted(ran.glob("*.png")) if ran.is_dir() else []
    if figures:
        dest = HERE / "examples" / script.stem
        dest.mkdir(parents=True, exist_ok=True)
        for fig in figures:
            shutil.copyfile(fig, dest / fig.name)
            lines += [
                f".. image:: {script.stem}/{fig.name}",
                f"   :alt: {fig.name}",
                "   :width: 100%",
                "",
            ]
    elif not output.is_file():
        lines += [
            ".. note::",
            "   Run ``make examples`` before ``make docs`` to show this "
            "example's printed numbers and figures here.",
            "",
        ]
    return "\n".join(lines)


def _write_example_pages() -> None:
    """``examples/<name>.rst`` for every ``examples/[0-9]*.py`` and their index page."""
    pages = HERE / "examples"
    pages.mkdir(exist_ok=True)
    scripts = sorted((ROOT / "examples").glob("[0-9]*.py"))
    for script in scripts:
        text = _example_page(script, HERE / "_build" / "examples" / script.stem)
        page = pages / f"{script.stem}.rst"
        _write_if_changed(page, text)
    index = "\n".join(
        [
            "Worked examples",
            "===============",
            "",
            "Each example starts from a user's file (made by the script or shipped with its "
            "provenance), uses only the public API and ends with numbers and a figure. Run one "
            "with ``python examples/NN_name.py [--quick] [--out DIR]``; the test suite runs all "
            "of them with ``--quick``.",
            "",
            ".. toctree::",
            "   :maxdepth: 1",
            "",
            *[f"   {s.stem}" for s in scripts],
            "",
        ]
    )
    _write_if_changed(pages / "index.rst", index)


_LITERAL = re.compile(r"(``.*?``|:math:`.*?`|`[^`]*`)")


def _escape_bars(line: str) -> str:
    """``|x|`` (absolute value in the plain-text docstrings) as text, not an RST
    substitution: escape every ``|`` outside inline literals and roles."""
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def _plain_bars(app, what, name, obj, options, lines) -> None:
    """autodoc hook: the docstrings write |x| for absolute values and norms; keep them text
    (math blocks and literal blocks, indented under ``::``, are left alone)."""
    block_indent = None
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        if block_indent is None and "|" in line and not line.lstrip().startswith(".. math::"):
            lines[i] = _escape_bars(line)
        if line.rstrip().endswith("::") or line.lstrip().startswith(".. math::"):
            block_indent = indent


def setup(app):
    app.connect("autodoc-process-docstring", _plain_bars)


# written when the configuration loads, before autosummary looks for its stub pages
_write_api_pages(None)
_write_example_pages()
