"""Runbooks (RUNBOOK-SUPPORT): one per failure mode, with response windows, and every finding routed to one.

Every readiness module that raises findings declares ``FINDING_KINDS`` (kind -> runbook id or None);
``FINDING_MODULES`` lists those modules, and ``finding_kind_routes`` reads their declarations.
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from types import ModuleType
from typing import Iterable

from readiness.core.findings import Finding

FINDING_KINDS: dict[str, str | None] = {
    "runbook-missing": None,
    "runbook-incomplete": None,
    "runbook-window-invalid": None,
    "finding-kind-without-runbook": None,
}

POLICY = "runbooks"
# The failure modes the partner support model must cover (ids shared with every concern that routes to them).
FAILURE_MODES = {
    "failed-sync": "failed sync or undeliverable handoff",
    "disconnect": "disconnect, revoked or expired authorization, failed eligibility",
    "drift-conflict": "drift conflict",
    "attribution-mismatch": "attribution mismatch",
}
CONTENT = ("trigger", "detection", "owner", "customer_communication", "steps")
WINDOWS = ("acknowledge", "resolve")
_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$")


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration in days, hours and minutes (``P1D``, ``PT4H``, ``P1DT2H30M``); None if not one."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def _where(policies, parts: list) -> str:
    line = policies.line_of(POLICY, parts) or 1
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return f"{POLICY}.yaml:{line} {key}"


def runbook_ids(policies) -> set[str]:
    return {r["id"] for r in policies[POLICY]["runbooks"]}


def coverage_problems(policies) -> list[Finding]:
    """Every failure mode has a runbook with its content and positive windows (acknowledge before resolve)."""
    runbooks = policies[POLICY]["runbooks"]
    found = [
        Finding("runbook-missing", f"{POLICY}.yaml runbooks", "blocker", None,
                f"no runbook for {mode!r} ({text})")
        for mode, text in FAILURE_MODES.items() if mode not in {r["id"] for r in runbooks}
    ]
    for index, runbook in enumerate(runbooks):
        where = _where(policies, ["runbooks", index])
        for key in CONTENT:
            if not runbook.get(key):
                found.append(Finding("runbook-incomplete", where, "blocker", None,
                                     f"runbook {runbook['id']} has no {key}"))
        windows = runbook.get("windows") or {}
        durations = {}
        for key in WINDOWS:
            duration = parse_duration(windows.get(key, ""))
            if duration is None or duration <= timedelta(0):
                found.append(Finding("runbook-window-invalid", where, "blocker", None,
                                     f"runbook {runbook['id']} has no positive {key} window "
                                     f"(got {windows.get(key)!r}; write an ISO 8601 duration such as PT4H)"))
            else:
                durations[key] = duration
        if len(durations) == 2 and durations["acknowledge"] > durations["resolve"]:
            found.append(Finding("runbook-window-invalid", where, "blocker", None,
                                 f"runbook {runbook['id']} must be acknowledged before it is resolved"))
    return found


# Every module that reports findings, registered here in sight rather than discovered by walking the
# package: a new concern adds its module to this list, and the traceability audit then checks its kinds.
FINDING_MODULES = (
    "readiness.access.matrix",
    "readiness.access.packages",
    "readiness.access.runbooks",
    "readiness.boundaries.claims",
    "readiness.boundaries.credentials",
    "readiness.boundaries.data_boundaries",
    "readiness.boundaries.screenshots",
    "readiness.boundaries.sensitive",
    "readiness.gate.waivers",
    "readiness.mapping.attribution",
    "readiness.mapping.drift",
    "readiness.mapping.review",
    "readiness.report.controls",
    "readiness.sandbox.protocol",
    "readiness.sync.handoff",
    "readiness.sync.queue",
)


def readiness_modules() -> list[ModuleType]:
    """Every module registered in FINDING_MODULES (imported), in name order."""
    return [importlib.import_module(name) for name in FINDING_MODULES]


def finding_kind_routes(modules: Iterable[ModuleType] | None = None) -> dict[str, tuple[str, str | None]]:
    """kind -> (declaring module, runbook id or None), over every module that declares FINDING_KINDS."""
    routes = {}
    for module in readiness_modules() if modules is None else modules:
        for kind, runbook in getattr(module, "FINDING_KINDS", {}).items():
            routes[kind] = (module.__name__, runbook)
    return dict(sorted(routes.items()))


def routing_problems(policies, routes: dict[str, tuple[str, str | None]]) -> list[Finding]:
    """Every finding kind that names a runbook names one that exists."""
    known = runbook_ids(policies)
    return [
        Finding("finding-kind-without-runbook", f"{module} FINDING_KINDS[{kind!r}]", "blocker", None,
                f"finding kind {kind} is routed to runbook {runbook!r}, which {POLICY}.yaml does not define")
        for kind, (module, runbook) in routes.items() if runbook is not None and runbook not in known
    ]


def finding_problems(findings: Iterable[dict], policies, routes: dict | None = None) -> list[str]:
    """Every finding a run reports has a kind some module declares in ``FINDING_KINDS`` and, when it names a
    runbook, one that exists: a finding the runbook check never saw cannot slip into the report."""
    routes = finding_kind_routes() if routes is None else routes
    known = runbook_ids(policies)
    problems = set()
    for finding in findings:
        kind, runbook = finding["kind"], finding.get("runbook")
        if kind not in routes:
            problems.add(f"finding kind {kind} is reported, but no readiness module declares it in FINDING_KINDS")
        elif runbook is not None and runbook not in known:
            problems.add(f"finding kind {kind} is routed to runbook {runbook!r}, which {POLICY}.yaml does not define")
    return sorted(problems)


def audit_findings(gate, written) -> list[str]:
    """The ``OUTPUT_AUDITS`` entry: the findings of every scenario the report carries."""
    return finding_problems((f for record in gate.records.values() for f in record.get("findings", [])),
                            gate.policies)


def window_text(duration: str) -> str:
    """``PT4H`` -> ``4 hours``, for documents people read."""
    delta = parse_duration(duration)
    if delta is None:
        return duration
    days, seconds = delta.days, delta.seconds
    parts = [(days, "day"), (seconds // 3600, "hour"), (seconds % 3600 // 60, "minute")]
    return ", ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n) or "0 minutes"
