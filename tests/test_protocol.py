"""The sandbox protocol against the simulator, in-process: every test passes with the reference client and
the checks fail for deliberately wrong clients."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from readiness.mapping import attribution, drift
from readiness.core import exportfeed
from readiness.sync import handoff
from readiness.sandbox import protocol
from readiness.report import templates
from readiness.sandbox import simulator as sim
from readiness.core.errors import OptionError, PolicyError, TenantDataError
from readiness.core.policy import PolicySet
from readiness.core.tenants import ApiTenant, FixtureTenant
from tests.protocol_clients import BAD_CLIENTS
from tests.yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOG = yaml.safe_load((ROOT / "policies" / "sandbox-protocol.yaml").read_text())
TESTS = {t["id"]: t for t in CATALOG["tests"]}
CONTEXT = protocol.context(PolicySet.load(ROOT / "policies"))
TENANTS = [FixtureTenant(p) for p in sorted((ROOT / "fixtures" / "tenants").iterdir()) if (p / "tenant.yaml").exists()]


def run(test_id: str, tenant: str | None = None, **options) -> protocol.Outcome:
    tenants = [t for t in TENANTS if t.slug == tenant] if tenant else TENANTS
    session = protocol.simulator_session(protocol.pick_simulator_tenant(tenants), "unit-test-run", **options)
    return protocol.run(session, TESTS[test_id], CONTEXT)


def failed(outcome: protocol.Outcome) -> dict:
    return {k: c.detail for k, c in outcome.checks.items() if not c.passed}


@pytest.mark.parametrize("test_id", sorted(TESTS))
def test_every_protocol_test_passes_with_the_reference_client(test_id):
    outcome = run(test_id)
    assert outcome.error is None, outcome.error
    assert not failed(outcome), failed(outcome)
    assert "no-leak" in outcome.checks and len(outcome.checks) >= 2


def test_catalog_and_runners_match_one_to_one():
    assert set(TESTS) == set(protocol.RUNNERS)


@pytest.mark.parametrize("slug", [t.slug for t in TENANTS])
def test_the_protocol_passes_on_every_bundled_tenant(slug):
    """Launch tenants without marketing or accounting, a connected tenant with an expired scope, several BUs."""
    for test_id in sorted(TESTS):
        outcome = run(test_id, tenant=slug)
        assert outcome.error is None and not failed(outcome), (test_id, outcome.error, failed(outcome))


def test_an_expired_scope_of_a_connected_tenant_is_refused_and_routed():
    outcome = run("IMPORT-01", tenant="lakeside-connected")
    refused = [f for f in outcome.findings if f.kind == "family-ineligible"]
    assert [(f.subject, f.runbook) for f in refused] == [("pricebook/services", "disconnect")]


@pytest.mark.parametrize("client, test_id, check", [
    ("ignores-retry-after", "RETRY-01", "retry-after-honoured"),
    ("reposts-without-lookup", "BOOK-01", "booking-idempotent"),
    ("reposts-without-lookup", "BOOK-01", "lookup-before-repost"),
    ("writes-during-import", "IMPORT-01", "read-only"),
    ("logs-token", "TOKEN-01", "no-leak"),
    ("logs-token", "SECRET-01", "no-leak"),
    ("posts-to-leads", "LEAD-01", "lead-form-used"),
    ("sends-visitor-text", "LEAD-01", "lead-minimal"),
    ("never-reads-attributed-leads", "ATTR-03", "attributions-listed"),
    ("stops-after-one-refusal", "SCOPE-02", "other-families-work"),
    ("forgets-active-any", "IMPORT-01", "all-records-requested"),
    ("forgets-active-any", "IMPORT-01", "inactive-included"),
])
def test_a_wrong_client_fails_the_protocol_check(monkeypatch, client, test_id, check):
    monkeypatch.setattr(protocol, "CLIENT_FACTORY", BAD_CLIENTS[client])
    outcome = run(test_id)
    verdict = outcome.verdict(check)
    assert not verdict.passed and outcome.error is None, outcome.error  # the check fails, named, not a crash
    assert verdict.detail and "cs1." not in verdict.detail and "simtok." not in verdict.detail


def test_a_lead_form_with_the_visitors_message_as_summary_is_not_minimal(monkeypatch):
    """The product itself (not only the client) must not put the visitor's words in the lead form."""
    real = handoff.lead_form_envelope
    monkeypatch.setattr(handoff, "lead_form_envelope",
                        lambda submission, summary, offline: real(submission, submission.get("message", summary),
                                                                  offline))
    verdict = run("LEAD-01").verdict("lead-minimal")
    assert not verdict.passed and "the visitor's message is in the envelope" in verdict.detail


