"""Attribution: website lead -> booking -> job -> invoice -> payment, and its campaign.

Rules come from ``policies/attribution.yaml`` in order of confidence: the booking
``externalId`` the handoff wrote; ServiceTitan ids carried through (``bookingId``
on jobs, ``job`` on invoices, the invoice in a payment's ``appliedTo``); then a
normalised phone or email within a time window; then name + address. Every link
records its rule and confidence. A lead with no link, or with two candidates
at the same rule, is listed for manual review and never credited.

Scale: one streaming pass per export (``json.loads`` per page file), dict
indexes by id, and only the records reachable from a lead are kept, so time and
memory grow linearly with the exports. Money is ``Decimal`` from ServiceTitan's
string amounts, never float.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from readiness.core import exportfeed
from readiness.access import packages
from readiness.mapping import review
from readiness.sync import handoff
from readiness.core.documents import iter_json_lines
from readiness.core.errors import TenantDataError
from readiness.core.findings import Finding

RUNBOOK = "attribution-mismatch"
FINDING_KINDS: dict[str, str | None] = {
    "attribution-unmatched": RUNBOOK,
    "attribution-ambiguous": RUNBOOK,
    "attribution-overpayment": RUNBOOK,
}
EXPORTS = {
    "bookings": "crm/export/bookings",
    "jobs": "jpm/export/jobs",
    "invoices": "accounting/export/invoices",
    "payments": "accounting/export/payments",
    "contacts": "crm/export/customers/contacts",  # optional: without it the contact rule finds nothing
}
REQUIRED_EXPORTS = ("bookings", "jobs", "invoices", "payments")
MISSING_EXPORT = "package-export-missing"  # declared (and routed) by readiness.access.packages
FIRST_HOP_RULES = ("external-id", "contact", "name-address")
CONFIDENCE_ORDER = ("high", "medium", "low")
CANCELED = "Canceled"
ZERO = Decimal("0.00")
DAY = 86400.0


# --- normalisation --------------------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_STREET_WORDS = {"street": "st", "avenue": "ave", "road": "rd", "drive": "dr", "court": "ct", "lane": "ln",
                 "boulevard": "blvd", "terrace": "ter", "place": "pl", "way": "way", "circle": "cir"}


def normal_phone(value: Any) -> str | None:
    digits = _NON_DIGIT.sub("", value) if isinstance(value, str) else ""
    return digits[-10:] if len(digits) >= 10 else None


def normal_email(value: Any) -> str | None:
    text = value.strip().casefold() if isinstance(value, str) else ""
    return text if "@" in text else None


def normal_words(value: Any) -> str:
    words = _NON_WORD.sub(" ", value.casefold()).split() if isinstance(value, str) else []
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


def name_address_key(name: Any, address: Any) -> tuple[str, str, str] | None:
    if not isinstance(address, dict):
        return None
    key = (normal_words(name), normal_words(address.get("street")), str(address.get("zip") or "")[:5])
    return key if all(key) else None


# --- masking for anything a reviewer sees ---------------------------------------------------------------------

def mask_email(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    local, _, domain = text.partition("@")
    if not local or not domain:
        return "(none)"
    return f"{local[0]}***@***.{domain.rsplit('.', 1)[-1]}"


def mask_phone(value: Any) -> str:
    digits = _NON_DIGIT.sub("", value) if isinstance(value, str) else ""
    return f"***-***-**{digits[-2:]}" if len(digits) >= 4 else "(none)"


# --- policy ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    order: tuple[str, ...]  # first-hop rules in policy order
    confidence: dict[str, str]
    window: float  # seconds
    severities: dict[str, str]
    blocking: frozenset[str]

    @classmethod
    def from_policies(cls, policies) -> "Rules":
        policy = policies["attribution"]
        rules = policy["rules"]
        seen = set()
        for i, rule in enumerate(rules):
            if rule["id"] in seen:
                raise policies.error("attribution", ["rules", i, "id"], f"rule {rule['id']} is listed twice")
            seen.add(rule["id"])
            if i and CONFIDENCE_ORDER.index(rule["confidence"]) < CONFIDENCE_ORDER.index(rules[i - 1]["confidence"]):
                raise policies.error("attribution", ["rules", i, "confidence"],
                                     "rules must be listed in order of confidence (high, medium, low)")
        return cls(
            order=tuple(r["id"] for r in rules if r["id"] in FIRST_HOP_RULES),
            confidence={r["id"]: r["confidence"] for r in rules},
            window=policy["window_days"] * DAY,
            severities=dict(policy["severities"]),
            blocking=frozenset(policy["blocking_severities"]),
        )


# --- data -----------------------------------------------------------------------------------------------------

@dataclass
class Lead:
    id: str
    submitted: str
    external_id: str
    phone: str | None
    email: str | None
    name_key: tuple[str, str, str] | None
    service: str | None
    lead_source: str | None
    offer: str | None
    queue_state: str | None
    contact: dict  # as submitted; only ever shown masked (mask_phone, mask_email)


@dataclass
class Booking:
    id: int
    created: str
    job_id: int | None
    campaign_id: int | None


@dataclass
class Job:
    id: int
    booking_id: int | None
    customer_id: int
    campaign_id: int | None
    status: str
    created: str


@dataclass
class Link:
    source: str  # "lead lead-rg-0001"
    target: str  # "booking 27001"
    rule: str
    confidence: str


@dataclass
class LeadOutcome:
    lead: Lead
    status: str  # matched | unmatched | ambiguous
    rule: str | None = None
    confidence: str | None = None
    reason: str = ""
    booking_ids: list[int] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    invoice_ids: list[int] = field(default_factory=list)
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    campaign_id: int | None = None
    campaign_rule: str | None = None
    links: list[Link] = field(default_factory=list)

    @property
    def booked_jobs(self) -> list[Job]:
        return [j for j in self.jobs if j.status != CANCELED]


@dataclass
class Attribution:
    outcomes: list[LeadOutcome]
    overpaid: list[tuple[int, Decimal, Decimal]]  # invoice id, total, applied
    campaign_names: dict[int, str]
    rules: Rules


# --- reading --------------------------------------------------------------------------------------------------

def read_leads(tenant) -> list[Lead]:
    path = tenant.folder / "leads" / "submissions.jsonl"
    if not path.exists():
        return []
    tenant_id = tenant.profile["tenant_id"]
    queue = {}
    queue_path = tenant.folder / "queue" / "sync-queue.jsonl"
    if queue_path.exists():
        for _, item in iter_json_lines(queue_path, TenantDataError):
            if isinstance(item.get("lead_id"), str):
                queue[item["lead_id"]] = item
    leads, seen = [], set()
    for line, raw in iter_json_lines(path, TenantDataError):
        lead_id = raw.get("lead_id")
        if not isinstance(lead_id, str) or not lead_id:
            raise TenantDataError(path, "lead_id missing or not text", line=line, key="lead_id")
        if lead_id in seen:
            raise TenantDataError(path, f"duplicate lead_id {lead_id}", line=line, key="lead_id")
        seen.add(lead_id)
        submitted = raw.get("submitted_at")
        if not exportfeed.is_date_time(submitted):
            raise TenantDataError(path, f"lead {lead_id}: submitted_at must be an ISO 8601 date-time like "
                                        f"2026-11-04T17:15:00Z, not {submitted!r}", line=line, key="submitted_at")
        contact = raw.get("contact") if isinstance(raw.get("contact"), dict) else {}
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        item = queue.get(lead_id, {})
        external = item.get("external_id")
        leads.append(Lead(
            id=lead_id,
            submitted=submitted,
            external_id=external if isinstance(external, str) else handoff.external_id(tenant_id, lead_id),
            phone=normal_phone(contact.get("phone")),
            email=normal_email(contact.get("email")),
            name_key=name_address_key(contact.get("name"), raw.get("address")),
            service=raw.get("service") if isinstance(raw.get("service"), str) else None,
            lead_source=source.get("lead_source") if isinstance(source.get("lead_source"), str) else None,
            offer=raw.get("offer") if isinstance(raw.get("offer"), str) else None,
            queue_state=item.get("state") if isinstance(item.get("state"), str) else None,
            contact=contact,
        ))
    return leads


def has_outcomes(tenant) -> bool:
    """Whether the tenant supplied any outcome export (Launch tenants usually supply none)."""
    return any(exportfeed.has_export(tenant.exports, EXPORTS[name]) for name in REQUIRED_EXPORTS)


def _money_field(path: Path, index: int, record: dict, name: str) -> Decimal:
    return exportfeed.money(path, exportfeed.where(index, record), name, record.get(name), optional=True)


def _amount(value: Any) -> Decimal | None:
    """Fast path for a well-formed amount ("249.00", or absent = 0); None when it needs the located error."""
    if value is None:
        return ZERO
    if type(value) is str:
        try:
            amount = Decimal(value)
        except ArithmeticError:
            return None
        return amount if amount.is_finite() else None
    return Decimal(value) if type(value) is int else None


def _bad_booking(path: Path, index: int, raw: dict) -> None:
    exportfeed.need_int(path, index, raw, "id")
    exportfeed.need_date_time(path, index, raw, "createdOn")
    exportfeed.need_str(path, index, raw, "externalId", optional=True)
    exportfeed.need_int(path, index, raw, "jobId", optional=True)
    exportfeed.need_int(path, index, raw, "campaignId", optional=True)


def _bad_job(path: Path, index: int, raw: dict) -> None:
    exportfeed.need_int(path, index, raw, "id")
    exportfeed.need_date_time(path, index, raw, "createdOn")
    exportfeed.need_int(path, index, raw, "customerId")
    exportfeed.need_str(path, index, raw, "jobStatus")
    exportfeed.need_int(path, index, raw, "bookingId", optional=True)
    exportfeed.need_int(path, index, raw, "campaignId", optional=True)


def attribute(tenant, rules: Rules) -> Attribution:
    """Link every lead of a tenant to its outcomes. Bad export data raises a TenantDataError naming file and record."""
    with exportfeed.bulk_load():
        return _attribute(tenant, rules)


def _attribute(tenant, rules: Rules) -> Attribution:
    exports = tenant.exports
    for name in REQUIRED_EXPORTS:
        if not exportfeed.has_export(exports, EXPORTS[name]):
            raise TenantDataError(exportfeed.location(exports, EXPORTS[name]), "outcome export not found: attribution needs "
                                  "bookings, jobs, invoices and payments exports")
    leads = read_leads(tenant)
    by_external = {lead.external_id: lead for lead in leads}
    by_name = defaultdict(list)
    for lead in leads:
        if lead.name_key:
            by_name[lead.name_key].append(lead)
    lead_streets: dict[str, set[str]] = defaultdict(set)  # zip -> normalised streets of leads: a cheap first test
    for name_key in by_name:
        lead_streets[name_key[2]].add(name_key[1])
    by_contact = defaultdict(set)
    for lead in leads:
        for value in (lead.phone, lead.email):
            if value:
                by_contact[value].add(lead.id)

    # Each loop checks the fields it relies on inline (the common case costs a few type tests); only a bad record
    # goes through the exportfeed helpers, which raise an error naming the page file and the record.
    is_date = exportfeed.DATE_TIME.match

    # Bookings: candidates by externalId and by name + address.
    bookings: dict[int, Booking] = {}
    external_candidates: dict[str, list[int]] = defaultdict(list)
    name_candidates: dict[str, list[int]] = defaultdict(list)
    seen: set[int] = set()
    for path, data in exportfeed.iter_pages(exports, EXPORTS["bookings"]):
        for index, raw in enumerate(data):
            try:
                get = raw.get
            except AttributeError:
                exportfeed.not_an_object(path, index)
            ident, created, external = get("id"), get("createdOn"), get("externalId")
            job_id, campaign_id = get("jobId"), get("campaignId")
            if (type(ident) is not int or type(created) is not str or not is_date(created)
                    or (external is not None and type(external) is not str)
                    or (job_id is not None and type(job_id) is not int)
                    or (campaign_id is not None and type(campaign_id) is not int)):
                _bad_booking(path, index, raw)
            if ident in seen:
                exportfeed.duplicate(path, index, raw, ident)
            seen.add(ident)
            hit = False
            lead = by_external.get(external) if external else None
            if lead is not None:
                external_candidates[lead.id].append(ident)
                hit = True
            address = get("address")
            if type(address) is dict:
                streets = lead_streets.get(str(address.get("zip") or "")[:5])
                if streets and normal_words(address.get("street")) in streets:
                    for lead in by_name.get(name_address_key(get("name"), address), ()):
                        name_candidates[lead.id].append(ident)
                        hit = True
            if hit:
                bookings[ident] = Booking(ident, created, job_id, campaign_id)

    # Customer contacts (optional export): customers whose phone or email is a lead's.
    customer_leads: dict[int, set[str]] = defaultdict(set)
    if exportfeed.has_export(exports, EXPORTS["contacts"]):
        seen = set()
        for path, data in exportfeed.iter_pages(exports, EXPORTS["contacts"]):
            for index, raw in enumerate(data):
                try:
                    get = raw.get
                except AttributeError:
                    exportfeed.not_an_object(path, index)
                ident, customer, value, kind = get("id"), get("customerId"), get("value"), get("type")
                if type(ident) is not int or type(customer) is not int or type(value) is not str or type(kind) is not str:
                    for name in ("id", "customerId"):
                        exportfeed.need_int(path, index, raw, name)
                    for name in ("value", "type"):
                        exportfeed.need_str(path, index, raw, name)
                if ident in seen:
                    exportfeed.duplicate(path, index, raw, ident)
                seen.add(ident)
                normal = normal_email(value) if kind == "Email" else normal_phone(value)
                if normal in by_contact:
                    customer_leads[customer] |= by_contact[normal]

    # Jobs: keep those reachable from a candidate booking or a matched customer.
    wanted_jobs = {b.job_id for b in bookings.values() if b.job_id is not None}
    jobs: dict[int, Job] = {}
    jobs_by_booking: dict[int, list[int]] = defaultdict(list)
    jobs_by_customer: dict[int, list[int]] = defaultdict(list)
    seen = set()
    for path, data in exportfeed.iter_pages(exports, EXPORTS["jobs"]):
        for index, raw in enumerate(data):
            try:
                get = raw.get
            except AttributeError:
                exportfeed.not_an_object(path, index)
            ident, created, customer = get("id"), get("createdOn"), get("customerId")
            booking_id, campaign_id, status = get("bookingId"), get("campaignId"), get("jobStatus")
            if (type(ident) is not int or type(customer) is not int or type(status) is not str
                    or type(created) is not str or not is_date(created)
                    or (booking_id is not None and type(booking_id) is not int)
                    or (campaign_id is not None and type(campaign_id) is not int)):
                _bad_job(path, index, raw)
            if ident in seen:
                exportfeed.duplicate(path, index, raw, ident)
            seen.add(ident)
            if booking_id in bookings or ident in wanted_jobs or customer in customer_leads:
                jobs[ident] = Job(ident, booking_id, customer, campaign_id, status, created)
                if booking_id is not None:
                    jobs_by_booking[booking_id].append(ident)
                if customer in customer_leads:
                    jobs_by_customer[customer].append(ident)

    # Invoices of kept jobs; every amount is validated, kept or not.
    invoice_totals: dict[int, Decimal] = {}
    invoices_by_job: dict[int, list[int]] = defaultdict(list)
    seen = set()
    for path, data in exportfeed.iter_pages(exports, EXPORTS["invoices"]):
        for index, raw in enumerate(data):
            try:
                get = raw.get
            except AttributeError:
                exportfeed.not_an_object(path, index)
            ident, total, job = get("id"), get("total"), get("job")
            if type(ident) is not int:
                exportfeed.need_int(path, index, raw, "id")
            if ident in seen:
                exportfeed.duplicate(path, index, raw, ident)
            seen.add(ident)
            amount = _amount(total)
            if amount is None:
                _money_field(path, index, raw, "total")
            if job is None:
                continue
            if type(job) is not dict or type(job.get("id")) is not int:
                raise TenantDataError(path, "job must be an object with an integer id", key=exportfeed.where(index, raw))
            if job["id"] in jobs:
                invoice_totals[ident] = amount
                invoices_by_job[job["id"]].append(ident)

    # Payments applied to kept invoices.
    applied: dict[int, Decimal] = defaultdict(Decimal)
    seen = set()
    for path, data in exportfeed.iter_pages(exports, EXPORTS["payments"]):
        for index, raw in enumerate(data):
            try:
                get = raw.get
            except AttributeError:
                exportfeed.not_an_object(path, index)
            ident, entries = get("id"), get("appliedTo")
            if type(ident) is not int:
                exportfeed.need_int(path, index, raw, "id")
            if ident in seen:
                exportfeed.duplicate(path, index, raw, ident)
            seen.add(ident)
            if not entries:
                continue
            if type(entries) is not list:
                raise TenantDataError(path, "appliedTo must be a list", key=exportfeed.where(index, raw))
            for position, entry in enumerate(entries):
                invoice = entry.get("appliedTo") if type(entry) is dict else None
                amount = _amount(entry.get("appliedAmount")) if type(invoice) is int else None
                if amount is None:
                    key = f"{exportfeed.where(index, raw)}.appliedTo[{position}]"
                    if type(invoice) is not int:
                        raise TenantDataError(path, "each appliedTo entry needs the integer invoice id in appliedTo",
                                              key=key)
                    exportfeed.money(path, key, "appliedAmount", entry.get("appliedAmount"))
                if invoice in invoice_totals:
                    applied[invoice] += amount

    lead_customers: dict[str, set[int]] = defaultdict(set)
    for customer, lead_ids in customer_leads.items():
        for lead_id in lead_ids:
            lead_customers[lead_id].add(customer)
    campaign_names = _campaign_names(exports)
    campaign_map = _mapped_campaigns(tenant.titan_map)
    outcomes = []
    claimed: dict[str, str] = {}  # "booking 1" / "job 2" -> lead id that took it
    for lead in sorted(leads, key=lambda item: (item.submitted, item.id)):
        outcome = _first_hop(lead, rules, external_candidates, name_candidates, lead_customers, jobs_by_customer,
                             bookings, jobs)
        if outcome.status == "matched":
            taken = [claimed[t] for t in (f"booking {b}" for b in outcome.booking_ids) if t in claimed]
            taken += [claimed[t] for t in (f"job {j.id}" for j in outcome.jobs) if t in claimed]
            if taken:
                outcome = LeadOutcome(lead, "ambiguous", reason=f"its {outcome.links[0].target} is already "
                                      f"credited to {taken[0]}; one outcome cannot be credited to two leads")
            else:
                _follow(outcome, rules, bookings, jobs, jobs_by_booking, invoices_by_job, invoice_totals, applied)
                for target in [f"booking {b}" for b in outcome.booking_ids] + [f"job {j.id}" for j in outcome.jobs]:
                    claimed[target] = lead.id
        if outcome.status == "matched":
            _campaign(outcome, bookings, campaign_map)
        outcomes.append(outcome)
    overpaid = sorted((i, invoice_totals[i], applied[i]) for i in applied if applied[i] > invoice_totals[i])
    return Attribution(outcomes, overpaid, campaign_names, rules)


def _campaign_names(exports: Path | exportfeed.RecordSet) -> dict[int, str]:
    if not exportfeed.has_export(exports, "marketing/campaigns"):
        return {}
    names = {}
    for path, index, raw in exportfeed.iter_records(exports, "marketing/campaigns"):
        ident = exportfeed.need_int(path, index, raw, "id")
        names[ident] = exportfeed.need_str(path, index, raw, "name", optional=True) or f"campaign {ident}"
    return names


def _mapped_campaigns(titan_map: Any) -> dict[tuple[str, str], int]:
    """(section, website key) -> campaign id the customer mapped, for leads ServiceTitan gave no campaign. An entry
    the customer has not reviewed (a draft) credits no campaign."""
    out = {}
    for section in ("lead_sources", "offers"):
        for entry in (titan_map or {}).get(section) or []:
            campaign = entry.get("campaign") if isinstance(entry, dict) else None
            if isinstance(campaign, dict) and type(campaign.get("id")) is int \
                    and review.why_unreviewed(entry, titan_map) is None:
                out[(section, entry.get("website"))] = campaign["id"]
    return out


def _in_window(lead: Lead, created: str, window: float) -> bool:
    start = exportfeed.epoch(lead.submitted)
    return start <= exportfeed.epoch(created) <= start + window


def _first_hop(lead, rules, external_candidates, name_candidates, lead_customers, jobs_by_customer, bookings,
               jobs) -> LeadOutcome:
    for rule in rules.order:
        if rule == "external-id":
            targets = [("booking", b) for b in sorted(set(external_candidates.get(lead.id, ())))]
        elif rule == "name-address":
            targets = [("booking", b) for b in sorted(set(name_candidates.get(lead.id, ())))
                       if _in_window(lead, bookings[b].created, rules.window)]
        else:
            targets = [("job", j) for c in sorted(lead_customers.get(lead.id, ())) for j in jobs_by_customer.get(c, ())
                       if _in_window(lead, jobs[j].created, rules.window)]
            targets = sorted(set(targets))
        if len(targets) > 1:
            shown = ", ".join(f"{kind} {ident}" for kind, ident in targets[:5])
            return LeadOutcome(lead, "ambiguous", rule, rules.confidence[rule],
                               reason=f"{len(targets)} candidates match equally by rule {rule}: {shown}")
        if targets:
            kind, ident = targets[0]
            outcome = LeadOutcome(lead, "matched", rule, rules.confidence[rule])
            outcome.links.append(Link(f"lead {lead.id}", f"{kind} {ident}", rule, rules.confidence[rule]))
            if kind == "booking":
                outcome.booking_ids.append(ident)
            else:
                outcome.jobs.append(jobs[ident])
            return outcome
    return LeadOutcome(lead, "unmatched", reason="no booking or job matched by any rule")


def _follow(outcome, rules, bookings, jobs, jobs_by_booking, invoices_by_job, invoice_totals, applied) -> None:
    """Carry ServiceTitan's own ids from the first link down to payments."""
    carried, confidence = "carried-id", rules.confidence.get("carried-id", "high")
    for booking_id in outcome.booking_ids:
        job_ids = set(jobs_by_booking.get(booking_id, ()))
        booking = bookings[booking_id]
        if booking.job_id is not None and booking.job_id in jobs:
            job_ids.add(booking.job_id)
        for job_id in sorted(job_ids):
            outcome.jobs.append(jobs[job_id])
            outcome.links.append(Link(f"booking {booking_id}", f"job {job_id}", carried, confidence))
    for job in outcome.jobs:
        if job.booking_id is not None and job.booking_id not in outcome.booking_ids:
            outcome.booking_ids.append(job.booking_id)
            outcome.links.append(Link(f"job {job.id}", f"booking {job.booking_id}", carried, confidence))
        for invoice_id in invoices_by_job.get(job.id, ()):
            outcome.invoice_ids.append(invoice_id)
            outcome.links.append(Link(f"job {job.id}", f"invoice {invoice_id}", carried, confidence))
            total = invoice_totals[invoice_id]
            outcome.invoiced += total
            outcome.paid += min(applied.get(invoice_id, ZERO), total)
            if invoice_id in applied:
                outcome.links.append(Link(f"invoice {invoice_id}", "payments", carried, confidence))


