"""The run as an OSCAL assessment-results document (OSCAL 1.x JSON), built with compliance-trestle's models.

Observations carry the evidence: one per scenario result (its status, requirements and findings) and one per
input folder, whose relevant evidence is each file with its SHA-256. Findings are tied to the control mapping
(``policies/controls.yaml``): one per control, *satisfied* only when every requirement proving it is met; a gap,
a waiver, a failure or a pending test is *not-satisfied*. Pending sandbox tests are open risks, never satisfied
objectives. Every uuid is derived from the report (uuid5), so the same run gives the same bytes.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from trestle.oscal import OSCAL_VERSION
from trestle.oscal import assessment_results as ar
from trestle.oscal import common

NAMESPACE = uuid.UUID("6f7f3f0e-2b1c-5d0a-9c41-7d3f2a6e9b10")  # this project's: fixed, so uuids are reproducible
SCENARIO_PROPS = ("feature", "tenant", "status")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, json.dumps(parts, sort_keys=True)))


def _prop(name: str, value: object) -> common.Property:
    return common.Property(name=name, value=str(value), ns="https://example.com/ns/readiness")


def _when(built: dict) -> datetime:
    return datetime.fromisoformat(built["generated_at"].replace("Z", "+00:00"))


def _scenario_observations(built: dict, when: datetime) -> tuple[list, dict[str, list[str]], dict[str, str]]:
    """One observation per scenario record; and observation uuids by requirement, and by scenario for risks."""
    observations, by_requirement, by_record = [], {}, {}
    for index, record in enumerate(built["scenarios"]):
        key = _uuid("observation", record["feature"], record["line"], record["scenario"], record["tenant"], index)
        title = record["scenario"] + (f" [{record['tenant']}]" if record["tenant"] else "")
        findings = "; ".join(f"{f['kind']} {f['subject']}" + (f" (waived by {f['waiver']})" if "waiver" in f else "")
                             for f in record["findings"])
        description = f"Scenario {record['status']}" + (f": {record['reason']}" if record["reason"] else "") + "."
        observations.append(common.Observation(
            uuid=key, title=title, description=description, methods=["TEST"], collected=when,
            props=[_prop("status", record["status"])]
            + [_prop("requirement", r) for r in record["requirements"]]
            + ([_prop("tenant", record["tenant"])] if record["tenant"] else []),
            remarks=f"Findings: {findings}" if findings else None,
        ))
        for requirement in record["requirements"]:
            by_requirement.setdefault(requirement, []).append(key)
        by_record[str(index)] = key
    return observations, by_requirement, by_record


def _evidence_observations(built: dict, when: datetime) -> list:
    """The evidence manifest, one observation per input folder: each file with its SHA-256."""
    groups: dict[str, list[dict]] = {}
    for entry in built["evidence"]:
        groups.setdefault(entry["path"].split("/", 1)[0], []).append(entry)
    return [common.Observation(
        uuid=_uuid("evidence", root), title=f"Evidence files under {root}",
        description=f"The {len(entries)} files under {root} the run judged, each with its SHA-256; the manifest's "
                    f"root digest is {built['evidence_root']}.",
        methods=["EXAMINE"], collected=when,
        relevant_evidence=[common.RelevantEvidence(href=e["path"], description=f"sha256 {e['sha256']}",
                                                   props=[_prop("sha256", e["sha256"])]) for e in entries],
    ) for root, entries in sorted(groups.items())]


def _risks(built: dict, by_record: dict[str, str]) -> tuple[list, dict[str, list[str]]]:
    """Every pending sandbox scenario is an open risk; risk uuids by requirement."""
    risks, by_requirement = [], {}
    for index, record in enumerate(built["scenarios"]):
        if record["status"] != "pending":
            continue
        key = _uuid("risk", by_record[str(index)])
        risks.append(common.Risk(
            uuid=key, title=f"Not yet tested: {record['scenario']}", status="open",
            description=f"{record['feature']}: {record['scenario']} needs sandbox access and has not run.",
            statement=record["reason"] or "awaits sandbox access",
            related_observations=[common.RelatedObservation(observation_uuid=by_record[str(index)])],
        ))
        for requirement in record["requirements"]:
            by_requirement.setdefault(requirement, []).append(key)
    return risks, by_requirement


def _findings(built: dict, observations: dict[str, list[str]], risks: dict[str, list[str]]) -> list:
    rows = []
    for control in built["controls"]["controls"]:
        requirement_ids = [r["id"] for r in control["requirements"]]
        state = "satisfied" if control["status"] == "met" else "not-satisfied"
        related = sorted({o for r in requirement_ids for o in observations.get(r, [])})
        related_risks = sorted({k for r in requirement_ids for k in risks.get(r, [])})
        proof = ", ".join(f"{r['id']} {r['status']}" for r in control["requirements"]) or "no requirement"
        rows.append(common.Finding(
            uuid=_uuid("finding", control["id"]), title=f"{control['id']}: {control['title']}",
            description=f"{control['framework']} {control['id']} is {control['status']} ({proof})."
                        + (f" Gap: {control['gap']}" if control["gap"] else ""),
            target=common.FindingTarget(
                type="objective-id", target_id=control["id"],
                status=common.ObjectiveStatus(state=state, reason="pass" if state == "satisfied" else "fail"),
            ),
            props=[_prop("control-status", control["status"])],
            related_observations=[common.RelatedObservation(observation_uuid=o) for o in related] or None,
            related_risks=[common.AssociatedRisk(risk_uuid=k) for k in related_risks] or None,
        ))
    return rows


def model(built: dict) -> ar.AssessmentResults:
    when = _when(built)
    scenario_observations, by_requirement, by_record = _scenario_observations(built, when)
    risks, risks_by_requirement = _risks(built, by_record)
    result = ar.Result(
        uuid=_uuid("result", built["evidence_root"], built["policy_digest"]),
        title=f"Readiness gate: {built['gate']['status']}",
        description=f"{built['mode_statement']}. Gate {built['gate']['status']}; "
                    f"{built['gate'].get('waivers_applied', 0)} waivers applied.",
        start=when, end=when,
        props=[_prop("mode", built["mode"]), _prop("gate", built["gate"]["status"]),
               _prop("policy-digest", built["policy_digest"]), _prop("evidence-root", built["evidence_root"])],
        reviewed_controls=common.ReviewedControls(control_selections=[common.ControlSelections(
            include_controls=[common.SelectControlById(control_id=c["id"]) for c in built["controls"]["controls"]],
        )]),
        observations=scenario_observations + _evidence_observations(built, when),
        risks=risks or None,
        findings=_findings(built, by_requirement, risks_by_requirement),
    )
    return ar.AssessmentResults(
        uuid=_uuid("assessment-results", built["evidence_root"], built["policy_digest"], built["generated_at"]),
        metadata=common.Metadata(title="ServiceTitan readiness: assessment results", last_modified=when,
                                 version=built["commit"] or built["policy_digest"][:12], oscal_version=OSCAL_VERSION),
        import_ap=ar.ImportAp(href="readiness.json", remarks="No separate assessment plan is published: the plan is "
                                                             "the feature files and policies named in readiness.json."),
        results=[result],
    )


def render(built: dict) -> dict:
    """The document as JSON data: ``{"assessment-results": ...}``, OSCAL's own field names."""
    return json.loads(model(built).oscal_serialize_json(pretty=False, wrapped=True))
