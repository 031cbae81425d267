"""Steps for features/claims.feature: what the product and its documents may and may not claim."""

from pytest_bdd import given, parsers, then, when

from readiness.boundaries import claims
from readiness.report import document


@given("the offline product's customer-facing copy", target_fixture="documents")
def product_copy(gate):
    return claims.product_files(gate.options.product_dir), gate.options.product_dir


@given("the tenant's customer-reviewed documents", target_fixture="documents")
def tenant_documents(tenant):
    return claims.tenant_documents(tenant.folder), tenant.folder


@given("the evidence report's statement of this run's mode", target_fixture="mode_statement")
def mode_statement(gate):
    return gate.mode, document.MODE_STATEMENTS[gate.mode]


@when(parsers.parse("they are read for claims forbidden by {requirements}"), target_fixture="claim_findings")
def read_for_claims(gate, documents, requirements, scenario_evidence):
    policy = claims.ClaimPolicy.from_policies(gate.policies, requirements.split(" and "))
    files, root = documents
    found = claims.scan_files(files, policy, root)
    scenario_evidence.add(found)
    return found


@then("no forbidden claim is found")
def no_forbidden_claim(claim_findings):
    assert not claim_findings, "; ".join(str(f) for f in claim_findings)


@then("it says that no sandbox tenant evidence exists unless the run used the integration environment")
def statement_denies_sandbox_evidence(mode_statement):
    mode, text = mode_statement
    if mode != "integration":
        assert document.disclaims_sandbox_evidence(text), f'the {mode} mode statement is "{text}"'


@given("the example claims in the claim policy as written", target_fixture="claim_examples")
def examples_as_written(gate):
    return gate.policies["claims"], None


@given(parsers.parse("every example claim in the claim policy disguised with {disguise}"),
       target_fixture="claim_examples")
def examples_disguised(gate, disguise):
    return gate.policies["claims"], disguise


@then("the claim boundary catches every one")
def catches_every_example(claim_examples):
    missed = claims.missed_examples(*claim_examples)
    assert not missed, "not caught:\n" + "\n".join(missed)


@given("the honest sentences in the claim policy and its claims placed under a Future label",
       target_fixture="claim_policy")
def honest_sentences(gate):
    return gate.policies["claims"]


@then("none of them is reported as a forbidden claim")
def honest_not_reported(claim_policy):
    reported = claims.reported_honest_examples(claim_policy)
    assert not reported, "\n".join(reported)


@then("a Future label excuses only the claims about API-backed capabilities")
def future_label_is_narrow(claim_examples):
    excused = claims.future_label_excuses(claim_examples[0])
    assert not excused, "\n".join(excused)
