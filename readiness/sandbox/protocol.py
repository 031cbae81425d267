"""The sandbox validation protocol: each catalog test (``policies/sandbox-protocol.yaml``) run against a session.

A session is the app's connection to one ServiceTitan tenant plus the operator
controls a test needs (revoke the app, inject faults, grant fewer scopes, let time
pass). ``--sandbox simulator`` opens it on the local simulator in-process (a virtual
clock makes waits instant); ``--sandbox integration`` on ServiceTitan's integration
environment with credentials from the environment. Offline no session can be opened:
protocol scenarios are pending.

Every test returns an :class:`Outcome`: named checks (each a sentence a reviewer
reads in the feature file), findings, the sync-queue trace and a redacted
transcript. Every test also checks that nothing the client logged, raised or
recorded contains a credential or token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from readiness.mapping import attribution, drift
from readiness.access import matrix
from readiness.report import access_packets
from readiness.sync import queue
from readiness.servicetitan import webhooks
from readiness.servicetitan import client as st
from readiness.sandbox import simulator as sim
from readiness.core.errors import OptionError
from readiness.core.findings import Finding
from readiness.servicetitan import catalog as api
from readiness.sync import handoff
from readiness.sync.handoff import external_id
from readiness.core.tenants import ApiTenant, FixtureTenant

# Drift and attribution findings are readiness.mapping.drift's and readiness.mapping.attribution's own kinds.
FINDING_KINDS: dict[str, str | None] = {
    "handoff-undeliverable": "failed-sync",
    "authorization-revoked": "disconnect",
    "family-ineligible": "disconnect",
    "attribution-not-confirmed": attribution.RUNBOOK,
}

# The client under test. Tests of the suite swap in deliberately wrong clients to prove each check can fail.
CLIENT_FACTORY: Callable[..., st.ServiceTitanClient] = st.ServiceTitanClient
SIMULATOR_RUN_VAR = "READINESS_SIMULATOR_RUN"
SIMULATED_HOST = "http://simulator.invalid"
BOOKING_PROVIDER_VAR = "ST_BOOKING_PROVIDER_ID"
WEBHOOK_SCALE = 0.01  # the simulator's webhook retry schedule runs 100x faster (virtual time)

# Each check, as the sentence the feature file says.
CHECKS: dict[str, str] = {
    "token-issued": "a token is issued and the product plans its refresh from expires_in",
    "token-refreshed": "the product fetches a new token before the old one expires",
    "expired-token-refused": "a call with an expired token is refused",
    "app-key-required": "a call without the app key or with another app's key is refused",
    "token-required": "a call without an access token is refused",
    "tenant-scoped": "a call to a tenant the app is not connected to is refused",
    "scope-enforced": "each family answers only a connection granted its scope, and refuses others with 403",
    "ineligible-marked": "every refused family is marked ineligible and routed to the disconnect runbook",
    "awaits-acceptance": "the family that needs the new scope is ineligible, awaiting the tenant administrator's "
                         "acceptance of the new app version, and routed to the disconnect runbook",
    "other-families-work": "every other family keeps working",
    "checklist-lists-acceptance": "the customer's access checklist lists the acceptance still pending",
    "read-only": "only GET requests were sent during the import",
    "all-records-requested": "every list was asked for its inactive records too (active=Any)",
    "inactive-included": "inactive taxonomy records are imported too",
    "drift-matches": "drift against the Titan Map is the same as from the customer's exports",
    "booking-created": "the booking carries the externalId and the Titan Map ids",
    "booking-idempotent": "exactly one booking exists for the externalId after the lost answer",
    "lookup-before-repost": "the client looked the booking up by externalId before posting it again",
    "retry-after-honoured": "no retry was sent before the wait that Retry-After asked for",
    "queue-retrying": "the queue showed the item retrying and then delivered",
    "blocked-after-limit": "an item still failing after the retry limit is blocked with the failed-sync runbook",
    "revocation-detected": "the refused token refresh is reported as a revoked authorization",
    "items-blocked-disconnect": "undelivered items are blocked with the disconnect runbook",
    "nothing-deleted": "no local lead or queue item was deleted",
    "pages-complete": "every list page was followed until hasMore was false, nothing lost or repeated",
    "export-followed": "the export feed was followed by continueFrom to its end",
    "truncated-retried": "a cut-off page was fetched again instead of being accepted",
    "attribution-linked": "booked jobs and revenue are linked to leads exactly as in the customer's exports",
    "unmatched-routed": "every lead without a booked job is listed for the attribution-mismatch runbook",
    "lead-form-used": "the enquiry went to leads/form, never to leads",
    "lead-minimal": "the lead form carried only its envelope's fields, with the service as summary and not the "
                    "visitor's message",
    "lead-attribution-chained": "the web-lead-form attribution was accepted with the leadId that leads/form returned",
    "attributions-listed": "attributed-leads for the run's time window lists every attribution posted, with its "
                           "lead type",
    "attribution-posts-accepted": "the web booking and web lead attributions are accepted",
    "attribution-posts-minimal": "the attribution posts carry only attribution fields",
    "kept-fields-minimal": "only the fields in the retention list are kept from each response",
    "nothing-personal-kept": "no personal field from ServiceTitan's answers is kept",
    "errors-clean": "error messages and reprs show no credential or token",
    "webhook-retried-on-schedule": "ServiceTitan's retries arrive on its schedule until the receiver succeeds",
    "webhook-processed-once": "the event is processed exactly once",
    "webhook-forged-rejected": "a delivery with a forged signature is rejected",
    "no-leak": "nothing the client logged, raised or recorded contains a credential or token",
}
# What each test does, as the sentence a reviewer reads in the feature file's When step.
ACTIONS: dict[str, str] = {
    "TOKEN-01": "the product obtains an access token and keeps calling past the token's lifetime",
    "APPKEY-01": "calls arrive without the app key, with another app's key, without a token or for another tenant",
    "SCOPE-01": "each API family is called by connections the tenant administrator granted different scopes",
    "SCOPE-02": "the app gains a scope in a new version that the tenant administrator has not accepted yet",
    "REVOKE-01": "the tenant administrator revokes the app while bookings are being handed off",
    "SECRET-01": "calls fail, are logged and raise errors",
    "IMPORT-01": "the product imports the tenant's job types, business units, zones, campaigns, services and "
                 "membership types, one of them deactivated",
    "PAGE-01": "the product reads a list page by page and follows an export feed, and one page arrives cut off",
    "MINIMIZE-01": "the product reads bookings, jobs, invoices and payments",
    "BOOK-01": "the product hands off a website booking request and ServiceTitan's answer is lost",
    "RETRY-01": "ServiceTitan asks the product to slow down, then keeps failing",
    "LEAD-01": "a website enquiry that is not a booking request is handed off with its web session",
    "ATTR-01": "the product reads the bookings, jobs, invoices and payments behind the website's leads",
    "ATTR-02": "the product posts the web sessions of booked website leads and of a website enquiry",
    "ATTR-03": "the product posts its attributions and reads back ServiceTitan's attributed leads for the same "
               "time window",
    "WEBHOOK-01": "ServiceTitan delivers a signed V2 event while the receiver is failing, and a forged one arrives",
}
PERSONAL_RESPONSE_FIELDS = frozenset({"name", "address", "contacts", "customer", "customerAddress", "location",
                                      "locationAddress", "summary", "email", "phone"})


class OperatorStepRequired(Exception):
    """The test needs something only an operator can do in this mode (e.g. revoke the app in the tenant)."""


# -- outcome ----------------------------------------------------------------------------------------------------
@dataclass
class Check:
    passed: bool
    detail: str


@dataclass
class Outcome:
    test_id: str
    mode: str
    checks: dict[str, Check] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    queue: list[dict] = field(default_factory=list)
    transcript: list[dict] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def record(self, check: str, passed: bool, detail: str = "") -> None:
        if check not in CHECKS:
            raise KeyError(f"unknown protocol check {check}")
        previous = self.checks.get(check)
        if previous is not None and not previous.passed:
            return  # a failure stays a failure
        self.checks[check] = Check(bool(passed), detail)

    def verdict(self, check: str) -> Check:
        if self.error is not None and check not in self.checks:
            return Check(False, f"protocol test {self.test_id} stopped: {self.error}")
        return self.checks.get(check) or Check(False, f"{self.test_id} did not check this")

    def summary(self) -> dict:
        return {
            "test": self.test_id,
            "mode": self.mode,
            "checks": {k: ("passed" if c.passed else f"failed: {c.detail}") for k, c in sorted(self.checks.items())},
            "queue": self.queue,
            "facts": self.facts,
            "error": self.error,
        }


class QueueTrace:
    """The sync queue (``readiness.sync.queue``, ``policies/sync-queue.yaml``) driven by the client's attempt events.

    Each handoff is a queue item: the client's ``retrying``/``blocked`` attempts become delivery-attempt-failed
    events, ``delivered`` a delivered event, a refused authorization an authorization-revoked event. The queue
    decides the states; a transition the policy does not allow is recorded, and fails the test's checks.
    """

    EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __init__(self, policy: queue.QueuePolicy, clock):
        self.policy = policy
        self.clock = clock
        self.items: dict[str, queue.QueueItem] = {}
        self.current: str | None = None
        self.illegal: list[str] = []

    def _at(self, seconds: float | None = None) -> datetime:
        return self.EPOCH + timedelta(seconds=self.clock.now() if seconds is None else seconds)

    def enqueue(self, item_id: str) -> None:
        self.items[item_id] = queue.intake(item_id, item_id.split("#")[0], "", self._at(), self.policy)
        self.current = item_id

    def _apply(self, item_id: str, event) -> None:
        try:
            self.items[item_id] = queue.apply(self.items[item_id], event, self.policy)
        except queue.IllegalTransition as exc:
            self.illegal.append(str(exc))

    def on_attempt(self, event: dict) -> None:
        if self.current not in self.items or "/bookings" not in event["path"] or event["method"] != "POST":
            return
        at = self._at(event.get("at"))
        if event["state"] == "delivered":
            self._apply(self.current, queue.Delivered(at))
        else:
            self._apply(self.current, queue.DeliveryAttemptFailed(at, event["status"], event["wait"]))

    def block(self, item_id: str, reason: str, runbook: str) -> None:
        self._apply(item_id, queue.AuthorizationRevoked(self._at()))

    def states(self, item_id: str) -> list[str]:
        return [entry.state for entry in self.items[item_id].history]

    def rows(self) -> list[dict]:
        return [{"item": item.item_id, "states": [e.state for e in item.history], "attempts": item.attempts,
                 "runbook": item.runbook, "reason": item.reason} for _, item in sorted(self.items.items())]


# -- sessions ---------------------------------------------------------------------------------------------------
def simulator_run_key() -> str:
    """The run key every process of one gate run shares (xdist workers inherit it): credentials derive from it."""
    key = os.environ.get(SIMULATOR_RUN_VAR)
    if not key:
        key = os.environ[SIMULATOR_RUN_VAR] = secrets.token_hex(16)
    return key


def simulator_secrets(run_key: str) -> dict[str, str]:
    """The generated credentials and the token prefix of a simulator run: what the leak check looks for."""
    creds = sim.generated_credentials(run_key)
    creds["token_prefix"] = "simtok." + hashlib.sha256(f"{run_key}:token".encode()).hexdigest()[:16] + "."
    return creds


def pick_simulator_tenant(tenants: list[FixtureTenant]) -> FixtureTenant:
    """The selected tenant with the most purchased modules (ties by name) stands in for the sandbox tenant."""
    return sorted(tenants, key=lambda t: (-len(t.profile.get("purchased_modules", [])), t.slug))[0]


class FaultTransport(httpx.AsyncBaseTransport):
    """Client-side faults for the integration environment, where nobody can make ServiceTitan fail on purpose:
    a lost answer (``drop-after``: the request reaches ServiceTitan, the answer never comes back), a dropped
    connection, a cut-off body, or a 429/5xx answer fabricated before the request leaves."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.faults: list[sim.Fault] = []

    def _take(self, request: httpx.Request) -> sim.Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.path in request.url.path and fault.method in (None, request.method):
                fault.times -= 1
                return fault
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._take(request) if request.url.path != st.TOKEN_PATH else None
        if fault is None:
            return await self.inner.handle_async_request(request)
        if fault.kind == "drop":
            raise httpx.ConnectError("client-side fault: connection dropped", request=request)
        if fault.kind == "status":
            title = (f"The request limit was exceeded. Please try again in {fault.retry_after or 1} seconds."
                     if fault.status == 429 else "Service temporarily unavailable (client-side fault)")
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return httpx.Response(fault.status, headers=headers, request=request, json={
                "type": "about:blank", "title": title, "status": fault.status, "traceId": "client-fault",
                "errors": {}, "data": {}})
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if fault.kind == "drop-after":
            raise httpx.ReadError("client-side fault: answer lost after the request was processed", request=request)
        if fault.kind == "truncate":
            return httpx.Response(response.status_code, headers={"content-type": "application/json"},
                                  content=body[: max(1, len(body) // 2)], request=request)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Session:
    def __init__(self, mode: str, credentials: st.Credentials, *, tenant: FixtureTenant | None, clock,
                 transport: httpx.AsyncBaseTransport | None, booking_provider: int | None,
                 simulator: sim.Simulator | None = None, known_secrets: list[str] = ()):
        self.mode = mode
        self.credentials = credentials
        self.tenant = tenant
        self.clock = clock
        self.transport = transport
        self.booking_provider = booking_provider
        self.simulator = simulator
        self.known_secrets = [s for s in known_secrets if s]
        self.clients: list[st.ServiceTitanClient] = []
        self.test: dict = {}

    def client(self, credentials: st.Credentials | None = None, **kwargs) -> st.ServiceTitanClient:
        made = CLIENT_FACTORY(credentials or self.credentials, transport=self.transport, clock=self.clock, **kwargs)
        self.clients.append(made)
        return made

    def secret_values(self) -> list[str]:
        values = list(self.known_secrets)
        for made in self.clients:
            values += made.credentials.secret_values()
        if self.simulator is not None:
            values += self.simulator.issued_tokens()
        for made in self.clients:
            if made.current_token is not None:
                values.append(made.current_token.value.reveal())
        return sorted(set(values))

    # Operator controls: the simulator does them itself; the integration environment needs an operator.
    def _need_simulator(self, what: str) -> sim.Simulator:
        if self.simulator is None:
            raise OperatorStepRequired(f"needs an operator step in the integration environment: {what}")
        return self.simulator

    def revoke(self) -> None:
        self._need_simulator("revoke the app's access in the sandbox tenant").revoke(self.credentials.client_id.reveal())

    def inject(self, *faults: sim.Fault) -> None:
        if self.simulator is not None:
            self.simulator.inject(*faults)
        else:
            self.transport.faults.extend(faults)

    def limited_credentials(self, name: str, scopes: set[str]) -> st.Credentials:
        simulator = self._need_simulator(f"connect a second app granted only {sorted(scopes)}")
        made = sim.generated_credentials(f"{self.credentials.client_id.reveal()}:{name}")
        simulator.connect(scopes=scopes, **made)
        return st.Credentials(st.Secret(made["client_id"]), st.Secret(made["client_secret"]),
                              st.Secret(made["app_key"]), self.credentials.tenant_id,
                              self.credentials.auth_url, self.credentials.api_url)

    def utc_now(self) -> datetime:
        """The session's wall clock: the simulator's virtual time, or the real time."""
        if isinstance(self.clock, sim.VirtualClock):
            return sim.utc_at(self.clock.now())
        return datetime.now(timezone.utc)

    def granted_scopes(self) -> set[str]:
        if self.simulator is not None:
            return set(self.simulator.connections[self.credentials.client_id.reveal()].scopes)
        return set()

    async def pass_time(self, seconds: float) -> None:
        if isinstance(self.clock, sim.VirtualClock):
            self.clock.advance(seconds)
        else:
            raise OperatorStepRequired(f"wait {int(seconds)} s of real time (token lifetime)")


def open_session(mode: str, test: dict, *, tenants: list[FixtureTenant] | None = None,
                 environ: dict | None = None) -> Session:
    """A fresh session for one protocol test: a new simulator per test, or the integration environment."""
    if mode == "simulator":
        session = simulator_session(pick_simulator_tenant(tenants or []), simulator_run_key())
    elif mode == "integration":
        environ = os.environ if environ is None else environ
        credentials = st.Credentials.from_env(environ)
        provider = environ.get(BOOKING_PROVIDER_VAR, "").strip()
        tenant = next((t for t in tenants or [] if str(t.profile.get("tenant_id")) == credentials.tenant_id), None)
        session = Session("integration", credentials, tenant=tenant, clock=st.SystemClock(),
                          transport=FaultTransport(httpx.AsyncHTTPTransport()),
                          booking_provider=int(provider) if provider.isdigit() else None)
    else:
        raise OptionError(f"protocol test {test['id']}: no sandbox session can be opened in --sandbox {mode}")
    session.test = test
    return session


@dataclass(frozen=True)
class Probe:
    """One read call that shows whether a connection reaches an API family."""

    family: str
    module: str  # as in the URL: /<module>/v2/tenant/{tenant}/<path>
    path: str
    scope: str
    packages: tuple[str, ...]

    @property
    def operation(self) -> api.Operation:
        return api.operation("GET", self.module, self.path) or api.Operation("GET", self.module, self.path)


SCOPE_TEST = "SCOPE-01"


def family_probes(policies) -> list[Probe]:
    """Per family of the connection matrix, its first GET endpoint with no path parameter but the tenant and
    no required query parameter.

    A family with no such endpoint (marketing ads: posts, and a read that needs a time window) has no probe. The catalog's SCOPE-01 must
    list exactly the probes' scopes, else a PolicyError naming its ``scopes`` key.
    """
    probes = []
    for family in matrix.Matrix(policies).families:
        for endpoint in family["endpoints"]:
            found = api.split_path(endpoint["path"])
            if endpoint["method"] != "GET" or found is None or "{" in found[1]:
                continue
            known = api.operation("GET", *found)
            if not (known and known.required_params):
                probes.append(Probe(family["id"], *found, endpoint["scope"], tuple(family["packages"])))
                break
    tests = policies["sandbox-protocol"]["tests"]
    for index, test in enumerate(tests):
        if test["id"] != SCOPE_TEST:
            continue
        wanted, declared = [p.scope for p in probes], test.get("scopes", [])
        missing = [scope for scope in wanted if scope not in declared]
        extra = [scope for scope in declared if scope not in wanted]
        if missing or extra:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"not a family probe: {', '.join(extra)}"] if extra else [])
            raise policies.error("sandbox-protocol", ["tests", index, "scopes"],
                                 f"{SCOPE_TEST} must list the read scope of each API family's probe in "
                                 f"{policies.path(matrix.POLICY).name} (its first GET endpoint): {'; '.join(problems)}")
    return probes


def context(policies) -> dict:
    """What the protocol tests read from the policy set besides their catalog entry."""
    return {"retention": policies["sandbox-protocol"]["retention"], "webhooks": policies["webhooks"],
            "queue": queue.QueuePolicy.from_policies(policies), "probes": family_probes(policies),
            "modules": sorted(matrix.Matrix(policies).module_keys()), "drift": policies["drift"],
            "attribution": attribution.Rules.from_policies(policies), "envelopes": policies["envelopes"],
            "policies": policies}


def leak_markers(mode: str, environ=None) -> list[tuple[str, str]]:
    """(label, value) of every credential a run in this mode knows; none may appear in what the run wrote."""
    environ = os.environ if environ is None else environ
    if mode == "simulator" and environ.get(SIMULATOR_RUN_VAR):
        made = simulator_secrets(environ[SIMULATOR_RUN_VAR])
        return [("generated client id", made["client_id"]), ("generated client secret", made["client_secret"]),
                ("generated app key", made["app_key"]), ("simulator access token", made["token_prefix"])]
    if mode == "integration":
        names = {"client_id": "client id", "client_secret": "client secret", "app_key": "app key"}
        return [(f"{label} ({st.ENV_VARS[key]})", environ[st.ENV_VARS[key]].strip())
                for key, label in names.items() if environ.get(st.ENV_VARS[key], "").strip()]
    return []


def scan_for_leaks(paths, markers: list[tuple[str, str]], root: Path) -> list[str]:
    """One line per file that contains a credential or token, naming the file and the kind, never the value."""
    problems = []
    for path in sorted(set(paths)):
        try:
            text = Path(path).read_bytes().decode("utf-8", errors="ignore")
        except OSError:
            continue
        for label, value in markers:
            if len(value) >= 8 and value in text:
                shown = Path(path).relative_to(root).as_posix() if Path(path).is_relative_to(root) else Path(path).name
                problems.append(f"credential leak: {shown} contains the {label} of this run")
    return problems


def simulator_session(tenant: FixtureTenant, run_key: str, **simulator_options) -> Session:
    made = simulator_secrets(run_key)
    data = sim.TenantData.from_fixture(tenant)
    clock = sim.VirtualClock()
    options = {"latency": 0.002, "export_chunk": 4} | simulator_options
    simulator = sim.Simulator(data, clock=clock, token_prefix=made["token_prefix"], **options)
    simulator.connect(made["client_id"], made["client_secret"], made["app_key"])
    credentials = st.Credentials(st.Secret(made["client_id"]), st.Secret(made["client_secret"]),
                                 st.Secret(made["app_key"]), str(data.tenant_id), SIMULATED_HOST, SIMULATED_HOST)
    providers = sorted(simulator._provider_ids())
    return Session("simulator", credentials, tenant=tenant, clock=clock, transport=simulator.transport(),
                   booking_provider=providers[0] if providers else None, simulator=simulator,
                   known_secrets=[made["client_id"], made["client_secret"], made["app_key"]])


# -- running ----------------------------------------------------------------------------------------------------
class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a malformed log call must not hide the rest
            self.lines.append(str(record.msg))


def run(session: Session, test: dict, catalog: dict | None = None) -> Outcome:
    """Run one protocol test to the end; never raises for what the test observes (it becomes a check)."""
    outcome = Outcome(test["id"], session.mode)
    session.test = test
    runner = RUNNERS.get(test["id"])
    if runner is None:
        outcome.error = f"no runner for protocol test {test['id']}"
        return outcome
    # While a test runs, every log record goes to the capture only: it is scanned for secrets and never
    # re-emitted, so what a leaky client logs cannot reach the terminal, junit or any other log either.
    capture = _Capture()
    root = logging.getLogger()
    previous_level, previous_handlers = root.level, root.handlers[:]
    root.handlers = [capture]
    root.setLevel(logging.DEBUG)
    raised: list[str] = []
    try:
        asyncio.run(_run(runner, session, outcome, catalog or {}, raised))
    finally:
        root.handlers = previous_handlers
        root.setLevel(previous_level)
    outcome.transcript = [e.to_dict() for made in session.clients for e in made.transcript]
    seen = "\n".join(capture.lines + raised + [repr(c) for c in session.clients]
                     + [json.dumps(outcome.transcript), json.dumps(outcome.summary(), default=str)]
                     + [str(f) for f in outcome.findings])
    leaked = [value for value in session.secret_values() if value and value in seen]
    outcome.record("no-leak", not leaked, f"{len(leaked)} credential or token value(s) found in logs, errors or "
                                          "transcript" if leaked else "")
    return outcome


async def _run(runner, session: Session, outcome: Outcome, catalog: dict, raised: list[str]) -> None:
    try:
        await runner(session, outcome, catalog)
    except OperatorStepRequired as exc:
        outcome.error = str(exc)
    except Exception as exc:  # an unexpected failure is reported as the test's error, with its type
        raised.append(f"{exc!s} {exc!r}")
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        for made in session.clients:
            await made.aclose()


def transcript_document(outcome: Outcome) -> tuple[str, str]:
    """The transcript file's text and its sha256 (every exchange also carries its body hashes)."""
    body = {"test": outcome.test_id, "mode": outcome.mode,
            "note": "redacted: no header values, no bodies; request keys and sha256 of bodies only",
            "exchanges": outcome.transcript}
    text = json.dumps(body, indent=1, sort_keys=True) + "\n"
    return text, hashlib.sha256(text.encode()).hexdigest()


def write_transcript(outcome: Outcome, report_dir: Path | str) -> dict:
    text, digest = transcript_document(outcome)
    path = Path(report_dir) / "transcripts" / f"{outcome.test_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return {"path": f"transcripts/{outcome.test_id}.json", "sha256": digest, "exchanges": len(outcome.transcript)}


REPORT_SECTION_PREFIX = "sandbox-protocol-"


def report_section(outcome: Outcome, test: dict, transcript: dict) -> tuple[str, dict]:
    """The report section of one protocol test (``sandbox-protocol-<id>``): its status, every check with its
    verdict, findings with runbooks and the transcript file with its sha256. A simulator result is a dry run."""
    passed = outcome.error is None and bool(outcome.checks) and all(c.passed for c in outcome.checks.values())
    status = ("dry-run-" if outcome.mode == "simulator" else "") + ("passed" if passed else "failed")
    checks = [{"check": name, "sentence": CHECKS[name], "passed": check.passed, "detail": check.detail}
              for name, check in sorted(outcome.checks.items())]
    return f"{REPORT_SECTION_PREFIX}{outcome.test_id}", {
        **outcome.summary(), "title": test["title"], "status": status, "checks": checks,
        "findings": [f.to_dict() for f in outcome.findings], "transcript": transcript,
    }


# -- helpers ----------------------------------------------------------------------------------------------------
def _api_calls(made: st.ServiceTitanClient) -> list[st.Exchange]:
    return [e for e in made.transcript if e.path != st.TOKEN_PATH]


async def _status(made: st.ServiceTitanClient, operation: api.Operation, *, headers=None,
                  tenant: str | None = None, params=None) -> int:
    """The status of one raw call (no retries), with the given headers instead of the client's own."""
    method = operation.method
    api_path = api.api_path(operation.module, operation.path, tenant or made.credentials.tenant_id)
    if headers is None:
        headers = made.headers(await made.token())
    url = made.credentials.api_url.rstrip("/") + api_path
    for _ in range(made.retry.max_attempts):
        try:
            response = await made._send(method, url, api_path, keys=[], headers=headers, params=params)
        except st.TransientFailure:
            return 0
        if response.status_code != 429:
            return response.status_code
        await made.clock.sleep(st.retry_after_seconds(response) or 1.0)
    return 429


def protocol_external_id(session: "Session", lead_id: str, test: str) -> str:
    """A fresh id for a protocol test's own booking, so it never collides with a booking the office made."""
    return external_id(session.credentials.tenant_id, f"{lead_id}:{test}")


def protocol_lead(session: "Session", lead: dict, test: str) -> dict:
    """A fixture lead under a test's own lead id: the product prepares it exactly as any lead, and its booking
    (externalId = protocol_external_id) never collides with one the office made."""
    return {**lead, "lead_id": f"{lead['lead_id']}:{test}"}


def product_booking(session: "Session", catalog: dict, lead: dict, test: str) -> dict:
    """The booking envelope the product's handoff (readiness.sync.handoff) builds for a fixture lead."""
    return handoff.prepare(protocol_lead(session, lead, test), session.credentials.tenant_id, _titan_map(session),
                           [], catalog["queue"].offline).envelope


def _leads(session: Session) -> list[dict]:
    leads = session.tenant.submissions() if session.tenant is not None else []
    if not leads:
        leads = [{"lead_id": "protocol-lead", "service": None, "contact": {"name": "Protocol Test"}}]
    return leads


def _titan_map(session: Session) -> dict:
    return session.tenant.titan_map if session.tenant is not None else {}


def _local_tenant(session: Session, needed: str) -> FixtureTenant:
    if session.tenant is None:
        raise OperatorStepRequired(f"needs {needed}: a tenant folder whose tenant_id is "
                                   f"{session.credentials.tenant_id} (--tenants-dir)")
    return session.tenant


def _via_api(session: Session, local: FixtureTenant, records: dict[str, list[dict]]) -> ApiTenant:
    return ApiTenant(local, records, f"{session.mode} API")


def _need_provider(session: Session) -> int:
    if session.booking_provider is None:
        raise OperatorStepRequired(f"needs an operator step: set {BOOKING_PROVIDER_VAR} to the app's booking "
                                   "provider id")
    return session.booking_provider


# -- the tests --------------------------------------------------------------------------------------------------
async def run_token(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    token = await made.token()
    outcome.facts["expires_in"] = token.expires_in
    outcome.record("token-issued", token.expires_in > 0 and token.issued_at < token.refresh_at < token.expires_at,
                   f"expires_in {token.expires_in} s, refresh planned {token.refresh_at - token.issued_at:.0f} s after issue")
    first = token.value.reveal()
    first_expiry = token.expires_at
    await session.pass_time(token.refresh_at - session.clock.now() + 0.5)
    await made.call(api.JOB_TYPES, params={"page": 1, "pageSize": 1})
    renewed = made.current_token
    outcome.record("token-refreshed", made.token_grants == 2 and renewed.value.reveal() != first
                   and session.clock.now() < first_expiry, f"{made.token_grants} token grants")
    await session.pass_time(first_expiry - session.clock.now() + 1)
    status = await _status(made, api.JOB_TYPES,
                           headers={"Authorization": f"Bearer {first}", "ST-App-Key": made.credentials.app_key.reveal()})
    outcome.record("expired-token-refused", status == 401, f"expired token answered {status}")


async def run_appkey(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    good = made.headers(await made.token())
    auth = {"Authorization": good["Authorization"]}
    statuses = {
        "no app key": await _status(made, api.JOB_TYPES, headers=auth),
        "other app key": await _status(made, api.JOB_TYPES,
                                       headers={**auth, "ST-App-Key": "ak1." + "0" * 32}),
    }
    outcome.record("app-key-required", all(s == 401 for s in statuses.values()), str(statuses))
    no_token = await _status(made, api.JOB_TYPES, headers={"ST-App-Key": good["ST-App-Key"]})
    outcome.record("token-required", no_token == 401, f"no token answered {no_token}")
    other = str(int(made.credentials.tenant_id) + 1)
    foreign = await _status(made, api.JOB_TYPES, tenant=other)
    outcome.record("tenant-scoped", foreign in (401, 403, 404), f"foreign tenant answered {foreign}")


async def eligibility(made: st.ServiceTitanClient, probes: list[Probe]) -> dict[str, str]:
    """Per family: eligible, or why not, from its probe."""
    states = {}
    for probe in probes:
        status = await _status(made, probe.operation)
        states[probe.family] = "eligible" if status == 200 else (
            "blocked: scope not granted" if status == 403 else f"blocked: answered {status}")
    return states


async def run_scope(session: Session, outcome: Outcome, catalog: dict) -> None:
    probes: list[Probe] = catalog["probes"]
    wrong = []
    for probe in probes:
        made = session.client(session.limited_credentials(probe.family, {probe.scope}))
        for other in probes:
            status = await _status(made, other.operation)
            expect = 200 if other.scope == probe.scope else 403
            if status != expect:
                wrong.append(f"{other.family} with only {probe.scope}: answered {status}, expected {expect}")
    outcome.record("scope-enforced", bool(probes) and not wrong,
                   "; ".join(wrong[:5]) or f"{len(probes)} families probed")
    # A connection whose admin approved only the families of the Launch package.
    withheld = {p.scope for p in probes if "launch" not in p.packages}
    approved = session.granted_scopes() - withheld
    partial = session.client(session.limited_credentials("partial", approved))
    states = await eligibility(partial, probes)
    for family, state in sorted(states.items()):
        if state != "eligible":
            outcome.findings.append(Finding("family-ineligible", family, "major", "disconnect",
                                            f"the {family} family is not reachable: {state}"))
    blocked = {f for f, s in states.items() if s != "eligible"}
    routed = {f.subject for f in outcome.findings if f.kind == "family-ineligible" and f.runbook == "disconnect"}
    expected = {p.family for p in probes if p.scope not in approved}
    outcome.record("ineligible-marked", blocked == routed == expected,
                   f"blocked {sorted(blocked)}, routed {sorted(routed)}, scopes withheld for {sorted(expected)}")
    outcome.facts["eligibility"] = states


TAXONOMY_SOURCES = tuple(sorted(entity.export for entity in drift.ENTITIES.values()))


async def import_taxonomy(made: st.ServiceTitanClient, modules: list[str]) -> tuple[dict[str, list[dict]], list[str]]:
    """The taxonomy drift judges (readiness.drift.ENTITIES) of every purchased family, inactive records included,
    and the resources refused for want of a scope (403)."""
    taxonomy, refused = {}, []
    for resource in TAXONOMY_SOURCES:
        module, path = resource.split("/", 1)
        if module not in modules:
            continue
        try:
            taxonomy[resource] = await made.collect_all(api.list_resource(resource), page_size=50)
        except st.ApiError as exc:
            if exc.status != 403:
                raise
            refused.append(resource)
    return taxonomy, refused


def _modules(session: Session, catalog: dict) -> list[str]:
    if session.simulator is not None:
        return list(session.simulator.tenant.modules)
    return list(session.tenant.profile.get("purchased_modules", [])) if session.tenant else list(catalog["modules"])


def _labels(resources) -> set[str]:
    """The drift entity labels (readiness.drift.ENTITIES) of the given taxonomy resources."""
    return {entity.label for entity in drift.ENTITIES.values() if entity.export in resources}


def _drift_over(tenant, resources) -> list[drift.Drift]:
    """Map drift (readiness.mapping.drift) limited to the given taxonomy resources."""
    labels = _labels(resources)
    return [d for d in drift.map_drift(tenant) if d.entity in labels]


async def run_import(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    taxonomy, refused = await import_taxonomy(made, _modules(session, catalog))
    for resource in refused:
        outcome.findings.append(Finding("family-ineligible", resource, "major", "disconnect",
                                        "import refused: the scope is not granted or has expired"))
    methods = sorted({e.method for e in _api_calls(made)})
    server_methods = sorted({r["method"] for r in session.simulator.requests}) if session.simulator else methods
    outcome.record("read-only", methods == ["GET"] and server_methods == ["GET"],
                   f"client sent {methods}, server saw {server_methods}")
    lists = [e for e in _api_calls(made) if (called := api.called(e.method, e.path)) and not called.export]
    partial = sorted({e.path for e in lists if e.query.get("active") != api.ALL_RECORDS["active"]})
    outcome.record("all-records-requested", bool(lists) and not partial,
                   f"{len(lists)} list call(s); without active=Any: {partial or 'none'}")
    outcome.facts["imported"] = {k: len(v) for k, v in sorted(taxonomy.items())}
    local = _local_tenant(session, "the customer's Titan Map to compare the imported taxonomy with")
    recorded = [resource for resource in taxonomy if local.has_export(resource)]
    inactive = sum(1 for resource in recorded for r in taxonomy[resource] if r.get("active") is False)
    expected_inactive = sum(1 for resource in recorded for r in local.export_records(resource)
                            if r.get("active") is False)
    outcome.record("inactive-included", inactive == expected_inactive,
                   f"{inactive} inactive imported, {expected_inactive} in the exports")
    found = _drift_over(_via_api(session, local, taxonomy), taxonomy)
    outcome.findings.extend(drift.findings(found, catalog["drift"], drift.affected_handoffs(found, local.submissions())))
    recorded_labels = _labels(recorded)
    comparable = [d for d in found if d.entity in recorded_labels]
    expected = _drift_over(local, recorded)
    outcome.record("drift-matches", comparable == expected,
                   f"{len(found)} drift(s) via the API ({len(comparable)} in exported resources), "
                   f"{len(expected)} from the exports")


async def run_booking(session: Session, outcome: Outcome, catalog: dict) -> None:
    provider = _need_provider(session)
    trace = QueueTrace(catalog["queue"], session.clock)
    made = session.client(on_attempt=trace.on_attempt, retry=st.RetryPolicy.from_queue_policy(catalog["queue"].retry))
    lead = _leads(session)[0]
    ext = protocol_external_id(session, lead["lead_id"], "BOOK-01")
    envelope = product_booking(session, catalog, lead, "BOOK-01")
    trace.enqueue(lead["lead_id"])
    session.inject(sim.Fault("drop-after", path="/bookings", method="POST"))
    booking = await made.create_booking(provider, envelope)
    ids, _, _ = handoff.resolve(lead, _titan_map(session))
    outcome.record("booking-created", booking.get("externalId") == ext and all(
        booking.get(key) == value for key, value in ids.items()),
        f"booking {booking.get('id')} externalId {booking.get('externalId')}")
    found = await made.find_booking(provider, ext)
    count = sum(1 for b in session.simulator.bookings if b.get("externalId") == ext) if session.simulator else (
        1 if found else 0)
    outcome.record("booking-idempotent", count == 1, f"{count} booking(s) with externalId {ext}")
    posts = [i for i, e in enumerate(made.transcript) if e.method == "POST" and e.path.endswith("/bookings")]
    lookups = [i for i, e in enumerate(made.transcript) if e.method == "GET" and e.query.get("externalId") == ext]
    looked = len(posts) <= 1 or all(any(posts[n - 1] < lk < posts[n] for lk in lookups) for n in range(1, len(posts)))
    outcome.record("lookup-before-repost", looked and bool(lookups),
                   f"{len(posts)} post(s), {len(lookups)} lookup(s) by externalId")
    outcome.queue = trace.rows()


def _retry_waits(made: st.ServiceTitanClient) -> list[str]:
    """Retries sent before the wait a 429/503 answer asked for."""
    early = []
    calls = [e for e in made.transcript if e.path != st.TOKEN_PATH]
    for index, exchange in enumerate(calls):
        if exchange.status in (429, 503) and exchange.retry_after is not None:
            later = next((e for e in calls[index + 1:] if e.path == exchange.path), None)
            if later is not None and later.at - exchange.at < exchange.retry_after:
                early.append(f"{exchange.method} {exchange.path}: retried after {later.at - exchange.at:.2f} s, "
                             f"asked {exchange.retry_after} s")
    return early


async def run_retry(session: Session, outcome: Outcome, catalog: dict) -> None:
    provider = _need_provider(session)
    trace = QueueTrace(catalog["queue"], session.clock)
    made = session.client(on_attempt=trace.on_attempt, retry=st.RetryPolicy.from_queue_policy(catalog["queue"].retry))
    leads = _leads(session)
    first, second = leads[0], leads[1 % len(leads)]
    session.inject(sim.Fault("status", path="/bookings", method="POST", status=429, retry_after=45),
                   sim.Fault("status", path="/bookings", method="POST", status=503, retry_after=2))
    trace.enqueue(first["lead_id"])
    await made.create_booking(provider, product_booking(session, catalog, first, "RETRY-01"))
    early = _retry_waits(made)
    server_early = session.simulator.early_retries if session.simulator else 0
    outcome.record("retry-after-honoured", not early and server_early == 0,
                   "; ".join(early) or f"{server_early} early retr(y/ies) seen by the server")
    states = trace.states(first["lead_id"])
    outcome.record("queue-retrying", "retrying" in states and states[-1] == "delivered" and not trace.illegal,
                   " -> ".join(states) + "".join(f"; {problem}" for problem in trace.illegal))
    blocked_id = second["lead_id"] + "#limit"
    trace.enqueue(blocked_id)
    session.inject(sim.Fault("status", path="/bookings", method="POST", status=503, retry_after=1,
                             times=made.retry.max_attempts + 5))
    try:
        await made.create_booking(provider, product_booking(session, catalog, second, "RETRY-01-limit"))
        delivered = True
    except st.RetriesExhausted:
        delivered = False
    item = trace.items[blocked_id]
    if not delivered:
        outcome.findings.append(Finding("handoff-undeliverable", blocked_id, "major", "failed-sync",
                                        f"still failing after {item.attempts} attempts"))
    outcome.record("blocked-after-limit", not delivered and item.state == "blocked" and item.runbook == "failed-sync"
                   and item.attempts == catalog["queue"].max_attempts and not trace.illegal,
                   " -> ".join(trace.states(blocked_id)) + f" after {item.attempts} attempts"
                   + "".join(f"; {problem}" for problem in trace.illegal))
    outcome.queue = trace.rows()


async def run_revoke(session: Session, outcome: Outcome, catalog: dict) -> None:
    provider = _need_provider(session)
    trace = QueueTrace(catalog["queue"], session.clock)
    made = session.client(on_attempt=trace.on_attempt, retry=st.RetryPolicy.from_queue_policy(catalog["queue"].retry))
    leads = _leads(session)[:3]
    local_before = len(_leads(session))
    revoked_error = None
    for index, lead in enumerate(leads):
        item = f"{lead['lead_id']}#{index}"
        trace.enqueue(item)
        if revoked_error is not None:
            trace.block(item, "authorization-revoked", "disconnect")
            continue
        if index == 1:
            session.revoke()
        try:
            await made.create_booking(provider, product_booking(session, catalog, lead, "REVOKE-01"))
        except st.AuthorizationError as exc:
            revoked_error = exc
            trace.block(item, "authorization-revoked", "disconnect")
    outcome.record("revocation-detected", revoked_error is not None,
                   str(revoked_error) if revoked_error else "no refusal seen after revocation")
    if revoked_error is not None:
        outcome.findings.append(Finding("authorization-revoked", "app connection", "blocker", "disconnect",
                                        "the tenant revoked the app's access; handoffs stopped"))
    rows = trace.rows()
    undelivered = [r for r in rows if r["states"][-1] != "delivered"]
    outcome.record("items-blocked-disconnect", bool(undelivered) and all(
        r["states"][-1] == "blocked" and r["runbook"] == "disconnect" for r in undelivered),
        ", ".join(f"{r['item']}: {r['states'][-1]}" for r in rows))
    outcome.record("nothing-deleted", len(_leads(session)) == local_before and len(rows) == len(leads),
                   f"{local_before} local leads before, {len(_leads(session))} after; {len(rows)} queue items kept")
    outcome.queue = rows


async def run_paging(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    pages = [page async for page in made.pages(api.JOB_TYPES.module, api.JOB_TYPES.path, page_size=2, params=api.ALL_RECORDS)]
    listed = [r["id"] for page in pages for r in page]
    whole = [r["id"] for r in await made.collect_all(api.JOB_TYPES, page_size=5000)]
    outcome.record("pages-complete", len(listed) == len(set(listed)) and sorted(listed) == sorted(whole)
                   and len(pages) == max(1, -(-len(whole) // 2)),
                   f"{len(pages)} pages of 2 gave {len(listed)} records; one page of 5000 gave {len(whole)}")
    exported = await made.collect_all(api.EXPORT_JOBS)
    ids = [r["id"] for r in exported]
    expected = [r["id"] for r in session.tenant.export_records("jpm/export/jobs")] \
        if session.tenant is not None and session.tenant.has_export("jpm/export/jobs") else ids
    follows = [e for e in made.transcript if e.path.endswith("/export/jobs") and "from" in e.query]
    outcome.record("export-followed", sorted(ids) == sorted(expected) and len(ids) == len(set(ids)),
                   f"{len(ids)} jobs in {len(follows) + 1} chunk(s); {len(expected)} expected")
    session.inject(sim.Fault("truncate", path="/job-types"))
    again = [r["id"] for r in await made.collect_all(api.JOB_TYPES, page_size=5000)]
    cut = [e for e in made.transcript if e.path.endswith("/job-types") and e.status == 200][-2:]
    outcome.record("truncated-retried", sorted(again) == sorted(whole) and len(cut) == 2,
                   f"{len(again)} records after a cut-off page")


def _leads_with_external_ids(session: Session) -> list[dict]:
    return [{**lead, "_external_id": external_id(session.credentials.tenant_id, lead["lead_id"])}
            for lead in _leads(session)]


# The outcome exports readiness.mapping.attribution reads, and campaigns for their names (lists hide inactive ones).
ATTRIBUTION_SOURCES = tuple(attribution.EXPORTS[name] for name in attribution.REQUIRED_EXPORTS)
CAMPAIGNS = "marketing/campaigns"


async def run_attribution(session: Session, outcome: Outcome, catalog: dict) -> None:
    modules = _modules(session, catalog)
    if not {"marketing", "accounting"} <= set(modules):
        outcome.findings.append(Finding("family-ineligible", "marketing/accounting", "info", "disconnect",
                                        "attribution to revenue needs the Marketing and Accounting modules"))
        outcome.record("attribution-linked", True, "not authorized for this tenant: reported, nothing attributed")
        outcome.record("unmatched-routed", True, "not authorized for this tenant")
        return
    local = _local_tenant(session, "the website leads to attribute")
    made = session.client()
    fetched = {}
    for source in ATTRIBUTION_SOURCES + (CAMPAIGNS,):
        fetched[source] = await made.collect_all(api.list_resource(source))
    rules = catalog["attribution"]
    result = attribution.attribute(_via_api(session, local, fetched), rules)
    found = attribution.findings(result)
    outcome.findings.extend(found)
    linked = attribution.summary(result, "API")
    if all(local.has_export(source) for source in ATTRIBUTION_SOURCES):
        expected = attribution.summary(attribution.attribute(local, rules), "API")
        outcome.record("attribution-linked", linked == expected,
                       f"{linked['match_rate']} of {linked['leads']} lead(s) linked via the API, "
                       f"{expected['match_rate']} from the exports; paid {linked['paid']} via the API, "
                       f"{expected['paid']} from the exports")
    else:
        outcome.record("attribution-linked", True, f"{linked['match_rate']} of {linked['leads']} lead(s) linked; "
                                                   "no recorded exports to compare")
    review = {f"lead {o.lead.id}" for o in result.outcomes if o.status != "matched"}
    routed = {f.subject for f in found if f.subject in review and f.runbook == attribution.RUNBOOK}
    outcome.record("unmatched-routed", routed == review, f"{len(review)} lead(s) listed for manual review")
    outcome.facts["revenue_by_campaign"] = {row["campaign"]: {"leads": row["leads"], "invoiced": row["invoiced"],
                                                              "paid": row["paid"]} for row in linked["by_campaign"]}


@dataclass(frozen=True)
class Posted:
    """One attribution post of a protocol test: the call, the body the product built and the lead it is for."""

    operation: api.Operation
    body: dict
    lead_id: str

    @property
    def attributed_id(self) -> int | None:
        key = api.ATTRIBUTIONS[self.operation].id_field
        return self.body.get(key) if key else None

    def listed_in(self, rows: list[dict]) -> bool:
        """Whether an attributed-leads row reports this post, with its lead type and attributed id."""
        post = api.ATTRIBUTIONS[self.operation]
        holder, field_name = post.listed_as
        return any(api.lead_type_of(row) == post.lead_type and (row.get(holder) or {}).get(field_name)
                   == self.attributed_id for row in rows)


async def hand_off_enquiry(made: st.ServiceTitanClient, session: Session, catalog: dict, lead: dict,
                           test: str) -> int:
    """A website enquiry handed off as the product would: its lead-form envelope through leads/form."""
    envelope = handoff.prepare_lead_form(protocol_lead(session, lead, test), _titan_map(session),
                                         catalog["queue"].offline)
    return await made.submit_lead_form(envelope)


async def post_attributions(made: st.ServiceTitanClient, session: Session, catalog: dict, test: str, *,
                            jobs: bool = False) -> list[Posted]:
    """The product's attribution posts: each booked website lead's web session as a web-booking attribution,
    one enquiry handed off through leads/form as a web-lead-form attribution with the returned leadId and,
    with ``jobs``, each booked job of a website lead as a job attribution. Every body is the handoff's."""
    leads = [lead for lead in _leads(session) if handoff.web_session_data(lead)]
    bookings = {b["externalId"]: b for b in await made.collect_all(api.EXPORT_BOOKINGS) if b.get("externalId")}
    booked = {lead["lead_id"]: bookings[external_id(session.credentials.tenant_id, lead["lead_id"])]
              for lead in leads if external_id(session.credentials.tenant_id, lead["lead_id"]) in bookings}
    wanted: list[tuple[api.Operation, int, dict]] = [
        (api.WEB_BOOKING_ATTRIBUTION, booked[lead["lead_id"]]["id"], lead) for lead in leads if lead["lead_id"] in booked]
    if jobs:
        by_booking = {j["bookingId"]: j for j in await made.collect_all(api.EXPORT_JOBS) if j.get("bookingId")}
        wanted += [(api.JOB_ATTRIBUTION, by_booking[booked[lead["lead_id"]]["id"]]["id"], lead) for lead in leads
                   if lead["lead_id"] in booked and booked[lead["lead_id"]]["id"] in by_booking]
    if leads:
        wanted.append((api.WEB_LEAD_FORM_ATTRIBUTION, await hand_off_enquiry(made, session, catalog, leads[0], test),
                       leads[0]))
    posted = []
    for operation, entity_id, lead in wanted:
        body = handoff.attribution_body(operation, entity_id, lead)
        await made.post_attribution(operation, body)
        posted.append(Posted(operation, body, lead["lead_id"]))
    return posted


def attribution_fields(envelopes: dict) -> set[str]:
    """Every field an attribution post may carry: the attributed ids and the web-session allow-list's fields."""
    return ({post.id_field for post in api.ATTRIBUTIONS.values() if post.id_field} | {"webSessionData"}
            | set(envelopes["web_session"]["fields"]))


async def run_ads(session: Session, outcome: Outcome, catalog: dict) -> None:
    if "marketing-ads" not in _modules(session, catalog):
        outcome.record("attribution-posts-accepted", True, "marketing ads not purchased: nothing posted")
        outcome.record("attribution-posts-minimal", True, "nothing posted")
        return
    made = session.client()
    posted = await post_attributions(made, session, catalog, "ATTR-02")
    kinds = {p.operation for p in posted}
    outcome.record("attribution-posts-accepted",
                   {api.WEB_BOOKING_ATTRIBUTION, api.WEB_LEAD_FORM_ATTRIBUTION} <= kinds,
                   f"{len(posted)} attribution post(s) accepted: "
                   + ", ".join(sorted({p.operation.path for p in posted})))
    fields = {k for p in posted for k in p.body} | {k for p in posted for k in p.body["webSessionData"]}
    outcome.record("attribution-posts-minimal", fields <= attribution_fields(catalog["envelopes"]),
                   f"fields sent: {sorted(fields)}")


def minimize(records: list[dict], kept: list[str]) -> list[dict]:
    return [{k: r[k] for k in kept if k in r} for r in records]


async def run_minimize(session: Session, outcome: Outcome, catalog: dict) -> None:
    retention = catalog.get("retention", {})
    made = session.client()
    kept_fields, dropped = {}, {}
    for source in sorted(retention):
        module, path = source.split("/", 1)
        if module not in {api.MODULE_URLS.get(m, m) for m in _modules(session, catalog)}:
            continue
        records = await made.collect(module, path)
        kept = minimize(records, retention[source])
        kept_fields[source] = sorted({k for r in kept for k in r})
        dropped[source] = sorted({k for r in records for k in r} - set(kept_fields[source]))
    outcome.record("kept-fields-minimal", all(set(kept_fields[s]) <= set(retention[s]) for s in kept_fields),
                   f"kept {kept_fields}")
    personal = {s: sorted(set(f) & PERSONAL_RESPONSE_FIELDS) for s, f in kept_fields.items()}
    outcome.record("nothing-personal-kept", not any(personal.values()),
                   f"personal fields kept: { {s: f for s, f in personal.items() if f} }")
    outcome.facts["dropped_fields"] = dropped


async def run_secret(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    messages = [repr(made), repr(made.credentials), repr(await made.token()), str(made.credentials.client_secret)]
    try:
        await made.call(api.JOB_TYPES, params={"notAParameter": "1"})
    except st.ApiError as exc:
        messages += [str(exc), repr(exc)]
    broken = st.Credentials(made.credentials.client_id, st.Secret("cs1.wrong-secret-for-protocol"),
                            made.credentials.app_key, made.credentials.tenant_id,
                            made.credentials.auth_url, made.credentials.api_url)
    try:
        await session.client(broken).token()
    except st.AuthorizationError as exc:
        messages += [str(exc), repr(exc)]
    values = session.secret_values() + ["cs1.wrong-secret-for-protocol"]
    shown = [v for v in values if any(v in m for m in messages)]
    outcome.record("errors-clean", not shown and len(messages) >= 7,
                   f"{len(shown)} secret(s) shown in {len(messages)} messages and reprs")


async def run_webhook(session: Session, outcome: Outcome, catalog: dict) -> None:
    simulator = session._need_simulator("subscribe a reachable test receiver to a sandbox webhook")
    policy = webhooks.WebhookPolicy.from_policy(catalog["webhooks"])
    key = hashlib.sha256(session.credentials.client_secret.reveal().encode()).hexdigest()[:48]
    epoch = 1_767_225_600.0  # the receiver's wall clock, moved by the simulator's virtual clock

    failures = {"left": 2}
    processed: list[str] = []

    def handler(event):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("receiver temporarily unavailable")
        processed.append(event[policy.id_field])

    receiver = webhooks.WebhookReceiver(policy, key, handler=handler, now=lambda: epoch + session.clock.now())
    sender = sim.WebhookSender(key, session.clock, policy.signature_header, webhooks.sign,
                               schedule=policy.retry_schedule, scale=WEBHOOK_SCALE)
    event = {policy.id_field: "evt-protocol-0001", policy.time_field: "2026-01-01T00:00:00Z",
             "eventType": "Booking.Updated", "data": {"id": 1}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app()), base_url="http://receiver") as http:
        ok = await sender.deliver(http, webhooks.RECEIVER_PATH, event)
        gaps = [round((b.at - a.at) / WEBHOOK_SCALE, 3) for a, b in zip(sender.deliveries, sender.deliveries[1:])]
        expected = list(policy.retry_schedule[:len(gaps)])
        outcome.record("webhook-retried-on-schedule", ok and len(sender.deliveries) == 3
                       and all(g >= e for g, e in zip(gaps, expected)),
                       f"{len(sender.deliveries)} deliveries, gaps {gaps} s (scaled back), schedule {expected}")
        again = await sender.deliver(http, webhooks.RECEIVER_PATH, event)
        outcome.record("webhook-processed-once", again and processed == [event[policy.id_field]]
                       and receiver.events[event[policy.id_field]].state == "duplicate",
                       f"processed {len(processed)} time(s); state {receiver.events[event[policy.id_field]].state}")
        forged = sim.WebhookSender("f" * 48, session.clock, policy.signature_header, webhooks.sign,
                                   schedule=(), scale=WEBHOOK_SCALE)
        accepted = await forged.deliver(http, webhooks.RECEIVER_PATH, {**event, policy.id_field: "evt-forged"})
        outcome.record("webhook-forged-rejected", not accepted and "evt-forged" not in receiver.events,
                       f"forged delivery answered {forged.deliveries[-1].status}")
    outcome.facts["webhook_events"] = receiver.operator_view()
    outcome.facts["simulator_requests"] = len(simulator.requests)


async def run_lead_form(session: Session, outcome: Outcome, catalog: dict) -> None:
    made = session.client()
    leads = _leads(session)
    lead = next((candidate for candidate in leads if handoff.web_session_data(candidate)), leads[0])
    envelope = handoff.prepare_lead_form(protocol_lead(session, lead, "LEAD-01"), _titan_map(session),
                                         catalog["queue"].offline)
    lead_id, refused = None, None
    try:
        lead_id = await made.submit_lead_form(envelope)
    except st.ApiError as exc:
        refused = f"{exc.status} {exc}"
    posts = {(e.path, e.request_sha256) for e in _api_calls(made) if e.method == "POST"}
    form_path = made.api_path(api.SUBMIT_LEAD_FORM.module, api.SUBMIT_LEAD_FORM.path)
    outcome.record("lead-form-used", lead_id is not None and {p for p, _ in posts} == {form_path},
                   f"posted to {sorted(p for p, _ in posts) or 'nothing'}; leadId {lead_id}"
                   + (f"; refused: {refused}" if refused else ""))
    allowed = set(catalog["envelopes"]["lead_form"]["fields"])
    message = str(lead.get("message") or "")
    sent = {digest for path, digest in posts if path == form_path}
    problems = [f"field {name!r} is not on the lead-form allow-list" for name in sorted(set(envelope) - allowed)]
    problems += ["the visitor's message is in the envelope" for value in _strings_in(envelope)
                 if message and message.casefold() in value.casefold()][:1]
    problems += [] if sent == {st.body_sha256(envelope)} else [
        f"the body sent is not the product's lead-form envelope ({len(sent)} post(s) to leads/form)"]
    outcome.record("lead-minimal", not problems, "; ".join(problems) or f"sent {sorted(envelope)}")
    if "marketing-ads" not in _modules(session, catalog):
        outcome.record("lead-attribution-chained", lead_id is not None,
                       "marketing ads not purchased: the lead is handed off, nothing attributed")
        return
    body = handoff.attribution_body(api.WEB_LEAD_FORM_ATTRIBUTION, lead_id, lead) if lead_id is not None else None
    accepted = False
    if body is not None:
        await made.post_attribution(api.WEB_LEAD_FORM_ATTRIBUTION, body)
        accepted = True
    outcome.record("lead-attribution-chained", accepted and body["leadId"] == lead_id,
                   f"web-lead-form attribution with leadId {lead_id}: "
                   + ("accepted" if accepted else "not posted (no leadId or no web session)"))


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _strings_in(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _strings_in(inner)]
    return [value] if isinstance(value, str) else []


def _utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_attribution_readback(session: Session, outcome: Outcome, catalog: dict) -> None:
    if "marketing-ads" not in _modules(session, catalog):
        outcome.record("attributions-listed", True, "marketing ads not purchased: nothing posted or read back")
        return
    made = session.client()
    start = session.utc_now().replace(microsecond=0)
    growth = session.tenant is not None and session.tenant.profile.get("package") == "growth"
    posted = await post_attributions(made, session, catalog, "ATTR-03", jobs=growth)
    end = session.utc_now().replace(microsecond=0) + timedelta(seconds=1)
    listed = await made.attributed_leads(_utc_text(start), _utc_text(end))
    missing = [p for p in posted if not p.listed_in(listed)]
    for post in missing:
        outcome.findings.append(Finding(
            "attribution-not-confirmed", f"lead {post.lead_id}", "major", attribution.RUNBOOK,
            f"the {api.ATTRIBUTIONS[post.operation].lead_type} attribution posted for it is not among "
            f"ServiceTitan's attributed leads of {_utc_text(start)} to {_utc_text(end)}"))
    kinds = sorted({api.ATTRIBUTIONS[p.operation].lead_type for p in posted})
    wanted = {"WebBooking", "WebLeadForm"} | ({"ManualJob"} if growth else set())
    outcome.record("attributions-listed", bool(posted) and not missing and wanted <= set(kinds),
                   f"{len(posted) - len(missing)} of {len(posted)} post(s) ({', '.join(kinds)}) listed among "
                   f"{len(listed)} attributed lead(s)" + (f"; expected every type of {sorted(wanted)}"
                                                          if not wanted <= set(kinds) else ""))
    outcome.facts["attributed_leads"] = {"posted": len(posted), "listed": len(listed), "missing": len(missing)}


def _window_params(operation: api.Operation, session: Session) -> dict:
    """Values for the time-window parameters a read requires (the last hour)."""
    now = session.utc_now().replace(microsecond=0)
    window = {"fromUtc": _utc_text(now - timedelta(hours=1)), "toUtc": _utc_text(now + timedelta(seconds=1))}
    return {name: window[name] for name in operation.required_params}


async def api_eligibility(made: st.ServiceTitanClient, calls: list[tuple[str, api.Operation]], added: set[str],
                          session: Session) -> dict[str, str]:
    """Per family, eligible or why not, from the product's own calls: a 403 on a scope the newest app version
    added, and the token does not carry, awaits the tenant administrator's acceptance of that version."""
    states: dict[str, str] = {}
    for family, operation in calls:
        try:
            await made.call(operation, params=_window_params(operation, session) or None)
            state = matrix.ELIGIBLE
        except st.ApiError as exc:
            token = made.current_token
            pending = operation.scope in added and token is not None and operation.scope not in token.scopes
            state = (matrix.AWAITING_ACCEPTANCE if exc.status == 403 and pending else
                     matrix.SCOPE_NOT_GRANTED if exc.status == 403 else f"blocked: answered {exc.status}")
        if states.get(family, matrix.ELIGIBLE) == matrix.ELIGIBLE:
            states[family] = state
    return states


async def run_scope_change(session: Session, outcome: Outcome, catalog: dict) -> None:
    added = set(session.test.get("adds_scopes", []))
    simulator = session._need_simulator(f"add {', '.join(sorted(added))} to the app in the developer portal (a new "
                                        "app version) and leave the new version unaccepted in the sandbox tenant")
    calls: list[tuple[str, api.Operation]] = []
    for family in matrix.Matrix(catalog["policies"]).families:
        for endpoint in family["endpoints"]:
            found = api.split_path(endpoint["path"])
            operation = api.operation(endpoint["method"], *found) if found else None
            if operation is not None and operation.method == "GET" and operation.scope in added:
                calls.append((family["id"], operation))  # the new capability first
    calls += [(probe.family, probe.operation) for probe in catalog["probes"]]
    before = await api_eligibility(session.client(), calls, set(), session)
    simulator.release_app_version(added)
    made = session.client()
    states = await api_eligibility(made, calls, added, session)
    for family, state in sorted(states.items()):
        if state == matrix.AWAITING_ACCEPTANCE or (state != matrix.ELIGIBLE and before[family] == matrix.ELIGIBLE):
            outcome.findings.append(Finding("family-ineligible", family, "major", "disconnect",
                                            f"the {family} family is {state} ({', '.join(sorted(added))})"
                                            if state == matrix.AWAITING_ACCEPTANCE else
                                            f"the {family} family is not reachable: {state}"))
    needing = {family for family, operation in calls if operation.scope in added}
    awaiting = {family for family, state in states.items() if state == matrix.AWAITING_ACCEPTANCE}
    routed = {f.subject for f in outcome.findings if f.kind == "family-ineligible" and f.runbook == "disconnect"}
    outcome.record("awaits-acceptance", bool(needing) and needing == awaiting and awaiting <= routed,
                   f"awaiting acceptance: {sorted(awaiting)}; families needing {sorted(added)}: {sorted(needing)}")
    working = {family for family, state in before.items() if state == matrix.ELIGIBLE and family not in needing}
    broken = {family: states[family] for family in sorted(working) if states[family] != matrix.ELIGIBLE}
    outcome.record("other-families-work", bool(working) and not broken,
                   f"{len(working) - len(broken)} of {len(working)} families that worked before the new version "
                   "still answer" + "".join(f"; {family}: {state}" for family, state in broken.items()))
    outcome.facts["eligibility"] = {"before": before, "after": states}
    local = _local_tenant(session, "the customer's tenant profile for the access checklist")
    profile = {**local.profile, "connection": {
        "status": "connected", "pending_scopes": sorted(added),
        "granted_scopes": sorted(set(made.current_token.scopes) & set(matrix.Matrix(catalog["policies"]).scopes()))}}
    name, text = access_packets.render_checklist(catalog["policies"], local.slug, profile)
    unlisted = access_packets.unlisted_pending_acceptance(text, added)
    outcome.record("checklist-lists-acceptance", not unlisted,
                   f"{name} does not list: {', '.join(unlisted)}" if unlisted else
                   f"{name} lists {', '.join(sorted(added))} as awaiting acceptance")


RUNNERS: dict[str, Callable[[Session, Outcome, dict], Awaitable[None]]] = {
    "TOKEN-01": run_token,
    "APPKEY-01": run_appkey,
    "SCOPE-01": run_scope,
    "SCOPE-02": run_scope_change,
    "IMPORT-01": run_import,
    "BOOK-01": run_booking,
    "RETRY-01": run_retry,
    "REVOKE-01": run_revoke,
    "PAGE-01": run_paging,
    "ATTR-01": run_attribution,
    "ATTR-02": run_ads,
    "ATTR-03": run_attribution_readback,
    "LEAD-01": run_lead_form,
    "MINIMIZE-01": run_minimize,
    "SECRET-01": run_secret,
    "WEBHOOK-01": run_webhook,
}
