"""Per-tenant eligibility, its routing to the disconnect runbook, and the access checklist."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.access import matrix
from readiness.report import access_packets
from readiness.core.policy import PolicySet
from readiness.core.tenants import discover
from yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
POLICIES = PolicySet.load(ROOT / "policies")
MATRIX = matrix.Matrix(POLICIES)
ROUTED = "A family the package uses but cannot reach is routed to the disconnect runbook"
GRANTS = "The customer has granted no scope the product does not ask for"
OUTCOME = "Every API family gets one eligibility outcome for the customer"
CHECKLIST = "The customer's access checklist names the admin gate, module gates, owners and scopes"


def outcomes(slug: str) -> dict[str, str]:
    tenant = next(t for t in discover(ROOT / "fixtures" / "tenants") if t.slug == slug)
    return {r.family: r.outcome for r in matrix.eligibility(MATRIX, tenant.profile)}


def test_bundled_tenants_exercise_every_outcome():
    """All but a new app version awaiting acceptance: no bundled tenant is mid-upgrade (see the test below)."""
    seen = {outcome for t in discover(ROOT / "fixtures" / "tenants") for outcome in outcomes(t.slug).values()}
    assert seen == set(matrix.OUTCOMES) - {matrix.AWAITING_ACCEPTANCE}


def test_a_scope_of_an_unaccepted_app_version_blocks_only_its_family_and_the_checklist_lists_it():
    tenant = next(t for t in discover(ROOT / "fixtures" / "tenants") if t.slug == "lakeside-connected")
    connection = tenant.profile["connection"]
    pending = {**tenant.profile, "connection": {
        **connection, "granted_scopes": [s for s in connection["granted_scopes"] if s != "tn.crm.leads:w"],
        "pending_scopes": ["tn.crm.leads:w"]}}
    before = {r.family: r.outcome for r in matrix.eligibility(MATRIX, tenant.profile)}
    after = {r.family: r for r in matrix.eligibility(MATRIX, pending)}
    assert after["crm"].outcome == matrix.AWAITING_ACCEPTANCE and after["crm"].pending_scopes == ("tn.crm.leads:w",)
    assert {f: r.outcome for f, r in after.items() if f != "crm"} == {f: o for f, o in before.items() if f != "crm"}
    name, text = access_packets.render_checklist(POLICIES, tenant.slug, pending)
    assert access_packets.unlisted_pending_acceptance(text, {"tn.crm.leads:w"}) == []
    assert access_packets.unlabelled_api_lines(text) == []
    plain = access_packets.render_checklist(POLICIES, tenant.slug, tenant.profile)[1]
    assert access_packets.unlisted_pending_acceptance(plain, {"tn.crm.leads:w"}) == ["tn.crm.leads:w"]
    missing = {**pending, "connection": {**pending["connection"], "pending_scopes": []}}
    crm = next(r for r in matrix.eligibility(MATRIX, missing) if r.family == "crm")
    assert crm.outcome == matrix.SCOPE_NOT_GRANTED  # not granted and not pending is a plain missing scope


def test_bundled_outcomes_per_tenant():
    assert outcomes("summit-multi-bu")["memberships"] == matrix.MODULE_NOT_PURCHASED
    assert outcomes("summit-multi-bu")["accounting"] == matrix.NO_AUTHORIZATION_OWNER
    assert set(outcomes("riverside-growth").values()) == {matrix.SCOPE_NOT_GRANTED}
    lakeside = outcomes("lakeside-connected")
    assert lakeside["crm"] == lakeside["dispatch"] == matrix.ELIGIBLE
    assert lakeside["pricebook"] == matrix.AUTHORIZATION_REVOKED


def _profile(**changes):
    profile = matrix.example_profile(MATRIX, "crm", "launch", module_purchased=True, has_owner=True,
                                     status="connected", scopes_granted=True)
    profile.update(changes)
    return profile


def _crm(profile):
    return next(r for r in matrix.eligibility(MATRIX, profile) if r.family == "crm")


def test_first_failing_gate_decides_the_reason():
    assert _crm(_profile()).outcome == matrix.ELIGIBLE
    assert _crm(_profile(purchased_modules=[], authorization_owners=[])).outcome == matrix.MODULE_NOT_PURCHASED
    assert _crm(_profile(authorization_owners=[])).outcome == matrix.NO_AUTHORIZATION_OWNER
    expired = _profile(connection={"status": "connected", "granted_scopes": ["tn.crm.bookings:r", "tn.crm.bookings:w"],
                                   "expired_scopes": ["tn.crm.bookings:w"]})
    assert _crm(expired).outcome == matrix.AUTHORIZATION_REVOKED
    crm_scopes = MATRIX.family_scopes(MATRIX.family("crm"))
    partial = _crm(_profile(connection={"status": "connected", "granted_scopes": crm_scopes[:1]}))
    assert partial.outcome == matrix.SCOPE_NOT_GRANTED and partial.missing_scopes == tuple(crm_scopes[1:])
    row = partial.to_dict()
    assert row["gates"]["scopes"] == {"state": "blocked", "words": "not granted: " + ", ".join(crm_scopes[1:])}
    assert row["gates"]["module"]["state"] == "met"


def test_findings_only_for_families_the_package_uses_with_severity_by_stake():
    profile = _profile(connection={"status": "revoked", "granted_scopes": []})
    results = matrix.eligibility(MATRIX, profile)
    found = matrix.eligibility_findings(results, profile, "demo", api_required=[])
    assert {f.subject.split()[-1] for f in found} == {f["id"] for f in MATRIX.families_for("launch")}
    assert {f.severity for f in found} == {"major"} and {f.runbook for f in found} == {"disconnect"}
    offline = {**profile, "connection": {"status": "not-connected"}}
    assert {f.severity for f in matrix.eligibility_findings(results, offline, "demo", [])} == {"info"}
    required = matrix.eligibility_findings(results, profile, "demo", ["crm"])
    assert [f.subject for f in required if f.severity == "blocker"] == ["demo crm"]


def test_tenant_consistency_flags_unrequested_scopes_and_unknown_modules():
    profile = _profile(purchased_modules=["crm", "telematics"],
                       authorization_owners=[{"role": "Owner", "authorizes": ["crm", "payroll"]}],
                       connection={"status": "connected", "granted_scopes": ["tn.crm.customers:r"]})
    found = matrix.tenant_consistency(MATRIX, profile, "demo")
    assert sorted(f.kind for f in found) == [
        "eligibility-unknown-module", "eligibility-unknown-module", "eligibility-unrequested-scope"]


def test_checklists_label_api_items_future_and_name_every_gate():
    tenants = discover(ROOT / "fixtures" / "tenants")
    documents = access_packets.render_checklists(POLICIES, tenants)
    assert sorted(documents) == [access_packets.checklist_name(t.slug) for t in tenants]
    for tenant in tenants:
        text = documents[access_packets.checklist_name(tenant.slug)]
        assert access_packets.unlabelled_api_lines(text) == []
        assert access_packets.unmapped_families(text, MATRIX.families_for(tenant.profile["package"])) == []
        assert "Manage API Application Access" in text


def test_unlabelled_api_lines():
    text = "Future scope `tn.crm.bookings:w`\nWe post to /crm/v2/tenant/1/leads\nTenant: `lakeside-connected`.\n" \
           "Nothing is connected today.\nThe API syncs jobs."
    assert access_packets.unlabelled_api_lines(text) == ["We post to /crm/v2/tenant/1/leads", "The API syncs jobs."]


def test_checklist_of_a_malformed_tenant_is_skipped_not_crashed(workspace):
    (workspace.tenant("comfort-launch") / "tenant.yaml").write_text("name: [")
    documents = access_packets.render_checklists(POLICIES, discover(workspace.tenants))
    assert access_packets.checklist_name("comfort-launch") not in documents
    assert access_packets.checklist_name("riverside-growth") in documents


def test_a_gap_in_the_matrix_renders_as_not_stated(workspace):
    edit_yaml(workspace.policies / "connection-matrix.yaml",
              lambda d: d["families"][0].pop("module_gate"))
    policies = PolicySet.load(workspace.policies)
    text = access_packets.render_partner_packet(policies)[access_packets.PARTNER_PACKET]
    assert access_packets.NOT_STATED in text
    assert access_packets.unmapped_families(text, matrix.Matrix(policies).families) == ["crm: module gate"]


# --- through the gate -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_revoked_connection_is_routed_and_the_gate_stays_green(workspace):
    edit_yaml(workspace.tenant("lakeside-connected") / "tenant.yaml",
              lambda d: d["connection"].update(status="revoked"))
    result = workspace.run(tenants=["lakeside-connected"])
    assert result.exit_code == 0, result.output[-3000:]
    row = result.scenario(ROUTED, "lakeside-connected")
    assert row["status"] == "passed"
    assert {(f["kind"], f["runbook"], f["severity"]) for f in row["findings"]} == {
        ("eligibility-blocked", "disconnect", "major")}
    assert len(row["findings"]) == len(MATRIX.families_for("launch"))
    grid = result.report["tenants"][0]["sections"]["eligibility"]
    assert {f["outcome"] for f in grid["families"] if f["used_by_package"]} == {matrix.AUTHORIZATION_REVOKED}


GATE_CASES = {
    "family-the-package-needs-is-blocked": (
        "packages.yaml", lambda d: d["packages"]["launch"].update(api_required=["pricebook"]),
        ROUTED, "FAIL-AUTH"),
    "blocked-family-routed-to-missing-runbook": (
        "runbooks.yaml", lambda d: d.update(runbooks=[r for r in d["runbooks"] if r["id"] != "disconnect"]),
        ROUTED, "FAIL-AUTH"),
    "example-family-without-module-gate": (
        "connection-matrix.yaml", lambda d: d["families"][0].pop("module_gate"),
        "Eligibility outcomes for the CRM family of a Launch customer", "ACCESS-GATES"),
    "checklist-missing-module-gate": (
        "connection-matrix.yaml", lambda d: d["families"][0]["module_gate"].pop("name"),
        CHECKLIST, "ACCESS-GATES"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(GATE_CASES))
def test_gate_fails_on_planted_policy_violation(workspace, case):
    policy, plant, scenario, requirement = GATE_CASES[case]
    edit_yaml(workspace.policies / policy, plant)
    result = workspace.run(tenants=["lakeside-connected"])
    tenant = None if scenario.startswith("Eligibility outcomes") else "lakeside-connected"
    result.assert_fails(scenario, requirement, tenant=tenant)


TENANT_CASES = {
    "unrequested-scope-granted": (
        lambda d: d["connection"]["granted_scopes"].append("tn.crm.customers:r"), GRANTS, "FAIL-AUTH"),
    "unknown-module": (lambda d: d["purchased_modules"].append("telematics"), OUTCOME, "FAIL-AUTH"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(TENANT_CASES))
def test_gate_fails_on_planted_tenant_violation(workspace, case):
    plant, scenario, requirement = TENANT_CASES[case]
    edit_yaml(workspace.tenant("lakeside-connected") / "tenant.yaml", plant)
    result = workspace.run(tenants=["lakeside-connected"])
    row = result.assert_fails(scenario, requirement, tenant="lakeside-connected")
    assert row["findings"] and all(f["runbook"] == "disconnect" for f in row["findings"])
