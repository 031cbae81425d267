"""Webhook receiver reference (WEBHOOK-INGEST): HMAC verification, replay window, idempotency, operator view.

A reference for the sandbox protocol, documented and reported as NOT production-ready:
the offline product has no webhook endpoint, and none is claimed. What it shows is
the behaviour a production receiver must have, with the rules taken from
``policies/webhooks.yaml``:

- the body is signed with the app's HMAC key (32-64 characters); a bad signature is rejected;
- an event whose time lies outside the replay window is rejected as stale;
- each event id is processed once; a repeated delivery is answered 200 and marked duplicate;
- every event keeps an operator-visible state history: received, verified, processed, rejected, duplicate.

If processing fails the receiver answers 500, so ServiceTitan retries (10, 30, 60, 300 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STATES = ("received", "verified", "processed", "rejected", "duplicate")
RECEIVER_PATH = "/webhooks/servicetitan"


@dataclass(frozen=True)
class WebhookPolicy:
    signature_header: str
    algorithm: str
    encoding: str
    key_min: int
    key_max: int
    id_field: str
    time_field: str
    replay_window: int
    retry_schedule: tuple[int, ...]
    status: str

    @classmethod
    def from_policies(cls, policies) -> "WebhookPolicy":
        return cls.from_policy(policies["webhooks"])

    @classmethod
    def from_policy(cls, policy: dict) -> "WebhookPolicy":
        sig, event = policy["signature"], policy["event"]
        return cls(sig["header"], sig["algorithm"], sig["encoding"], sig["key_length"]["min"],
                   sig["key_length"]["max"], event["id_field"], event["time_field"],
                   policy["replay_window_seconds"], tuple(policy["delivery_retry_schedule_seconds"]),
                   policy["receiver"]["status"])


def policy_problems(policy: dict) -> list[tuple[list, str]]:
    """Cross-field rules a schema cannot state: (key path, message) for each."""
    problems = []
    schedule = policy["delivery_retry_schedule_seconds"]
    if policy["replay_window_seconds"] < sum(schedule):
        problems.append((["replay_window_seconds"],
                         f"a replay window of {policy['replay_window_seconds']} s rejects ServiceTitan's own retries "
                         f"(the last one arrives {sum(schedule)} s after the first delivery)"))
    if list(schedule) != sorted(schedule):
        problems.append((["delivery_retry_schedule_seconds"], "retry delays must not decrease"))
    length = policy["signature"]["key_length"]
    if length["min"] > length["max"]:
        problems.append((["signature", "key_length"], "min is larger than max"))
    return problems


# What ServiceTitan does not publish about V2 webhook signatures: each must be a recorded assumption.
UNPUBLISHED = {"signature-header": "the signature header's name", "digest-encoding": "the digest's encoding",
               "signed-content": "what exactly is signed"}


def version_problems(policy: dict) -> list[tuple[list, str]]:
    """The receiver targets a current webhook version, subscribed per event: (key path, message) for each miss."""
    version = policy["version"]
    problems = []
    if version["current"] == version["deprecated"]["version"]:
        problems.append((["version", "current"],
                         f"{version['current']} webhooks were deprecated on {version['deprecated']['since']}; "
                         "the receiver must target V2"))
    if not policy["subscription"]["per_event"]:
        problems.append((["subscription", "per_event"], "V2 webhooks are subscribed per event; set per_event: true"))
    return problems


def assumption_problems(policy: dict, protocol_tests: set[str]) -> list[tuple[list, str]]:
    """Every unpublished signature detail is a recorded assumption, each confirmed by a sandbox protocol test."""
    recorded = [a["id"] for a in policy["assumptions"]]
    problems = [(["assumptions"], f"{text} is not published: record it as assumption '{key}' with the protocol test "
                                  "that confirms it") for key, text in UNPUBLISHED.items() if key not in recorded]
    problems += [(["assumptions", index, "confirmed_by"],
                  f"{entry['confirmed_by']!r} is not a sandbox protocol test"
                  + (f" (known: {', '.join(sorted(protocol_tests))})" if protocol_tests else ""))
                 for index, entry in enumerate(policy["assumptions"]) if entry["confirmed_by"] not in protocol_tests]
    return problems


def sign(body: bytes, key: str, algorithm: str = "sha256", encoding: str = "base64") -> str:
    digest = hmac.new(key.encode("utf-8"), body, getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode("ascii") if encoding == "base64" else digest.hex()


@dataclass
class EventRecord:
    event_id: str
    state: str
    history: list[tuple[str, str]] = field(default_factory=list)

    def move(self, state: str, reason: str) -> None:
        self.state = state
        self.history.append((state, reason))


@dataclass(frozen=True)
class Receipt:
    status_code: int
    state: str
    reason: str
    event_id: str | None = None


class WebhookReceiver:
    """Reference receiver. ``handler(event)`` does the work; raising makes ServiceTitan retry later."""

    def __init__(self, policy: WebhookPolicy, key: str, *, handler: Callable[[dict], Any] | None = None,
                 now: Callable[[], float] = time.time):
        if not policy.key_min <= len(key) <= policy.key_max:
            raise ValueError(f"the HMAC key must be {policy.key_min}-{policy.key_max} characters long")
        self.policy = policy
        self._key = key
        self.handler = handler or (lambda event: None)
        self.now = now
        self.events: dict[str, EventRecord] = {}
        self.rejected: list[Receipt] = []

    def __repr__(self) -> str:
        return f"WebhookReceiver(events={len(self.events)}, rejected={len(self.rejected)}, key=********)"

    def receive(self, headers: Mapping[str, str], body: bytes) -> Receipt:
        lower = {k.lower(): v for k, v in headers.items()}
        given = lower.get(self.policy.signature_header.lower(), "")
        expected = sign(body, self._key, self.policy.algorithm, self.policy.encoding)
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            return self._reject(401, "signature missing or invalid")
        try:
            event = json.loads(body)
        except ValueError:
            return self._reject(400, "body is not JSON")
        event_id = event.get(self.policy.id_field) if isinstance(event, dict) else None
        if not isinstance(event_id, (str, int)) or event_id == "":
            return self._reject(400, f"event has no {self.policy.id_field}")
        event_id = str(event_id)
        moment = _epoch(event.get(self.policy.time_field))
        if moment is None:
            return self._reject(400, f"event has no valid {self.policy.time_field}", event_id)
        age = self.now() - moment
        if abs(age) > self.policy.replay_window:
            side = "in the future" if age < 0 else "too old"
            return self._reject(400, f"stale or replayed: event time {side}, outside the "
                                     f"{self.policy.replay_window} s replay window", event_id)
        record = self.events.get(event_id)
        if record is not None and record.state in ("processed", "duplicate"):
            record.move("duplicate", "event id already processed; not processed again")
            return Receipt(200, "duplicate", "already processed", event_id)
        if record is None:
            record = self.events[event_id] = EventRecord(event_id, "received", [("received", "delivery accepted")])
        record.move("verified", "signature and time window valid")
        try:
            self.handler(event)
        except Exception as exc:  # the event stays verified (not processed): ServiceTitan's retry processes it
            record.history.append(("verified", f"processing failed ({type(exc).__name__}); awaiting retry"))
            return Receipt(500, "verified", "processing failed", event_id)
        record.move("processed", "handled")
        return Receipt(200, "processed", "handled", event_id)

    def _reject(self, status: int, reason: str, event_id: str | None = None) -> Receipt:
        receipt = Receipt(status, "rejected", reason, event_id)
        self.rejected.append(receipt)
        return receipt

    def operator_view(self) -> list[dict]:
        """What an operator sees: each event's state and history, then rejected deliveries."""
        rows = [{"event": r.event_id, "state": r.state, "history": [f"{s}: {why}" for s, why in r.history]}
                for r in sorted(self.events.values(), key=lambda r: r.event_id)]
        rows += [{"event": r.event_id, "state": "rejected", "history": [f"rejected: {r.reason}"]} for r in self.rejected]
        return rows

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> JSONResponse:
            receipt = self.receive(request.headers, await request.body())
            return JSONResponse({"state": receipt.state, "reason": receipt.reason}, receipt.status_code)

        return Starlette(routes=[Route(RECEIVER_PATH, endpoint, methods=["POST"])])


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


