"""Connection readiness matrix: API families, their scopes and gates, and each tenant's eligibility per family.

The matrix (``policies/connection-matrix.yaml``) is the one place that says which ServiceTitan API
families the product would use in future mode, with which endpoints and scopes, for what minimum use,
behind which module and admin gate, authorized by which customer role. The checks here keep it
separated and minimal; ``eligibility`` works out, per tenant and family, whether the family could be
reached today and if not, why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from readiness.core.findings import Finding
from readiness.servicetitan import catalog

FINDING_KINDS: dict[str, str | None] = {
    # Matrix problems are fixed by changing the product's own policy: no runbook.
    "matrix-scope-in-two-families": None,
    "matrix-endpoint-in-two-families": None,
    "matrix-scope-outside-family": None,
    "matrix-scope-unused": None,
    "matrix-scope-outside-matrix": None,
    "matrix-protocol-scope-missing": None,
    "matrix-scope-not-in-protocol": None,
    "matrix-endpoint-unpublished": None,
    "matrix-endpoint-scope-mismatch": None,
    "matrix-mapping-missing": None,
    "matrix-write-without-write-use": None,
    "matrix-endpoint-decision-broken": None,
    # A tenant that cannot reach a family is handled by the disconnect / failed-eligibility runbook.
    "eligibility-blocked": "disconnect",
    "eligibility-unrequested-scope": "disconnect",
    "eligibility-unknown-module": "disconnect",
}

POLICY = "connection-matrix"

ELIGIBLE = "eligible"
MODULE_NOT_PURCHASED = "blocked: module not purchased"
NO_AUTHORIZATION_OWNER = "blocked: no authorization owner"
AUTHORIZATION_REVOKED = "blocked: authorization revoked/expired"
SCOPE_NOT_GRANTED = "blocked: scope not granted"
AWAITING_ACCEPTANCE = "blocked: awaiting the tenant administrator's acceptance of the new app version"
OUTCOMES = (ELIGIBLE, MODULE_NOT_PURCHASED, NO_AUTHORIZATION_OWNER, SCOPE_NOT_GRANTED, AWAITING_ACCEPTANCE,
            AUTHORIZATION_REVOKED)
REVOKED_STATUSES = ("revoked", "expired")


class Matrix:
    """The parsed matrix with locations: every finding names ``file:line key`` of what it is about."""

    def __init__(self, policies):
        self.policies = policies
        self.data: dict[str, Any] = policies[POLICY]

    @property
    def families(self) -> list[dict[str, Any]]:
        return self.data["families"]

    def family(self, family_id: str) -> dict[str, Any] | None:
        return next((f for f in self.families if f["id"] == family_id), None)

    def where(self, *parts) -> str:
        line = self.policies.line_of(POLICY, list(parts))
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
        return f"{self.policies.path(POLICY).name}:{line or 1} {key}"

    def scopes(self) -> dict[str, str]:
        """Every scope the matrix requests, with the family that requests it."""
        return {entry["scope"]: family["id"] for family in self.families for entry in family["scopes"]}

    def family_scopes(self, family: dict[str, Any]) -> list[str]:
        return [entry["scope"] for entry in family["scopes"]]

    def families_for(self, package: str) -> list[dict[str, Any]]:
        return [f for f in self.families if package in f["packages"]]

    def module_keys(self) -> set[str]:
        return {f["module_gate"]["module"] for f in self.families if (f.get("module_gate") or {}).get("module")}


def _finding(kind: str, subject: str, detail: str, severity: str = "blocker") -> Finding:
    return Finding(kind=kind, subject=subject, severity=severity, runbook=FINDING_KINDS[kind], detail=detail)


# --- MATRIX-SCOPES: families are separated and the matrix requests nothing it does not use ---------------

def separation(matrix: Matrix) -> list[Finding]:
    """No scope or endpoint in two families; each family's scopes and endpoints belong to its own API module."""
    found: list[Finding] = []
    scope_owner: dict[str, str] = {}
    endpoint_owner: dict[tuple[str, str], str] = {}
    for i, family in enumerate(matrix.families):
        prefix = family["scope_prefix"] + "."
        module_path = f"/{family['api_module']}/v2/"
        for j, entry in enumerate(family["scopes"]):
            scope = entry["scope"]
            if scope in scope_owner and scope_owner[scope] != family["id"]:
                found.append(_finding("matrix-scope-in-two-families", matrix.where("families", i, "scopes", j),
                                      f"{scope} is requested by both {scope_owner[scope]} and {family['id']}"))
            scope_owner.setdefault(scope, family["id"])
            if not scope.startswith(prefix):
                found.append(_finding("matrix-scope-outside-family", matrix.where("families", i, "scopes", j),
                                      f"{scope} is not a {family['scope_prefix']} scope, so it does not belong "
                                      f"to the {family['id']} family"))
        for j, endpoint in enumerate(family["endpoints"]):
            key = (endpoint["method"], endpoint["path"])
            if key in endpoint_owner and endpoint_owner[key] != family["id"]:
                found.append(_finding("matrix-endpoint-in-two-families", matrix.where("families", i, "endpoints", j),
                                      f"{key[0]} {key[1]} is listed by both {endpoint_owner[key]} and {family['id']}"))
            endpoint_owner.setdefault(key, family["id"])
            if not endpoint["path"].startswith(module_path):
                found.append(_finding("matrix-scope-outside-family", matrix.where("families", i, "endpoints", j),
                                      f"{key[0]} {key[1]} is not under {module_path}, so it does not belong "
                                      f"to the {family['id']} family"))
            if endpoint["scope"] not in matrix.family_scopes(family):
                found.append(_finding("matrix-scope-outside-family", matrix.where("families", i, "endpoints", j),
                                      f"{key[0]} {key[1]} needs {endpoint['scope']}, which the {family['id']} "
                                      "family does not request"))
    return found


