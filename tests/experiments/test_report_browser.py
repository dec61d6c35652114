"""The gallery report opens in a real headless browser (Debian's Chromium) with every figure.

The report's inline script counts the <img> elements that finished loading with a non-zero
size and writes the counts into <body data-figures-*>; Chromium's --dump-dom prints the DOM
after the page's load event, so the counts are what a user's browser saw.
"""

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (make test installs it where it can)"
)


def _rendered_body(index, profile_dir) -> tuple[dict, str]:
    assert CHROMIUM is not None
    r = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile_dir}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            index.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", r.stdout)
    assert body, "no <body> in the rendered DOM"
    attrs = dict(re.findall(r'data-figures-(\w+)="([^"]*)"', body.group(1)))
    checks = re.findall(r'data-checks-(\w+)="([^"]*)"', body.group(1))
    attrs.update({f"checks_{k}": v for k, v in checks})
    assert "total" in attrs, "the page's load script did not run"
    return attrs, r.stdout


@needs_chromium
@pytest.mark.slow
def test_gallery_report_loads_every_figure(tmp_path, gallery, capsys):
    out = tmp_path / "results"
    gallery.run_gallery(out, quick=True, only=["spintronics", "independent_moments"])
    assert "[2/2]" in capsys.readouterr().out  # progress is shown while it runs
    index = out / "index.html"
    attrs, dom = _rendered_body(index, tmp_path / "profile")
    n_png = len(list(out.glob("*/*.png")))
    assert n_png >= 2
    assert int(attrs["total"]) == n_png
    assert int(attrs["loaded"]) == n_png, f"broken: {attrs['broken']}"
    # every figure is a link to the file the browser loaded, every check row has a verdict
    assert int(attrs["linked"]) == n_png
    assert int(attrs["checks_total"]) >= 5
    assert attrs["checks_judged"] == attrs["checks_total"]
    rows = re.findall(r"<tr class=\"check\"[^>]*>(.*?)</tr>", dom, flags=re.S)
    assert len(rows) == int(attrs["checks_total"])
    assert all(re.search(r"badge (ok|bad|neutral)", r) for r in rows)
    # the sections follow the story (one spin before dynamics) and the header names the run
    assert dom.index('id="independent_moments"') < dom.index('id="spintronics"')
    assert "quick (smoke-test sizes)" in dom and "devices" in dom

    # negative control: a missing figure is reported as broken by the browser
    victim = sorted(out.glob("spintronics/*.png"))[0]
    victim.unlink()
    attrs, _ = _rendered_body(index, tmp_path / "profile2")
    assert int(attrs["loaded"]) == n_png - 1
    assert victim.name in attrs["broken"]
