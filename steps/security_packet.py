"""Steps for features/security-packet.feature: the rendered packet and the audit of the gate's own outputs."""

from pytest_bdd import given, then, when

from readiness.boundaries import claims, credentials, privacy, security
from readiness.gate import run as gate_module
from readiness.report import document, packets


@given("the security packet rendered from the policies", target_fixture="packet_text")
def packet_text(gate, scenario_evidence):
    scenario_evidence.sections[security.SECTION] = security.packet_model(gate.policies)
    return packets.security_packet(gate.policies, gate.tenants)[security.PACKET]  # the renderer the run writes with


@then("it states the current no-credential mode, data minimization per envelope, consent artifacts, "
      "retention windows and future encrypted storage")
def states_every_topic(gate, packet_text):
    missing = security.missing_topics(packet_text)
    missing += [f"envelope field {name}" for envelope in gate.policies["envelopes"].values()
                for name in envelope["fields"] if f"`{name}`" not in packet_text]
    assert not missing, f"the packet does not state: {', '.join(missing)}"


@then("it makes no forbidden claim")
def packet_no_claim(gate, packet_text, scenario_evidence):
    found = claims.scan_text(packet_text, f"packets/{security.PACKET}",
                             claims.ClaimPolicy.from_policies(gate.policies))
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("it holds no credential and no unmasked e-mail, phone number or street address")
def packet_no_secret_or_personal_data(gate, packet_text, scenario_evidence):
    policy = credentials.CredentialPolicy.from_policies(gate.policies)
    found = [f for f in credentials.scan_text(packet_text, f"packets/{security.PACKET}", policy)
             if f.severity in ("blocker", "major")]
    scenario_evidence.add(found)
    problems = [str(f) for f in found] + privacy.describe(packet_text)
    assert not problems, "\n".join(problems)


@given("a finding that quotes a lead's e-mail, phone number and street address", target_fixture="quoted_finding")
def quoted_finding():
    return {"kind": "forbidden-claim", "subject": "leads/note.md:1", "severity": "blocker", "runbook": None,
            "detail": 'example: "Call Dana at 303-555-0142, dana.demo@example.com, 12 Harbor View Road."'}


@when("the report is built from it", target_fixture="built_report_text")
def build_report_text(gate, quoted_finding):
    record = {"feature": "features/x.feature", "line": 1, "scenario": "x", "tenant": None, "tags": [],
              "requirements": [], "protocol_tests": [], "steps": [], "status": "failed",
              "reason": quoted_finding["detail"], "findings": [quoted_finding], "sections": {}}
    built = document.build(mode=gate.mode, scenarios=[record], requirements=[], tenants=[], evidence=[],
                         evidence_root="", commit=None, policy_digest="", generated_at="", gate_problems=[])
    return document.render(built, "readiness.md.j2") + document.render(built, "readiness.html.j2") + str(built)


@then("the report shows each of them masked")
def report_masked(built_report_text):
    leaks = privacy.describe(built_report_text)
    assert not leaks, "\n".join(leaks)
    assert "[email d…]" in built_report_text and "[phone …42]" in built_report_text


@given("the checks the gate runs over the files it writes", target_fixture="output_audits")
def output_audits():
    assert security.audit_outputs in gate_module.OUTPUT_AUDITS, "the security audit of written files is not registered"
    return security.audit_text


@when("a written file holds a credential, an unmasked e-mail address and a forbidden claim",
      target_fixture="audit_problems")
def audit_planted_document(gate, output_audits):
    secret = credentials.SAMPLES["a client id"]()
    text = f"Ask dana.demo@example.com.\n\nclient: {secret}\n\nWe are an official ServiceTitan partner.\n"
    return output_audits(gate, "planted.md", text), secret


@then("the audit reports each of them without repeating them")
def audit_reports_each(audit_problems):
    problems, secret = audit_problems
    text = "\n".join(problems)
    assert "servicetitan-client-id" in text, text
    assert "unmasked email" in text, text
    assert "forbidden claim" in text, text
    assert secret not in text and "dana.demo" not in text
