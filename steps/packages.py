"""Steps for features/manual-packages.feature: what each manual package needs and what each customer supplied."""

from pytest_bdd import given, then

from readiness.access import packages


@given("the manual package definitions", target_fixture="package_problems")
def package_problems(gate):
    return packages.definition_problems(gate.policies)


@then("every export a package needs is read by a matrix family the package uses")
def exports_in_matrix(package_problems, scenario_evidence):
    scenario_evidence.add(package_problems)
    assert not package_problems, "\n".join(str(f) for f in package_problems)


@given("the tenant's package and the exports and evidence it supplied", target_fixture="missing_inputs")
def missing_inputs(gate, tenant):
    return packages.missing_inputs(gate.policies, tenant)


@then("nothing the package needs is missing")
def nothing_missing(missing_inputs, scenario_evidence):
    scenario_evidence.add(missing_inputs)
    assert not missing_inputs, "\n".join(str(f) for f in missing_inputs)
