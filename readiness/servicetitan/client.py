"""ServiceTitan API client used by the sandbox protocol (httpx, async).

What it does, as ServiceTitan documents it: OAuth2 client credentials against the
token URL (lifetime read from ``expires_in``, refreshed before it runs out),
``Authorization: Bearer`` plus ``ST-App-Key`` on every call, tenant-scoped paths
``/<module>/v2/tenant/<tenant>/<path>``, list paging by ``page``/``hasMore``,
export feeds by ``from``/``continueFrom``, retries on 429/5xx/dropped
connections honouring ``Retry-After`` (or the seconds named in the RFC 7807
``title``), and RFC 7807 error bodies turned into one-line errors.

Credentials come only from environment variables (:data:`ENV_VARS`). They live in
:class:`Secret` wrappers whose ``repr``/``str`` never show the value, and no log
line, exception message or transcript entry contains them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from readiness.core.errors import OptionError, ReadinessError
from readiness.servicetitan import catalog

ENV_VARS = {
    "client_id": "ST_CLIENT_ID",
    "client_secret": "ST_CLIENT_SECRET",
    "app_key": "ST_APP_KEY",
    "tenant_id": "ST_TENANT_ID",
}
URL_VARS = {"auth_url": "ST_AUTH_URL", "api_url": "ST_API_URL"}
INTEGRATION_URLS = {
    "auth_url": "https://auth-integration.servicetitan.io",
    "api_url": "https://api-integration.servicetitan.io",
}
PRODUCTION_HOSTS = frozenset({"api.servicetitan.io", "auth.servicetitan.io"})
TOKEN_PATH = "/connect/token"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_TITLE_SECONDS = re.compile(r"(\d+)\s+seconds?\.?\s*$")

log = logging.getLogger("readiness.servicetitan.client")


class Secret:
    """A credential or token. Only :meth:`reveal` gives the value; every other view is masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled or copied to disk")


class ApiError(ReadinessError):
    """A ServiceTitan error response (RFC 7807), as one line: method, path, status, title, trace id."""

    def __init__(self, method: str, path: str, status: int | None, title: str, *,
                 problem_type: str | None = None, trace_id: str | None = None, errors: dict | None = None):
        self.method, self.path, self.status, self.title = method, path, status, title
        self.problem_type, self.trace_id, self.errors = problem_type, trace_id, errors or {}
        status_text = f"{status} " if status else ""
        trace = f" (traceId {trace_id})" if trace_id else ""
        fields = f" [{'; '.join(f'{k}: {v}' for k, v in sorted(self.errors.items()))}]" if self.errors else ""
        super().__init__(None, f"{method} {path}: {status_text}{title}{fields}{trace}")


class AuthorizationError(ApiError):
    """The token endpoint refused the credentials: the connection is revoked, expired or misconfigured."""


class RetriesExhausted(ApiError):
    """A call still failed after the retry policy's last attempt."""


class TransientFailure(Exception):
    """One attempt that may be retried: a retryable status, a dropped connection, a timeout, a cut-off body."""

    def __init__(self, status: int | None, reason: str, wait: float | None = None, response: httpx.Response | None = None):
        super().__init__(reason)
        self.status, self.reason, self.wait, self.response = status, reason, wait, response