def test_lead_01_chains_the_returned_lead_id_into_the_attribution():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    session = protocol.simulator_session(tenant, "unit-test-run")
    outcome = protocol.run(session, TESTS["LEAD-01"], CONTEXT)
    assert not failed(outcome), failed(outcome)
    [form] = [p for p in session.simulator.posted if p["path"].endswith("/leads/form")]
    [posted] = [p for p in session.simulator.posted if p["path"].endswith("/web-lead-form-attributions")]
    assert set(form["body"]) <= set(CONTEXT["envelopes"]["lead_form"]["fields"])
    assert posted["body"]["leadId"] == session.simulator.leads[-1]["id"]
    assert set(posted["body"]["webSessionData"]) >= {"landingPageUrl", "referrerUrl"}
    assert "?" not in posted["body"]["webSessionData"]["landingPageUrl"]  # no query string leaves the website


def test_attr_03_reports_each_unconfirmed_post_for_the_attribution_mismatch_runbook(monkeypatch):
    monkeypatch.setattr(protocol, "CLIENT_FACTORY", BAD_CLIENTS["never-reads-attributed-leads"])
    outcome = run("ATTR-03")
    missing = [f for f in outcome.findings if f.kind == "attribution-not-confirmed"]
    assert missing and {f.runbook for f in missing} == {"attribution-mismatch"}
    assert outcome.facts["attributed_leads"]["missing"] == len(missing) == outcome.facts["attributed_leads"]["posted"]


def test_attr_03_lists_every_lead_type_the_growth_tenant_posts():
    outcome = run("ATTR-03", tenant="riverside-growth")
    assert not failed(outcome) and "ManualJob" in outcome.verdict("attributions-listed").detail


def test_scope_02_routes_only_the_new_scopes_family_and_lists_it_in_the_checklist():
    outcome = run("SCOPE-02")
    assert not failed(outcome), failed(outcome)
    after = outcome.facts["eligibility"]["after"]
    assert after["marketing-ads"] == "blocked: awaiting the tenant administrator's acceptance of the new app version"
    assert all(state == "eligible" for family, state in after.items() if family != "marketing-ads")
    [finding] = outcome.findings
    assert (finding.kind, finding.subject, finding.runbook) == ("family-ineligible", "marketing-ads", "disconnect")
    assert "awaiting the tenant administrator's acceptance of the new app version" in finding.detail


def test_scope_02_against_the_integration_environment_names_the_operator_step():
    env = {"ST_CLIENT_ID": "cid.fake", "ST_CLIENT_SECRET": "cs1.fake", "ST_APP_KEY": "ak1.fake",
           "ST_TENANT_ID": "900000202", "ST_AUTH_URL": "http://127.0.0.1:9", "ST_API_URL": "http://127.0.0.1:9"}
    session = protocol.open_session("integration", TESTS["SCOPE-02"], tenants=TENANTS, environ=env)
    session.client = lambda *a, **k: pytest.fail("no call before the operator step")  # the step comes first
    outcome = protocol.run(session, TESTS["SCOPE-02"], CONTEXT)
    assert "operator step" in outcome.error and "new app version" in outcome.error
    assert "tn.mads.attributedleads:r" in outcome.error and not outcome.verdict("awaits-acceptance").passed


def test_outcome_of_a_stopped_test_fails_every_unrecorded_check():
    outcome = protocol.Outcome("X-01", "simulator", error="boom")
    assert not outcome.verdict("read-only").passed and "boom" in outcome.verdict("read-only").detail
    with pytest.raises(KeyError):
        outcome.record("no-such-check", True)
    outcome.record("read-only", False, "first")
    outcome.record("read-only", True, "later")
    assert not outcome.verdict("read-only").passed


