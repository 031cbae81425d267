"""SARIF, OSCAL and cucumber JSON from the gate (--sarif, --oscal, --cucumber), each checked against its standard."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from trestle.oscal.assessment_results import AssessmentResults

from conftest import GateResult, Workspace, once_per_session
from readiness.report import sarif

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = ROOT / "readiness" / "schemas" / "external"
REPORT_TOOL = ROOT / "tools" / "cucumber-report"
EPOCH = "1796601600"  # 2026-12-07


def _schema(name: str) -> dict:
    return json.loads((EXTERNAL / name).read_text())


@pytest.fixture(scope="module")
def formats(tmp_path_factory) -> dict:
    """One gate run on the bundled tenants with a waiver of the run over one queue finding (so SARIF shows a
    suppression), writing all three formats; one per session, whichever worker runs this module's tests."""
    result = once_per_session(tmp_path_factory, "formats-run", _run_writing_formats)
    assert result.exit_code == 0, result.output[-3000:]
    out = result.report_dir.parent / "formats"
    return {"report": result.report, "output": result.output,
            **{name: json.loads((out / file).read_text())
               for name, file in (("sarif", "readiness.sarif"), ("oscal", "oscal.json"), ("cucumber", "cucumber.json"))},
            "cucumber_path": out / "cucumber.json"}


def _run_writing_formats(folder: Path) -> GateResult:
    workspace = Workspace(folder)
    (workspace.policies / "waivers.yaml").write_text(yaml.safe_dump({"waivers": [{
        "id": "W-Q-001", "finding": {"kind": "handoff-in-review", "subject": "queue/sync-queue.jsonl:4 q-cl-0004"},
        "justification": "The office reviews this handoff by hand this week; the customer confirmed the job type.",
        "owner": "Website support lead", "expires": "2026-12-31"}]}))
    out = workspace.base / "formats"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return workspace.run(f"--sarif={out / 'readiness.sarif'}", f"--oscal={out / 'oscal.json'}",
                             f"--cucumber={out / 'cucumber.json'}")


# --- SARIF 2.1.0 --------------------------------------------------------------------------------------------------

def test_sarif_is_valid_and_holds_every_finding_that_names_a_file(formats):
    document = formats["sarif"]
    jsonschema.Draft7Validator(_schema("sarif-schema-2.1.0.json")).validate(document)
    report = formats["report"]
    with_file = [f for t in report["tenants"] for f in t["findings"] if sarif.location(f["subject"])]
    with_file += [f for f in report["product"]["findings"] if sarif.location(f["subject"])]
    [run] = document["runs"]
    assert with_file and len(run["results"]) == len(with_file)
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        artifact = location["artifactLocation"]
        assert location["region"]["startLine"] >= 1 and not artifact["uri"].startswith(("/", "<"))
        assert artifact["uriBaseId"] in run["originalUriBaseIds"]  # the repository, or an input folder by option
        assert result["ruleId"] in rules and result["level"] == sarif.LEVELS[result["properties"]["severity"]]
    queue = rules["handoff-in-review"]["help"]["text"]
    assert queue.startswith("Runbook drift-conflict (") and "1. " in queue  # the runbook's own steps


def test_sarif_names_the_tenant_file_as_the_repository_knows_it_and_marks_the_waiver(formats):
    [run] = formats["sarif"]["runs"]
    waived = [r for r in run["results"] if r.get("suppressions")]
    [result] = waived
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "comfort-launch/queue/sync-queue.jsonl", uri
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "TENANTS_DIR"
    [suppression] = result["suppressions"]
    assert suppression["status"] == "accepted" and suppression["justification"].startswith(
        "waived by W-Q-001 (Website support lead, until 2026-12-31)")


def test_sarif_location_reads_only_a_path_and_line():
    assert sarif.location("policies/claims.yaml:12 W-1") == ("policies/claims.yaml", 12, None)
    assert sarif.location("product/index.html:40:7") == ("product/index.html", 40, 7)
    for subject in ("job type 22001 Drain Cleaning", "comfort-launch crm", "lead lead-rg-0001", "x.yaml:0"):
        assert sarif.location(subject) is None, subject


# --- OSCAL assessment results ---------------------------------------------------------------------------------------

