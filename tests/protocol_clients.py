"""Deliberately wrong ServiceTitan clients, to prove each protocol check can fail.

Also a pytest plugin for gate runs: ``-p tests.protocol_clients`` with ``READINESS_BAD_CLIENT=<name>`` makes the
gate's protocol scenarios use that client; ``READINESS_PLANT_LEAK=1`` writes a generated credential into the
report folder before the report is written (the leak audit must catch it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from readiness.sandbox import protocol
from readiness.servicetitan.client import ApiError, ServiceTitanClient, TransientFailure


class IgnoresRetryAfter(ServiceTitanClient):
    async def send_once(self, *args, **kwargs):
        try:
            return await super().send_once(*args, **kwargs)
        except TransientFailure as failure:
            failure.wait = None  # forgets what the server asked for and uses its own short backoff
            raise


class RepostsWithoutLookup(ServiceTitanClient):
    async def find_booking(self, provider_id, external_id):
        return None


class WritesDuringImport(ServiceTitanClient):
    async def collect(self, module, path, **kwargs):
        records = await super().collect(module, path, **kwargs)
        if (module, path) == ("jpm", "job-types") and records:
            try:
                await self.request("PATCH", "jpm", f"job-types/{records[0]['id']}", json_body={"active": True})
            except ApiError:
                pass
        return records


class LogsToken(ServiceTitanClient):
    async def token(self, **kwargs):
        token = await super().token(**kwargs)
        logging.getLogger("product.client").info("calling ServiceTitan with token %s", token.value.reveal())
        return token


BAD_CLIENTS = {
    "ignores-retry-after": IgnoresRetryAfter,
    "reposts-without-lookup": RepostsWithoutLookup,
    "writes-during-import": WritesDuringImport,
    "logs-token": LogsToken,
}


def pytest_configure(config):
    name = os.environ.get("READINESS_BAD_CLIENT")
    if name:
        protocol.CLIENT_FACTORY = BAD_CLIENTS[name]


@pytest.hookimpl(wrapper=True, tryfirst=True)  # a wrapper: it runs before the report hook writes and audits
def pytest_sessionfinish(session):
    if os.environ.get("READINESS_PLANT_LEAK") and not hasattr(session.config, "workerinput"):
        secret = protocol.simulator_secrets(os.environ[protocol.SIMULATOR_RUN_VAR])["client_secret"]
        folder = Path(session.config.getoption("report_dir"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "debug-dump.txt").write_text(f"client_secret={secret}\n")
    return (yield)