def test_integration_session_needs_every_credential_variable():
    with pytest.raises(OptionError) as caught:
        protocol.open_session("integration", TESTS["TOKEN-01"], tenants=TENANTS, environ={"ST_CLIENT_ID": "cid.x"})
    message = str(caught.value)
    assert "ST_CLIENT_SECRET" in message and "ST_APP_KEY" in message and "ST_TENANT_ID" in message
    assert "cid.x" not in message


def test_integration_session_refuses_production_hosts():
    env = {"ST_CLIENT_ID": "cid.fake", "ST_CLIENT_SECRET": "cs1.fake", "ST_APP_KEY": "ak1.fake",
           "ST_TENANT_ID": "900000202", "ST_API_URL": "https://api.servicetitan.io"}
    with pytest.raises(OptionError, match="production"):
        protocol.open_session("integration", TESTS["TOKEN-01"], environ=env)


def test_integration_mode_without_a_booking_provider_names_the_operator_step():
    env = {"ST_CLIENT_ID": "cid.fake", "ST_CLIENT_SECRET": "cs1.fake", "ST_APP_KEY": "ak1.fake",
           "ST_TENANT_ID": "900000202", "ST_AUTH_URL": "http://127.0.0.1:9", "ST_API_URL": "http://127.0.0.1:9"}
    session = protocol.open_session("integration", TESTS["BOOK-01"], tenants=TENANTS, environ=env)
    outcome = protocol.run(session, TESTS["BOOK-01"], CONTEXT)
    assert "ST_BOOKING_PROVIDER_ID" in outcome.error and not outcome.verdict("booking-created").passed


def test_offline_mode_opens_no_session():
    with pytest.raises(OptionError, match="no sandbox session"):
        protocol.open_session("off", TESTS["TOKEN-01"])


def test_leak_scan_names_file_and_kind_never_the_value(tmp_path):
    (tmp_path / "clean.json").write_text("{}")
    (tmp_path / "dirty.xml").write_text("<x>cs1.abcdefghijklmnop</x>")
    problems = protocol.scan_for_leaks(list(tmp_path.iterdir()), [("client secret", "cs1.abcdefghijklmnop")], tmp_path)
    assert problems == ["credential leak: dirty.xml contains the client secret of this run"]


def test_leak_markers_per_mode(monkeypatch):
    monkeypatch.setenv(protocol.SIMULATOR_RUN_VAR, "abc")
    labels = [label for label, _ in protocol.leak_markers("simulator")]
    assert "generated client secret" in labels and "simulator access token" in labels
    env = {"ST_CLIENT_ID": "cid.real-looking", "ST_CLIENT_SECRET": "cs1.x", "ST_APP_KEY": ""}
    assert [v for _, v in protocol.leak_markers("integration", env)] == ["cid.real-looking", "cs1.x"]
    assert protocol.leak_markers("off") == []


def test_transcript_is_redacted_and_hashed(tmp_path):
    outcome = run("BOOK-01")
    written = protocol.write_transcript(outcome, tmp_path)
    text = (tmp_path / written["path"]).read_text()
    assert len(written["sha256"]) == 64 and written["exchanges"] == len(outcome.transcript) > 0
    assert "Authorization" not in text and "cs1." not in text and "Jordan" not in text
    assert '"request_keys"' in text and "externalId" in text


# -- every body a protocol test posts is the product's own --------------------------------------------------------
PRODUCT_BUILDERS = ("booking_envelope", "lead_form_envelope", "attribution_body")


def spy_on_product_builders(monkeypatch) -> list[dict]:
    """Every body readiness.sync.handoff's envelope builders return, from now on."""
    built: list[dict] = []
    for name in PRODUCT_BUILDERS:
        def spy(*args, _real=getattr(handoff, name), **kwargs):
            body = _real(*args, **kwargs)
            if body is not None:
                built.append(json.loads(json.dumps(body)))
            return body
        monkeypatch.setattr(handoff, name, spy)
    return built


def bodies_not_built_by_the_product(received: list[dict], built: list[dict]) -> list[str]:
    """Bodies the simulator received that no product builder returned (compared as canonical JSON)."""
    made = {json.dumps(body, sort_keys=True) for body in built}
    return [f"{r['method']} {r['path']}: {sorted(r['body'])}" for r in received
            if json.dumps(r["body"], sort_keys=True) not in made]


