"""The sync queue and lead handoff: the state machine, snapshot checks, the offline cycle and their gate scenarios."""

from __future__ import annotations

import json
import math
import re
import shutil
import socket
import textwrap
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.sync import handoff, queue
from readiness.__main__ import main
from readiness.core.errors import PolicyError, TenantDataError
from readiness.sync.netguard import NetworkBlocked, no_network
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ROOT / "fixtures" / "tenants"
SLUGS = ["comfort-launch", "riverside-growth", "summit-multi-bu"]
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(ROOT / "policies")


@pytest.fixture(scope="module")
def policy(policies) -> queue.QueuePolicy:
    return queue.QueuePolicy.from_policies(policies)


def fresh(policy, reason=None) -> queue.QueueItem:
    return queue.intake("q-1", "lead-1", "web-0000000000000000", T0, policy, reason)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- policy ------------------------------------------------------------------------------------------------


def policy_data() -> dict:
    return yaml.safe_load((ROOT / "policies" / "sync-queue.yaml").read_text())


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["transitions"].append({"event": "x", "from": ["queued"], "to": "nowhere", "by": ["operator"]}),
     "unknown state 'nowhere'"),
    (lambda d: d["transitions"][0].update(by=["robot"]), "unknown actor 'robot'"),
    (lambda d: d["initial"][0].update(state="limbo"), "unknown state 'limbo'"),
    (lambda d: d["initial"][0].update(by=["robot"]), "unknown actor 'robot'"),
    (lambda d: d.update(connection_actors=["robot"]), "unknown actor 'robot'"),
    (lambda d: d["transitions"].append({"event": "x", "from": ["delivered"], "to": "queued", "by": ["operator"]}),
     "a terminal state cannot be left"),
    (lambda d: d["reasons"]["mapping-missing"].pop("runbook"), "must name its runbook and finding"),
    (lambda d: d["reasons"]["mapping-missing"].update(runbook="failed-sync"), "is not one the queue reports"),
    (lambda d: d["reasons"]["mapping-missing"].update(state="limbo"), "unknown state 'limbo'"),
    (lambda d: d["states"].update(limbo={"text": "Nothing leads here."}), "no transition or intake reaches"),
    (lambda d: [d["reasons"].pop(k) for k in ("retries-exhausted", "rejected-by-servicetitan",
                                               "authorization-revoked")], "no reason puts an item in blocked"),
])
def test_policy_cross_references_are_checked(breakage, message):
    data = policy_data()
    breakage(data)
    problems = [text for _, text in queue.policy_problems(data)]
    assert any(message in text for text in problems), problems


def test_the_bundled_policy_has_no_problems():
    assert list(queue.policy_problems(policy_data())) == []


def test_a_broken_policy_fails_with_file_and_key(tmp_path):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    path = tmp_path / "policies" / "sync-queue.yaml"
    path.write_text(path.read_text().replace("to: review, by: [drift-check]", "to: revue, by: [drift-check]"))
    with pytest.raises(PolicyError) as caught:
        queue.QueuePolicy.from_policies(PolicySet.load(tmp_path / "policies"))
    assert re.search(r"sync-queue\.yaml:\d+: transitions\[\d+\]: unknown state 'revue'", str(caught.value))


# --- the state machine -------------------------------------------------------------------------------------


def test_intake_queues_or_sends_to_review_with_the_runbook(policy):
    assert fresh(policy).state == "queued" and fresh(policy).runbook is None
    item = fresh(policy, "mapping-drifted")
    assert (item.state, item.reason, item.runbook) == ("review", "mapping-drifted", "drift-conflict")
    with pytest.raises(queue.IllegalTransition):
        fresh(policy, "retries-exhausted")


def test_retrying_waits_for_backoff_or_a_longer_retry_after_then_blocks(policy):
    item = fresh(policy)
    item = queue.apply(item, queue.DeliveryAttemptFailed(at(1), 503), policy)
    assert (item.state, item.attempts, item.next_attempt_at) == ("retrying", 1, at(1) + timedelta(seconds=10))
    item = queue.apply(item, queue.DeliveryAttemptFailed(at(2), 429, retry_after=90), policy)
    assert item.next_attempt_at == at(2) + timedelta(seconds=90)
    item = queue.apply(item, queue.DeliveryAttemptFailed(at(5), 429, retry_after=5), policy)
    assert item.next_attempt_at == at(5) + timedelta(seconds=60), "a shorter Retry-After does not shorten the backoff"
    for minute in (10, 20):
        item = queue.apply(item, queue.DeliveryAttemptFailed(at(minute), None), policy)
    assert (item.state, item.reason, item.runbook, item.attempts) == ("blocked", "retries-exhausted", "failed-sync", 5)
    assert item.next_attempt_at is None