def _campaign(outcome: LeadOutcome, bookings: dict[int, Booking], campaign_map) -> None:
    for job in outcome.jobs:
        if job.campaign_id is not None:
            outcome.campaign_id, outcome.campaign_rule = job.campaign_id, "carried-id"
            return
    for booking_id in outcome.booking_ids:
        booking = bookings.get(booking_id)
        if booking is not None and booking.campaign_id is not None:
            outcome.campaign_id, outcome.campaign_rule = booking.campaign_id, "carried-id"
            return
    lead = outcome.lead
    mapped = campaign_map.get(("offers", lead.offer)) or campaign_map.get(("lead_sources", lead.lead_source))
    if mapped is not None:
        outcome.campaign_id, outcome.campaign_rule = mapped, "titan-map"


# --- findings and summaries -----------------------------------------------------------------------------------

def findings(result: Attribution) -> list[Finding]:
    severities = result.rules.severities
    out = []
    for outcome in result.outcomes:
        lead = outcome.lead
        if outcome.status == "unmatched":
            state = f" (its handoff is {lead.queue_state})" if lead.queue_state else ""
            out.append(Finding("attribution-unmatched", f"lead {lead.id}", severities["unmatched"], RUNBOOK,
                               f"Submitted {lead.submitted[:10]}{state}: {outcome.reason}. "
                               "Listed for manual review; no booking or revenue is credited."))
        elif outcome.status == "ambiguous":
            out.append(Finding("attribution-ambiguous", f"lead {lead.id}", severities["ambiguous"], RUNBOOK,
                               f"Submitted {lead.submitted[:10]}: {outcome.reason}. "
                               "Listed for manual review; nothing is credited."))
    for invoice_id, total, paid in result.overpaid:
        out.append(Finding("attribution-overpayment", f"invoice {invoice_id}", severities["overpayment"], RUNBOOK,
                           f"Payments applied ({paid:,.2f}) exceed the invoice total ({total:,.2f}); "
                           "only the invoice total counts as paid revenue."))
    return out


