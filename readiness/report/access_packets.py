"""Documents rendered from the connection matrix, packages and runbooks (``<report-dir>/packets/``).

- ``access-checklist-<tenant>.md``: per tenant, what the customer's administrator would do, which modules,
  owners and scopes each API family needs and why, and what stays manual until then;
- ``partner-application.md``: each future API family -> minimum product use -> module gate -> customer
  authorization owner, plus the support model;
- ``runbooks.md``: the runbooks with their response windows.
Everything API-backed is labelled Future: nothing is connected today.
"""

from __future__ import annotations

import re

from readiness.report import templates
from readiness.core.errors import ReadinessError
from readiness.access.matrix import Matrix, eligibility
from readiness.access.packages import package
from readiness.access.runbooks import FAILURE_MODES, window_text
from readiness.servicetitan import catalog

FUTURE = "Future"
PARTNER_PACKET = "partner-application.md"
RUNBOOKS_PACKET = "runbooks.md"
# Lines that describe something API-backed: they name a scope or an endpoint, or speak of the API or a
# connection outside code spans (a tenant slug in backticks is a name, not a claim).
_API_CODE = catalog.NAMES_THE_API
_API_WORDS = re.compile(r"\bAPI\b|\bconnect", re.I)
_CODE_SPAN = re.compile(r"`[^`]*`")
_MANUAL_LINE = re.compile(r"\bmanual|\btoday\b|\bnot connected\b|\bno (ServiceTitan )?(login|connection)", re.I)
NOT_STATED = "not stated"


def family_view(family: dict) -> dict:
    """A family as documents show it: a gap in the policy reads "not stated" instead of breaking the render."""
    gate = family.get("module_gate") or {}
    return {
        **family,
        "minimum_use": family.get("minimum_use") or NOT_STATED,
        "module_gate": {"module": gate.get("module") or NOT_STATED, "name": gate.get("name") or NOT_STATED},
        "authorization_owner": family.get("authorization_owner") or NOT_STATED,
        "scopes": [{**entry, "use": entry.get("use") or NOT_STATED} for entry in family["scopes"]],
    }


def runbook_view(runbook: dict) -> dict:
    windows = runbook.get("windows") or {}
    return {
        **runbook,
        **{key: runbook.get(key) or NOT_STATED for key in ("trigger", "detection", "owner", "customer_communication")},
        "windows": {key: window_text(windows[key]) if windows.get(key) else NOT_STATED
                    for key in ("acknowledge", "resolve")},
        "steps": runbook.get("steps") or [],
    }


def checklist_name(slug: str) -> str:
    return f"access-checklist-{slug}.md"


def render_checklists(policies, tenants) -> dict[str, str]:
    documents = {}
    for tenant in tenants:
        try:
            profile = tenant.profile
        except ReadinessError:
            continue  # the tenant fails its own scenarios with the file and line; no checklist can be made
        name, text = render_checklist(policies, tenant.slug, profile)
        documents[name] = text
    return documents


def render_checklist(policies, slug: str, profile: dict) -> tuple[str, str]:
    """One tenant's access checklist: its name and text."""
    matrix = Matrix(policies)
    template = templates.environment().get_template("packets/access-checklist.md.j2")
    results = {r.family: r for r in eligibility(matrix, profile)}
    families = [(family_view(f), results[f["id"]]) for f in matrix.families_for(profile["package"])]
    pending = sorted(set((profile.get("connection") or {}).get("pending_scopes", [])) & set(matrix.scopes()))
    return checklist_name(slug), template.render(
        tenant=profile, slug=slug, package=package(policies, profile["package"]), admin_gate=matrix.data["admin_gate"],
        families=families, pending=pending, pending_acceptance=PENDING_ACCEPTANCE, future=FUTURE,
    )


PENDING_ACCEPTANCE = "awaiting your administrator's acceptance of the new app version"


def unlisted_pending_acceptance(text: str, scopes) -> list[str]:
    """Scopes awaiting acceptance that the checklist does not list as such."""
    lines = [line for line in text.splitlines() if PENDING_ACCEPTANCE in line]
    return sorted(scope for scope in scopes if not any(f"`{scope}`" in line for line in lines))


def render_partner_packet(policies, tenants=()) -> dict[str, str]:
    template = templates.environment().get_template("packets/partner-application.md.j2")
    matrix = Matrix(policies)
    return {PARTNER_PACKET: template.render(
        matrix={**matrix.data, "families": [family_view(f) for f in matrix.families]}, packages=policies["packages"]["packages"], support=policies["runbooks"]["support_model"],
        runbooks=[runbook_view(r) for r in policies["runbooks"]["runbooks"]], future=FUTURE,
    )}


def render_runbooks(policies, tenants=()) -> dict[str, str]:
    template = templates.environment().get_template("packets/runbooks.md.j2")
    return {RUNBOOKS_PACKET: template.render(
        support=policies["runbooks"]["support_model"],
        runbooks=[runbook_view(r) for r in policies["runbooks"]["runbooks"]],
        failure_modes=FAILURE_MODES,
    )}


def unlabelled_api_lines(text: str) -> list[str]:
    """Lines describing something API-backed that are not labelled Future (nor plainly about manual mode)."""
    return [
        line.strip() for line in text.splitlines()
        if (_API_CODE.search(line) or _API_WORDS.search(_CODE_SPAN.sub("", line)))
        and FUTURE not in line and not _MANUAL_LINE.search(line)
    ]



def unmapped_families(text: str, families) -> list[str]:
    """What a document fails to say for each family: its minimum use, module gate, owner and scopes."""
    flat = " ".join(text.split())
    missing = []
    for family in families:
        gate = family.get("module_gate") or {}
        wanted = {
            "minimum use": family.get("minimum_use"),
            "module gate": gate.get("name"),
            "authorization owner": family.get("authorization_owner"),
            **{f"scope {s['scope']}": s["scope"] for s in family["scopes"]},
        }
        missing += [f"{family['id']}: {label}" for label, value in wanted.items()
                    if not value or " ".join(value.split()) not in flat]
    return missing



def unshown_runbooks(text: str, runbooks) -> list[str]:
    """Runbooks a document fails to show with their owner role and both response windows."""
    missing = []
    for runbook in map(runbook_view, runbooks):
        for label, value in (("title", runbook["title"]), ("owner role", runbook["owner"]),
                             *((f"{key} window", runbook["windows"][key]) for key in ("acknowledge", "resolve"))):
            if value == NOT_STATED or value not in text:
                missing.append(f"{runbook['id']}: {label}")
    return missing
