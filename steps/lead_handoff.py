"""Steps for features/lead-handoff.feature: the offline handoff cycle and the booking envelope."""

from pytest_bdd import given, then, when

from readiness.sync import handoff, queue


@given("the tenant's website leads awaiting handoff", target_fixture="handoff_tenant")
def leads_awaiting_handoff(tenant):
    return tenant


@when("the offline handoff cycle runs with every network connection blocked", target_fixture="offline_run")
def run_offline_cycle(gate, handoff_tenant):
    policy = queue.QueuePolicy.from_policies(gate.policies)
    run = handoff.offline_run(handoff_tenant, policy, gate.policies["drift"])
    return policy, run.cycle, run.network_attempts


@then("the cycle attempted no network connection")
def no_connection_attempted(offline_run):
    _, _, attempts = offline_run
    assert not attempts, f"connection attempted while offline: {list(attempts)}"


@then("every lead has exactly one local record and one notification fallback record")
def records_per_lead(offline_run, handoff_tenant):
    _, cycle, _ = offline_run
    problems = handoff.record_problems(cycle, [s["lead_id"] for s in handoff_tenant.submissions()])
    assert not problems, problems


@then("every lead's queue item is queued or in review, and none is delivered")
def nothing_delivered(offline_run):
    policy, cycle, _ = offline_run
    assert {item.state for item in cycle.items} <= {"queued", "review"}
    problems = handoff.delivered_offline(cycle, policy)
    assert not problems, problems


@then("no booking envelope carries a field outside the booking allow-list")
def envelopes_within_allow_list(gate, offline_run, scenario_evidence):
    _, cycle, _ = offline_run
    allow_list = gate.policies["envelopes"]["booking"]
    found = [f for h in cycle.handoffs for f in handoff.allow_list_violations(h.envelope, allow_list, h.lead_id)]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("every booking envelope fits ServiceTitan's booking-create request")
def envelopes_conform(offline_run, scenario_evidence):
    _, cycle, _ = offline_run
    found = [f for h in cycle.handoffs for f in handoff.conformance_problems(h.envelope, h.lead_id)]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("preparing each lead again gives the same external id")
def external_ids_stable(offline_run, handoff_tenant):
    _, cycle, _ = offline_run
    problems = handoff.unstable_external_ids(cycle.handoffs, handoff_tenant.profile["tenant_id"])
    assert not problems, problems


@then("no external id contains any of the lead's personal data")
def external_ids_anonymous(gate, offline_run, handoff_tenant):
    _, cycle, _ = offline_run
    problems = handoff.external_ids_with_personal_data(cycle.handoffs, handoff_tenant.submissions(),
                                                       gate.policies["envelopes"]["lead"])
    assert not problems, problems


@then("every queue item of the tenant carries the external id of its lead")
def queue_items_carry_external_id(offline_run, handoff_tenant, scenario_evidence):
    _, cycle, _ = offline_run
    found = handoff.external_id_findings(queue.tenant_snapshot(handoff_tenant), cycle.handoffs)
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("every booking envelope names the job type, business unit and campaign its Titan Map entries give")
def envelopes_follow_titan_map(offline_run, handoff_tenant):
    _, cycle, _ = offline_run
    problems = handoff.mapping_mismatches(cycle.handoffs, handoff_tenant.submissions(), handoff_tenant.titan_map)
    assert not problems, problems


@then("every lead whose mapping is missing or drifted goes to review with the reason")
def unmapped_leads_to_review(offline_run, scenario_evidence):
    _, cycle, _ = offline_run
    scenario_evidence.add(handoff.review_findings(cycle.handoffs))
    problems = handoff.review_routing_problems(cycle)
    assert not problems, problems


@then("no item in the tenant's queue waits as queued or retrying while its lead's mapping is missing or drifted")
def no_unmapped_item_queued(offline_run, handoff_tenant, scenario_evidence):
    _, cycle, _ = offline_run
    found = handoff.queued_unmapped_findings(queue.tenant_snapshot(handoff_tenant), cycle.handoffs)
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)
