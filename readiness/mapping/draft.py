"""Drafting a Titan Map from the website's own list, and confirming its entries after the customer's review.

``draft`` reads the website's services, service areas (with their ZIP codes), lead sources, offers and
membership plans, and matches each by name to the tenant's exported job types, zones, campaigns and membership
types (rapidfuzz ``WRatio``; a service's business unit
follows from its job type's ``businessUnitIds``). Every drafted entry is ``status: needs-review`` with its
``candidates`` and the ``confidence`` (0 to 1) of the proposed one: a draft is never used as mapped
(``readiness.mapping.review``). ``confirm`` is the operator's act after reviewing entries with the customer:
it records ``reviewed_by_role`` and ``reviewed_on`` on exactly the entries named. Nothing is confirmed by itself.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, utils
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from readiness.core import exportfeed
from readiness.core.documents import YamlDocument
from readiness.core.errors import ReadinessError, TenantDataError
from readiness.core.tenants import FixtureTenant
from readiness.mapping import drift, review

MAP_FILE = "titan-map.yaml"
# The sections a website list drafts, what each website concept is matched to, and how a website list names it.
DRAFTED = {
    "services": ("job_type", ("service", "services")),
    "service_areas": ("zone", ("service-area", "service_area", "service-areas", "service_areas", "area")),
    "lead_sources": ("campaign", ("lead-source", "lead_source", "lead-sources", "lead_sources", "source")),
    "offers": ("campaign", ("offer", "offers")),
    "memberships": ("membership_type", ("membership", "memberships")),
}
CANDIDATES = 3  # shown per entry, best first
PROPOSE_AT = 0.6  # a candidate scoring lower is listed but never proposed: the operator picks one at review
LIST_AT = 0.4  # below this a record is not a candidate at all


class WebsiteListError(ReadinessError):
    """The website's list of services, areas and lead sources cannot be read."""


@dataclass
class WebsiteConcept:
    section: str
    website: str  # the slug a lead carries
    label: str  # what the website shows; what is matched
    zips: list[str] = field(default_factory=list)
    line: int | None = None


@dataclass
class DraftResult:
    path: Path
    entries: int
    proposed: int  # entries with a proposed ServiceTitan record
    without_candidate: list[str]  # "section/website" with nothing close enough to propose


SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # what a lead carries in service, service_area, ...


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _section_of(value: str, file: Path, line: int | None) -> str:
    wanted = value.strip().casefold().replace(" ", "-")
    for section, (_, names) in DRAFTED.items():
        if wanted in names:
            return section
    known = ", ".join(names[0] for _, names in DRAFTED.values())
    raise WebsiteListError(file, f"kind {value!r} is not one of {known}", line=line)


def _zips(value: Any, file: Path, line: int | None) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,;|]+", str(value or "").strip())
    zips = [str(z).strip() for z in items if str(z).strip()]
    bad = [z for z in zips if not re.fullmatch(r"\d{5}", z)]
    if bad:
        raise WebsiteListError(file, f"ZIP code {bad[0]!r} is not five digits (write ZIP codes as text in YAML: "
                                     f"'{bad[0]}')", line=line)
    return zips


def read_website_list(file: Path) -> list[WebsiteConcept]:
    """The website's services, service areas and lead sources, from YAML (sections) or CSV (kind,label,...)."""
    file = Path(file)
    if file.suffix.lower() in (".yaml", ".yml"):
        concepts = _from_yaml(file)
    elif file.suffix.lower() == ".csv":
        concepts = _from_csv(file)
    else:
        raise WebsiteListError(file, "give the website's list as .yaml or .csv")
    if not concepts:
        raise WebsiteListError(file, "lists no services, service areas or lead sources")
    seen: dict[tuple[str, str], int | None] = {}
    for concept in concepts:
        if not SLUG.fullmatch(concept.website):
            raise WebsiteListError(file, f"website {concept.website!r} is not a slug (lower-case words joined by "
                                         f"'-'); did you mean {slug(concept.website)!r}?", line=concept.line)
        key = (concept.section, concept.website)
        if key in seen:
            raise WebsiteListError(file, f"{concept.section} {concept.website!r} is listed twice "
                                         f"(first on line {seen[key]})", line=concept.line)
        seen[key] = concept.line
    return concepts


