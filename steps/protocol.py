"""Steps for features/sandbox-protocol.feature. Offline they never run: the scenarios are pending."""

from pytest_bdd import given, parsers, then, when

from readiness import protocol


@given(parsers.parse('access to ServiceTitan\'s integration environment for protocol test "{test_id}"'),
       target_fixture="protocol_session")
def protocol_session(gate, test_id):
    return protocol.open_session(gate.mode, gate.protocol[test_id])


@when("the product requests an access token with its client credentials", target_fixture="token")
def request_token(protocol_session):
    return protocol_session.acquire_token()


@then("a token is issued and the product plans its refresh from expires_in")
def token_refresh_planned(token):
    assert token.refresh_at < token.expires_at
