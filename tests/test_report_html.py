"""The HTML a reviewer reads: structure, text alternatives, escaping of fixture values, and the SVG pictures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from html_structure import problems
from readiness.report import charts, templates
from reviewer_run import FAILING_TENANT, PLANTED_SCRIPT, SCRIPT_TENANT, shared_planted_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_planted_run(tmp_path_factory)


def pages(report_dir: Path) -> list[Path]:
    return [report_dir / "readiness.html", *sorted((report_dir / "features").glob("*.html"))]


def test_every_page_is_well_formed_and_accessible(run):
    written = pages(run.report_dir)
    assert len(written) >= 4  # report + index + at least two feature pages
    for page in written:
        assert problems(page.read_text(encoding="utf-8")) == [], page.name


# HTML Tidy predates inline SVG and <output>: these warnings are about valid HTML5, everything else fails.
TIDY_FALSE_ALARMS = (
    r'<(svg|text|rect|path|marker|title|desc)> proprietary attribute "[a-z-]+"',  # SVG attributes it does not know
    r"trimming empty <output>",  # the search box's live count, empty until the script fills it
)


def test_every_page_passes_html_tidy(run):
    if not shutil.which("tidy"):
        missing = "HTML Tidy not found; install it with: apt-get install -y tidy"
        if os.environ.get("READINESS_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    for page in pages(run.report_dir):
        done = subprocess.run(["tidy", "-errors", "-quiet", "--show-warnings", "yes", str(page)],
                              capture_output=True, text=True)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        real = [line for line in lines if not any(re.search(alarm, line) for alarm in TIDY_FALSE_ALARMS)]
        assert real == [], page.name


def test_tidy_is_not_silenced(tmp_path):
    if not shutil.which("tidy"):
        pytest.skip("HTML Tidy not found")
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><div><p>x</span></body></html>')
    done = subprocess.run(["tidy", "-errors", "-quiet", str(broken)], capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert [line for line in lines if not any(re.search(alarm, line) for alarm in TIDY_FALSE_ALARMS)]


def test_a_script_in_a_tenant_name_shows_as_text_in_the_report_and_the_feature_pages(run):
    escaped = "&lt;script&gt;document.title="
    for page in (run.report_dir / "readiness.html", run.report_dir / "features" / "claims.html"):
        text = page.read_text(encoding="utf-8")
        assert escaped in text, page.name
        assert PLANTED_SCRIPT not in text and "<script>document.title" not in text, page.name
    assert PLANTED_SCRIPT in (run.report_dir / "readiness.json").read_text(encoding="utf-8").replace("\\\"", "\"")


def test_a_finding_with_markup_is_escaped_too(run):
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    assert f'id="tenant-{FAILING_TENANT}"' in html
    assert "approved servicetitan partner" in html  # the finding's quoted sentence is shown, as text


def test_the_report_pictures_status_counts_with_a_text_alternative(run):
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    summary = run.report["summary"]
    svg = re.search(r'<svg class="chart bar-chart".*?</svg>', html, flags=re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg
    for status in ("passed", "failed", "pending"):
        assert f"{summary[status]} {status}" in svg  # <desc> sentence
        assert f"{summary[status]} {status}" in html.split("</svg>", 1)[1]  # visible caption after the picture
    assert f'{run.report["mode_statement"]}' in html


def test_the_mode_heads_every_printed_page_and_sections_break(run):
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    assert '@top-center { content: "Mode: offline: no sandbox tenant evidence exists"; }' in html
    assert "break-before: page" in html and "display: table-header-group" in html


@pytest.mark.parametrize("page, expected", [
    ("<!DOCTYPE html><html><head><title>t</title></head><body><h1>a</h1></body></html>", "lang"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><h1>b</h1></body></html>', "<h1>"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><h3>b</h3></body></html>', "skips"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><div><p>x</div></body></html>',
     "does not close"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><main>', "unclosed"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1 id="a">a</h1><p id="a"></p></body></html>',
     "duplicate id"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><a href="#x">x</a></body></html>',
     "lands nowhere"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><td class="status-failed"></td></body></html>',
     "colour alone"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><svg role="img"><rect/></svg></body></html>',
     "text alternative"),
    ('<!DOCTYPE html><html lang="en"><head><title>t</title><script src="https://cdn.example/x.js"></script></head>'
     "<body><h1>a</h1></body></html>", "external"),
    ('<html lang="en"><head><title>t</title></head><body><h1>a</h1></body></html>', "DOCTYPE"),
])
def test_the_structure_check_catches_each_defect(page, expected):
    assert any(expected in problem for problem in problems(page)), problems(page)


def test_bar_chart_labels_every_bar_and_escapes_its_text():
    svg = charts.bar_chart([("passed", 4), ("<b>odd</b>", 0)], 'Counts "<script>"', unit="scenarios")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;odd&lt;/b&gt;" in svg
    assert 'role="img"' in svg and "4 passed, 0 &lt;b&gt;odd&lt;/b&gt; scenarios" in svg
    assert "✔ passed" in svg  # a symbol and a word beside the colour
    assert charts.bar_chart([], "Nothing")  # no rows still renders a titled picture
    assert charts.bar_chart([("passed", 1)], "A") == charts.bar_chart([("passed", 1)], "A")  # reproducible


def test_grid_shows_a_word_in_every_cell_and_describes_them():
    svg = charts.grid(["CRM", "JPM"], ["scope", "module"], {("CRM", "scope"): "pending", ("JPM", "module"): "failed"},
                      "Connection matrix")
    assert "◔ pending" in svg and "✘ failed" in svg and "n/a" in svg
    assert "CRM × scope: pending" in svg and "JPM × module: failed" in svg


def test_funnel_and_state_diagram_carry_their_numbers_as_text():
    funnel = charts.funnel([("leads", 10), ("bookings", 6), ("paid", 0)], "Attribution")
    assert "leads: 10" in funnel and "paid: 0" in funnel and "10 leads, 6 bookings, 0 paid" in funnel
    diagram = charts.state_diagram([("queued", 3), ("retrying", 1), ("blocked", 0)],
                                   [("queued", "retrying"), ("retrying", "queued"), ("queued", "gone")], "Queue")
    assert "queued → retrying" in diagram and "retrying → queued" in diagram and "gone" not in diagram
    assert diagram.count("marker-end=") == 2 and "3 item(s)" in diagram


def test_css_string_cannot_close_its_quote_or_the_style_element():
    text = templates.css_string('a "quote" </style><script>x\\')
    assert text.count('"') == 2 and "</style>" not in text and "<" not in text and "\\" in text


def test_each_tenants_eligibility_is_pictured_as_a_families_by_gates_grid(run):
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    judged = [t for t in run.report["tenants"] if t["sections"].get("eligibility")]
    assert judged
    for tenant in judged:
        eligibility = tenant["sections"]["eligibility"]
        grid = re.search(r'<svg class="chart grid-chart"[^>]*>(?:(?!</svg>).)*?\(' + re.escape(tenant["slug"])
                         + r'\): API families × gates.*?</svg>', html, flags=re.S)
        assert grid, tenant["slug"]
        first = eligibility["families"][0]
        assert f'{first["title"]} × scopes: {first["gates"]["scopes"]["state"]}' in grid.group(0)
