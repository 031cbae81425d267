"""Readiness over time: what changed between two reports.

``diff(old, new)`` compares two ``readiness.json`` documents: scenarios whose status
moved, findings new and resolved per tenant, requirements whose coverage changed,
evidence files whose hash changed, waivers added, expired and removed. ``python -m readiness diff OLD NEW`` prints it as
Markdown and writes ``readiness-diff.md`` and ``readiness-diff.json``; the gate's
``--baseline PATH`` puts the same data in the HTML report.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from readiness.report import document

PRODUCT = None  # the tenant key of product-level findings


def _scenario_keys(built: dict) -> dict[tuple, dict]:
    """Scenarios by feature, name, tenant and steps (an Examples row's values), numbered when still equal:
    stable when lines move in a feature file."""
    seen: Counter[tuple] = Counter()
    keyed = {}
    for record in built["scenarios"]:
        base = (record["feature"], record["scenario"], record["tenant"] or "",
                tuple(step["name"] for step in record["steps"]))
        keyed[base + (seen[base],)] = record
        seen[base] += 1
    return keyed


def _status_moves(old: dict, new: dict) -> list[dict]:
    before, after = _scenario_keys(old), _scenario_keys(new)
    moves = []
    for key in sorted(before.keys() | after.keys()):
        was = before[key]["status"] if key in before else None
        now = after[key]["status"] if key in after else None
        if was != now:
            moves.append({"feature": key[0], "scenario": key[1], "tenant": key[2] or None, "old": was, "new": now})
    return moves


def _findings_by_tenant(built: dict) -> dict[str | None, dict[str, dict]]:
    groups: dict[str | None, dict[str, dict]] = {PRODUCT: {}}
    for finding in built["product"]["findings"]:
        groups[PRODUCT][json.dumps(finding, sort_keys=True)] = finding
    for tenant in built["tenants"]:
        groups[tenant["slug"]] = {json.dumps(f, sort_keys=True): f for f in tenant["findings"]}
    return groups


def _finding_changes(old: dict, new: dict) -> list[dict]:
    before, after = _findings_by_tenant(old), _findings_by_tenant(new)
    rows = []
    for tenant in sorted(before.keys() | after.keys(), key=lambda t: (t is not None, t or "")):
        was, now = before.get(tenant, {}), after.get(tenant, {})
        added = [now[k] for k in sorted(now.keys() - was.keys())]
        resolved = [was[k] for k in sorted(was.keys() - now.keys())]
        if added or resolved:
            rows.append({"tenant": tenant, "new": added, "resolved": resolved})
    return rows


def _requirement_changes(old: dict, new: dict) -> list[dict]:
    before = {r["id"]: r for r in old["requirements"]}
    after = {r["id"]: r for r in new["requirements"]}
    rows = []
    for req_id in sorted(before.keys() | after.keys()):
        was, now = before.get(req_id), after.get(req_id)
        old_scenarios = set(was["scenarios"]) if was else set()
        new_scenarios = set(now["scenarios"]) if now else set()
        old_status = was["status"] if was else None
        new_status = now["status"] if now else None
        if old_status != new_status or old_scenarios != new_scenarios:
            rows.append({
                "id": req_id, "old": old_status, "new": new_status,
                "scenarios_added": sorted(new_scenarios - old_scenarios),
                "scenarios_removed": sorted(old_scenarios - new_scenarios),
            })
    return rows


def _evidence_changes(old: dict, new: dict) -> dict[str, list]:
    before = {e["path"]: e["sha256"] for e in old["evidence"]}
    after = {e["path"]: e["sha256"] for e in new["evidence"]}
    return {
        "changed": [{"path": p, "old": before[p], "new": after[p]}
                    for p in sorted(before.keys() & after.keys()) if before[p] != after[p]],
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
    }


def _waiver_changes(old: dict, new: dict) -> dict[str, list]:
    """Waivers added, expired and removed, by tenant and id (reports before waivers existed have none)."""
    before = {(w["tenant"] or "", w["id"]): w for w in old.get("waivers", [])}
    after = {(w["tenant"] or "", w["id"]): w for w in new.get("waivers", [])}
    return {
        "added": [after[k] for k in sorted(after.keys() - before.keys())],
        "expired": [after[k] for k in sorted(after.keys()) if after[k]["status"] == "expired"
                    and (k not in before or before[k]["status"] != "expired")],
        "removed": [before[k] for k in sorted(before.keys() - after.keys())],
    }


def _identity(built: dict) -> dict[str, Any]:
    return {key: built[key] for key in ("generated_at", "commit", "policy_digest", "evidence_root")} | {
        "gate": built["gate"]["status"]}


def diff(old: dict, new: dict) -> dict[str, Any]:
    """Everything that changed from ``old`` to ``new`` (both readiness.json documents)."""
    changes = {
        "old": _identity(old),
        "new": _identity(new),
        "scenarios": _status_moves(old, new),
        "findings": _finding_changes(old, new),
        "requirements": _requirement_changes(old, new),
        "evidence": _evidence_changes(old, new),
        "waivers": _waiver_changes(old, new),
    }
    changes["empty"] = not (changes["scenarios"] or changes["findings"] or changes["requirements"]
                            or any(changes["evidence"].values()) or any(changes["waivers"].values()))
    return changes


def render_markdown(changes: dict) -> str:
    return document.render({"changes": changes}, "readiness-diff.md.j2")


def write(changes: dict, out_dir: Path | str) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "readiness-diff.json", out_dir / "readiness-diff.md"
    json_path.write_text(document.json_text(changes), encoding="utf-8")
    md_path.write_text(render_markdown(changes), encoding="utf-8")
    return [json_path, md_path]
