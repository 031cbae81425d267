"""Titan Map drift: the customer-reviewed map against the tenant's ServiceTitan taxonomy exports.

Two views, both keyed by ServiceTitan id:

* map drift: an id the map uses is missing, inactive, renamed, moved (job type no
  longer in the mapped business unit, zone no longer covering a mapped zip) or
  mismatched (pricebook code), per ``policies/drift.yaml`` severities;
* drift over time: the newest snapshot under ``snapshots/<label>/`` against the
  current export, record by record with deepdiff, so reordering is never drift.

Handoffs whose website service, area, lead source or offer depends on a drifted
id go to ``review``: the finding names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from deepdiff import DeepDiff

from readiness.core import exportfeed
from readiness.core.errors import TenantDataError, key_path
from readiness.core.findings import Finding

RUNBOOK = "drift-conflict"
FINDING_KINDS: dict[str, str | None] = {
    f"drift-{kind}": RUNBOOK
    for kind in ("missing", "inactive", "renamed", "moved", "zone-lost-zip", "mismatch", "no-export",
                 "added", "removed", "changed")
}


@dataclass(frozen=True)
class Entity:
    key: str  # titan-map.yaml key of the reference, e.g. job_type
    label: str  # how a reviewer says it
    export: str  # api path under exports/
    name_field: str


ENTITIES = {
    e.key: e
    for e in (
        Entity("job_type", "job type", "jpm/job-types", "name"),
        Entity("business_unit", "business unit", "settings/business-units", "name"),
        Entity("zone", "zone", "dispatch/zones", "name"),
        Entity("campaign", "campaign", "marketing/campaigns", "name"),
        Entity("pricebook_services", "pricebook service", "pricebook/services", "displayName"),
        Entity("membership_type", "membership type", "memberships/membership-types", "name"),
    )
}
# titan-map.yaml section -> (what a reviewer calls one entry, the references each entry may hold)
SECTIONS = {
    "services": ("service", ("job_type", "business_unit", "pricebook_services")),
    "service_areas": ("service area", ("zone",)),
    "lead_sources": ("lead source", ("campaign",)),
    "offers": ("offer", ("campaign", "pricebook_services")),
    "memberships": ("membership", ("membership_type",)),
}
# Which lead field names the website concept of each section (for handoffs that go to review).
LEAD_FIELDS = {"services": ("service",), "service_areas": ("service_area",), "lead_sources": ("source", "lead_source"),
               "offers": ("offer",)}


@dataclass
class Reference:
    entity: Entity
    id: int
    name: str
    concept: tuple[str, str]  # (section, website key)
    key: str  # where in titan-map.yaml
    code: str | None = None
    zips: tuple[str, ...] = ()
    business_unit: int | None = None


@dataclass
class TaxonomyRecord:
    id: int
    name: str | None
    active: bool
    business_units: tuple[int, ...] = ()
    zips: frozenset[str] = frozenset()
    code: str | None = None


@dataclass
class Drift:
    kind: str
    entity: str
    id: int
    name: str
    expected: str
    actual: str
    concepts: list[str] = field(default_factory=list)  # e.g. "service drain-cleaning"

    @property
    def subject(self) -> str:
        return f"{self.entity} {self.id} {self.name}".strip()


# --- reading --------------------------------------------------------------------------------------------------

def map_references(tenant) -> list[Reference]:
    """Every ServiceTitan id the Titan Map uses, validated (id an integer, name text) with file and line."""
    document = tenant.titan_map_document
    data = document.data
    if not isinstance(data, dict):
        raise TenantDataError(document.path, "the Titan Map must be a mapping of sections", line=1)
    refs = []

    def bad(parts, message):
        return TenantDataError(document.path, message, key=key_path(parts), line=document.line_of(parts))

    for section, (_, keys) in SECTIONS.items():
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise bad([section], "must be a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("website"), str):
                raise bad([section, i], "each entry needs a 'website' key naming the website concept")
            concept = (section, entry["website"])
            for ref_key in keys:
                if ref_key not in entry:
                    continue
                values = entry[ref_key]
                listed = ref_key == "pricebook_services"
                if listed and not isinstance(values, list):
                    raise bad([section, i, ref_key], "must be a list")
                for j, value in enumerate(values if listed else [values]):
                    parts = [section, i, ref_key, j] if listed else [section, i, ref_key]
                    if not isinstance(value, dict) or type(value.get("id")) is not int:
                        raise bad(parts, "needs an integer ServiceTitan 'id'")
                    if not isinstance(value.get("name"), str):
                        raise bad(parts, "needs the 'name' the customer reviewed")
                    ref = Reference(ENTITIES[ref_key], value["id"], value["name"], concept, key_path(parts),
                                    code=value.get("code"))
                    if ref_key == "zone":
                        zips = entry.get("zips", [])
                        if not isinstance(zips, list) or not all(isinstance(z, str) for z in zips):
                            raise bad([section, i, "zips"], "must be a list of zip codes written as text")
                        ref.zips = tuple(zips)
                    if ref_key == "job_type" and isinstance(entry.get("business_unit"), dict):
                        ref.business_unit = entry["business_unit"].get("id")
                    refs.append(ref)
    return refs


def load_taxonomy(exports: Path | exportfeed.RecordSet, entity: Entity) -> dict[int, TaxonomyRecord]:
    """One taxonomy export as ``{id: record}``; wrong types and duplicate ids are errors naming file and record."""
    records: dict[int, TaxonomyRecord] = {}
    ids = exportfeed.UniqueIds()
    for path, index, raw in exportfeed.iter_records(exports, entity.export):
        ident = exportfeed.need_int(path, index, raw, "id")
        ids.add_once(path, index, raw, ident)
        record = TaxonomyRecord(
            ident,
            exportfeed.need_str(path, index, raw, entity.name_field, optional=True),
            exportfeed.need_bool(path, index, raw, "active"),
        )
        if entity.key == "job_type":
            units = raw.get("businessUnitIds") or []
            if not isinstance(units, list) or not all(type(u) is int for u in units):
                raise TenantDataError(path, "businessUnitIds must be a list of integer ids",
                                      key=exportfeed.where(index, raw))
            record.business_units = tuple(units)
        elif entity.key == "zone":
            zips = raw.get("zips") or []
            if not isinstance(zips, list) or not all(isinstance(z, str) for z in zips):
                raise TenantDataError(path, "zips must be a list of zip codes written as text",
                                      key=exportfeed.where(index, raw))
            record.zips = frozenset(zips)
        elif entity.key == "pricebook_services":
            record.code = exportfeed.need_str(path, index, raw, "code", optional=True)
        records[ident] = record
    return records


# --- map drift ------------------------------------------------------------------------------------------------

def map_drift(tenant) -> list[Drift]:
    """Every way the exports no longer agree with what the customer reviewed, one entry per kind and id."""
    refs = map_references(tenant)
    found: dict[tuple[str, str, int], Drift] = {}

    def note(kind: str, ref: Reference, expected: str, actual: str) -> None:
        drift = found.setdefault((kind, ref.entity.label, ref.id),
                                 Drift(kind, ref.entity.label, ref.id, ref.name, expected, actual))
        concept = f"{SECTIONS[ref.concept[0]][0]} {ref.concept[1]}"
        if concept not in drift.concepts:
            drift.concepts.append(concept)

    for entity in ENTITIES.values():
        using = [r for r in refs if r.entity is entity]
        if not using:
            continue
        if not exportfeed.has_export(tenant.exports, entity.export):
            for ref in using:
                note("no-export", ref, f"{entity.label} {ref.id} checked against exports/{entity.export}.json",
                     "no such export was supplied, so it cannot be checked")
            continue
        taxonomy = load_taxonomy(tenant.exports, entity)
        for ref in using:
            record = taxonomy.get(ref.id)
            if record is None:
                note("missing", ref, f'{entity.label} {ref.id} "{ref.name}"', "no record with this id")
                continue
            if not record.active:
                note("inactive", ref, "active", "active: false")
            if record.name is not None and record.name.strip() != ref.name.strip():
                note("renamed", ref, f'"{ref.name}"', f'"{record.name}"')
            if ref.code is not None and record.code is not None and record.code != ref.code:
                note("mismatch", ref, f"code {ref.code}", f"code {record.code}")
            if ref.business_unit is not None and record.business_units and ref.business_unit not in record.business_units:
                note("moved", ref, f"in business unit {ref.business_unit}",
                     f"in business units {', '.join(map(str, record.business_units))}")
            lost = [z for z in ref.zips if z not in record.zips]
            if lost:
                note("zone-lost-zip", ref, f"covers {', '.join(ref.zips)}", f"no longer covers {', '.join(lost)}")
    return sorted(found.values(), key=lambda d: (d.kind, d.entity, d.id))


# --- drift over time ------------------------------------------------------------------------------------------

def latest_snapshot(folder: Path) -> Path | None:
    """The newest ``snapshots/<label>/`` (labels sort by date, e.g. 2026-10-20), or None."""
    base = Path(folder) / "snapshots"
    labels = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    return labels[-1] if labels else None


def _raw_by_id(root: Path, api_path: str) -> dict[int, dict[str, Any]]:
    records, ids = {}, exportfeed.UniqueIds()
    for path, index, raw in exportfeed.iter_records(root, api_path):
        ident = exportfeed.need_int(path, index, raw, "id")
        ids.add_once(path, index, raw, ident)
        records[ident] = raw
    return records


IGNORED_FIELDS = (r"\['modifiedOn'\]$",)


def changes(previous: dict[int, dict], current: dict[int, dict], entity: Entity) -> list[Drift]:
    """Added, removed and changed records keyed by id; deepdiff only on records that differ (linear, no pairing)."""
    found = []
    for ident in sorted(current.keys() - previous.keys()):
        found.append(Drift("added", entity.label, ident, str(current[ident].get(entity.name_field) or ""),
                           "not in the previous snapshot", "new record"))
    for ident in sorted(previous.keys() - current.keys()):
        found.append(Drift("removed", entity.label, ident, str(previous[ident].get(entity.name_field) or ""),
                           "in the previous snapshot", "no longer exported"))
    for ident in sorted(previous.keys() & current.keys()):
        before, after = previous[ident], current[ident]
        if before == after:
            continue
        diff = DeepDiff(before, after, ignore_order=True, exclude_regex_paths=IGNORED_FIELDS, view="tree")
        for kind in sorted(diff):
            for level in sorted(diff[kind], key=lambda lv: lv.path()):
                path = level.path().removeprefix("root")
                found.append(Drift("changed", entity.label, ident, str(after.get(entity.name_field) or ""),
                                   f"{path} = {_short(level.t1)}", f"{path} = {_short(level.t2)}"))
    return found


def _short(value) -> str:
    text = "(absent)" if type(value).__name__ == "NotPresent" else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def snapshot_drift(tenant) -> tuple[str | None, list[Drift]]:
    """(snapshot label or None, changes since it) for every taxonomy export present in both."""
    snapshot = latest_snapshot(tenant.folder)
    if snapshot is None:
        return None, []
    found, exports = [], tenant.exports
    for entity in ENTITIES.values():
        if not exportfeed.has_export(snapshot, entity.export) or not exportfeed.has_export(exports, entity.export):
            continue
        previous = _raw_by_id(snapshot, entity.export)
        current = _raw_by_id(exports, entity.export)
        found += changes(previous, current, entity)
    return snapshot.name, found


# --- findings -------------------------------------------------------------------------------------------------

def findings(drifts: Iterable[Drift], policy: dict, affected: dict[str, list[str]] | None = None,
             snapshot: str | None = None) -> list[Finding]:
    """Map drift (or, with ``snapshot``, changes since that snapshot) as findings with policy severities."""
    out = []
    for drift in drifts:
        if snapshot is None:
            used = f" Used by {', '.join(drift.concepts)}." if drift.concepts else ""
            leads = (affected or {}).get(f"{drift.kind}:{drift.entity}:{drift.id}", [])
            review = f" Handoffs that depend on it go to review: {', '.join(leads)}." if leads else ""
            detail = f"Titan Map expects {drift.expected}; the export says {drift.actual}.{used}{review}"
        else:
            detail = f"Snapshot {snapshot}: {drift.expected}; now: {drift.actual}."
        out.append(Finding(
            kind=f"drift-{drift.kind}",
            subject=drift.subject,
            severity=policy["severities"][drift.kind],
            runbook=RUNBOOK,
            detail=detail,
        ))
    return out


def affected_handoffs(drifts: Iterable[Drift], submissions: Iterable[dict]) -> dict[str, list[str]]:
    """For each drift, the website leads whose service, area, lead source or offer depends on it (go to review)."""
    by_concept: dict[str, list[str]] = {}
    for lead in submissions:
        for section, fields in LEAD_FIELDS.items():
            value: Any = lead
            for name in fields:
                value = value.get(name) if isinstance(value, dict) else None
            if isinstance(value, str):
                by_concept.setdefault(f"{SECTIONS[section][0]} {value}", []).append(str(lead.get("lead_id")))
    out = {}
    for drift in drifts:
        leads = sorted({lead for concept in drift.concepts for lead in by_concept.get(concept, [])})
        if leads:
            out[f"{drift.kind}:{drift.entity}:{drift.id}"] = leads
    return out


def blocking(found: Iterable[Finding], policy: dict) -> list[Finding]:
    return [f for f in found if f.severity in policy["blocking_severities"]]


def section(map_drifts: list[Drift], snapshot: str | None, over_time: list[Drift], found: list[Finding],
            policy: dict) -> dict:
    """JSON data for the report's drift section."""
    by_subject = {(f.kind, f.subject): f for f in found}

    def rows(drifts):
        out = []
        for d in drifts:
            f = by_subject[(f"drift-{d.kind}", d.subject)]
            out.append({"kind": d.kind, "entity": d.entity, "id": d.id, "name": d.name, "expected": d.expected,
                        "actual": d.actual, "severity": f.severity, "runbook": f.runbook,
                        "blocks": f.severity in policy["blocking_severities"], "used_by": d.concepts})
        return out

    return {"map": rows(map_drifts), "snapshot": snapshot, "over_time": rows(over_time),
            "blocking_severities": list(policy["blocking_severities"])}


@dataclass
class DriftCheck:
    map_drifts: list[Drift]
    snapshot: str | None
    over_time: list[Drift]
    map_findings: list[Finding]
    over_time_findings: list[Finding]
    section: dict


def check(tenant, policies) -> DriftCheck:
    """Map drift and drift over time for one tenant, as findings with policy severities and a report section."""
    policy = policies["drift"]
    map_drifts = map_drift(tenant)
    snapshot, over_time = snapshot_drift(tenant)
    affected = affected_handoffs(map_drifts, tenant.submissions())
    map_found = findings(map_drifts, policy, affected)
    over_found = findings(over_time, policy, snapshot=snapshot)
    data = section(map_drifts, snapshot, over_time, map_found + over_found, policy)
    data["handoffs_to_review"] = sorted({lead for leads in affected.values() for lead in leads})
    return DriftCheck(map_drifts, snapshot, over_time, map_found, over_found, data)