def test_a_non_retryable_answer_blocks_at_once(policy):
    item = queue.apply(fresh(policy), queue.DeliveryAttemptFailed(at(1), 400), policy)
    assert (item.state, item.reason, item.runbook) == ("blocked", "rejected-by-servicetitan", "failed-sync")


def test_wait_seconds_caps_and_ignores_bad_retry_after(policy):
    assert queue.wait_seconds(9, None, policy) == 300
    assert queue.wait_seconds(1, 10_000, policy) == policy.retry["max_wait_seconds"]
    assert queue.wait_seconds(1, math.nan, policy) == 10
    stubborn = replace(policy, retry={**policy.retry, "honour_retry_after": False})
    assert queue.wait_seconds(1, 120, stubborn) == 10


def test_operator_events_and_revocation(policy):
    item = fresh(policy, "mapping-missing")
    with pytest.raises(queue.IllegalTransition, match="not allowed in review"):
        queue.apply(item, queue.DeliveryAttemptFailed(at(1)), policy)
    requeued = queue.apply(item, queue.OperatorRequeue(at(2)), policy)
    assert (requeued.state, requeued.runbook) == ("queued", None)
    revoked = queue.apply(requeued, queue.AuthorizationRevoked(at(3)), policy)
    assert (revoked.state, revoked.runbook) == ("blocked", "disconnect")
    back = queue.apply(revoked, queue.OperatorRequeue(at(4), reason="authorization-restored"), policy)
    assert back.state == "queued" and back.attempts == 0
    with pytest.raises(queue.IllegalTransition, match="operator role and its evidence"):
        queue.apply(back, queue.OperatorComplete(at(5)), policy)
    done = queue.apply(back, queue.OperatorComplete(at(5), "Office Manager", "evidence/log.md"), policy)
    assert done.to_record()["manual_complete"] == {"operator_role": "Office Manager", "evidence": "evidence/log.md"}
    with pytest.raises(queue.IllegalTransition):
        queue.apply(done, queue.OperatorRequeue(at(6)), policy)


def test_events_cannot_go_back_in_time_or_use_a_reason_of_another_state(policy):
    item = queue.apply(fresh(policy), queue.DriftDetected(at(5), "mapping-missing"), policy)
    with pytest.raises(queue.IllegalTransition, match="before the last change"):
        queue.apply(item, queue.OperatorRequeue(at(1)), policy)
    with pytest.raises(queue.IllegalTransition, match="does not put an item in queued"):
        queue.apply(item, queue.OperatorRequeue(at(6), reason="mapping-missing"), policy)


def test_the_delivery_loop_uses_only_the_injected_delivery(policy):
    answers = iter([queue.DeliveryResult(False, status=429, retry_after=30), queue.DeliveryResult(True, booking_id=77)])
    calls = []

    def deliver(item):
        calls.append(item.external_id)
        return next(answers)

    items = [fresh(policy), replace(fresh(policy, "mapping-missing"), item_id="q-2")]
    items = queue.deliver_due(items, deliver, policy, at(1))
    assert [i.state for i in items] == ["retrying", "review"] and len(calls) == 1
    assert queue.deliver_due(items, deliver, policy, at(1) + timedelta(seconds=10)) == items, "not due yet"
    items = queue.deliver_due(items, deliver, policy, at(2))
    assert (items[0].state, items[0].booking_id, items[0].reason) == ("delivered", 77, "booking-created")
    assert len(calls) == 2


EVENTS = st.one_of(
    st.builds(queue.DeliveryAttemptFailed, at=st.just(T0),
              status=st.sampled_from([None, 400, 404, 429, 500, 503]),
              retry_after=st.one_of(st.none(), st.floats(0, 7200, allow_nan=False))),
    st.builds(queue.Delivered, at=st.just(T0), booking_id=st.integers(1, 10**9)),
    st.builds(queue.DriftDetected, at=st.just(T0), reason=st.sampled_from(["mapping-missing", "mapping-drifted"])),
    st.builds(queue.AuthorizationRevoked, at=st.just(T0)),
    st.builds(queue.OperatorRequeue, at=st.just(T0),
              reason=st.sampled_from(["mapping-resolved", "authorization-restored"])),
    st.builds(queue.OperatorComplete, at=st.just(T0), operator_role=st.just("Office Manager"),
              evidence=st.just("evidence/manual-handoff-log-2026-11.md")),
)