def shared_between_families(matrix: Matrix) -> list[Finding]:
    """A scope or endpoint listed by two families."""
    return [f for f in separation(matrix) if f.kind in ("matrix-scope-in-two-families",
                                                        "matrix-endpoint-in-two-families")]


def outside_own_module(matrix: Matrix) -> list[Finding]:
    """A scope or endpoint that does not belong to its family's ServiceTitan module."""
    return [f for f in separation(matrix) if f.kind == "matrix-scope-outside-family"]


def unused_scopes(matrix: Matrix) -> list[Finding]:
    """Every requested scope is needed by at least one of its family's endpoints (no unused scope requested)."""
    found = []
    for i, family in enumerate(matrix.families):
        needed = {e["scope"] for e in family["endpoints"]}
        for j, entry in enumerate(family["scopes"]):
            if entry["scope"] not in needed:
                found.append(_finding("matrix-scope-unused", matrix.where("families", i, "scopes", j),
                                      f"{entry['scope']} is requested but no endpoint of {family['id']} needs it"))
    return found


def _strings(value: Any, parts: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield parts, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, parts + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, parts + (index,))


def scopes_outside_matrix(matrix: Matrix) -> list[Finding]:
    """No other policy (the sandbox protocol included) names a scope the matrix does not request."""
    requested = matrix.scopes()
    found = []
    for name in sorted(matrix.policies.documents):
        if name == POLICY:
            continue
        for parts, text in _strings(matrix.policies[name]):
            for scope in sorted(set(catalog.SCOPE_PATTERN.findall(text)) - set(requested)):
                line = matrix.policies.line_of(name, list(parts)) or 1
                key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
                found.append(_finding("matrix-scope-outside-matrix", f"{name}.yaml:{line} {key}",
                                      f"{scope} is named here but the connection matrix does not request it"))
    return found


def protocol_alignment(matrix: Matrix, protocol_tests: Iterable[dict[str, Any]]) -> list[Finding]:
    """Every scope a protocol test needs is in the matrix, and every matrix scope is needed by a protocol test.

    The reverse direction applies once the protocol catalog declares scopes at all: a catalog that names
    none yet (tests like token acquisition need no scope) cannot tell a used scope from an unused one.
    """
    tests = list(protocol_tests)
    requested = matrix.scopes()
    needed: dict[str, list[str]] = {}
    found = []
    for test in tests:
        for scope in test.get("scopes", []):
            needed.setdefault(scope, []).append(test["id"])
            if scope not in requested:
                found.append(_finding("matrix-protocol-scope-missing", f"sandbox-protocol {test['id']}",
                                      f"protocol test {test['id']} needs {scope}, which the connection matrix "
                                      "does not request"))
    if needed:
        for i, family in enumerate(matrix.families):
            for j, entry in enumerate(family["scopes"]):
                if entry["scope"] not in needed:
                    found.append(_finding("matrix-scope-not-in-protocol", matrix.where("families", i, "scopes", j),
                                          f"{entry['scope']} is requested but no sandbox protocol test needs it"))
    return found


