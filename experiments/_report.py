"""The gallery report: ``results/index.html`` with every figure and its key numbers.

The page is static HTML (no network, no scripts from elsewhere). A tiny inline script counts
the figures that loaded and writes the count into ``<body data-figures-loaded=...>``, which
the browser test reads back from a real headless Chromium.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
     color:#222;line-height:1.45;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.summary{white-space:pre-line} figure{display:inline-block;margin:.5em;max-width:100%}
figure img{max-width:520px;width:100%;border:1px solid #eee}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left} th{background:#f5f5f5}
.ok{color:#17692d}.bad{color:#a11}.muted{color:#777;font-size:.9em}
nav a{margin-right:1em}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-figures-total', String(imgs.length));
  document.body.setAttribute('data-figures-loaded', String(ok.length));
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.getAttribute('src'); });
  document.body.setAttribute('data-figures-broken', broken.join(' '));
});
"""


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


def _agreement(value, ref) -> str:
    try:
        v, r = float(value), float(ref)
    except (TypeError, ValueError):
        return ""
    if r == 0:
        return f"|Δ| = {_fmt(abs(v))}"
    return f"{100 * (v - r) / abs(r):+.2f} %"


def _header(results: dict) -> list[str]:
    """The page head, the title and the navigation bar of the report."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>netmag_jax experiment gallery</title>",
        f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body>",
        "<h1>netmag_jax — experiment gallery</h1>",
        "<p class='muted'>Each section: what the experiment shows, its figures, and its key "
        "numbers against their references (analytic limits, published values or an "
        "independent calculation).</p><nav>",
    ]
    parts += [
        f"<a href='#{html.escape(n)}'>{html.escape(r.get('title', n))}</a>"
        for n, r in results.items()
    ]
    parts.append("</nav>")
    return parts


def _numbers_table(numbers: dict) -> list[str]:
    """A table row per key number: value, reference, difference, unit and source."""
    if not numbers:
        return []
    parts = [
        "<table><tr><th>quantity</th><th>value</th><th>reference</th>"
        "<th>difference</th><th>unit</th><th>source</th></tr>"
    ]
    for key, item in numbers.items():
        if not isinstance(item, dict):
            item = {"value": item}
        cells = (
            html.escape(key),
            _fmt(item.get("value")),
            _fmt(item.get("reference")),
            _agreement(item.get("value"), item.get("reference")),
            html.escape(str(item.get("unit", ""))),
            html.escape(str(item.get("source", ""))),
        )
        parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    return parts


def _section(name: str, res: dict) -> list[str]:
    """One experiment's section: title, summary, figures, numbers and its run time."""
    parts = [f"<h2 id='{html.escape(name)}'>{html.escape(res.get('title', name))}</h2>"]
    if res.get("summary"):
        parts.append(f"<p class='summary'>{html.escape(res['summary'])}</p>")
    for fig in res.get("figures", []):
        src = f"{name}/{fig}"
        parts.append(
            f"<figure><img src='{html.escape(src)}' alt='{html.escape(fig)}'>"
            f"<figcaption class='muted'>{html.escape(fig)}</figcaption></figure>"
        )
    parts += _numbers_table(res.get("numbers", {}))
    parts.append(
        f"<p class='muted'>ran in {res.get('seconds', 0):.1f} s; numbers in "
        f"<a href='{html.escape(name)}/results.json'>results.json</a></p>"
    )
    return parts


def write_report(out: Path, results: dict) -> Path:
    """Write ``out/index.html`` for the gallery ``results`` ({name: experiment dict}).

    Also writes ``out/summary.json`` (all results); returns the path of ``index.html``.
    """
    out = Path(out)
    parts = _header(results)
    for name, res in results.items():
        parts += _section(name, res)
    parts.append("</body></html>")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(results, indent=2, default=float))
    return path
