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
from readiness.servicetitan import catalog
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


class PostsToLeads(ServiceTitanClient):
    """Hands an enquiry to ``leads`` instead of ``leads/form``, making up the call reason leads requires."""

    async def submit_lead_form(self, envelope):
        created = await self.call(catalog.CREATE_LEAD, json_body={"campaignId": 24001, "summary": envelope["summary"],
                                                                  "callReasonId": 1})
        return created["id"]


class SendsVisitorText(ServiceTitanClient):
    """Forwards the visitor's own words with the lead form instead of the service summary."""

    async def submit_lead_form(self, envelope):
        return await super().submit_lead_form({**envelope, "summary": "Please call after 5, gate code 4411, "
                                                                      "the dog is friendly"})


class NeverReadsAttributedLeads(ServiceTitanClient):
    """Posts attributions and assumes they were accepted, without asking ServiceTitan."""

    async def attributed_leads(self, from_utc, to_utc, lead_type=None):
        return []


class StopsAfterOneRefusal(ServiceTitanClient):
    """Treats a 403 on one family as a failure of the whole connection."""

    refused = False

    async def send_once(self, method, api_path, **kwargs):
        if self.refused:
            raise ApiError(method, api_path, 401, "connection marked failed after an earlier refusal")
        try:
            return await super().send_once(method, api_path, **kwargs)
        except ApiError as error:
            self.refused = self.refused or error.status == 403
            raise


class ForgetsActiveAny(ServiceTitanClient):
    """Imports lists as they come, so inactive records stay hidden."""

    async def collect_all(self, operation, **kwargs):
        if operation.export:
            return await super().collect_all(operation, **kwargs)
        return await self.collect(operation.module, operation.path, **kwargs)


BAD_CLIENTS = {
    "ignores-retry-after": IgnoresRetryAfter,
    "reposts-without-lookup": RepostsWithoutLookup,
    "writes-during-import": WritesDuringImport,
    "logs-token": LogsToken,
    "posts-to-leads": PostsToLeads,
    "sends-visitor-text": SendsVisitorText,
    "never-reads-attributed-leads": NeverReadsAttributedLeads,
    "stops-after-one-refusal": StopsAfterOneRefusal,
    "forgets-active-any": ForgetsActiveAny,
}


def pytest_configure(config):
    name = os.environ.get("READINESS_BAD_CLIENT")
    if name:
        patch = pytest.MonkeyPatch()
        patch.setattr(protocol, "CLIENT_FACTORY", BAD_CLIENTS[name])
        config.add_cleanup(patch.undo)  # so a gate run in the test's own process leaves the product's client


@pytest.hookimpl(wrapper=True, tryfirst=True)  # a wrapper: it runs before the report hook writes and audits
def pytest_sessionfinish(session):
    if os.environ.get("READINESS_PLANT_LEAK") and not hasattr(session.config, "workerinput"):
        secret = protocol.simulator_secrets(os.environ[protocol.SIMULATOR_RUN_VAR])["client_secret"]
        folder = Path(session.config.getoption("report_dir"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "debug-dump.txt").write_text(f"client_secret={secret}\n")
    return (yield)
