"""Living documentation: the feature files as web pages, with each scenario's result from one run.

``<report-dir>/features/`` gets one static HTML page per feature file and an
``index.html``. A page shows what a partner reviewer reads in the feature file
(description, rules, backgrounds, scenarios, steps, data tables, doc strings,
examples) from Cucumber's own Gherkin parser, with tags as requirement and
protocol-test chips that link to the requirement table of ``readiness.html``,
and each scenario's status per tenant from the report (passed, failed with the
message, pending with its reason and unblock condition, dry run).

Everything is driven by the report dict and the feature files it lists in its
evidence manifest, so a report re-rendered from ``readiness.json`` alone (e.g.
merged shards) gets the same pages. Pages need no scripts; a small inline
script adds a search box when scripts run.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment

from readiness.core import features
from readiness.core.errors import ReadinessError

FOLDER = "features"
# Worst first: a scenario's headline status across tenants is the worst of its records.
_SEVERITY = ("failed", "dry-run-failed", "waived", "pending", "dry-run-passed", "passed")
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "waived": "waived (an exception with an owner and expiry: not passed)",
    "pending": "pending",
    "dry-run-passed": "dry run passed (simulator, not evidence)",
    "dry-run-failed": "dry run failed (simulator)",
    "not-run": "not run in this report",
}
TAG_WORDS = {
    features.PER_TENANT_TAG: "runs once per tenant",
    features.SANDBOX_TAG: "needs sandbox access",
}


@functools.cache  # asked once per scenario record (the report links each to its page): thousands for an agency
def page_name(feature_path: str) -> str:
    """``features/claims.feature`` -> ``claims.html``; sub-folders join with ``--``."""
    parts = list(PurePosixPath(feature_path).with_suffix("").parts)
    if len(parts) > 1 and parts[0] == FOLDER:
        parts = parts[1:]
    return "--".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", part) for part in parts) + ".html"


def feature_page(feature_path: str) -> str:
    """Link from ``readiness.html`` to a feature's page."""
    return f"{FOLDER}/{page_name(feature_path)}"


def scenario_anchor(line: int) -> str:
    return f"scenario-{line}"


def headline(statuses: list[str]) -> str:
    """The status a scenario shows in its heading: the worst of its per-tenant records."""
    for status in _SEVERITY:
        if status in statuses:
            return status
    return "not-run"


def description_lines(text: str) -> str:
    """A Gherkin description without the indentation it has in the file."""
    return "\n".join(line.strip() for line in text.strip().splitlines())


def feature_paths(report: dict) -> list[str]:
    """Every feature file the run read (from the evidence manifest) and every one a scenario names."""
    paths = {e["path"] for e in report["evidence"] if e["path"].endswith(".feature")}
    paths |= {s["feature"] for s in report["scenarios"]}
    return sorted(paths)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def feature_view(report: dict, feature_path: str, root: Path) -> dict[str, Any]:
    """What a feature page shows: the parsed Gherkin document and this run's records by scenario line."""
    source = root / feature_path
    view: dict[str, Any] = {"path": feature_path, "page": page_name(feature_path), "document": None,
                            "problem": None, "changed": False, "results": {}, "counts": {}}
    records = [s for s in report["scenarios"] if s["feature"] == feature_path]
    for record in records:
        view["results"].setdefault(record["line"], []).append(record)
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    view["counts"] = dict(sorted(counts.items()))
    if not source.is_file():
        view["problem"] = "the feature file was not found when this page was written"
        return view
    try:
        document, _ = features.parse_feature(source)
    except ReadinessError as exc:
        view["problem"] = str(exc)
        return view
    view["document"] = document
    recorded = {e["path"]: e["sha256"] for e in report["evidence"]}
    view["changed"] = feature_path in recorded and recorded[feature_path] != _digest(source)
    return view


def _scenario_rows(view: dict) -> list[dict]:
    """Every scenario of a feature (rules flattened) for the index and its search."""
    document = view["document"]
    if document is None or "feature" not in document:
        return []
    rows = []
    feature = document["feature"]
    children = list(feature["children"])
    while children:
        child = children.pop(0)
        if "rule" in child:
            children[:0] = child["rule"]["children"]
        elif "scenario" in child:
            scenario = child["scenario"]
            line = scenario["location"]["line"]
            records = view["results"].get(line, [])
            tags = sorted({t for r in records for t in r["tags"]} | {t["name"].lstrip("@") for t in scenario["tags"]})
            rows.append({"name": scenario["name"], "line": line, "tags": tags,
                         "status": headline([r["status"] for r in records])})
    return rows


def render(report: dict, environment: Environment, root: Path | str | None = None) -> dict[str, str]:
    """The text of each page of ``features/`` (``index.html`` and one per feature) by file name; feature paths are
    read relative to ``root`` (cwd)."""
    root = Path(root) if root is not None else Path.cwd()
    requirements = {r["id"]: r for r in report["requirements"]}
    tenant_names = {t["slug"]: t["name"] for t in report["tenants"]}
    context = {"report": report, "requirements": requirements, "tenant_names": tenant_names,
               "status_words": STATUS_WORDS, "tag_words": TAG_WORDS, "headline": headline,
               "description_lines": description_lines,
               "req_prefix": features.REQ_PREFIX, "protocol_prefix": features.PROTOCOL_PREFIX}
    views = [feature_view(report, path, root) for path in feature_paths(report)]
    page_template = environment.get_template("livingdoc/feature.html.j2")
    pages = {view["page"]: page_template.render(view=view, **context) for view in views}
    rows = {view["path"]: _scenario_rows(view) for view in views}
    pages["index.html"] = environment.get_template("livingdoc/index.html.j2").render(views=views, rows=rows, **context)
    return pages


def save(pages: dict[str, str], out_dir: Path | str) -> list[Path]:
    """Write ``render``'s pages to ``<out_dir>/features/``, in place of the pages there before."""
    folder = Path(out_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.html"):  # pages of renamed or removed features must not linger
        stale.unlink()
    written = []
    for name, text in pages.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write(report: dict, out_dir: Path | str, environment: Environment, root: Path | str | None = None) -> list[Path]:
    """Write ``<out_dir>/features/*.html`` for ``report``; feature paths are read relative to ``root`` (cwd)."""
    return save(render(report, environment, root), out_dir)
