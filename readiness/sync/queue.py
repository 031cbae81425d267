"""Sync queue: the state machine of a lead's handoff to ServiceTitan, driven by ``policies/sync-queue.yaml``.

The machine is pure: ``apply(item, event, policy)`` returns the next item or raises
``IllegalTransition``; nothing here opens a connection or reads a clock. The offline
product only ever creates items (``intake``) and lets operators act on them; the
future delivery loop (``deliver_due``) takes the delivery as an injected callable,
so there is no network path unless a caller hands one in.

Fixture snapshots (``queue/sync-queue.jsonl``) are checked by ``check_snapshot``:
every history follows the allowed transitions in time order, retry counts respect
the policy, every review or blocked item names its runbook, every manual completion
names the operator role and evidence that exists under ``evidence/``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable

from readiness.core.documents import iter_json_lines, schema, validate_data
from readiness.core.errors import TenantDataError
from readiness.core.findings import Finding

FINDING_KINDS: dict[str, str | None] = {
    # A snapshot that breaks the queue's own rules: the failed-sync runbook repairs the item.
    "queue-illegal-transition": "failed-sync",
    "queue-time-order": "failed-sync",
    "queue-state-mismatch": "failed-sync",
    "queue-unknown-reason": "failed-sync",
    "queue-retry-limit": "failed-sync",
    "queue-exhausted-not-blocked": "failed-sync",
    "queue-runbook-missing": "failed-sync",
    "queue-manual-evidence-missing": "failed-sync",
    # A delivery while offline is the product crossing its boundary: fixed by changing the product.
    "queue-processed-offline": None,
    # Items an operator must act on, as the report's operator view lists them.
    "handoff-undeliverable": "failed-sync",
    "handoff-disconnected": "disconnect",
    "handoff-in-review": "drift-conflict",
}

# Plain-language names of the snapshot rules, as the features say them.
SNAPSHOT_RULES: dict[str, str] = {
    "a change of state the policy does not allow": "queue-illegal-transition",
    "a history that goes back in time": "queue-time-order",
    "a state that differs from its history": "queue-state-mismatch",
    "a reason the policy does not define": "queue-unknown-reason",
    "more attempts than the retry policy allows": "queue-retry-limit",
    "used-up retries without being blocked": "queue-exhausted-not-blocked",
    "a review or blocked state without its runbook": "queue-runbook-missing",
    "a manual completion without operator role or evidence": "queue-manual-evidence-missing",
    "a delivery or delivery attempt while the tenant was never connected": "queue-processed-offline",
}

OPERATOR_STATES = ("review", "blocked")
_SEVERITY = {"review": "minor", "blocked": "major"}


class IllegalTransition(ValueError):
    """An event the policy does not allow in the item's current state."""


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- the policy --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]
    when: str | None = None