def _from_yaml(file: Path) -> list[WebsiteConcept]:
    document = YamlDocument(file, WebsiteListError)
    data = document.data
    if not isinstance(data, dict):
        raise WebsiteListError(file, f"must be a mapping with the sections {', '.join(DRAFTED)}", line=1)
    unknown = sorted(set(data) - set(DRAFTED))
    if unknown:
        raise WebsiteListError(file, f"unknown section {unknown[0]!r} (sections: {', '.join(DRAFTED)})",
                               line=document.line_of([unknown[0]]))
    concepts = []
    for section in DRAFTED:
        for index, item in enumerate(data.get(section) or []):
            line = document.line_of([section, index])
            if isinstance(item, str):
                item = {"label": item}
            if not isinstance(item, dict) or not isinstance(item.get("label") or item.get("website"), str):
                raise WebsiteListError(file, f"{section}[{index}] needs a 'label' (what the website shows)", line=line)
            label = str(item.get("label") or item["website"])
            concepts.append(WebsiteConcept(section, str(item.get("website") or slug(label)), label,
                                           _zips(item.get("zips"), file, line), line))
    return concepts


def _from_csv(file: Path) -> list[WebsiteConcept]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WebsiteListError(file, f"cannot read as UTF-8 text: {exc}") from None
    rows = csv.DictReader(io.StringIO(text))
    header = [h.strip().casefold() for h in rows.fieldnames or []]
    if "kind" not in header or "label" not in header:
        raise WebsiteListError(file, "needs the columns kind,label (and optionally website,zips)", line=1)
    rows.fieldnames = header
    concepts = []
    for row in rows:
        line = rows.line_num
        label = (row.get("label") or "").strip()
        if not label:
            raise WebsiteListError(file, "label is empty", line=line)
        section = _section_of(row.get("kind") or "", file, line)
        concepts.append(WebsiteConcept(section, (row.get("website") or "").strip() or slug(label), label,
                                       _zips(row.get("zips"), file, line), line))
    return concepts


# ---------------------------------------------------------------------------------------------- matching


def _score(label: str, name: str) -> float:
    """How alike a website label and a ServiceTitan name are, 0 to 1 (rapidfuzz WRatio / 100)."""
    return fuzz.WRatio(label, name, processor=utils.default_process) / 100


def candidates(label: str, records: dict[int, drift.TaxonomyRecord], zips: list[str] = ()) -> list[dict]:
    """The closest active records by name, best first, as ``{id, name, confidence}`` (0 to 1, two decimals).

    For a service area with ZIP codes, a zone's confidence is the mean of its name score and the share of the
    area's ZIP codes it covers: a zone that covers them all but is named differently still comes first."""
    active = {ident: record for ident, record in records.items() if record.active and record.name}
    scored = []
    for ident, record in active.items():
        confidence = _score(label, record.name)
        if zips:
            covered = sum(1 for z in zips if z in record.zips) / len(zips)
            confidence = (confidence + covered) / 2
        if confidence >= LIST_AT:
            scored.append({"id": ident, "name": record.name, "confidence": round(confidence, 2)})
    scored.sort(key=lambda c: (-c["confidence"], c["id"]))
    return scored[:CANDIDATES]


def _business_unit(job_type: drift.TaxonomyRecord, units: dict[int, drift.TaxonomyRecord], label: str) -> dict | None:
    """The job type's active business unit; of several, the one whose name is closest to the website label."""
    own = [units[u] for u in job_type.business_units if u in units and units[u].active]
    if not own:
        return None
    best = max(own, key=lambda unit: (_score(label, unit.name or ""), -unit.id))
    return {"id": best.id, "name": best.name}


def _taxonomy(tenant: FixtureTenant, key: str) -> dict[int, drift.TaxonomyRecord]:
    entity = drift.ENTITIES[key]
    if not exportfeed.has_export(tenant.exports, entity.export):
        raise TenantDataError(tenant.export_file(entity.export),
                              f"no {entity.label} export to match against; import it first: "
                              f"python -m readiness import {tenant.folder} FILE --kind {entity.export.split('/')[-1]}")
    return drift.load_taxonomy(tenant.exports, entity)


