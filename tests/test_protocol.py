"""The sandbox protocol against the simulator, in-process: every test passes with the reference client and
the checks fail for deliberately wrong clients."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from readiness import handoff, protocol
from readiness.errors import OptionError
from readiness.policy import PolicySet
from readiness.tenants import FixtureTenant
from tests.protocol_clients import BAD_CLIENTS

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
])
def test_a_wrong_client_fails_the_protocol_check(monkeypatch, client, test_id, check):
    monkeypatch.setattr(protocol, "CLIENT_FACTORY", BAD_CLIENTS[client])
    verdict = run(test_id).verdict(check)
    assert not verdict.passed
    assert "cs1." not in verdict.detail and "simtok." not in verdict.detail


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


def test_booking_envelope_maps_through_the_titan_map():
    tenant = next(t for t in TENANTS if t.slug == "riverside-growth")
    lead = tenant.submissions()[0]
    envelope = protocol.booking_envelope(lead, tenant.titan_map, handoff.external_id(900000202, lead["lead_id"]))
    assert envelope["externalId"] == "web-08b4417369de9ab5"  # the id the office wrote on the booking
    assert envelope["jobTypeId"] == 22001 and envelope["businessUnitId"] == 21001 and envelope["campaignId"] == 24001


def test_drift_reports_missing_inactive_and_renamed_ids():
    titan_map = {"services": [{"job_type": {"id": 1, "name": "A"}}, {"job_type": {"id": 2, "name": "B"}},
                              {"job_type": {"id": 3, "name": "C"}}]}
    taxonomy = {"jpm/job-types": [{"id": 2, "name": "B", "active": False}, {"id": 3, "name": "C2", "active": True}]}
    kinds = sorted((f.kind, f.runbook) for f in protocol.drift(titan_map, taxonomy))
    assert kinds == [("drift-inactive", "drift-conflict"), ("drift-missing", "drift-conflict"),
                     ("drift-renamed", "drift-conflict")]