def run_collecting_posts(test_id: str, tenant: str = "riverside-growth") -> tuple[protocol.Outcome, list[dict]]:
    session = protocol.simulator_session(next(t for t in TENANTS if t.slug == tenant), "unit-test-run")
    outcome = protocol.run(session, TESTS[test_id], CONTEXT)
    return outcome, session.simulator.posted


POSTING_TESTS = sorted(t for t, test in TESTS.items() if any(s.endswith(":w") for s in test.get("scopes", [])))


@pytest.mark.parametrize("test_id", POSTING_TESTS)
def test_every_body_a_protocol_test_posts_is_built_by_the_product(monkeypatch, test_id):
    built = spy_on_product_builders(monkeypatch)
    outcome, received = run_collecting_posts(test_id)
    assert not failed(outcome) and outcome.error is None, (outcome.error, failed(outcome))
    assert received, f"{test_id} posted nothing"
    assert not bodies_not_built_by_the_product(received, built)


def test_a_runner_that_builds_its_own_booking_body_is_caught(monkeypatch):
    built = spy_on_product_builders(monkeypatch)
    own = {"source": "Website", "name": "Protocol Test", "summary": "Website request", "isFirstTimeClient": True}
    monkeypatch.setattr(protocol, "product_booking",
                        lambda session, catalog, lead, test: {**own, "externalId": f"own-{test}"})
    _, received = run_collecting_posts("BOOK-01")
    caught = bodies_not_built_by_the_product(received, built)
    assert received and len(caught) == len(received)
    assert all(line.startswith("POST /crm/v2/tenant/900000202/booking-provider/") for line in caught)


def test_book_01_sends_the_handoff_envelope_of_a_real_fixture_lead_with_offers_email_and_priority():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    lead = next(s for s in tenant.submissions() if s.get("offer"))
    session = protocol.simulator_session(tenant, "unit-test-run")
    expected = handoff.prepare({**lead, "lead_id": f"{lead['lead_id']}:BOOK-01"}, tenant.profile["tenant_id"],
                               tenant.titan_map, [], CONTEXT["queue"].offline).envelope
    assert protocol.product_booking(session, CONTEXT, lead, "BOOK-01") == expected
    assert {"priority", "contacts"} <= set(expected) and any(c["type"] == "Email" for c in expected["contacts"])
    assert expected["externalId"] == protocol.protocol_external_id(session, lead["lead_id"], "BOOK-01")
    first = tenant.submissions()[0]
    outcome, received = run_collecting_posts("BOOK-01")
    sent = [r["body"] for r in received if r["path"].endswith("/bookings")]
    assert sent and all(body == protocol.product_booking(session, CONTEXT, first, "BOOK-01") for body in sent)


# -- the protocol uses the project's own policies and library ---------------------------------------------------
def copy_policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    return folder


def scope_test(data: dict) -> dict:
    return next(t for t in data["tests"] if t["id"] == protocol.SCOPE_TEST)


def test_each_family_probe_is_a_plain_get_endpoint_of_the_matrix_and_served_by_the_simulator():
    probes = CONTEXT["probes"]
    served = {(e.module, e.pattern, e.scope) for e in sim.ENDPOINTS if e.method == "GET"}
    assert probes and all((p.module, p.path, p.scope) in served for p in probes)
    families = {f["id"] for f in PolicySet.load(ROOT / "policies")["connection-matrix"]["families"]}
    assert {p.family for p in probes} == families - {"marketing-ads"}  # write-only: nothing to read
    assert sorted(p.scope for p in probes) == sorted(scope_test(CATALOG)["scopes"])


def test_removing_a_family_from_the_matrix_removes_its_probe(tmp_path):
    folder = copy_policies(tmp_path)
    edit_yaml(folder / "connection-matrix.yaml",
              lambda d: d.update(families=[f for f in d["families"] if f["id"] != "memberships"]))
    with pytest.raises(PolicyError) as caught:  # SCOPE-01 still names the family's scope
        protocol.family_probes(PolicySet.load(folder))
    message = str(caught.value)
    assert "sandbox-protocol.yaml:" in message and "tests[2].scopes" in message
    assert "not a family probe: tn.mem.membershiptypes:r" in message
    edit_yaml(folder / "sandbox-protocol.yaml",
              lambda d: scope_test(d)["scopes"].remove("tn.mem.membershiptypes:r"))
    probes = protocol.family_probes(PolicySet.load(folder))
    assert "memberships" not in {p.family for p in probes} and len(probes) == len(CONTEXT["probes"]) - 1


