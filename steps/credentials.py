"""Steps for features/credentials.feature: no credential in anything the product ships or the gate reads."""

from pytest_bdd import given, parsers, then, when

from readiness.boundaries import credentials


@given("every file of the offline product", target_fixture="scan_roots")
def product_files(gate):
    return [gate.options.product_dir]


@given("every file in the tenant's folder, exports included", target_fixture="scan_roots")
def tenant_files(tenant):
    return [tenant.folder]


@given("every policy file", target_fixture="scan_roots")
def policy_files(gate):
    return [gate.options.policies_dir]


@when("they are scanned for credentials", target_fixture="credential_findings")
def scan_roots_for_credentials(gate, scan_roots, scenario_evidence):
    policy = credentials.CredentialPolicy.from_policies(gate.policies)
    found = [f for root in scan_roots for f in credentials.scan_folder(root, policy).findings]
    scenario_evidence.add(found)
    return found


@then("no credential is found")
def no_credential(credential_findings):
    hits = [str(f) for f in credential_findings if f.kind == "credential"]
    assert not hits, "\n".join(hits)


@then("every file could be checked")
def every_file_checked(credential_findings):
    hits = [str(f) for f in credential_findings if f.kind in ("credential-unreadable", "credential-symlink-outside")]
    assert not hits, "\n".join(hits)


@given(parsers.parse("{kind} made up for this run and written as {disguise}"), target_fixture="planted")
def planted_credential(kind, disguise):
    return kind, disguise


@when("it is scanned for credentials", target_fixture="self_test")
def scan_planted(gate, planted):
    return credentials.self_test(credentials.CredentialPolicy.from_policies(gate.policies), *planted)


@then("the scan reports it without showing its value")
def reported_masked(self_test):
    assert self_test.findings, "the planted credential was not found"
    assert not self_test.unmasked, f"findings of {', '.join(self_test.unmasked)} show the value they found"


@given("the credential policy's allow-list", target_fixture="credential_policy")
def allow_list(gate):
    return credentials.CredentialPolicy.from_policies(gate.policies)


@then("every entry gives the reason it is safe")
def every_entry_has_reason(credential_policy):
    missing = [entry.id for entry in credential_policy.allow if len(entry.reason.split()) < 3]
    assert not missing, f"allow-list entries without a reason: {', '.join(missing)}"


@then("no entry excuses a credential made up for this run in any of the ServiceTitan formats")
def allow_list_is_narrow(credential_policy):
    excused = credentials.excused_samples(credential_policy)
    assert not excused, "\n".join(excused)
