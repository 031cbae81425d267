"""Titan Map drift, attribution, proof packets and the synthetic tenant generator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from readiness.mapping import attribution, drift
from readiness.core import exportfeed
from readiness.report import proof
from readiness.cli import main
from readiness.gate import synth
from readiness.core.errors import OptionError, PolicyError, TenantDataError
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = Path("/work/shared/tools/st_conformance.py")
MAP_SCENARIO = "The Titan Map agrees with the tenant's taxonomy exports"
SNAPSHOT_SCENARIO = "Changes since the previous taxonomy snapshot are reported by ServiceTitan id"
ATTRIBUTION_SCENARIO = "Website leads are matched to their bookings, jobs, invoices and payments"
PACKET_SCENARIO = "The proof packet states its source and never claims API verification"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(ROOT / "policies")


@pytest.fixture
def riverside(tmp_path) -> Path:
    folder = tmp_path / "riverside-growth"
    shutil.copytree(ROOT / "fixtures" / "tenants" / "riverside-growth", folder)
    return folder


def _body(path: Path) -> dict:
    return json.loads(path.read_text())


def _edit(path: Path, change) -> None:
    body = _body(path)
    change(body)
    path.write_text(json.dumps(body, indent=2))


# --- the generator's planted set is found exactly -------------------------------------------------------------

@pytest.mark.parametrize(("seed", "jobs"), [(1, 600), (2, 1000), (3, 2000), (11, 400)])
def test_planted_set_is_found_exactly_and_nothing_else(tmp_path, policies, seed, jobs):
    folder = synth.generate(tmp_path, jobs, seed, page_size=300)
    planted = json.loads((folder / synth.MANIFEST).read_text())["planted"]
    tenant = FixtureTenant(folder)

    checked = drift.check(tenant, policies)
    assert sorted([d.kind, d.entity, d.id] for d in checked.map_drifts) == planted["map_drift"]
    assert sorted({(d.kind, d.entity, d.id) for d in checked.over_time}) == [tuple(x) for x in planted["over_time"]]
    assert all(f.runbook == "drift-conflict" for f in checked.map_findings + checked.over_time_findings)

    result = attribution.check(tenant, policies)
    outcomes = result.result.outcomes
    assert sorted(o.lead.id for o in outcomes if o.status == "unmatched") == planted["unmatched"]
    assert sorted(o.lead.id for o in outcomes if o.status == "ambiguous") == planted["ambiguous"]
    assert [i for i, _, _ in result.result.overpaid] == planted["overpaid_invoices"]
    flagged = {f.subject for f in result.findings}
    assert flagged == {f"lead {x}" for x in planted["unmatched"] + planted["ambiguous"]} | {
        f"invoice {x}" for x in planted["overpaid_invoices"]}
    assert all(f.runbook == "attribution-mismatch" for f in result.findings)
    # Doubtful leads are never credited; every rule the generator used was the one that matched.
    assert all(not o.jobs and o.paid == 0 for o in outcomes if o.status != "matched")
    expected = json.loads((folder / synth.MANIFEST).read_text())["matched_by_rule"]
    for rule, count in expected.items():
        assert sum(1 for o in outcomes if o.status == "matched" and o.rule == rule) == count


def test_generator_is_deterministic_and_writes_the_documented_layout(tmp_path):
    first = synth.generate(tmp_path / "a", 400, 5, page_size=100)
    second = synth.generate(tmp_path / "b", 400, 5, page_size=100)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    for part in ("tenant.yaml", "titan-map.yaml", "leads/submissions.jsonl", "exports/jpm/export/jobs/0001.json",
                 "exports/accounting/export/payments/0001.json", "snapshots"):
        assert (first / part).exists(), part
    FixtureTenant(first).check_readable()
    with pytest.raises(OptionError, match="--jobs"):
        synth.generate(tmp_path / "c", 10, 1)


def test_generator_command_line(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path), "--jobs", "300", "--seed", "4"]) == 0
    assert "synth-manifest.json" in capsys.readouterr().out
    assert main(["synth", "--out", str(tmp_path), "--jobs", "5"]) == 2
    assert "--jobs" in capsys.readouterr().err


@pytest.mark.skipif(not CONFORMANCE.is_file(), reason="ServiceTitan reference tool not on this machine")
def test_generated_exports_conform_to_servicetitan_shapes(tmp_path):
    synth.generate(tmp_path, 300, 9, page_size=200)
    done = subprocess.run([sys.executable, str(CONFORMANCE), str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "invalid=0" in done.stdout and "unknown=0" in done.stdout


# --- drift rules, one planted violation each ------------------------------------------------------------------

def _map_drift(folder: Path):
    return {(d.kind, d.entity, d.id): d for d in drift.map_drift(FixtureTenant(folder))}


def test_bundled_tenants_have_no_map_drift():
    for folder in sorted((ROOT / "fixtures" / "tenants").iterdir()):
        assert drift.map_drift(FixtureTenant(folder)) == [], folder.name


def test_inactive_job_type_is_drift_with_the_handoffs_that_depend_on_it(riverside, policies):
    _edit(riverside / "exports/jpm/job-types.json",
          lambda b: next(r for r in b["data"] if r["id"] == 22001).update(active=False))
    found = drift.check(FixtureTenant(riverside), policies)
    [finding] = found.map_findings
    assert (finding.kind, finding.subject, finding.severity) == ("drift-inactive", "job type 22001 Drain Cleaning",
                                                                 "blocker")
    assert "service drain-cleaning" in finding.detail and "lead-rg-0001" in finding.detail
    assert "lead-rg-0001" in found.section["handoffs_to_review"]


def test_renamed_moved_missing_mismatched_and_lost_zip(riverside):
    _edit(riverside / "exports/marketing/campaigns.json",
          lambda b: next(r for r in b["data"] if r["id"] == 24001).update(name="Google Ads - Search"))
    _edit(riverside / "exports/jpm/job-types.json",
          lambda b: next(r for r in b["data"] if r["id"] == 22002).update(businessUnitIds=[21999]))
    _edit(riverside / "exports/pricebook/services.json", lambda b: (
        b["data"].remove(next(r for r in b["data"] if r["id"] == 25006)),
        next(r for r in b["data"] if r["id"] == 25005).update(code="PL-LEAK-2")))
    _edit(riverside / "exports/dispatch/zones.json",
          lambda b: next(r for r in b["data"] if r["id"] == 23002)["zips"].remove("74107"))
    found = _map_drift(riverside)
    assert set(found) == {("renamed", "campaign", 24001), ("moved", "job type", 22002),
                          ("missing", "pricebook service", 25006), ("mismatch", "pricebook service", 25005),
                          ("zone-lost-zip", "zone", 23002)}
    renamed = found[("renamed", "campaign", 24001)]
    assert renamed.expected == '"Google Ads - Web"' and renamed.actual == '"Google Ads - Search"'
    assert "74107" in found[("zone-lost-zip", "zone", 23002)].actual


def test_an_export_the_map_needs_but_was_not_supplied_cannot_be_checked(riverside):
    (riverside / "exports/memberships/membership-types.json").unlink()
    found = _map_drift(riverside)
    assert {k for k in found} == {("no-export", "membership type", 26001), ("no-export", "membership type", 26002)}


def test_reordering_is_not_drift_and_changes_are_keyed_by_id():
    entity = drift.ENTITIES["campaign"]
    before = {1: {"id": 1, "name": "A", "active": True, "modifiedOn": "x"}, 2: {"id": 2, "name": "B", "active": True}}
    after = dict(reversed(list(before.items())))
    assert drift.changes(before, after, entity) == []
    after = {2: {"id": 2, "name": "B2", "active": True}, 3: {"id": 3, "name": "C", "active": True},
             1: {"id": 1, "name": "A", "active": True, "modifiedOn": "y"}}
    found = [(d.kind, d.id, d.expected, d.actual) for d in drift.changes(before, after, entity)]
    assert found == [("added", 3, "not in the previous snapshot", "new record"),
                     ("changed", 2, "['name'] = 'B'", "['name'] = 'B2'")]


def test_titan_map_shape_errors_name_file_key_and_line(riverside):
    path = riverside / "titan-map.yaml"
    path.write_text(path.read_text().replace("job_type: {id: 22001,", "job_type: {id: '22001',", 1))
    with pytest.raises(TenantDataError) as caught:
        drift.map_drift(FixtureTenant(riverside))
    assert "titan-map.yaml:" in str(caught.value) and "services[0].job_type" in str(caught.value)


# --- attribution ----------------------------------------------------------------------------------------------

def test_bundled_growth_tenant_figures_are_exact_decimals(policies):
    checked = attribution.check(FixtureTenant(ROOT / "fixtures/tenants/riverside-growth"), policies)
    section = checked.section
    assert (section["leads"], section["bookings"], section["invoiced"], section["paid"]) == (12, 10, "4,946.00",
                                                                                          "3,347.00")
    assert [r["lead"] for r in section["review"]] == ["lead-rg-0011", "lead-rg-0012"]
    assert {f.kind for f in checked.findings} == {"attribution-unmatched"} and not checked.blocking
    outcome = next(o for o in checked.result.outcomes if o.lead.id == "lead-rg-0003")
    assert outcome.paid == Decimal("500.00") and outcome.invoiced == Decimal("1850.00")
    assert [(link.target, link.rule) for link in outcome.links][:3] == [
        ("booking 27003", "external-id"), ("job 28003", "carried-id"), ("invoice 29003", "carried-id")]


def test_a_lead_matching_two_bookings_equally_is_ambiguous_and_not_credited(riverside, policies):
    def duplicate(body):
        copy = dict(next(r for r in body["data"] if r["id"] == 27001), id=27901)
        body["data"].append(copy)
    _edit(riverside / "exports/crm/export/bookings.json", duplicate)
    checked = attribution.check(FixtureTenant(riverside), policies)
    outcome = next(o for o in checked.result.outcomes if o.lead.id == "lead-rg-0001")
    assert outcome.status == "ambiguous" and outcome.paid == 0 and not outcome.jobs
    assert "booking 27001, booking 27901" in outcome.reason
    assert any(f.kind == "attribution-ambiguous" and f.subject == "lead lead-rg-0001" for f in checked.findings)


def test_overpaid_invoice_counts_only_its_total_and_blocks(riverside, policies):
    _edit(riverside / "exports/accounting/export/payments.json",
          lambda b: next(r for r in b["data"] if r["id"] == 29501)["appliedTo"][0].update(appliedAmount="300.00"))
    checked = attribution.check(FixtureTenant(riverside), policies)
    [finding] = checked.blocking
    assert finding.kind == "attribution-overpayment" and finding.subject == "invoice 29001"
    assert "300.00" in finding.detail and "249.00" in finding.detail
    assert checked.section["paid"] == "3,347.00"


def test_contact_and_name_address_rules_and_their_window(riverside, policies):
    # Lead 0011 was never handed off; the office booked it by phone: contact rule (needs the contacts export).
    lead = next(json.loads(line) for line in (riverside / "leads/submissions.jsonl").read_text().splitlines()
                if "lead-rg-0011" in line)
    _edit(riverside / "exports/jpm/export/jobs/0002.json", lambda b: b["data"].append(
        dict(b["data"][0], id=28901, bookingId=None, customerId=29991, createdOn="2026-11-13T10:00:00Z")))
    contacts = riverside / "exports/crm/export/customers/contacts.json"
    contacts.parent.mkdir(parents=True, exist_ok=True)
    contacts.write_text(json.dumps({"hasMore": False, "continueFrom": "x", "data": [
        {"id": 1, "customerId": 29991, "type": "MobilePhone", "value": "(" + lead["contact"]["phone"][:3] + ") "
         + lead["contact"]["phone"][4:], "phoneSettings": {"phoneNumber": "x", "doNotText": False},
         "createdOn": "2026-01-01T00:00:00Z", "modifiedOn": "2026-01-01T00:00:00Z", "active": True}]}))
    # Lead 0012: booked by hand without the external id, same name and address: name-address rule.
    lead12 = next(json.loads(line) for line in (riverside / "leads/submissions.jsonl").read_text().splitlines()
                  if "lead-rg-0012" in line)
    _edit(riverside / "exports/crm/export/bookings.json", lambda b: b["data"].append(dict(
        b["data"][0], id=27950, externalId="", jobId=None, name=lead12["contact"]["name"].upper(),
        address=dict(b["data"][0]["address"], street=lead12["address"]["street"] + ".",
                     zip=lead12["address"]["zip"]), createdOn="2026-11-20T09:00:00Z")))
    outcomes = {o.lead.id: o for o in attribution.check(FixtureTenant(riverside), policies).result.outcomes}
    assert (outcomes["lead-rg-0011"].rule, outcomes["lead-rg-0011"].confidence) == ("contact", "medium")
    assert [j.id for j in outcomes["lead-rg-0011"].jobs] == [28901]
    assert (outcomes["lead-rg-0012"].rule, outcomes["lead-rg-0012"].confidence) == ("name-address", "low")

    # Outside the window, nothing matches.
    policy = yaml.safe_load((ROOT / "policies/attribution.yaml").read_text())
    assert policy["window_days"] == 14
    _edit(riverside / "exports/jpm/export/jobs/0002.json",
          lambda b: b["data"][-1].update(createdOn="2026-12-30T10:00:00Z"))
    outcomes = {o.lead.id: o for o in attribution.check(FixtureTenant(riverside), policies).result.outcomes}
    assert outcomes["lead-rg-0011"].status == "unmatched"


def test_rules_out_of_confidence_order_are_a_policy_error(tmp_path):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    path = tmp_path / "policies/attribution.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["rules"].reverse()
    path.write_text(yaml.safe_dump(policy))
    with pytest.raises(PolicyError, match="order of confidence"):
        attribution.Rules.from_policies(PolicySet.load(tmp_path / "policies"))


def test_launch_tenant_without_outcome_exports_claims_no_attribution(policies):
    checked = attribution.check(FixtureTenant(ROOT / "fixtures/tenants/comfort-launch"), policies)
    assert checked.result is None and not checked.findings and "Launch package" in checked.section["not_judged"]


def test_growth_tenant_without_outcome_exports_fails_closed(riverside, policies):
    (riverside / "exports/accounting/export/payments.json").unlink()
    with pytest.raises(TenantDataError, match="payments.json: outcome export not found"):
        attribution.check(FixtureTenant(riverside), policies)


def test_masking():
    assert attribution.mask_email("jordan.rg01@example.net") == "j***@***.net"
    assert attribution.mask_phone("918-555-0109") == "***-***-**09"
    assert attribution.mask_email(None) == attribution.mask_phone("") == "(none)"


# --- bad input: a clear error naming file and record ----------------------------------------------------------

JOBS_PAGE = "exports/jpm/export/jobs/0001.json"


@pytest.mark.parametrize(("relative", "change", "expected"), [
    ("exports/crm/export/bookings.json", lambda b: b.pop("data"), "bookings.json: an export body must be an object"),
    (JOBS_PAGE, lambda b: b["data"][1].update(customerId="29604"), "0001.json: data[1] (id 28004): customerId must be"),
    (JOBS_PAGE, lambda b: b["data"].append(dict(b["data"][0])), "0001.json: data[5] (id 28001): duplicate id 28001"),
    ("exports/accounting/export/invoices.json", lambda b: b["data"][2].update(total="one hundred"),
     "invoices.json: data[2] (id 29002): total must be an amount"),
    ("exports/accounting/export/payments.json", lambda b: b["data"][0]["appliedTo"][0].update(appliedAmount=249.0),
     "payments.json: data[0] (id 29501).appliedTo[0]: appliedAmount must be an amount"),
    (JOBS_PAGE, lambda b: b["data"][0].update(createdOn="11/02/2026 15:53"),
     "0001.json: data[0] (id 28001): createdOn must be an ISO 8601 date-time"),
    ("exports/crm/export/bookings.json", lambda b: b["data"].__setitem__(3, [1, 2]),
     "bookings.json: data[3]: each record must be an object"),
    (JOBS_PAGE.replace("0001", "0002"), lambda b: b.update(hasMore=True), "0002.json: last page says hasMore: true"),
])
def test_bad_export_data_names_file_and_record(riverside, policies, relative, change, expected):
    _edit(riverside / relative, change)
    with pytest.raises(TenantDataError) as caught:
        attribution.check(FixtureTenant(riverside), policies)
    assert expected in str(caught.value)


def test_truncated_page_names_the_file_and_line(riverside, policies):
    page = riverside / JOBS_PAGE
    page.write_text(page.read_text()[:700])
    with pytest.raises(TenantDataError) as caught:
        attribution.check(FixtureTenant(riverside), policies)
    assert "0001.json:" in str(caught.value) and "truncated" in str(caught.value)


def test_bad_taxonomy_and_lead_data(riverside, policies):
    _edit(riverside / "exports/jpm/job-types.json", lambda b: b["data"][0].update(active="yes"))
    with pytest.raises(TenantDataError, match=r"job-types.json: data\[0\] \(id 22001\): active must be true or false"):
        drift.map_drift(FixtureTenant(riverside))
    path = riverside / "leads/submissions.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"2026-11-03T16:40:18Z"', '"2026-11-03 4:40pm"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TenantDataError, match=r"submissions.jsonl:2: submitted_at: lead lead-rg-0002"):
        attribution.check(FixtureTenant(riverside), policies)
    lines[1] = lines[0]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TenantDataError, match="duplicate lead_id lead-rg-0001"):
        attribution.check(FixtureTenant(riverside), policies)


def test_export_feed_helpers():
    with pytest.raises(TenantDataError, match="export not found"):
        exportfeed.page_files(Path("/nonexistent"), "jpm/job-types")
    assert exportfeed.epoch("2026-11-04T17:15:00") == exportfeed.epoch("2026-11-04T17:15:00Z")
    assert exportfeed.money(Path("x"), "k", "total", "12.50") == Decimal("12.50")
    with pytest.raises(TenantDataError, match="must be an amount"):
        exportfeed.money(Path("x"), "k", "total", "NaN")



def test_every_reader_of_the_exports_orders_pages_by_number(tmp_path):
    """Page 10 follows page 9, not page 1, whether a check streams the pages or the tenant hands them over."""
    tenant = tmp_path / "tenant"
    folder = tenant / "exports" / "jpm" / "export" / "jobs"
    folder.mkdir(parents=True)
    for number in (1, 2, 10):
        body = {"hasMore": number != 10, "continueFrom": str(number), "data": [{"id": number}]}
        (folder / f"{number}.json").write_text(json.dumps(body))
    (folder / "notes.txt").write_text("not a page")
    streamed = [data[0]["id"] for _, data in exportfeed.iter_pages(tenant / "exports", "jpm/export/jobs")]
    handed = [page["data"][0]["id"] for page in FixtureTenant(tenant).export_pages("jpm/export/jobs")]
    assert streamed == handed == [1, 2, 10]

# --- the proof packet -----------------------------------------------------------------------------------------

def test_proof_packet_states_source_masks_contacts_and_never_claims_api_verification(policies, riverside):
    tenant = FixtureTenant(riverside)
    document = proof.packet(policies, tenant)
    assert "**Source:** demo outcomes." in document.text and "<svg" in document.text
    assert proof.source_problem(document) is None
    assert proof.verification_problem(document) is None
    assert proof.contact_leaks(document, tenant) == []
    assert "lead-rg-0011" in document.text and "Leads with paid revenue | 6 | 3,347.00" in document.text

    profile = riverside / "tenant.yaml"
    profile.write_text(profile.read_text().replace("source: demo", "source: customer-supplied"))
    document = proof.packet(policies, FixtureTenant(riverside))
    assert "from customer-supplied exports" in document.text and proof.source_problem(document) is None
    document.text += "\nThese are demo outcomes.\n"
    assert "also says" in proof.source_problem(document)
    document.text = document.text.replace("from customer-supplied exports", "from somewhere")
    assert "does not say" in proof.source_problem(document)
    document.text += "Figures are API verified.\n| x | jordan.rg01@example.net | 918-555-0109 |\n"
    assert "API verified" in proof.verification_problem(document)
    assert len(proof.contact_leaks(document, FixtureTenant(riverside))) == 2


def test_packet_for_unreadable_tenant_says_so_instead_of_figures(policies, riverside):
    (riverside / JOBS_PAGE).write_text("{")
    documents = proof.render(policies, [FixtureTenant(riverside)])
    text = documents["riverside-growth-proof.md"]
    assert "could not be produced" in text and "0001.json" in text and "Summary" not in text


# --- the gate: negative fixtures ------------------------------------------------------------------------------

def _finding(result, tenant: str, kind: str) -> dict:
    row = next(t for t in result.report["tenants"] if t["slug"] == tenant)
    hits = [f for f in row["findings"] if f["kind"] == kind]
    assert hits, row["findings"]
    return hits[0]


@pytest.mark.slow
def test_gate_bundled_tenants_show_non_blocking_findings_and_pass(workspace):
    result = workspace.run(tenants=["riverside-growth", "comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]
    unmatched = _finding(result, "riverside-growth", "attribution-unmatched")
    assert unmatched["runbook"] == "attribution-mismatch" and unmatched["severity"] == "minor"
    assert _finding(result, "riverside-growth", "drift-changed")["runbook"] == "drift-conflict"
    requirements = {r["id"]: r["status"] for r in result.report["requirements"]}
    # Met offline; their future API halves are pending sandbox access in the protocol's scenarios.
    assert {requirements[r] for r in ("MAP-TAXONOMY", "FAIL-DRIFT", "ATTR-OUTCOMES", "FAIL-ATTRIBUTION")} <= {
        "met", "pending"}
    html = (result.report_dir / "readiness.html").read_text()
    assert "Funnel from website leads to paid revenue" in html and "Titan Map drift" in html
    packet = (result.report_dir / "packets" / "riverside-growth-proof.md").read_text()
    assert "demo outcomes" in packet and "lead-rg-0011" in packet


@pytest.mark.slow
def test_gate_fails_on_inactive_job_type_the_map_uses(workspace):
    _edit(workspace.tenant("riverside-growth") / "exports/jpm/job-types.json",
          lambda b: next(r for r in b["data"] if r["id"] == 22001).update(active=False))
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails(MAP_SCENARIO, "FAIL-DRIFT", tenant="riverside-growth")
    finding = _finding(result, "riverside-growth", "drift-inactive")
    assert finding["runbook"] == "drift-conflict" and finding["subject"] == "job type 22001 Drain Cleaning"


@pytest.mark.slow
def test_gate_fails_on_zone_that_lost_a_zip(workspace):
    _edit(workspace.tenant("summit-multi-bu") / "exports/dispatch/zones.json",
          lambda b: b["data"][0]["zips"].pop(0))
    result = workspace.run(tenants=["summit-multi-bu"])
    result.assert_fails(MAP_SCENARIO, "MAP-TAXONOMY", tenant="summit-multi-bu")
    assert _finding(result, "summit-multi-bu", "drift-zone-lost-zip")["runbook"] == "drift-conflict"


@pytest.mark.slow
def test_gate_shows_renamed_campaign_without_failing_because_policy_says_minor(workspace):
    _edit(workspace.tenant("riverside-growth") / "exports/marketing/campaigns.json",
          lambda b: next(r for r in b["data"] if r["id"] == 24003).update(name="Organic Search"))
    result = workspace.run(tenants=["riverside-growth"])
    # The drift rule does not fail on it (other concerns, such as the handoff, judge renamed targets themselves).
    assert result.scenario(MAP_SCENARIO, "riverside-growth")["status"] == "passed", result.output[-3000:]
    finding = _finding(result, "riverside-growth", "drift-renamed")
    assert finding["severity"] == "minor" and finding["runbook"] == "drift-conflict"
    assert '"Website - Organic"' in finding["detail"] and '"Organic Search"' in finding["detail"]


@pytest.mark.slow
def test_gate_fails_when_policy_blocks_changes_since_the_snapshot(workspace):
    path = workspace.policies / "drift.yaml"
    path.write_text(path.read_text().replace("changed: info", "changed: blocker"))
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails(SNAPSHOT_SCENARIO, "FAIL-DRIFT", tenant="riverside-growth")


@pytest.mark.slow
def test_gate_shows_ambiguous_lead_and_fails_on_overpaid_invoice(workspace):
    folder = workspace.tenant("riverside-growth")
    _edit(folder / "exports/crm/export/bookings.json",
          lambda b: b["data"].append(dict(next(r for r in b["data"] if r["id"] == 27002), id=27902)))
    result = workspace.run(tenants=["riverside-growth"])
    assert result.scenario(ATTRIBUTION_SCENARIO, "riverside-growth")["status"] == "passed", result.output[-3000:]
    assert _finding(result, "riverside-growth", "attribution-ambiguous")["subject"] == "lead lead-rg-0002"

    _edit(folder / "exports/accounting/export/payments.json",
          lambda b: b["data"][1]["appliedTo"][0].update(appliedAmount="150.00"))
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails(ATTRIBUTION_SCENARIO, "FAIL-ATTRIBUTION", tenant="riverside-growth")
    assert _finding(result, "riverside-growth", "attribution-overpayment")["runbook"] == "attribution-mismatch"


@pytest.mark.slow
def test_gate_fails_when_policy_says_unmatched_leads_block(workspace):
    path = workspace.policies / "attribution.yaml"
    path.write_text(path.read_text().replace("unmatched: minor", "unmatched: blocker"))
    result = workspace.run(tenants=["summit-multi-bu"])
    result.assert_fails(ATTRIBUTION_SCENARIO, "ATTR-OUTCOMES", tenant="summit-multi-bu")


@pytest.mark.slow
def test_gate_fails_when_the_packet_would_call_figures_api_verified(workspace):
    _edit(workspace.tenant("summit-multi-bu") / "exports/marketing/campaigns.json",
          lambda b: b["data"][0].update(name="API-verified Leads"))
    result = workspace.run(tenants=["summit-multi-bu"])
    result.assert_fails(PACKET_SCENARIO, "ATTR-OUTCOMES", tenant="summit-multi-bu")


@pytest.mark.slow
def test_bad_export_fails_that_tenant_closed_and_others_still_report(workspace):
    page = workspace.tenant("riverside-growth") / JOBS_PAGE
    page.write_text(page.read_text()[:500])
    result = workspace.run(tenants=["riverside-growth", "summit-multi-bu"])
    assert result.exit_code != 0
    row = result.scenario(ATTRIBUTION_SCENARIO, "riverside-growth")
    assert row["status"] == "failed" and "0001.json" in row["reason"]
    assert result.scenario(ATTRIBUTION_SCENARIO, "summit-multi-bu")["status"] == "passed"
    assert "Traceback" not in result.output
    assert "could not be produced" in (result.report_dir / "packets/riverside-growth-proof.md").read_text()
