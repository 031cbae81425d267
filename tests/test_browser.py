"""The report and the feature pages as a reader's browser shows them, and the printed PDF.

Drives Debian's headless Chromium over the DevTools protocol on a pipe (``readiness.report.browser``):
the project declares no websocket client, and a pipe needs no port. Tests that need Chromium
(or poppler's pdftotext) skip, naming the install command, only when it is absent; CI installs both.
Screenshots go to reports/screenshots/ for a human to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from readiness.report import browser
from reviewer_run import FAILING_TENANT, SCRIPT_TENANT, requirement_ids, shared_planted_run

pytestmark = pytest.mark.slow  # a headless browser per page

SCREENSHOTS = ROOT / "reports" / "screenshots"
MODE = "offline: no sandbox tenant evidence exists"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser; CI sets READINESS_REQUIRE_BROWSER=1 so a missing one fails there instead of skipping."""
    try:
        return browser.find_chromium()
    except browser.BrowserError as exc:
        if os.environ.get("READINESS_REQUIRE_BROWSER") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_planted_run(tmp_path_factory)


@pytest.fixture(scope="module")
def tab(chromium):
    with browser.Browser(chromium) as chrome:
        yield chrome.open


def shown(page, selector: str) -> dict | None:
    """Where an element is and whether a reader sees it (None when it does not exist)."""
    return page.evaluate(f"""(function () {{
        var e = document.querySelector({json.dumps(selector)});
        if (!e) {{ return null; }}
        var r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return {{top: r.top, width: r.width, height: r.height, text: e.innerText,
                 seen: s.display !== "none" && s.visibility !== "hidden" && r.width > 0 && r.height > 0}};
    }}())""")


def planted_script_ran(page) -> bool:
    return page.evaluate('document.title === "PWNED" || document.body.hasAttribute("data-pwned")')


def save_screenshot(page, name: str) -> Path:
    path = page.screenshot(SCREENSHOTS / name)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    return path


def test_the_report_shows_its_mode_and_counts_without_console_errors(run, tab):
    page = tab((run.report_dir / "readiness.html").as_uri())
    assert page.console_errors() == []
    banner = shown(page, "header.banner")
    assert banner["seen"] and banner["top"] == 0 and MODE in banner["text"]
    summary = run.report["summary"]
    for selector in ("svg.bar-chart", "table.counts", ".chart-figure figcaption"):
        assert shown(page, selector)["seen"], selector
    caption = shown(page, ".chart-figure figcaption")["text"]
    assert f"{summary['passed']} passed" in caption and f"{summary['failed']} failed" in caption
    assert f"{summary['pending']} pending" in caption
    assert not planted_script_ran(page) and page.evaluate("document.scripts.length") == 0
    tenant = shown(page, f"#tenant-{SCRIPT_TENANT} h3")["text"]
    assert '<script>document.title="PWNED"' in tenant  # shown to the reader as text
    assert "FAILED" in shown(page, "#gate")["text"] and shown(page, f"#tenant-{FAILING_TENANT}")["seen"]
    save_screenshot(page, "readiness.png")


@pytest.mark.parametrize("feature", ["claims", "sandbox-protocol"])
def test_a_feature_page_reads_with_its_results_and_no_console_errors(run, tab, feature):
    page = tab((run.report_dir / "features" / f"{feature}.html").as_uri())
    assert page.console_errors() == []
    assert MODE in shown(page, "header.banner")["text"] and shown(page, "h1")["seen"]
    assert shown(page, "#search")["seen"]  # the optional search box appears when scripts run
    assert shown(page, "article.scenario table.results")["seen"]
    assert not planted_script_ran(page)
    save_screenshot(page, f"features-{feature}.png")


def test_the_search_box_filters_scenarios(run, tab):
    page = tab((run.report_dir / "features" / "claims.html").as_uri())
    total = page.evaluate("document.querySelectorAll('article[data-search]').length")
    visible = page.evaluate("""(function () {
        var input = document.querySelector('#search input');
        input.value = 'claim-sandbox product';
        input.dispatchEvent(new Event('input'));
        return Array.prototype.filter.call(document.querySelectorAll('article[data-search]'),
            function (a) { return !a.hidden; }).map(function (a) { return a.getAttribute('data-search'); });
    }())""")
    assert 0 < len(visible) < total
    assert all("claim-sandbox" in text and "product" in text for text in visible)
    assert f"{len(visible)} of {total} shown" == shown(page, "#search output")["text"]
    assert page.console_errors() == []


def test_the_console_check_can_fail(tmp_path, tab):
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html lang="en"><title>x</title><body><script>console.error("boom");'
                      "missingFunction();</script></body></html>")
    errors = tab(broken.as_uri()).console_errors()
    assert any("boom" in e for e in errors) and any("missingFunction" in e for e in errors)


def pdf_pages(pdf: Path) -> list[str]:
    if not shutil.which("pdftotext"):
        missing = f"pdftotext not found; install it with: {browser.INSTALL_COMMAND}"
        if os.environ.get("READINESS_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return [page for page in done.stdout.split("\f") if page.strip()]


def test_pdf_holds_the_mode_on_every_page_and_every_requirement_id(run, chromium, tmp_path):
    shutil.copytree(run.report_dir, tmp_path / "report")
    done = subprocess.run([sys.executable, "-m", "readiness", "pdf", str(tmp_path / "report")],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "report" / "readiness.pdf"
    assert f"wrote {pdf}" in done.stdout and pdf.read_bytes()[:5] == b"%PDF-"
    pages = pdf_pages(pdf)
    assert len(pages) > 2
    assert all(f"Mode: {MODE}" in page for page in pages)
    text = "\n".join(pages)
    for requirement in requirement_ids():
        assert requirement in text, requirement
    assert f"page {len(pages)} of {len(pages)}" in text
    shutil.copy(pdf, SCREENSHOTS / "readiness.pdf")


def test_pdf_names_the_install_command_when_chromium_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.BrowserError) as caught:
        browser.find_chromium()
    assert browser.INSTALL_COMMAND in str(caught.value)


def test_pdf_command_fails_with_one_line_when_chromium_or_the_report_is_missing(run, tmp_path):
    env = {**os.environ, browser.ENVIRONMENT_VARIABLE: str(tmp_path / "no-chromium")}
    done = subprocess.run([sys.executable, "-m", "readiness", "pdf", str(run.report_dir)],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "no-chromium: no such executable" in done.stderr
    done = subprocess.run([sys.executable, "-m", "readiness", "pdf", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "readiness.html: no report to print: run the gate first" in done.stderr


def test_a_missing_page_or_a_failing_script_is_an_error_not_a_blank_page(tmp_path, tab):
    with pytest.raises(browser.BrowserError, match="ERR_FILE_NOT_FOUND"):
        tab((tmp_path / "nothing.html").as_uri())
    page = tab("about:blank")
    with pytest.raises(browser.BrowserError, match="script failed"):
        page.evaluate("undefinedName.property")


def test_the_chromium_variable_picks_the_browser(chromium, monkeypatch):
    monkeypatch.setenv(browser.ENVIRONMENT_VARIABLE, chromium)
    assert browser.find_chromium() == chromium