def test_oscal_is_valid_for_compliance_trestles_models(formats):
    document = formats["oscal"]
    model = AssessmentResults.model_validate(document["assessment-results"])  # the OSCAL 1.x model, strictly typed
    assert model.metadata.oscal_version


def test_oscal_observations_carry_every_evidence_hash(formats):
    [result] = formats["oscal"]["assessment-results"]["results"]
    hashes = {e["href"]: e["description"] for o in result["observations"] for e in o.get("relevant-evidence", [])}
    assert hashes == {e["path"]: f"sha256 {e['sha256']}" for e in formats["report"]["evidence"]}


def test_oscal_pending_sandbox_tests_are_open_risks_never_satisfied(formats):
    [result] = formats["oscal"]["assessment-results"]["results"]
    pending = [s for s in formats["report"]["scenarios"] if s["status"] == "pending"]
    assert pending and len(result["risks"]) == len(pending)
    assert {r["status"] for r in result["risks"]} == {"open"}
    by_control = {f["target"]["target-id"]: f for f in result["findings"]}
    sandbox = by_control["CC8.1"]  # proved by SANDBOX-PROTOCOL only: its tests await sandbox access
    assert sandbox["target"]["status"]["state"] == "not-satisfied" and sandbox["related-risks"]


def test_oscal_findings_follow_the_control_mapping_and_gaps_are_not_satisfied(formats):
    [result] = formats["oscal"]["assessment-results"]["results"]
    controls = {c["id"]: c for c in formats["report"]["controls"]["controls"]}
    by_control = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}
    assert set(by_control) == set(controls)
    assert all((state == "satisfied") == (controls[c]["status"] == "met") for c, state in by_control.items())
    assert by_control["ISA-SOC2-TYPE2"] == "not-satisfied" and controls["ISA-SOC2-TYPE2"]["status"] == "gap"


# --- cucumber JSON ----------------------------------------------------------------------------------------------------

def test_cucumber_json_is_valid_and_holds_every_scenario_and_step(formats):
    document = formats["cucumber"]
    jsonschema.Draft7Validator(_schema("cucumber-json-jvm.json")).validate(document)
    scenarios = formats["report"]["scenarios"]
    elements = [e for feature in document for e in feature["elements"]]
    assert len(elements) == len(scenarios)
    statuses = {s["result"]["status"] for e in elements for s in e["steps"]}
    assert statuses <= {"passed", "pending", "skipped"} and "pending" in statuses
    pending = [e for e in elements if all(s["result"]["status"] == "pending" for s in e["steps"])]
    assert len(pending) == formats["report"]["summary"]["pending"]


def test_a_cucumber_report_tool_reads_it(formats, tmp_path):
    node = shutil.which("node")
    if node is None or not (REPORT_TOOL / "node_modules" / "cucumber-html-reporter").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and tools/cucumber-report (npm ci --prefix tools/cucumber-report) are needed in CI")
        pytest.skip("node or cucumber-html-reporter missing: npm ci --prefix tools/cucumber-report")
    out = tmp_path / "cucumber.html"
    done = subprocess.run([node, str(REPORT_TOOL / "render.js"), str(formats["cucumber_path"]), str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    html = out.read_text()
    # the tool's own scenario totals, as its dashboard shows them
    counts = re.findall(r'"title": "Scenarios",\s*"failed": (\d+),\s*"passed": (\d+),\s*"rerun": \d+,\s*'
                        r'"notdefined": \d+,\s*"pending": (\d+)', html)
    summary = formats["report"]["summary"]
    assert (str(summary["failed"]), str(summary["passed"]), str(summary["pending"])) in counts, counts


def test_oscal_counts_a_simulator_dry_run_as_an_open_risk():
    from readiness.report import oscal

    record = {"feature": "features/sandbox-protocol.feature", "line": 9, "scenario": "Token by client credentials",
              "tenant": None, "requirements": ["SANDBOX-PROTOCOL"], "status": "dry-run-passed", "reason": None,
              "findings": []}
    risks, by_requirement = oscal._risks({"scenarios": [record]}, {"0": oscal._uuid("observation", 0)})
    assert [r.status.root.root for r in risks] == ["open"] and by_requirement["SANDBOX-PROTOCOL"]
