"""The client and the simulator against each other, in-process: strictness, auth, paging, retries, errors."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import httpx
import pytest

from readiness.servicetitan import catalog, openapi
from readiness.servicetitan import client as st
from readiness.sandbox import simulator as sim
from readiness.core.errors import OptionError
from readiness.core.tenants import FixtureTenant

ROOT = Path(__file__).resolve().parent.parent
TENANT = sim.TenantData.from_fixture(FixtureTenant(ROOT / "fixtures" / "tenants" / "riverside-growth"))
BASE = "http://simulator.invalid"


def setup(scopes=None, **options):
    simulator = sim.Simulator(TENANT, **options)
    creds = sim.generated_credentials("client-tests")
    simulator.connect(scopes=scopes, **creds)
    credentials = st.Credentials(st.Secret(creds["client_id"]), st.Secret(creds["client_secret"]),
                                 st.Secret(creds["app_key"]), str(TENANT.tenant_id), BASE, BASE)
    return simulator, credentials, creds


def call(coro_factory, **options):
    simulator, credentials, creds = setup(**{k: v for k, v in options.items() if k != "scopes"},
                                          scopes=options.get("scopes"))

    async def go():
        made = st.ServiceTitanClient(credentials, transport=simulator.transport(), clock=simulator.clock)
        try:
            return await coro_factory(made, simulator, creds)
        finally:
            await made.aclose()

    return asyncio.run(go())


async def raw(simulator, method, path, headers=None, **kwargs):
    async with httpx.AsyncClient(transport=simulator.transport(), base_url=BASE) as http:
        return await http.request(method, path, headers=headers or {}, **kwargs)


def test_token_endpoint_accepts_form_with_extra_query_and_refuses_wrong_secret():
    async def go(made, simulator, creds):
        form = {"grant_type": "client_credentials", "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        ok = await raw(simulator, "POST", "/connect/token?source=public-client", data=form)
        bad = await raw(simulator, "POST", "/connect/token", data={**form, "client_secret": "cs1.nope"})
        as_json = await raw(simulator, "POST", "/connect/token", json=form)
        grant = await raw(simulator, "POST", "/connect/token", data={**form, "grant_type": "password"})
        return ok.json(), bad.json(), as_json.status_code, grant.json()

    ok, bad, as_json, grant = call(go)
    assert ok["token_type"] == "Bearer" and ok["expires_in"] > 0 and "tn.crm.bookings:w" in ok["scope"]
    assert bad == {"error": "invalid_client"} and as_json == 400 and grant["error"] == "unsupported_grant_type"


def test_token_is_accepted_with_and_without_bearer_and_page_as_string():
    async def go(made, simulator, creds):
        token = (await made.token()).value.reveal()
        path = f"/jpm/v2/tenant/{TENANT.tenant_id}/job-types?page=1&pageSize=2&active=Any&includeTotal=true"
        statuses = []
        for header in (f"Bearer {token}", token):
            response = await raw(simulator, "GET", path, {"Authorization": header, "ST-App-Key": creds["app_key"]})
            statuses.append(response.status_code)
        return statuses, response.json()

    statuses, body = call(go)
    assert statuses == [200, 200]
    assert body["page"] == 1 and body["pageSize"] == 2 and body["hasMore"] is True and body["totalCount"] == 7


@pytest.mark.parametrize("path, status, words", [
    ("/jpm/v2/tenant/{t}/job-types?bogus=1", 400, "Unknown query parameter"),
    ("/jpm/v2/tenant/{t}/no-such-thing", 404, "Unknown path"),
    ("/jpm/v2/tenant/{t}/job-types?page=0", 400, "validation"),
    ("/jpm/v2/tenant/{t}/job-types?pageSize=5001", 400, "validation"),
    ("/jpm/v2/tenant/{t}/job-types?active=maybe", 400, "validation"),
    ("/jpm/v2/tenant/{t}/export/jobs?from=forged", 400, "validation"),
    ("/jpm/v2/tenant/{t}/export/jobs?includeRecentChanges=perhaps", 400, "validation"),
    ("/jpm/v2/tenant/1/job-types", 403, "not authorized for tenant"),
    ("/marketingads/v2/tenant/{t}/web-booking-attributions", 405, "not allowed"),
])
def test_the_simulator_is_strict(path, status, words):
    async def go(made, simulator, creds):
        headers = made.headers(await made.token())
        return await raw(simulator, "GET", path.format(t=TENANT.tenant_id), headers)

    response = call(go)
    assert response.status_code == status
    body = response.json()
    assert words in body["title"] + str(body.get("errors")) and body["traceId"] and body["status"] == status


def test_missing_scope_is_403_with_the_scope_named():
    async def go(made, simulator, creds):
        with pytest.raises(st.ApiError) as caught:
            await made.request("GET", "accounting", "export/invoices")
        return caught.value

    error = call(go, scopes={"tn.jpm.jobtypes:r"})
    assert error.status == 403 and "tn.acc.invoices:r" in str(error)


def test_rate_limit_answers_429_with_retry_after_and_the_title_clients_parse():
    async def go(made, simulator, creds):
        headers = made.headers(await made.token())
        path = f"/jpm/v2/tenant/{TENANT.tenant_id}/job-types"
        answers = [await raw(simulator, "GET", path, headers) for _ in range(61)]
        return answers[-1]

    response = call(go, rate_limit=60)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert response.json()["title"].split()[-2] == str(wait) and wait >= 1
    assert st.retry_after_seconds(response) == wait


def test_client_rides_out_the_rate_limit_without_early_retries():
    async def go(made, simulator, creds):
        for _ in range(130):
            await made.request("GET", "jpm", "job-types", params={"pageSize": 1})
        return simulator

    simulator = call(go, rate_limit=60)
    assert simulator.early_retries == 0
    assert any(r["status"] == 429 for r in simulator.requests)


def test_retry_after_is_read_from_the_title_when_the_header_is_missing():
    response = httpx.Response(429, json={"title": "The request limit was exceeded. Please try again in 12 seconds."})
    assert st.retry_after_seconds(response) == 12
    assert st.retry_after_seconds(httpx.Response(503, content=b"down")) is None


def test_retries_exhausted_is_one_clear_line():
    async def go(made, simulator, creds):
        simulator.inject(sim.Fault("status", path="job-types", status=500, times=10))
        with pytest.raises(st.RetriesExhausted) as caught:
            await made.request("GET", "jpm", "job-types")
        return caught.value

    error = call(go)
    assert error.attempts == 4 and str(error).startswith("GET /jpm/v2/tenant/")
    assert "500" in str(error) and "\n" not in str(error)


def test_a_post_is_not_retried_on_5xx_but_on_429():
    async def go(made, simulator, creds):
        simulator.inject(sim.Fault("status", path="/leads/form", method="POST", status=502))
        with pytest.raises(st.RetriesExhausted):
            await made.submit_lead_form({"name": "Pat Example", "summary": "x"})
        simulator.inject(sim.Fault("status", path="/leads/form", method="POST", status=429, retry_after=2))
        created = await made.submit_lead_form({"name": "Pat Example", "summary": "y"})
        return created, simulator

    created, simulator = call(go)
    assert [lead["id"] for lead in simulator.leads] == [created] and simulator.leads[0]["summary"] == "y"


def test_slow_answers_beyond_the_timeout_are_retried():
    simulator, credentials, _ = setup()
    simulator.inject(sim.Fault("slow", path="job-types", delay=0.5))

    async def go():
        made = st.ServiceTitanClient(credentials, transport=simulator.transport(), clock=simulator.clock, timeout=0.1)
        try:
            return await made.collect("jpm", "job-types", params={"active": "Any"}), made
        finally:
            await made.aclose()

    records, made = asyncio.run(go())
    assert len(records) == 7 and any("connection failed" in (e.note or "") for e in made.transcript)


def test_booking_and_lead_bodies_are_validated():
    async def go(made, simulator, creds):
        errors = []
        for body in ({"source": "Website"}, {"source": "W", "name": "n", "summary": "s", "isFirstTimeClient": True,
                                              "externalId": "e", "favouriteColour": "blue"}):
            with pytest.raises(st.ApiError) as caught:
                await made.create_booking(29951, body)
            errors.append(caught.value.errors)
        with pytest.raises(st.ApiError) as caught:
            await made.request("POST", "crm", "leads", json_body={"campaignId": 1, "summary": "x"})
        errors.append(caught.value.errors)
        with pytest.raises(st.ApiError) as caught:  # a website cannot know a call reason
            await made.request("POST", "crm", "leads", json_body={"campaignId": 24001, "summary": "x",
                                                                  "callReasonId": 7})
        errors.append(caught.value.errors)
        with pytest.raises(st.ApiError) as caught:
            await made.request("GET", "crm", "booking-provider/1/bookings")
        errors.append(caught.value.status)
        with pytest.raises(st.ApiError) as caught:
            await made.request("POST", "marketingads", "web-booking-attributions",
                               json_body={"bookingId": 1, "webSessionData": {"utmSource": "g", "cookie": "x"}})
        errors.append(caught.value.errors)
        return errors

    missing, unknown, lead, call_reason, provider, attribution = call(go)
    assert {"name", "summary", "isFirstTimeClient", "externalId"} <= set(missing)
    assert "favouriteColour" in unknown and "campaignId" in lead and provider == 404
    assert set(call_reason) == {"callReasonId"}
    assert {"bookingId", "webSessionData.cookie", "webSessionData.landingPageUrl",
            "webSessionData.referrerUrl"} <= set(attribution)


def test_credentials_come_from_the_environment_and_never_show():
    env = {"ST_CLIENT_ID": "cid.abc", "ST_CLIENT_SECRET": "cs2.secretvalue", "ST_APP_KEY": "ak1.appkeyvalue",
           "ST_TENANT_ID": "123"}
    creds = st.Credentials.from_env(env)
    assert creds.api_url == "https://api-integration.servicetitan.io"
    shown = repr(creds) + str(creds.client_secret) + repr(creds.app_key)
    assert "secretvalue" not in shown and "appkeyvalue" not in shown and "cid.abc" not in shown
    with pytest.raises(TypeError):
        pickle.dumps(creds.client_secret)
    with pytest.raises(OptionError, match="numeric"):
        st.Credentials.from_env({**env, "ST_TENANT_ID": "acme"})
    with pytest.raises(OptionError, match="production"):
        st.Credentials.from_env({**env, "ST_AUTH_URL": "https://auth.servicetitan.io"})
    with pytest.raises(OptionError, match="absolute"):
        st.Credentials.from_env({**env, "ST_API_URL": "api-integration"})


def test_token_lifetime_is_read_from_expires_in():
    async def go(made, simulator, creds):
        return await made.token()

    token = call(go, token_lifetime=120)
    assert token.expires_in == 120 and token.refresh_at - token.issued_at == pytest.approx(96)
    assert "sim." not in repr(token)


def test_webhook_sender_follows_the_retry_schedule_scaled():
    clock = sim.VirtualClock()
    sender = sim.WebhookSender("k" * 40, clock, "X-Sig", lambda body, key: "sig", scale=0.5)

    async def go():
        async def always_down(scope, receive, send):
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=always_down), base_url="http://r") as http:
            return await sender.deliver(http, "/hook", {"eventId": "e"})

    assert asyncio.run(go()) is False
    times = [d.at for d in sender.deliveries]
    assert [b - a for a, b in zip(times, times[1:])] == [5, 15, 30, 150]


def test_the_simulator_command_binds_loopback_only(tmp_path):
    from readiness.__main__ import main
    assert main(["simulator", "--tenant", str(tmp_path)]) == 2
    assert main(["simulator", "--tenant", str(ROOT / "fixtures/tenants/riverside-growth"), "--host", "0.0.0.0"]) == 2


# -- the website vendor's whole path (issue 20) -------------------------------------------------------------------
WEB_SESSION = {"landingPageUrl": "https://riverside-plumbing.example.com/services/drain-cleaning",
               "referrerUrl": "https://search.example.com/", "utmSource": "google"}


def test_lead_form_returns_a_lead_id_that_web_lead_form_attributions_accepts():
    async def go(made, simulator, creds):
        lead_id = await made.submit_lead_form({"name": "Pat Example", "email": "pat@example.com",
                                               "phoneNumber": "555-0100", "summary": "Drain cleaning"})
        await made.post_attribution(catalog.WEB_LEAD_FORM_ATTRIBUTION, {"leadId": lead_id, "webSessionData": WEB_SESSION})
        with pytest.raises(st.ApiError) as unknown:
            await made.post_attribution(catalog.WEB_LEAD_FORM_ATTRIBUTION,
                                        {"leadId": lead_id + 1, "webSessionData": WEB_SESSION})
        with pytest.raises(st.ApiError) as nameless:
            await made.submit_lead_form({"email": "pat@example.com", "message": "free text"})
        return lead_id, simulator, unknown.value, nameless.value

    lead_id, simulator, unknown, nameless = call(go)
    assert simulator.leads[-1]["id"] == lead_id and simulator.attributions[-1]["body"]["leadId"] == lead_id
    assert unknown.status == 400 and "leadId" in unknown.errors
    assert nameless.status == 400 and set(nameless.errors) == {"name", "message"}


def test_a_web_session_without_landing_page_and_referrer_is_an_rfc_7807_400():
    async def go(made, simulator, creds):
        headers = made.headers(await made.token())
        booking = simulator.bookings[0]["id"]
        return await raw(simulator, "POST", "/marketingads/v2/tenant/900000202/web-booking-attributions",
                         headers=headers, json={"bookingId": booking, "webSessionData": {"utmSource": "google"}})

    answer = call(go)
    body = answer.json()
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("application/problem+json")
    assert body["status"] == 400 and body["title"] and body["traceId"]
    assert set(body["errors"]) == {"webSessionData.landingPageUrl", "webSessionData.referrerUrl"}


def test_job_and_external_call_attributions_are_served_strictly():
    async def go(made, simulator, creds):
        job = simulator.tenant.records["jpm/export/jobs"][0]["id"]
        await made.post_attribution(catalog.JOB_ATTRIBUTION, {"jobId": job, "webSessionData": WEB_SESSION})
        call_data = {"customerPhoneNumber": "555-0100", "forwardingPhoneNumber": "555-0101",
                     "trackingPhoneNumber": "555-0102", "callStartedOnUtc": "2026-01-01T00:00:00Z"}
        await made.post_attribution(catalog.EXTERNAL_CALL_ATTRIBUTION,
                                    {"webSessionData": WEB_SESSION, "externalCallData": call_data})
        with pytest.raises(st.ApiError) as unknown:
            await made.post_attribution(catalog.JOB_ATTRIBUTION, {"jobId": 1, "webSessionData": WEB_SESSION})
        return simulator, unknown.value

    simulator, unknown = call(go)
    assert [a["post"].lead_type for a in simulator.attributions] == ["ManualJob", "Call"]
    assert unknown.status == 400 and "jobId" in unknown.errors


def test_attributed_leads_needs_its_window_and_lists_each_post_with_its_lead_type():
    async def go(made, simulator, creds):
        booking = simulator.bookings[0]["id"]
        await made.post_attribution(catalog.WEB_BOOKING_ATTRIBUTION, {"bookingId": booking, "webSessionData": WEB_SESSION})
        with pytest.raises(st.ApiError) as no_window:
            await made.call(catalog.ATTRIBUTED_LEADS)
        with pytest.raises(st.ApiError) as bad_type:
            await made.attributed_leads("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z", lead_type="Email")
        listed = await made.attributed_leads("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z")
        calls = await made.attributed_leads("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z", lead_type="Call")
        later = await made.attributed_leads("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")
        return booking, no_window.value, bad_type.value, listed, calls, later

    booking, no_window, bad_type, listed, calls, later = call(go)
    assert no_window.status == 400 and set(no_window.errors) == {"fromUtc", "toUtc"}
    assert bad_type.status == 400 and "leadType" in bad_type.errors
    assert [(catalog.lead_type_of(row), row["booking"]["id"]) for row in listed] == [("WebBooking", booking)]
    assert calls == [] and later == []


def test_a_new_app_versions_scope_is_refused_until_accepted_while_the_old_scopes_keep_working():
    async def go(made, simulator, creds):
        simulator.release_app_version({"tn.mads.attributedleads:r"})
        with pytest.raises(st.ApiError) as pending:
            await made.attributed_leads("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z")
        job_types = await made.collect_all(catalog.JOB_TYPES)
        simulator.accept_app_version(creds["client_id"])
        accepted = await made.attributed_leads("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z")
        return pending.value, job_types, accepted

    pending, job_types, accepted = call(go)
    assert pending.status == 403 and "not accepted" in str(pending) and "app version 2" in str(pending)
    assert job_types and accepted == []


def test_lists_hide_inactive_records_unless_asked_for_all():
    async def go(made, simulator, creds):
        return (await made.collect(catalog.JOB_TYPES.module, catalog.JOB_TYPES.path),
                await made.collect_all(catalog.JOB_TYPES))

    active, everything = call(go)
    assert all(r.get("active", True) for r in active) and any(r.get("active") is False for r in everything)
    assert len(everything) > len(active)


def test_every_new_body_conforms_to_the_published_schemas():
    """Requests the protocol posts and the simulator's answers, judged by readiness.servicetitan.openapi (the
    published documents and the library the intake uses)."""
    from readiness.core.tenants import FixtureTenant as Tenant
    from readiness.core.policy import PolicySet
    from readiness.sandbox import protocol

    tenant = Tenant(ROOT / "fixtures" / "tenants" / "riverside-growth")
    context = protocol.context(PolicySet.load(ROOT / "policies"))
    tests = {t["id"]: t for t in context["policies"]["sandbox-protocol"]["tests"]}
    posted = []
    for test_id in ("BOOK-01", "LEAD-01", "ATTR-02", "ATTR-03"):
        session = protocol.simulator_session(tenant, "conformance")
        protocol.run(session, tests[test_id], context)
        posted += session.simulator.posted
    paths = {p["path"].split("/tenant/")[1].split("/", 1)[1] for p in posted}
    assert {"leads/form", "web-booking-attributions", "web-lead-form-attributions", "job-attributions"} <= paths
    assert all(openapi.validate_body(p["path"], "POST", None, p["body"]) == [] for p in posted)

    async def go(made, simulator, creds):
        headers = made.headers(await made.token())
        form = await raw(simulator, "POST", "/crm/v2/tenant/900000202/leads/form", headers=headers,
                         json={"name": "Pat Example", "summary": "Drain cleaning"})
        await made.post_attribution(catalog.WEB_LEAD_FORM_ATTRIBUTION,
                                    {"leadId": form.json()["leadId"], "webSessionData": WEB_SESSION})
        job = simulator.tenant.records["jpm/export/jobs"][0]["id"]
        await made.post_attribution(catalog.JOB_ATTRIBUTION, {"jobId": job, "webSessionData": WEB_SESSION})
        listed = await raw(simulator, "GET", "/marketingads/v2/tenant/900000202/attributed-leads", headers=headers,
                           params={"fromUtc": "2025-12-31T00:00:00Z", "toUtc": "2026-01-02T00:00:00Z",
                                   "includeTotal": "true"})
        return form, listed

    form, listed = call(go)
    assert openapi.validate_body("/crm/v2/tenant/{tenant}/leads/form", "POST", 200, form.json()) == []
    assert len(listed.json()["data"]) == 2
    assert openapi.validate_body("/marketingads/v2/tenant/{tenant}/attributed-leads", "GET", 200, listed.json()) == []
