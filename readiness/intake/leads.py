"""Importing the website's form submissions: a form tool's export -> leads, consent records and queue items.

A form tool exports one row per submission (CSV, or JSON lines), with flat columns such as ``name``, ``phone``,
``zip``, ``service``, ``utm_source``, ``preferred_window_start`` and the consent checkbox. Each row becomes:

* a lead in ``leads/submissions.jsonl``, in the lead envelope of ``policies/envelopes.yaml`` (flat columns are
  placed by that envelope's fields and subfields, e.g. ``phone`` -> ``contact.phone``); ``service_area`` is
  filled in from the ZIP code through the Titan Map when the form left it empty;
* a consent record in ``leads/consent.jsonl`` with the SHA-256 of the consent text the form showed (the
  product's ``config/site.yaml`` names it);
* a sync-queue item in ``queue/sync-queue.jsonl`` made by the queue's own ``intake`` with the handoff's
  deterministic external id: ``queued``, or ``review`` with the reason when its Titan Map entry is missing,
  unreviewed or drifted (``readiness.sync.handoff.prepare`` decides, as the gate does);
* a row awaiting entry in the office's ``evidence/manual-handoff-log-<YYYY-MM>.md``, with the reference code
  (external id) the office writes on the booking it enters by hand.

Data minimization: a column outside the lead envelope is dropped and listed, never written; a column the
product must never hold (payment card, identity number, date of birth, secrets: the ``export_fields`` rules of
``policies/data-boundaries.yaml``) refuses the whole file. Rows already imported (same content) are skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from readiness.boundaries.data_boundaries import ExportFieldJudge
from readiness.core.documents import YamlDocument, iter_json_lines
from readiness.core.errors import ReadinessError
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant
from readiness.sync import handoff, queue

# Lead ids are ``lead-<tenant prefix>-NNNN`` (consent records ``consent-<prefix>-NNNN``, queue items
# ``q-<prefix>-NNNN``, same number). The tenant prefix is the initials of the tenant folder's slug
# (``riverside-growth`` -> ``rg``). Documented in fixtures/README.md (1.5) and the README (Onboard a customer).
LEAD_ID_PREFIX = "lead"
CONSENT_ID_PREFIX = "consent"
QUEUE_ID_PREFIX = "q"
NUMBER_WIDTH = 4

# Columns a form tool writes that are about the submission itself rather than lead fields: consumed, not kept.
SUBMITTED_AT = ("submitted_at", "submitted", "submission_date", "date_submitted", "created_at", "timestamp", "date")
CONSENT = ("consent", "consent_given", "agreed", "i_agree")
CONSENT_AT = ("consent_at", "consent_captured_at", "consent_time")
YES = {"true", "yes", "y", "1", "checked", "on", "agreed", "x"}


class FormExportError(ReadinessError):
    """The form tool's export cannot be imported as it is."""


def tenant_prefix(slug: str) -> str:
    """``riverside-growth`` -> ``rg``: the initials of the slug's words."""
    return "".join(word[0] for word in slug.split("-") if word) or slug[:2]


def numbered(kind: str, slug: str, number: int) -> str:
    return f"{kind}-{tenant_prefix(slug)}-{number:0{NUMBER_WIDTH}d}"


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0  # rows already in the tenant
    dropped: list[str] = field(default_factory=list)  # columns outside the lead envelope, never written
    states: dict[str, int] = field(default_factory=dict)  # queue state -> items created
    logs: list[Path] = field(default_factory=list)  # evidence/manual-handoff-log-<month>.md the leads were added to


@dataclass
class Row:
    line: int
    values: dict[str, str]  # column (normalised) -> value


def _column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().casefold()).strip("_")


