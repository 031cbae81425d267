"""Security packet, personal-data masking and the audit of the gate's own outputs."""

from __future__ import annotations

import html
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.boundaries import credentials, privacy, security
from readiness.report import packets, document
from readiness.core.policy import PolicySet
from readiness.core.tenants import discover

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(ROOT / "policies")


@pytest.fixture(scope="module")
def packet(policies) -> str:
    return packets.render_all(policies, discover(ROOT / "fixtures/tenants"))[security.PACKET]


def test_packet_states_every_topic(packet, policies):
    assert security.missing_topics(packet) == []
    for name in policies["envelopes"]["booking"]["fields"]:
        assert f"`{name}`" in packet
    assert "400 days" in packet and "365 days" in packet
    assert "comfort-launch" not in packet  # rendered from the policies alone: the same for every shard of a run


@pytest.mark.parametrize("topic, cut", [
    ("future encrypted storage", "- Credentials at rest:"),
    ("current no-credential mode", "## 1. Current mode"),
    ("consent artifacts", "## 3. Consent artifacts"),
])
def test_missing_topics_are_named(packet, topic, cut):
    assert topic in security.missing_topics(packet.replace(cut, "- Something else:"))


def test_packet_is_clean(packet, policies):
    gate = SimpleNamespace(policies=policies, records={})
    assert security.audit_text(gate, "packets/security-packet.md", packet) == []


def test_audit_reports_credentials_personal_data_and_claims_without_values(policies):
    gate = SimpleNamespace(policies=policies, records={})
    secret = credentials.SAMPLES["an app key"]()
    text = f"Mail dana.demo@example.com or call 303-555-0142.\n\nkey {secret}\n\nWe are an official ServiceTitan partner.\n"
    problems = "\n".join(security.audit_text(gate, "readiness.md", text))
    assert "unmasked email" in problems and "unmasked phone" in problems
    assert "servicetitan-app-key" in problems and "forbidden claim" in problems
    assert secret not in problems and "dana.demo" not in problems


def quoted_findings(gate) -> list[str]:
    return security._quoted_findings(gate, security._scanners(gate)[1])


def test_audit_does_not_judge_quoted_findings_again(policies):
    quote = 'partner-approval (CLAIM-APPROVAL): "we are an official servicetitan partner.". Say instead: x'
    gate = SimpleNamespace(policies=policies, records={"n": {"findings": [{"detail": quote}], "reason": None}})
    assert security.audit_text(gate, "readiness.md", f"Finding: {quote}\n", quoted_findings(gate)) == []


def test_audit_blanks_quoted_claims_and_judges_the_rest(policies):
    """Each quoted claim is blanked as written and as the HTML report escapes it; a claim outside them is found."""
    quotes = [f'tenant {n} site (CLAIM-APPROVAL): "we are an official servicetitan partner & more". Say instead: x'
              for n in range(40)]
    gate = SimpleNamespace(policies=policies, records={f"n{n}": {"findings": [{"detail": q}], "reason": None}
                                                       for n, q in enumerate(quotes)})
    quoted = quoted_findings(gate)
    page = "".join(f"<p>Finding: {html.escape(q)}</p>\n" for q in quotes[::-1])
    assert security.audit_text(gate, "readiness.html", page, quoted) == []
    assert security.audit_text(gate, "readiness.md", "\n\n".join(quotes), quoted) == []
    problems = security.audit_text(gate, "readiness.html", page + "<p>We are an official ServiceTitan partner.</p>",
                                   quoted)
    assert len(problems) == 1 and "forbidden claim" in problems[0]


def test_only_quotes_holding_a_claim_are_blanked(policies):
    """Details without a claim (a lead under review, a drifted record) cannot be judged again, so they cost no pass
    over the report; an agency's tenants bring thousands of them."""
    claim = 'partner-approval (CLAIM-APPROVAL): "we are an official servicetitan partner.". Say instead: x'
    plain = [f"lead lead-{n:04d} review since 2026-11-09: no entry in the Titan Map." for n in range(50)]
    gate = SimpleNamespace(policies=policies, records={
        "a": {"findings": [{"detail": d} for d in plain], "reason": None},
        "b": {"findings": [], "reason": claim}})
    assert quoted_findings(gate) == [claim]


def test_audit_outputs_reads_every_written_file(policies, tmp_path):
    gate = SimpleNamespace(policies=policies, records={}, options=SimpleNamespace(report_dir=tmp_path))
    (tmp_path / "packets").mkdir()
    clean = tmp_path / "packets" / "x.md"
    clean.write_text("Nothing to see.\n")
    leaky = tmp_path / "readiness.md"
    leaky.write_text("Reach 12 Harbor View Road.\n")
    missing = tmp_path / "gone.md"
    problems = security.audit_outputs(gate, [clean, leaky, missing])
    assert problems[0] == "readiness.md: line 1: unmasked street address"
    assert problems[1].startswith("gone.md: cannot be read back")


