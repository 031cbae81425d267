"""The gate spine: options, fail-closed input handling, pending rule, traceability and the report."""

from __future__ import annotations

import json

import pytest

from feature_titles import outline_row, scenario_title

TRACE = "GATE-TRACE"


@pytest.mark.slow
def test_bundled_gate_passes_with_sandbox_scenarios_pending(workspace):
    result = workspace.run()
    assert result.exit_code == 0, result.output[-3000:]
    report = result.report
    pending = [s for s in report["scenarios"] if s["status"] == "pending"]
    assert pending and all("sandbox" in s["tags"] for s in pending)
    assert all(s["reason"].startswith("awaits sandbox access") for s in pending)
    assert report["mode_statement"] == "offline: no sandbox tenant evidence exists"
    planned = {r["id"] for r in report["requirements"] if r["planned"]}
    assert all(r["status"] == "uncovered" for r in report["requirements"] if r["id"] in planned)
    assert report["summary"]["passed"] > 0 and report["summary"]["failed"] == 0
    tenants = {s["tenant"] for s in report["scenarios"]} - {None}
    assert tenants == {p.name for p in workspace.tenants.iterdir()}
    assert (result.report_dir / "readiness.md").read_text().startswith("# ServiceTitan readiness report")
    html = (result.report_dir / "readiness.html").read_text()
    assert "offline: no sandbox tenant evidence exists" in html and "<script" not in html


def _one_line_error(result, *expected: str) -> None:
    assert result.exit_code not in (0, 1), result.output  # a usage error, not a test result
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.output
    for text in expected:
        assert text in errors[0], errors[0]


def test_broken_policy_yaml_names_file_and_line(workspace):
    path = workspace.policies / "claims.yaml"
    path.write_text(path.read_text().replace("forbidden:", "forbidden: [", 1))
    _one_line_error(workspace.run(), "claims.yaml:", "invalid YAML")


def test_policy_schema_violation_names_key_and_line(workspace):
    path = workspace.policies / "requirements.yaml"
    text = path.read_text().replace("  - id: CLAIM-WEBHOOK\n    text:", "  - id: CLAIM-WEBHOOK\n    txt:", 1)
    path.write_text(text)
    _one_line_error(workspace.run(), "requirements.yaml:", "requirements[2].txt", "unknown key 'txt'; did you mean 'text'?")


def test_missing_policy_file_fails_closed(workspace):
    (workspace.policies / "sandbox-protocol.yaml").unlink()
    _one_line_error(workspace.run(), "sandbox-protocol.yaml", "file not found")


def test_policy_without_schema_is_refused(workspace):
    (workspace.policies / "extra.yaml").write_text("rules: []\n")
    _one_line_error(workspace.run(), "extra.yaml", "no schema for this policy")


def test_missing_tenants_folder(workspace):
    result = workspace.run(f"--tenants-dir={workspace.base / 'nowhere'}")
    _one_line_error(result, "--tenants-dir", "folder not found")


def test_unknown_tenant(workspace):
    _one_line_error(workspace.run(tenants=["no-such-tenant"]), "--tenant no-such-tenant", "available:")


def test_sandbox_mode_must_be_known(workspace):
    _one_line_error(workspace.run("--sandbox=production"), "--sandbox production")


CONTRACT = "Every tenant file follows its documented contract"


def _contract_finding(result, tenant: str) -> dict:
    """The one finding of a tenant that did not load: its contract scenario's; every other scenario unjudged."""
    rows = [s for s in result.report["scenarios"] if s["tenant"] == tenant]
    assert rows and all(s["status"] == "failed" for s in rows)
    assert all(s["reason"].startswith("not judged: the tenant did not load") for s in rows if s["scenario"] != CONTRACT)
    [finding] = result.scenario(CONTRACT, tenant)["findings"]
    return finding


