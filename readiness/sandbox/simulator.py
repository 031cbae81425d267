"""A strict local simulator of ServiceTitan's integration environment, serving one fixture tenant.

It answers on the same paths and in the same shapes as the real API (token endpoint,
``/<module>/v2/tenant/<tenant>/...`` lists, export feeds, booking-provider bookings,
leads, marketing-ads attributions) and is strict: an unknown path or query parameter,
a missing header, a wrong app key, tenant or scope is an RFC 7807 error, never a
lenient default. It also accepts what widely used public clients send (token with
or without ``Bearer``, form-encoded token requests with extra query parameters,
``page`` as a string, ``from``/``includeRecentChanges`` on exports).

Operators of a test drive it from Python: :meth:`Simulator.connect` registers an app
connection with its granted scopes, :meth:`Simulator.revoke` revokes it,
:meth:`Simulator.inject` queues faults (5xx, 429, slow, dropped connection, dropped
after processing, truncated body), and :class:`WebhookSender` delivers signed
webhooks with ServiceTitan's retry schedule. Results are dry runs, never evidence.

``python -m readiness simulator --tenant fixtures/tenants/<slug>`` serves it on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import secrets
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from readiness.servicetitan import catalog
from readiness.servicetitan.client import SystemClock
from readiness.core.errors import OptionError
from readiness.core.tenants import FixtureTenant

RATE_LIMIT_PER_SECOND = 60
MAX_PAGE_SIZE = 5000
EXPORT_CHUNK = 5000
DEFAULT_TOKEN_LIFETIME = 900
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

SIMULATED_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # virtual time 0 as a UTC instant


def utc_at(seconds: float) -> datetime:
    """The UTC instant of a virtual clock reading."""
    return SIMULATED_EPOCH + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Endpoint:
    """One served call of the catalog (``readiness.servicetitan.catalog``) and the handler ``kind`` that serves it."""

    operation: catalog.Operation
    kind: str

    method = property(lambda self: self.operation.method)
    module = property(lambda self: self.operation.module)
    pattern = property(lambda self: self.operation.path)  # below /<module>/v2/tenant/<tenant>/
    scope = property(lambda self: self.operation.scope)
    params = property(lambda self: self.operation.params)

    @property
    def source(self) -> str | None:
        """The fixture export the data comes from (<module>/<path>), for lists and export feeds."""
        return f"{self.module}/{self.pattern}" if self.kind in ("list", "export") else None

    @property
    def regex(self) -> re.Pattern:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", self.pattern) + "$")


# Every call the simulator serves is a call of the catalog; only the handler is the simulator's own.
ENDPOINTS: tuple[Endpoint, ...] = tuple(Endpoint(op, kind) for op, kind in (
    *((op, "list") for op in (catalog.JOB_TYPES, catalog.BUSINESS_UNITS, catalog.ZONES, catalog.CAMPAIGNS,
                              catalog.PRICEBOOK_SERVICES, catalog.MEMBERSHIP_TYPES)),
    *((op, "export") for op in (catalog.EXPORT_JOBS, catalog.EXPORT_BOOKINGS, catalog.EXPORT_INVOICES,
                                catalog.EXPORT_PAYMENTS)),
    (catalog.PROVIDER_BOOKINGS, "list-bookings"),
    (catalog.CREATE_BOOKING, "create-booking"),
    (catalog.LEADS, "list-leads"),
    (catalog.CREATE_LEAD, "create-lead"),
    (catalog.SUBMIT_LEAD_FORM, "submit-lead-form"),
    (catalog.ATTRIBUTED_LEADS, "attributed-leads"),
    *((op, "attribution") for op in catalog.ATTRIBUTIONS),
))
CALL_REASONS: frozenset[int] = frozenset()  # the simulated tenant has no call reasons configured


class VirtualClock:
    """Time that moves only when someone waits (or a request takes its modelled latency): tests run instantly."""

    def __init__(self, start: float = 0.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class TenantData:
    """What the simulator serves: the tenant id, purchased modules and records per fixture export path."""

    tenant_id: int
    modules: list[str]
    records: dict[str, list[dict]]
    name: str = "tenant"
    granted: set[str] | None = None  # a connected tenant's approved, unexpired scopes; None: all purchased

    @classmethod
    def from_fixture(cls, tenant: FixtureTenant) -> "TenantData":
        tenant.check_readable()
        records = {e.source: list(tenant.export_records(e.source)) for e in ENDPOINTS
                   if e.source and tenant.has_export(e.source)}
        profile = tenant.profile
        connection = profile.get("connection") or {}
        granted = None
        if connection.get("status") == "connected":
            granted = set(connection.get("granted_scopes", [])) - set(connection.get("expired_scopes", []))
        return cls(int(profile["tenant_id"]), list(profile["purchased_modules"]), records, tenant.slug, granted)


@dataclass
class Connection:
    client_id: str
    client_secret: str
    app_key: str
    tenant_id: int
    scopes: set[str]  # the scopes of the app versions the tenant administrator accepted
    revoked: bool = False
    pending: dict[str, int] = field(default_factory=dict)  # scope -> the app version, not yet accepted, adding it


@dataclass
class Fault:
    """A fault served instead of (or around) the next matching requests.

    kind: ``status`` (answer ``status``; 429 and 503 carry ``retry_after``), ``slow`` (wait ``delay`` s first),
    ``drop`` (close before answering), ``drop-after`` (process, then close), ``truncate`` (cut the body).
    """

    kind: str
    path: str = ""  # substring of the request path; empty matches every API call
    method: str | None = None
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1


class SimulatedDisconnect(ConnectionResetError):
    """The simulator dropped the connection on purpose (fault injection)."""


def problem(status: int, title: str, trace_id: str, errors: dict | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"type": f"https://httpstatuses.io/{status}", "title": title, "status": status, "traceId": trace_id,
            "errors": errors or {}, "data": {}}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


class Simulator:
    def __init__(self, tenant: TenantData, *, clock=None, token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
                 rate_limit: int = RATE_LIMIT_PER_SECOND, latency: float = 0.0, export_chunk: int = EXPORT_CHUNK,
                 token_prefix: str = "sim."):
        self.tenant = tenant
        self.clock = clock or VirtualClock()
        self.token_lifetime = token_lifetime
        self.rate_limit = rate_limit
        self.latency = latency
        self.export_chunk = export_chunk
        self.token_prefix = token_prefix
        self.connections: dict[str, Connection] = {}
        self.tokens: dict[str, tuple[Connection, float]] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict] = []
        self.early_retries = 0
        self.server_seconds = 0.0
        self._windows: dict[tuple, deque] = {}
        self._retry_deadline: dict[tuple, float] = {}
        self._trace = 0
        self.bookings: list[dict] = [dict(b) for b in tenant.records.get("crm/export/bookings", [])]
        self.leads: list[dict] = []
        self.attributions: list[dict] = []  # accepted attribution posts, with their path and time
        self.posted: list[dict] = []  # every JSON body the API received: method, path, body
        self.app_version = 1
        self._next_id = 9_000_000
        self.app = Starlette(routes=[
            Route("/connect/token", self._token_endpoint, methods=["POST"]),
            Route(catalog.api_path("{module}", "{rest:path}", "{tenant}"), self._api, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ])
        self.app.add_exception_handler(404, self._not_found)
        self.app.add_exception_handler(405, self._not_found)

    # -- operator controls ----------------------------------------------------------------------------------
    def connect(self, client_id: str, client_secret: str, app_key: str, scopes=None) -> Connection:
        if scopes is not None:
            granted = set(scopes)
        elif self.tenant.granted is not None:
            granted = set(self.tenant.granted)
        else:
            granted = catalog.scopes_for_modules(self.tenant.modules)
        connection = Connection(client_id, client_secret, app_key, self.tenant.tenant_id, granted)
        self.connections[client_id] = connection
        return connection

    def revoke(self, client_id: str) -> None:
        self.connections[client_id].revoked = True

    def release_app_version(self, added_scopes) -> int:
        """A new app version that adds scopes: until a tenant's administrator accepts it, calls needing them are
        refused on every connection, while calls on the accepted scopes keep working."""
        self.app_version += 1
        for connection in self.connections.values():
            for scope in added_scopes:
                connection.scopes.discard(scope)
                connection.pending[scope] = self.app_version
        return self.app_version

    def accept_app_version(self, client_id: str) -> None:
        connection = self.connections[client_id]
        connection.scopes |= set(connection.pending)
        connection.pending.clear()

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def issued_tokens(self) -> list[str]:
        return list(self.tokens)

    # -- plumbing -------------------------------------------------------------------------------------------
    def _trace_id(self) -> str:
        self._trace += 1
        return f"sim-{self._trace:08d}"

    async def _not_found(self, request: Request, exc) -> Response:
        return problem(404, f"Unknown path {request.url.path}", self._trace_id())

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.path in path and fault.method in (None, method):
                fault.times -= 1
                return fault
        return None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)

    # -- token endpoint -------------------------------------------------------------------------------------
    async def _token_endpoint(self, request: Request) -> Response:
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return JSONResponse({"error": "invalid_request", "error_description": "form-encoded body required"}, 400)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        connection = self.connections.get(form.get("client_id", ""))
        if connection is None or not secrets.compare_digest(connection.client_secret, form.get("client_secret", "")):
            return JSONResponse({"error": "invalid_client"}, 400)
        if connection.revoked:
            return JSONResponse({"error": "invalid_client", "error_description": "application access was revoked"}, 400)
        token = self.token_prefix + secrets.token_urlsafe(24)
        self.tokens[token] = (connection, self.clock.now() + self.token_lifetime)
        return JSONResponse({"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer",
                             "scope": " ".join(sorted(connection.scopes))})

    # -- API ------------------------------------------------------------------------------------------------
    async def _api(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        if isinstance(self.clock, VirtualClock):
            self.clock.advance(self.latency)
        method, path = request.method, request.url.path
        entry = {"method": method, "path": path, "at": self.clock.now(), "status": None}
        self.requests.append(entry)
        fault = self._take_fault(method, path)
        try:
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.kind == "drop":
                entry["status"] = "dropped"
                raise SimulatedDisconnect("simulated dropped connection")
            response = await self._handle(request, fault)
            entry["status"] = response.status_code
            if fault is not None and fault.kind == "drop-after":
                entry["status"] = f"dropped after {response.status_code}"
                raise SimulatedDisconnect("simulated dropped connection after processing")
            if fault is not None and fault.kind == "truncate" and response.status_code == 200:
                return Response(response.body[: max(1, len(response.body) // 2)], 200,
                                media_type="application/json")
            return response
        finally:
            self.server_seconds += asyncio.get_running_loop().time() - started

    async def _handle(self, request: Request, fault: Fault | None) -> Response:
        method, module = request.method, request.path_params["module"]
        rest, tenant_text = request.path_params["rest"], request.path_params["tenant"]
        endpoint, args = self._route(method, module, rest)
        if endpoint is None:
            return problem(404 if args is None else 405, f"Unknown path {request.url.path}"
                           if args is None else f"Method {method} is not allowed on {request.url.path}", self._trace_id())
        connection, error = self._authenticate(request)
        if error is not None:
            return error
        if not tenant_text.isdigit() or int(tenant_text) != connection.tenant_id:
            return problem(403, f"The application is not authorized for tenant {tenant_text}", self._trace_id())
        if endpoint.scope in connection.pending:
            return problem(403, f"Scope {endpoint.scope} needs app version {connection.pending[endpoint.scope]}, "
                                "which the tenant administrator has not accepted", self._trace_id(),
                           {"scope": [endpoint.scope]})
        if endpoint.scope not in connection.scopes:
            return problem(403, f"Missing scope {endpoint.scope}", self._trace_id(), {"scope": [endpoint.scope]})
        limited = self._rate_limit(connection)
        if limited is not None:
            return limited
        if fault is not None and fault.kind == "status":
            return self._fault_response(connection, fault)
        unknown = sorted(set(request.query_params) - endpoint.params)
        if unknown:
            return problem(400, "Unknown query parameter", self._trace_id(),
                           {name: [f"'{name}' is not a parameter of {method} {endpoint.pattern}"] for name in unknown})
        missing = sorted(endpoint.operation.required_params - set(request.query_params))
        if missing:
            return problem(400, "One or more validation errors occurred.", self._trace_id(),
                           {name: [f"'{name}' is required"] for name in missing})
        handler = getattr(self, "_" + endpoint.kind.replace("-", "_"))
        return await handler(request, endpoint, args)

    def _route(self, method: str, module: str, rest: str) -> tuple[Endpoint | None, dict | None]:
        matched_path = None
        for endpoint in ENDPOINTS:
            if endpoint.module != module:
                continue
            match = endpoint.regex.match(rest)
            if match is None:
                continue
            matched_path = {}
            if endpoint.method == method:
                return endpoint, {k: int(v) for k, v in match.groupdict().items()}
        return None, matched_path

    def _authenticate(self, request: Request) -> tuple[Connection | None, Response | None]:
        header = request.headers.get("authorization", "").strip()
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        if not token:
            return None, problem(401, "Authorization header is required", self._trace_id())
        known = self.tokens.get(token)
        if known is None:
            return None, problem(401, "Invalid access token", self._trace_id())
        connection, expires_at = known
        if self.clock.now() >= expires_at:
            return None, problem(401, "Access token expired", self._trace_id())
        if connection.revoked:
            return None, problem(401, "Application access was revoked", self._trace_id())
        app_key = request.headers.get("st-app-key", "")
        if not app_key:
            return None, problem(401, "ST-App-Key header is required", self._trace_id())
        if not secrets.compare_digest(app_key, connection.app_key):
            return None, problem(401, "ST-App-Key does not match the application of this token", self._trace_id())
        return connection, None

    def _rate_limit(self, connection: Connection) -> Response | None:
        key = (connection.app_key, connection.tenant_id)
        now = self.clock.now()
        deadline = self._retry_deadline.get(key)
        if deadline is not None and now < deadline:
            self.early_retries += 1
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            wait = max(1, math.ceil(window[0] + 1.0 - now))
            self._retry_deadline[key] = now + wait
            return self._too_many(wait)
        window.append(now)
        return None

    def _too_many(self, wait: int) -> Response:
        return problem(429, f"The request limit was exceeded. Please try again in {wait} seconds.",
                       self._trace_id(), headers={"Retry-After": str(wait)})

    def _fault_response(self, connection: Connection, fault: Fault) -> Response:
        if fault.retry_after is not None:
            self._retry_deadline[(connection.app_key, connection.tenant_id)] = self.clock.now() + fault.retry_after
        if fault.status == 429:
            return self._too_many(fault.retry_after or 1)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return problem(fault.status, "Service temporarily unavailable (simulated fault)", self._trace_id(),
                       headers=headers)

    # -- handlers -------------------------------------------------------------------------------------------
    def _page(self, request: Request, records: list[dict], *, active_default: str | None = None) -> Response:
        """One page of a list. Lists with an ``active`` filter return only active records unless asked (as ST does)."""
        query = request.query_params
        errors = {}
        page, size = query.get("page", "1"), query.get("pageSize", "50")
        if not page.isdigit() or int(page) < 1:
            errors["page"] = ["must be a whole number from 1"]
        if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE_SIZE:
            errors["pageSize"] = [f"must be a whole number from 1 to {MAX_PAGE_SIZE}"]
        active = query.get("active", active_default)
        if active is not None and active.lower() not in ("true", "false", "any"):
            errors["active"] = ["must be True, False or Any"]
        ids = query.get("ids")
        if ids is not None and not all(p.strip().isdigit() for p in ids.split(",")):
            errors["ids"] = ["must be a comma-separated list of ids"]
        if errors:
            return problem(400, "One or more validation errors occurred.", self._trace_id(), errors)
        if active is not None and active.lower() != "any":
            records = [r for r in records if bool(r.get("active", True)) == (active.lower() == "true")]
        if ids is not None:
            wanted = {int(p) for p in ids.split(",")}
            records = [r for r in records if r.get("id") in wanted]
        page, size = int(page), int(size)
        chunk = records[(page - 1) * size: page * size]
        body = {"page": page, "pageSize": size, "hasMore": page * size < len(records), "data": chunk}
        if query.get("includeTotal", "").lower() == "true":
            body["totalCount"] = len(records)
        return _json(body)

    async def _list(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        return self._page(request, self.tenant.records.get(endpoint.source, []), active_default="True")

    async def _export(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        records = self.tenant.records.get(endpoint.source, [])
        cursor = request.query_params.get("from")
        recent = request.query_params.get("includeRecentChanges")
        if recent is not None and recent.lower() not in ("true", "false"):
            return problem(400, "One or more validation errors occurred.", self._trace_id(),
                           {"includeRecentChanges": ["must be true or false"]})
        start = 0
        if cursor:
            prefix = f"sim-{endpoint.pattern.replace('/', '-')}-"
            if not cursor.startswith(prefix) or not cursor[len(prefix):].isdigit():
                return problem(400, "One or more validation errors occurred.", self._trace_id(),
                               {"from": ["not a continuation token of this export"]})
            start = int(cursor[len(prefix):])
        chunk = records[start:start + self.export_chunk]
        end = start + len(chunk)
        return _json({"hasMore": end < len(records),
                      "continueFrom": f"sim-{endpoint.pattern.replace('/', '-')}-{end}", "data": chunk})

    def _provider_ids(self) -> set[int]:
        """The tenant's booking providers; a tenant with no recorded bookings has the app's own provider, 1."""
        return {b["bookingProviderId"] for b in self.bookings if b.get("bookingProviderId")} or {1}

    async def _list_bookings(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        provider = args["booking_provider"]
        if provider not in self._provider_ids():
            return problem(404, f"Booking provider {provider} not found", self._trace_id())
        records = [b for b in self.bookings if b.get("bookingProviderId") == provider]
        external = request.query_params.get("externalId")
        if external is not None:
            records = [b for b in records if b.get("externalId") == external]
        return self._page(request, records)

    async def _json_body(self, request: Request) -> tuple[dict | None, Response | None]:
        if "application/json" not in request.headers.get("content-type", ""):
            return None, problem(415, "Content-Type must be application/json", self._trace_id())
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None, problem(400, "The request body is not valid JSON", self._trace_id())
        if not isinstance(body, dict):
            return None, problem(400, "The request body must be a JSON object", self._trace_id())
        self.posted.append({"method": request.method, "path": request.url.path, "body": body})
        return body, None

    async def _valid_body(self, request: Request, endpoint: Endpoint) -> tuple[dict | None, Response | None]:
        """The request body, or an RFC 7807 400 naming every field that breaks the published request schema."""
        body, error = await self._json_body(request)
        if error is None:
            errors = catalog.body_errors(endpoint.operation, body)
            if errors:
                error = problem(400, "One or more validation errors occurred.", self._trace_id(), errors)
        return body, error

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _utc_now(self) -> datetime:
        """The served tenant's wall clock: virtual time as a UTC instant, or the real time on a real clock."""
        if isinstance(self.clock, VirtualClock):
            return utc_at(self.clock.now())
        return datetime.now(timezone.utc)

    def _stamp(self) -> str:
        return self._utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")

    async def _create_booking(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        body, error = await self._valid_body(request, endpoint)
        if error:
            return error
        provider = args["booking_provider"]
        if provider not in self._provider_ids():
            return problem(404, f"Booking provider {provider} not found", self._trace_id())
        stamp = self._stamp()
        booking = {**body, "id": self._new_id(), "createdOn": stamp, "modifiedOn": stamp, "status": "New",
                   "bookingProviderId": provider, "start": body.get("start") or stamp}
        self.bookings.append(booking)
        return _json(booking)

    async def _list_leads(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        return self._page(request, self.leads)

    def _lead(self, fields: dict) -> dict:
        stamp = self._stamp()
        lead = {**fields, "id": self._new_id(), "status": "Open", "priority": fields.get("priority", "Normal"),
                "createdOn": stamp, "createdById": 1, "modifiedOn": stamp}
        self.leads.append(lead)
        return lead

    async def _create_lead(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        body, error = await self._valid_body(request, endpoint)
        if error:
            return error
        errors = {}
        campaigns = {c["id"] for c in self.tenant.records.get("marketing/campaigns", [])}
        if body["campaignId"] not in campaigns:
            errors["campaignId"] = [f"campaign {body['campaignId']} not found"]
        if body.get("callReasonId") is None and body.get("followUpDate") is None:
            errors["callReasonId"] = ["callReasonId or followUpDate is required"]
        elif body.get("callReasonId") is not None and body["callReasonId"] not in CALL_REASONS:
            errors["callReasonId"] = [f"call reason {body['callReasonId']} not found"]
        if errors:
            return problem(400, "One or more validation errors occurred.", self._trace_id(), errors)
        return _json(self._lead(body))

    async def _submit_lead_form(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        body, error = await self._valid_body(request, endpoint)
        if error:
            return error
        return _json({"leadId": self._lead({"summary": body.get("summary", ""), "form": True})["id"]})

    def _known_ids(self, key: str | None) -> set[int] | None:
        if key == "bookingId":
            return {b["id"] for b in self.bookings}
        if key == "leadId":
            return {lead["id"] for lead in self.leads}
        if key == "jobId":
            return {j["id"] for j in self.tenant.records.get("jpm/export/jobs", [])}
        return None

    async def _attribution(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        body, error = await self._json_body(request)
        if error:
            return error
        errors = catalog.body_errors(endpoint.operation, body)
        post = catalog.ATTRIBUTIONS[endpoint.operation]
        key = post.id_field
        known = self._known_ids(key)
        if known is not None and isinstance(body.get(key), int) and body[key] not in known:
            errors[key] = [f"{key} {body[key]} not found"]
        if errors:
            return problem(400, "One or more validation errors occurred.", self._trace_id(), errors)
        self.attributions.append({"post": post, "at": self._utc_now(), "body": body})
        return Response(status_code=200)

    async def _attributed_leads(self, request: Request, endpoint: Endpoint, args: dict) -> Response:
        """Accepted attributions in [fromUtc, toUtc), shaped as the published GetAttributedLeadsResponse."""
        query, errors = request.query_params, {}
        window = {}
        for name in ("fromUtc", "toUtc"):
            try:
                window[name] = datetime.fromisoformat(query[name].replace("Z", "+00:00"))
                if window[name].tzinfo is None:
                    raise ValueError(name)
            except ValueError:
                errors[name] = ["must be a date-time with a time zone"]
        lead_type = query.get("leadType")
        if lead_type is not None and lead_type not in catalog.LEAD_TYPES:
            errors["leadType"] = [f"must be one of {', '.join(catalog.LEAD_TYPES)}"]
        if errors:
            return problem(400, "One or more validation errors occurred.", self._trace_id(), errors)
        rows = [_attributed_lead(a, a["at"]) for a in self.attributions
                if window["fromUtc"] <= a["at"] < window["toUtc"]
                and lead_type in (None, a["post"].lead_type)]
        return self._page(request, rows)


def _attributed_lead(attribution: dict, at: datetime) -> dict:
    """One row of attributed-leads: every field the published response requires, filled as ServiceTitan would."""
    body, session = attribution["body"], attribution["body"]["webSessionData"]
    row = catalog.blank(catalog.row_schema(catalog.ATTRIBUTED_LEADS))
    row["dateTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    post = attribution["post"]
    row["leadType"] = catalog.LEAD_TYPES.index(post.lead_type) + 1
    row["attribution"].update({k: v for k, v in session.items() if k in row["attribution"] and v})
    row["attribution"]["clickId"] = session.get("gclid") or session.get("msclkid") or session.get("fbclid") or ""
    row["attribution"]["originalCampaign"] = row["attribution"]["utmCampaign"]
    if post.listed_as is not None:
        holder, field_name = post.listed_as
        row.setdefault(holder, {})[field_name] = body[post.id_field]
    if post.lead_type == "WebLeadForm":
        row["leadForm"]["leadStatus"] = "Open"
    return row


def _json(body: Any) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), 200, media_type="application/json")


# -- webhooks (ServiceTitan's side: signed delivery with its retry schedule) -----------------------------------
RETRY_SCHEDULE = (10, 30, 60, 300)


@dataclass
class Delivery:
    attempt: int
    at: float
    status: int | str


@dataclass
class WebhookSender:
    """Delivers one event: signs the body with the HMAC key, retries at 10, 30, 60, 300 s (times ``scale``)."""

    key: str
    clock: Any
    signature_header: str
    sign: Callable[[bytes, str], str]
    schedule: tuple[float, ...] = RETRY_SCHEDULE
    scale: float = 1.0
    deliveries: list[Delivery] = field(default_factory=list)

    async def deliver(self, http: httpx.AsyncClient, url: str, event: dict) -> bool:
        body = json.dumps(event, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", self.signature_header: self.sign(body, self.key)}
        for attempt in range(len(self.schedule) + 1):
            if attempt:
                await self.clock.sleep(self.schedule[attempt - 1] * self.scale)
            try:
                response = await http.post(url, content=body, headers=headers)
                status: int | str = response.status_code
            except (httpx.TransportError, OSError) as exc:
                status = f"failed: {type(exc).__name__}"
            self.deliveries.append(Delivery(attempt + 1, self.clock.now(), status))
            if isinstance(status, int) and 200 <= status < 300:
                return True
        return False


# -- command line ---------------------------------------------------------------------------------------------
def generated_credentials(seed: str | None = None) -> dict[str, str]:
    """Fake credentials in ServiceTitan's formats, generated at run time (derived from ``seed`` when given)."""
    seed = seed or secrets.token_hex(16)

    def part(name: str, length: int) -> str:
        return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:length]

    return {"client_id": "cid." + part("client_id", 24), "client_secret": "cs1." + part("client_secret", 40),
            "app_key": "ak1." + part("app_key", 32)}


def serve(tenant_folder: Path, *, host: str = "127.0.0.1", port: int = 8765,
          token_lifetime: int = DEFAULT_TOKEN_LIFETIME) -> None:
    """Serve ``tenant_folder`` on loopback until interrupted; the session's fake credentials go to stderr."""
    import uvicorn

    if host not in LOOPBACK_HOSTS:
        raise OptionError(f"--host {host}: the simulator binds loopback only (127.0.0.1)")
    if not (tenant_folder / "tenant.yaml").is_file():
        raise OptionError(f"--tenant {tenant_folder}: not a tenant folder (no tenant.yaml)")
    data = TenantData.from_fixture(FixtureTenant(tenant_folder))
    simulator = Simulator(data, clock=SystemClock(), token_lifetime=token_lifetime)
    creds = generated_credentials()
    simulator.connect(**creds)
    base = f"http://{host}:{port}"
    print(f"ServiceTitan simulator (dry runs only, not sandbox evidence) serving {data.name} "
          f"(tenant {data.tenant_id}) on {base}\n"
          f"Generated for this session only (fake, discarded on exit):\n"
          f"  ST_AUTH_URL={base} ST_API_URL={base} ST_TENANT_ID={data.tenant_id}\n"
          f"  ST_CLIENT_ID={creds['client_id']} ST_CLIENT_SECRET={creds['client_secret']} ST_APP_KEY={creds['app_key']}\n"
          f"Booking provider ids: {', '.join(str(i) for i in sorted(simulator._provider_ids())) or 'none'}\n"
          f"Try: curl -s -d grant_type=client_credentials -d client_id=... -d client_secret=... {base}/connect/token",
          file=sys.stderr, flush=True)
    uvicorn.run(simulator.app, host=host, port=port, log_level="warning", access_log=False)