@settings(max_examples=200, deadline=None)
@given(start_in_review=st.booleans(), events=st.lists(EVENTS, max_size=25),
       gaps=st.lists(st.integers(1, 3600), min_size=25, max_size=25))
def test_random_event_sequences_never_leave_the_allowed_graph(policy, start_in_review, events, gaps, tmp_path_factory):
    item = fresh(policy, "mapping-missing" if start_in_review else None)
    moment = T0
    for event, gap in zip(events, gaps):
        moment += timedelta(seconds=gap)
        before = item
        try:
            item = queue.apply(item, replace(event, at=moment), policy)
        except queue.IllegalTransition:
            assert item is before
            continue
        assert item.state in policy.states
        assert policy.allows(before.state, item.state, item.history[-1].by)
        assert not policy.states[before.state].get("terminal"), "a terminal state was left"
        assert item.attempts <= policy.max_attempts
        assert (item.runbook is not None) == (item.state in queue.OPERATOR_STATES)
    # Whatever the machine produced is a snapshot the checker accepts (for a tenant that was once connected).
    evidence = tmp_path_factory.getbasetemp() / "evidence"
    evidence.mkdir(exist_ok=True)
    (evidence / "manual-handoff-log-2026-11.md").write_text("log\n")
    line = queue.SnapshotLine(1, queue.QueueItem.from_record(json.loads(json.dumps(item.to_record()))))
    assert line.item == item
    assert queue.check_snapshot([line], policy, never_connected=False, evidence_dir=evidence) == []


@given(tenant_id=st.one_of(st.integers(1, 10**12), st.text(min_size=1, max_size=20)),
       lead_id=st.text(min_size=1, max_size=40))
def test_external_ids_are_stable_opaque_and_distinct(tenant_id, lead_id):
    first = handoff.external_id(tenant_id, lead_id)
    assert first == handoff.external_id(tenant_id, lead_id)
    assert re.fullmatch(r"web-[0-9a-f]{16}", first)
    assert handoff.external_id(tenant_id, lead_id + "x") != first


# --- snapshot checks ---------------------------------------------------------------------------------------


def snapshot_record(**changes) -> dict:
    record = {
        "item_id": "q-1", "lead_id": "lead-1", "external_id": "web-0000000000000000", "state": "queued",
        "history": [{"state": "queued", "at": "2026-11-02T15:00:00Z", "by": "intake", "reason": "web-form-submitted"}],
        "attempts": 0,
    }
    record.update(changes)
    return record


def retrying_history(n: int) -> list[dict]:
    history = [{"state": "queued", "at": "2026-11-02T15:00:00Z", "by": "intake", "reason": "web-form-submitted"}]
    history += [{"state": "retrying", "at": f"2026-11-02T15:0{i + 1}:00Z", "by": "retry-policy",
                 "reason": "delivery-failed", "status": 503} for i in range(n)]
    return history


def kinds(policy, record, tmp_path, never_connected=True) -> set[str]:
    (tmp_path / "evidence").mkdir(exist_ok=True)
    (tmp_path / "evidence" / "log.md").write_text("log\n")
    line = queue.SnapshotLine(1, queue.QueueItem.from_record(record))
    return {f.kind for f in queue.check_snapshot([line], policy, never_connected=never_connected,
                                                   evidence_dir=tmp_path / "evidence")}


MANUAL = [{"state": "queued", "at": "2026-11-02T15:00:00Z", "by": "intake", "reason": "web-form-submitted"},
          {"state": "manual-complete", "at": "2026-11-02T16:00:00Z", "by": "operator",
           "reason": "entered-in-servicetitan-by-hand"}]


