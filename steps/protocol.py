"""Steps for features/sandbox-protocol.feature: open a session, run one protocol test, judge its checks.

Offline the scenarios are pending and never run. The scenario's ``@sbx-<ID>`` tag names its protocol test;
each ``When`` sentence is one test's action (``readiness.sandbox.protocol.ACTIONS``) and each ``Then`` one named
check (``CHECKS``). The library decides; the steps only assert its verdicts.
"""

from pytest_bdd import given, then, when

from readiness.core.features import PROTOCOL_PREFIX
from readiness.sandbox import protocol


@given("the product's app is connected to a ServiceTitan sandbox tenant", target_fixture="protocol_session")
def protocol_session(gate, request):
    [test_id] = [m.name[len(PROTOCOL_PREFIX):] for m in request.node.iter_markers() if m.name.startswith(PROTOCOL_PREFIX)]
    return protocol.open_session(gate.mode, gate.protocol[test_id], tenants=gate.tenants)


def _action_step(test_id: str):
    def run_protocol_test(gate, protocol_session, scenario_evidence):
        assert protocol_session.test["id"] == test_id, (
            f"this When belongs to protocol test {test_id}, but the scenario is tagged @sbx-{protocol_session.test['id']}")
        outcome = protocol.run(protocol_session, protocol_session.test, protocol.context(gate.policies))
        transcript = protocol.write_transcript(outcome, gate.options.report_dir)
        name, section = protocol.report_section(outcome, protocol_session.test, transcript)
        scenario_evidence.sections[name] = section
        return outcome

    run_protocol_test.__name__ = "run_" + test_id.lower().replace("-", "_")
    return run_protocol_test


def _check_step(check: str):
    def check_holds(protocol_outcome):
        verdict = protocol_outcome.verdict(check)
        assert verdict.passed, f"{protocol.CHECKS[check]}: not so. {verdict.detail}"

    check_holds.__name__ = "check_" + check.replace("-", "_")
    return check_holds


for _test_id, _action in protocol.ACTIONS.items():
    when(_action, target_fixture="protocol_outcome")(_action_step(_test_id))
for _check, _sentence in protocol.CHECKS.items():
    then(_sentence)(_check_step(_check))
