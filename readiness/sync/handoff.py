"""Lead handoff: a website submission -> the booking envelope ServiceTitan would receive, and the offline cycle.

Today (offline) each submission is stored locally, the office gets a notification
fallback, and its sync-queue item waits (``queued``) or goes to ``review`` when its
Titan Map mapping is missing or drifted. Nothing is delivered: the cycle has no
delivery callable and runs with the network blocked (``netguard.no_network``).

The envelope carries exactly ServiceTitan's booking-create fields allowed by
``policies/envelopes.yaml`` (booking), with a deterministic ``externalId`` that
holds no personal data: ``web-`` + the first 16 hex digits of
sha256("<tenant id>:<lead id>").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from readiness.mapping import drift, review
from readiness.sync import queue
from readiness.servicetitan import catalog
from readiness.core.findings import Finding
from readiness.sync.netguard import no_network

FINDING_KINDS: dict[str, str | None] = {
    # The envelope is the product's own output: a stray or malformed field is fixed in the product.
    "booking-field-not-allowed": None,
    "booking-envelope-invalid": None,
    "handoff-needs-mapping": "drift-conflict",
    "handoff-queued-unmapped": "drift-conflict",
    "handoff-external-id-mismatch": "failed-sync",
    "handoff-unknown-lead": "failed-sync",
}

def external_id(tenant_id: int | str, lead_id: str) -> str:
    """The handoff's id in ServiceTitan: the same lead gives the same id every time; no personal data inside."""
    return "web-" + hashlib.sha256(f"{tenant_id}:{lead_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Handoff:
    """What the website would hand to ServiceTitan for one submission, and whether it may go as is."""

    lead_id: str
    external_id: str
    envelope: dict[str, Any]
    problems: tuple[str, ...] = ()  # why the mapping cannot be trusted; empty when it can
    reason: str | None = None  # review reason: mapping-missing, mapping-unreviewed or mapping-drifted

    @property
    def state(self) -> str:
        return "review" if self.reason else "queued"


def drifted_leads(tenant, drift_policy: dict) -> dict[str, list[str]]:
    """Leads whose mapping depends on Titan Map drift that the drift policy counts as blocking, with the drift.

    The drift check (``readiness.mapping.drift``) decides what drifted and how much it matters: a renamed campaign
    (minor) keeps its id and the handoff stays queued; a missing or inactive id (blocker) sends it to review.
    """
    serious = [d for d in drift.map_drift(tenant)
               if drift_policy["severities"][d.kind] in drift_policy["blocking_severities"]]
    affected = drift.affected_handoffs(serious, tenant.submissions())
    by_lead: dict[str, list[str]] = {}
    for found in serious:
        for lead in affected.get(f"{found.kind}:{found.entity}:{found.id}", []):
            by_lead.setdefault(lead, []).append(f"{found.kind} {found.subject}")
    return by_lead


def _by_website(entries: Iterable[dict]) -> dict[str, dict]:
    return {entry["website"]: entry for entry in entries or []}


def resolve(submission: dict, titan_map: dict) -> tuple[dict, list[str], list[str]]:
    """ServiceTitan ids for a submission through the Titan Map: (ids, what has no Titan Map entry, what has an
    entry the customer has not reviewed). An unreviewed entry gives no id: a draft is never used as mapped."""
    ids: dict[str, int] = {}
    missing: list[str] = []
    unreviewed: list[str] = []

    def usable(entry: dict, named: str) -> bool:
        why = review.why_unreviewed(entry, titan_map)
        if why:
            unreviewed.append(f"{named}: {why}")
        return why is None

    service = _by_website(titan_map.get("services")).get(submission.get("service"))
    named_service = f"service {submission.get('service')!r}"
    if service is None:
        missing.append(f"{named_service} has no Titan Map entry")
    elif usable(service, named_service):
        ids["jobTypeId"] = service["job_type"]["id"]
        ids["businessUnitId"] = service["business_unit"]["id"]
    offer = submission.get("offer")
    lead_source = (submission.get("source") or {}).get("lead_source")
    if offer:
        campaign_entry, named = _by_website(titan_map.get("offers")).get(offer), f"offer {offer!r}"
    elif lead_source:
        campaign_entry, named = _by_website(titan_map.get("lead_sources")).get(lead_source), f"lead source {lead_source!r}"
    else:
        campaign_entry, named = None, None
    if named and campaign_entry is None:
        missing.append(f"{named} has no Titan Map entry")
    elif campaign_entry is not None and usable(campaign_entry, named):
        ids["campaignId"] = campaign_entry["campaign"]["id"]
    return ids, missing, unreviewed


def _service_label(submission: dict, titan_map: dict) -> str:
    service = _by_website(titan_map.get("services")).get(submission.get("service"))
    label = service["label"] if service else str(submission.get("service", "website request"))
    offer = _by_website(titan_map.get("offers")).get(submission.get("offer"))
    return f"{label} - website request" + (f" ({offer['campaign']['name']})" if offer else "")


def booking_envelope(submission: dict, ids: dict, summary: str, identifier: str, offline: dict) -> dict[str, Any]:
    """ServiceTitan booking-create body for a submission. The summary is the service, never the visitor's words."""
    contact = submission.get("contact") or {}
    address = submission.get("address") or {}
    envelope: dict[str, Any] = {"source": offline["booking_source"], "name": contact.get("name", "")}
    if address:
        envelope["address"] = {key: address[key] for key in ("street", "city", "state", "zip") if key in address}
        envelope["address"]["country"] = offline["country"]
    contacts = [{"type": kind, "value": contact[key]} for kind, key in (("Phone", "phone"), ("Email", "email"))
                if contact.get(key)]
    if contacts:
        envelope["contacts"] = contacts
    envelope["customerType"] = offline["customer_type"]
    window = submission.get("preferred_window") or {}
    if window.get("start"):
        envelope["start"] = window["start"]
    envelope["summary"] = summary
    envelope.update(ids)
    envelope["priority"] = offline["priority"]
    # ServiceTitan requires it and the website cannot know; the office confirms it when booking.
    envelope["isFirstTimeClient"] = True
    envelope["externalId"] = identifier
    return envelope


def lead_form_envelope(submission: dict, summary: str, offline: dict) -> dict[str, Any]:
    """ServiceTitan's lead-form body (POST leads/form) for a website enquiry that is not a booking request.

    Why leads/form and not leads: ``policies/envelopes.yaml`` (lead_form). The summary is the service, never the
    visitor's words; the address goes only when complete, as the published address requires every part.
    """
    contact = submission.get("contact") or {}
    address = submission.get("address") or {}
    envelope: dict[str, Any] = {"name": contact.get("name", "")}
    if contact.get("email"):
        envelope["email"] = contact["email"]
    if contact.get("phone"):
        envelope["phoneNumber"] = contact["phone"]
    if all(address.get(key) for key in ("street", "city", "state", "zip")):
        envelope["address"] = {key: address[key] for key in ("street", "city", "state", "zip")}
        envelope["address"]["country"] = offline["country"]
    envelope["summary"] = summary
    return envelope


# Lead source fields (lead allow-list ``source``) named apart from their ServiceTitan web-session field; every
# other source field whose camelCase name is a web-session field (utm_source -> utmSource) goes as it is.
_WEB_SESSION_RENAMED = {"landing_page": "landingPageUrl", "referrer": "referrerUrl"}


def _web_session_field(name: str) -> str:
    return _WEB_SESSION_RENAMED.get(name) or re.sub(r"_(\w)", lambda m: m[1].upper(), name)


def _page_only(url: str) -> str:
    """A URL without its query and fragment: campaign tags travel in their own fields, anything else stays home."""
    return url.split("#", 1)[0].split("?", 1)[0]


def web_session_data(submission: dict) -> dict[str, str] | None:
    """The web session ServiceTitan attributes a lead to, or None when the website recorded no landing page
    (ServiceTitan requires one; a visit with no referrer sends an empty referrer)."""
    source = submission.get("source") or {}
    if not source.get("landing_page"):
        return None
    fields = set(catalog.subfields(catalog.WEB_BOOKING_ATTRIBUTION, "webSessionData"))
    data = {_web_session_field(name): str(value) for name, value in source.items()
            if value and _web_session_field(name) in fields}
    data["landingPageUrl"] = _page_only(data["landingPageUrl"])
    data["referrerUrl"] = _page_only(data.get("referrerUrl", ""))
    return data


def attribution_body(operation: catalog.Operation, entity_id: int, submission: dict) -> dict[str, Any] | None:
    """The attribution post of ``operation`` (web booking, web lead form, job) for one submission's web session,
    or None when the submission has no web session to attribute."""
    session = web_session_data(submission)
    if session is None:
        return None
    return {catalog.ATTRIBUTIONS[operation].id_field: entity_id, "webSessionData": session}


def prepare_lead_form(submission: dict, titan_map: dict, offline: dict) -> dict[str, Any]:
    """The lead-form body the website would hand to ServiceTitan for an enquiry."""
    return lead_form_envelope(submission, _service_label(submission, titan_map), offline)


def prepare(submission: dict, tenant_id: int | str, titan_map: dict, drifted: list[str], offline: dict) -> Handoff:
    """The handoff of one submission; ``drifted`` lists the blocking drift its mapping depends on."""
    ids, missing, unreviewed = resolve(submission, titan_map)
    identifier = external_id(tenant_id, submission["lead_id"])
    envelope = booking_envelope(submission, ids, _service_label(submission, titan_map), identifier, offline)
    reason = ("mapping-missing" if missing else "mapping-unreviewed" if unreviewed
              else "mapping-drifted" if drifted else None)
    return Handoff(submission["lead_id"], identifier, envelope, tuple(missing + unreviewed + list(drifted)), reason)


def allow_list_violations(envelope: dict, allow_list: dict, subject: str) -> list[Finding]:
    """A finding per envelope field (or subfield) outside the booking allow-list of ``policies/envelopes.yaml``."""
    found = []
    fields = allow_list["fields"]
    for name, value in sorted(envelope.items()):
        allowed = fields.get(name)
        if allowed is None:
            found.append(Finding("booking-field-not-allowed", subject, "blocker", None,
                                 f"the booking envelope carries {name!r}, which is not on the booking allow-list"))
        elif isinstance(value, dict) and "subfields" in allowed:
            for sub in sorted(set(value) - set(allowed["subfields"])):
                found.append(Finding("booking-field-not-allowed", subject, "blocker", None,
                                     f"the booking envelope carries {name}.{sub}, which is not on the allow-list"))
    return found


def conformance_problems(envelope: dict, subject: str) -> list[Finding]:
    """Findings where the envelope breaks ServiceTitan's published booking-create request schema."""
    return [Finding("booking-envelope-invalid", subject, "blocker", None,
                    f"{where}: {problem} in ServiceTitan's booking-create request")
            for where, problems in catalog.body_errors(catalog.CREATE_BOOKING, envelope).items()
            for problem in problems]


# --- the offline cycle -------------------------------------------------------------------------------------


@dataclass
class OfflineCycle:
    handoffs: list[Handoff] = field(default_factory=list)
    local_records: list[dict] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    items: list[queue.QueueItem] = field(default_factory=list)


def local_record(submission: dict) -> dict:
    """What the website keeps of a submission (the stored lead itself stays in the website's own store)."""
    return {"lead_id": submission["lead_id"], "stored_at": submission["submitted_at"],
            "consent_ref": submission.get("consent_ref"), "fields": sorted(submission)}


def notification_fallback(submission: dict, handoff: Handoff, channel: str) -> dict:
    """The office notification sent instead of a ServiceTitan delivery (its record names no personal data)."""
    return {"lead_id": handoff.lead_id, "external_id": handoff.external_id, "channel": channel,
            "sent_at": submission["submitted_at"], "queue_state": handoff.state,
            "summary": handoff.envelope["summary"]}


def offline_cycle(tenant, policy: queue.QueuePolicy, drift_policy: dict) -> OfflineCycle:
    """Each submission -> handoff, local record, notification fallback and a queue item. No delivery path exists."""
    tenant_id = tenant.profile["tenant_id"]
    drifted = drifted_leads(tenant, drift_policy)
    cycle = OfflineCycle()
    for submission in tenant.submissions():
        handoff = prepare(submission, tenant_id, tenant.titan_map, drifted.get(submission["lead_id"], []),
                          policy.offline)
        cycle.handoffs.append(handoff)
        cycle.local_records.append(local_record(submission))
        cycle.notifications.append(notification_fallback(submission, handoff, policy.offline["notification_channel"]))
        cycle.items.append(queue.intake(f"q-{handoff.lead_id}", handoff.lead_id, handoff.external_id,
                                        queue.parse_time(submission["submitted_at"]), policy, handoff.reason))
    return cycle


@dataclass(frozen=True)
class OfflineRun:
    cycle: OfflineCycle
    network_attempts: tuple[str, ...]  # every connection the cycle tried while the network was blocked


def offline_run(tenant, policy: queue.QueuePolicy, drift_policy: dict) -> OfflineRun:
    """The offline cycle run with every network connection blocked, once per tenant and run: each scenario about
    the cycle judges this same run, including the connections it attempted."""
    def run() -> OfflineRun:
        with no_network() as network:
            cycle = offline_cycle(tenant, policy, drift_policy)
        return OfflineRun(cycle, tuple(network.attempts))
    return tenant.derived("offline handoff cycle", run)


def record_problems(cycle: OfflineCycle, lead_ids: list[str]) -> list[str]:
    """Leads without exactly one local record and one notification fallback record."""
    problems = []
    for name, records in (("local record", cycle.local_records), ("notification fallback", cycle.notifications)):
        counts = {lead: sum(1 for r in records if r["lead_id"] == lead) for lead in lead_ids}
        problems += [f"lead {lead} has {n} {name}s, expected 1" for lead, n in counts.items() if n != 1]
    return problems


def delivered_offline(cycle: OfflineCycle, policy: queue.QueuePolicy) -> list[str]:
    """Queue items the offline cycle moved to a state that needs a connection or ends the item."""
    return [f"{item.item_id} reached {item.state} offline" for item in cycle.items
            if policy.states[item.state].get("requires_connection") or policy.states[item.state].get("terminal")]


def review_findings(handoffs: Iterable[Handoff]) -> list[Finding]:
    return [Finding("handoff-needs-mapping", handoff.lead_id, "minor", FINDING_KINDS["handoff-needs-mapping"],
                    f"goes to review ({handoff.reason}): {'; '.join(handoff.problems)}")
            for handoff in handoffs if handoff.reason]


def external_id_findings(lines: list[queue.SnapshotLine], handoffs: list[Handoff]) -> list[Finding]:
    """Queue items whose lead is unknown or whose external id is not their lead's."""
    return [f for f in snapshot_findings(lines, handoffs)
            if f.kind in ("handoff-external-id-mismatch", "handoff-unknown-lead")]


def queued_unmapped_findings(lines: list[queue.SnapshotLine], handoffs: list[Handoff]) -> list[Finding]:
    """Queue items waiting as queued or retrying while their lead's mapping is missing or drifted."""
    return [f for f in snapshot_findings(lines, handoffs) if f.kind == "handoff-queued-unmapped"]


def snapshot_findings(lines: list[queue.SnapshotLine], handoffs: list[Handoff],
                      where: str = "queue/sync-queue.jsonl") -> list[Finding]:
    """Queue items against today's handoffs: known lead, the same external id, never queued while unmapped."""
    by_lead = {h.lead_id: h for h in handoffs}
    found = []
    for line in lines:
        item, subject = line.item, f"{where}:{line.line} {line.item.item_id}"
        handoff = by_lead.get(item.lead_id)
        if handoff is None:
            found.append(Finding("handoff-unknown-lead", subject, "major", "failed-sync",
                                 f"lead {item.lead_id} is not among the tenant's submissions"))
            continue
        if item.external_id != handoff.external_id:
            found.append(Finding("handoff-external-id-mismatch", subject, "major", "failed-sync",
                                 f"external id {item.external_id} differs from the deterministic {handoff.external_id}"))
        if handoff.reason and item.state in ("queued", "retrying"):
            found.append(Finding("handoff-queued-unmapped", subject, "major", "drift-conflict",
                                 f"{item.state} although its mapping is not usable ({handoff.reason}): "
                                 f"{'; '.join(handoff.problems)}"))
    return found


def _letters_and_digits(text: str) -> str:
    """``"Jordan Alderby"`` and ``"jordan-alderby"`` compare equal; so do phone numbers however punctuated."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def personal_values(submission: dict, lead_allow_list: dict) -> list[str]:
    """The submission's values in fields the lead allow-list marks personal (for leak checks, never for output)."""
    values = []
    for name, spec in lead_allow_list["fields"].items():
        if not spec.get("personal") or name not in submission:
            continue
        value = submission[name]
        values += [str(v) for v in value.values()] if isinstance(value, dict) else [str(value)]
    return [v for v in values if len(v) >= 3]


def unstable_external_ids(handoffs: list[Handoff], tenant_id: int | str) -> list[str]:
    """Handoffs whose external id changes when the lead is prepared again, or differs from their envelope's."""
    return [f"lead {h.lead_id}: external id is not stable" for h in handoffs
            if external_id(tenant_id, h.lead_id) != h.external_id or h.envelope.get("externalId") != h.external_id]


def external_ids_with_personal_data(handoffs: list[Handoff], submissions: list[dict],
                                    lead_allow_list: dict) -> list[str]:
    """Handoffs whose external id contains a personal value of their lead (the values themselves never shown)."""
    by_lead = {s["lead_id"]: s for s in submissions}
    problems = []
    for handoff in handoffs:
        flat = _letters_and_digits(handoff.external_id)
        leaked = [v for v in personal_values(by_lead[handoff.lead_id], lead_allow_list)
                  if len(_letters_and_digits(v)) >= 3 and _letters_and_digits(v) in flat]
        if leaked:
            problems.append(f"lead {handoff.lead_id}: external id contains {len(leaked)} personal value(s)")
    return problems


def mapping_mismatches(handoffs: list[Handoff], submissions: list[dict], titan_map: dict) -> list[str]:
    """Envelopes of handoffs that may go as is whose ids differ from their Titan Map entries."""
    by_lead = {s["lead_id"]: s for s in submissions}
    services, offers, sources = (_by_website(titan_map.get(k)) for k in ("services", "offers", "lead_sources"))
    problems = []
    for handoff in handoffs:
        if handoff.reason:
            continue
        submission, envelope = by_lead[handoff.lead_id], handoff.envelope
        service = services[submission["service"]]
        expected = {"jobTypeId": service["job_type"]["id"], "businessUnitId": service["business_unit"]["id"]}
        campaign = offers.get(submission.get("offer")) or sources.get((submission.get("source") or {}).get("lead_source"))
        if campaign:
            expected["campaignId"] = campaign["campaign"]["id"]
        for key, value in expected.items():
            if envelope.get(key) != value:
                problems.append(f"lead {handoff.lead_id}: {key} {envelope.get(key)} but the Titan Map gives {value}")
    return problems


def review_routing_problems(cycle: OfflineCycle) -> list[str]:
    """Handoffs whose queue item does not follow their mapping: review with the reason exactly when untrustworthy."""
    items = {item.lead_id: item for item in cycle.items}
    problems = []
    for handoff in cycle.handoffs:
        item = items[handoff.lead_id]
        if bool(handoff.problems) != bool(handoff.reason):
            problems.append(f"lead {handoff.lead_id}: mapping problems and review reason disagree")
        if handoff.reason and (item.state != "review" or item.reason != handoff.reason):
            problems.append(f"lead {handoff.lead_id}: mapping {handoff.reason} but its item is {item.state}")
        if not handoff.reason and item.state != "queued":
            problems.append(f"lead {handoff.lead_id}: mapping usable but its item is {item.state}")
    return problems
