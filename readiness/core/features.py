"""Feature files as data, parsed with Cucumber's own Gherkin parser, and the traceability rules over them.

A reviewer reads the features; this module makes sure what they read is what
runs: every requirement has scenarios, every scenario names requirements, every
step is bound to a definition and every definition is used.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from gherkin.errors import CompositeParserException, ParserException
from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler

from readiness.core.errors import ReadinessError, relative

REQ_PREFIX = "req-"
PROTOCOL_PREFIX = "sbx-"
SANDBOX_TAG = "sandbox"
PER_TENANT_TAG = "per-tenant"

_STEP_TYPES = {"Context": "given", "Action": "when", "Outcome": "then"}


@dataclass(frozen=True)
class StepSpec:
    type: str  # given | when | then (And/But resolved)
    text: str


@dataclass
class ScenarioSpec:
    feature: str  # path relative to the working directory, e.g. features/claims.feature
    name: str
    line: int
    tags: tuple[str, ...]
    steps: list[StepSpec] = field(default_factory=list)

    @property
    def requirements(self) -> list[str]:
        return sorted({t[len(REQ_PREFIX):] for t in self.tags if t.startswith(REQ_PREFIX)})

    @property
    def protocol_tests(self) -> list[str]:
        return sorted({t[len(PROTOCOL_PREFIX):] for t in self.tags if t.startswith(PROTOCOL_PREFIX)})

    @property
    def is_sandbox(self) -> bool:
        return SANDBOX_TAG in self.tags

    @property
    def where(self) -> str:
        return f"{self.feature}:{self.line}"


def parse_feature(path: Path) -> tuple[dict, list[ScenarioSpec]]:
    """The Gherkin document and one ScenarioSpec per pickle (each Examples row is its own scenario).

    The document is shared between callers of the same text: read it, never change it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadinessError(path, f"cannot read feature: {exc}") from None
    try:
        parsed, pickles = _parsed(text)
    except (CompositeParserException, ParserException) as exc:
        first = exc.errors[0] if isinstance(exc, CompositeParserException) else exc
        line = first.location.get("line") if getattr(first, "location", None) else None
        raise ReadinessError(path, f"invalid Gherkin: {str(first).split(': ', 1)[-1]}", line=line) from None
    document = {**parsed, "uri": relative(path)}
    return document, [ScenarioSpec(document["uri"], name, line, tags, list(steps))
                      for name, line, tags, steps in pickles]


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[dict, tuple]:
    # Each text is parsed once per process: a gate run reads every feature three times (its scenarios, the living
    # documentation, cucumber JSON), and the project's own tests run the gate again and again over the same ones.
    document = Parser().parse(text)
    pickles = []
    for pickle in Compiler().compile({**document, "uri": ""}):
        steps, previous = [], "given"
        for step in pickle["steps"]:
            previous = _STEP_TYPES.get(step["type"], previous)
            steps.append(StepSpec(previous, step["text"]))
        tags = tuple(sorted({t["name"].lstrip("@") for t in pickle["tags"]}))
        pickles.append((pickle["name"], pickle["location"]["line"], tags, tuple(steps)))
    return document, tuple(pickles)


def feature_files(features_dir: Path) -> list[Path]:
    return sorted(Path(features_dir).rglob("*.feature"))


def load_scenarios(features_dir: Path) -> list[ScenarioSpec]:
    return [spec for path in feature_files(features_dir) for spec in parse_feature(path)[1]]


@dataclass(frozen=True)
class TraceProblem:
    kind: str  # requirement-without-scenario | scenario-without-requirement | unknown-requirement | ...
    subject: str
    detail: str


def trace(
    scenarios: Iterable[ScenarioSpec], requirements: list[dict], protocol_tests: list[dict]
) -> list[TraceProblem]:
    """Traceability both ways, and every sandbox scenario tied to a protocol test in the catalog."""
    scenarios = list(scenarios)
    known = {r["id"]: r for r in requirements}
    protocol_ids = {t["id"] for t in protocol_tests}
    covered: set[str] = set()
    problems = []
    for spec in scenarios:
        if not spec.requirements:
            problems.append(TraceProblem("scenario-without-requirement", spec.where,
                                         f'scenario "{spec.name}" carries no @req-<ID> tag'))
        for req in spec.requirements:
            if req in known:
                covered.add(req)
            else:
                problems.append(TraceProblem("unknown-requirement", spec.where,
                                             f'scenario "{spec.name}" names unknown requirement @req-{req}'))
        if spec.is_sandbox and not spec.protocol_tests:
            problems.append(TraceProblem("sandbox-without-protocol-test", spec.where,
                                         f'@sandbox scenario "{spec.name}" names no @sbx-<ID> protocol test'))
        for test_id in spec.protocol_tests:
            if test_id not in protocol_ids:
                problems.append(TraceProblem("unknown-protocol-test", spec.where,
                                             f'scenario "{spec.name}" names unknown protocol test @sbx-{test_id}'))
            if not spec.is_sandbox:
                problems.append(TraceProblem("protocol-test-not-sandbox", spec.where,
                                             f'scenario "{spec.name}" names @sbx-{test_id} but is not tagged @sandbox'))
    for req_id, req in sorted(known.items()):
        if req_id not in covered and not req.get("planned"):
            problems.append(TraceProblem("requirement-without-scenario", req_id,
                                         f"requirement {req_id} is not planned but no scenario carries @req-{req_id}"))
    return problems


@dataclass(frozen=True)
class StepDefinition:
    type: str | None  # given | when | then, or None for a step of any type
    pattern: str
    where: str
    matches: Callable[[str], bool]


def audit_steps(
    scenarios: Iterable[ScenarioSpec], definitions: list[StepDefinition]
) -> tuple[list[str], list[StepDefinition]]:
    """Gherkin steps no definition matches, and definitions no Gherkin step uses."""
    used: set[int] = set()
    missing: dict[tuple[str, str], str] = {}
    judged: set[tuple[str, str]] = set()  # scenarios repeat steps: each distinct step is matched once
    for spec in scenarios:
        for step in spec.steps:
            if (step.type, step.text) in judged:
                continue
            judged.add((step.type, step.text))
            hits = [i for i, d in enumerate(definitions) if d.type in (None, step.type) and d.matches(step.text)]
            used.update(hits)
            if not hits:
                missing[step.type, step.text] = spec.where
    missing_lines = [f"{where}: {kind.capitalize()} {text}" for (kind, text), where in sorted(missing.items())]
    unused = [d for i, d in enumerate(definitions) if i not in used]
    return missing_lines, unused