def test_adding_a_family_to_the_matrix_adds_it_to_the_scope_test(tmp_path):
    folder = copy_policies(tmp_path)
    leads = {"id": "crm-leads", "title": "CRM leads (read)", "api_module": "crm", "scope_prefix": "tn.crm",
             "packages": ["launch", "growth"], "minimum_use": "Read leads back.",
             "module_gate": {"module": "crm", "name": "CRM"}, "authorization_owner": "Business owner",
             "endpoints": [{"method": "GET", "path": "/crm/v2/tenant/{tenant}/leads", "scope": "tn.crm.leads:r"}],
             "scopes": [{"scope": "tn.crm.leads:r", "access": "read", "use": "Read leads back."}],
             "manual": "Not yet.", "future": "Lead read-back."}
    edit_yaml(folder / "connection-matrix.yaml", lambda d: d["families"].append(leads))
    with pytest.raises(PolicyError, match="missing tn.crm.leads:r"):
        protocol.family_probes(PolicySet.load(folder))
    edit_yaml(folder / "sandbox-protocol.yaml", lambda d: scope_test(d)["scopes"].append("tn.crm.leads:r"))
    context = protocol.context(PolicySet.load(folder))
    assert context["probes"][-1] == protocol.Probe("crm-leads", "crm", "leads", "tn.crm.leads:r", ("launch", "growth"))
    session = protocol.simulator_session(protocol.pick_simulator_tenant(TENANTS), "unit-test-run")
    outcome = protocol.run(session, TESTS["SCOPE-01"], context)
    assert not failed(outcome) and "9 families probed" in outcome.verdict("scope-enforced").detail
    assert outcome.facts["eligibility"]["crm-leads"] == "eligible"


@pytest.mark.slow
def test_a_scope_test_out_of_step_with_the_matrix_stops_the_gate(workspace):
    edit_yaml(workspace.policies / "sandbox-protocol.yaml",
              lambda d: scope_test(d)["scopes"].remove("tn.dis.zones:r"))
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "sandbox-protocol.yaml" in result.output and "missing tn.dis.zones:r" in result.output


def tenant_copy(tmp_path: Path, slug: str) -> FixtureTenant:
    shutil.copytree(ROOT / "fixtures" / "tenants" / slug, tmp_path / slug)
    return FixtureTenant(tmp_path / slug)


def run_on(tenant: FixtureTenant, test_id: str, change_served=None) -> protocol.Outcome:
    session = protocol.simulator_session(tenant, "unit-test-run")
    if change_served is not None:
        change_served(session.simulator.tenant.records)
    return protocol.run(session, TESTS[test_id], CONTEXT)


def deactivate_mapped_job_type(records: list[dict], job_type: int) -> None:
    next(r for r in records if r["id"] == job_type)["active"] = False


def tenant_with_inactive_mapped_job_type(tmp_path):
    """A copy of riverside-growth whose exported job types show the Titan Map's first job type deactivated."""
    tenant = tenant_copy(tmp_path, "riverside-growth")
    job_type = tenant.titan_map["services"][0]["job_type"]["id"]
    path = tenant.export_file("jpm/job-types")
    body = json.loads(path.read_text())
    deactivate_mapped_job_type(body["data"], job_type)
    path.write_text(json.dumps(body))
    return tenant, job_type


def test_import_finds_a_planted_drift_through_readiness_drift(tmp_path):
    tenant, job_type = tenant_with_inactive_mapped_job_type(tmp_path)
    outcome = run_on(tenant, "IMPORT-01")
    assert not failed(outcome), failed(outcome)
    inactive = [f for f in outcome.findings if f.kind == "drift-inactive"]
    assert [(f.subject.split()[:3], f.runbook) for f in inactive] == [(["job", "type", str(job_type)], "drift-conflict")]
    offline = drift.check(tenant, PolicySet.load(ROOT / "policies")).map_findings
    assert [(f.kind, f.subject, f.severity) for f in outcome.findings] == [(f.kind, f.subject, f.severity) for f in offline]