@pytest.mark.slow
def test_malformed_export_fails_that_tenant_closed_and_others_still_report(workspace):
    broken = workspace.tenant("comfort-launch") / "exports" / "jpm" / "job-types.json"
    broken.write_text(broken.read_text()[:-20])
    result = workspace.run()
    assert result.exit_code != 0
    finding = _contract_finding(result, "comfort-launch")
    assert finding["subject"].startswith("exports/jpm/job-types.json:") and "invalid JSON" in finding["detail"]
    others = [s for s in result.report["scenarios"] if s["tenant"] not in (None, "comfort-launch")]
    assert others and all(s["status"] != "failed" for s in others)
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_malformed_jsonl_names_the_line(workspace):
    path = workspace.tenant("riverside-growth") / "leads" / "submissions.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:-5]
    path.write_text("\n".join(lines) + "\n")
    result = workspace.run(tenants=["riverside-growth"])
    assert result.exit_code != 0
    assert _contract_finding(result, "riverside-growth")["subject"].startswith("leads/submissions.jsonl:2:")


@pytest.mark.slow
def test_invalid_tenant_profile_names_key(workspace):
    path = workspace.tenant("summit-multi-bu") / "tenant.yaml"
    path.write_text(path.read_text().replace("package: growth", "package: platinum"))
    result = workspace.run(tenants=["summit-multi-bu"])
    assert result.exit_code != 0
    finding = _contract_finding(result, "summit-multi-bu")
    assert finding["subject"] == "tenant.yaml:5:1" and finding["detail"].startswith("package: 'platinum' is not allowed")


# Traceability, proven both ways -------------------------------------------------------------------

@pytest.mark.slow
def test_requirement_without_scenario_fails_the_gate(workspace):
    path = workspace.policies / "requirements.yaml"
    path.write_text(path.read_text() + "  - id: NEW-UNTESTED\n    text: A requirement nobody wrote a scenario for.\n")
    row = workspace.run(tenants=["comfort-launch"]).assert_fails(
        "Every requirement is proven by a scenario unless it is planned", TRACE)
    assert "NEW-UNTESTED" in row["reason"]


@pytest.mark.slow
def test_scenario_naming_unknown_requirement_fails_the_gate(workspace):
    path = workspace.policies / "requirements.yaml"
    text = path.read_text()
    start = text.index("  - id: CLAIM-SANDBOX")
    end = text.index("  - id: PKG-MANUAL")
    path.write_text(text[:start] + text[end:])
    row = workspace.run(tenants=["comfort-launch"]).assert_fails(
        "Every scenario is tied to a known requirement", TRACE)
    assert "@req-CLAIM-SANDBOX" in row["reason"]


@pytest.mark.slow
def test_scenario_without_requirement_fails_the_gate(project):
    untagged = scenario_title("claims.feature", step="the evidence report's statement of this run's mode")
    feature = project.features / "claims.feature"
    text = feature.read_text()
    assert f"    @req-CLAIM-SANDBOX\n    Scenario: {untagged}\n" in text
    feature.write_text(text.replace(f"    @req-CLAIM-SANDBOX\n    Scenario: {untagged}\n", f"    Scenario: {untagged}\n"))
    row = project.run(tenants=["comfort-launch"]).assert_fails("Every scenario is tied to a known requirement", TRACE)
    assert untagged in row["reason"]


@pytest.mark.slow
def test_sandbox_scenario_without_protocol_test_fails_the_gate(project):
    feature = project.features / "sandbox-protocol.feature"
    feature.write_text(feature.read_text().replace("@sbx-TOKEN-01\n", ""))
    project.run(tenants=["comfort-launch"]).assert_fails(
        "Every scenario that needs sandbox access names its protocol test", TRACE)


@pytest.mark.slow
def test_step_without_definition_fails_the_gate(project):
    feature = project.features / "claims.feature"
    feature.write_text(feature.read_text().replace(
        "      Then no forbidden claim is found\n", "      Then no forbidden claim is found\n      And nothing else is wrong\n", 1))
    row = project.run(tenants=["comfort-launch"]).assert_fails("Every step a reviewer reads is carried out by a check", TRACE)
    assert "nothing else is wrong" in row["reason"] or "nothing else is wrong" in json.dumps(row)