@dataclass(frozen=True)
class QueuePolicy:
    states: dict[str, dict]
    initial: dict[str, tuple[str, ...]]  # state -> who may create an item in it
    connection_actors: tuple[str, ...]
    transitions: tuple[Transition, ...]
    retry: dict[str, Any]
    reasons: dict[str, dict]
    offline: dict[str, Any]

    @classmethod
    def from_policy(cls, data: dict) -> "QueuePolicy":
        return cls(
            states=data["states"],
            initial={entry["state"]: tuple(entry["by"]) for entry in data["initial"]},
            connection_actors=tuple(data["connection_actors"]),
            transitions=tuple(
                Transition(t["event"], tuple(t["from"]), t["to"], tuple(t["by"]), t.get("when"))
                for t in data["transitions"]
            ),
            retry=data["retry"],
            reasons=data["reasons"],
            offline=data["offline"],
        )

    @classmethod
    def from_policies(cls, policies) -> "QueuePolicy":
        """The policy from a PolicySet, with its cross-references checked (a located PolicyError otherwise)."""
        data = policies["sync-queue"]
        for problem_parts, message in policy_problems(data):
            raise policies.error("sync-queue", problem_parts, message)
        return cls.from_policy(data)

    @property
    def max_attempts(self) -> int:
        return self.retry["max_attempts"]

    def reason_runbook(self, reason: str) -> str | None:
        return self.reasons.get(reason, {}).get("runbook")

    def edges(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """Distinct (from, to, event, actors) edges of the graph, in policy order."""
        seen, edges = set(), []
        for t in self.transitions:
            for source in t.sources:
                key = (source, t.target, t.event)
                if key not in seen:
                    seen.add(key)
                    edges.append((source, t.target, t.event, t.actors))
        return edges

    def allows(self, source: str, target: str, actor: str) -> bool:
        return any(source in t.sources and t.target == target and actor in t.actors for t in self.transitions)


def policy_problems(data: dict) -> Iterable[tuple[list, str]]:
    """Cross-reference problems of a schema-valid sync-queue policy: (key path, message)."""
    states, actors, reasons = data["states"], data["actors"], data["reasons"]
    for actor in data["connection_actors"]:
        if actor not in actors:
            yield ["connection_actors"], f"unknown actor {actor!r}"
    for i, entry in enumerate(data["initial"]):
        if entry["state"] not in states:
            yield ["initial", i, "state"], f"unknown state {entry['state']!r}"
        for actor in entry["by"]:
            if actor not in actors:
                yield ["initial", i, "by"], f"unknown actor {actor!r}"
    for i, t in enumerate(data["transitions"]):
        for state in [*t["from"], t["to"]]:
            if state not in states:
                yield ["transitions", i], f"unknown state {state!r}"
        for actor in t["by"]:
            if actor not in actors:
                yield ["transitions", i, "by"], f"unknown actor {actor!r}"
        if any(states.get(s, {}).get("terminal") for s in t["from"]):
            yield ["transitions", i, "from"], "a terminal state cannot be left"
    for name, reason in reasons.items():
        if reason["state"] not in states:
            yield ["reasons", name, "state"], f"unknown state {reason['state']!r}"
        if reason["state"] in OPERATOR_STATES:
            if "runbook" not in reason or "finding" not in reason:
                yield ["reasons", name], f"a reason for {reason['state']} must name its runbook and finding"
            elif FINDING_KINDS.get(reason["finding"], "") != reason["runbook"]:
                yield ["reasons", name, "finding"], (
                    f"finding {reason['finding']!r} is not one the queue reports with runbook {reason['runbook']!r}"
                )
    for state in states:
        if not any(t["to"] == state for t in data["transitions"]) and not any(
            e["state"] == state for e in data["initial"]
        ):
            yield ["states", state], "no transition or intake reaches this state"
    for state in OPERATOR_STATES:
        if state in states and not any(r["state"] == state for r in reasons.values()):
            yield ["reasons"], f"no reason puts an item in {state}"
    if not data["retry"]["backoff_seconds"]:  # pragma: no cover - the schema requires one value
        yield ["retry", "backoff_seconds"], "at least one wait is needed"


# --- items and events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    state: str
    at: datetime
    by: str
    reason: str | None  # optional in a snapshot; the machine always gives one
    status: int | None = None
    retry_after: float | None = None

    def to_record(self) -> dict:
        record = {"state": self.state, "at": format_time(self.at), "by": self.by}
        if self.reason is not None:
            record["reason"] = self.reason
        if self.status is not None:
            record["status"] = self.status
        if self.retry_after is not None:
            record["retry_after"] = self.retry_after
        return record


@dataclass(frozen=True)
class QueueItem:
    item_id: str
    lead_id: str
    external_id: str
    state: str
    history: tuple[Entry, ...]
    attempts: int = 0
    runbook: str | None = None
    next_attempt_at: datetime | None = None
    booking_id: int | None = None
    operator_role: str | None = None
    evidence: str | None = None

    @property
    def reason(self) -> str | None:
        return self.history[-1].reason

    @property
    def since(self) -> datetime:
        return self.history[-1].at

    @classmethod
    def from_record(cls, record: dict) -> "QueueItem":
        manual = record.get("manual_complete") or {}
        return cls(
            item_id=record["item_id"],
            lead_id=record["lead_id"],
            external_id=record["external_id"],
            state=record["state"],
            history=tuple(
                Entry(e["state"], parse_time(e["at"]), e["by"], e.get("reason"), e.get("status"), e.get("retry_after"))
                for e in record["history"]
            ),
            attempts=record["attempts"],
            runbook=record.get("runbook"),
            next_attempt_at=parse_time(record["next_attempt_at"]) if record.get("next_attempt_at") else None,
            booking_id=record.get("booking_id"),
            operator_role=manual.get("operator_role"),
            evidence=manual.get("evidence"),
        )

    def to_record(self) -> dict:
        record: dict[str, Any] = {
            "item_id": self.item_id,
            "lead_id": self.lead_id,
            "external_id": self.external_id,
            "state": self.state,
            "history": [e.to_record() for e in self.history],
            "attempts": self.attempts,
        }
        if self.runbook:
            record["runbook"] = self.runbook
        if self.next_attempt_at:
            record["next_attempt_at"] = format_time(self.next_attempt_at)
        if self.booking_id is not None:
            record["booking_id"] = self.booking_id
        if self.operator_role is not None or self.evidence is not None:
            record["manual_complete"] = {"operator_role": self.operator_role, "evidence": self.evidence}
        return record


@dataclass(frozen=True)
class Event:
    name: ClassVar[str]
    by: ClassVar[str]
    at: datetime


@dataclass(frozen=True)
class DeliveryAttemptFailed(Event):
    """ServiceTitan did not accept a delivery attempt (HTTP status, and the Retry-After it sent, if any)."""

    name: ClassVar[str] = "delivery-attempt-failed"
    by: ClassVar[str] = "retry-policy"
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Delivered(Event):
    name: ClassVar[str] = "delivered"
    by: ClassVar[str] = "delivery"
    booking_id: int | None = None


@dataclass(frozen=True)
class DriftDetected(Event):
    name: ClassVar[str] = "drift-detected"
    by: ClassVar[str] = "drift-check"
    reason: str = "mapping-drifted"


@dataclass(frozen=True)
class AuthorizationRevoked(Event):
    name: ClassVar[str] = "authorization-revoked"
    by: ClassVar[str] = "authorization"


@dataclass(frozen=True)
class OperatorRequeue(Event):
    name: ClassVar[str] = "operator-requeue"
    by: ClassVar[str] = "operator"
    reason: str = "mapping-resolved"


@dataclass(frozen=True)
class OperatorComplete(Event):
    name: ClassVar[str] = "operator-complete"
    by: ClassVar[str] = "operator"
    operator_role: str = ""
    evidence: str = ""


EVENT_TYPES: tuple[type[Event], ...] = (
    DeliveryAttemptFailed, Delivered, DriftDetected, AuthorizationRevoked, OperatorRequeue, OperatorComplete,
)


def intake(item_id: str, lead_id: str, external_id: str, at: datetime, policy: QueuePolicy,
           review_reason: str | None = None) -> QueueItem:
    """A new item as the website's form handler creates it: queued, or in review with the reason."""
    state = "review" if review_reason else "queued"
    reason = review_reason or "web-form-submitted"
    if "intake" not in policy.initial.get(state, ()):
        raise IllegalTransition(f"the policy does not let intake create an item in {state}")
    _check_reason(reason, state, policy)
    return QueueItem(item_id, lead_id, external_id, state, (Entry(state, at, "intake", reason),),
                     runbook=policy.reason_runbook(reason))


def wait_seconds(attempts: int, retry_after: float | None, policy: QueuePolicy) -> float:
    """How long to wait after the ``attempts``-th failed attempt: the backoff, or a longer Retry-After, capped."""
    backoff = policy.retry["backoff_seconds"]
    wait = backoff[min(attempts, len(backoff)) - 1]
    if policy.retry["honour_retry_after"] and retry_after is not None and math.isfinite(retry_after):
        wait = max(wait, retry_after)
    return min(wait, policy.retry["max_wait_seconds"])


def _failure_outcome(item: QueueItem, event: DeliveryAttemptFailed, policy: QueuePolicy) -> tuple[str, str]:
    """(`when` of the transition, reason) for a failed attempt."""
    if event.status is not None and event.status not in policy.retry["retryable_statuses"]:
        return "not-retryable", "rejected-by-servicetitan"
    if item.attempts + 1 >= policy.max_attempts:
        return "attempts-exhausted", "retries-exhausted"
    return "attempts-left", "delivery-failed"


def _event_reason(item: QueueItem, event: Event, policy: QueuePolicy) -> tuple[str | None, str]:
    if isinstance(event, DeliveryAttemptFailed):
        return _failure_outcome(item, event, policy)
    if isinstance(event, (DriftDetected, OperatorRequeue)):
        return None, event.reason
    return None, {
        Delivered: "booking-created",
        AuthorizationRevoked: "authorization-revoked",
        OperatorComplete: "entered-in-servicetitan-by-hand",
    }[type(event)]


def _check_reason(reason: str, state: str, policy: QueuePolicy) -> None:
    defined = policy.reasons.get(reason)
    if defined is None or defined["state"] != state:
        raise IllegalTransition(f"reason {reason!r} does not put an item in {state}")


def apply(item: QueueItem, event: Event, policy: QueuePolicy) -> QueueItem:
    """The item after ``event``; ``IllegalTransition`` when the policy does not allow it."""
    if event.at < item.since:
        raise IllegalTransition(f"{item.item_id}: event at {format_time(event.at)} is before the last change")
    when, reason = _event_reason(item, event, policy)
    transition = next(
        (t for t in policy.transitions
         if t.event == event.name and item.state in t.sources and event.by in t.actors and t.when in (None, when)),
        None,
    )
    if transition is None:
        raise IllegalTransition(f"{item.item_id}: {event.name} is not allowed in {item.state}")
    target = transition.target
    _check_reason(reason, target, policy)
    if isinstance(event, OperatorComplete) and not (event.operator_role and event.evidence):
        raise IllegalTransition(f"{item.item_id}: a manual completion names the operator role and its evidence")
    failed = isinstance(event, DeliveryAttemptFailed)
    attempts = item.attempts + 1 if failed else item.attempts
    entry = Entry(target, event.at, event.by, reason,
                  status=event.status if failed else None, retry_after=event.retry_after if failed else None)
    next_attempt = None
    if target == "retrying":
        next_attempt = event.at + timedelta(seconds=wait_seconds(attempts, event.retry_after, policy))
    changes: dict[str, Any] = {
        "state": target, "history": item.history + (entry,), "attempts": attempts,
        "runbook": policy.reason_runbook(reason), "next_attempt_at": next_attempt,
    }
    if isinstance(event, OperatorRequeue):
        changes["attempts"] = 0
    if isinstance(event, Delivered):
        changes["booking_id"] = event.booking_id
    if isinstance(event, OperatorComplete):
        changes |= {"operator_role": event.operator_role, "evidence": event.evidence}
    return replace(item, **changes)


# --- the future delivery loop (driven with an injected delivery; never called offline) --------------------


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt got back: accepted (with the booking id) or the HTTP status and Retry-After."""

    accepted: bool
    booking_id: int | None = None
    status: int | None = None
    retry_after: float | None = None


Deliver = Callable[[QueueItem], DeliveryResult]


def is_due(item: QueueItem, now: datetime) -> bool:
    if item.state == "queued":
        return True
    return item.state == "retrying" and (item.next_attempt_at is None or item.next_attempt_at <= now)


def deliver_due(items: Iterable[QueueItem], deliver: Deliver, policy: QueuePolicy, now: datetime) -> list[QueueItem]:
    """One pass of the delivery loop: each due item gets one attempt through ``deliver``; others are unchanged."""
    result = []
    for item in items:
        if is_due(item, now):
            outcome = deliver(item)
            event: Event = (Delivered(now, outcome.booking_id) if outcome.accepted
                            else DeliveryAttemptFailed(now, outcome.status, outcome.retry_after))
            item = apply(item, event, policy)
        result.append(item)
    return result


# --- fixture snapshots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotLine:
    line: int
    item: QueueItem


def load_snapshot(path: Path) -> list[SnapshotLine]:
    """Every item of a ``sync-queue.jsonl``, shape-checked; a malformed line raises TenantDataError with its line."""
    if not path.exists():
        return []
    lines = []
    for number, record in iter_json_lines(path, TenantDataError):
        # Which keys an item may carry is the queue envelope's finding (policies/envelopes.yaml), not a load error.
        validate_data(record, schema("tenant/queue-item"), path, TenantDataError, line_of=lambda _parts: number,
                      allow_unknown_keys=True)
        lines.append(SnapshotLine(number, QueueItem.from_record(record)))
    return lines


def tenant_snapshot(tenant) -> list[SnapshotLine]:
    """A tenant's ``queue/sync-queue.jsonl`` (see ``load_snapshot``), parsed once per tenant and run."""
    return tenant.derived("queue snapshot", lambda: load_snapshot(tenant.folder / "queue" / "sync-queue.jsonl"))


@dataclass
class SnapshotCheck:
    where: str  # relative file name used in finding subjects
    policy: QueuePolicy
    never_connected: bool
    evidence_dir: Path
    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, line: SnapshotLine, detail: str, severity: str = "major",
            runbook: str | None = "") -> None:
        self.findings.append(Finding(
            kind=kind, subject=f"{self.where}:{line.line} {line.item.item_id}", severity=severity,
            runbook=FINDING_KINDS[kind] if runbook == "" else runbook, detail=detail,
        ))

    def item(self, line: SnapshotLine) -> None:
        item, policy = line.item, self.policy
        first = item.history[0]
        if first.by not in policy.initial.get(first.state, ()):
            self.add("queue-illegal-transition", line, f"an item cannot start in {first.state} by {first.by}")
        for entry in item.history:
            if entry.reason is None:
                if entry.state in OPERATOR_STATES:
                    self.add("queue-unknown-reason", line, f"{entry.state} names no reason, so no runbook applies")
                continue
            defined = policy.reasons.get(entry.reason)
            if defined is None or defined["state"] != entry.state:
                self.add("queue-unknown-reason", line,
                         f"reason {entry.reason!r} is not one the policy defines for {entry.state}")
        for before, after in zip(item.history, item.history[1:]):
            if not policy.allows(before.state, after.state, after.by):
                self.add("queue-illegal-transition", line,
                         f"{before.state} -> {after.state} by {after.by} is not an allowed transition")
            if after.at <= before.at:
                self.add("queue-time-order", line,
                         f"{after.state} at {format_time(after.at)} is not after {format_time(before.at)}")
        if item.state != item.history[-1].state:
            self.add("queue-state-mismatch", line,
                     f"state {item.state} but its history ends in {item.history[-1].state}")
        if item.attempts > policy.max_attempts:
            self.add("queue-retry-limit", line,
                     f"{item.attempts} attempts, the retry policy allows {policy.max_attempts}")
        if item.state == "retrying" and item.attempts >= policy.max_attempts:
            self.add("queue-exhausted-not-blocked", line,
                     f"used all {policy.max_attempts} attempts but is still retrying instead of blocked")
        if item.state in OPERATOR_STATES and item.state == item.history[-1].state and item.reason:
            expected = policy.reason_runbook(item.reason)
            if not item.runbook or item.runbook != expected:
                self.add("queue-runbook-missing", line,
                         f"{item.state} for {item.reason} must name runbook {expected!r}, names {item.runbook!r}")
        if item.state == "manual-complete":
            self.manual_completion(line)
        if self.never_connected:
            online = sorted({e.by for e in item.history} & set(policy.connection_actors))
            if online or policy.states.get(item.state, {}).get("requires_connection"):
                self.add("queue-processed-offline", line,
                         f"{item.state} with changes by {', '.join(online) or 'delivery'} although the tenant "
                         "was never connected to ServiceTitan", severity="blocker")

    def manual_completion(self, line: SnapshotLine) -> None:
        item = line.item
        if not item.operator_role:
            self.add("queue-manual-evidence-missing", line, "manual completion names no operator role")
        if not item.evidence:
            self.add("queue-manual-evidence-missing", line, "manual completion cites no evidence file")
            return
        root = self.evidence_dir.parent
        cited = (root / item.evidence).resolve()
        if not (cited.is_file() and cited.is_relative_to(self.evidence_dir.resolve())):
            self.add("queue-manual-evidence-missing", line,
                     f"cited evidence {item.evidence} is not a file under evidence/")


