"""The gallery report: ``results/index.html`` with every figure and every check's verdict.

The page is static HTML (no network, no scripts from elsewhere). Its header gives the run:
package version, commit, date, quick or full mode, machine and JAX devices, and the count of
checks passed. The experiments follow the physics story (``STORY``), listed in a navigation
block. Each figure is a link to its full-size PNG; figures of several panels (wider than
``WIDE_PX``) use the page width. Each key number is a row: value, reference, criterion
(tolerance or bound, see ``_common.number``), a pass/fail badge (``.ok`` / ``.bad``), unit and
source. A tiny inline script counts the figures that loaded and writes the count into
``<body data-figures-loaded=...>``, which the browser test reads back from a real headless
Chromium.
"""

from __future__ import annotations

import html
import json
import math
import struct
from pathlib import Path

from _common import criterion, verdict

# the physics story: one spin -> paramagnets -> classical limit -> cooperative -> electron gas
# -> dynamics -> MRI -> fitting -> design; experiments not listed come last under "Other"
STORY = (
    ("One spin and paramagnets", ("independent_moments",)),
    ("The classical limit", ("bohr_van_leeuwen",)),
    ("Cooperative magnetism", ("ferromagnet", "antiferromagnet", "ferrimagnet")),
    ("The electron gas", ("electron_gas",)),
    ("Dynamics and domains", ("domains", "hysteresis", "data_storage", "spintronics")),
    ("MRI", ("mri_signal", "mri_image")),
    ("Fitting measured data", ("relaxometry_fit", "crystal_field_fit")),
    (
        "Design",
        ("pulse_design_excitation", "pulse_design_inversion", "pulse_design_refocusing"),
    ),
    ("Speed", ("benchmark_headline",)),
)
WIDE_PX = 900  # figures at least this wide (several panels) are shown at the page width

_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;
     color:#222;line-height:1.45;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2.2em}
h3{margin-top:1.8em}
.summary{white-space:pre-line} figure{display:inline-block;margin:.5em;vertical-align:top}
figure img{border:1px solid #eee} figure.narrow{width:520px;max-width:100%}
figure.narrow img{width:100%} figure.wide{display:block;margin:.5em 0}
figure.wide img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:0 .5em;border-radius:.6em;font-weight:600;font-size:.9em}
.ok{color:#17692d}.bad{color:#a11} .badge.ok{background:#e3f4e6} .badge.bad{background:#fbe3e3}
.badge.neutral{background:#eee;color:#555}
.muted{color:#777;font-size:.9em} .meta td{border:none;padding:.05em 1em .05em 0}
nav ol{columns:2;padding-left:1.2em} nav li{margin:.1em 0;break-inside:avoid}
ul.failed{margin-top:.2em}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var body = document.body;
  var imgs = Array.prototype.slice.call(document.images);
  var loaded = function (i) { return i.complete && i.naturalWidth > 0; };
  body.setAttribute('data-figures-total', String(imgs.length));
  body.setAttribute('data-figures-loaded', String(imgs.filter(loaded).length));
  body.setAttribute('data-figures-broken', imgs.filter(function (i) { return !loaded(i); })
                    .map(function (i) { return i.getAttribute('src'); }).join(' '));
  // a figure's link opens the same file the page loaded (so it resolves)
  var linked = imgs.filter(function (i) {
    var a = i.closest('a'); return a !== null && loaded(i) && a.href === i.src; });
  body.setAttribute('data-figures-linked', String(linked.length));
  var checks = Array.prototype.slice.call(document.querySelectorAll('tr.check'));
  var judged = checks.filter(function (r) {
    return r.querySelector('.badge.ok, .badge.bad, .badge.neutral') !== null; });
  body.setAttribute('data-checks-total', String(checks.length));
  body.setAttribute('data-checks-judged', String(judged.length));
});
"""

_BADGES = {
    "pass": "<span class='badge ok'>pass</span>",
    "fail": "<span class='badge bad'>fail</span>",
    "compare": "<span class='badge neutral'>comparison</span>",
}


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if v == 0 or not math.isfinite(v):
            return str(v)
        a = abs(v)
        return f"{v:.4g}" if 1e-3 <= a < 1e5 else f"{v:.4e}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return html.escape(str(v))


def story(results: dict) -> list[tuple[str, list[str]]]:
    """The sections of the page: ``[(stage title, [experiment names that ran])]`` in the
    order of ``STORY``; experiments outside it come last under "Other"."""
    placed = {n for _, names in STORY for n in names}
    stages = [(title, [n for n in names if n in results]) for title, names in STORY]
    stages.append(("Other", [n for n in results if n not in placed]))
    return [(title, names) for title, names in stages if names]


def png_width(path: Path) -> int:
    """Width in pixels of the PNG at ``path`` (its IHDR chunk); 0 if it is not a PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return 0
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return 0
    return struct.unpack(">I", head[16:20])[0]


def tally(results: dict) -> dict:
    """Number of checks per verdict over all experiments: ``{"pass": n, "fail": n, ...}``."""
    counts = {"pass": 0, "fail": 0, "compare": 0, "info": 0}
    for res in results.values():
        for item in res.get("numbers", {}).values():
            counts[verdict(item if isinstance(item, dict) else {"value": item})] += 1
    return counts


def _failed_list(results: dict) -> list[str]:
    """The failed checks, each linked to its experiment's section (nothing if none failed)."""
    items = [
        f"<li><a href='#{html.escape(name)}'>{html.escape(name)}</a>: {html.escape(key)}</li>"
        for name, res in results.items()
        for key, item in res.get("numbers", {}).items()
        if isinstance(item, dict) and verdict(item) == "fail"
    ]
    return ["<ul class='failed bad'>", *items, "</ul>"] if items else []


def _header(results: dict, meta: dict) -> list[str]:
    """The page head, the run's metadata, the tally of checks and the navigation list."""
    counts = tally(results)
    mode = "quick (smoke-test sizes)" if meta.get("quick") else "full"
    rows = [
        ("version", meta.get("version", "unknown")),
        ("commit", meta.get("commit", "unknown")),
        ("date", meta.get("date", "unknown")),
        ("mode", mode),
        ("precision", meta.get("precision", "unknown")),
        ("machine", meta.get("machine", "unknown")),
        ("devices", meta.get("devices", "unknown")),
    ]
    verdict_class = "ok" if counts["fail"] == 0 else "bad"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>netmag_jax experiment gallery</title>",
        f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body>",
        "<h1>netmag_jax — experiment gallery</h1>",
        "<table class='meta'>"
        + "".join(f"<tr><td>{k}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        + "</table>",
        f"<p class='{verdict_class}' id='tally'><b>{counts['pass']} checks passed, "
        f"{counts['fail']} failed</b> <span class='muted'>({counts['compare']} comparisons "
        f"and {counts['info']} numbers without a reference are shown without a verdict)"
        "</span></p>",
        *_failed_list(results),
        "<p class='muted'>Each experiment: what it shows, its figures (click for full size) and "
        "its key numbers; a check compares a value with its reference (an analytic limit, a "
        "published value or an independent calculation) by the stated tolerance or bound."
        "</p><nav><ol>",
    ]
    for title, names in story(results):
        links = ", ".join(
            f"<a href='#{html.escape(n)}'>{html.escape(results[n].get('title', n))}</a>"
            for n in names
        )
        parts.append(f"<li><b>{html.escape(title)}</b>: {links}</li>")
    parts.append("</ol></nav>")
    return parts


def _numbers_table(numbers: dict) -> list[str]:
    """A row per key number: value, reference, criterion, verdict badge, unit and source."""
    if not numbers:
        return []
    parts = [
        "<table class='checks'><tr><th>quantity</th><th>value</th><th>reference</th>"
        "<th>tolerance or bound</th><th>verdict</th><th>unit</th><th>source</th></tr>"
    ]
    for key, item in numbers.items():
        if not isinstance(item, dict):
            item = {"value": item}
        v = verdict(item)
        row_class = "check" if v != "info" else "info"
        cells = (
            html.escape(key),
            f"<td class='num'>{_fmt(item.get('value'))}</td>",
            f"<td class='num'>{_fmt(item.get('reference'))}</td>",
            html.escape(criterion(item)),
            _BADGES.get(v, "<span class='muted'>no reference</span>"),
            html.escape(str(item.get("unit", ""))),
            html.escape(str(item.get("source", ""))),
        )
        tds = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells)
        parts.append(f"<tr class='{row_class}' data-verdict='{v}'>{tds}</tr>")
    parts.append("</table>")
    return parts


