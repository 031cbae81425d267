"""Gate modes: --sandbox simulator runs every protocol scenario as a dry run; wrong clients, leaked credentials and
a broken webhook policy fail the gate naming scenario and requirement."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from html_structure import problems
from readiness.core.features import parse_feature
from readiness.sandbox import protocol

ROOT = Path(__file__).resolve().parent.parent
FEATURE = ROOT / "features" / "sandbox-protocol.feature"
PROTOCOL_TESTS = yaml.safe_load((ROOT / "policies" / "sandbox-protocol.yaml").read_text())["tests"]

SIMULATOR = "--sandbox=simulator"
PLUGIN = ("-p", "tests.protocol_clients")


def assert_dry_run_fails(result, scenario: str, requirement: str) -> dict:
    assert result.exit_code != 0, result.output[-3000:]
    row = result.scenario(scenario)
    assert row["status"] == "dry-run-failed", (row, result.output[-3000:])
    assert requirement in row["requirements"]
    assert any(scenario in name for name in result.report["gate"]["failed_scenarios"])
    return row


@pytest.mark.slow
def test_simulator_mode_runs_every_protocol_scenario_as_a_passing_dry_run(workspace):
    result = workspace.run(SIMULATOR, "-n", "2", tenants=["riverside-growth"])
    assert result.exit_code == 0, result.output[-3000:]
    report = result.report
    sandbox = [s for s in report["scenarios"] if "sandbox" in s["tags"]]
    offline = [s for s in report["scenarios"] if "sandbox" not in s["tags"]]
    assert len(sandbox) == len(PROTOCOL_TESTS) and {s["status"] for s in sandbox} == {"dry-run-passed"}
    assert offline and {s["status"] for s in offline} == {"passed"}
    assert report["mode"] == "simulator" and "not sandbox evidence" in report["mode_statement"]
    assert "not sandbox evidence" in (result.report_dir / "readiness.html").read_text()
    markdown = (result.report_dir / "readiness.md").read_text()
    assert "not sandbox evidence" in markdown and "## Sandbox protocol (simulator)" in markdown
    for name, section in report["product"]["sections"].items():
        if name.startswith("sandbox-protocol-"):
            checks = len(section["checks"])
            assert (f"| `{section['test']}` {section['title']} | dry-run-passed | {checks}/{checks} | "
                    f"`{section['transcript']['path']}` `{section['transcript']['sha256'][:16]}…` |") in markdown
    assert {r["id"]: r["status"] for r in report["requirements"]}["SANDBOX-PROTOCOL"] == "dry-run"
    assert len(list((result.report_dir / "transcripts").glob("*.json"))) == len(PROTOCOL_TESTS)
    assert report["gate"]["problems"] == []
    html = (result.report_dir / "readiness.html").read_text()
    assert problems(html) == []
    for name, section in report["product"]["sections"].items():
        if name.startswith("sandbox-protocol-"):
            shown = html[html.index(f'<section id="{name}"'):]
            shown = shown[:shown.index("</section>")]
            assert section["title"] in shown.replace("&#39;", "'") and "dry run passed (simulator, not evidence)" in shown
            assert section["transcript"]["sha256"] in shown and section["transcript"]["path"] in shown
            assert all(f">{row['check']}<" in shown for row in section["checks"])
            assert all(f"<td>{f['runbook']}</td>" in shown for f in section["findings"])
    assert report["product"]["sections"]["sandbox-protocol-ATTR-01"]["findings"]  # unmatched leads, with runbooks
    import_section = html[html.index('<section id="sandbox-protocol-IMPORT-01"'):]
    assert "only GET requests were sent during the import" in import_section[:import_section.index("</section>")]


def scenario_of(test_id: str) -> str:
    """The scenario a reviewer reads for a protocol test, found by its @sbx tag (never by a hard-coded title)."""
    [spec] = [s for s in parse_feature(FEATURE)[1] if test_id in s.protocol_tests]
    return spec.name


@pytest.mark.slow
@pytest.mark.parametrize("client, test_id, check", [
    ("ignores-retry-after", "RETRY-01", "retry-after-honoured"),
    ("reposts-without-lookup", "BOOK-01", "lookup-before-repost"),
    ("writes-during-import", "IMPORT-01", "read-only"),
    ("logs-token", "TOKEN-01", "no-leak"),
    ("posts-to-leads", "LEAD-01", "lead-form-used"),
    ("sends-visitor-text", "LEAD-01", "lead-minimal"),
    ("never-reads-attributed-leads", "ATTR-03", "attributions-listed"),
    ("stops-after-one-refusal", "SCOPE-02", "other-families-work"),
    ("forgets-active-any", "IMPORT-01", "all-records-requested"),
])
def test_a_wrong_client_makes_its_protocol_scenario_fail_naming_the_check(workspace, monkeypatch, client, test_id,
                                                                          check):
    monkeypatch.setenv("READINESS_BAD_CLIENT", client)
    product_client = protocol.CLIENT_FACTORY
    result = workspace.run(SIMULATOR, *PLUGIN, "-m", f"sbx-{test_id}", tenants=["riverside-growth"])
    assert protocol.CLIENT_FACTORY is product_client  # the run (in this process) put the product's client back
    row = assert_dry_run_fails(result, scenario_of(test_id), "SANDBOX-PROTOCOL")
    assert "simtok." not in result.output and "cs1." not in result.output
    assert protocol.CHECKS[check] in row["reason"], row["reason"]


@pytest.mark.slow
def test_a_credential_written_anywhere_in_the_report_folder_fails_the_gate(workspace, monkeypatch):
    monkeypatch.setenv("READINESS_PLANT_LEAK", "1")
    result = workspace.run(SIMULATOR, *PLUGIN, "-k", "access_token", tenants=["riverside-growth"])
    assert result.exit_code != 0
    problems = result.report["gate"]["problems"]
    assert problems == ["credential leak: debug-dump.txt contains the generated client secret of this run"]
    assert "cs1." not in result.output


@pytest.mark.slow
def test_a_replay_window_shorter_than_the_retry_schedule_fails_the_webhook_scenario(workspace):
    policy = workspace.policies / "webhooks.yaml"
    policy.write_text(policy.read_text().replace("replay_window_seconds: 900", "replay_window_seconds: 120"))
    result = workspace.run(tenants=["comfort-launch"])
    row = result.assert_fails("The webhook policy declares the receiver a reference that is not production-ready",
                              "WEBHOOK-INGEST")
    assert "webhooks.yaml" in row["reason"] and "replay_window_seconds" in row["reason"]


@pytest.mark.parametrize("change, named", [
    (("current: V2", "current: V1"), "version.current"),
    (("    confirmed_by: WEBHOOK-01\n  - id: digest-encoding", "    confirmed_by: WEBHOOK-99\n  - id: digest-encoding"),
     "assumptions[0].confirmed_by"),
])
def test_a_v1_webhook_policy_or_an_unconfirmed_assumption_fails_the_webhook_scenario(workspace, change, named):
    policy = workspace.policies / "webhooks.yaml"
    text = policy.read_text()
    assert change[0] in text
    policy.write_text(text.replace(*change, 1))
    result = workspace.run(tenants=["comfort-launch"])
    scenario = next(s.name for s in parse_feature(ROOT / "features" / "webhooks.feature")[1]
                    if any("V2" in step.text for step in s.steps))
    row = result.assert_fails(scenario, "WEBHOOK-INGEST")
    assert "webhooks.yaml" in row["reason"] and named in row["reason"]


def test_offline_the_new_protocol_tests_are_pending_with_their_unblock_conditions(workspace):
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]
    for test in PROTOCOL_TESTS:
        row = result.scenario(scenario_of(test["id"]))
        assert row["status"] == "pending" and " ".join(test["unblock"].split()) in row["reason"], (test["id"], row)


@pytest.mark.slow
def test_a_receiver_claimed_production_ready_is_refused(workspace):
    policy = workspace.policies / "webhooks.yaml"
    policy.write_text(policy.read_text().replace("status: reference-not-production-ready", "status: production"))
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code != 0 and "webhooks.yaml" in result.output and "receiver.status" in result.output


@pytest.mark.slow
def test_a_protocol_test_without_owner_or_scopes_is_refused(workspace):
    policy = workspace.policies / "sandbox-protocol.yaml"
    policy.write_text(policy.read_text().replace("    owner: Security reviewer\n", "", 1))
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code != 0 and "sandbox-protocol.yaml" in result.output and "owner" in result.output
