"""Waivers: governed exceptions with a justification, an owner role and an expiry (readiness.gate.waivers)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from readiness.core import features
from readiness.core.errors import PolicyError
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant
from readiness.gate import waivers
from readiness.report import history

ROOT = Path(__file__).resolve().parent.parent
RUN_DAY = date(2026, 12, 7)
EPOCH = "1796601600"  # 2026-12-07T00:00:00Z: the run date every gate run of this module judges expiry by
MAP_SCENARIO = "The Titan Map agrees with the tenant's taxonomy exports"
TENANT_WAIVERS = "The tenant's waivers are current and each still covers a finding or scenario"
OWNER = "Website producer"


@pytest.fixture(autouse=True)
def run_day(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _waiver(expires: date, **target) -> dict:
    return {"id": "W-RG-001", **(target or {"finding": {"kind": "drift-inactive", "subject": "campaign 24001 *"}}),
            "justification": "The customer reactivates the campaign in ServiceTitan on their next monthly review.",
            "owner": OWNER, "expires": expires}


def _write_waivers(folder: Path, *entries: dict) -> Path:
    path = folder / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": list(entries)}, sort_keys=False))
    return path


def _deactivate_campaign(folder: Path, active: bool = False) -> None:
    path = folder / "exports/marketing/campaigns.json"
    body = json.loads(path.read_text())
    next(r for r in body["data"] if r["id"] == 24001)["active"] = active
    path.write_text(json.dumps(body, indent=2))


# --- the lifecycle: drifted -> waived (gate passes, "1 waived") -> expired (fails) -> stale (fails) -------------------

@pytest.mark.slow  # four gate runs
def test_waiver_lifecycle_drifted_waived_expired_stale(workspace):
    folder = workspace.tenant("riverside-growth")
    _deactivate_campaign(folder)
    drifted = workspace.run(tenants=["riverside-growth"])
    drifted.assert_fails(MAP_SCENARIO, "FAIL-DRIFT", tenant="riverside-growth")

    _write_waivers(folder, _waiver(RUN_DAY + timedelta(days=30)))
    waived = workspace.run(tenants=["riverside-growth"])
    assert waived.exit_code == 0, waived.output[-3000:]
    assert "1 waived" in waived.output and "waivers: 1 applied, W-RG-001 applied" in waived.output
    assert f"WAIVED features/titan-map-drift.feature: {MAP_SCENARIO} [riverside-growth]" in waived.output
    report = waived.report
    row = waived.scenario(MAP_SCENARIO, "riverside-growth")
    assert row["status"] == "waived" and row["reason"].startswith("waived by W-RG-001 (Website producer, until")
    [finding] = [f for f in row["findings"] if f["kind"] == "drift-inactive"]
    assert finding["waiver"] == "W-RG-001"
    assert report["gate"]["waivers_applied"] == 1 and report["summary"]["waived"] == 1
    assert {r["id"]: r["status"] for r in report["requirements"]}["FAIL-DRIFT"] == "waived"
    assert next(t for t in report["tenants"] if t["slug"] == "riverside-growth")["status"] == "waived"
    assert [w["status"] for w in report["waivers"]] == ["applied"]
    markdown = (waived.report_dir / "readiness.md").read_text()
    html = (waived.report_dir / "readiness.html").read_text()
    assert "(1 waived)" in markdown and "waived by W-RG-001" in markdown
    assert "1 waived" in html and "waived by W-RG-001" in html and 'id="waivers"' in html
    assert "No boundary was crossed" not in html and "covered by a waiver" in html
    assert "passed" not in {r["status"] for r in report["scenarios"] if r["scenario"] == MAP_SCENARIO}

    _write_waivers(folder, _waiver(RUN_DAY - timedelta(days=1)))
    expired = workspace.run(tenants=["riverside-growth"])
    expired.assert_fails(MAP_SCENARIO, "FAIL-DRIFT", tenant="riverside-growth")  # an expired waiver stops applying
    row = expired.assert_fails(TENANT_WAIVERS, "WAIVER-GOVERNED", tenant="riverside-growth")
    [finding] = row["findings"]
    assert finding["kind"] == "waiver-expired" and finding["subject"].endswith("waivers.yaml:2 W-RG-001")
    assert "expired on 2026-12-06" in finding["detail"]
    changes = history.diff(report, expired.report)  # the waived run's report, read before this run
    assert [w["id"] for w in changes["waivers"]["expired"]] == ["W-RG-001"]

    _deactivate_campaign(folder, active=True)
    _write_waivers(folder, _waiver(RUN_DAY + timedelta(days=30)))
    stale = workspace.run(tenants=["riverside-growth"])
    assert stale.scenario(MAP_SCENARIO, "riverside-growth")["status"] == "passed"
    row = stale.assert_fails(TENANT_WAIVERS, "WAIVER-GOVERNED", tenant="riverside-growth")
    assert [f["kind"] for f in row["findings"]] == ["waiver-stale"]
    assert row["steps"][-1]["status"] == "failed" and "matched nothing in this run" in row["reason"]
    assert [w["status"] for w in stale.report["waivers"]] == ["stale"]


# --- loading: schema, expiry window, owner, never-waivable -----------------------------------------------------------

@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(ROOT / "policies")


@pytest.fixture(scope="module")
def scenarios() -> list[features.ScenarioSpec]:
    return features.load_scenarios(ROOT / "features")


@pytest.fixture
def scratch_tenant(tmp_path) -> FixtureTenant:
    folder = tmp_path / "riverside-growth"
    folder.mkdir()
    return FixtureTenant(folder)


def _load_error(tenant, policies, scenarios, *entries) -> PolicyError:
    _write_waivers(tenant.folder, *entries)
    with pytest.raises(PolicyError) as caught:
        waivers.load(policies, [tenant], scenarios, RUN_DAY)
    message = str(caught.value)
    assert "\n" not in message and "waivers.yaml:" in message, message  # one line, with the file and line
    return caught.value


@pytest.mark.parametrize(("kind", "why"), [
    ("credential", "credentials found"),
    ("forbidden-claim", "claims of approval"),
    ("titan-map-personal-data", "personal data"),
    ("export-forbidden-value", "personal data"),
])
def test_a_waiver_for_a_never_waivable_finding_is_a_policy_error(scratch_tenant, policies, scenarios, kind, why):
    error = _load_error(scratch_tenant, policies, scenarios,
                        _waiver(RUN_DAY + timedelta(days=10), finding={"kind": kind, "subject": "*"}))
    assert f"finding kind {kind} is never waivable ({why})" in str(error) and error.line == 3  # the finding: line


@pytest.mark.parametrize(("requirement", "scenario", "why"), [
    ("SEC-NO-CREDENTIALS", "The offline product holds no ServiceTitan credential", "credentials found"),
    ("CLAIM-APPROVAL", "The security packet makes no forbidden claim", "claims of approval"),
    ("SEC-BOUNDARIES", "Findings in the report show personal data only masked", "personal data in outputs"),
])
def test_a_waiver_for_a_never_waivable_requirement_is_a_policy_error(scratch_tenant, policies, scenarios, requirement,
                                                                      scenario, why):
    error = _load_error(scratch_tenant, policies, scenarios, _waiver(
        RUN_DAY + timedelta(days=10), scenario={"requirement": requirement, "name": scenario}))
    assert f"requirement {requirement} is never waivable ({why})" in str(error)


def test_a_waiver_for_a_pending_sandbox_test_is_a_policy_error(scratch_tenant, policies, scenarios):
    sandbox = next(s for s in scenarios if s.is_sandbox and set(s.requirements) - {"SANDBOX-PROTOCOL"})
    requirement = sorted(set(sandbox.requirements) - {"SANDBOX-PROTOCOL"})[0]
    error = _load_error(scratch_tenant, policies, scenarios, _waiver(
        RUN_DAY + timedelta(days=10), scenario={"requirement": requirement, "name": sandbox.name}))
    assert "pending sandbox tests are never waivable" in str(error)


@pytest.mark.parametrize(("change", "expected"), [
    ({"expires": RUN_DAY + timedelta(days=91)}, "is more than 90 days after the run date 2026-12-07"),
    ({"owner": "Website produser"}, "did you mean 'Website producer'?"),
    ({"justification": "because"}, "is too short"),
    ({"expires": "next month"}, "'next month' is not a date: write it as YYYY-MM-DD"),
    ({"finding": None, "scenario": {"requirement": "FAIL-DRIFT", "name": "The Titan Map agrees with the exports"}},
     "did you mean \"The Titan Map agrees with the tenant's taxonomy exports\"?"),
    ({"finding": None, "scenario": {"requirement": "FAIL-AUTH", "name": MAP_SCENARIO}},
     "does not prove FAIL-AUTH (it proves FAIL-DRIFT, MAP-TAXONOMY)"),
])
def test_a_malformed_waiver_is_one_clear_line(scratch_tenant, policies, scenarios, change, expected):
    entry = {**_waiver(RUN_DAY + timedelta(days=10)), **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    error = _load_error(scratch_tenant, policies, scenarios, entry)
    assert expected in str(error).replace('"', '"'), str(error)


def test_expiry_exactly_90_days_ahead_is_accepted(scratch_tenant, policies, scenarios):
    _write_waivers(scratch_tenant.folder, _waiver(RUN_DAY + timedelta(days=90)))
    [loaded] = waivers.load(policies, [scratch_tenant], scenarios, RUN_DAY).waivers
    assert (loaded.tenant, loaded.line, loaded.expires) == ("riverside-growth", 2, RUN_DAY + timedelta(days=90))


def test_the_gate_refuses_to_run_with_a_never_waivable_waiver(workspace):
    _write_waivers(workspace.policies, _waiver(RUN_DAY + timedelta(days=10), finding={"kind": "credential",
                                                                                     "subject": "*"}))
    result = workspace.run(tenants=["riverside-growth"])
    assert result.exit_code == 4, result.output[-2000:]  # a usage error: nothing is judged, nothing written
    [line] = [l for l in result.output.splitlines() if "never waivable" in l]
    assert "waivers.yaml:3: waivers[0].finding: finding kind credential" in line and "Traceback" not in result.output


# --- applying: only findings and assertion failures, never silently ---------------------------------------------------

def _record(status="failed", assertion=True, findings=(("drift-inactive", "campaign 24001 Google Ads"),), **extra):
    return {"feature": "features/titan-map-drift.feature", "line": 14, "scenario": MAP_SCENARIO,
            "tenant": "riverside-growth", "tags": ["per-tenant", "req-FAIL-DRIFT", "req-MAP-TAXONOMY"],
            "requirements": ["FAIL-DRIFT", "MAP-TAXONOMY"], "protocol_tests": [], "status": status,
            "reason": "AssertionError: drift", "steps": [], "assertion": assertion, "sections": {},
            "findings": [{"kind": k, "subject": s, "severity": "blocker", "runbook": None, "detail": "d"}
                         for k, s in findings], **extra}


def _set(*entries: waivers.Waiver) -> waivers.WaiverSet:
    return waivers.WaiverSet(list(entries), RUN_DAY)


def _finding_waiver(subject="campaign 24001 *", tenant="riverside-growth", expires=RUN_DAY, **extra):
    return waivers.Waiver(id="W-1", file="tenants/riverside-growth/waivers.yaml", line=2, tenant=tenant,
                          justification="j", owner=OWNER, expires=expires, kind="drift-inactive", subject=subject,
                          **extra)


def test_a_failure_that_is_not_an_assertion_is_never_waived():
    [record], _, _ = waivers.apply([_record(assertion=False)], _set(_finding_waiver()))
    assert record["status"] == "failed" and record["findings"][0]["waiver"] == "W-1"


def test_a_scenario_is_waived_only_when_every_finding_it_recorded_is():
    found = (("drift-inactive", "campaign 24001 Google Ads"), ("drift-missing", "zone 23002 Tulsa"))
    [record], rows, _ = waivers.apply([_record(findings=found)], _set(_finding_waiver()))
    assert record["status"] == "failed" and rows[0]["status"] == "applied"


def test_a_waiver_expiring_today_still_applies_and_one_from_yesterday_does_not():
    [today], _, _ = waivers.apply([_record()], _set(_finding_waiver(expires=RUN_DAY)))
    [yesterday], rows, _ = waivers.apply([_record()], _set(_finding_waiver(expires=RUN_DAY - timedelta(days=1))))
    assert (today["status"], yesterday["status"], rows[0]["status"]) == ("waived", "failed", "expired")


def test_another_tenants_waiver_does_not_apply():
    [record], rows, problems = waivers.apply([_record()], _set(_finding_waiver(tenant="summit-multi-bu")))
    assert record["status"] == "failed" and rows[0]["status"] == "stale"
    assert problems and "its waiver scenario did not run" in problems[0]  # fails closed when nothing judged it


def test_a_scenario_waiver_names_requirement_and_scenario():
    waiver = waivers.Waiver(id="W-2", file="policies/waivers.yaml", line=3, tenant=None, justification="j",
                            owner=OWNER, expires=RUN_DAY, requirement="FAIL-DRIFT", scenario=MAP_SCENARIO)
    [record], rows, _ = waivers.apply([_record(assertion=False, findings=())], _set(waiver))
    assert record["status"] == "waived" and rows[0] | {"status": "applied", "applied": 1} == rows[0]


def test_a_never_waivable_record_is_untouched_by_any_waiver():
    credential = _record(findings=(("credential", "product/app.js:3"),))
    sandbox = _record(tags=["sandbox", "req-FAIL-DRIFT"], findings=(("drift-inactive", "campaign 24001 x"),))
    records, _, _ = waivers.apply([credential, sandbox], _set(
        _finding_waiver(), waivers.Waiver(id="W-3", file="w.yaml", line=1, tenant=None, justification="j",
                                          owner=OWNER, expires=RUN_DAY, kind="credential", subject="*")))
    assert [r["status"] for r in records] == ["failed", "failed"]
    assert not any("waiver" in f for r in records for f in r["findings"])


# --- the diff and merged shards ---------------------------------------------------------------------------------------

def _row(waiver_id, status="applied", tenant="riverside-growth", applied=1):
    return {"id": waiver_id, "file": "tenants/riverside-growth/waivers.yaml", "line": 2, "tenant": tenant,
            "target": "finding drift-inactive campaign 24001 *", "justification": "j", "owner": OWNER,
            "expires": "2026-12-31", "status": status, "applied": applied}


def test_the_diff_shows_waivers_added_expired_and_removed():
    old = {"waivers": [_row("W-1"), _row("W-2")]}
    new = {"waivers": [_row("W-2", status="expired", applied=0), _row("W-3")]}
    changes = history._waiver_changes(old, new)
    assert [[w["id"] for w in changes[k]] for k in ("added", "expired", "removed")] == [["W-3"], ["W-2"], ["W-1"]]
    assert history._waiver_changes({}, {"waivers": []}) == {"added": [], "expired": [], "removed": []}  # 1.0 reports
    text = history.render_markdown({**history.diff(_minimal(old), _minimal(new))})
    assert "## Waivers" in text and "- EXPIRED `W-2`" in text and "- added `W-3`" in text and "- removed `W-1`" in text


def _minimal(waived: dict) -> dict:
    return {"generated_at": "2026-12-07T00:00:00Z", "commit": None, "policy_digest": "0" * 64, "evidence_root": "0" * 64,
            "gate": {"status": "passed"}, "scenarios": [], "product": {"findings": []}, "tenants": [],
            "requirements": [], "evidence": [], **waived}


def test_merged_shards_judge_the_runs_own_waivers():
    shard = lambda applied: {"waivers": [_row("W-RUN", status="unjudged", tenant=None, applied=applied)]}
    rows, problems = waivers.merge_rows([shard(0), shard(1), shard(0)])
    assert [(r["status"], r["applied"]) for r in rows] == [("applied", 1)] and problems == []
    rows, problems = waivers.merge_rows([shard(0), shard(0)])
    assert rows[0]["status"] == "stale" and "matched nothing in any shard" in problems[0]


def test_a_feature_page_never_headlines_a_waived_scenario_as_passed():
    from readiness.report import livingdoc

    assert livingdoc.headline(["passed", "waived", "pending"]) == "waived"