# -- the deliveries the offline feature plays against the reference receiver ------------------------------------
DELIVERY_KINDS = ("correctly signed new event", "forged signature", "unsigned delivery",
                  "event older than the replay window", "event from too far in the future",
                  "repeated delivery of a processed event", "replayed event older than the replay window")


def demo_key() -> str:
    """A signing key generated at run time (never stored): 48 characters, inside ServiceTitan's 32-64 range."""
    return secrets.token_hex(24)


def play(receiver: WebhookReceiver, kind: str, key: str) -> Receipt:
    """Deliver one kind of event to the receiver as ServiceTitan (or an attacker) would; return the last receipt."""
    policy = receiver.policy
    now = receiver.now()

    def event(event_id: str, age: float) -> bytes:
        moment = datetime.fromtimestamp(now - age, timezone.utc).isoformat().replace("+00:00", "Z")
        return json.dumps({policy.id_field: event_id, policy.time_field: moment, "eventType": "Booking.Updated",
                           "data": {"id": 1}}, sort_keys=True).encode()

    def headers(body: bytes, signing_key: str | None) -> dict:
        return {policy.signature_header: sign(body, signing_key, policy.algorithm, policy.encoding)} if signing_key else {}

    if kind not in DELIVERY_KINDS:
        raise ValueError(f"unknown delivery kind {kind!r}; known: {', '.join(DELIVERY_KINDS)}")
    if kind == "correctly signed new event":
        body = event("evt-new", 5)
        return receiver.receive(headers(body, key), body)
    if kind == "forged signature":
        body = event("evt-forged", 5)
        return receiver.receive(headers(body, secrets.token_hex(24)), body)
    if kind == "unsigned delivery":
        body = event("evt-unsigned", 5)
        return receiver.receive({}, body)
    if kind == "event older than the replay window":
        body = event("evt-stale", policy.replay_window + 60)
        return receiver.receive(headers(body, key), body)
    if kind == "event from too far in the future":
        body = event("evt-future", -(policy.replay_window + 60))
        return receiver.receive(headers(body, key), body)
    if kind == "repeated delivery of a processed event":
        body = event("evt-repeat", 5)
        receiver.receive(headers(body, key), body)
        return receiver.receive(headers(body, key), body)
    body = event("evt-replayed", 5)  # replayed event older than the replay window: captured, then sent late
    receiver.receive(headers(body, key), body)
    receiver.now = lambda: now + policy.replay_window + 60
    try:
        return receiver.receive(headers(body, key), body)
    finally:
        receiver.now = lambda: now