@pytest.mark.parametrize("record, expected", [
    (snapshot_record(), set()),
    (snapshot_record(state="manual-complete", history=MANUAL,
                     manual_complete={"operator_role": "Office Manager", "evidence": "evidence/log.md"}), set()),
    (snapshot_record(state="manual-complete", history=[MANUAL[0], {**MANUAL[1], "by": "drift-check"}],
                     manual_complete={"operator_role": "Office Manager", "evidence": "evidence/log.md"}),
     {"queue-illegal-transition"}),
    (snapshot_record(history=[{**MANUAL[0], "by": "operator"}]), {"queue-illegal-transition"}),
    (snapshot_record(state="manual-complete", history=[MANUAL[0], {**MANUAL[1], "at": "2026-11-01T00:00:00Z"}],
                     manual_complete={"operator_role": "Office Manager", "evidence": "evidence/log.md"}),
     {"queue-time-order"}),
    (snapshot_record(state="review"), {"queue-state-mismatch"}),
    (snapshot_record(history=[{**MANUAL[0], "reason": "because"}]), {"queue-unknown-reason"}),
    (snapshot_record(history=[{k: v for k, v in MANUAL[0].items() if k != "reason"}]), set()),
    (snapshot_record(state="review", runbook="drift-conflict", history=[{**MANUAL[0], "state": "review",
                                                                         "reason": None}]),
     {"queue-unknown-reason"}),
    (snapshot_record(attempts=6), {"queue-retry-limit"}),
    (snapshot_record(state="manual-complete", history=MANUAL, manual_complete={"operator_role": "Office Manager"}),
     {"queue-manual-evidence-missing"}),
    (snapshot_record(state="manual-complete", history=MANUAL,
                     manual_complete={"operator_role": "", "evidence": "evidence/missing.md"}),
     {"queue-manual-evidence-missing"}),
    (snapshot_record(state="manual-complete", history=MANUAL,
                     manual_complete={"operator_role": "Owner", "evidence": "tenant.yaml"}),
     {"queue-manual-evidence-missing"}),
    (snapshot_record(state="review", history=[{**MANUAL[0], "state": "review", "reason": "mapping-missing"}]),
     {"queue-runbook-missing"}),
    (snapshot_record(state="review", runbook="failed-sync",
                     history=[{**MANUAL[0], "state": "review", "reason": "mapping-missing"}]),
     {"queue-runbook-missing"}),
])
def test_snapshot_rules(policy, tmp_path, record, expected):
    assert kinds(policy, record, tmp_path) == expected


def test_retries_in_a_snapshot(policy, tmp_path):
    exhausted = snapshot_record(state="retrying", attempts=5, history=retrying_history(5))
    assert kinds(policy, exhausted, tmp_path, never_connected=False) == {"queue-exhausted-not-blocked"}
    assert kinds(policy, exhausted, tmp_path) == {"queue-exhausted-not-blocked", "queue-processed-offline"}
    delivered = snapshot_record(state="delivered", history=[MANUAL[0], {
        "state": "delivered", "at": "2026-11-02T16:00:00Z", "by": "delivery", "reason": "booking-created"}])
    assert kinds(policy, delivered, tmp_path) == {"queue-processed-offline"}
    assert kinds(policy, delivered, tmp_path, never_connected=False) == set()


def test_a_malformed_snapshot_line_names_file_and_line(tmp_path):
    path = tmp_path / "sync-queue.jsonl"
    path.write_text(json.dumps(snapshot_record()) + "\n" + json.dumps(snapshot_record(attempts=-1)) + "\n")
    with pytest.raises(TenantDataError, match=r"sync-queue\.jsonl:2: attempts: -1 is less than the minimum"):
        queue.load_snapshot(path)
    assert queue.load_snapshot(tmp_path / "absent.jsonl") == []


def test_operator_view_and_findings_for_items_needing_an_operator(policy):
    blocked = queue.QueueItem.from_record(snapshot_record(
        item_id="q-2", state="blocked", attempts=5, runbook="failed-sync",
        history=retrying_history(4) + [{"state": "blocked", "at": "2026-11-02T15:06:00Z", "by": "retry-policy",
                                         "reason": "retries-exhausted", "status": 503}]))
    review = queue.QueueItem.from_record(snapshot_record(
        item_id="q-3", state="review", runbook="drift-conflict",
        history=[{**MANUAL[0], "state": "review", "reason": "mapping-drifted", "at": "2026-11-04T18:06:00Z"}]))
    view = queue.operator_view([blocked, review], policy)
    counts = {row["state"]: row["count"] for row in view["counts"]}
    assert [row["state"] for row in view["counts"]] == list(policy.states)
    assert counts["blocked"] == 1 and counts["review"] == 1 and view["total"] == 2
    assert view["as_of"] == "2026-11-04T18:06:00Z"
    assert [(r["item_id"], r["runbook"], r["age"]) for r in view["attention"]] == [
        ("q-3", "drift-conflict", "0 h 0 min"), ("q-2", "failed-sync", "2 d 3 h")]
    found = queue.operator_findings([queue.SnapshotLine(1, blocked), queue.SnapshotLine(2, review)], policy)
    assert [(f.kind, f.severity, f.runbook) for f in found] == [
        ("handoff-undeliverable", "major", "failed-sync"), ("handoff-in-review", "minor", "drift-conflict")]
    assert "q-2" in queue.state_table([blocked, review], view)
    assert queue.operator_view([], policy)["as_of"] is None