def draft_entry(concept: WebsiteConcept, tenant: FixtureTenant, taxonomies: dict) -> dict:
    reference_key = DRAFTED[concept.section][0]
    records = taxonomies[reference_key]
    found = candidates(concept.label, records, concept.zips)
    entry: dict[str, Any] = {"website": concept.website}
    if concept.section == "services":
        entry["label"] = concept.label
    entry["status"] = review.NEEDS_REVIEW
    best = found[0] if found and found[0]["confidence"] >= PROPOSE_AT else None
    entry["confidence"] = best["confidence"] if best else 0
    entry["candidates"] = found
    if best:
        entry[reference_key] = {"id": best["id"], "name": best["name"]}
        if concept.section == "services":
            unit = _business_unit(records[best["id"]], taxonomies["business_unit"], concept.label)
            if unit:
                entry["business_unit"] = unit
    if concept.section == "service_areas":
        entry["zips"] = list(concept.zips)
    return entry


def _has_entries(path: Path) -> bool:
    """Whether an existing map holds any entry (a scaffold's empty skeleton holds none and may be replaced)."""
    data = YamlDocument(path, TenantDataError).data
    return isinstance(data, dict) and any(data.get(section) for section in drift.SECTIONS)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 120
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def draft(tenant_dir: Path, website_list: Path, *, force: bool = False, today: date | None = None) -> DraftResult:
    """Write ``titan-map.yaml`` drafted from ``website_list``; refuses to replace a map with entries unless forced."""
    tenant = FixtureTenant(Path(tenant_dir))
    tenant.profile  # noqa: B018 -- a folder that is no tenant fails here, naming tenant.yaml
    path = tenant.folder / MAP_FILE
    if path.exists() and _has_entries(path) and not force:
        raise TenantDataError(path, "already holds Titan Map entries; add --force to replace them with a new draft")
    concepts = read_website_list(website_list)
    needed = {DRAFTED[c.section][0] for c in concepts} | ({"business_unit"} if any(
        c.section == "services" for c in concepts) else set())
    taxonomies = {key: _taxonomy(tenant, key) for key in sorted(needed)}
    document: dict[str, Any] = {}
    without = []
    for section in DRAFTED:
        entries = [draft_entry(c, tenant, taxonomies) for c in concepts if c.section == section]
        document[section] = entries
        without += [f"{section}/{e['website']}" for e in entries if DRAFTED[section][0] not in e]
    document["notes"] = (f"Drafted by python -m readiness map draft from {Path(website_list).name} on "
                         f"{(today or date.today()).isoformat()}. Every entry needs review with the customer.")
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# Titan Map DRAFT: website concepts -> ServiceTitan ids, matched by name. Not used as mapped\n"
                     "# until each entry is confirmed with the customer (python -m readiness map confirm).\n")
        _yaml().dump(document, handle)
    count = sum(len(document[s]) for s in DRAFTED)
    return DraftResult(path, count, count - len(without), without)


# ---------------------------------------------------------------------------------------------- confirming


@dataclass
class ConfirmResult:
    path: Path
    confirmed: list[str]
    still_unreviewed: list[str]
    record: Path  # evidence/titan-map-review-<date>.md


def _parse_choice(text: str) -> tuple[str, str, int | None]:
    """``services/drain-cleaning`` or ``services/drain-cleaning=22001`` -> (section, website, chosen id)."""
    match = re.fullmatch(r"([a-z_-]+)/([^=\s]+)(?:=(\d+))?", text.strip())
    if not match:
        raise ReadinessError(None, f"entry {text!r}: write SECTION/WEBSITE or SECTION/WEBSITE=ID, "
                                   "e.g. services/drain-cleaning or services/drain-cleaning=22001")
    section = match.group(1).replace("-", "_")
    if section not in drift.SECTIONS:
        raise ReadinessError(None, f"entry {text!r}: section {match.group(1)!r} is not one of "
                                   f"{', '.join(drift.SECTIONS)}")
    return section, match.group(2), int(match.group(3)) if match.group(3) else None


