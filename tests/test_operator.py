"""Operator-grade gate (issue 18): one clear line per mistake, at the right file:line, never a traceback."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from readiness.boundaries import data_boundaries, privacy
from readiness.boundaries.sensitive import SensitiveData, aba, luhn
from readiness.gate import progress
from readiness.core.tenants import FixtureTenant
from readiness.gate.run import NOT_LOADED
from tests.conftest import ROOT, Workspace, once_per_session

CONTRACT = "Every tenant file follows its documented contract"
SENSITIVE = "No tenant file holds a card, identity, bank, birth date or licence number"
LEAD_ENVELOPE = "Lead submissions carry only lead-envelope fields"
SOURCE = "comfort-launch"


def _edit(path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def _edit_jsonl(path, index: int, change) -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[index])
    change(record)
    lines[index] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def _front_matter(folder):
    note = folder / "evidence" / "titan-map-review-2026-11-18.md"
    note.write_text("---\ntitel: Titan Map review\nkind: titan-map-review\n---\n" + note.read_text())


# Each bad input from the issue, planted in its own copy of a demo tenant: (scenario that reports it, the one
# finding's subject, words its detail holds).
BAD_INPUTS = {
    "misspelt-tenant-key": (lambda f: _edit(f / "tenant.yaml", "trade:", "trde:"),
                            CONTRACT, "tenant.yaml:6:1", "unknown key 'trde'; did you mean 'trade'?"),
    "misspelt-titan-map-key": (lambda f: _edit(f / "titan-map.yaml", "  job_type: {id: 2002", "  job_typ: {id: 2002"),
                               CONTRACT, "titan-map.yaml:14:3", "unknown key 'job_typ'; did you mean 'job_type'?"),
    "misspelt-lead-key": (lambda f: _edit_jsonl(f / "leads/submissions.jsonl", 1,
                                                lambda r: r.__setitem__("mesage", r.pop("message"))),
                          LEAD_ENVELOPE, "leads/submissions.jsonl:2", "did you mean 'message'?"),
    "misspelt-consent-key": (lambda f: _edit_jsonl(f / "leads/consent.jsonl", 2,
                                                   lambda r: r.__setitem__("methd", r.pop("method"))),
                             CONTRACT, "leads/consent.jsonl:3:", "unknown key 'methd'; did you mean 'method'?"),
    "misspelt-queue-key": (lambda f: _edit_jsonl(f / "queue/sync-queue.jsonl", 0,
                                                 lambda r: r.__setitem__("attempt", r.pop("attempts"))),
                           CONTRACT, "queue/sync-queue.jsonl:1:", "missing required key 'attempts'; is 'attempt' a "),
    "misspelt-evidence-front-matter": (_front_matter, CONTRACT, "evidence/titan-map-review-2026-11-18.md:2:1",
                                       "unknown key 'titel'; did you mean 'title'?"),
    "missing-titan-map": (lambda f: (f / "titan-map.yaml").unlink(), CONTRACT, "titan-map.yaml", "file not found"),
    "export-as-bare-list": (lambda f: (f / "exports/jpm/job-types.json").write_text(
        json.dumps(json.loads((f / "exports/jpm/job-types.json").read_text())["data"])),
        CONTRACT, "exports/jpm/job-types.json:1:1", "this is a list"),
    "card-in-evidence-note": (lambda f: _edit(f / "evidence/manual-handoff-log-2026-11.md", "FAKE demo record.",
                                              "FAKE demo record. Paid by card 4012 8888 8888 1881."),
                              SENSITIVE, "evidence/manual-handoff-log-2026-11.md:3", "[payment card number …81]"),
    "ssn-in-evidence-note": (lambda f: _edit(f / "evidence/manual-handoff-log-2026-11.md", "FAKE demo record.",
                                             "FAKE demo record. Caller gave SSN 234-56-7890."),
                             SENSITIVE, "evidence/manual-handoff-log-2026-11.md:3", "[US Social Security number …90]"),
    "ssn-field-in-consent-log": (lambda f: _edit_jsonl(f / "leads/consent.jsonl", 1,
                                                       lambda r: r.__setitem__("ssn", "234-56-7890")),
                                 CONTRACT, "leads/consent.jsonl:2:", "unknown key 'ssn'"),
}


@pytest.fixture(scope="module")
def bad_inputs_run(tmp_path_factory):
    """One gate run over a copy of the demo tenant per bad input (one run: each case is judged alike), once per
    session whichever worker runs the cases."""
    return once_per_session(tmp_path_factory, "bad-inputs-run", _run_with_bad_inputs)


def _run_with_bad_inputs(folder: Path):
    workspace = Workspace(folder)
    for case, (plant, *_) in BAD_INPUTS.items():
        copy = workspace.tenants / case
        shutil.copytree(workspace.tenant(SOURCE), copy)
        plant(copy)
    return workspace.run(tenants=list(BAD_INPUTS))


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_each_bad_input_gives_exactly_one_error_or_finding_at_its_file_and_line(bad_inputs_run, case):
    _, scenario, subject, words = BAD_INPUTS[case]
    result = bad_inputs_run
    assert result.exit_code != 0
    rows = [s for s in result.report["scenarios"] if s["tenant"] == case]
    failed = [s for s in rows if s["status"] == "failed"]
    findings = [f for s in failed for f in s["findings"]]
    assert len(findings) == 1, findings
    [finding] = findings
    assert finding["subject"].startswith(subject) and words in finding["detail"], finding
    assert result.scenario(scenario, case)["status"] == "failed"
    if scenario == CONTRACT:  # the tenant did not load: every other scenario failed unjudged, never passed
        assert all(s["status"] == "failed" and s["reason"].startswith(NOT_LOADED)
                   for s in rows if s["scenario"] != CONTRACT)
    for secret in ("4012 8888 8888 1881", "234-56-7890"):
        assert secret not in result.output and secret not in (result.report_dir / "readiness.json").read_text()


@pytest.mark.slow
def test_no_bad_input_prints_a_traceback_and_each_tenant_stays_short(bad_inputs_run):
    output = bad_inputs_run.output
    for marker in ("Traceback", "KeyError", "TypeError", "site-packages", "During handling"):
        assert marker not in output, marker
    blocks = output.split("\nFAILED ")[1:]
    assert len(blocks) == len(BAD_INPUTS)
    assert all(len(block.splitlines()) <= progress.LINES_PER_TENANT for block in blocks)


# ---------------------------------------------------------------------------------------------- the demo date


def _epoch(day: str) -> str:
    return str(int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()))


@pytest.mark.slow
@pytest.mark.parametrize("day", ["2027-12-01", "2030-06-15", "2035-12-31"])
def test_the_demo_never_expires_while_a_real_tenant_with_the_same_data_does(workspace, monkeypatch, day):
    real = workspace.tenants / "real-customer"
    shutil.copytree(workspace.tenant(SOURCE), real)
    profile = real / "tenant.yaml"
    _edit(profile, "source: demo", "source: customer-supplied")
    profile.write_text(profile.read_text().split("\n# Invented data dated")[0] + "\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch(day))
    result = workspace.run()
    demo = [s for s in result.report["scenarios"] if s["tenant"] not in (None, "real-customer")]
    assert demo and all(s["status"] in ("passed", "pending") for s in demo)
    failed = {s["scenario"] for s in result.failed()}
    assert "Lead submissions are inside their retention window" in failed  # 365 days; exports get 400
    assert failed <= {"Lead submissions are inside their retention window", "Exports are inside their retention window"}
    rows = {t["slug"]: t for t in result.report["tenants"]}
    assert rows[SOURCE]["judged_as_of"] == "2026-11-30" and "judged_as_of" not in rows["real-customer"]
    assert "judged as of 2026-11-30" in (result.report_dir / "readiness.md").read_text()


def test_a_tenant_with_customer_supplied_exports_is_judged_as_of_today_whatever_it_declares(tmp_path, monkeypatch):
    folder = tmp_path / SOURCE
    shutil.copytree(ROOT / "fixtures/tenants" / SOURCE, folder)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch("2031-01-02"))
    assert data_boundaries.reference_date(FixtureTenant(folder)).isoformat() == "2026-11-30"
    _edit(folder / "tenant.yaml", "source: demo", "source: customer-supplied")
    real = FixtureTenant(folder)
    assert data_boundaries.demo_as_of(real) is None
    assert data_boundaries.reference_date(real).isoformat() == "2031-01-02"


# ---------------------------------------------------------------------------------------------- detectors


@pytest.fixture(scope="module")
def sensitive_policy() -> dict:
    return yaml.safe_load((ROOT / "policies/sensitive-data.yaml").read_text())


def test_every_detector_finds_its_samples_and_passes_its_near_misses(sensitive_policy):
    scanner = SensitiveData(sensitive_policy)
    assert scanner.sample_problems() == []
    for row in sensitive_policy["detectors"]:
        detector = scanner.by_id(row["id"])
        assert all(any(detector.values(sample)) for sample in row["finds"]), row["id"]
        assert not any(any(detector.values(sample)) for sample in row["passes"]), row["id"]
        for near_miss in ("order", "80011-1234", "303-555-0108", "2026-11-20"):  # the issue's: order numbers, ZIP+4,
            assert any(near_miss in sample.lower() for sample in row["passes"]), (row["id"], near_miss)  # phones, dates


def test_a_detector_that_stops_finding_its_sample_is_a_finding(sensitive_policy):
    broken = json.loads(json.dumps(sensitive_policy))
    broken["detectors"][0]["finds"].append("Order 4111111111111112")
    broken["detectors"][1]["passes"].append("SSN 123-45-6789")
    problems = SensitiveData(broken).sample_problems()
    assert [(p.subject, p.detail.split(" #")[0]) for p in problems] == [
        ("sensitive-data.yaml payment-card", "does not find its sample"),
        ("sensitive-data.yaml us-ssn", "matches its near-miss")]


def test_findings_name_the_line_mask_the_value_and_route_to_the_runbook(sensitive_policy):
    text = "# Note\nnothing here 2026-11-20\nDOB: 04/12/1961, routing 021000021, acct # 000123456789\n"
    found = SensitiveData(sensitive_policy).scan_text(text, "evidence/note.md")
    assert {f.subject for f in found} == {"evidence/note.md:3"}
    assert sorted(f.detail.split(":")[0] for f in found) == [
        "holds [bank account number …89]", "holds [bank routing number …21]", "holds [date of birth …61]"]
    assert all(f.runbook == sensitive_policy["runbook"] and "04/12/1961" not in f.detail for f in found)


def test_checksums():
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    assert aba("021000021") and not aba("123456789")
    assert privacy.mask_value("payment card number", "4111 1111 1111 1111") == "[payment card number …11]"


@pytest.mark.slow
def test_gate_fails_on_sensitive_data_in_the_consent_log_value(workspace):
    """A sensitive value inside a known field (not an unknown key) is found by the scan, at its line."""
    _edit_jsonl(workspace.tenant(SOURCE) / "leads/submissions.jsonl", 2,
                lambda r: r.__setitem__("message", "My card is 5500-0000-0000-0004, call me"))
    result = workspace.run(tenants=[SOURCE])
    row = result.assert_fails(SENSITIVE, "SEC-BOUNDARIES", tenant=SOURCE)
    assert [f["subject"] for f in row["findings"]] == ["leads/submissions.jsonl:3"]
    assert "5500-0000-0000-0004" not in result.output


@pytest.mark.slow
def test_gate_fails_when_a_detector_misses_its_sample(workspace):
    path = workspace.policies / "sensitive-data.yaml"
    _edit(path, "passes: [\"call 303-555-0108\", \"ZIP 80011-1234\", \"on 2026-11-20\", \"order 123-456-7890\"",
          "passes: [\"SSN 123-45-6789\", \"call 303-555-0108\", \"ZIP 80011-1234\", \"on 2026-11-20\", \"order 123-456-7890\"")
    workspace.run(tenants=[SOURCE]).assert_fails(
        "Every sensitive-data detector finds its samples and passes over its near-misses", "SEC-BOUNDARIES")


# ---------------------------------------------------------------------------------------------- terminal


def _built(findings: int, unjudged: int = 0) -> dict:
    record = {"tenant": "acme", "status": "failed", "feature": "features/x.feature", "scenario": "S",
              "requirements": ["SEC-BOUNDARIES"], "reason": "x", "protocol_tests": [],
              "findings": [{"severity": "blocker", "kind": "envelope-field", "subject": f"leads/submissions.jsonl:{n}",
                            "detail": "field 'x' is outside the lead envelope", "runbook": None}
                           for n in range(1, findings + 1)]}
    others = [{**record, "findings": [], "reason": NOT_LOADED} for _ in range(unjudged)]
    return {"scenarios": [record, *others]}


def test_a_failing_tenant_prints_at_most_forty_lines_unless_asked_for_all():
    short = progress.failure_lines(_built(100), NOT_LOADED, full=False)
    assert len(short) == progress.LINES_PER_TENANT and short[-1].startswith("  ... 63 more lines: run with -v")
    full = progress.failure_lines(_built(100), NOT_LOADED, full=True)
    assert len(full) == 102 and full[2] == (
        "    [blocker] envelope-field: leads/submissions.jsonl:1: field 'x' is outside the lead envelope")


def test_unjudged_scenarios_are_counted_in_one_line():
    lines = progress.failure_lines(_built(1, unjudged=30), NOT_LOADED, full=False)
    assert lines[:2] == ["FAILED acme: 31 scenarios failed",
                         "  30 not judged: the tenant did not load (its contract scenario says why)"]
    assert len(lines) == 4


def test_pending_scenarios_are_listed_once_per_unblock_condition():
    protocol = {"A-01": {"unblock": "access"}, "B-01": {"unblock": "access"}, "C-01": {"unblock": "a key"}}
    built = {"scenarios": [{"status": "pending", "protocol_tests": [t]} for t in ("A-01", "B-01", "C-01", "A-01")]}
    assert progress.pending_lines(built, protocol) == [
        "pending: 4 scenarios await sandbox access (pending is not passed); unblocked when:",
        "  A-01, B-01: access", "  C-01: a key"]


def test_titan_map_findings_name_the_line(tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(ROOT / "fixtures/tenants" / SOURCE, folder)
    _edit(folder / "titan-map.yaml", "notes: Reviewed", "notes: Call 303-555-0199. Reviewed")
    boundaries = yaml.safe_load((ROOT / "policies/data-boundaries.yaml").read_text())
    [finding] = data_boundaries.titan_map_boundary(FixtureTenant(folder), boundaries)
    line = next(n for n, text in enumerate((folder / "titan-map.yaml").read_text().splitlines(), 1)
                if text.startswith("notes:"))
    assert finding.subject == f"titan-map.yaml:{line}"


@pytest.mark.parametrize("name, record", [
    ("tenant/lead-submission", {"lead_id": "l1", "submitted_at": "yesterday"}),
    ("tenant/lead-submission", {"lead_id": 7, "submitted_at": "2026-11-02T15:04:05Z"}),
    ("tenant/consent", {"consent_id": "c", "captured_at": "2026-11-02T15:04:05Z", "text_version": "v",
                        "text_sha256": "XYZ", "method": "web-form-checkbox"}),
    ("tenant/queue-item", {"item_id": "q", "lead_id": "l", "external_id": "e", "state": "queued", "attempts": -1,
                           "history": [{"state": "queued", "at": "2026-11-02T15:04:05Z", "by": "intake"}]}),
])
def test_the_fast_record_check_refuses_what_the_schema_refuses(name, record):
    """Data passes jsonschema-rs's compiled check first; what it passes must conform."""
    from readiness.core.documents import first_problem, schema

    assert first_problem(record, schema(name)) is not None


