"""Claim boundary: normalisation, Future labels, disguises, honest wording; the gate fails on each planted claim."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import example, given, settings, strategies

from feature_titles import outline_row, scenario_title
from readiness.boundaries import claims

ROOT = Path(__file__).resolve().parent.parent
# The gate's claim scenarios, found by what they prove and what they read (titles are the reviewers' words).
PRODUCT_COPY = scenario_title("claims.feature", step="the offline product's customer-facing copy")
TENANT_DOCUMENTS = "the tenant's customer-reviewed documents"
TENANT_APPROVAL_SANDBOX = scenario_title("claims.feature", "per-tenant", "req-CLAIM-SANDBOX", step=TENANT_DOCUMENTS)
TENANT_OVERPROMISE_WEBHOOK = scenario_title("claims.feature", "per-tenant", "req-CLAIM-WEBHOOK", step=TENANT_DOCUMENTS)
EXAMPLES_CAUGHT = scenario_title("claims.feature", step=("the example claims in the claim policy as written",
                                                        "the claim boundary catches every one"))
DISGUISES_CAUGHT = scenario_title("claims.feature", step="disguised with")
FUTURE_LABEL_EXCUSES_ONLY = scenario_title("claims.feature", step="a Future label excuses only")
HONEST_WORDING = scenario_title("claims.feature", step="none of them is reported as a forbidden claim")


def assert_copy_fails(result, requirement: str) -> dict:
    """The gate fails, and the row of the product-copy outline for ``requirement`` is the one that failed."""
    assert result.exit_code != 0, result.output[-3000:]
    row = outline_row(result.report, PRODUCT_COPY, f"they are read for claims forbidden by {requirement}")
    assert row["status"] == "failed" and requirement in row["requirements"], row
    assert any(PRODUCT_COPY in name for name in result.report["gate"]["failed_scenarios"])
    return row


@pytest.fixture(scope="module")
def policy_data() -> dict:
    return yaml.safe_load((ROOT / "policies/claims.yaml").read_text())


@pytest.fixture(scope="module")
def policy(policy_data) -> claims.ClaimPolicy:
    return claims.ClaimPolicy.from_policy(policy_data)


def rules(policy, text: str) -> list[str]:
    return [f.rule for f in claims.scan_text(text, "page.html", policy)]


@pytest.mark.parametrize("raw, expected", [
    ("Ѕеrviсе Тitаn", "servicetitan"),  # Cyrillic lookalikes
    ("Αpprοved", "approved"),  # Greek lookalikes
    ("ap\u200bpro\u200dved\u00ad", "approved"),
    ("appr<span>ov</span>ed", "approved"),
    ("appr<!-- hidden -->oved", "approved"),
    ("&#97;pproved&nbsp;&amp; ok", "approved & ok"),
    ("ＡＰＰＲＯＶＥＤ", "approved"),
    ("Service-Titan\u2011approved", "servicetitan-approved"),
    ("a<script>x<b>y</b></script>c", "ac"),  # script and style are dropped as the reader drops them
])
def test_normalise(raw, expected):
    assert claims.normalise(raw) == expected


def test_normalised_blocks_never_run_together():
    assert claims.normalise("<p>Service</p><p>Titan approved</p>").split(claims.BLOCK_BREAK) == [
        "", "service", "", "titan approved", ""]


@pytest.mark.parametrize("pattern, unanchored", [
    (r"^a$", "a"), (r"[^$]x$", "[^$]x"), (r"[]^$]y", "[]^$]y"), (r"\$5$", r"\$5"), (r"\Aab\Z", "ab"),
    (r"a|^b|c$", "a|b|c"),
])
def test_the_pre_check_drops_anchors_outside_character_classes(pattern, unanchored):
    assert claims._unanchored(pattern) == unanchored


@pytest.mark.parametrize("document", [
    "<p>We receive ServiceTitan webhooks.</p><p>Call us today.</p>",  # a pattern anchored at the sentence's end
    "We are ServiceTitan approved<script>var ok = 1;",  # hidden text after it never joins the claim's last word
    "<p>We are ServiceTitan approved</p><style>p {}</style>",
])
def test_a_claim_inside_a_longer_document_is_found(policy, document):
    assert rules(policy, document)


@given(strategies.text(alphabet=strategies.characters(max_codepoint=127)))
def test_ascii_fast_path_collapses_white_space_as_split_does(text):
    reference = claims._SERVICETITAN.sub("servicetitan", " ".join(text.lower().split()))
    assert claims._normalise_plain(text) == reference


class _EveryChunkWalked(claims._Reader):
    """The reader without its shortcut for white space between tags: every chunk goes through the line walk."""

    def add_text(self, text: str, offset: int) -> None:
        if not self.hidden:
            self._add_lines(text, offset)


DOCUMENT_PIECES = ["<p>", "</p>", "<li>", "</li>", "<h2>", "</h2>", "<span>", "</span>", '<div class="future">',
                   "</div>", "<script>", "</script>", "<br>", "Future:", "# Heading", "- item", "1. step", "| a |",
                   "ServiceTitan approved", "we sync", "bookings.", "Today", " ", "  ", "\n", "\n\n", "\n  \n",
                   "\t", "\r", "\u00a0"]


@settings(max_examples=400, deadline=None)
@given(strategies.lists(strategies.sampled_from(DOCUMENT_PIECES), max_size=60).map("".join))
@example("we sync<span>\n\n</span>bookings. Today<span>\n</span>approved")
def test_white_space_shortcut_reads_the_same_blocks_as_the_line_walk(document):
    def blocks(reader):
        return [(block.line, "".join(block.parts), block.future) for block in reader.read()]

    assert blocks(claims._Reader(document)) == blocks(_EveryChunkWalked(document))


CLAIM_PIECES = ["<p>", "</p>", "<li>", "<h2>", "</h2>", "<span>", "</span>", '<div class="future">', "</div>",
                "<script>", "</script>", "<style>", "<!--", "-->", '<td title="<p>">', "<br>", "Future:", "# Future",
                "no production webhook endpoint is claimed.", "our production webhook endpoint", "is live.",
                "ServiceTitan approved", "auto", "matically books jobs.", "We receive webhooks.", "<STYLE>", "</script >",
                "Today", " ", "\n", "\n\n"]


@settings(max_examples=400, deadline=None)
@given(strategies.lists(strategies.sampled_from(CLAIM_PIECES), max_size=50).map("".join))
@example("<p>no production webhook endpoint is claimed.</p><p>our production webhook endpoint is live.</p>")
@example("<script><p>x</script>our production webhook endpoint<p>no production webhook endpoint is claimed.")
def test_the_piecewise_pre_check_clears_only_what_the_whole_read_clears(policy, document):
    """A piece is cut at every block tag here: a document the pre-check clears has no finding when read whole."""
    def found():
        return [(f.subject, f.rule) for f in claims.scan_text(document, "page.html", policy)]

    with mock.patch.object(claims, "_PIECE", 1):
        piecewise = found()
    with mock.patch.object(claims, "_may_claim", lambda raw, policy: True):
        whole = found()
    assert piecewise == whole


def test_an_allowed_phrasing_elsewhere_in_a_long_report_does_not_clear_a_claim(policy):
    rows = "".join(f"<tr><td>tenant {n}</td><td>passed</td></tr>\n" for n in range(10000))
    report = (f"<html><body><p>No production webhook endpoint is claimed.</p><table>{rows}</table>"
              f"<p>Our production webhook endpoint receives every job update.</p></body></html>")
    assert len(report) > 4 * claims._PIECE
    [finding] = claims.scan_text(report, "readiness.html", policy)
    assert finding.rule == "production-webhook" and finding.subject == f"readiness.html:{report.count(chr(10)) + 1}"


def test_line_break_inside_a_phrase_is_one_sentence_on_its_first_line(policy):
    [finding] = claims.scan_text("Intro.\n\nWe are an official\nServiceTitan\npartner.\n", "a.md", policy)
    assert finding.subject == "a.md:3"
    assert '"we are an official servicetitan partner."' in finding.detail
    assert "Say instead:" in finding.detail


@pytest.mark.parametrize("text", [
    "Future: real-time sync of every lead.",
    "- Future: automatic booking handoff to ServiceTitan.",
    "## Future\n\nOur website integrates seamlessly with ServiceTitan.\n",
    "<section class=\"future\"><p>Website requests are automatically booked.</p></section>",
    "<h2>Future: planned</h2><ul><li>Real-time sync</li><li>Automatic attribution</li></ul>",
    "No marketplace or partner approval is claimed.",
    "It does not mean the website is connected to ServiceTitan.",
    "Today there is no webhook receiver.",
    "Your office books the job in ServiceTitan by hand.",
    "Nothing is sent anywhere automatically.",
])
def test_honest_wording_and_future_labels_pass(policy, text):
    assert rules(policy, text) == []


@pytest.mark.parametrize("text, rule", [
    ("<h2>Future</h2><p>x</p><h2>Today</h2><p>Real-time sync of every lead.</p>", "automatic-now"),
    ("<section class=\"future\"><p>Later.</p></section><p>Website requests are automatically booked.</p>",
     "automatic-now"),
    ("## Future\n\nLater.\n\n## Today\n\nOur website integrates seamlessly with ServiceTitan.\n", "integrates-now"),
    ("Future: we are an official ServiceTitan partner.", "partner-approval"),
    ("Future: we passed the sandbox validation tests.", "sandbox-evidence"),
    ("Future: events arrive at https://hooks.example.com/webhooks.", "webhook-endpoint-url"),
    ("<p>Our production webhook endpoint receives every job update.</p>", "production-webhook"),
    ("Ѕervicеtitаn pаrtner since 2024.", "partner-approval"),
    ("<p>Service<b>Titan</b>-<i>certified</i> partner</p>", "partner-approval"),
])
def test_claims_outside_future_or_never_excused_are_caught(policy, text, rule):
    assert rules(policy, text) == [rule]


def test_script_and_style_are_not_copy(policy):
    assert rules(policy, "<style>.official-partner{}</style><script>var x='approved integration';</script>") == []


def test_requirement_filter(policy_data):
    only_webhook = claims.ClaimPolicy.from_policy(policy_data, ["CLAIM-WEBHOOK"])
    assert claims.scan_text("We are an official ServiceTitan partner.", "x", only_webhook) == []


@pytest.mark.parametrize("disguise", sorted(claims.DISGUISES))
def test_policy_examples_caught_in_every_disguise(policy_data, disguise):
    assert claims.missed_examples(policy_data, disguise) == []


def test_self_checks_catch_a_broken_policy(policy_data):
    broken = yaml.safe_load(yaml.safe_dump(policy_data))
    broken["forbidden"][0]["patterns"] = ["nothing-will-match-this"]
    assert claims.missed_examples(broken)
    lax = yaml.safe_load(yaml.safe_dump(policy_data))
    next(r for r in lax["forbidden"] if r["id"] == "partner-approval")["unless_future"] = True
    assert claims.future_label_excuses(lax)
    strict = yaml.safe_load(yaml.safe_dump(policy_data))
    strict["forbidden"][1]["patterns"].append(r"\btoday\b")
    assert claims.reported_honest_examples(strict)


def test_unreadable_file_is_a_finding(policy, tmp_path):
    (tmp_path / "page.html").symlink_to(tmp_path / "missing.html")
    [finding] = claims.scan_files([tmp_path / "page.html"], policy, tmp_path)
    assert finding.kind == "claim-unreadable" and finding.severity == "blocker"


# ---------------------------------------------------------------------------------------------- the gate

def page(workspace, name: str, body: str) -> Path:
    path = workspace.product / "site" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_gate_fails_on_a_homoglyph_approval_claim(workspace):
    page(workspace, "about.html", "<p>We are a ServiceTitan аpprovеd integration.</p>")
    result = workspace.run(tenants=["comfort-launch"])
    assert_copy_fails(result, "CLAIM-APPROVAL")
    [finding] = [f for f in result.report["product"]["findings"] if f["kind"] == "forbidden-claim"]
    assert finding["subject"] == "site/about.html:3"


@pytest.mark.slow
def test_gate_fails_on_a_claim_split_by_html_tags(workspace):
    page(workspace, "about.html", "<p>Listed on the Service<span>Titan</span>\n<em>Market</em>place.</p>")
    assert_copy_fails(workspace.run(tenants=["comfort-launch"]), "CLAIM-APPROVAL")


@pytest.mark.slow
def test_gate_fails_on_an_overpromise_outside_a_future_label(workspace):
    page(workspace, "services.html", "<h2>Future</h2><p>Later.</p>\n<h2>Today</h2><p>Real-time sync with ServiceTitan.</p>")
    assert_copy_fails(workspace.run(tenants=["comfort-launch"]), "CLAIM-OVERPROMISE")


@pytest.mark.slow
def test_gate_passes_the_same_capability_under_a_future_label(workspace):
    page(workspace, "services.html",
         "<section class=\"future\"><h2>Future: planned</h2>\n<p>Real-time sync with ServiceTitan.</p></section>\n"
         "<p>No marketplace or partner approval is claimed. There is no webhook receiver.</p>")
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]


@pytest.mark.slow
def test_gate_fails_on_a_production_webhook_endpoint(workspace):
    page(workspace, "developers.html", "<p>Our production webhook endpoint receives every job update.</p>")
    assert_copy_fails(workspace.run(tenants=["comfort-launch"]), "CLAIM-WEBHOOK")


@pytest.mark.slow
def test_gate_fails_on_a_webhook_claim_mid_page(workspace):
    """A pattern that ends at its sentence's end finds the sentence with more of the page after it."""
    page(workspace, "developers.html", "<h1>Developers</h1>\n<p>Our website receives ServiceTitan webhooks.</p>\n"
                                       "<p>Questions? Call the office.</p>\n")
    assert_copy_fails(workspace.run(tenants=["comfort-launch"]), "CLAIM-WEBHOOK")