def check_snapshot(lines: list[SnapshotLine], policy: QueuePolicy, *, never_connected: bool, evidence_dir: Path,
                   where: str = "queue/sync-queue.jsonl") -> list[Finding]:
    """Findings for every snapshot item that breaks the queue policy."""
    check = SnapshotCheck(where, policy, never_connected, evidence_dir)
    for line in lines:
        check.item(line)
    return check.findings


def tenant_problems(tenant, policy: QueuePolicy) -> list[Finding]:
    """``check_snapshot`` of a tenant's own snapshot, checked once per tenant and run: each rule's scenario takes
    its part (``findings_of``). Read-only, like everything ``derived``."""
    return tenant.derived("queue problems", lambda: check_snapshot(
        tenant_snapshot(tenant), policy, never_connected=never_connected(tenant.profile),
        evidence_dir=tenant.folder / "evidence"))


def operator_findings(lines: list[SnapshotLine], policy: QueuePolicy, *,
                      where: str = "queue/sync-queue.jsonl") -> list[Finding]:
    """One finding per item an operator must act on (review or blocked), with its reason's runbook."""
    found = []
    for line in lines:
        item = line.item
        reason = policy.reasons.get(item.reason, {})
        if item.state in OPERATOR_STATES and "finding" in reason:
            found.append(Finding(
                kind=reason["finding"], subject=f"{where}:{line.line} {item.item_id}",
                severity=_SEVERITY[item.state], runbook=reason["runbook"],
                detail=f"lead {item.lead_id} {item.state} since {format_time(item.since)} "
                       f"after {item.attempts} attempts: {reason['text']}",
            ))
    return found