def protocol_scopes_missing(matrix: Matrix, protocol_tests: Iterable[dict[str, Any]]) -> list[Finding]:
    """Scopes a sandbox protocol test needs that the matrix does not request."""
    return [f for f in protocol_alignment(matrix, protocol_tests) if f.kind == "matrix-protocol-scope-missing"]


def scopes_no_protocol_test_needs(matrix: Matrix, protocol_tests: Iterable[dict[str, Any]]) -> list[Finding]:
    """Matrix scopes no sandbox protocol test needs (once the protocol names scopes at all)."""
    return [f for f in protocol_alignment(matrix, protocol_tests) if f.kind == "matrix-scope-not-in-protocol"]


def published_endpoints(matrix: Matrix) -> list[Finding]:
    """Every matrix endpoint exists in ServiceTitan's published API and needs the scope the matrix says."""
    found = []
    for i, family in enumerate(matrix.families):
        for j, endpoint in enumerate(family["endpoints"]):
            published = catalog.scope_of(endpoint["method"], endpoint["path"])
            where = matrix.where("families", i, "endpoints", j)
            call = f"{endpoint['method']} {endpoint['path']}"
            if published is None:
                found.append(_finding("matrix-endpoint-unpublished", where,
                                      f"{call} is not an endpoint of ServiceTitan's published API"))
            elif published != endpoint["scope"]:
                found.append(_finding("matrix-endpoint-scope-mismatch", where,
                                      f"{call} needs {published} in ServiceTitan's published API, "
                                      f"not {endpoint['scope']}"))
    return found


def endpoint_decisions(matrix: Matrix, envelopes: dict[str, Any], protocol_tests: Iterable[str]) -> list[Finding]:
    """Each envelope's recorded endpoint decision (``envelopes.yaml`` ``<envelope>.decision``): the chosen endpoint
    is listed in the matrix, the one it was chosen instead of is not, and a sandbox protocol test confirms it."""
    listed = {f"{e['method']} {e['path']}" for family in matrix.families for e in family["endpoints"]}
    known = set(protocol_tests)
    found = []
    for name, envelope in envelopes.items():
        decision = envelope.get("decision")
        if decision is None:
            continue
        line = matrix.policies.line_of("envelopes", [name, "decision"]) or 1
        where = f"{matrix.policies.path('envelopes').name}:{line} {name}.decision"
        if decision["chosen"] not in listed:
            found.append(_finding("matrix-endpoint-decision-broken", where,
                                  f"{decision['chosen']} is chosen but the connection matrix does not list it"))
        if decision["instead_of"] in listed:
            found.append(_finding("matrix-endpoint-decision-broken", where,
                                  f"{decision['instead_of']} was decided against but the connection matrix lists it"))
        if decision["confirmed_by"] not in known:
            found.append(_finding("matrix-endpoint-decision-broken", where,
                                  f"{decision['confirmed_by']!r} is not a sandbox protocol test"))
    return found


# --- MATRIX-MAPPING: every family has a minimum use, a module gate and an authorization owner -----------

def mapping_gaps(matrix: Matrix) -> list[Finding]:
    found = []
    for i, family in enumerate(matrix.families):
        gate = family.get("module_gate") or {}
        missing = [label for label, value in (
            ("minimum_use", family.get("minimum_use")),
            ("module_gate.module", gate.get("module")),
            ("module_gate.name", gate.get("name")),
            ("authorization_owner", family.get("authorization_owner")),
        ) if not (value or "").strip()]
        missing += [f"scopes[{j}].use" for j, entry in enumerate(family["scopes"]) if not entry.get("use", "").strip()]
        for label in missing:
            found.append(_finding("matrix-mapping-missing", matrix.where("families", i),
                                  f"the {family['id']} family has no {label}"))
    return found


def write_uses(matrix: Matrix) -> list[Finding]:
    """Write only where a use needs it: every :w scope is write access with a declared write purpose."""
    purposes = matrix.data["write_purposes"]
    found = []
    for i, family in enumerate(matrix.families):
        for j, entry in enumerate(family["scopes"]):
            scope, access, purpose = entry["scope"], entry["access"], entry.get("purpose")
            is_write = scope.endswith(":w")
            where = matrix.where("families", i, "scopes", j)
            if is_write != (access == "write"):
                found.append(_finding("matrix-write-without-write-use", where,
                                      f"{scope} is declared as {access} access"))
            elif is_write and purpose not in purposes:
                found.append(_finding("matrix-write-without-write-use", where,
                                      f"{scope} writes to the customer's tenant without a write use "
                                      f"(purpose {purpose!r}; allowed: {', '.join(sorted(purposes))})"))
            elif not is_write and purpose is not None:
                found.append(_finding("matrix-write-without-write-use", where,
                                      f"{scope} is read-only but claims the write purpose {purpose!r}"))
    return found


