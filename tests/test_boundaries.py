"""Data boundaries: envelopes, Titan Map, retention, export fields, consent, token writes; gate negatives."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from readiness.boundaries import data_boundaries
from readiness.core.tenants import FixtureTenant

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def envelopes() -> dict:
    return yaml.safe_load((ROOT / "policies/envelopes.yaml").read_text())


@pytest.fixture(scope="module")
def limits() -> dict:
    return yaml.safe_load((ROOT / "policies/data-boundaries.yaml").read_text())


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_envelope_names_the_extra_field_and_subfield(envelopes):
    lead = {"lead_id": "l1", "contact": {"name": "A", "ssn": "x"}, "favourite_colour": "blue"}
    found = data_boundaries.envelope_violations(lead, envelopes["lead"], envelopes, "lead l1", "lead")
    details = " ".join(f.detail for f in found)
    assert "'favourite_colour'" in details and "'contact.ssn'" in details


def test_queue_booking_is_checked_against_the_booking_envelope(envelopes):
    item = {"item_id": "q1", "booking": {"source": "Website", "name": "A", "email": "x"}}
    [finding] = data_boundaries.envelope_violations(item, envelopes["queue_item"], envelopes, "q1", "queue item")
    assert "'email' is outside the booking envelope" in finding.detail


def test_booking_envelope_shape(envelopes):
    assert data_boundaries.booking_envelope_shape(envelopes) == []
    extra = yaml.safe_load(yaml.safe_dump(envelopes))
    extra["booking"]["fields"]["email"] = {"purpose": "not a booking-create field"}
    del extra["booking"]["fields"]["externalId"]
    details = [f.detail for f in data_boundaries.booking_envelope_shape(extra)]
    assert any("'email' is not a field" in d for d in details)
    assert any("'externalId' is required" in d for d in details)


def test_retention_windows(limits, tmp_path):
    tenant = FixtureTenant(ROOT / "fixtures/tenants/riverside-growth")
    assert data_boundaries.export_retention(tenant, limits, date(2026, 12, 1)) == []
    [old] = data_boundaries.export_retention(tenant, limits, date(2028, 1, 1))
    assert "past the 400-day retention window" in old.detail
    [future] = data_boundaries.export_retention(tenant, limits, date(2026, 1, 1))
    assert "after today" in future.detail
    assert data_boundaries.lead_retention(tenant, limits, date(2026, 12, 1)) == []
    assert data_boundaries.lead_retention(tenant, limits, date(2028, 1, 1))


@pytest.mark.parametrize("key, value", [
    ("cardNumber", "4111 1111 1111 1111"),
    ("creditCardNumber", "x"),
    ("cvv", "123"),
    ("ssn", "x"),
    ("notes", "Customer mentioned their alarm code"),
    ("bankAccountNumber", "12345678"),
])
def test_forbidden_export_fields(limits, tmp_path, key, value):
    tenant = _tenant_with_export_record(tmp_path, {key: value})
    found = data_boundaries.export_fields(tenant, limits)
    assert any(f"'{key}'" in f.detail for f in found)


@pytest.mark.parametrize("value, hit", [
    ("paid with 4111-1111-1111-1111", True),
    ("SSN 123-45-6789 on file", True),
    ("4111 1111 1111 1112", False),  # fails the Luhn check
    ("2026-11-02T15:04:05Z", False),
    ("900000101", False),
    ("web-7838507889745d6a", False),  # an externalId whose hex holds a Luhn-valid run of 13 digits
    ("web-63f3125466616432", False),
    ("web-4111111111111111", False),
    ("card:4111111111111111 on file", True),
])
def test_forbidden_export_values(limits, tmp_path, value, hit):
    tenant = _tenant_with_export_record(tmp_path, {"memo": value})
    assert bool(data_boundaries.export_fields(tenant, limits)) is hit


EXPORT_KEYS = st.sampled_from(["id", "name", "memo", "address", "summary"] * 4
                              + ["cardNumber", "SSN", "Tech-Notes", "pin ", "a\"b", "x\\y", "card\"No", ""])
EXPORT_TEXT = st.lists(st.sampled_from(["4111", "1111", "6789", "123", "45", "-", " ", ".", "\n", "\"", "\\", "é", "w"]),
                       max_size=8).map("".join)
EXPORT_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20) | st.floats(allow_nan=False) | EXPORT_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(EXPORT_KEYS, inner, max_size=3),
    max_leaves=10,
)
EXPORT_JUDGE = data_boundaries.ExportFieldJudge(yaml.safe_load((ROOT / "policies/data-boundaries.yaml").read_text()))


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.dictionaries(EXPORT_KEYS, EXPORT_VALUES, max_size=4), max_size=3))
@example(records=[{"memo": "4111 1111 1111 1111"}])
@example(records=[{"memo": "123-45-6789"}])
@example(records=[{"id": 1, "memo": "\n4111111111111111"}])  # an escape right before the number
@example(records=[{"summary": {"Tech-Notes": "x"}}])
@example(records=[{'"SSN"': "x"}])  # a quote in a key is escaped in JSON text
@example(records=[{"memo": "４１１１ １１１１ １１１１ １１１１"}])  # full-width digits are digits too
def test_a_page_passed_over_by_the_export_field_prefilter_holds_nothing_to_find(records):
    page = {"page": 1, "pageSize": 50, "hasMore": False, "totalCount": len(records), "data": records}
    if EXPORT_JUDGE.findings("crm/customers", records):
        assert EXPORT_JUDGE.may_find(page)


def _tenant_with_export_record(tmp_path: Path, extra: dict) -> FixtureTenant:
    folder = tmp_path / "t"
    (folder / "exports" / "jpm").mkdir(parents=True)
    body = {"page": 1, "pageSize": 50, "hasMore": False, "data": [{"id": 1, "name": "Job", **extra}]}
    (folder / "exports" / "jpm" / "job-types.json").write_text(json.dumps(body))
    return FixtureTenant(folder)


def test_titan_map_personal_data_and_keys(limits, tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "titan-map.yaml").write_text(yaml.safe_dump({
        "services": [{"website": "ac", "job_type": {"id": 1, "name": "AC"}, "customer_email": "x"}],
        "notes": "Call the owner on 303-555-0199 or owner@example.com",
    }))
    found = data_boundaries.titan_map_boundary(FixtureTenant(folder), limits)
    kinds = sorted(f.kind for f in found)
    assert kinds == ["titan-map-field", "titan-map-personal-data", "titan-map-personal-data"]
    assert all("555-0199" not in f.detail and "owner@" not in f.detail for f in found)


def test_consent_problems(limits, tmp_path):
    product = ROOT / "fixtures/product"
    source = ROOT / "fixtures/tenants/comfort-launch"
    folder = tmp_path / "comfort-launch"
    (folder / "leads").mkdir(parents=True)
    leads = jsonl(source / "leads/submissions.jsonl")[:5]
    consent = jsonl(source / "leads/consent.jsonl")[:5]
    leads[0]["consent_ref"] = "consent-missing-0001"
    del leads[1]["consent_ref"]
    consent[2]["text_sha256"] = "0" * 64
    consent[3]["method"] = "pre-ticked-box"
    consent[4]["captured_at"] = "2026-11-30T00:00:00Z"
    write_jsonl(folder / "leads/submissions.jsonl", leads)
    write_jsonl(folder / "leads/consent.jsonl", consent)
    found = data_boundaries.consent_findings(FixtureTenant(folder), limits, product)
    text = "\n".join(f.detail for f in found)
    assert "does not exist" in text and "references no consent" in text
    assert "text_sha256 does not match" in text and "pre-ticked-box" in text and "after the lead" in text
    assert len(found) == 5


def test_consent_text_version_without_text(limits, tmp_path):
    source = ROOT / "fixtures/tenants/comfort-launch"
    folder = tmp_path / "t"
    (folder / "leads").mkdir(parents=True)
    write_jsonl(folder / "leads/submissions.jsonl", jsonl(source / "leads/submissions.jsonl")[:1])
    consent = jsonl(source / "leads/consent.jsonl")[:1]
    consent[0]["text_version"] = "contact-consent-v9"
    write_jsonl(folder / "leads/consent.jsonl", consent)
    [finding] = data_boundaries.consent_findings(FixtureTenant(folder), limits, ROOT / "fixtures/product")
    assert "has no text" in finding.detail


@pytest.mark.parametrize("source, hit", [
    ("Path('t.txt').write_text(access_token)", True),
    ("json.dump({'token': value}, handle)", True),
    ("with open('x', 'w') as f:\n    f.write(self.client_secret)", True),
    ("logger.info('got %s', token)", True),
    ("print(app_key)", False),  # the terminal is not storage; the simulator shows its throwaway credentials
    ("Path('t.txt').write_text(report_text)", False),
    ("json.dump(report, handle)", False),
    ("raise policies.error('credentials', ['x'], 'message')", False),
    ("def broken(:", True),
])
def test_static_token_write_check(limits, source, hit):
    sensitive = re.compile(limits["tokens"]["static_check"]["sensitive_names"])
    assert bool(data_boundaries.token_writes(source, "x.py", sensitive)) is hit


def test_the_suites_own_code_writes_no_token(limits):
    assert data_boundaries.code_token_writes([ROOT / "readiness", ROOT / "steps"], limits, ROOT) == []


# ---------------------------------------------------------------------------------------------- the gate

SLUG = "comfort-launch"


@pytest.mark.slow
def test_gate_fails_on_a_lead_field_outside_the_envelope(workspace):
    path = workspace.tenant(SLUG) / "leads/submissions.jsonl"
    leads = jsonl(path)
    leads[0]["date_of_birth"] = "1980-01-01"
    write_jsonl(path, leads)
    row = workspace.run(tenants=[SLUG]).assert_fails(
        "Lead submissions carry only lead-envelope fields", "SEC-BOUNDARIES", tenant=SLUG)
    assert "date_of_birth" in row["reason"]


@pytest.mark.slow
def test_gate_fails_on_a_queue_item_field_outside_the_envelope(workspace):
    path = workspace.tenant(SLUG) / "queue/sync-queue.jsonl"
    items = jsonl(path)
    items[0]["customer_phone"] = "303-555-0100"
    write_jsonl(path, items)
    result = workspace.run(tenants=[SLUG])
    result.assert_fails("Queue items carry only queue fields and booking-envelope fields", "SEC-BOUNDARIES", tenant=SLUG)
    assert "303-555-0100" not in (result.report_dir / "readiness.json").read_text()


@pytest.mark.slow
def test_gate_fails_on_a_booking_envelope_field_servicetitan_does_not_take(workspace):
    path = workspace.policies / "envelopes.yaml"
    path.write_text(path.read_text().replace(
        "    externalId: {purpose:", "    email: {purpose: \"Not a booking-create field.\"}\n    externalId: {purpose:"))
    workspace.run(tenants=[SLUG]).assert_fails(
        "The booking envelope is exactly what ServiceTitan's booking-create call takes", "SEC-BOUNDARIES")


@pytest.mark.slow
def test_gate_fails_on_personal_data_in_the_titan_map(workspace):
    path = workspace.tenant(SLUG) / "titan-map.yaml"
    path.write_text(path.read_text().replace(
        "notes: Reviewed with the customer", "notes: Owner cell 303-555-0177. Reviewed with the customer"))
    result = workspace.run(tenants=[SLUG])
    result.assert_fails("The Titan Map holds no customer personal data", "SEC-BOUNDARIES", tenant=SLUG)
    assert "555-0177" not in (result.report_dir / "readiness.json").read_text()


@pytest.mark.slow
def test_gate_fails_on_exports_past_the_retention_window(workspace):
    path = workspace.tenant(SLUG) / "tenant.yaml"
    path.write_text(path.read_text().replace('captured_on: "2026-11-20"', 'captured_on: "2024-01-15"'))
    workspace.run(tenants=[SLUG]).assert_fails("Exports are inside their retention window", "SEC-BOUNDARIES", tenant=SLUG)


@pytest.mark.slow
def test_gate_fails_on_a_lead_past_the_retention_window(workspace):
    path = workspace.tenant(SLUG) / "leads/submissions.jsonl"
    leads = jsonl(path)
    leads[0]["submitted_at"] = "2024-01-02T10:00:00Z"
    write_jsonl(path, leads)
    workspace.run(tenants=[SLUG]).assert_fails(
        "Lead submissions are inside their retention window", "SEC-BOUNDARIES", tenant=SLUG)


@pytest.mark.slow
def test_gate_fails_on_card_data_in_an_export(workspace):
    path = workspace.tenant("riverside-growth") / "exports/accounting/export/payments.json"
    body = json.loads(path.read_text())
    body["data"][0]["memo"] = "card 4111 1111 1111 1111"
    path.write_text(json.dumps(body, indent=2))
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails("Exports hold no payment card data, identity numbers or free-text notes", "SEC-BOUNDARIES",
                        tenant="riverside-growth")
    assert "4111 1111" not in (result.report_dir / "readiness.json").read_text()


@pytest.mark.slow
def test_gate_fails_on_a_lead_without_valid_consent(workspace):
    path = workspace.tenant(SLUG) / "leads/consent.jsonl"
    rows = jsonl(path)
    rows[0]["text_sha256"] = "f" * 64
    write_jsonl(path, rows)
    workspace.run(tenants=[SLUG]).assert_fails(
        "Every lead references a valid consent artifact", "SEC-BOUNDARIES", tenant=SLUG)


@pytest.mark.slow
def test_gate_fails_on_product_code_that_writes_a_token(workspace):
    (workspace.product / "app").mkdir()
    (workspace.product / "app" / "connect.py").write_text(
        "from pathlib import Path\n\ndef keep(access_token):\n    Path('token.txt').write_text(access_token)\n")
    workspace.run(tenants=[SLUG]).assert_fails("No code writes a token or secret to a file", "SEC-BOUNDARIES")