@dataclass(frozen=True, repr=False)
class Credentials:
    client_id: Secret
    client_secret: Secret
    app_key: Secret
    tenant_id: str
    auth_url: str = INTEGRATION_URLS["auth_url"]
    api_url: str = INTEGRATION_URLS["api_url"]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Credentials":
        """Read every credential variable; a missing one is a clear error naming all that are missing."""
        environ = os.environ if environ is None else environ
        missing = [name for name in ENV_VARS.values() if not environ.get(name, "").strip()]
        if missing:
            raise OptionError(
                "--sandbox integration needs these environment variables: " + ", ".join(missing)
                + f" (all of: {', '.join(ENV_VARS.values())}; optional: {', '.join(URL_VARS.values())})"
            )
        tenant = environ[ENV_VARS["tenant_id"]].strip()
        if not tenant.isdigit():
            raise OptionError(f"{ENV_VARS['tenant_id']} must be the numeric ServiceTitan tenant id")
        urls = {key: environ.get(var, "").strip() or INTEGRATION_URLS[key] for key, var in URL_VARS.items()}
        for key, url in urls.items():
            refuse_production(url, URL_VARS[key])
        return cls(
            client_id=Secret(environ[ENV_VARS["client_id"]].strip()),
            client_secret=Secret(environ[ENV_VARS["client_secret"]].strip()),
            app_key=Secret(environ[ENV_VARS["app_key"]].strip()),
            tenant_id=tenant,
            **urls,
        )

    def secret_values(self) -> list[str]:
        return [self.client_id.reveal(), self.client_secret.reveal(), self.app_key.reveal()]

    def __repr__(self) -> str:
        return f"Credentials(tenant_id={self.tenant_id!r}, api_url={self.api_url!r}, secrets=********)"


def refuse_production(url: str, name: str = "URL") -> None:
    """The protocol runs only against the integration environment (or a local simulator), never production."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise OptionError(f"{name} {url!r}: not an absolute http(s) URL")
    if host in PRODUCTION_HOSTS:
        raise OptionError(
            f"{name} points at production ({host}); the sandbox protocol runs only against the integration "
            "environment (auth-integration.servicetitan.io / api-integration.servicetitan.io)"
        )


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(repr=False)
class Token:
    value: Secret
    issued_at: float
    expires_in: int
    scopes: tuple[str, ...] = ()

    @property
    def expires_at(self) -> float:
        return self.issued_at + self.expires_in

    @property
    def refresh_at(self) -> float:
        """Refresh ahead of expiry: a minute early, or a fifth of the lifetime when that is shorter."""
        return self.expires_at - min(60.0, self.expires_in / 5)

    def __repr__(self) -> str:
        return f"Token(expires_in={self.expires_in}, scopes={len(self.scopes)}, value=********)"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # used when the server names no wait
    max_wait: float = 300.0

    def fallback_wait(self, attempt: int) -> float:
        return self.backoff[min(attempt - 1, len(self.backoff) - 1)]

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """The backoff after the ``attempt``-th failure, or the server's Retry-After when longer; capped."""
        return min(max(self.fallback_wait(attempt), retry_after or 0.0), self.max_wait)

    @classmethod
    def from_queue_policy(cls, retry: dict) -> "RetryPolicy":
        """The retry rules of ``policies/sync-queue.yaml`` (max attempts, backoff, longest wait)."""
        return cls(max_attempts=retry["max_attempts"], backoff=tuple(float(s) for s in retry["backoff_seconds"]),
                   max_wait=float(retry["max_wait_seconds"]))


@dataclass
class Exchange:
    """One request as the transcript keeps it: no header values, no bodies, only their hashes and key names."""

    seq: int
    at: float
    method: str
    path: str
    query: dict[str, str]
    status: int | None
    request_keys: list[str] = field(default_factory=list)
    request_sha256: str | None = None
    response_sha256: str | None = None
    response_bytes: int = 0
    retry_after: float | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], {})} | {"status": self.status}


def body_sha256(body: Any) -> str:
    """The digest the transcript records for a JSON request body (keys sorted), so a body can be recognised."""
    return _sha256(json.dumps(body, sort_keys=True).encode())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a 429/503 asks for: the ``Retry-After`` header, else the seconds named at the end of the title."""
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return float(header)
    try:
        title = response.json().get("title", "")
    except (ValueError, AttributeError):
        return None
    match = _TITLE_SECONDS.search(title or "")
    return float(match.group(1)) if match else None


def problem_error(method: str, path: str, response: httpx.Response, cls: type[ApiError] = ApiError) -> ApiError:
    """An RFC 7807 body turned into an :class:`ApiError`; a non-JSON body still gives a readable line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return cls(method, path, response.status_code, response.reason_phrase or "error")
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return cls(method, path, response.status_code, str(body.get("title") or response.reason_phrase),
               problem_type=body.get("type"), trace_id=body.get("traceId"), errors=errors)


