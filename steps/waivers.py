"""Steps for features/waivers.feature: the run's and each tenant's waivers (readiness.gate.waivers)."""

from pytest_bdd import given, then


@given("the waivers of the whole run", target_fixture="waiver_owner")
def run_waivers():
    return None


@given("the tenant's own waivers", target_fixture="waiver_owner")
def tenant_waivers(tenant):
    return tenant.slug


@then("none of them has expired")
def none_expired(gate, waiver_owner, scenario_evidence):
    expired = gate.waivers.expired_findings(waiver_owner)
    scenario_evidence.add(expired)
    assert not expired, "\n".join(str(f) for f in expired)


@then("each still covers a finding or a failed scenario of this run")
def none_stale():
    """Judged once every scenario has reported, since any of them may hold what a waiver covers: a stale waiver
    then fails this scenario and this step (``readiness.gate.waivers.apply``)."""
