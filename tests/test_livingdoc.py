"""Living documentation: one page per feature with this run's results, from the report and the feature files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from readiness.report import document, livingdoc, templates
from reviewer_run import CLAIM_SCENARIO, FAILING_TENANT, SCRIPT_TENANT, shared_planted_run

FEATURE = '''@req-DEMO-ONE
Feature: Demo of every Gherkin part
  A description a reviewer reads
  over two lines.

  Background:
    Given the demo catalog

  Rule: Tables and blocks are shown

    @per-tenant
    Scenario: A data table and a doc string
      Given these job types
        | name        | active |
        | Install <b> | true   |
      Then the note reads
        """
        line one
        <i>line two</i>
        """

  Rule: Outlines show their examples

    @sandbox @sbx-DEMO-01
    Scenario Outline: An outline with <count> items
      Given <count> items
      Then all are counted

      @req-DEMO-TWO
      Examples: small ones
        | count |
        | 1     |
        | 2     |
'''


def record(feature: str, line: int, name: str, status: str, *, tenant=None, reason=None, tags=(), steps=()) -> dict:
    requirements = sorted(t[4:] for t in tags if t.startswith("req-"))
    return {"feature": feature, "line": line, "scenario": name, "tenant": tenant, "tags": sorted(tags),
            "requirements": requirements, "protocol_tests": [], "status": status, "reason": reason,
            "steps": list(steps), "findings": [], "sections": {}}


def demo_report(feature: str, records: list[dict], evidence: list[dict]) -> dict:
    return document.build(
        mode="off", scenarios=records,
        requirements=[{"id": "DEMO-ONE", "text": "Demo requirement one"}, {"id": "DEMO-TWO", "text": "Two"}],
        tenants=[{"slug": "acme", "name": "Acme <Heating>", "package": "launch"}],
        evidence=evidence, evidence_root="0" * 64, commit=None, policy_digest="0" * 64,
        generated_at="2026-01-01T00:00:00Z",
    )


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, dict]:
    (tmp_path / "features").mkdir()
    path = tmp_path / "features" / "demo.feature"
    path.write_text(FEATURE, encoding="utf-8")
    name = "features/demo.feature"
    records = [
        record(name, 12, "A data table and a doc string", "failed", tenant="acme", tags=("req-DEMO-ONE", "per-tenant"),
               reason="AssertionError: job type <Install> is inactive",
               steps=[{"keyword": "Given", "name": "the demo catalog", "status": "passed"},
                      {"keyword": "Given", "name": "these job types", "status": "failed"}]),
        record(name, 25, "An outline with <count> items", "pending", tags=("req-DEMO-ONE", "sandbox"),
               reason="awaits sandbox access; unblocked when: an operator supplies credentials."),
        record(name, 25, "An outline with <count> items", "dry-run-passed", tags=("req-DEMO-TWO", "sandbox"),
               steps=[{"keyword": "Given", "name": "2 items", "status": "passed"},
                      {"keyword": "Then", "name": "all are counted", "status": "passed"}]),
    ]
    built = demo_report(name, records, [{"path": name, "sha256": livingdoc._digest(path)}])
    return tmp_path, built


def test_a_feature_page_shows_rules_background_tables_doc_strings_and_examples(demo):
    root, built = demo
    written = livingdoc.write(built, root / "out", templates.environment(), root)
    assert sorted(p.name for p in written) == ["demo.html", "index.html"]
    page = (root / "out" / "features" / "demo.html").read_text(encoding="utf-8")
    assert "Demo of every Gherkin part" in page and "A description a reviewer reads\nover two lines." in page
    assert "Background:" in page and "the demo catalog" in page
    assert "Rule:</span> Tables and blocks are shown" in page and "Rule:</span> Outlines show their examples" in page
    assert '<th scope="col">name</th>' in page and "<td>Install &lt;b&gt;</td>" in page
    assert '<pre class="docstring">line one\n&lt;i&gt;line two&lt;/i&gt;</pre>' in page
    assert "<caption>Examples: small ones</caption>" in page and "<td>2</td>" in page
    assert "Scenario Outline:</span> An outline with &lt;count&gt; items" in page


def test_tags_become_requirement_and_protocol_chips_linking_to_the_requirement_table(demo):
    root, built = demo
    livingdoc.write(built, root / "out", templates.environment(), root)
    page = (root / "out" / "features" / "demo.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="chip req" href="../readiness.html#req-DEMO-ONE" title="Demo requirement one">', page)
    assert 'href="../readiness.html#req-DEMO-TWO"' in page  # from the Examples block
    assert "protocol test DEMO-01" in page and "needs sandbox access" in page and "runs once per tenant" in page


def test_each_scenario_shows_its_status_per_tenant_with_message_reason_and_dry_run(demo):
    root, built = demo
    livingdoc.write(built, root / "out", templates.environment(), root)
    page = (root / "out" / "features" / "demo.html").read_text(encoding="utf-8")
    table_scenario = page[page.index('id="scenario-12"'):page.index('id="scenario-25"')]
    assert "Acme &lt;Heating&gt; <small>(acme)</small>" in table_scenario
    assert 'class="status-failed"><span class="word">failed' in table_scenario
    assert "job type &lt;Install&gt; is inactive" in table_scenario and "failed at step: Given these job types" in table_scenario
    outline = page[page.index('id="scenario-25"'):]
    assert "awaits sandbox access; unblocked when: an operator supplies credentials." in outline
    assert "dry run passed (simulator, not evidence)" in outline
    assert "example as run: 2 items; all are counted" in outline  # tells the rows of an outline apart
    assert 'class="scenario headline-pending" id="scenario-25"' in page  # the worst status heads the scenario: pending, not the dry run
    index = (root / "out" / "features" / "index.html").read_text(encoding="utf-8")
    assert 'href="demo.html#scenario-12"' in index and 'data-search="features/demo.feature a data table' in index


def test_a_scenario_with_no_result_says_it_did_not_run(demo):
    root, built = demo
    built["scenarios"] = [s for s in built["scenarios"] if s["line"] != 12]
    livingdoc.write(built, root / "out", templates.environment(), root)
    page = (root / "out" / "features" / "demo.html").read_text(encoding="utf-8")
    assert "no result for this scenario in the report" in page[page.index('id="scenario-12"'):]


def test_a_feature_changed_since_the_run_is_flagged(demo):
    root, built = demo
    (root / "features" / "demo.feature").write_text(FEATURE.replace("over two lines", "edited"), encoding="utf-8")
    livingdoc.write(built, root / "out", templates.environment(), root)
    assert "this feature file changed after the run" in (root / "out" / "features" / "demo.html").read_text()


def test_a_missing_or_broken_feature_file_gets_a_page_that_says_so(demo):
    root, built = demo
    (root / "features" / "demo.feature").write_text("Feature: x\n  Scenario: y\n    Given z\n  Nonsense line\n")
    built["evidence"].append({"path": "features/gone.feature", "sha256": "0" * 64})
    livingdoc.write(built, root / "out", templates.environment(), root)
    broken = (root / "out" / "features" / "demo.html").read_text(encoding="utf-8")
    assert "This feature could not be shown" in broken and "invalid Gherkin" in broken
    gone = (root / "out" / "features" / "gone.html").read_text(encoding="utf-8")
    assert "was not found when this page was written" in gone


def test_pages_of_removed_features_do_not_linger(demo):
    root, built = demo
    stale = root / "out" / "features" / "old.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    livingdoc.write(built, root / "out", templates.environment(), root)
    assert not stale.exists()


@pytest.mark.parametrize("path, page", [
    ("features/claims.feature", "claims.html"),
    ("features/sub dir/x.feature", "sub-dir--x.html"),
    ("elsewhere/y.feature", "elsewhere--y.html"),
])
def test_page_names(path, page):
    assert livingdoc.page_name(path) == page
    assert livingdoc.feature_page(path) == f"features/{page}"


def test_headline_is_the_worst_status():
    assert livingdoc.headline(["passed", "pending", "failed"]) == "failed"
    assert livingdoc.headline(["dry-run-passed", "passed"]) == "dry-run-passed"
    assert livingdoc.headline([]) == "not-run"


# --- the gate run writes the pages, and a re-render from readiness.json alone gives the same pages ---

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_planted_run(tmp_path_factory)


def test_the_gate_writes_a_page_per_feature_and_an_index(run):
    folder = run.report_dir / "features"
    expected = {livingdoc.page_name(p.relative_to(ROOT).as_posix()) for p in (ROOT / "features").glob("*.feature")}
    assert {p.name for p in folder.glob("*.html")} == expected | {"index.html"}
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    assert 'href="features/index.html"' in html and 'href="features/claims.html#scenario-' in html


def test_a_failed_tenant_shows_its_message_and_a_pending_scenario_its_unblock_condition(run):
    failing = run.scenario(CLAIM_SCENARIO, FAILING_TENANT)
    claims = (run.report_dir / "features" / "claims.html").read_text(encoding="utf-8")
    section = claims[claims.index(f'id="scenario-{failing["line"]}"'):]
    row = section[section.index(f"({FAILING_TENANT})"):]
    row = row[:row.index("</tr>")]
    assert "failed" in row and "approved servicetitan partner" in row and "failed at step: Then no forbidden claim" in row
    assert f"({SCRIPT_TENANT})" in section
    pending = [s for s in run.report["scenarios"] if s["status"] == "pending"]
    protocol_page = (run.report_dir / "features" / livingdoc.page_name(pending[0]["feature"])).read_text()
    assert "pending" in protocol_page and "unblocked when:" in protocol_page and "protocol test TOKEN-01" in protocol_page


def test_every_requirement_chip_lands_on_a_row_of_the_requirement_table(run):
    html = (run.report_dir / "readiness.html").read_text(encoding="utf-8")
    rows = set(re.findall(r'<tr id="req-([^"]+)"', html))
    chips = set()
    for page in (run.report_dir / "features").glob("*.html"):
        chips |= set(re.findall(r'href="../readiness.html#req-([^"]+)"', page.read_text(encoding="utf-8")))
    assert chips and chips <= rows


def test_a_report_re_rendered_from_its_json_alone_gets_the_same_pages(run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # feature paths in the report are relative to the repository
    loaded = document.load(run.report_dir / "readiness.json")
    document.write(loaded, tmp_path)
    for page in (run.report_dir / "features").glob("*.html"):
        assert (tmp_path / "features" / page.name).read_text() == page.read_text(), page.name
    assert (tmp_path / "readiness.html").read_text() == (run.report_dir / "readiness.html").read_text()
