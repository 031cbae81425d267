"""Synthetic tenant generator: ``python -m readiness synth --out DIR --jobs N --seed S``.

Writes ``DIR/<slug>/`` in the documented fixture layout (fixtures/README.md): tenant.yaml,
titan-map.yaml, taxonomy lists, export feeds in numbered pages, leads, and a previous
taxonomy snapshot under ``snapshots/``. Proportions follow a large tenant: per N jobs,
N invoices, 0.8 N payments, 0.3 N bookings and 0.1 N website leads; some bookings are
dismissed, some jobs canceled, some invoices partly paid or unpaid, some taxonomy inactive.

It plants a known set (drift, changes since the snapshot, unmatched and ambiguous
leads, overpaid invoices) and writes it to ``<slug>/synth-manifest.json`` so tests check
recall exactly: everything planted is found and nothing else is flagged. Everything is
fake; the same seed gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timezone
from pathlib import Path

import yaml

from readiness.core.errors import OptionError
from readiness.sync.handoff import external_id

MANIFEST = "synth-manifest.json"
SNAPSHOT = "2026-10-01"
START = int(datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp())
HOUR, DAY = 3600, 86400
FIRST = ["Jordan", "Casey", "Riley", "Morgan", "Taylor", "Avery", "Sam", "Drew", "Jamie", "Quinn", "Parker", "Reese"]
LAST = ["Pebbleworth", "Tumbledown", "Ashgrove", "Hartwell", "Brookmere", "Lockwell", "Driftwood", "Cobbleston"]
STREETS = ["Millrace Street", "Ferryman Court", "Bluffside Terrace", "Cliffrose Way", "Wharfside Avenue"]
PRICES = ["89.00", "99.00", "149.00", "179.00", "249.00", "450.00", "500.00", "1200.00", "1850.00", "2400.00"]


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: Path, body) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")


def _write_list(root: Path, api_path: str, records: list[dict]) -> None:
    _write_json(root / f"{api_path}.json", {"page": 1, "pageSize": max(50, len(records)), "hasMore": False,
                                            "totalCount": len(records), "data": records})


def _write_feed(root: Path, api_path: str, records, count: int, page_size: int) -> None:
    """An export feed as numbered pages (0001.json, ...); ``records`` is consumed lazily, page by page."""
    folder = root / api_path
    pages = max(1, -(-count // page_size))
    iterator = iter(records)
    for number in range(1, pages + 1):
        data = [next(iterator) for _ in range(min(page_size, count - (number - 1) * page_size))]
        _write_json(folder / f"{number:04d}.json", {"hasMore": number < pages,
                                                    "continueFrom": f"synth-{api_path.rsplit('/', 1)[-1]}-{number + 1:04d}",
                                                    "data": data})


class Taxonomy:
    """Job types, business units, zones, campaigns, pricebook services and membership types, plus the map."""

    def __init__(self, rng: random.Random, jobs: int):
        stamp = "2025-06-01T16:00:00Z"
        self.business_units = [{"id": 1001 + i, "active": i < 4, "name": f"Service Unit {i + 1}", "createdOn": stamp,
                                "modifiedOn": stamp} for i in range(5)]
        job_type_count = max(30, jobs // 2000)
        self.job_types = [{
            "id": 2001 + i, "name": f"Job Type {i + 1}", "businessUnitIds": [1001 + i % 4], "skills": [],
            "tagTypeIds": [], "priority": "Normal", "duration": 3600, "class": "Service", "summary": "Synthetic.",
            "noCharge": False, "invoiceSignaturesRequired": False, "modifiedOn": stamp, "createdOn": stamp,
            "externalData": [], "active": not (i >= 24 and i % 7 == 0)} for i in range(job_type_count)]
        self.zones = [{"id": 3001 + i, "active": i < 10, "name": f"Zone {i + 1}",
                       "zips": [f"7{i:02d}{k:02d}" for k in range(4)], "createdBy": 1, "createdOn": stamp,
                       "modifiedOn": stamp, "serviceDaysEnabled": False} for i in range(12)]
        self.campaigns = [{"id": 4001 + i, "name": f"Campaign {i + 1}", "modifiedOn": stamp, "active": i < 14}
                          for i in range(16)]
        pricebook_count = max(80, jobs // 100)
        self.pricebook = [{
            "id": 5001 + i, "code": f"SVC-{i + 1:05d}", "displayName": f"Service Item {i + 1}",
            "description": "<p>Synthetic pricebook item.</p>", "categories": [], "price": 100.0 + i % 50,
            "memberPrice": 90.0, "addOnPrice": 100.0, "addOnMemberPrice": 90.0, "taxable": False, "hours": 1.0,
            "recommendations": [], "upgrades": [], "assets": [], "serviceMaterials": [], "serviceEquipment": [],
            "active": not (i >= 60 and i % 11 == 0), "paysCommission": False, "bonus": 0.0, "commissionBonus": 0.0,
            "modifiedOn": stamp, "cost": 0.0, "createdOn": stamp, "soldByCommission": 0.0}
            for i in range(pricebook_count)]
        self.membership_types = [{
            "name": f"Care Plan {i + 1}", "active": i < 4, "discountMode": "Basic", "locationTarget": "AllLocations",
            "revenueRecognitionMode": "PointOfSale", "autoCalculateInvoiceTemplates": False,
            "useMembershipPricingTable": True, "showMembershipSavings": True, "id": 6001 + i, "createdOn": stamp,
            "modifiedOn": stamp} for i in range(6)]
        self.rng = rng

    def titan_map(self) -> dict:
        unit_names = {u["id"]: u["name"] for u in self.business_units}
        services = []
        for i, job_type in enumerate(self.job_types[:24]):
            unit = job_type["businessUnitIds"][0]
            pricebook = [self.pricebook[2 * i], self.pricebook[2 * i + 1]]
            services.append({
                "website": f"service-{i + 1}", "label": f"Service {i + 1}",
                "job_type": {"id": job_type["id"], "name": job_type["name"]},
                "business_unit": {"id": unit, "name": unit_names[unit]},
                "pricebook_services": [{"id": p["id"], "code": p["code"], "name": p["displayName"]} for p in pricebook],
            })
        areas = [{"website": f"area-{i + 1}", "zone": {"id": z["id"], "name": z["name"]}, "zips": z["zips"][:3]}
                 for i, z in enumerate(self.zones[:8])]
        sources = [{"website": f"source-{i + 1}", "campaign": {"id": c["id"], "name": c["name"]}}
                   for i, c in enumerate(self.campaigns[:6])]
        offers = [{"website": f"offer-{i + 1}", "campaign": {"id": c["id"], "name": c["name"]},
                   "pricebook_services": [{"id": self.pricebook[48 + i]["id"], "code": self.pricebook[48 + i]["code"],
                                           "name": self.pricebook[48 + i]["displayName"]}]}
                  for i, c in enumerate(self.campaigns[6:9])]
        memberships = [{"website": f"plan-{i + 1}", "membership_type": {"id": m["id"], "name": m["name"]}}
                       for i, m in enumerate(self.membership_types[:3])]
        return {"reviewed_on": "2026-09-15", "reviewed_by_role": "Office Manager", "services": services,
                "service_areas": areas, "lead_sources": sources, "offers": offers, "memberships": memberships,
                "notes": "Synthetic tenant written by readiness.gate.synth; every id and name is invented."}

    def exports(self) -> dict[str, list[dict]]:
        return {"settings/business-units": self.business_units, "jpm/job-types": self.job_types,
                "dispatch/zones": self.zones, "marketing/campaigns": self.campaigns,
                "pricebook/services": self.pricebook, "memberships/membership-types": self.membership_types}

    def plant_drift(self) -> tuple[list[list], list[list]]:
        """Mutate the current taxonomy; returns (map drift, changes since the snapshot) as [kind, entity, id]."""
        rng = self.rng
        mapped_types = rng.sample(range(24), 2)
        inactive_type, moved_type = (self.job_types[i] for i in mapped_types)
        inactive_type["active"] = False
        old_unit = moved_type["businessUnitIds"][0]
        moved_type["businessUnitIds"] = [1001 + (old_unit - 1001 + 1) % 4]
        renamed_campaign = self.campaigns[rng.randrange(6)]
        renamed_campaign["name"] += " (renamed)"
        zone = self.zones[rng.randrange(8)]
        lost = zone["zips"][rng.randrange(3)]
        zone["zips"] = [z for z in zone["zips"] if z != lost]
        used = rng.sample(range(48), 2)
        missing, mismatched = self.pricebook[used[0]], self.pricebook[used[1]]
        self.pricebook.remove(missing)
        mismatched["code"] += "-X"
        membership = self.membership_types[rng.randrange(3)]
        membership["active"] = False
        unit = self.business_units[rng.randrange(4)]
        unit["name"] += " East"
        map_drift = [
            ["inactive", "job type", inactive_type["id"]], ["moved", "job type", moved_type["id"]],
            ["renamed", "campaign", renamed_campaign["id"]], ["zone-lost-zip", "zone", zone["id"]],
            ["missing", "pricebook service", missing["id"]], ["mismatch", "pricebook service", mismatched["id"]],
            ["inactive", "membership type", membership["id"]], ["renamed", "business unit", unit["id"]],
        ]
        over_time = [[kind if kind == "missing" else "changed", entity, ident] for kind, entity, ident in map_drift]
        over_time[4][0] = "removed"
        # Changes the map does not use: visible over time only.
        unmapped = self.pricebook[60:]
        changed = rng.sample(unmapped, 3)
        for record in changed:
            record["price"] += 10.0
            over_time.append(["changed", "pricebook service", record["id"]])
        gone = rng.choice([r for r in unmapped if r not in changed])
        self.pricebook.remove(gone)
        over_time.append(["removed", "pricebook service", gone["id"]])
        base = self.pricebook[-1]["id"]
        for k in (1, 2):
            added = dict(self.pricebook[-1], id=base + k, code=f"SVC-NEW-{k}", displayName=f"New Service Item {k}")
            self.pricebook.append(added)
            over_time.append(["added", "pricebook service", added["id"]])
        new_campaign = {"id": 4001 + len(self.campaigns), "name": "Campaign New", "modifiedOn": "2026-10-15T16:00:00Z",
                        "active": True}
        self.campaigns.append(new_campaign)
        over_time.append(["added", "campaign", new_campaign["id"]])
        return map_drift, over_time


def generate(out: Path | str, jobs: int, seed: int, *, slug: str = "synthetic-tenant", page_size: int = 5000) -> Path:
    """Write one synthetic tenant under ``out``; returns its folder."""
    if jobs < 200:
        raise OptionError("--jobs must be at least 200 (smaller tenants cannot hold the planted set)")
    if page_size < 1:
        raise OptionError("--page-size must be at least 1")
    rng = random.Random(seed)
    folder = Path(out) / slug
    exports = folder / "exports"
    tenant_id = 900_000_000 + seed % 100_000
    taxonomy = Taxonomy(rng, jobs)
    titan_map = taxonomy.titan_map()
    snapshot = {path: [dict(r, **({"zips": list(r["zips"])} if "zips" in r else {}),
                            **({"businessUnitIds": list(r["businessUnitIds"])} if "businessUnitIds" in r else {}))
                       for r in records] for path, records in taxonomy.exports().items()}
    map_drift, over_time = taxonomy.plant_drift()

    lead_count, booking_count = max(20, jobs // 10), max(60, 3 * jobs // 10)
    invoice_count, payment_count = jobs, 8 * jobs // 10
    roles = ["external-id"] * lead_count
    order = list(range(lead_count))
    rng.shuffle(order)
    unmatched_n, ambiguous_n = max(2, lead_count // 50), max(2, lead_count // 200)
    contact_n = name_n = max(1, lead_count // 20)
    cursor = 0
    for role, n in (("unmatched", unmatched_n), ("ambiguous-name", (ambiguous_n + 1) // 2),
                    ("ambiguous-external", ambiguous_n // 2), ("contact", contact_n), ("name-address", name_n)):
        for i in order[cursor:cursor + n]:
            roles[i] = role
        cursor += n

    services, areas = titan_map["services"], titan_map["service_areas"]
    sources, offers = titan_map["lead_sources"], titan_map["offers"]
    leads, bookings, lead_jobs = [], [], []  # lead_jobs: (lead index, booking index or None, created)
    span = 300 * DAY
    for i in range(lead_count):
        submitted = START + (span * i) // lead_count + rng.randrange(HOUR)
        area = areas[i % len(areas)]
        zip_code = area["zips"][i % len(area["zips"])]
        source = sources[rng.randrange(len(sources))]
        offer = offers[rng.randrange(len(offers))] if rng.random() < 0.1 else None
        campaign = (offer or source)["campaign"]["id"]
        service = services[rng.randrange(len(services))]
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
        street = f"{i + 1} {STREETS[i % len(STREETS)]}"
        lead = {
            "lead_id": f"lead-sy-{i + 1:07d}", "submitted_at": iso(submitted), "service": service["website"],
            "service_area": area["website"], "zip": zip_code,
            "contact": {"name": name, "phone": f"555-{i // 10000:03d}-{i % 10000:04d}",
                        "email": f"lead{i + 1}@example.com"},
            "address": {"street": street, "city": "Larkport", "state": "OK", "zip": zip_code},
            "preferred_window": {"start": iso(submitted + 2 * DAY), "end": iso(submitted + 2 * DAY + 4 * HOUR)},
            "source": {"lead_source": source["website"], "utm_source": "google", "utm_medium": "cpc",
                       "utm_campaign": "synthetic"},
            "consent_ref": f"consent-sy-{i + 1:07d}",
        }
        if offer:
            lead["offer"] = offer["website"]
        leads.append(lead)
        role = roles[i]
        web = {"name": name, "street": street, "zip": zip_code, "campaign": campaign,
               "job_type": service["job_type"]["id"], "unit": service["business_unit"]["id"], "lead": i}
        external = external_id(tenant_id, lead["lead_id"])
        if role == "external-id":
            bookings.append({**web, "external": external, "created": submitted + HOUR + rng.randrange(DAY)})
        elif role == "ambiguous-external":
            for k in range(2):
                bookings.append({**web, "external": external, "created": submitted + HOUR * (k + 1)})
        elif role == "name-address":
            bookings.append({**web, "external": "", "created": submitted + HOUR + rng.randrange(2 * DAY)})
        elif role == "ambiguous-name":
            for k in range(2):
                bookings.append({**web, "external": "", "created": submitted + HOUR * (k + 2)})
        elif role == "contact":
            lead_jobs.append((i, None, submitted + 2 * HOUR + rng.randrange(DAY)))
    web_bookings = len(bookings)
    if web_bookings > booking_count:
        booking_count = web_bookings
    for k in range(booking_count - web_bookings):
        created = START + rng.randrange(span)
        bookings.append({"name": f"{FIRST[k % len(FIRST)]} {LAST[k % len(LAST)]}",
                         "street": f"{10_000_000 + k} {STREETS[k % len(STREETS)]}", "zip": "79999",
                         "campaign": 4001 + rng.randrange(16), "job_type": 2001 + rng.randrange(24),
                         "unit": 1001 + rng.randrange(4), "lead": None, "external": "", "created": created})

    # Jobs: converted bookings, phone-in jobs of contact-matched leads, then other jobs.
    customers_other = max(10, 3 * jobs // 10)
    job_rows = []  # (booking index or None, customer, campaign, job type, unit, created)
    booking_job = {}
    for b, booking in enumerate(bookings):
        booking["converted"] = rng.random() < 0.88
        if booking["converted"] and len(job_rows) < jobs:
            customer = 10_000_000 + booking["lead"] if booking["lead"] is not None else 20_000_000 + rng.randrange(customers_other)
            booking_job[b] = len(job_rows)
            job_rows.append((b, customer, booking["campaign"], booking["job_type"], booking["unit"],
                             booking["created"] + HOUR))
        else:
            booking["converted"] = False
    for i, _, created in lead_jobs:
        source = next(s for s in sources if s["website"] == leads[i]["source"]["lead_source"])
        job_rows.append((None, 10_000_000 + i, source["campaign"]["id"], 2001 + i % 24, 1001 + i % 4, created))
    if len(job_rows) > jobs:
        raise OptionError(f"--jobs {jobs} is too small for {lead_count} leads; use more jobs")
    while len(job_rows) < jobs:
        job_rows.append((None, 20_000_000 + rng.randrange(customers_other), 4001 + rng.randrange(16),
                         2001 + rng.randrange(24), 1001 + rng.randrange(4), START + rng.randrange(span)))
    canceled = [rng.random() < 0.08 for _ in job_rows]
    totals = ["0.00" if canceled[j] else PRICES[rng.randrange(len(PRICES))] for j in range(len(job_rows))]

    # Payments: planted overpayments first (on invoices of external-id leads), then the usual mix.
    candidates = [booking_job[b] for b, booking in enumerate(bookings)
                  if booking["lead"] is not None and roles[booking["lead"]] == "external-id" and b in booking_job
                  and not canceled[booking_job[b]]]
    overpaid = sorted(rng.sample(candidates, max(1, lead_count // 1000)))
    payments = []  # (invoice index, amount)
    for j in overpaid:
        payments.append((j, f"{int(totals[j].split('.')[0]) + 50}.00"))
    overpaid_set = set(overpaid)
    for j in range(len(job_rows)):
        if len(payments) >= payment_count:
            break
        if j in overpaid_set or totals[j] == "0.00":
            continue
        whole = int(totals[j].split(".")[0])
        draw = rng.random()
        if draw < 0.72:
            payments.append((j, totals[j]))
        elif draw < 0.82:
            payments.append((j, f"{whole // 2}.00"))
            payments.append((j, f"{whole - whole // 2}.00"))
        elif draw < 0.92:
            payments.append((j, f"{whole // 2}.00"))
    payments = payments[:payment_count]
    paid = {}
    for j, amount in payments:
        paid[j] = paid.get(j, 0) + int(amount.split(".")[0])

    # --- write ----------------------------------------------------------------------------------------------
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tenant.yaml").write_text(yaml.safe_dump({
        "name": f"Synthetic Tenant {seed} (demo)", "tenant_id": tenant_id, "package": "growth", "trade": "multi-trade",
        "purchased_modules": ["crm", "jpm", "settings", "dispatch", "marketing", "pricebook", "memberships",
                              "accounting"],
        "connection": {"status": "not-connected", "granted_scopes": []},
        "authorization_owners": [{"role": "Owner", "authorizes": ["crm", "jpm", "settings", "dispatch", "pricebook",
                                                                   "memberships", "marketing", "accounting"]}],
        "exports": {"source": "demo", "captured_on": "2026-11-20"},
    }, sort_keys=False), encoding="utf-8")
    (folder / "titan-map.yaml").write_text(yaml.safe_dump(titan_map, sort_keys=False), encoding="utf-8")
    for api_path, records in taxonomy.exports().items():
        _write_list(exports, api_path, records)
        previous = list(snapshot[api_path])
        rng.shuffle(previous)  # reordering is not drift
        _write_list(folder / "snapshots" / SNAPSHOT, api_path, previous)
    (folder / "leads").mkdir(parents=True, exist_ok=True)
    consent_text = Path(__file__).resolve().parents[2] / "fixtures" / "product" / "consent" / "contact-consent-v3.txt"
    digest = hashlib.sha256(consent_text.read_bytes()).hexdigest() if consent_text.is_file() else "0" * 64
    with open(folder / "leads" / "submissions.jsonl", "w", encoding="utf-8") as handle:
        for lead in leads:
            handle.write(json.dumps(lead, separators=(",", ":")) + "\n")
    with open(folder / "leads" / "consent.jsonl", "w", encoding="utf-8") as handle:
        for lead in leads:
            handle.write(json.dumps({"consent_id": lead["consent_ref"], "captured_at": lead["submitted_at"],
                                     "text_version": "contact-consent-v3", "text_sha256": digest,
                                     "method": "web-form-checkbox"}, separators=(",", ":")) + "\n")

    def booking_records():
        for b, booking in enumerate(bookings):
            record = {
                "id": 70_000_000 + b, "source": "Website" if booking["lead"] is not None else "Phone",
                "createdOn": iso(booking["created"]), "name": booking["name"],
                "address": {"street": booking["street"], "city": "Larkport", "state": "OK", "zip": booking["zip"],
                            "country": "USA"},
                "customerType": "Residential", "start": iso(booking["created"] + 2 * DAY), "summary": "Synthetic.",
                "campaignId": booking["campaign"], "businessUnitId": booking["unit"], "isFirstTimeClient": True,
                "uploadedImages": [], "isSendConfirmationEmail": False,
                "status": "Converted" if booking["converted"] else "Dismissed",
                "externalId": booking["external"], "priority": "Normal", "jobTypeId": booking["job_type"],
                "bookingProviderId": 29951, "modifiedOn": iso(booking["created"] + 2 * HOUR), "active": True}
            if booking["converted"]:
                record["jobId"] = 80_000_000 + booking_job[b]
            else:
                record["dismissingReasonId"] = 1
            yield record

    def job_records():
        for j, (b, customer, campaign, job_type, unit, created) in enumerate(job_rows):
            done = not canceled[j]
            record = {
                "id": 80_000_000 + j, "jobNumber": str(80_000_000 + j), "customerId": customer,
                "locationId": customer + 50_000_000, "jobStatus": "Completed" if done else "Canceled",
                "completedOn": iso(created + DAY) if done else None, "businessUnitId": unit, "jobTypeId": job_type,
                "priority": "Normal", "campaignId": campaign, "customFields": [], "appointmentCount": 1,
                "firstAppointmentId": 1, "lastAppointmentId": 1, "noCharge": False, "notificationsEnabled": True,
                "createdOn": iso(created), "createdById": 1, "modifiedOn": iso(created + DAY), "tagTypeIds": [],
                "externalData": [], "customerPo": "", "invoiceId": 90_000_000 + j, "active": True}
            if b is not None:
                record["bookingId"] = 70_000_000 + b
            yield record

    def invoice_records():
        for j, row in enumerate(job_rows):
            whole = int(totals[j].split(".")[0])
            balance = max(0, whole - paid.get(j, 0))
            yield {"id": 90_000_000 + j, "referenceNumber": str(80_000_000 + j), "invoiceDate": iso(row[5] + DAY),
                   "subTotal": totals[j], "salesTax": "0.00", "total": totals[j], "balance": f"{balance}.00",
                   "customer": {"id": row[1], "name": "Synthetic Customer"},
                   "businessUnit": {"id": row[4], "name": "Service Unit"},
                   "createdOn": iso(row[5]), "modifiedOn": iso(row[5] + DAY),
                   "job": {"id": 80_000_000 + j, "number": str(80_000_000 + j), "type": "Synthetic"},
                   "sentStatus": "Sent", "reviewStatus": "Reviewed", "items": [], "customFields": [], "active": True}

    def payment_records():
        for p, (j, amount) in enumerate(payments):
            when = iso(job_rows[j][5] + 2 * DAY)
            yield {"id": 95_000_000 + p, "referenceNumber": str(95_000_000 + p), "date": when, "type": "Credit Card",
                   "total": amount, "unappliedAmount": "0.00",
                   "appliedTo": [{"appliedId": 96_000_000 + p, "appliedTo": 90_000_000 + j, "appliedAmount": amount,
                                  "appliedOn": when}],
                   "customFields": [], "modifiedOn": when, "createdOn": when, "active": True}

    contact_customers = [10_000_000 + i for i in range(lead_count) if roles[i] == "contact"]

    def contact_records():
        for k, customer in enumerate(contact_customers):
            phone = leads[customer - 10_000_000]["contact"]["phone"]
            yield {"modifiedOn": iso(START), "phoneSettings": {"phoneNumber": phone, "doNotText": False},
                   "createdOn": iso(START), "id": 60_000_000 + k, "type": "MobilePhone", "value": phone,
                   "customerId": customer, "active": True}
        for k in range(customers_other):
            phone = f"556-{k // 10000:03d}-{k % 10000:04d}"
            yield {"modifiedOn": iso(START), "phoneSettings": {"phoneNumber": phone, "doNotText": False},
                   "createdOn": iso(START), "id": 61_000_000 + k, "type": "MobilePhone", "value": phone,
                   "customerId": 20_000_000 + k, "active": True}

    _write_feed(exports, "crm/export/bookings", booking_records(), len(bookings), page_size)
    _write_feed(exports, "jpm/export/jobs", job_records(), len(job_rows), page_size)
    _write_feed(exports, "accounting/export/invoices", invoice_records(), len(job_rows), page_size)
    _write_feed(exports, "accounting/export/payments", payment_records(), len(payments), page_size)
    _write_feed(exports, "crm/export/customers/contacts", contact_records(),
                len(contact_customers) + customers_other, page_size)

    manifest = {
        "seed": seed, "jobs": jobs, "page_size": page_size,
        "counts": {"leads": lead_count, "bookings": len(bookings), "jobs": len(job_rows),
                   "invoices": len(job_rows), "payments": len(payments),
                   "contacts": len(contact_customers) + customers_other},
        "planted": {
            "map_drift": sorted(map_drift),
            "over_time": sorted(over_time),
            "unmatched": sorted(leads[i]["lead_id"] for i in range(lead_count) if roles[i] == "unmatched"),
            "ambiguous": sorted(leads[i]["lead_id"] for i in range(lead_count) if roles[i].startswith("ambiguous")),
            "overpaid_invoices": [90_000_000 + j for j in overpaid],
        },
        "matched_by_rule": {rule: sum(1 for r in roles if r == rule) for rule in ("external-id", "contact", "name-address")},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return folder