def test_the_diagram_draws_every_state_and_transition(policy):
    view = queue.policy_view(policy)
    assert {n["id"] for n in view["diagram"]["nodes"]} == set(policy.states)
    assert {(e["from"], e["to"]) for e in view["diagram"]["edges"]} == {(s, t) for s, t, _, _ in policy.edges()}
    assert any(e["from"] == e["to"] == "retrying" for e in view["diagram"]["edges"])
    assert {label["text"] for label in view["diagram"]["target_labels"]} == {"operator-complete", "delivered"}


# --- handoff -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cycles(policy, policies):
    result = {}
    with no_network() as network:
        for slug in SLUGS:
            tenant = FixtureTenant(TENANTS / slug)
            result[slug] = (tenant, handoff.offline_cycle(tenant, policy, policies["drift"]))
    assert network.attempts == []
    return result


def test_offline_cycle_keeps_every_lead_notifies_and_delivers_nothing(policy, cycles):
    for tenant, cycle in cycles.values():
        leads = [s["lead_id"] for s in tenant.submissions()]
        assert handoff.record_problems(cycle, leads) == [] and handoff.delivered_offline(cycle, policy) == []
        assert len(cycle.local_records) == len(cycle.notifications) == len(leads) > 0
        assert {i.state for i in cycle.items} <= {"queued", "review"}
        assert handoff.review_routing_problems(cycle) == []
    tenant, cycle = cycles["comfort-launch"]
    broken = handoff.OfflineCycle(cycle.handoffs, cycle.local_records[1:], cycle.notifications * 2,
                                  [replace(cycle.items[0], state="delivered")] + cycle.items[1:])
    problems = handoff.record_problems(broken, [s["lead_id"] for s in tenant.submissions()])
    assert any("0 local records" in p for p in problems)
    assert any("2 notification fallbacks" in p for p in problems)
    assert handoff.delivered_offline(broken, policy) == [f"{cycle.items[0].item_id} reached delivered offline"]


def test_envelopes_match_servicetitan_and_the_allow_list(policies, cycles):
    booking = policies["envelopes"]["booking"]
    for _, cycle in cycles.values():
        for h in cycle.handoffs:
            assert handoff.allow_list_violations(h.envelope, booking, h.lead_id) == []
            assert handoff.conformance_problems(h.envelope, h.lead_id) == []
    envelope = cycles["comfort-launch"][1].handoffs[0].envelope
    assert envelope["jobTypeId"] == 2001 and envelope["businessUnitId"] == 1001 and envelope["campaignId"] == 4001
    assert "AC is blowing" not in json.dumps(envelope), "the visitor's own words stay on the website"
    stray = {**envelope, "email": "x", "address": {**envelope["address"], "county": "x"}}
    found = handoff.allow_list_violations(stray, booking, "lead-cl-0001")
    assert [f.kind for f in found] == ["booking-field-not-allowed"] * 2
    assert "'email'" in found[1].detail + found[0].detail and "address.county" in found[0].detail
    invalid = handoff.conformance_problems({**envelope, "priority": "Whenever", "externalId": 7}, "lead-cl-0001")
    assert {f.detail.split(":")[0] for f in invalid} == {"priority", "externalId"}


