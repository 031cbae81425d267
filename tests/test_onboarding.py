"""Onboarding proof (issue 17, item 7): a new tenant from nothing to a judged, passing tenant with the six commands of
the README's "Onboard a customer" -- tenant new, import, map draft, map confirm, leads import, the gate -- and no
file written by hand. The test writes only an operator's inputs: the customer's CSV exports (made here from
comfort-launch's exports in the documented column layouts), the website's list of services, its form export and
the customer's job-types screenshot (rendered in headless Chromium from the exported list).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

from readiness import cli
from tests.test_screenshots import tools  # noqa: F401  (fixture: Chromium and Tesseract, or skip/fail)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "fixtures" / "tenants" / "comfort-launch" / "exports"
EXPORTS = {"job-types": "jpm/job-types", "business-units": "settings/business-units", "zones": "dispatch/zones",
           "pricebook": "pricebook/services", "campaigns": "marketing/campaigns"}
WEBSITE = """\
services:
  - {website: ac-repair, label: AC Repair}
  - {website: furnace-repair, label: Furnace Repair}
  - {website: ac-tune-up, label: AC Tune-Up}
  - {website: ductless-mini-split, label: Ductless Mini-Splits}
service_areas:
  - {website: north-metro, label: North Metro, zips: ['80011', '80012']}
  - {website: east-metro, label: East Metro, zips: ['80015', '80016']}
lead_sources:
  - {website: google-ads, label: Google Ads}
  - {website: organic-search, label: Website Organic}
offers:
  - {website: fall-tune-up, label: Fall Tune-Up Offer}
"""
FORM = """\
Submitted At,Name,Phone,Email,Street,City,State,ZIP,Service,Preferred window start,Preferred window end,Message,\
UTM Source,UTM Medium,Lead Source,Offer,Consent,IP Address
2026-12-01T15:04:05Z,Pat Example,303-555-0142,pat@example.com,12 Sample Street,Maple Hollow,CO,80011,ac-repair,\
2026-12-03T15:00:00Z,2026-12-03T19:00:00Z,AC blowing warm,google,cpc,google-ads,,yes,203.0.113.9
2026-12-02T10:00:00Z,Sam Example,303-555-0143,sam@example.com,14 Sample Street,Eastbrook Park,CO,80015,ac-tune-up,,,,\
google,organic,organic-search,fall-tune-up,yes,203.0.113.10
"""


def _value_at(record: dict, path: str):
    value = record
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and len(value) > index else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def customer_csv(kind: str, target: Path) -> Path:
    """A customer's export of ``kind`` in the documented layout: each field under the first heading that
    policies/intake.yaml lists for it."""
    profile = next(p for p in yaml.safe_load((ROOT / "policies" / "intake.yaml").read_text())["profiles"]
                   if p["kind"] == kind)
    fields = {field: headings[0] for field, headings in profile["fields"].items()}
    records = json.loads((SOURCE / f"{EXPORTS[kind]}.json").read_text())["data"]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields.values())
        writer.writerows([_cell(_value_at(record, field)) for field in fields] for record in records)
    return target


def run(capsys, *args) -> str:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "next: " in out  # every command ends with the next one to run
    return out


@pytest.mark.slow
def test_a_new_customer_is_onboarded_with_the_six_commands_and_passes_the_gate(workspace, tmp_path, capsys, tools):
    from tests.screenshot_render import active_names, render

    inputs = tmp_path / "from-the-customer"
    inputs.mkdir()
    exports = [customer_csv(kind, inputs / f"{kind}.csv") for kind in EXPORTS]
    (inputs / "website.yaml").write_text(WEBSITE)
    (inputs / "form-submissions.csv").write_text(FORM)
    tenant = workspace.tenants / "harbor-heating"

    run(capsys, "tenant", "new", "harbor-heating", "--package", "launch", "--tenants-dir", workspace.tenants,
        "--tenant-id", "900000515", "--trade", "hvac", "--policies-dir", workspace.policies)
    run(capsys, "import", tenant, *exports, "--reviewed-by-role", "Office Manager", "--received-on", "2026-12-01",
        "--policies-dir", workspace.policies)
    # The customer's screenshot of its job types list (an input, like the CSV files).
    render("Job Types", active_names(tenant / "exports" / "jpm" / "job-types.json"),
           tenant / "evidence" / "job-types-screenshot.png")
    out = run(capsys, "map", "draft", tenant, "--website", inputs / "website.yaml")
    assert "9 entries, 9 with a proposed match, all status: needs-review" in out

    drafted = workspace.run(tenants=["harbor-heating"])  # a draft never passes as mapped
    drafted.assert_fails("Every Titan Map entry was reviewed with the customer", "MAP-REVIEW", tenant="harbor-heating")

    run(capsys, "map", "confirm", tenant, "--role", "Office Manager", "--on", "2026-12-02", "all")
    out = run(capsys, "leads", "import", tenant, inputs / "form-submissions.csv", "--product-dir", workspace.product,
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