class ServiceTitanClient:
    """The product's future ServiceTitan client. Every attempt lands in :attr:`transcript` and :attr:`attempts`."""

    def __init__(self, credentials: Credentials, *, transport: httpx.AsyncBaseTransport | None = None,
                 clock=None, retry: RetryPolicy | None = None, timeout: float = 30.0,
                 on_attempt: Callable[[dict], None] | None = None):
        self.credentials = credentials
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.on_attempt = on_attempt
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
        self._token: Token | None = None
        self.token_grants = 0
        self.transcript: list[Exchange] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tenant_id={self.credentials.tenant_id!r}, api_url={self.credentials.api_url!r})"

    async def __aenter__(self) -> "ServiceTitanClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tokens ---------------------------------------------------------------------------------------------
    @property
    def current_token(self) -> Token | None:
        return self._token

    async def token(self, *, force: bool = False) -> Token:
        if force or self._token is None or self.clock.now() >= self._token.refresh_at:
            self._token = await self._grant()
        return self._token

    async def _grant(self) -> Token:
        creds = self.credentials
        url = creds.auth_url.rstrip("/") + TOKEN_PATH
        form = {"grant_type": "client_credentials", "client_id": creds.client_id.reveal(),
                "client_secret": creds.client_secret.reveal()}
        response = await self._send("POST", url, TOKEN_PATH, data=form, keys=["grant_type", "client_id", "client_secret"])
        if response.status_code != 200:
            raise AuthorizationError("POST", TOKEN_PATH, response.status_code, _oauth_error(response))
        body = response.json()
        self.token_grants += 1
        lifetime = int(body.get("expires_in") or 0)
        if lifetime <= 0 or not body.get("access_token"):
            raise AuthorizationError("POST", TOKEN_PATH, 200, "token response lacks access_token or expires_in")
        log.info("access token granted (expires_in=%s s)", lifetime)
        return Token(Secret(body["access_token"]), self.clock.now(), lifetime, tuple(str(body.get("scope", "")).split()))

    # -- requests -------------------------------------------------------------------------------------------
    def api_path(self, module: str, path: str) -> str:
        return catalog.api_path(module, path, self.credentials.tenant_id)

    def headers(self, token: Token) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.value.reveal()}", "ST-App-Key": self.credentials.app_key.reveal()}

    async def request(self, method: str, module: str, path: str, *, params: dict | None = None,
                      json_body: Any = None, retry_unsafe: bool | None = None) -> Any:
        """One API call with retries. Non-idempotent calls retry only on 429 unless ``retry_unsafe``."""
        api_path = self.api_path(module, path)
        unsafe_ok = method == "GET" if retry_unsafe is None else retry_unsafe
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            try:
                return await self.send_once(method, api_path, params=params, json_body=json_body)
            except TransientFailure as failure:
                if failure.status != 429 and not unsafe_ok:
                    raise self._give_up(method, api_path, failure, attempt, RetriesExhausted) from None
                if attempt >= self.retry.max_attempts:
                    raise self._give_up(method, api_path, failure, attempt, RetriesExhausted) from None
                wait = self.retry.wait(attempt, failure.wait)
                self._notify(method, api_path, "retrying", attempt, failure.status, wait, failure.reason)
                log.info("%s %s: %s; retry %d in %.1f s", method, api_path, failure.reason, attempt, wait)
                await self.clock.sleep(wait)
            except _Unauthorized as unauthorized:
                if refreshed:
                    raise problem_error(method, api_path, unauthorized.response) from None
                refreshed = True
                await self.token(force=True)

    def _give_up(self, method, api_path, failure: TransientFailure, attempt: int, cls) -> ApiError:
        self._notify(method, api_path, "blocked", attempt, failure.status, None, failure.reason)
        if failure.response is not None and _is_problem(failure.response):
            error = problem_error(method, api_path, failure.response, cls)
        else:
            error = cls(method, api_path, failure.status, failure.reason)
        error.attempts = attempt
        return error

    def _notify(self, method, path, state, attempt, status, wait, reason) -> None:
        if self.on_attempt is not None:
            self.on_attempt({"method": method, "path": path, "state": state, "attempt": attempt,
                             "status": status, "wait": wait, "reason": reason, "at": self.clock.now()})

    async def send_once(self, method: str, api_path: str, *, params=None, json_body=None) -> Any:
        """One attempt: a retryable failure raises TransientFailure, an error raises ApiError, else the JSON body."""
        token = await self.token()
        url = self.credentials.api_url.rstrip("/") + api_path
        keys = sorted(json_body) if isinstance(json_body, dict) else []
        response = await self._send(method, url, api_path, params=params, json=json_body,
                                    headers=self.headers(token), keys=keys)
        if response.status_code in RETRYABLE_STATUSES:
            raise TransientFailure(response.status_code, f"HTTP {response.status_code}",
                                   retry_after_seconds(response), response)
        if response.status_code == 401:
            raise _Unauthorized(response)
        if response.status_code >= 400:
            raise problem_error(method, api_path, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise TransientFailure(response.status_code, "response body cut off (invalid JSON)") from None

    async def _send(self, method: str, url: str, api_path: str, *, keys: list[str], **kwargs) -> httpx.Response:
        exchange = Exchange(len(self.transcript) + 1, self.clock.now(), method, api_path,
                            {k: str(v) for k, v in (kwargs.get("params") or {}).items()}, None, keys)
        if kwargs.get("json") is not None:
            exchange.request_sha256 = body_sha256(kwargs["json"])
        self.transcript.append(exchange)
        try:
            response = await asyncio.wait_for(self._http.request(method, url, **kwargs), self.timeout)
            await response.aread()
        except (httpx.TransportError, OSError, asyncio.TimeoutError) as exc:
            exchange.note = f"connection failed: {type(exc).__name__}"
            raise TransientFailure(None, exchange.note) from None
        exchange.status = response.status_code
        exchange.response_bytes = len(response.content)
        if api_path != TOKEN_PATH:  # a token answer is never hashed: its hash would differ every run
            exchange.response_sha256 = _sha256(response.content)
        if response.status_code in (429, 503):
            exchange.retry_after = retry_after_seconds(response)
        if response.status_code >= 400 and _is_problem(response):
            exchange.note = str(response.json().get("title", ""))[:200]
        log.debug("%s %s -> %s", method, api_path, response.status_code)
        return response

    # -- paging ---------------------------------------------------------------------------------------------
    async def pages(self, module: str, path: str, *, page_size: int = 50, params: dict | None = None
                    ) -> AsyncIterator[list[dict]]:
        """Each page's ``data`` of a list endpoint, following ``page`` until ``hasMore`` is false."""
        page = 1
        while True:
            body = await self.request("GET", module, path, params={**(params or {}), "page": page, "pageSize": page_size})
            yield _data(body, module, path)
            if not body.get("hasMore"):
                return
            page += 1

    async def export(self, module: str, path: str, *, include_recent_changes: bool = False
                     ) -> AsyncIterator[list[dict]]:
        """Each chunk of an export feed, following ``continueFrom`` until ``hasMore`` is false."""
        params: dict[str, Any] = {}
        if include_recent_changes:
            params["includeRecentChanges"] = "true"
        while True:
            body = await self.request("GET", module, path, params=params)
            yield _data(body, module, path)
            if not body.get("hasMore"):
                return
            params = {**params, "from": body["continueFrom"]}

    async def collect(self, module: str, path: str, **kwargs) -> list[dict]:
        feed = self.export(module, path) if path.startswith("export/") else self.pages(module, path, **kwargs)
        return [record async for chunk in feed for record in chunk]

    async def call(self, operation: catalog.Operation, *, params: dict | None = None, json_body: Any = None,
                   **path_parameters: Any) -> Any:
        """One call of the catalog (``readiness.servicetitan.catalog``), with retries."""
        return await self.request(operation.method, operation.module, operation.resource(**path_parameters),
                                  params=params, json_body=json_body)

    async def collect_all(self, operation: catalog.Operation, **kwargs) -> list[dict]:
        """Every record of a list, inactive ones included (``active=Any``), or of an export feed."""
        if operation.export:
            return await self.collect(operation.module, operation.path)
        params = {**kwargs.pop("params", {}), **catalog.ALL_RECORDS}
        return await self.collect(operation.module, operation.path, params=params, **kwargs)

    # -- booking handoff ------------------------------------------------------------------------------------
    async def find_booking(self, provider_id: int, external_id: str) -> dict | None:
        body = await self.call(catalog.PROVIDER_BOOKINGS, booking_provider=provider_id,
                               params={"externalId": external_id, "page": 1, "pageSize": 2})
        matches = [b for b in _data(body, "crm", "bookings") if b.get("externalId") == external_id]
        return matches[0] if matches else None

    # -- lead handoff and attribution -----------------------------------------------------------------------
    async def submit_lead_form(self, envelope: dict) -> int:
        """Submit a website lead form; ServiceTitan answers with the new lead's id."""
        body = await self.call(catalog.SUBMIT_LEAD_FORM, json_body=envelope)
        if not isinstance(body, dict) or not isinstance(body.get("leadId"), int):
            raise ApiError("POST", self.api_path("crm", catalog.SUBMIT_LEAD_FORM.path), 200, "answer has no leadId")
        return body["leadId"]

    async def post_attribution(self, operation: catalog.Operation, body: dict) -> None:
        await self.call(operation, json_body=body)

    async def attributed_leads(self, from_utc: str, to_utc: str, lead_type: str | None = None) -> list[dict]:
        """The leads ServiceTitan attributed in [from_utc, to_utc), of one lead type or all."""
        params = {"fromUtc": from_utc, "toUtc": to_utc} | ({"leadType": lead_type} if lead_type else {})
        operation = catalog.ATTRIBUTED_LEADS
        return await self.collect(operation.module, operation.path, params=params)

    async def create_booking(self, provider_id: int, envelope: dict) -> dict:
        """Create a booking once: before any re-post, look the booking up by its ``externalId``."""
        path = catalog.CREATE_BOOKING.resource(booking_provider=provider_id)
        api_path = self.api_path(catalog.CREATE_BOOKING.module, path)
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            if attempt > 1:
                existing = await self.find_booking(provider_id, envelope["externalId"])
                if existing is not None:
                    self._notify("POST", api_path, "delivered", attempt, 200, None, "found by externalId")
                    return existing
            try:
                created = await self.send_once("POST", api_path, json_body=envelope)
                self._notify("POST", api_path, "delivered", attempt, 200, None, "created")
                return created
            except TransientFailure as failure:
                if attempt >= self.retry.max_attempts:
                    raise self._give_up("POST", api_path, failure, attempt, RetriesExhausted) from None
                wait = self.retry.wait(attempt, failure.wait)
                self._notify("POST", api_path, "retrying", attempt, failure.status, wait, failure.reason)
                await self.clock.sleep(wait)
            except _Unauthorized as unauthorized:
                if refreshed:
                    raise problem_error("POST", api_path, unauthorized.response, AuthorizationError) from None
                refreshed = True
                await self.token(force=True)


class _Unauthorized(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__("401")
        self.response = response


def _is_problem(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "") and response.content[:1] == b"{"


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "token request refused"
    if not isinstance(body, dict):
        return "token request refused"
    return str(body.get("title") or body.get("error_description") or body.get("error") or "token request refused")


def _data(body: Any, module: str, path: str) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError("GET", f"/{module}/v2/.../{path}", 200, "response has no 'data' list")
    return body["data"]