def findings_of(found: Iterable[Finding], rule: str) -> list[Finding]:
    """The findings breaking one snapshot rule, named as the features name it."""
    kind = SNAPSHOT_RULES[rule]
    return [f for f in found if f.kind == kind]


# --- the operator view -------------------------------------------------------------------------------------


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def operator_view(items: list[QueueItem], policy: QueuePolicy) -> dict[str, Any]:
    """Counts by state and the items needing an operator, aged against the snapshot's latest change."""
    as_of = max((e.at for item in items for e in item.history), default=None)
    counts = Counter(item.state for item in items)
    attention = []
    for item in sorted(items, key=lambda i: (OPERATOR_STATES.index(i.state) if i.state in OPERATOR_STATES else 9,
                                              i.since, i.item_id)):
        if item.state not in OPERATOR_STATES:
            continue
        age = (as_of - item.since).total_seconds() if as_of else 0
        attention.append({
            "item_id": item.item_id, "lead_id": item.lead_id, "state": item.state, "reason": item.reason or "",
            "reason_text": policy.reasons.get(item.reason, {}).get("text", ""), "runbook": item.runbook,
            "attempts": item.attempts, "since": format_time(item.since), "age_seconds": int(age), "age": _age(age),
        })
    return {
        "as_of": format_time(as_of) if as_of else None,
        "total": len(items),
        # A list, not a mapping: the report keeps it in policy order (mappings come back sorted by key).
        "counts": [{"state": state, "count": counts.get(state, 0)} for state in policy.states],
        "attention": attention,
    }


