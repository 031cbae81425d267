"""Screenshots of a ServiceTitan list screen, made in headless Chromium from names (fake data only).

Stands in for what a customer sends: a list with a title, a header row (Name, Class, Status) and one row per
record. The bundled fixtures' ``evidence/job-types-screenshot.png`` are made with it from their exports
(``python -m tests.screenshot_render``), so they show exactly the exported active names.
"""

from __future__ import annotations

import html
import json
import sys
import tempfile
from pathlib import Path

from readiness.report.browser import Browser

ROOT = Path(__file__).resolve().parent.parent


def list_page(title: str, names: list[str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>Service</td><td>Active</td></tr>" for name in names)
    return ("<!doctype html><html><body style='font-family:DejaVu Sans,sans-serif;margin:24px;background:#fff'>"
            f"<h2>{html.escape(title)}</h2><table cellpadding='8' style='border-collapse:collapse;font-size:16px'>"
            "<tr><th align='left'>Name</th><th align='left'>Class</th><th align='left'>Status</th></tr>"
            f"{rows}</table></body></html>")


def render(title: str, names: list[str], target: Path) -> Path:
    """A PNG of the list at ``target`` (tall enough for every row)."""
    with tempfile.TemporaryDirectory() as scratch:
        page_file = Path(scratch) / "list.html"
        page_file.write_text(list_page(title, names), encoding="utf-8")
        with Browser() as browser:
            page = browser.open(page_file.as_uri(), width=760, height=140 + 40 * len(names))
            page.screenshot(target, full_page=True)
    return target


def active_names(export: Path) -> list[str]:
    return [r["name"] for r in json.loads(export.read_text())["data"] if r.get("active", True)]


def regenerate_fixtures() -> None:
    for tenant in sorted((ROOT / "fixtures" / "tenants").iterdir()):
        target = tenant / "evidence" / "job-types-screenshot.png"
        if target.exists():
            render("Job Types", active_names(tenant / "exports" / "jpm" / "job-types.json"), target)
            print(target.relative_to(ROOT))


if __name__ == "__main__":
    sys.exit(regenerate_fixtures())
