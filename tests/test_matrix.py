"""Connection readiness matrix: separation, minimal scopes, protocol alignment, published endpoints, mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.access import matrix
from readiness.core.features import parse_feature
from readiness.core.policy import PolicySet
from readiness.servicetitan import catalog
from readiness.servicetitan.catalog import KNOWN_ENDPOINTS, scope_of
from yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
SCOPES, MAPPING = "MATRIX-SCOPES", "MATRIX-MAPPING"
SEPARATED = "No scope or endpoint belongs to two API families"
UNUSED = "The matrix asks for no scope that none of its endpoints needs"
OUTSIDE = "No other policy names a scope that is not in the matrix"
PROTOCOL = "The sandbox protocol tests and the matrix ask for the same scopes"
PUBLISHED = "Every endpoint exists in ServiceTitan's published API with the scope the matrix gives it"
WRITES = "The product would write to a customer's ServiceTitan only where a use needs it"
MAPPED = "Every family names its minimum use, its module gate and its customer authorization owner"
PACKET = "The partner application packet maps every family and labels it Future"


def family(data: dict, family_id: str) -> dict:
    return next(f for f in data["families"] if f["id"] == family_id)


def load(workspace) -> matrix.Matrix:
    return matrix.Matrix(PolicySet.load(workspace.policies))


def kinds(found) -> set[str]:
    return {f.kind for f in found}


# --- the bundled matrix ---------------------------------------------------------------------------------

def test_bundled_matrix_passes_every_check():
    loaded = matrix.Matrix(PolicySet.load(ROOT / "policies"))
    protocol = loaded.policies["sandbox-protocol"]["tests"]
    for check in (matrix.separation, matrix.unused_scopes, matrix.scopes_outside_matrix, matrix.published_endpoints,
                  matrix.mapping_gaps, matrix.write_uses):
        assert check(loaded) == [], check.__name__
    assert matrix.protocol_alignment(loaded, protocol) == []


def test_matrix_separates_the_families_the_requirement_names():
    loaded = matrix.Matrix(PolicySet.load(ROOT / "policies"))
    ids = {f["id"] for f in loaded.families}
    assert {"crm", "jpm", "settings", "dispatch", "marketing", "pricebook", "memberships", "accounting"} <= ids
    prefixes = [f["scope_prefix"] for f in loaded.families]
    assert len(prefixes) == len(set(prefixes))


def test_writes_are_only_handoff_and_attribution():
    loaded = matrix.Matrix(PolicySet.load(ROOT / "policies"))
    writes = {s["scope"] for f in loaded.families for s in f["scopes"] if s["access"] == "write"}
    assert writes == {"tn.crm.bookings:w", "tn.crm.leads:w", "tn.mads.webbookingattributions:w",
                      "tn.mads.webleadformattributions:w", "tn.mads.jobattributions:w"}


def test_the_matrix_lists_the_lead_form_and_the_attribution_read_back_under_their_families():
    loaded = matrix.Matrix(PolicySet.load(ROOT / "policies"))
    endpoints = {(e["method"], e["path"]): f["id"] for f in loaded.families for e in f["endpoints"]}
    assert endpoints[("POST", catalog.SUBMIT_LEAD_FORM.template)] == "crm"
    assert ("POST", catalog.CREATE_LEAD.template) not in endpoints  # leads needs what a website cannot know
    for operation in (catalog.ATTRIBUTED_LEADS, catalog.JOB_ATTRIBUTION, catalog.WEB_LEAD_FORM_ATTRIBUTION):
        assert endpoints[(operation.method, operation.template)] == "marketing-ads"


def test_known_endpoints_are_tenant_paths_with_scopes():
    assert len(KNOWN_ENDPOINTS) < 300
    for method, path, scope, source in KNOWN_ENDPOINTS:
        assert path.split("/")[2:4] == ["v2", "tenant"] and catalog.SCOPE_PATTERN.fullmatch(scope) and source
    assert scope_of("get", "/jpm/v2/tenant/{tenant}/job-types") == "tn.jpm.jobtypes:r"
    assert scope_of("GET", "/jpm/v2/tenant/{tenant}/no-such-thing") is None


# --- each check, planted violation, library level (fast) ------------------------------------------------

def test_scope_in_two_families_is_found(workspace):
    edit_yaml(workspace.policies / "connection-matrix.yaml",
              lambda d: family(d, "settings")["scopes"].append(dict(family(d, "crm")["scopes"][0])))
    found = matrix.separation(load(workspace))
    assert "matrix-scope-in-two-families" in kinds(found)
    assert any("tn.crm.bookings:r" in f.detail and "connection-matrix.yaml:" in f.subject for f in found)


def test_endpoint_in_two_families_and_foreign_prefix_are_found(workspace):
    def plant(d):
        family(d, "dispatch")["endpoints"].append(dict(family(d, "settings")["endpoints"][0]))
    edit_yaml(workspace.policies / "connection-matrix.yaml", plant)
    assert {"matrix-endpoint-in-two-families", "matrix-scope-outside-family"} <= kinds(matrix.separation(load(workspace)))


def test_scope_with_no_endpoint_is_unused(workspace):
    edit_yaml(workspace.policies / "connection-matrix.yaml", lambda d: family(d, "crm")["scopes"].append(
        {"scope": "tn.crm.customers:r", "access": "read", "use": "Read customers."}))
    found = matrix.unused_scopes(load(workspace))
    assert [f.detail for f in found] == ["tn.crm.customers:r is requested but no endpoint of crm needs it"]


def test_unpublished_endpoint_and_wrong_scope_are_found(workspace):
    def plant(d):
        family(d, "jpm")["endpoints"].append(
            {"method": "GET", "path": "/jpm/v2/tenant/{tenant}/job-kinds", "scope": "tn.jpm.jobtypes:r"})
        family(d, "settings")["endpoints"][0]["scope"] = "tn.stt.businessunits:w"
    edit_yaml(workspace.policies / "connection-matrix.yaml", plant)
    assert kinds(matrix.published_endpoints(load(workspace))) == {
        "matrix-endpoint-unpublished", "matrix-endpoint-scope-mismatch"}


def test_write_scope_without_write_use_is_found(workspace):
    def plant(d):
        family(d, "jpm")["scopes"][0].update(scope="tn.jpm.jobtypes:w", access="write", purpose="import")
    edit_yaml(workspace.policies / "connection-matrix.yaml", plant)
    found = matrix.write_uses(load(workspace))
    assert len(found) == 1 and "without a write use" in found[0].detail


@pytest.mark.parametrize("scope, access, purpose, words", [
    ("tn.jpm.jobtypes:w", "read", None, "declared as read access"),
    ("tn.jpm.jobtypes:r", "read", "booking-handoff", "read-only but claims"),
])
def test_access_must_match_the_scope(workspace, scope, access, purpose, words):
    def plant(d):
        entry = family(d, "jpm")["scopes"][0]
        entry.update(scope=scope, access=access)
        if purpose:
            entry["purpose"] = purpose
    edit_yaml(workspace.policies / "connection-matrix.yaml", plant)
    assert words in matrix.write_uses(load(workspace))[0].detail


@pytest.mark.parametrize("key", ["authorization_owner", "minimum_use", "module_gate"])
def test_family_missing_its_mapping_is_found(workspace, key):
    edit_yaml(workspace.policies / "connection-matrix.yaml", lambda d: family(d, "accounting").pop(key))
    found = matrix.mapping_gaps(load(workspace))
    assert found and all(f.kind == "matrix-mapping-missing" and "accounting" in f.detail for f in found)


def test_protocol_alignment_both_ways():
    loaded = matrix.Matrix(PolicySet.load(ROOT / "policies"))
    every = sorted(loaded.scopes())
    assert matrix.protocol_alignment(loaded, [{"id": "TOKEN-01"}]) == []  # no scopes named yet: nothing to compare
    assert matrix.protocol_alignment(loaded, [{"id": "ALL-01", "scopes": every}]) == []
    missing = matrix.protocol_alignment(loaded, [{"id": "X-01", "scopes": every + ["tn.crm.customers:r"]}])
    assert [f.kind for f in missing] == ["matrix-protocol-scope-missing"]
    unused = matrix.protocol_alignment(loaded, [{"id": "IMPORT-01", "scopes": ["tn.jpm.jobtypes:r"]}])
    assert kinds(unused) == {"matrix-scope-not-in-protocol"} and len(unused) == len(every) - 1


def test_scope_named_in_another_policy_is_found(workspace):
    edit_yaml(workspace.policies / "sandbox-protocol.yaml", lambda d: d["tests"].append({
        "id": "CUSTOMERS-01", "title": "Customers", "proves": "Reads customers with tn.crm.customers:r.",
        "family": "crm", "scopes": ["tn.crm.customers:r"], "evidence": ["transcript"],
        "owner": "Integration engineer", "unblock": "Sandbox access."}))
    found = matrix.scopes_outside_matrix(load(workspace))
    assert {f.subject.split(":")[0] for f in found} == {"sandbox-protocol.yaml"} and len(found) == 2


# --- the gate fails naming the scenario and requirement ------------------------------------------------

def _plant_protocol_test(scopes):
    def plant(d):
        d["tests"].append({"id": "PLANTED-01", "title": "Planted", "proves": "A planted protocol test.",
                           "family": "crm", "scopes": scopes, "evidence": ["transcript"],
                           "owner": "Integration engineer", "unblock": "Sandbox access."})
    return plant


GATE_CASES = {
    "scope-in-two-families": (
        "connection-matrix.yaml",
        lambda d: family(d, "settings")["scopes"].append(dict(family(d, "crm")["scopes"][1])),
        SEPARATED, SCOPES),
    "scope-of-another-module": (
        "connection-matrix.yaml",
        lambda d: family(d, "crm")["scopes"].append({"scope": "tn.jpm.jobs:r", "access": "read", "use": "x"}),
        SEPARATED, SCOPES),
    "unused-scope": (
        "connection-matrix.yaml",
        lambda d: family(d, "crm")["scopes"].append({"scope": "tn.crm.customers:r", "access": "read", "use": "x"}),
        UNUSED, SCOPES),
    "protocol-needs-scope-not-in-matrix": (
        "sandbox-protocol.yaml", _plant_protocol_test(["tn.crm.customers:r"]), PROTOCOL, SCOPES),
    "protocol-scope-named-outside-matrix": (
        "sandbox-protocol.yaml", _plant_protocol_test(["tn.crm.customers:r"]), OUTSIDE, SCOPES),
    "matrix-scope-no-protocol-test-needs": (
        "connection-matrix.yaml", lambda d: (
            family(d, "crm")["endpoints"].append(
                {"method": "GET", "path": "/crm/v2/tenant/{tenant}/export/customers", "scope": "tn.crm.customers:r"}),
            family(d, "crm")["scopes"].append({"scope": "tn.crm.customers:r", "access": "read", "use": "x"})),
        PROTOCOL, SCOPES),
    "unpublished-endpoint": (
        "connection-matrix.yaml",
        lambda d: family(d, "dispatch")["endpoints"].append(
            {"method": "GET", "path": "/dispatch/v2/tenant/{tenant}/service-areas", "scope": "tn.dis.zones:r"}),
        PUBLISHED, SCOPES),
    "write-scope-without-write-use": (
        "connection-matrix.yaml",
        lambda d: family(d, "crm")["scopes"][1].pop("purpose"),
        WRITES, SCOPES),
    "family-missing-owner": (
        "connection-matrix.yaml", lambda d: family(d, "memberships").pop("authorization_owner"), MAPPED, MAPPING),
    "packet-missing-owner": (
        "connection-matrix.yaml", lambda d: family(d, "memberships").update(authorization_owner=""), PACKET, MAPPING),
    "packet-forbidden-claim": (
        "connection-matrix.yaml",
        lambda d: family(d, "dispatch").update(minimum_use="Our approved ServiceTitan integration reads zones."),
        PACKET, MAPPING),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(GATE_CASES))
def test_gate_fails_on_planted_matrix_violation(workspace, case):
    policy, plant, scenario, requirement = GATE_CASES[case]
    edit_yaml(workspace.policies / policy, plant)
    result = workspace.run(tenants=["comfort-launch"])
    row = result.assert_fails(scenario, requirement)
    assert row["findings"] or row["reason"]


@pytest.mark.slow
def test_protocol_covering_every_matrix_scope_passes(workspace):
    loaded = load(workspace)
    edit_yaml(workspace.policies / "sandbox-protocol.yaml", _plant_protocol_test(sorted(loaded.scopes())))
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]
    assert result.scenario(PROTOCOL)["status"] == "passed"


@pytest.mark.slow
def test_report_carries_the_matrix_grid_and_links_the_packets(workspace):
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]
    section = result.report["product"]["sections"]["matrix"]
    assert [row["family"] for row in section["families"]][:2] == ["crm", "jpm"]
    html = (result.report_dir / "readiness.html").read_text()
    assert 'id="connection-matrix"' in html and 'href="packets/partner-application.md"' in html
    assert 'href="packets/access-checklist-comfort-launch.md"' in html
    assert (result.report_dir / "packets" / "partner-application.md").is_file()


def test_the_lead_form_decision_holds_and_each_way_of_breaking_it_is_named(tmp_path):
    import shutil

    policies = PolicySet.load(ROOT / "policies")
    tests = [t["id"] for t in policies["sandbox-protocol"]["tests"]]
    assert matrix.endpoint_decisions(matrix.Matrix(policies), policies["envelopes"], tests) == []
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    edit_yaml(folder / "connection-matrix.yaml", lambda d: d["families"][0]["endpoints"].__setitem__(
        3, {"method": "POST", "path": "/crm/v2/tenant/{tenant}/leads", "scope": "tn.crm.leads:w"}))
    edit_yaml(folder / "envelopes.yaml", lambda d: d["lead_form"]["decision"].update(confirmed_by="LEAD-99"))
    changed = PolicySet.load(folder)
    details = [f.detail for f in matrix.endpoint_decisions(matrix.Matrix(changed), changed["envelopes"], tests)]
    assert details == ["POST /crm/v2/tenant/{tenant}/leads/form is chosen but the connection matrix does not list it",
                       "POST /crm/v2/tenant/{tenant}/leads was decided against but the connection matrix lists it",
                       "'LEAD-99' is not a sandbox protocol test"]


def test_a_decision_no_protocol_test_confirms_fails_the_gate(workspace):
    edit_yaml(workspace.policies / "envelopes.yaml", lambda d: d["lead_form"]["decision"].update(confirmed_by="LEAD-99"))
    result = workspace.run(tenants=["comfort-launch"])
    scenario = next(s.name for s in parse_feature(ROOT / "features" / "connection-matrix.feature")[1]
                    if any("endpoint decision" in step.text for step in s.steps))
    row = result.assert_fails(scenario, "MATRIX-SCOPES")
    assert "envelopes.yaml" in row["reason"] and "LEAD-99" in row["reason"]