def confirm(tenant_dir: Path, entries: list[str], role: str, *, all_entries: bool = False,
            on: date | None = None) -> ConfirmResult:
    """Record that ``role`` reviewed the named entries with the customer on ``on`` (default today).

    ``SECTION/WEBSITE=ID`` confirms a different candidate than the proposed one (any active record of the export).
    ``all_entries`` confirms every entry still in review: the operator's explicit statement that all were reviewed.
    """
    if not role.strip() or re.search(r"[@\d]", role):
        raise ReadinessError(None, f"--role {role!r}: give the customer's job role (e.g. 'Office Manager'), "
                                   "never a person's name or contact")
    if not entries and not all_entries:
        raise ReadinessError(None, "name the entries reviewed (SECTION/WEBSITE ...) or --all")
    tenant = FixtureTenant(Path(tenant_dir))
    path = tenant.folder / MAP_FILE
    document = YamlDocument(path, TenantDataError)  # a malformed map fails with its line before anything changes
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=2, offset=0)
    data = yaml.load(path.read_text(encoding="utf-8"))
    choices = [_parse_choice(e) for e in entries]
    if all_entries:
        choices += [(u.section, u.website, None) for u in review.unreviewed(document.data)
                    if not any(c[:2] == (u.section, u.website) for c in choices)]
    reviewed_on = (on or date.today()).isoformat()
    done = []
    for section, website, chosen in choices:
        index = next((i for i, e in enumerate(data.get(section) or []) if e.get("website") == website), None)
        if index is None:
            known = ", ".join(f"{section}/{e.get('website')}" for e in data.get(section) or []) or "none"
            raise TenantDataError(path, f"no entry {section}/{website} (entries: {known})",
                                  line=document.line_of([section]))
        entry = data[section][index]
        reference_key = drift.SECTIONS[section][1][0]
        if chosen is not None:
            _choose(tenant, entry, section, reference_key, chosen, path, document.line_of([section, index]))
        if reference_key not in entry:
            raise TenantDataError(path, f"{section}/{website} proposes no {drift.ENTITIES[reference_key].label}; "
                                        f"name the one reviewed: {section}/{website}=ID",
                                  line=document.line_of([section, index]))
        entry["status"] = review.CONFIRMED
        entry["reviewed_by_role"] = role.strip()
        entry["reviewed_on"] = reviewed_on
        entry.pop("candidates", None)
        done.append(f"{section}/{website}")
    left = [f"{u.section}/{u.website}" for u in review.unreviewed(data)]
    if not left:
        data["reviewed_on"] = reviewed_on
        data["reviewed_by_role"] = role.strip()
        if data.ca.comment and any("DRAFT" in token.value for token in data.ca.comment[1] or []):
            data.ca.comment = None  # the draft's warning no longer holds
            data.yaml_set_start_comment(f"Titan Map: website concepts -> ServiceTitan ids, every entry reviewed with "
                                        f"the customer (last on {reviewed_on}; see evidence/titan-map-review-*.md).")
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    record = _record_review(tenant.folder, data, done, role.strip(), reviewed_on)
    return ConfirmResult(path, done, left, record)


def _record_review(folder: Path, data: dict, done: list[str], role: str, reviewed_on: str) -> Path:
    """Append what was confirmed to ``evidence/titan-map-review-<date>.md`` (the review record the package needs)."""
    record = folder / "evidence" / f"titan-map-review-{reviewed_on}.md"
    record.parent.mkdir(exist_ok=True)
    lines = [] if record.exists() else [
        "# Titan Map review", "",
        "Recorded by `python -m readiness map confirm`: each entry below was reviewed with the customer and confirmed.",
        "",
    ]
    lines += [f"## Confirmed on {reviewed_on} by the customer's {role}", ""]
    for name in done:
        section, website = name.split("/", 1)
        entry = next(e for e in data[section] if e.get("website") == website)
        refs = [f"{key} {entry[key]['id']} \"{entry[key]['name']}\"" for key in drift.SECTIONS[section][1]
                if isinstance(entry.get(key), dict)]
        lines.append(f"- `{name}` -> {', '.join(refs)} (draft confidence {entry.get('confidence', 'n/a')})")
    with record.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")
    return record


def _choose(tenant: FixtureTenant, entry: dict, section: str, reference_key: str, chosen: int, path: Path,
            line: int | None) -> None:
    records = _taxonomy(tenant, reference_key)
    record = records.get(chosen)
    label = drift.ENTITIES[reference_key].label
    if record is None or not record.active:
        state = "is not" if record is None else "is inactive"
        raise TenantDataError(path, f"{label} {chosen} {state} in the export; choose an active one", line=line)
    entry[reference_key] = _flow({"id": record.id, "name": record.name})
    entry["confidence"] = next((c["confidence"] for c in entry.get("candidates") or [] if c["id"] == chosen),
                               entry.get("confidence", 0))
    if section == "services":
        unit = _business_unit(record, _taxonomy(tenant, "business_unit"), entry.get("label") or "")
        if unit:
            entry["business_unit"] = _flow(unit)


def _flow(reference: dict) -> CommentedMap:
    """A reference written ``{id: 22001, name: Drain Cleaning}`` on one line, like the rest of the map."""
    written = CommentedMap(reference)
    written.fa.set_flow_style()
    return written