def test_external_ids_match_the_snapshots_and_hold_no_personal_data(policies, cycles):
    lead = policies["envelopes"]["lead"]
    for tenant, cycle in cycles.values():
        snapshot = queue.load_snapshot(tenant.folder / "queue" / "sync-queue.jsonl")
        assert handoff.snapshot_findings(snapshot, cycle.handoffs) == []
        assert handoff.unstable_external_ids(cycle.handoffs, tenant.profile["tenant_id"]) == []
        assert handoff.external_ids_with_personal_data(cycle.handoffs, tenant.submissions(), lead) == []
        assert handoff.mapping_mismatches(cycle.handoffs, tenant.submissions(), tenant.titan_map) == []
    tenant, cycle = cycles["comfort-launch"]
    first = cycle.handoffs[0]
    leaky = replace(first, external_id="web-jordan-alderby")
    assert handoff.external_ids_with_personal_data([leaky], tenant.submissions(), lead)
    assert handoff.unstable_external_ids([leaky], tenant.profile["tenant_id"])
    moved = replace(first, envelope={**first.envelope, "jobTypeId": 9})
    assert handoff.mapping_mismatches([moved], tenant.submissions(), tenant.titan_map)


def test_snapshot_items_against_todays_handoffs(cycles):
    tenant, cycle = cycles["comfort-launch"]
    lines = queue.load_snapshot(tenant.folder / "queue" / "sync-queue.jsonl")
    queued = next(line for line in lines if line.item.state == "queued")
    stranger = replace(queued, item=replace(queued.item, lead_id="lead-unknown"))
    renamed = replace(queued, item=replace(queued.item, external_id="web-ffffffffffffffff"))
    unmapped = [replace(h, reason="mapping-missing", problems=("x",)) if h.lead_id == queued.item.lead_id else h
                for h in cycle.handoffs]
    assert [f.kind for f in handoff.snapshot_findings([stranger, renamed], cycle.handoffs)] == [
        "handoff-unknown-lead", "handoff-external-id-mismatch"]
    assert [f.kind for f in handoff.snapshot_findings([queued], unmapped)] == ["handoff-queued-unmapped"]


OFFLINE = {"booking_source": "Website", "customer_type": "Residential", "priority": "Normal", "country": "USA"}


def test_missing_and_drifted_mappings_go_to_review():
    tenant = FixtureTenant(TENANTS / "summit-multi-bu")
    submission, titan_map = tenant.submissions()[0], tenant.titan_map
    assert handoff.prepare(submission, 1, titan_map, [], OFFLINE).state == "queued"
    unmapped = handoff.prepare({**submission, "service": "pool-repair"}, 1, titan_map, [], OFFLINE)
    assert (unmapped.state, unmapped.reason) == ("review", "mapping-missing")
    assert "jobTypeId" not in unmapped.envelope and "pool-repair" in unmapped.problems[0]
    assert handoff.prepare({**submission, "offer": "nope"}, 1, titan_map, [], OFFLINE).reason == "mapping-missing"
    no_source = {k: v for k, v in submission.items() if k != "source"}
    assert "campaignId" not in handoff.prepare(no_source, 1, titan_map, [], OFFLINE).envelope
    assert handoff.prepare({**submission, "source": {"lead_source": "tv"}}, 1, titan_map, [],
                           OFFLINE).reason == "mapping-missing"
    drifted = handoff.prepare(submission, 1, titan_map, ["inactive job type 32001 AC Repair"], OFFLINE)
    assert (drifted.reason, drifted.problems) == ("mapping-drifted", ("inactive job type 32001 AC Repair",))
    assert [f.kind for f in handoff.review_findings([drifted])] == ["handoff-needs-mapping"]


@pytest.mark.parametrize("change, leads", [
    (lambda r: r.update(active=False) if r["id"] == 2002 else None, {"lead-cl-0002", "lead-cl-0004", "lead-cl-0008"}),
    (lambda r: r.update(name="Furnace Fix") if r["id"] == 2002 else None, set()),  # renamed is minor: stays queued
])
def test_only_blocking_drift_sends_leads_to_review(policies, tmp_path, change, leads):
    folder = tmp_path / "comfort-launch"
    shutil.copytree(TENANTS / "comfort-launch", folder)
    path = folder / "exports" / "jpm" / "job-types.json"
    body = json.loads(path.read_text())
    for record in body["data"]:
        change(record)
    path.write_text(json.dumps(body))
    found = handoff.drifted_leads(FixtureTenant(folder), policies["drift"])
    assert set(found) == leads
    assert all(problems == ["inactive job type 2002 Furnace Repair"] for problems in found.values())


