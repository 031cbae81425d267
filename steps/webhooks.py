"""Steps for features/webhooks.feature: the reference webhook receiver, judged offline."""

from pytest_bdd import given, parsers, then, when

from readiness.servicetitan import webhooks


@given("the webhook ingestion policy", target_fixture="webhook_policy")
def webhook_policy(gate):
    return gate.policies["webhooks"]


@then("the receiver is declared a reference that is not production-ready")
def receiver_is_reference(webhook_policy):
    assert webhook_policy["receiver"]["status"] == "reference-not-production-ready"


@then("the replay window covers ServiceTitan's whole retry schedule")
def replay_window_covers_retries(gate, webhook_policy):
    problems = webhooks.policy_problems(webhook_policy)
    assert not problems, "\n".join(str(gate.policies.error("webhooks", parts, text)) for parts, text in problems)


@then("it targets V2 webhooks, subscribed per event")
def targets_v2(gate, webhook_policy):
    problems = webhooks.version_problems(webhook_policy)
    assert not problems, "\n".join(str(gate.policies.error("webhooks", parts, text)) for parts, text in problems)


@then("every signature detail ServiceTitan does not publish is an assumption a sandbox protocol test confirms")
def assumptions_confirmed(gate, webhook_policy):
    problems = webhooks.assumption_problems(webhook_policy, set(gate.protocol))
    assert not problems, "\n".join(str(gate.policies.error("webhooks", parts, text)) for parts, text in problems)


@given("the reference webhook receiver with a signing key generated for this run", target_fixture="webhook_run")
def webhook_receiver(gate):
    key = webhooks.demo_key()
    receiver = webhooks.WebhookReceiver(webhooks.WebhookPolicy.from_policies(gate.policies), key)
    return {"receiver": receiver, "key": key, "receipts": []}


@when(parsers.parse("it receives a {delivery}"))
def receive_delivery(webhook_run, delivery, scenario_evidence):
    receipt = webhooks.play(webhook_run["receiver"], delivery, webhook_run["key"])
    webhook_run["receipts"].append(receipt)
    scenario_evidence.sections["webhook-receiver"] = webhook_run["receiver"].operator_view()


@then(parsers.parse('the delivery ends in the state "{state}"'))
def delivery_state(webhook_run, state):
    receipt = webhook_run["receipts"][-1]
    assert receipt.state == state, f"ended {receipt.state} ({receipt.reason}), expected {state}"


@then("the operator view shows the new event received, verified and processed")
def operator_sees_processed(webhook_run):
    rows = {row["event"]: row for row in webhook_run["receiver"].operator_view()}
    states = [line.split(":")[0] for line in rows["evt-new"]["history"]]
    assert states == ["received", "verified", "processed"], rows["evt-new"]


@then("the operator view shows the forged delivery rejected")
def operator_sees_rejected(webhook_run):
    rows = [row for row in webhook_run["receiver"].operator_view() if row["state"] == "rejected"]
    assert any("signature" in line for row in rows for line in row["history"]), rows