def test_import_fails_when_the_api_taxonomy_disagrees_with_the_exports():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    job_type = tenant.titan_map["services"][0]["job_type"]["id"]
    outcome = run_on(tenant, "IMPORT-01", lambda served: deactivate_mapped_job_type(served["jpm/job-types"], job_type))
    assert not outcome.verdict("drift-matches").passed
    assert "1 drift(s) via the API" in outcome.verdict("drift-matches").detail


def test_attribution_through_the_api_agrees_with_readiness_attribution():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    outcome = run_on(tenant, "ATTR-01")
    assert not failed(outcome), failed(outcome)
    offline = attribution.check(tenant, PolicySet.load(ROOT / "policies"))
    assert offline.findings and [f.to_dict() for f in outcome.findings] == [f.to_dict() for f in offline.findings]
    assert {f.runbook for f in outcome.findings} == {"attribution-mismatch"}
    revenue = {row["campaign"]: row["paid"] for row in offline.section["by_campaign"]}
    assert {name: row["paid"] for name, row in outcome.facts["revenue_by_campaign"].items()} == revenue


def test_attribution_fails_when_the_api_outcomes_disagree_with_the_exports():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    outcome = run_on(tenant, "ATTR-01", lambda served: served["accounting/export/payments"].pop())
    assert not outcome.verdict("attribution-linked").passed


def test_the_report_section_of_a_protocol_test_names_status_checks_findings_and_transcript(tmp_path):
    outcome = run("SCOPE-01")
    name, section = protocol.report_section(outcome, TESTS["SCOPE-01"], protocol.write_transcript(outcome, tmp_path))
    assert name == "sandbox-protocol-SCOPE-01" and section["status"] == "dry-run-passed"
    assert section["title"] == TESTS["SCOPE-01"]["title"]
    assert {row["check"] for row in section["checks"]} == set(outcome.checks)
    assert {f["runbook"] for f in section["findings"]} == {"disconnect"} and len(section["transcript"]["sha256"]) == 64
    stopped = protocol.Outcome("SCOPE-01", "integration", error="needs an operator step")
    assert protocol.report_section(stopped, TESTS["SCOPE-01"], {})[1]["status"] == "failed"


def test_section_templates_are_found_by_name_or_by_family():
    names = frozenset({"sections/drift.html.j2", "sections/sandbox-protocol.html.j2"})
    assert templates.section_template("drift", names) == "sections/drift.html.j2"
    assert templates.section_template("sandbox-protocol-TOKEN-01", names) == "sections/sandbox-protocol.html.j2"
    assert templates.section_template("sandbox-protocolish", names) is None
    assert templates.section_template("unknown", names) is None


def test_records_read_through_the_api_name_their_origin_in_errors():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    source = ApiTenant(tenant, {"jpm/export/jobs": [{"id": "not-a-number"}]}, "simulator API")
    with pytest.raises(TenantDataError, match="simulator API/crm/export/bookings"):
        attribution.attribute(source, CONTEXT["attribution"])
    with pytest.raises(TenantDataError, match="simulator API/jpm/job-types: not imported"):
        list(exportfeed.iter_records(source.exports, "jpm/job-types"))
    with pytest.raises(TenantDataError, match="simulator API/jpm/export/jobs"):
        list(drift._raw_by_id(source.exports, "jpm/export/jobs"))


def test_an_attribution_post_with_a_field_off_the_web_session_allow_list_is_not_minimal(monkeypatch):
    real = handoff.web_session_data
    monkeypatch.setattr(handoff, "web_session_data",
                        lambda submission: real(submission) and {**real(submission), "gbraid": "published-but-unused"})
    verdict = run("ATTR-02").verdict("attribution-posts-minimal")
    assert not verdict.passed and "gbraid" in verdict.detail


def test_an_import_without_active_any_misses_the_inactive_mapped_job_type(tmp_path, monkeypatch):
    """Why IMPORT-01 asks for active=Any: a list hides the deactivated job type, so its drift is never found."""
    tenant, job_type = tenant_with_inactive_mapped_job_type(tmp_path)
    monkeypatch.setattr(protocol, "CLIENT_FACTORY", BAD_CLIENTS["forgets-active-any"])
    outcome = run_on(tenant, "IMPORT-01")
    assert not outcome.verdict("all-records-requested").passed and not outcome.verdict("drift-matches").passed
    assert not [f for f in outcome.findings if f.kind == "drift-inactive"]