def read_rows(file: Path) -> tuple[list[str], list[Row]]:
    """(columns, rows) from a CSV (any common delimiter, UTF-8 with or without BOM) or JSON lines file."""
    file = Path(file)
    if not file.is_file():
        raise FormExportError(file, "file not found")
    if file.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows, columns = [], []
        for number, record in iter_json_lines(file, FormExportError):
            flat = dict(_flatten(record))
            columns += [c for c in flat if c not in columns]
            rows.append(Row(number, flat))
        return columns, rows
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormExportError(file, f"not UTF-8 text (byte {exc.start}); export the form as UTF-8 CSV") from None
    if not text.strip():
        raise FormExportError(file, "is empty: export the form submissions with their header row")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [_column(c) for c in next(reader)]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise FormExportError(file, f"row has {len(values)} cells but the header has {len(header)}",
                                  line=reader.line_num)
        # A short row leaves its trailing cells empty (form tools drop them).
        rows.append(Row(reader.line_num, {c: v.strip() for c, v in zip(header, values, strict=False) if v.strip()}))
    return header, rows


def _flatten(record: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    """A JSON line's keys as flat columns: ``{"contact": {"phone": ..}}`` -> ``phone`` (nested names kept plain)."""
    for key, value in record.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{_column(key)}_")
        elif value is not None and value != "":
            yield _column(key), str(value).strip() if not isinstance(value, bool) else str(value).lower()
            if prefix:
                yield f"{prefix}{_column(key)}", str(value).strip()


class LeadEnvelope:
    """Where each flat column goes in the lead envelope: ``phone`` -> ``("contact", "phone")``."""

    def __init__(self, lead: dict):
        self.places: dict[str, tuple[str, str | None]] = {}
        fields = lead["fields"]
        for name, spec in fields.items():
            for sub in spec.get("subfields", []):
                self.places[f"{name}_{sub}"] = (name, sub)
        shared = {}
        for name, spec in fields.items():
            for sub in spec.get("subfields", []):
                shared.setdefault(sub, []).append(name)
        for sub, owners in shared.items():
            if len(owners) == 1 and sub not in fields:
                self.places.setdefault(sub, (owners[0], sub))
        for name, spec in fields.items():
            if "subfields" not in spec:
                self.places[name] = (name, None)

    def place(self, column: str) -> tuple[str, str | None] | None:
        return self.places.get(column)


def _time(value: str, file: Path, line: int, column: str) -> str:
    text = value.strip().replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", value.strip()) else value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FormExportError(file, f"{column} {value!r} is not a date and time like 2026-11-02T15:04:05Z",
                              line=line) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # form tools export UTC unless they say otherwise
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first(values: dict[str, str], names: tuple[str, ...]) -> tuple[str | None, str | None]:
    return next(((n, values[n]) for n in names if values.get(n)), (None, None))


@dataclass(frozen=True)
class ConsentText:
    version: str
    sha256: str
    method: str

    @classmethod
    def from_product(cls, product_dir: Path) -> "ConsentText":
        """The consent text the form shows, as the product's ``config/site.yaml`` names it."""
        config_path = Path(product_dir) / "config" / "site.yaml"
        config = YamlDocument(config_path, FormExportError).data
        consent = ((config or {}).get("lead_form") or {}).get("consent") or {}
        if not consent.get("text_file") or not consent.get("text_version"):
            raise FormExportError(config_path, "lead_form.consent needs text_version and text_file")
        text_file = Path(product_dir) / consent["text_file"]
        if not text_file.is_file():
            raise FormExportError(config_path, f"consent text {consent['text_file']} not found in {product_dir}")
        return cls(consent["text_version"], hashlib.sha256(text_file.read_bytes()).hexdigest(),
                   consent.get("method", "web-form-checkbox"))


def _refused_columns(columns: list[str], policies: PolicySet) -> list[tuple[str, str]]:
    judge = ExportFieldJudge(policies["data-boundaries"])
    return [(c, reason) for c in columns if (reason := judge.forbidden_because(c))]


def _fingerprint(lead: dict) -> str:
    return json.dumps({k: v for k, v in lead.items() if k not in ("lead_id", "consent_ref")}, sort_keys=True)


