"""Scenario titles as the features state them, found by their steps: a reviewer may reword a title, and no test
breaks (the steps are bound to step definitions, so their wording is the stable part)."""

from __future__ import annotations

from pathlib import Path

from readiness.core.features import parse_feature

FEATURES = Path(__file__).resolve().parent.parent / "features"


def _scenarios(node: dict):
    for child in node.get("children", []):
        if "scenario" in child:
            yield child["scenario"]
        elif "rule" in child:
            yield from _scenarios(child["rule"])


def title(feature: str, *steps: str) -> str:
    """The title of the one scenario (or outline) of ``features/<feature>`` that has every step in ``steps``."""
    document, _ = parse_feature(FEATURES / feature)
    found = [scenario["name"] for scenario in _scenarios(document["feature"])
             if all(any(step["text"] == text for step in scenario["steps"]) for text in steps)]
    assert len(found) == 1, f"{feature}: {len(found)} scenarios have the steps {steps}: {found}"
    return found[0]


def outline_row(report: dict, title: str, step: str) -> dict:
    """The report's row of outline ``title`` whose steps ran ``step`` (an Examples row's step, filled in)."""
    rows = [row for row in report["scenarios"]
            if row["scenario"] == title and any(ran["name"] == step for ran in row["steps"])]
    assert len(rows) == 1, f"{len(rows)} rows of {title!r} ran {step!r}"
    return rows[0]