def _figure(out: Path, name: str, fig: str) -> str:
    """A figure linked to its full-size PNG; wide (multi-panel) ones span the page."""
    src = html.escape(f"{name}/{fig}")
    size = "wide" if png_width(out / name / fig) >= WIDE_PX else "narrow"
    return (
        f"<figure class='{size}'><a href='{src}'><img src='{src}' alt='{html.escape(fig)}'>"
        f"</a><figcaption class='muted'>{html.escape(fig)}</figcaption></figure>"
    )


def _section(out: Path, name: str, res: dict) -> list[str]:
    """One experiment: title, summary, figures, the table of checks and its run time."""
    parts = [f"<h3 id='{html.escape(name)}'>{html.escape(res.get('title', name))}</h3>"]
    if res.get("summary"):
        parts.append(f"<p class='summary'>{html.escape(res['summary'])}</p>")
    parts += [_figure(out, name, fig) for fig in res.get("figures", [])]
    parts += _numbers_table(res.get("numbers", {}))
    parts.append(
        f"<p class='muted'>ran in {res.get('seconds', 0):.1f} s; numbers in "
        f"<a href='{html.escape(name)}/results.json'>results.json</a></p>"
    )
    return parts


def write_report(out: Path, results: dict, meta: dict | None = None) -> Path:
    """Write ``out/index.html`` for the gallery ``results`` ({name: experiment dict}).

    Args:
        out: the gallery's output folder (figures under ``out/<name>/``).
        results: each experiment's summary, figures, numbers, title and seconds.
        meta: the run's ``version``, ``commit``, ``date``, ``quick``, ``precision``,
            ``machine`` and ``devices`` for the header (missing keys show "unknown").

    Also writes ``out/summary.json`` (all results and ``meta``); returns the path of
    ``index.html``. Both files are written atomically (temporary file, then rename).
    """
    out = Path(out)
    meta = dict(meta or {})
    parts = _header(results, meta)
    for title, names in story(results):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for name in names:
            parts += _section(out, name, results[name])
    parts.append("</body></html>")
    path = out / "index.html"
    _write_atomic(path, "\n".join(parts))
    summary = {"meta": meta, "results": results, "tally": tally(results)}
    _write_atomic(out / "summary.json", json.dumps(summary, indent=2, default=float))
    return path


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
