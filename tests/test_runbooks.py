"""Runbooks: coverage of every failure mode, response windows, routing of every finding kind, publication."""

from __future__ import annotations

import types
from datetime import timedelta
from pathlib import Path

import pytest

from readiness.access import runbooks
from readiness.report import access_packets
from readiness.core.policy import PolicySet
from yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
POLICIES = PolicySet.load(ROOT / "policies")
REQ = "RUNBOOK-SUPPORT"
COMPLETE = "Every failure mode has a complete runbook"
ROUTES = "Every kind of finding the gate can raise names a runbook that exists"


def runbook(data: dict, runbook_id: str) -> dict:
    return next(r for r in data["runbooks"] if r["id"] == runbook_id)


@pytest.mark.parametrize("text, expected", [
    ("PT4H", timedelta(hours=4)), ("P2D", timedelta(days=2)), ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
    ("PT0H", timedelta(0)), ("P", None), ("PT", None), ("P1DT", None), ("4h", None), ("", None), ("-PT1H", None),
])
def test_parse_duration(text, expected):
    assert runbooks.parse_duration(text) == expected


def test_window_text():
    assert runbooks.window_text("P1DT2H") == "1 day, 2 hours"
    assert runbooks.window_text("PT30M") == "30 minutes"
    assert runbooks.window_text("soon") == "soon"


def test_bundled_runbooks_cover_every_failure_mode():
    assert runbooks.coverage_problems(POLICIES) == []
    assert set(runbooks.FAILURE_MODES) <= runbooks.runbook_ids(POLICIES)


def test_every_declared_finding_kind_is_collected_and_routed():
    routes = runbooks.finding_kind_routes()
    assert routes["eligibility-blocked"] == ("readiness.access.matrix", "disconnect")
    assert routes["package-export-missing"] == ("readiness.access.packages", "failed-sync")
    assert runbooks.routing_problems(POLICIES, routes) == []


def test_a_kind_routed_to_an_unknown_runbook_is_found():
    module = types.SimpleNamespace(__name__="readiness.planted", FINDING_KINDS={"planted": "no-such-runbook",
                                                                                "boundary": None})
    found = runbooks.routing_problems(POLICIES, runbooks.finding_kind_routes([module]))
    assert [f.subject for f in found] == ["readiness.planted FINDING_KINDS['planted']"]


def test_reported_findings_need_a_declared_kind_and_an_existing_runbook():
    findings = [{"kind": "eligibility-blocked", "runbook": "disconnect"},
                {"kind": "forbidden-claim", "runbook": None},
                {"kind": "invented-kind", "runbook": "disconnect"},
                {"kind": "eligibility-blocked", "runbook": "no-such-runbook"}]
    assert runbooks.finding_problems(findings, POLICIES) == [
        "finding kind eligibility-blocked is routed to runbook 'no-such-runbook', which runbooks.yaml does not define",
        "finding kind invented-kind is reported, but no readiness module declares it in FINDING_KINDS",
    ]
    assert runbooks.finding_problems(findings[:2], POLICIES) == []


@pytest.mark.slow
def test_gate_fails_when_a_step_reports_an_undeclared_finding_kind(project):
    (project.steps / "invented.py").write_text(
        "from pytest_bdd import then\n\nfrom readiness.core.findings import Finding\n\n\n"
        "@then('the check records a finding of a kind nobody declared')\n"
        "def invented(scenario_evidence):\n"
        "    scenario_evidence.add([Finding('invented-kind', 'x', 'minor', 'disconnect', 'planted')])\n")
    (project.features / "invented.feature").write_text(
        "@req-GATE-TRACE\nFeature: A check with an undeclared finding\n\n  Scenario: An undeclared finding\n"
        "    Then the check records a finding of a kind nobody declared\n")
    result = project.run(tenants=["comfort-launch"])
    assert result.exit_code != 0, result.output[-3000:]
    assert result.report["gate"]["problems"] == [
        "finding kind invented-kind is reported, but no readiness module declares it in FINDING_KINDS"]


@pytest.mark.parametrize("windows, words", [
    (None, "no positive acknowledge window"),
    ({"acknowledge": "PT0H", "resolve": "P1D"}, "no positive acknowledge window"),
    ({"acknowledge": "P1D", "resolve": "four days"}, "no positive resolve window"),
    ({"acknowledge": "P2D", "resolve": "PT4H"}, "acknowledged before it is resolved"),
])
def test_bad_windows_are_found(workspace, windows, words):
    def plant(d):
        if windows is None:
            runbook(d, "drift-conflict").pop("windows")
        else:
            runbook(d, "drift-conflict")["windows"] = windows
    edit_yaml(workspace.policies / "runbooks.yaml", plant)
    found = runbooks.coverage_problems(PolicySet.load(workspace.policies))
    assert {f.kind for f in found} == {"runbook-window-invalid"} and words in found[0].detail
    assert found[0].subject.startswith("runbooks.yaml:")


def test_incomplete_and_missing_runbooks_are_found(workspace):
    def plant(d):
        runbook(d, "failed-sync").pop("steps")
        d["runbooks"] = [r for r in d["runbooks"] if r["id"] != "attribution-mismatch"]
    edit_yaml(workspace.policies / "runbooks.yaml", plant)
    found = runbooks.coverage_problems(PolicySet.load(workspace.policies))
    assert sorted(f.kind for f in found) == ["runbook-incomplete", "runbook-missing"]


def test_published_runbooks_show_every_runbook_with_windows():
    text = access_packets.render_runbooks(POLICIES)[access_packets.RUNBOOKS_PACKET]
    assert access_packets.unshown_runbooks(text, POLICIES["runbooks"]["runbooks"]) == []
    assert access_packets.unlabelled_api_lines(text) == []
    assert "2 hours" in text and "1 day" in text
    assert access_packets.unshown_runbooks("nothing", POLICIES["runbooks"]["runbooks"])


GATE_CASES = {
    "runbook-without-response-window": (lambda d: runbook(d, "disconnect").pop("windows"), COMPLETE),
    "runbook-missing-for-failure-mode": (
        lambda d: d.update(runbooks=[r for r in d["runbooks"] if r["id"] != "drift-conflict"]), COMPLETE),
    "finding-kind-names-no-existing-runbook": (
        lambda d: d.update(runbooks=[r for r in d["runbooks"] if r["id"] != "failed-sync"]), ROUTES),
    "published-runbooks-without-owner": (
        lambda d: runbook(d, "failed-sync").pop("owner"), "The published runbooks show every runbook with its response windows"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(GATE_CASES))
def test_gate_fails_on_planted_runbook_violation(workspace, case):
    plant, scenario = GATE_CASES[case]
    edit_yaml(workspace.policies / "runbooks.yaml", plant)
    workspace.run(tenants=["comfort-launch"]).assert_fails(scenario, REQ)
