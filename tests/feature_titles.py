"""Scenario titles as the features state them, found by their tags and steps: a reviewer may reword a title, and
no test breaks (tags tie a scenario to the policies, and steps are bound to step definitions)."""

from __future__ import annotations

import functools
from pathlib import Path

from readiness.core.features import parse_feature

FEATURES = Path(__file__).resolve().parent.parent / "features"


def scenario_title(feature: str, *tags: str, step: str | tuple[str, ...] = "") -> str:
    """The title of the one scenario (or outline) of ``features/<feature>`` that carries every tag in ``tags``
    (its own, its rule's or its feature's, e.g. ``"req-CLAIM-APPROVAL"``) and has a step containing ``step``
    (each of them, given several).

    Tests name a scenario this way rather than by its title: a reviewer may reword a title, while tags tie it to
    the policies and step phrases to the step code."""
    wanted = (step,) if isinstance(step, str) else step
    found = [title for title, scenario_tags, steps in _scenarios(feature)
             if set(tags) <= scenario_tags and all(any(part in text for text in steps) for part in wanted)]
    assert len(found) == 1, f"{len(found)} scenarios of {feature} carry {tags} and a step with {step!r}: {found}"
    return found[0]


@functools.cache
def _scenarios(feature: str) -> list[tuple[str, set[str], list[str]]]:
    document, _ = parse_feature(FEATURES / feature)
    found = []

    def walk(node: dict, inherited: set[str]) -> None:
        tags = inherited | {tag["name"].lstrip("@") for tag in node.get("tags", [])}
        for child in node.get("children", []):
            if "rule" in child:
                walk(child["rule"], tags)
            elif "scenario" in child:
                scenario = child["scenario"]
                found.append((scenario["name"], tags | {t["name"].lstrip("@") for t in scenario["tags"]},
                              [s["text"] for s in scenario["steps"]]))

    walk(document["feature"], set())
    return found


def outline_row(report: dict, title: str, step: str) -> dict:
    """The report's row of outline ``title`` whose steps ran ``step`` (an Examples row's step, filled in)."""
    rows = [row for row in report["scenarios"]
            if row["scenario"] == title and any(ran["name"] == step for ran in row["steps"])]
    assert len(rows) == 1, f"{len(rows)} rows of {title!r} ran {step!r}"
    return rows[0]