@pytest.mark.slow
def test_unused_step_definition_fails_the_gate(project):
    (project.steps / "orphan.py").write_text(
        "from pytest_bdd import then\n\n\n@then('a step nobody wrote in a feature')\ndef orphan():\n    pass\n")
    project.run(tenants=["comfort-launch"]).assert_fails("Every step a reviewer reads is carried out by a check", TRACE)


@pytest.mark.slow
def test_offline_scenario_that_skips_fails_the_gate(project):
    (project.steps / "skipping.py").write_text(
        "import pytest\nfrom pytest_bdd import then\n\n\n@then('the check decides to skip')\n"
        "def skip_it():\n    pytest.skip('not today')\n")
    (project.features / "skipping.feature").write_text(
        "@req-GATE-TRACE\nFeature: A check that skips\n\n  Scenario: An offline check that skips\n"
        "    Then the check decides to skip\n")
    result = project.run(tenants=["comfort-launch"])
    row = result.assert_fails("An offline check that skips", TRACE)
    assert "an offline scenario may not skip" in row["reason"]


@pytest.mark.slow
def test_sandbox_tag_on_examples_block_makes_only_those_rows_pending(project):
    (project.steps / "outline.py").write_text(
        "from pytest_bdd import parsers, then\n\n\n@then(parsers.parse('the number {n:d} is positive'))\n"
        "def positive(n):\n    assert n > 0\n")
    (project.features / "outline.feature").write_text(
        "@req-GATE-TRACE\nFeature: Outline\n\n  Scenario Outline: Numbers are positive\n"
        "    Then the number <n> is positive\n\n    Examples: offline\n      | n |\n      | 1 |\n\n"
        "    @sandbox @sbx-TOKEN-01\n    Examples: needs access\n      | n |\n      | 2 |\n")
    result = project.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]
    rows = [s for s in result.report["scenarios"] if s["scenario"] == "Numbers are positive"]
    assert sorted(s["status"] for s in rows) == ["passed", "pending"]


# Claim boundary (first slice) -------------------------------------------------------------------------

@pytest.mark.slow
def test_approval_claim_in_product_copy_fails_the_gate(workspace):
    page = workspace.product / "site" / "index.html"
    page.write_text(page.read_text().replace("</main>", "<p>We are an official ServiceTitan partner.</p></main>", 1))
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code != 0, result.output[-3000:]
    row = outline_row(result.report, scenario_title("claims.feature", step="the offline product's customer-facing copy"),
                      "they are read for claims forbidden by CLAIM-APPROVAL")
    assert row["status"] == "failed" and "CLAIM-APPROVAL" in row["requirements"]
    finding = row["findings"][0]
    assert finding["subject"].startswith("site/index.html:") and "partner-approval" in finding["detail"]


@pytest.mark.slow
def test_sandbox_claim_in_tenant_document_fails_that_tenant(workspace):
    note = workspace.tenant("riverside-growth") / "evidence" / "sandbox-note.md"
    note.write_text("# Status\n\nThe booking handoff was validated against the ServiceTitan sandbox.\n")
    result = workspace.run()
    result.assert_fails("A tenant's documents claim no approval and no sandbox evidence", "CLAIM-SANDBOX",
                        tenant="riverside-growth")
    ok = result.scenario("A tenant's documents claim no approval and no sandbox evidence", tenant="comfort-launch")
    assert ok["status"] == "passed"


@pytest.mark.parametrize("status", ["passed", "failed", "pending"])
def test_report_html_shows_status_in_words(workspace, status):
    from readiness.report import document

    html = document.render(_tiny_report(status), "readiness.html.j2")
    assert f'<span class="word">{status}</span>' in html


def _tiny_report(status: str) -> dict:
    from readiness.report import document

    scenario = {"feature": "features/x.feature", "line": 1, "scenario": "S", "tenant": None, "tags": ["req-A"],
                "requirements": ["A"], "protocol_tests": [], "status": status, "reason": None, "steps": [],
                "findings": []}
    return document.build(mode="off", scenarios=[scenario], requirements=[{"id": "A", "text": "A requirement."}],
                        tenants=[], evidence=[], evidence_root="0" * 64, commit=None, policy_digest="0" * 64,
                        generated_at="2026-01-01T00:00:00Z")