@pytest.mark.slow
def test_gate_fails_on_an_overpromise_in_a_tenant_document(workspace):
    note = workspace.tenant("riverside-growth") / "evidence" / "welcome-letter.md"
    note.write_text("# Welcome\n\nYour website leads are\nautomatically booked in ServiceTitan.\n")
    workspace.run(tenants=["riverside-growth"]).assert_fails(
        TENANT_OVERPROMISE_WEBHOOK,
        "CLAIM-OVERPROMISE", tenant="riverside-growth")


@pytest.mark.slow
def test_gate_fails_on_sandbox_evidence_in_a_tenant_document(workspace):
    note = workspace.tenant("comfort-launch") / "evidence" / "titan-map-review-2026-11-18.md"
    note.write_text(note.read_text() + "\nThe mapping was valid&#97;ted in the ServiceTitan sandbox.\n")
    workspace.run(tenants=["comfort-launch"]).assert_fails(
        TENANT_APPROVAL_SANDBOX, "CLAIM-SANDBOX", tenant="comfort-launch")


def _edit_policy(workspace, change) -> None:
    path = workspace.policies / "claims.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.mark.slow
def test_gate_fails_when_a_rule_no_longer_catches_its_examples(workspace):
    _edit_policy(workspace, lambda d: d["forbidden"][1].update(patterns=["never-matches-anything"]))
    workspace.run(tenants=["comfort-launch"]).assert_fails(
        EXAMPLES_CAUGHT, "CLAIM-APPROVAL")


@pytest.mark.slow
def test_gate_fails_when_an_allowed_phrase_swallows_claims(workspace):
    _edit_policy(workspace, lambda d: d["allowed"].append(
        {"id": "everything", "pattern": "servicetitan", "reason": "far too broad an allowance"}))
    workspace.run(tenants=["comfort-launch"]).assert_fails(
        DISGUISES_CAUGHT, "CLAIM-OVERPROMISE")


@pytest.mark.slow
def test_gate_fails_when_a_future_label_would_excuse_approval(workspace):
    _edit_policy(workspace, lambda d: d["forbidden"][1].update(unless_future=True))
    workspace.run(tenants=["comfort-launch"]).assert_fails(
        FUTURE_LABEL_EXCUSES_ONLY, "CLAIM-APPROVAL")


@pytest.mark.slow
def test_gate_fails_when_honest_wording_is_reported(workspace):
    _edit_policy(workspace, lambda d: d["forbidden"][1]["patterns"].append(r"\btoday\b"))
    workspace.run(tenants=["comfort-launch"]).assert_fails(HONEST_WORDING, "CLAIM-OVERPROMISE")