def blocking(found: Iterable[Finding], rules: Rules) -> list[Finding]:
    return [f for f in found if f.severity in rules.blocking]


def money_text(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def summary(result: Attribution, source: str) -> dict:
    """JSON-serialisable figures for the proof packet and the report section (amounts as text)."""
    outcomes = result.outcomes
    matched = [o for o in outcomes if o.status == "matched"]
    campaigns: dict[Any, dict] = {}
    for outcome in matched:
        cid = outcome.campaign_id
        row = campaigns.setdefault(cid, {
            "campaign_id": cid,
            "campaign": result.campaign_names.get(cid, f"campaign {cid}") if cid is not None else "(no campaign)",
            "leads": 0, "bookings": 0, "booked_jobs": 0, "invoiced": ZERO, "paid": ZERO, "from_titan_map": 0})
        row["leads"] += 1
        row["bookings"] += 1 if outcome.booking_ids else 0
        row["booked_jobs"] += len(outcome.booked_jobs)
        row["invoiced"] += outcome.invoiced
        row["paid"] += outcome.paid
        row["from_titan_map"] += 1 if outcome.campaign_rule == "titan-map" else 0
    by_campaign = sorted(campaigns.values(), key=lambda r: (-r["paid"], r["campaign"]))
    for row in by_campaign:
        row["invoiced"], row["paid"] = money_text(row["invoiced"]), money_text(row["paid"])
    total = len(outcomes)
    by_confidence = []
    for confidence in CONFIDENCE_ORDER:
        count = sum(1 for o in matched if o.confidence == confidence)
        rules = sorted({o.rule for o in matched if o.confidence == confidence})
        by_confidence.append({"confidence": confidence, "rules": rules, "leads": count,
                              "rate": _rate(count, total)})
    for status in ("ambiguous", "unmatched"):
        count = sum(1 for o in outcomes if o.status == status)
        by_confidence.append({"confidence": status, "rules": [], "leads": count, "rate": _rate(count, total)})
    invoiced = sum((o.invoiced for o in matched), ZERO)
    paid = sum((o.paid for o in matched), ZERO)
    funnel = [
        {"stage": "Website leads", "count": total, "amount": None},
        {"stage": "Leads with a booking", "count": sum(1 for o in matched if o.booking_ids), "amount": None},
        {"stage": "Leads with a booked job", "count": sum(1 for o in matched if o.booked_jobs), "amount": None},
        {"stage": "Leads invoiced", "count": sum(1 for o in matched if o.invoiced > 0), "amount": money_text(invoiced)},
        {"stage": "Leads with paid revenue", "count": sum(1 for o in matched if o.paid > 0), "amount": money_text(paid)},
    ]
    review = [{
        "lead": o.lead.id,
        "submitted": o.lead.submitted[:10],
        "service": o.lead.service or "",
        "lead_source": o.lead.lead_source or "",
        "status": o.status,
        "reason": o.reason,
        "phone": mask_phone(o.lead.contact.get("phone")),
        "email": mask_email(o.lead.contact.get("email")),
    } for o in outcomes if o.status != "matched"]
    return {
        "source": source,
        "leads": total,
        "bookings": funnel[1]["count"],
        "booked_jobs": sum(len(o.booked_jobs) for o in matched),
        "invoiced": money_text(invoiced),
        "paid": money_text(paid),
        "match_rate": _rate(len(matched), total),
        "by_campaign": by_campaign,
        "by_confidence": by_confidence,
        "funnel": funnel,
        "review": sorted(review, key=lambda r: r["lead"]),
        "overpaid_invoices": [{"invoice": i, "total": money_text(t), "applied": money_text(a)}
                              for i, t, a in result.overpaid],
        "rules": [{"id": r, "confidence": c} for r, c in result.rules.confidence.items()],
        "window_days": int(result.rules.window // DAY),
    }


def _rate(count: int, total: int) -> str:
    return f"{(100 * count / total):.1f}%" if total else "n/a"


SOURCE_STATEMENTS = {
    "customer-supplied": "from customer-supplied exports",
    "demo": "demo outcomes",
}


def source_statement(tenant) -> str:
    """How the packet names its source in current (offline) mode; never API-verified."""
    return SOURCE_STATEMENTS[tenant.profile["exports"]["source"]]


@dataclass
class AttributionCheck:
    result: Attribution | None  # None: the tenant supplied no outcome exports (Launch package)
    findings: list[Finding]
    section: dict
    blocking: list[Finding]


def check(tenant, policies) -> AttributionCheck:
    """Attribution for one tenant. A Growth tenant must supply the outcome exports; a Launch tenant may not."""
    rules = Rules.from_policies(policies)
    source = source_statement(tenant)
    if tenant.profile["package"] == "launch" and not has_outcomes(tenant):
        section = {"source": source, "not_judged": "Launch package: no outcome exports were supplied, so no "
                                                  "attribution is claimed.", "leads": len(tenant.submissions())}
        return AttributionCheck(None, [], section, [])
    if not has_outcomes(tenant):
        # A Growth tenant that has not brought its outcome exports yet (a new tenant): missing evidence, each
        # naming the file, like the manual package check; not an unreadable tenant.
        missing = [Finding(MISSING_EXPORT, f"{tenant.slug} exports/{EXPORTS[name]}.json", "blocker",
                           packages.FINDING_KINDS[MISSING_EXPORT], f"attribution needs the customer-reviewed {name} "
                           f"export (GET {packages.export_endpoint(EXPORTS[name])})") for name in REQUIRED_EXPORTS]
        section = {"source": source, "not_judged": "No outcome exports were supplied yet, so no attribution is "
                                                  "claimed.", "leads": len(tenant.submissions())}
        return AttributionCheck(None, missing, section, missing)
    result = attribute(tenant, rules)
    found = findings(result)
    return AttributionCheck(result, found, summary(result, source), blocking(found, rules))
