"""Steps for features/runbooks.feature: runbook coverage, finding routing and the published runbooks."""

from pytest_bdd import given, then, when

from readiness.access import runbooks
from readiness.report import access_packets


@given("the runbooks and the partner support model", target_fixture="runbook_problems")
def runbook_problems(gate):
    return runbooks.coverage_problems(gate.policies)


@then("every failure mode has a runbook with a trigger, a detection signal, an owner role, customer communication "
      "and steps")
def failure_modes_covered(runbook_problems, scenario_evidence):
    found = [f for f in runbook_problems if f.kind in ("runbook-missing", "runbook-incomplete")]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("every runbook has positive acknowledge and resolve windows and is acknowledged before it is resolved")
def windows_positive(runbook_problems, scenario_evidence):
    found = [f for f in runbook_problems if f.kind == "runbook-window-invalid"]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@when("the finding kinds of every readiness check are collected", target_fixture="finding_routes")
def finding_routes():
    return runbooks.finding_kind_routes()


@then("every finding kind routed to a runbook names one that exists")
def routes_exist(finding_routes, gate, scenario_evidence):
    found = runbooks.routing_problems(gate.policies, finding_routes)
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@given("the published runbooks document", target_fixture="rendered_packet")
def published_runbooks(gate):
    return next(iter(access_packets.render_runbooks(gate.policies).items()))


@then("it shows every runbook with its owner role and response windows")
def runbooks_shown(rendered_packet, gate):
    missing = access_packets.unshown_runbooks(rendered_packet[1], gate.policies["runbooks"]["runbooks"])
    assert not missing, f"{rendered_packet[0]} does not show: " + "; ".join(missing)
