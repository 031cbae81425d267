"""Steps for features/sync-queue.feature: the queue policy, tenants' queue snapshots and the retry policy."""

from datetime import datetime, timezone

from pytest_bdd import given, parsers, then, when

from readiness.sync import queue

_YES_NO = {"yes": True, "no": False}


@given("the sync queue policy", target_fixture="queue_policy")
def sync_queue_policy(gate):
    return queue.QueuePolicy.from_policies(gate.policies)


@then("it defines these queue states:")
def defines_states(queue_policy, datatable):
    expected = [(row[0], _YES_NO[row[1]], _YES_NO[row[2]]) for row in datatable[1:]]
    actual = [(name, bool(s.get("terminal")), bool(s.get("requires_connection")))
              for name, s in queue_policy.states.items()]
    assert actual == expected


@then("every reason for review or blocked names the runbook that handles it")
def reasons_name_runbooks(queue_policy):
    missing = [name for name, r in queue_policy.reasons.items()
               if r["state"] in queue.OPERATOR_STATES and not r.get("runbook")]
    assert not missing, missing


@then("the report shows the queue's state diagram drawn from the policy, with a text alternative")
def state_diagram(queue_policy, scenario_evidence):
    view = queue.policy_view(queue_policy)
    drawn = {node["id"] for node in view["diagram"]["nodes"]}
    edges = {(e["from"], e["to"]) for e in view["diagram"]["edges"]}
    assert drawn == set(queue_policy.states)
    assert edges == {(t["from"], t["to"]) for t in view["transitions"]}
    scenario_evidence.sections["queue"] = view


@given("the tenant's sync queue snapshot", target_fixture="queue_snapshot")
def tenant_queue_snapshot(tenant):
    return queue.tenant_snapshot(tenant)


@when("the snapshot is checked against the sync queue policy", target_fixture="queue_problems")
def check_queue_snapshot(gate, tenant):
    return queue.tenant_problems(tenant, queue.QueuePolicy.from_policies(gate.policies))


@then(parsers.parse("no queue item shows {rule}"))
def no_item_breaks(queue_problems, rule, scenario_evidence):
    found = queue.findings_of(queue_problems, rule)
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("the report lists every item in review or blocked with its reason, runbook and age")
def operator_view(gate, queue_snapshot, scenario_evidence):
    policy = queue.QueuePolicy.from_policies(gate.policies)
    view = queue.operator_view([line.item for line in queue_snapshot], policy)
    found = queue.operator_findings(queue_snapshot, policy)
    scenario_evidence.add(found)
    scenario_evidence.sections["queue"] = view
    listed = {row["item_id"] for row in view["attention"] if row["runbook"] and row["reason"]}
    assert listed == {line.item.item_id for line in queue_snapshot if line.item.state in queue.OPERATOR_STATES}
    assert len(found) == len(listed)


@when("a queued handoff's delivery fails with these answers:", target_fixture="rehearsal")
def delivery_fails(queue_policy, datatable):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    item = queue.intake("rehearsal", "rehearsal-lead", "web-rehearsal", start, queue_policy)
    steps = []
    for row in datatable[1:]:
        moment = item.next_attempt_at or item.since
        item = queue.apply(item, queue.DeliveryAttemptFailed(moment, int(row[1]), float(row[2]) if row[2] else None),
                           queue_policy)
        steps.append(item)
    return steps


@then("the handoff goes through these states:")
def goes_through(rehearsal, datatable):
    expected = [(row[0], row[1], row[2]) for row in datatable[1:]]
    actual = [
        (str(item.attempts), item.state,
         f"{(item.next_attempt_at - item.since).total_seconds():g}" if item.next_attempt_at else "")
        for item in rehearsal
    ]
    assert actual == expected


@then(parsers.parse('it ends blocked for "{reason}" with the runbook "{runbook}"'))
def ends_blocked(rehearsal, reason, runbook):
    last = rehearsal[-1]
    assert (last.state, last.reason, last.runbook) == ("blocked", reason, runbook)
