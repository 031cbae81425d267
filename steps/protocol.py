"""Steps for features/sandbox-protocol.feature: open a session, run one protocol test, judge its checks.

Offline the scenarios are pending and never run. Each ``Then`` sentence is one named check of
``readiness.protocol.CHECKS``; the library decides, the step only asserts its verdict.
"""

from pytest_bdd import given, parsers, then, when

from readiness.sandbox import protocol


@given(parsers.parse('access to ServiceTitan\'s integration environment for protocol test "{test_id}"'),
       target_fixture="protocol_session")
def protocol_session(gate, test_id):
    return protocol.open_session(gate.mode, gate.protocol[test_id], tenants=gate.tenants)


@when("the product runs the protocol test", target_fixture="protocol_outcome")
def run_protocol_test(gate, protocol_session, scenario_evidence):
    outcome = protocol.run(protocol_session, protocol_session.test, protocol.context(gate.policies))
    transcript = protocol.write_transcript(outcome, gate.options.report_dir)
    name, section = protocol.report_section(outcome, protocol_session.test, transcript)
    scenario_evidence.sections[name] = section
    return outcome


def _check_step(check: str):
    def check_holds(protocol_outcome):
        verdict = protocol_outcome.verdict(check)
        assert verdict.passed, f"{protocol.CHECKS[check]}: not so. {verdict.detail}"

    check_holds.__name__ = "check_" + check.replace("-", "_")
    return check_holds


for _check, _sentence in protocol.CHECKS.items():
    then(_sentence)(_check_step(_check))