def test_review_routing_problems_catch_a_queued_unmapped_lead(policy, cycles):
    _, cycle = cycles["comfort-launch"]
    wrong = handoff.OfflineCycle([replace(cycle.handoffs[0], reason="mapping-missing")] + cycle.handoffs[1:],
                                 cycle.local_records, cycle.notifications, cycle.items)
    problems = handoff.review_routing_problems(wrong)
    assert any("disagree" in p for p in problems) and any("its item is queued" in p for p in problems)


# --- the network guard -------------------------------------------------------------------------------------


def test_the_guard_blocks_records_and_restores():
    original = socket.socket.connect
    with no_network() as network:
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("127.0.0.1", 9))
        with socket.socket() as sock:
            try:
                sock.connect(("127.0.0.1", 9))
            except OSError:
                pass  # swallowed on purpose: the attempt is still recorded
            with pytest.raises(NetworkBlocked):
                sock.connect_ex(("127.0.0.1", 9))
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("example.com", 443)
    assert len(network.attempts) == 4
    assert socket.socket.connect is original


# --- command line ------------------------------------------------------------------------------------------


def test_queue_command_prints_the_state_table(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["queue", "fixtures/tenants/comfort-launch"]) == 0
    out = capsys.readouterr().out
    assert "q-cl-0004" in out and "counts: queued 1, review 1" in out and "needs an operator: q-cl-0004" in out