def _next_number(ids: list[str]) -> int:
    numbers = [int(m.group(1)) for i in ids if (m := re.search(r"-(\d+)$", i))]
    return max(numbers, default=0) + 1


def _area_by_zip(titan_map: dict) -> dict[str, str]:
    areas = {}
    for entry in titan_map.get("service_areas") or []:
        for zip_code in entry.get("zips") or []:
            areas.setdefault(str(zip_code), entry.get("website"))
    return areas


def import_submissions(tenant_dir: Path, file: Path, *, product_dir: Path = Path("fixtures/product"),
                       policies_dir: Path = Path("policies")) -> ImportResult:
    """Append the form export's new submissions, their consent records and their queue items to the tenant."""
    tenant = FixtureTenant(Path(tenant_dir))
    profile = tenant.profile  # a folder that is no tenant fails here, naming tenant.yaml
    tenant.check_readable()  # and a malformed leads, consent or queue file fails before anything is appended
    policies = PolicySet.load(policies_dir)
    file = Path(file)
    columns, rows = read_rows(file)
    if not rows:
        raise FormExportError(file, "holds no submissions")
    refused = _refused_columns(columns, policies)
    if refused:
        name, reason = refused[0]
        raise FormExportError(file, f"column {name!r} is refused: {reason} Remove it from the export (nothing "
                                    "was imported)", line=1)
    envelope = LeadEnvelope(policies["envelopes"]["lead"])
    consumed = set(SUBMITTED_AT) | set(CONSENT) | set(CONSENT_AT)
    result = ImportResult(dropped=sorted(c for c in columns if c not in consumed and envelope.place(c) is None
                                         and c not in ("lead_id", "consent_ref")))
    consent_text = ConsentText.from_product(product_dir)
    titan_map = tenant.titan_map or {}
    areas = _area_by_zip(titan_map)

    existing = tenant.submissions()
    seen = {_fingerprint(lead) for lead in existing}
    number = _next_number([lead.get("lead_id", "") for lead in existing])
    leads, consents = [], []
    for row in rows:
        lead, consent = _lead(row, file, envelope, consent_text, areas)
        if _fingerprint(lead) in seen:
            result.skipped += 1
            continue
        seen.add(_fingerprint(lead))
        lead_id = numbered(LEAD_ID_PREFIX, tenant.slug, number)
        consent_id = numbered(CONSENT_ID_PREFIX, tenant.slug, number)
        leads.append((number, {"lead_id": lead_id, **lead, "consent_ref": consent_id}))
        consents.append({"consent_id": consent_id, **consent})
        number += 1

    queue_policy = queue.QueuePolicy.from_policies(policies)
    drifted = handoff.drifted_leads(_WithSubmissions(tenant, [lead for _, lead in leads]), policies["drift"])
    items = []
    for number, lead in leads:
        prepared = handoff.prepare(lead, profile["tenant_id"], titan_map, drifted.get(lead["lead_id"], []),
                                   queue_policy.offline)
        item = queue.intake(numbered(QUEUE_ID_PREFIX, tenant.slug, number), lead["lead_id"], prepared.external_id,
                            queue.parse_time(lead["submitted_at"]), queue_policy, prepared.reason)
        items.append(item.to_record())
        result.states[item.state] = result.states.get(item.state, 0) + 1

    _append(tenant.folder / "leads" / "submissions.jsonl", [lead for _, lead in leads])
    _append(tenant.folder / "leads" / "consent.jsonl", consents)
    _append(tenant.folder / "queue" / "sync-queue.jsonl", items)
    result.logs = _log_for_the_office(tenant.folder, profile["name"], [lead for _, lead in leads], items)
    result.imported = len(leads)
    return result


