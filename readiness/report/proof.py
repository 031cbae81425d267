"""Per-tenant proof packets (``<report-dir>/packets/<tenant>-proof.md``): attribution figures a customer reads.

The packet says plainly where its figures come from ("from customer-supplied
exports" or "demo outcomes") and is never presented as checked through the
ServiceTitan API. Leads for manual review are listed with masked contact details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from readiness.boundaries import privacy
from readiness.mapping import attribution
from readiness.core.errors import ReadinessError
from readiness.report import templates

TEMPLATE = "packets/proof.md.j2"
_API_VERIFIED = re.compile(r"api[\s_-]*(?:verified|validated|confirmed)", re.IGNORECASE)
_UNMASKED = {"email": "an email address", "phone": "a phone number"}  # privacy.find kinds a packet may not show


@dataclass
class Packet:
    slug: str
    name: str
    text: str
    source: str | None  # the statement the tenant's exports call for; None when the tenant could not be read
    review: list[dict]


def packet(policies, tenant) -> Packet:
    """The proof packet of one tenant. Bad tenant data raises (the scenario fails closed)."""
    checked = attribution.check(tenant, policies)
    text = templates.environment().get_template(TEMPLATE).render(
        tenant={"slug": tenant.slug, "name": tenant.profile["name"], "package": tenant.profile["package"],
                "captured_on": tenant.profile["exports"]["captured_on"]},
        data=checked.section,
        error=None,
    )
    return Packet(tenant.slug, tenant.profile["name"], text, checked.section["source"],
                  checked.section.get("review", []))


def render(policies, tenants) -> dict[str, str]:
    """Renderer for ``packets.RENDERERS``: one packet per tenant; a tenant that cannot be read gets a packet
    that says so instead of figures (the gate fails that tenant's scenarios separately)."""
    documents = {}
    for tenant in tenants:
        try:
            text = packet(policies, tenant).text
        except ReadinessError as exc:
            text = templates.environment().get_template(TEMPLATE).render(
                tenant={"slug": tenant.slug, "name": tenant.slug, "package": None, "captured_on": None},
                data=None, error=str(exc))
        documents[f"{tenant.slug}-proof.md"] = text
    return documents


def source_problem(document: Packet) -> str | None:
    statements = set(attribution.SOURCE_STATEMENTS.values())
    wrong = sorted(s for s in statements - {document.source} if s in document.text)
    if document.source not in document.text:
        return f'{document.slug}-proof.md does not say its figures are "{document.source}"'
    if wrong:
        return f'{document.slug}-proof.md also says "{wrong[0]}", which is not where its figures come from'
    return None


def verification_problem(document: Packet) -> str | None:
    match = _API_VERIFIED.search(document.text)
    if match:
        line = document.text.count("\n", 0, match.start()) + 1
        return f'{document.slug}-proof.md:{line}: calls figures "{match.group(0)}"; they come from exports, offline'
    return None


def contact_leaks(document: Packet, tenant) -> list[str]:
    """Contact details of listed leads, or anything shaped like an email or phone number, in the packet."""
    problems = []
    for hit in privacy.find(document.text):
        if hit.kind in _UNMASKED:
            line = document.text.count("\n", 0, hit.start) + 1
            problems.append(f"{document.slug}-proof.md:{line}: shows {_UNMASKED[hit.kind]} unmasked")
    listed = {row["lead"] for row in document.review}
    for lead in tenant.submissions():
        if lead.get("lead_id") not in listed:
            continue
        contact = lead.get("contact") if isinstance(lead.get("contact"), dict) else {}
        address = lead.get("address") if isinstance(lead.get("address"), dict) else {}
        for field, value in (("name", contact.get("name")), ("street", address.get("street"))):
            if isinstance(value, str) and value.strip() and value in document.text:
                problems.append(f"{document.slug}-proof.md: shows the {field} of lead {lead['lead_id']} unmasked")
    return sorted(set(problems))
