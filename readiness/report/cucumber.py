"""Cucumber JSON (cucumber-jvm's form) from the report's step results, complete under pytest-xdist too.

pytest-bdd's own ``--cucumberjson`` writes ``[]`` when xdist runs the scenarios; the report's step results survive
xdist, so this file is built from them, and a serial run and a parallel run give the same bytes. Statuses map to
cucumber's: a pending (sandbox) scenario's steps are *pending*; a waived scenario keeps its failed step as
*skipped*, tagged ``@waived``, so no cucumber tool shows it as passed; a simulator dry run is tagged ``@dry-run``.
"""

from __future__ import annotations

import re
from pathlib import Path

from readiness.core import features

STEP_STATUSES = {"passed": "passed", "failed": "failed", "not-run": "skipped"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _outline(path: Path) -> tuple[dict, dict[int, list[int]]]:
    """The Gherkin feature and, per scenario line, the lines of its steps (backgrounds first, as pytest-bdd runs)."""
    document, _ = features.parse_feature(path)
    feature = document["feature"]
    lines: dict[int, list[int]] = {}

    def walk(children, background: list[int]):
        for child in children:
            if "background" in child:
                background = background + [s["location"]["line"] for s in child["background"]["steps"]]
            elif "rule" in child:
                walk(child["rule"]["children"], background)
            elif "scenario" in child:
                scenario = child["scenario"]
                lines[scenario["location"]["line"]] = background + [s["location"]["line"] for s in scenario["steps"]]

    walk(feature["children"], [])
    return feature, lines


def _resolve(feature: str, features_dir: Path) -> Path:
    """The report's feature path is relative to the gate's working directory; else to the features folder's parent."""
    here = Path(feature)
    return here if here.is_file() else Path(features_dir).parent / feature


def _steps(record: dict, step_lines: list[int]) -> list[dict]:
    rows = []
    for index, step in enumerate(record["steps"]):
        status = STEP_STATUSES[step["status"]]
        result: dict = {"status": status, "duration": 0}
        if record["status"] == "pending":
            result = {"status": "pending", "duration": 0, "error_message": record["reason"] or "pending"}
        elif status == "failed":
            result["error_message"] = record["reason"] or "failed"
            if record["status"] == "waived":
                result["status"] = "skipped"
        rows.append({"keyword": step["keyword"].strip() + " ", "name": step["name"],
                     "line": step_lines[index] if index < len(step_lines) else record["line"],
                     "match": {"location": f"{record['feature']}:{record['line']}"}, "result": result})
    if not rows and record["status"] in ("pending", "failed"):  # never ran a step: say why on the scenario line
        rows.append({"keyword": "* ", "name": record["status"], "line": record["line"],
                     "result": {"status": "pending" if record["status"] == "pending" else "failed", "duration": 0,
                                "error_message": record["reason"] or record["status"]}})
    return rows


def render(built: dict, features_dir: Path) -> list[dict]:
    documents: dict[str, dict] = {}
    for index, record in enumerate(built["scenarios"]):
        entry = documents.get(record["feature"])
        if entry is None:
            feature, lines = _outline(_resolve(record["feature"], features_dir))
            entry = documents[record["feature"]] = {
                "uri": record["feature"], "id": _slug(feature["name"]), "keyword": feature["keyword"],
                "name": feature["name"], "description": feature["description"].strip(),
                "line": feature["location"]["line"],
                "tags": [{"name": t["name"], "type": "Tag",
                          "location": {"line": t["location"]["line"], "column": t["location"]["column"]}}
                         for t in feature["tags"]],
                "elements": [], "_lines": lines,
            }
        tags = [f"@{t}" for t in record["tags"]]
        tags += ["@waived"] if record["status"] == "waived" else []
        tags += ["@dry-run"] if record["status"].startswith("dry-run") else []
        name = record["scenario"] + (f" [{record['tenant']}]" if record["tenant"] else "")
        entry["elements"].append({
            "id": f"{entry['id']};{_slug(name)};{index}",
            "keyword": "Scenario", "type": "scenario", "name": name, "description": "", "line": record["line"],
            "tags": [{"name": t} for t in sorted(tags)],
            "steps": _steps(record, entry["_lines"].get(record["line"], [])),
        })
    for entry in documents.values():
        del entry["_lines"]
    return [documents[uri] for uri in sorted(documents)]
