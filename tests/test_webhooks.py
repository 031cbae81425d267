"""Reference webhook receiver: signature, replay window, idempotency, operator view (hypothesis for the logic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.servicetitan import webhooks

ROOT = Path(__file__).resolve().parent.parent
POLICY_DATA = yaml.safe_load((ROOT / "policies" / "webhooks.yaml").read_text())
POLICY = webhooks.WebhookPolicy.from_policy(POLICY_DATA)
NOW = 1_800_000_000.0
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=32, max_size=64)


def event(event_id: str, age: float = 0.0, **extra) -> bytes:
    from datetime import datetime, timezone
    moment = datetime.fromtimestamp(NOW - age, timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps({"eventId": event_id, "eventTime": moment, **extra}, sort_keys=True).encode()


def receiver(key: str, handler=None) -> webhooks.WebhookReceiver:
    return webhooks.WebhookReceiver(POLICY, key, handler=handler, now=lambda: NOW)


def signed(body: bytes, key: str) -> dict:
    return {POLICY.signature_header: webhooks.sign(body, key)}


@given(key=keys, event_id=st.text(min_size=1, max_size=20), note=st.text(max_size=50))
def test_a_correctly_signed_fresh_event_is_processed_once(key, event_id, note):
    seen = []
    target = receiver(key, handler=seen.append)
    body = event(event_id, note=note)
    assert target.receive(signed(body, key), body).state == "processed"
    assert target.receive(signed(body, key), body).state == "duplicate"
    assert len(seen) == 1


@given(key=keys, other=keys, position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_change_to_body_or_key_is_rejected(key, other, position, flip):
    body = event("evt-1")
    tampered = bytearray(body)
    tampered[position % len(body)] ^= flip
    target = receiver(key)
    assert target.receive(signed(body, key), bytes(tampered)).state == "rejected"
    if other != key:
        assert target.receive(signed(body, other), body).state == "rejected"
    assert "evt-1" not in target.events


@given(key=keys, age=st.floats(min_value=POLICY.replay_window + 0.5, max_value=10 * 365 * 86400))
def test_events_outside_the_replay_window_are_rejected_both_ways(key, age):
    target = receiver(key)
    for sign_ in (1, -1):
        body = event(f"evt-{sign_}", sign_ * age)
        receipt = target.receive(signed(body, key), body)
        assert receipt.state == "rejected" and "replay window" in receipt.reason


@given(key=keys, ids=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30))
def test_random_delivery_sequences_process_each_event_id_exactly_once(key, ids):
    seen = []
    target = receiver(key, handler=lambda e: seen.append(e["eventId"]))
    for event_id in ids:
        body = event(event_id)
        target.receive(signed(body, key), body)
    assert sorted(seen) == sorted(set(ids))
    assert all(r.state in ("processed", "duplicate") for r in target.events.values())


def test_a_failing_handler_leaves_the_event_verified_for_servicetitans_retry():
    calls = {"n": 0}

    def flaky(_):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("down")

    key = "k" * 40
    target = receiver(key, handler=flaky)
    body = event("evt-9")
    assert target.receive(signed(body, key), body).status_code == 500
    assert target.events["evt-9"].state == "verified"
    assert target.receive(signed(body, key), body).state == "processed"


@pytest.mark.parametrize("body, reason", [(b"not json", "JSON"), (json.dumps({"eventTime": "x"}).encode(), "eventId"),
                                          (json.dumps({"eventId": "e"}).encode(), "eventTime")])
def test_malformed_events_are_rejected_with_a_reason(body, reason):
    key = "k" * 40
    receipt = receiver(key).receive(signed(body, key), body)
    assert receipt.state == "rejected" and reason in receipt.reason


def test_key_length_follows_the_policy_and_never_shows():
    with pytest.raises(ValueError, match="32-64"):
        receiver("short")
    assert "k" * 40 not in repr(receiver("k" * 40))


def test_policy_problems_catch_a_window_shorter_than_the_retry_schedule():
    broken = {**POLICY_DATA, "replay_window_seconds": 120}
    assert [p for p, _ in webhooks.policy_problems(broken)] == [["replay_window_seconds"]]
    assert webhooks.policy_problems(POLICY_DATA) == []
    unordered = {**POLICY_DATA, "delivery_retry_schedule_seconds": [30, 10]}
    assert ["delivery_retry_schedule_seconds"] in [p for p, _ in webhooks.policy_problems(unordered)]


def test_the_policy_targets_v2_webhooks_subscribed_per_event():
    assert webhooks.version_problems(POLICY_DATA) == []
    v1 = {**POLICY_DATA, "version": {**POLICY_DATA["version"], "current": "V1"}}
    [(where, text)] = webhooks.version_problems(v1)
    assert where == ["version", "current"] and "deprecated on 2026-03-31" in text and "V2" in text
    shared = {**POLICY_DATA, "subscription": {**POLICY_DATA["subscription"], "per_event": False}}
    assert [p for p, _ in webhooks.version_problems(shared)] == [["subscription", "per_event"]]


def test_every_unpublished_signature_detail_is_an_assumption_a_protocol_test_confirms():
    protocol_tests = {"WEBHOOK-01", "TOKEN-01"}
    assert webhooks.assumption_problems(POLICY_DATA, protocol_tests) == []
    assert {a["id"] for a in POLICY_DATA["assumptions"]} == set(webhooks.UNPUBLISHED)
    fewer = {**POLICY_DATA, "assumptions": [a for a in POLICY_DATA["assumptions"] if a["id"] != "signed-content"]}
    [(where, text)] = webhooks.assumption_problems(fewer, protocol_tests)
    assert where == ["assumptions"] and "what exactly is signed" in text
    unknown = {**POLICY_DATA, "assumptions": [{**POLICY_DATA["assumptions"][0], "confirmed_by": "WEBHOOK-9"}]
               + POLICY_DATA["assumptions"][1:]}
    assert webhooks.assumption_problems(unknown, protocol_tests) == [
        (["assumptions", 0, "confirmed_by"], "'WEBHOOK-9' is not a sandbox protocol test (known: TOKEN-01, WEBHOOK-01)")]


def test_play_knows_only_documented_delivery_kinds():
    with pytest.raises(ValueError, match="unknown delivery kind"):
        webhooks.play(receiver("k" * 40), "teleported event", "k" * 40)


def test_the_receiver_app_answers_with_the_state():
    import asyncio

    import httpx

    key = "k" * 40
    body = event("evt-app")

    async def deliver():
        transport = httpx.ASGITransport(app=receiver(key).app())
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            good = await http.post(webhooks.RECEIVER_PATH, content=body, headers=signed(body, key))
            unsigned = await http.post(webhooks.RECEIVER_PATH, content=body)
            return good.json()["state"], unsigned.status_code

    assert asyncio.run(deliver()) == ("processed", 401)
