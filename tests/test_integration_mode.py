"""--sandbox integration runs the protocol unchanged over the network: here against the simulator served by
uvicorn on 127.0.0.1 with fake credentials in the environment (the real integration hosts are never contacted)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from readiness.sandbox import protocol
from readiness.servicetitan.client import SystemClock
from readiness.sandbox.simulator import Simulator, TenantData, generated_credentials
from readiness.core.tenants import FixtureTenant
from tests.test_protocol import CONTEXT, TENANTS, TESTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served():
    """The riverside-growth tenant served on a free loopback port, with run-time generated credentials."""
    simulator = Simulator(TenantData.from_fixture(FixtureTenant(ROOT / "fixtures/tenants/riverside-growth")),
                          clock=SystemClock())
    creds = generated_credentials()
    simulator.connect(**creds)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(simulator.app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    env = {"ST_CLIENT_ID": creds["client_id"], "ST_CLIENT_SECRET": creds["client_secret"],
           "ST_APP_KEY": creds["app_key"], "ST_TENANT_ID": "900000202", "ST_AUTH_URL": base, "ST_API_URL": base,
           "ST_BOOKING_PROVIDER_ID": "29951"}
    yield simulator, env
    server.should_exit = True
    thread.join(5)


@pytest.mark.slow  # BOOK-01 waits out the simulator's Retry-After over a real socket
@pytest.mark.parametrize("test_id", ["APPKEY-01", "IMPORT-01", "BOOK-01", "PAGE-01", "ATTR-01", "ATTR-02",
                                     "LEAD-01", "ATTR-03", "MINIMIZE-01", "SECRET-01"])
def test_protocol_tests_run_unchanged_over_the_network(served, test_id):
    _, env = served
    session = protocol.open_session("integration", TESTS[test_id], tenants=TENANTS, environ=env)
    outcome = protocol.run(session, TESTS[test_id], CONTEXT)
    assert outcome.error is None and all(c.passed for c in outcome.checks.values()), (outcome.error, outcome.checks)


@pytest.mark.parametrize("test_id, step", [("REVOKE-01", "revoke"), ("SCOPE-01", "connect a second app"),
                                           ("SCOPE-02", "new app version"),
                                           ("TOKEN-01", "wait"), ("WEBHOOK-01", "webhook")])
def test_operator_steps_are_reported_never_faked(served, test_id, step):
    _, env = served
    session = protocol.open_session("integration", TESTS[test_id], tenants=TENANTS, environ=env)
    outcome = protocol.run(session, TESTS[test_id], CONTEXT)
    assert outcome.error and step in outcome.error
    assert not all(outcome.verdict(check).passed for check in protocol.CHECKS if check != "no-leak")


@pytest.mark.slow
def test_the_gate_in_integration_mode_reports_passed_with_transcripts(served, workspace, monkeypatch):
    simulator, env = served
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = workspace.run("--sandbox=integration", "-k", "app_key or taxonomy_is_imported or sandbox_evidence",
                           tenants=["riverside-growth"])
    assert result.exit_code == 0, result.output[-3000:]
    report = result.report
    sandbox = [s for s in report["scenarios"] if "sandbox" in s["tags"]]
    assert {s["status"] for s in sandbox} == {"passed"} and len(sandbox) == 2
    assert report["mode_statement"].startswith("integration environment")
    transcript = result.report_dir / "transcripts" / "IMPORT-01.json"
    section = report["product"]["sections"]["sandbox-protocol-IMPORT-01"]["transcript"]
    assert section["path"] == "transcripts/IMPORT-01.json" and len(section["sha256"]) == 64
    body = json.loads(transcript.read_text())
    assert {e["method"] for e in body["exchanges"] if e["path"] != "/connect/token"} == {"GET"}
    written = "".join(p.read_text(errors="ignore") for p in result.report_dir.rglob("*") if p.is_file())
    assert env["ST_CLIENT_SECRET"] not in written and env["ST_APP_KEY"] not in written
    assert not any(token in written for token in simulator.issued_tokens())


@pytest.mark.slow
def test_integration_mode_without_credentials_is_a_clear_error(workspace, monkeypatch):
    for name in ("ST_CLIENT_ID", "ST_CLIENT_SECRET", "ST_APP_KEY", "ST_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    result = workspace.run("--sandbox=integration", tenants=["comfort-launch"])
    assert result.exit_code != 0
    assert "ST_CLIENT_ID" in result.output and "ST_CLIENT_SECRET" in result.output
    assert "Traceback" not in result.output