def state_table(items: list[QueueItem], view: dict[str, Any]) -> str:
    """The command line's plain-text table of a tenant's queue."""
    header = ("ITEM", "LEAD", "STATE", "REASON", "RUNBOOK", "ATTEMPTS", "SINCE")
    rows = [header] + [
        (i.item_id, i.lead_id, i.state, i.reason or "-", i.runbook or "-", str(i.attempts), format_time(i.since))
        for i in items
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.append("")
    lines.append("counts: " + ", ".join(f"{row['state']} {row['count']}" for row in view["counts"]))
    for row in view["attention"]:
        lines.append(f"needs an operator: {row['item_id']} {row['state']} ({row['reason']}) "
                     f"runbook {row['runbook']}, for {row['age']} as of {view['as_of']}")
    return "\n".join(lines)


# --- the state diagram (inline SVG in the report, laid out here from the policy) ---------------------------

_NODE_W, _NODE_H = 124, 36
_GAP_X, _TOP_Y, _BOTTOM_Y, _ARC = 180, 170, 400, 30


def diagram(policy: QueuePolicy) -> dict[str, Any]:
    """Layout of the state graph: open states in a row (policy order), end states in a row below.

    Arcs between open states bend above the row when they go right and below when they go left,
    higher the farther they reach; a self-loop sits on top of its state; edges into an end state
    are straight, with one label per event beside the end state.
    """
    open_states = [n for n, s in policy.states.items() if not s.get("terminal")]
    end_states = [n for n, s in policy.states.items() if s.get("terminal")]
    width = _GAP_X * max(len(open_states), len(end_states), 1)
    position: dict[str, tuple[float, float]] = {}
    for row, y in ((open_states, _TOP_Y), (end_states, _BOTTOM_Y)):
        offset = (width - _GAP_X * len(row)) / 2 + _GAP_X / 2
        for index, name in enumerate(row):
            position[name] = (offset + index * _GAP_X, y)
    nodes = [{
        "id": name, "x": x, "y": y, "box_x": x - _NODE_W / 2, "box_y": y - _NODE_H / 2,
        "width": _NODE_W, "height": _NODE_H, "terminal": bool(policy.states[name].get("terminal")),
        "requires_connection": bool(policy.states[name].get("requires_connection")),
        "initial": name in policy.initial,
    } for name, (x, y) in position.items()]
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, target, event, _actors in policy.edges():
        grouped.setdefault((source, target), []).append(event)
    edges, labels_at_target = [], {}
    for (source, target), events in grouped.items():
        (x1, y1), (x2, y2) = position[source], position[target]
        half_h = _NODE_H / 2
        if source == target:
            bottom = y1 + half_h
            path = (f"M{x1 - 22:g},{bottom:g} C{x1 - 34:g},{bottom + 44:g} "
                    f"{x1 + 34:g},{bottom + 44:g} {x1 + 22:g},{bottom:g}")
            label = (x1, bottom + 48)
        elif y1 == y2:
            reach = abs(x2 - x1) / _GAP_X
            side = -1 if x2 > x1 else 1  # rightwards above the row, leftwards below it
            edge_y = y1 + side * half_h
            control_y = edge_y + side * 2 * _ARC * reach
            nudge = 10 * (1 if x2 > x1 else -1)
            path = f"M{x1 + nudge:g},{edge_y:g} Q{(x1 + x2) / 2:g},{control_y:g} {x2 - nudge:g},{edge_y:g}"
            label = ((x1 + x2) / 2, edge_y + side * _ARC * reach + (-4 - 11 * (len(events) - 1) if side < 0 else 14))
        else:
            down = 1 if y2 > y1 else -1
            path = f"M{x1:g},{y1 + down * half_h:g} L{x2:g},{y2 - down * half_h:g}"
            label = None
            for event in events:
                labels_at_target.setdefault((target, event), None)
        edges.append({"from": source, "to": target, "events": events, "path": path,
                      "label": None if label is None else {"x": round(label[0], 1), "y": round(label[1], 1),
                                                           "lines": events}})
    target_labels = []
    for index, (target, event) in enumerate(labels_at_target):
        x, y = position[target]
        stacked = sum(1 for t, _ in list(labels_at_target)[:index] if t == target)
        target_labels.append({"x": x + _NODE_W / 2 + 6, "y": y + _NODE_H / 2 + 14 + 12 * stacked, "text": event})
    return {"width": width, "height": _BOTTOM_Y + 50, "nodes": nodes, "edges": edges,
            "target_labels": target_labels}


def policy_view(policy: QueuePolicy) -> dict[str, Any]:
    """The policy as the report shows it: the diagram and its text alternative."""
    return {
        "diagram": diagram(policy),
        "states": [{"id": name, "text": state["text"], "terminal": bool(state.get("terminal")),
                    "requires_connection": bool(state.get("requires_connection"))}
                   for name, state in policy.states.items()],
        "transitions": [{"from": s, "to": t, "event": e, "by": list(a)} for s, t, e, a in policy.edges()],
        "retry": {"max_attempts": policy.max_attempts, "backoff_seconds": list(policy.retry["backoff_seconds"]),
                  "honour_retry_after": policy.retry["honour_retry_after"]},
    }


def never_connected(profile: dict) -> bool:
    """Revoked or expired tenants were connected once; only ``not-connected`` ones never were."""
    return profile["connection"]["status"] == "not-connected"