def test_queue_command_reports_problems_and_bad_folders(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    folder = tmp_path / "comfort-launch"
    shutil.copytree(TENANTS / "comfort-launch", folder)
    path = folder / "queue" / "sync-queue.jsonl"
    path.write_text(path.read_text().replace('"attempts": 0}', '"attempts": 9}', 1))
    assert main(["queue", str(folder)]) == 1
    assert "queue-retry-limit" in capsys.readouterr().out
    assert main(["queue", str(tmp_path / "nowhere")]) == 2
    assert "not a tenant folder" in capsys.readouterr().err


# --- the gate: every rule fails on one planted violation ---------------------------------------------------


def edit_queue(ws, slug: str, item_id: str, change) -> None:
    path = ws.tenant(slug) / "queue" / "sync-queue.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for record in records:
        if record["item_id"] == item_id:
            change(record)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


CL = "comfort-launch"


@pytest.mark.slow
def test_bundled_tenants_pass_and_the_report_shows_the_queue(workspace):
    result = workspace.run()  # in process: test_spine and test_scale prove -n 2 writes the same report
    assert result.exit_code == 0, result.output[-3000:]
    report = result.report
    for row in report["scenarios"]:
        if row["feature"] in ("features/sync-queue.feature", "features/lead-handoff.feature"):
            assert row["status"] == "passed", row
    tenant = next(t for t in report["tenants"] if t["slug"] == CL)
    assert {"state": "review", "count": 1} in tenant["sections"]["queue"]["counts"]
    assert any(f["kind"] == "handoff-in-review" and f["runbook"] == "drift-conflict" for f in tenant["findings"])
    assert report["product"]["sections"]["queue"]["diagram"]["nodes"]
    html = (result.report_dir / "readiness.html").read_text()
    assert "<svg" in html and "The diagram as text" in html and "Items that need an operator" in html
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert statuses["QUEUE-STATES"] == "met"
    # Their offline scenarios pass; a future half tagged on @sandbox scenarios reads pending until access exists.
    assert {statuses["FAIL-DELIVERY"], statuses["LEAD-HANDOFF"]} <= {"met", "pending"}


@pytest.mark.slow
@pytest.mark.parametrize("item_id, change, scenario, requirement", [
    ("q-cl-0001", lambda r: r["history"][1].update(by="drift-check"),
     "Every change of state in a tenant's queue is one the policy allows, in time order", "QUEUE-STATES"),
    ("q-cl-0001", lambda r: r["history"][1].update(at="2026-11-01T00:00:00Z"),
     "Every change of state in a tenant's queue is one the policy allows, in time order", "QUEUE-STATES"),
    ("q-cl-0005", lambda r: r.update(attempts=6),
     "Retry counts in a tenant's queue respect the retry policy", "FAIL-DELIVERY"),
    ("q-cl-0005", lambda r: r.update(state="retrying", attempts=5, history=retrying_history(5)),
     "Items that used up their retries are blocked, and every item needing an operator names its runbook",
     "FAIL-DELIVERY"),
    ("q-cl-0004", lambda r: r.pop("runbook"),
     "Items that used up their retries are blocked, and every item needing an operator names its runbook",
     "FAIL-DELIVERY"),
    ("q-cl-0002", lambda r: r["manual_complete"].update(evidence="evidence/no-such-log.md"),
     "Every manual completion names the operator role and cites evidence that exists", "QUEUE-STATES"),
    ("q-cl-0003", lambda r: r["manual_complete"].pop("evidence"),
     "Every manual completion names the operator role and cites evidence that exists", "QUEUE-STATES"),
    ("q-cl-0005", lambda r: r.update(state="delivered", history=r["history"] + [
        {"state": "delivered", "at": "2026-11-20T00:00:00Z", "by": "delivery", "reason": "booking-created"}]),
     "A tenant that was never connected shows no delivery and no delivery attempt", "QUEUE-STATES"),
    ("q-cl-0005", lambda r: r.update(external_id="web-ffffffffffffffff"),
     "A lead's external id is the same every time and holds no personal data", "LEAD-HANDOFF"),
])
def test_a_planted_queue_violation_fails_its_scenario(workspace, item_id, change, scenario, requirement):
    edit_queue(workspace, CL, item_id, change)
    workspace.run(tenants=[CL]).assert_fails(scenario, requirement, tenant=CL)


@pytest.mark.slow
def test_a_queued_lead_whose_mapping_drifted_fails_the_gate(workspace):
    path = workspace.tenant(CL) / "exports" / "jpm" / "job-types.json"
    body = json.loads(path.read_text())
    for record in body["data"]:
        if record["id"] == 2002:  # Furnace Repair: the queued lead-cl-0008 asks for it
            record["active"] = False
    path.write_text(json.dumps(body, indent=2))
    workspace.run(tenants=[CL]).assert_fails(
        "A lead whose mapping is missing or drifted goes to review, never to queued", "LEAD-HANDOFF", tenant=CL)


@pytest.mark.slow
def test_a_booking_field_outside_the_allow_list_fails_the_gate(workspace):
    path = workspace.policies / "envelopes.yaml"
    path.write_text(path.read_text().replace('    summary: {purpose: "What the customer asked for."}\n', ""))
    row = workspace.run(tenants=[CL]).assert_fails(
        "Booking envelopes carry only booking allow-list fields, in ServiceTitan's booking shape", "LEAD-HANDOFF",
        tenant=CL)
    assert "summary" in row["reason"]


@pytest.mark.slow
def test_a_queue_code_path_that_connects_while_offline_fails_the_gate(workspace, monkeypatch):
    plugin = workspace.base / "leaky_notifier.py"
    plugin.write_text(textwrap.dedent('''
        """Test double: a notification fallback that tries to reach a server."""
        import socket
        from readiness.sync import handoff

        send = handoff.notification_fallback

        def leaky(submission, prepared, channel):
            try:
                socket.create_connection(("127.0.0.1", 9), timeout=0.1).close()
            except OSError:
                pass  # a careless sender swallowing the error must not hide the attempt
            return send(submission, prepared, channel)

        handoff.notification_fallback = leaky
    '''))
    monkeypatch.setenv("PYTHONPATH", str(workspace.base))
    result = workspace.run("-p", "leaky_notifier", tenants=[CL])
    row = result.assert_fails("The offline handoff cycle opens no network connection", "QUEUE-STATES", tenant=CL)
    assert "127.0.0.1" in row["reason"]


@pytest.mark.slow
def test_a_retry_policy_that_changed_fails_the_rehearsal(workspace):
    path = workspace.policies / "sync-queue.yaml"
    path.write_text(path.read_text().replace("backoff_seconds: [10, 30, 60, 300]", "backoff_seconds: [1, 2, 3, 4]"))
    workspace.run(tenants=[CL]).assert_fails(
        "A handoff ServiceTitan keeps refusing is retried with backoff, then blocked with the failed-sync runbook",
        "FAIL-DELIVERY")


@pytest.mark.slow
def test_a_queue_policy_with_a_broken_reference_fails_closed(workspace):
    path = workspace.policies / "sync-queue.yaml"
    path.write_text(path.read_text().replace("to: review, by: [drift-check]", "to: revue, by: [drift-check]"))
    result = workspace.run(tenants=[CL])
    row = result.assert_fails(
        "The sync queue policy defines the five offline states and the future delivered state", "QUEUE-STATES")
    assert "sync-queue.yaml" in row["reason"] and "unknown state 'revue'" in row["reason"]