# --- ACCESS-GATES, FAIL-AUTH: per-tenant eligibility ----------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    family: str
    title: str
    used_by_package: bool
    module_purchased: bool
    owner: str | None  # the tenant's role that authorizes this family, if any
    authorization_current: bool  # the connection is not revoked/expired, and no family scope has expired
    missing_scopes: tuple[str, ...]
    outcome: str
    pending_scopes: tuple[str, ...] = ()  # added by an app version the tenant administrator has not accepted


    @property
    def blocked(self) -> bool:
        return self.outcome != ELIGIBLE

    def to_dict(self) -> dict[str, Any]:
        """Each gate as a state (met / blocked) and the words a reader sees, so colour is never the only signal."""
        def gate(ok: bool, met: str, blocked: str) -> dict[str, str]:
            return {"state": "met" if ok else "blocked", "words": met if ok else blocked}
        missing = f"not granted: {', '.join(self.missing_scopes)}"
        return {
            "family": self.family,
            "title": self.title,
            "used_by_package": self.used_by_package,
            "gates": {
                "module": gate(self.module_purchased, "purchased", "not purchased"),
                "owner": gate(self.owner is not None, f"{self.owner}", "no owner named"),
                "authorization": gate(self.authorization_current, "not revoked or expired", "revoked or expired"),
                "scopes": gate(not self.missing_scopes, "all granted", missing),
            },
            "outcome": self.outcome,
        }


def eligibility(matrix: Matrix, profile: dict[str, Any]) -> list[Eligibility]:
    """Each family's outcome for a tenant; the first gate that fails decides the reason."""
    purchased = set(profile.get("purchased_modules", []))
    connection = profile.get("connection", {})
    granted = set(connection.get("granted_scopes", []))
    pending = set(connection.get("pending_scopes", []))
    expired = set(connection.get("expired_scopes", []))
    revoked = connection.get("status") in REVOKED_STATUSES
    package = profile.get("package")
    results = []
    for family in matrix.families:
        module = (family.get("module_gate") or {}).get("module")
        owner = next((o["role"] for o in profile.get("authorization_owners", []) if family["id"] in o["authorizes"]),
                     None)
        scopes = matrix.family_scopes(family)
        current = not revoked and not expired.intersection(scopes)
        missing = tuple(s for s in scopes if s not in granted)
        awaiting = tuple(s for s in missing if s in pending)
        if module is None or module not in purchased:
            outcome = MODULE_NOT_PURCHASED
        elif owner is None:
            outcome = NO_AUTHORIZATION_OWNER
        elif not current:
            outcome = AUTHORIZATION_REVOKED
        elif missing and len(awaiting) < len(missing):
            outcome = SCOPE_NOT_GRANTED
        elif missing:
            outcome = AWAITING_ACCEPTANCE
        else:
            outcome = ELIGIBLE
        results.append(Eligibility(family["id"], family["title"], package in family["packages"],
                                   module in purchased, owner, current, missing, outcome, awaiting))
    return results


def eligibility_findings(results: list[Eligibility], profile: dict[str, Any], slug: str,
                         api_required: Iterable[str]) -> list[Finding]:
    """Every blocked family the tenant's package uses, routed to the disconnect runbook.

    Severity follows what is at stake: a family the package cannot be delivered without is a blocker (the gate
    fails); a live or lost connection is major; a tenant that never connected runs manually, so it is info.
    """
    required = set(api_required)
    status = profile.get("connection", {}).get("status", "not-connected")
    found = []
    for result in results:
        if not (result.blocked and result.used_by_package):
            continue
        severity = "blocker" if result.family in required else ("info" if status == "not-connected" else "major")
        detail = f"{result.title}: {result.outcome}"
        if result.outcome == SCOPE_NOT_GRANTED:
            detail += f" ({', '.join(result.missing_scopes)})"
        if result.family in required:
            detail += "; the package cannot be delivered without this family"
        else:
            detail += "; the package continues in manual mode"
        found.append(_finding("eligibility-blocked", eligibility_subject(slug, result.family), detail, severity))
    return found