@pytest.mark.parametrize("date, fine", [("2026-02-28", True), ("2026-02-30", False), ("28/02/2026", False)])
def test_the_fast_check_reads_formats_as_jsonschema_does(date, fine):
    """The compiled check asks jsonschema's format checker, so both judge a date alike."""
    from readiness.core.documents import _validator, first_problem, schema

    note = schema("tenant/evidence-note")
    _, fast = _validator(note)
    assert fast is not None, "the evidence note's schema should take the fast path"
    record = {"title": "Titan Map review", "kind": "other", "date": date}
    assert (first_problem(record, note) is None) is fine
    assert fast.is_valid(record) is fine


def test_every_bundled_schema_takes_the_fast_check():
    """A schema jsonschema-rs cannot build falls back to jsonschema alone: correct, but 7-250x slower per check."""
    from readiness.core.documents import _validator, schema, schema_names

    slow = [f"{folder}/{name}" for folder in ("tenant", "policies", "report") for name in schema_names(folder)
            if _validator(schema(f"{folder}/{name}"))[1] is None]
    assert slow == []


def test_a_date_yaml_reads_unquoted_is_judged_by_jsonschema():
    """jsonschema-rs takes no Python date; jsonschema then names the problem (a quoted date is wanted)."""
    import datetime

    from readiness.core.documents import first_problem, schema

    parts, message = first_problem({"title": "Titan Map review", "kind": "other", "date": datetime.date(2026, 2, 28)},
                                   schema("tenant/evidence-note"))
    assert parts == ["date"] and "string" in message
