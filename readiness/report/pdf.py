"""``python -m readiness pdf REPORT_DIR``: print the evidence report to ``readiness.pdf`` with headless Chromium.

The report's own print CSS lays the pages out: A4, the mode statement at the top
of every page, page numbers, each section on a new page, no table row or chart
cut in two. Collapsed parts (the evidence manifest) are opened before printing so
the PDF holds everything the HTML holds.
"""

from __future__ import annotations

from pathlib import Path

from readiness.report.browser import Browser
from readiness.core.errors import ReadinessError

SOURCE = "readiness.html"
TARGET = "readiness.pdf"
_OPEN_DETAILS = "document.querySelectorAll('details').forEach(function (d) { d.open = true; }); true"


def print_report(report_dir: Path | str, output: Path | str | None = None) -> Path:
    """Print ``<report_dir>/readiness.html`` to ``output`` (default ``<report_dir>/readiness.pdf``)."""
    report_dir = Path(report_dir)
    source = report_dir / SOURCE
    if not source.is_file():
        raise ReadinessError(source, "no report to print: run the gate first (pytest --report-dir=DIR)")
    target = Path(output) if output is not None else report_dir / TARGET
    with Browser() as browser:
        page = browser.open(source.resolve().as_uri())
        page.evaluate(_OPEN_DETAILS)
        page.pdf(target)
    return target