@pytest.mark.parametrize("text, masked", [
    ("jordan.cl01@example.net", "[email j…]"),
    ("303-555-0108", "[phone …08]"),
    ("(303) 555-0108", "[phone …08]"),
    ("+1 303 555 0108", "[phone …08]"),
    ("1418 Quillfeather Lane", "[street address]"),
    ("77 Thistledown Court, Eastbrook Park", "[street address], Eastbrook Park"),
])
def test_masking(text, masked):
    assert privacy.mask_text(text) == masked
    assert privacy.describe(privacy.mask_text(text)) == []


@pytest.mark.parametrize("text", [
    "tenant 900000101, job 28001, 2026-11-02T15:04:05Z",
    "4 website service pages, 2 lead sources and 1 offers",
    "1001 HVAC Service",
    "web-08b4417369de9ab5",
])
def test_ids_dates_and_counts_are_not_personal_data(text):
    assert privacy.mask_text(text) == text


def _whole_text_hits(text: str) -> list[privacy.Hit]:
    """The patterns run over the whole text at once: what ``privacy.find``'s segment-by-segment judging must equal."""
    hits = []
    for kind, pattern in privacy.KINDS.items():
        hits += [privacy.Hit(kind, m.start(), m.end()) for m in pattern.finditer(text)
                 if kind != "street address" or privacy._CAPITALISED.match(m.group(0))]
    return hits


PIECES = ["(303) 555-0108", "+1 303.555.0108", "1418 N. Quillfeather Lane", "dana.demo@example.com", "303", "555", "0108", "(303)", "+1", "1418", "7", "Quillfeather", "Lane", "st", "Court", "N.", "O'Neil",
          "dana.demo", "@", "example.com", "x_y", "é", " ", "\n", "-", ".", "_", "+", "%", "'", '"', "<b>", "</b>",
          ",", ":", ";", "=", "|", "/", "{", "}", "[", "]", "&amp;", "#", "!", "?", "*", "\\", "a", "Z", "9",
          "٥", "\xa0"]  # a digit and a space outside ASCII


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_judging_segments_finds_what_the_whole_text_holds(text):
    assert privacy.find(text) == _whole_text_hits(text)
    assert privacy.find(text * 3) == _whole_text_hits(text * 3)  # the remembered segments answer again


def test_report_masks_findings_and_reasons():
    finding = {"kind": "k", "subject": "lead 303-555-0142", "severity": "blocker", "runbook": None,
               "detail": "mail dana.demo@example.com at 12 Harbor View Road"}
    record = {"feature": "f", "line": 1, "scenario": "s", "tenant": None, "tags": [], "requirements": [],
              "protocol_tests": [], "steps": [], "status": "failed", "reason": finding["detail"],
              "findings": [finding], "sections": {}}
    built = document.build(mode="off", scenarios=[record], requirements=[], tenants=[], evidence=[], evidence_root="",
                         commit=None, policy_digest="", generated_at="", gate_problems=[])
    text = str(built) + document.render(built, "readiness.md.j2") + document.render(built, "readiness.html.j2")
    assert privacy.describe(text) == []


# ---------------------------------------------------------------------------------------------- the gate

SLUG = "comfort-launch"


def _edit(workspace, change) -> None:
    path = workspace.policies / "data-boundaries.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.slow
def test_gate_fails_when_the_packet_no_longer_states_encrypted_storage(workspace):
    _edit(workspace, lambda d: d["tokens"]["future"].update(
        credentials_at_rest="Kept in the application database next to the queue, for convenience."))
    workspace.run(tenants=[SLUG]).assert_fails("The security packet states every required topic", "SEC-PACKET")


@pytest.mark.slow
def test_gate_fails_on_a_claim_in_the_packet(workspace):
    _edit(workspace, lambda d: d["titan_map"].update(
        description="The Titan Map is the heart of our official ServiceTitan partner app, ids and names only."))
    result = workspace.run(tenants=[SLUG])
    result.assert_fails("The security packet makes no forbidden claim", "SEC-PACKET")


@pytest.mark.slow
def test_gate_fails_on_personal_data_in_the_packet(workspace):
    _edit(workspace, lambda d: d["consent"].update(
        description="Every lead references a consent artifact; questions go to privacy.desk@example.com."))
    result = workspace.run(tenants=[SLUG])
    result.assert_fails("The security packet holds no credential and no personal data", "SEC-PACKET")
    assert any("unmasked email" in p for p in result.report["gate"]["problems"])


@pytest.mark.slow
def test_gate_output_audit_fails_on_personal_data_in_the_report(workspace):
    path = workspace.tenant(SLUG) / "tenant.yaml"
    path.write_text(path.read_text().replace("name: Comfort Heating & Air (demo)",
                                             "name: Comfort Heating & Air (call 303-555-0199)"))
    result = workspace.run(tenants=[SLUG])
    assert result.exit_code != 0, result.output[-2000:]
    assert result.report["gate"]["status"] == "failed"
    assert any("unmasked phone" in p for p in result.report["gate"]["problems"])


@pytest.mark.slow
def test_gate_passes_and_writes_the_packet(workspace):
    result = workspace.run(tenants=[SLUG])
    assert result.exit_code == 0, result.output[-3000:]
    packet = (result.report_dir / "packets" / security.PACKET).read_text()
    assert security.missing_topics(packet) == []
    html = (result.report_dir / "readiness.html").read_text()
    assert 'id="security-packet"' in html
    assert "security-packet" in result.report["product"]["sections"]
