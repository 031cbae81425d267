"""Steps for features/attribution.feature: leads to outcomes, and the proof packet that reports them."""

from pytest_bdd import given, then, when

from readiness.mapping import attribution
from readiness.report import proof


@given("the tenant's website leads and outcome exports", target_fixture="attribution_check")
def attribution_check(gate, tenant):
    return attribution.check(tenant, gate.policies)


@when("each lead is matched to its outcome by the attribution rules in order of confidence")
def match_leads(attribution_check, scenario_evidence):
    scenario_evidence.add(attribution_check.findings)
    scenario_evidence.sections["attribution"] = attribution_check.section


@then("no attribution problem is found that the attribution policy says blocks the gate")
def no_blocking_attribution(attribution_check):
    assert not attribution_check.blocking, "\n".join(str(f) for f in attribution_check.blocking)


@given("the tenant's proof packet", target_fixture="proof_packet")
def proof_packet(gate, tenant):
    return proof.packet(gate.policies, tenant)


@then("it says its figures come from customer-supplied exports or are demo outcomes")
def packet_states_source(proof_packet):
    problem = proof.source_problem(proof_packet)
    assert problem is None, problem


@then("it never calls its figures API-verified")
def packet_not_api_verified(proof_packet):
    problem = proof.verification_problem(proof_packet)
    assert problem is None, problem


@then("its list of leads for manual review shows no contact details")
def packet_masks_review_list(proof_packet, tenant):
    problems = proof.contact_leaks(proof_packet, tenant)
    assert not problems, "\n".join(problems)
