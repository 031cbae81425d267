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
    assert "1 waived" in waived.output
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
