"""The HTML page: self-contained, and clean in headless Chromium."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rcu_harness.report.html import report_html
from rcu_harness.report.model import load_run

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "stress" / "html_screenshot.py"
CHROMIUM = next((p for p in (shutil.which(n) for n in
                             ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed "
    "(apt-get install -y chromium)")


@pytest.fixture(scope="module")
def page(bug_run):
    html = report_html(load_run(bug_run))
    path = bug_run / "report.html"
    path.write_text(html)
    return path


def test_the_page_needs_nothing_outside_itself(page):
    html = page.read_text()
    assert "<script" not in html
    assert not re.search(r"(src|href)=['\"](?!data:|#)", html)
    assert "http://" not in html
    assert "https://" not in html
    images = re.findall(r"<img class='plot' alt='([^']*)' src='data:image/png;base64,",
                        html)
    assert {"Reader latency", "Writer latency", "Grace periods",
            "Memory held by RCU", "Reader Pipe and Reader Batch"} <= set(images)


def test_the_page_has_every_section_and_a_swimlane_per_finding(page, bug_run):
    html = page.read_text()
    assert "<h2 id='findings'>Findings" in html
    for title in ("Campaign", "Reader latency, scheduling steps",
                  "Grace periods and memory held by RCU",
                  "rcutorture-style reader histograms", "Benign outcomes",
                  "Coverage: reader position x writer operation"):
        assert f"<h2>{title}" in html
    for f in load_run(bug_run).findings:
        assert f"id='finding-{f.signature}'" in html
    assert "class='fault'" in html
    assert "<pre class='report'>" in html
    assert "BUG: KASAN: slab-use-after-free" in html
    assert html.index("id='findings'") < html.index("<h2>Campaign")
    assert "if any entries past the first two are non-zero, RCU is broken" in html


@needs_chromium
def test_the_page_opens_in_headless_chromium_without_console_errors(page,
                                                                     tmp_path):
    shot = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out",
                           str(shot)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(0 console errors)" in done.stdout
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_in_chromium_the_page_opens_on_the_findings(page, tmp_path):
    """As laid out in the browser: the first section is the findings, and the
    first finding's report and swimlane come before the campaign figures."""
    shot = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out",
                           str(shot)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    outline = [line.split(" ", 3)[1:] for line in done.stdout.splitlines()
               if line.startswith("outline: ")]
    tags = [tag for _top, tag, _text in outline]
    h2 = [text for _top, tag, text in outline if tag == "h2"]
    assert h2[0] == "Findings"
    assert h2[1] == "Campaign"
    assert tags[:4] == ["h2", "h3", "pre", "div"]
    first_screen = 900
    assert int(outline[1][0].removesuffix("px")) < first_screen
    assert outline[2][2].startswith("=====")  # the KASAN report's rule
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_the_screenshot_script_fails_on_a_page_with_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><head><link rel='icon' href='data:,'>"
                   "</head><body><script>console.error('boom'); nope();</script>"
                   "</body></html>")
    done = subprocess.run([sys.executable, str(SCRIPT), str(bad), "--out",
                           str(tmp_path / "bad.png")], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 1
    assert "console.error: boom" in done.stdout
    assert "ReferenceError" in done.stdout
