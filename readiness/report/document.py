"""The evidence report: scenario results + policies + tenants -> readiness.json, .md and .html.

The JSON is the source of truth (validated against ``schemas/report/readiness``);
Markdown and HTML are rendered from it with Jinja2, so a report can be re-rendered
from its JSON alone (shards merged, baselines compared).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from readiness.report import controls as control_view, livingdoc, templates
from readiness.gate import overlap
from readiness.core.documents import read_json, schema, validate_data
from readiness.core.errors import ReadinessError
from readiness.boundaries.privacy import mask_finding, mask_text

SCHEMA_VERSION = "1.1"
STATUSES = ("passed", "failed", "waived", "pending", "dry-run-passed", "dry-run-failed")
FAILING = frozenset({"failed", "dry-run-failed"})
REQUIREMENT_STATUSES = ("met", "failed", "waived", "pending", "dry-run", "uncovered")
MODE_STATEMENTS = {
    "off": "offline: no sandbox tenant evidence exists",
    "simulator": "simulator dry run: results come from a local simulator and are not sandbox evidence",
    "integration": "integration environment: evidence captured from ServiceTitan's integration environment",
}


def disclaims_sandbox_evidence(statement: str) -> bool:
    return "no sandbox tenant evidence exists" in statement or "not sandbox evidence" in statement


def requirement_status(requirement: dict, statuses: Iterable[str]) -> str:
    statuses = set(statuses)
    if requirement.get("planned") or not statuses:
        return "uncovered"
    if statuses & FAILING:
        return "failed"
    if "waived" in statuses:  # never met: an exception is not evidence
        return "waived"
    if "pending" in statuses:
        return "pending"
    if statuses == {"passed"}:
        return "met"
    return "dry-run"


def _scenario_key(record: dict) -> tuple:
    # Examples rows of one outline share feature, line and name: the whole record breaks the tie, so the order
    # never depends on the order results arrived in (serial, xdist or a merge of shards).
    return (record["feature"], record["line"], record["scenario"], record["tenant"] or "",
            json.dumps(record, sort_keys=True))


def build(
    *,
    mode: str,
    scenarios: list[dict],
    requirements: list[dict],
    tenants: list[dict],
    evidence: list[dict],
    evidence_root: str,
    commit: str | None,
    policy_digest: str,
    generated_at: str,
    gate_problems: list[str] = (),
    shard: dict[str, int] | None = None,
    waivers: list[dict] = (),
    controls: dict | None = None,
) -> dict[str, Any]:
    # No personal data in any report: findings and failure reasons are masked before anything else sees them.
    scenarios = sorted((_masked(s) for s in scenarios), key=_scenario_key)
    counts = Counter(s["status"] for s in scenarios)
    summary = {status: counts.get(status, 0) for status in STATUSES}
    summary["total"] = len(scenarios)

    by_requirement: dict[str, list[dict]] = {}
    for record in scenarios:
        for req in record["requirements"]:
            by_requirement.setdefault(req, []).append(record)
    requirement_rows = []
    for req in requirements:
        linked = by_requirement.get(req["id"], [])
        requirement_rows.append({
            "id": req["id"],
            "text": req["text"],
            "planned": bool(req.get("planned")),
            "scenarios": sorted({f"{r['feature']}: {r['scenario']}" for r in linked}),
            "status": requirement_status(req, (r["status"] for r in linked)),
        })
    requirement_counts = Counter(r["status"] for r in requirement_rows)

    by_tenant: dict[str | None, list[dict]] = {}  # one pass, not one per tenant: agencies judge hundreds
    for record in scenarios:
        by_tenant.setdefault(record["tenant"], []).append(record)
    tenant_rows = []
    for tenant in sorted(tenants, key=lambda t: t["slug"]):
        records = by_tenant.get(tenant["slug"], [])
        sections: dict[str, Any] = {}
        for record in records:
            sections.update(record.get("sections", {}))
        tenant_rows.append({
            **tenant,
            "status": _tenant_status({r["status"] for r in records}),
            "scenario_counts": dict(sorted(Counter(r["status"] for r in records).items())),
            "findings": _findings(records),
            "sections": dict(sorted(sections.items())),
        })
    product_records = by_tenant.get(None, [])
    product_sections: dict[str, Any] = {}
    for record in product_records:
        product_sections.update(record.get("sections", {}))

    failed = [r for r in scenarios if r["status"] in FAILING]
    built = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "mode": mode,
        "mode_statement": MODE_STATEMENTS[mode],
        "commit": commit,
        "policy_digest": policy_digest,
        "gate": {
            "status": "failed" if failed or gate_problems else "passed",
            "problems": list(gate_problems),
            "failed_scenarios": [f"{r['feature']}: {r['scenario']}" + (f" [{r['tenant']}]" if r["tenant"] else "")
                                 for r in failed],
            "waivers_applied": sum(1 for w in waivers if w["status"] == "applied"),
        },
        "summary": summary,
        "requirement_summary": {status: requirement_counts.get(status, 0) for status in REQUIREMENT_STATUSES},
        "scenarios": scenarios,
        "requirements": requirement_rows,
        "product": {"findings": _findings(product_records), "sections": dict(sorted(product_sections.items()))},
        "tenants": tenant_rows,
        "evidence": evidence,
        "evidence_root": evidence_root,
        "waivers": list(waivers),
    }
    if controls is not None:
        built["controls"] = control_view.view(controls, requirement_rows)
    if shard is not None:  # only a shard's own report says so; a merged or unsharded one has no such key
        built["shard"] = shard
    return built


def _tenant_status(statuses: set[str]) -> str:
    if statuses & FAILING:
        return "failed"
    return "waived" if "waived" in statuses else "ok"


def _masked(record: dict) -> dict:
    return {
        **record,
        "reason": mask_text(record["reason"]) if record.get("reason") else record.get("reason"),
        "findings": [mask_finding(f) for f in record.get("findings", [])],
    }


def _findings(records: list[dict]) -> list[dict]:
    rows = {}
    for record in records:
        for finding in record.get("findings", []):
            row = {**finding, "scenario": record["scenario"], "requirements": record["requirements"]}
            rows[json.dumps(row, sort_keys=True)] = row
    return [rows[key] for key in sorted(rows)]


def json_text(data: Any) -> str:
    """The text of ``readiness.json`` and of the JSON files rendered from it: keys in the order built, two-space
    indents, non-ASCII as it is, one final newline.

    The same text as ``json.dumps(data, indent=2, ensure_ascii=False) + "\\n"``, but encoded in Rust: CPython's
    encoder runs in pure Python when it indents (0.5 s against 0.03 s for the 16 MB report of a 50-shard merge,
    docs/scale.md). Where they differ: a float under 1e-4 is written positionally (``0.00001``, not
    ``1e-05``), a NaN or infinity as ``null``, and an integer beyond 64 bits is refused. Keys that are not
    strings are written as strings, as json does.
    """
    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
    return orjson.dumps(data, option=options).decode()


def validate(report: dict) -> None:
    validate_data(report, schema("report/readiness"), Path("readiness.json"), ReadinessError)


def start_validation(report: dict) -> Callable[[], None]:
    """``validate`` on another core (see ``overlap``); the returned function waits and raises what it found."""
    return overlap.start(lambda: validate(report))


def render(report: dict, template: str) -> str:
    return templates.environment().get_template(template).render(report=report)


def write(report: dict, out_dir: Path | str, features_root: Path | str | None = None,
          validated: Callable[[], None] | None = None) -> list[Path]:
    """Write readiness.json, .md and .html and the feature pages (``features/``, see ``livingdoc``);
    append the Markdown to ``$GITHUB_STEP_SUMMARY`` when CI sets it.

    ``features_root`` is the folder the report's feature paths are relative to (default: the working directory);
    ``validated`` a validation of this report already under way (``start_validation``).
    """
    validated = validated or start_validation(report)  # checked on another core while this one renders
    # The feature pages render on another core as well: a third of the rendering for an agency's report.
    feature_pages = overlap.start(lambda: livingdoc.render(report, templates.environment(), features_root))
    try:
        markdown = render(report, "readiness.md.j2")
        documents = {"readiness.json": json_text(report),
                     "readiness.md": markdown, "readiness.html": render(report, "readiness.html.j2")}
        pages = feature_pages()
    except Exception:
        validated()  # a report off its schema is named as such, not by the template it broke
        raise
    validated()  # raises before anything is written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in documents.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    written += livingdoc.save(pages, out_dir)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(markdown)
    return written


def load(path: Path | str) -> dict:
    """A readiness.json written earlier, checked against the report schema."""
    report = read_json(Path(path))
    validate_data(report, schema("report/readiness"), Path(path), ReadinessError)
    return report
