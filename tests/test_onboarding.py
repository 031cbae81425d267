"""Onboarding proof (issue 17, item 7): a new tenant from nothing to a judged, passing tenant with the six commands of
the README's "Onboard a customer" -- tenant new, import, map draft, map confirm, leads import, the gate -- and no
file written by hand. The only inputs are an operator's: the customer's CSV exports, the website's list of
services, its form export and the customer's job-types screenshot, all in docs/examples/onboarding/ (fake data:
comfort-launch's exports in the documented column layouts, the screenshot rendered from them in headless
Chromium by tests/screenshot_render.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from readiness import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples" / "onboarding"
REVIEW_SCENARIO = "Every Titan Map entry was reviewed with the customer"
PACKAGE_SCENARIO = "The customer has supplied every export and screenshot the package needs"
EXPORT_FILES = ["job-types.csv", "business-units.csv", "zones.csv", "pricebook.csv", "campaigns.csv"]


def run(capsys, *args) -> str:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "next: " in out  # every command ends with the next one to run
    return out


@pytest.mark.slow
def test_a_new_customer_is_onboarded_with_the_six_commands_and_passes_the_gate(workspace, capsys):
    tenant = workspace.tenants / "harbor-heating"
    run(capsys, "tenant", "new", "harbor-heating", "--package", "launch", "--tenants-dir", workspace.tenants,
        "--tenant-id", "900000515", "--trade", "hvac", "--policies-dir", workspace.policies)
    run(capsys, "import", tenant, *[EXAMPLES / name for name in EXPORT_FILES], "--reviewed-by-role", "Office Manager",
        "--received-on", "2026-12-01", "--policies-dir", workspace.policies)
    shutil.copy(EXAMPLES / "job-types-screenshot.png", tenant / "evidence")  # the customer's screenshot
    out = run(capsys, "map", "draft", tenant, "--website", EXAMPLES / "website.yaml")
    assert "9 entries, 9 with a proposed match, all status: needs-review" in out

    drafted = workspace.run(tenants=["harbor-heating"])  # a draft is judged, and never passes as mapped
    row = drafted.assert_fails(REVIEW_SCENARIO, "MAP-REVIEW", tenant="harbor-heating")
    assert [f["kind"] for f in row["findings"]] == ["map-entry-unreviewed"] * 9
    assert {s["scenario"] for s in drafted.failed() if s["tenant"] == "harbor-heating"} == {
        REVIEW_SCENARIO, PACKAGE_SCENARIO}  # and the handoff log the first leads start

    run(capsys, "map", "confirm", tenant, "--role", "Office Manager", "--on", "2026-12-02", "all")
    out = run(capsys, "leads", "import", tenant, EXAMPLES / "form-submissions.csv", "--product-dir", workspace.product,
              "--policies-dir", workspace.policies)
    assert "queue items: 2 queued" in out and "dropped (outside the lead envelope, never written): ip_address" in out

    result = workspace.run(tenants=["harbor-heating"])
    assert result.exit_code == 0, result.output[-3000:]
    report = result.report
    assert report["gate"]["status"] == "passed"
    scenarios = [s for s in report["scenarios"] if s["tenant"] == "harbor-heating"]
    assert scenarios and all(s["status"] == "passed" for s in scenarios)
    titan_map = yaml.safe_load((tenant / "titan-map.yaml").read_text())
    assert titan_map["reviewed_by_role"] == "Office Manager" and titan_map["reviewed_on"] == "2026-12-02"
    assert {e["job_type"]["name"] for e in titan_map["services"]} == {
        "AC Repair", "Furnace Repair", "AC Tune-Up", "Ductless Mini-Split Estimate"}
