"""Steps for features/titan-map-drift.feature: the Titan Map against the tenant's taxonomy exports."""

from pytest_bdd import given, then, when

from readiness.mapping import drift


@given("the tenant's Titan Map and its taxonomy exports", target_fixture="drift_check")
def drift_check(gate, tenant):
    return drift.check(tenant, gate.policies)


@when("the Titan Map is compared with the taxonomy exports", target_fixture="drift_findings")
def compare_map(drift_check, scenario_evidence):
    scenario_evidence.add(drift_check.map_findings)
    scenario_evidence.sections["drift"] = drift_check.section
    return drift_check.map_findings


@when("the taxonomy exports are compared with the tenant's previous snapshot", target_fixture="drift_findings")
def compare_snapshot(drift_check, scenario_evidence):
    scenario_evidence.add(drift_check.over_time_findings)
    scenario_evidence.sections["drift"] = drift_check.section
    return drift_check.over_time_findings


@then("no drift is found that the drift policy says blocks the gate")
def no_blocking_drift(gate, drift_findings):
    blocking = drift.blocking(drift_findings, gate.policies["drift"])
    assert not blocking, "\n".join(str(f) for f in blocking)