def _log_for_the_office(folder: Path, name: str, new_leads: list[dict], items: list[dict]) -> list[Path]:
    """Add each new lead to its month's ``evidence/manual-handoff-log-<YYYY-MM>.md`` as awaiting entry.

    The office enters a website lead into ServiceTitan by hand and writes its reference code (the external id)
    on the booking; this log is where it records that (time, role, booking id). A lead starts here with those
    cells empty: the log is the office's, the import only lists what it has to enter."""
    by_lead = {item["lead_id"]: item for item in items}
    months: dict[str, list[dict]] = {}
    for lead in new_leads:
        months.setdefault(lead["submitted_at"][:7], []).append(lead)
    written = []
    for month, month_leads in sorted(months.items()):
        log = folder / "evidence" / f"manual-handoff-log-{month}.md"
        log.parent.mkdir(exist_ok=True)
        lines = [] if log.exists() else [
            f"# Manual handoff log - {name} - {month}", "",
            "Each row is a website lead the office enters into ServiceTitan by hand, writing the external id on the "
            "booking. Nothing is sent to ServiceTitan by the website. The office fills in the last three columns "
            "when it has entered the booking.", ""]
        lines += ["## Awaiting entry (listed by `python -m readiness leads import`)", "",
                  "| lead_id | external id written on the booking | queue state | logged at (UTC) | entered by (role) "
                  "| booking id |", "|---|---|---|---|---|---|"]
        lines += [f"| {lead['lead_id']} | {by_lead[lead['lead_id']]['external_id']} | "
                  f"{by_lead[lead['lead_id']]['state']} | | | |" for lead in month_leads]
        with log.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n\n")
        written.append(log)
    return written


class _WithSubmissions:
    """The tenant as the drift check sees it once the new leads are in (nothing is written before every row is
    known good)."""

    def __init__(self, tenant: FixtureTenant, new: list[dict]):
        self._tenant, self._new = tenant, new

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tenant, name)

    def submissions(self) -> list[dict]:
        return self._tenant.submissions() + self._new


def _lead(row: Row, file: Path, envelope: LeadEnvelope, consent_text: ConsentText,
          areas: dict[str, str]) -> tuple[dict, dict]:
    values = row.values
    column, submitted = _first(values, SUBMITTED_AT)
    if submitted is None:
        raise FormExportError(file, f"no submission time (a column named one of: {', '.join(SUBMITTED_AT)})",
                              line=row.line)
    submitted_at = _time(submitted, file, row.line, column)
    _, agreed = _first(values, CONSENT)
    if (agreed or "").strip().casefold() not in YES:
        raise FormExportError(file, "the visitor did not tick the consent box (consent column empty or no): a "
                                    "submission without consent is not imported; remove the row", line=row.line)
    consent_column, consent_at = _first(values, CONSENT_AT)
    captured_at = _time(consent_at, file, row.line, consent_column) if consent_at else submitted_at
    lead: dict[str, Any] = {"submitted_at": submitted_at}
    for name, value in values.items():
        place = envelope.place(name)
        if place is None or name in ("lead_id", "consent_ref", "submitted_at"):
            continue
        top, sub = place
        if sub is None:
            lead.setdefault(top, value)
        else:
            lead.setdefault(top, {}).setdefault(sub, value)
    if not lead.get("service"):
        raise FormExportError(file, "service is empty: every submission names the website service asked for",
                              line=row.line)
    zip_code = lead.get("zip") or (lead.get("address") or {}).get("zip")
    if zip_code:
        lead["zip"] = zip_code
        if isinstance(lead.get("address"), dict):
            lead["address"].setdefault("zip", zip_code)
        if not lead.get("service_area") and zip_code in areas:
            lead["service_area"] = areas[zip_code]
    for window in ("start", "end"):
        value = (lead.get("preferred_window") or {}).get(window)
        if value:
            lead["preferred_window"][window] = _time(value, file, row.line, f"preferred_window_{window}")
    consent = {"captured_at": captured_at, "text_version": consent_text.version,
               "text_sha256": consent_text.sha256, "method": consent_text.method}
    return lead, consent


def _append(path: Path, records: list[dict]) -> None:
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    ends_mid_line = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as handle:
        if ends_mid_line:
            handle.write("\n")
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