def eligibility_subject(slug: str, family: str) -> str:
    return f"{slug} {family}"


def routing_problems(results: list[Eligibility], found: list[Finding], slug: str, runbook_ids) -> list[str]:
    """Blocked families the package uses that have no finding, findings for families that are not blocked, and
    findings routed to no existing runbook."""
    known = set(runbook_ids)
    problems = [f"{f} is routed to no existing runbook" for f in found if f.runbook not in known]
    expected = {eligibility_subject(slug, r.family) for r in results if r.blocked and r.used_by_package}
    reported = {f.subject for f in found}
    problems += [f"{subject}: blocked but not reported" for subject in sorted(expected - reported)]
    problems += [f"{subject}: reported but not blocked" for subject in sorted(reported - expected)]
    return problems


def unrequested_grants(matrix: Matrix, profile: dict[str, Any], slug: str) -> list[Finding]:
    """Scopes the tenant granted that the product never requests."""
    return [f for f in tenant_consistency(matrix, profile, slug) if f.kind == "eligibility-unrequested-scope"]


def unknown_modules(matrix: Matrix, profile: dict[str, Any], slug: str) -> list[Finding]:
    """Modules and families the tenant's profile names that the matrix does not know."""
    return [f for f in tenant_consistency(matrix, profile, slug) if f.kind == "eligibility-unknown-module"]


def tenant_consistency(matrix: Matrix, profile: dict[str, Any], slug: str) -> list[Finding]:
    """The tenant grants no scope the product does not request, and names only modules the matrix knows."""
    requested = matrix.scopes()
    connection = profile.get("connection", {})
    found = []
    for scope in sorted(set(connection.get("granted_scopes", [])) - set(requested)):
        found.append(_finding("eligibility-unrequested-scope", f"{slug} connection.granted_scopes", (
            f"{scope} is granted but the product never requests it; ask the customer's administrator to withdraw it"
        ), "major"))
    modules = matrix.module_keys()
    families = {f["id"] for f in matrix.families}
    for module in sorted(set(profile.get("purchased_modules", [])) - modules):
        found.append(_finding("eligibility-unknown-module", f"{slug} purchased_modules",
                              f"{module!r} is not a module any family of the matrix depends on", "major"))
    for owner in profile.get("authorization_owners", []):
        for family in sorted(set(owner["authorizes"]) - families):
            found.append(_finding("eligibility-unknown-module", f"{slug} authorization_owners {owner['role']}",
                                  f"{family!r} is not an API family of the matrix", "major"))
    return found


# --- report section -------------------------------------------------------------------------------------

def matrix_section(matrix: Matrix) -> dict[str, Any]:
    """The families x gates grid of the matrix itself, for the HTML report."""
    rows = []
    for family in matrix.families:
        gate = family.get("module_gate") or {}
        rows.append({
            "family": family["id"],
            "title": family["title"],
            "packages": family["packages"],
            "minimum_use": family.get("minimum_use") or None,
            "module_gate": gate.get("name") or None,
            "authorization_owner": family.get("authorization_owner") or None,
            "read_scopes": [s["scope"] for s in family["scopes"] if s["access"] == "read"],
            "write_scopes": [s["scope"] for s in family["scopes"] if s["access"] == "write"],
            "manual": family["manual"],
            "future": family["future"],
        })
    return {"admin_gate": matrix.data["admin_gate"]["permission"], "families": rows}


def eligibility_section(results: list[Eligibility], profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "package": profile.get("package"),
        "connection": profile.get("connection", {}).get("status"),
        "families": [r.to_dict() for r in results],
    }


def example_profile(matrix: Matrix, family_id: str, package: str, *, module_purchased: bool, has_owner: bool,
                    status: str, scopes_granted: bool) -> dict[str, Any]:
    """A minimal tenant profile for one family, as a reviewer's example row describes it."""
    family = matrix.family(family_id)
    if family is None:
        raise KeyError(f"no family {family_id!r} in the connection matrix")
    module = (family.get("module_gate") or {}).get("module")
    return {
        "package": package,
        "purchased_modules": [module] if module_purchased and module else [],
        "authorization_owners": [{"role": "Owner", "authorizes": [family_id]}] if has_owner else [],
        "connection": {"status": status, "granted_scopes": matrix.family_scopes(family) if scopes_granted else []},
    }
