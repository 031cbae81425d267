"""Steps for features/connection-matrix.feature and features/eligibility.feature."""

from pytest_bdd import given, parsers, then, when

from readiness.access import matrix, runbooks
from readiness.report import access_packets
from readiness.boundaries import claims


def _assert_none(found, scenario_evidence):
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@given("the connection readiness matrix", target_fixture="connection_matrix")
def connection_matrix(gate, scenario_evidence):
    loaded = matrix.Matrix(gate.policies)
    scenario_evidence.sections["matrix"] = matrix.matrix_section(loaded)
    return loaded


@then("no scope or endpoint appears in two API families")
def no_shared_scope(connection_matrix, scenario_evidence):
    _assert_none(matrix.shared_between_families(connection_matrix), scenario_evidence)


@then("every scope and endpoint belongs to its own family's ServiceTitan module")
def scopes_in_own_module(connection_matrix, scenario_evidence):
    _assert_none(matrix.outside_own_module(connection_matrix), scenario_evidence)


@then("every scope it asks for is needed by one of its family's endpoints")
def no_unused_scope(connection_matrix, scenario_evidence):
    _assert_none(matrix.unused_scopes(connection_matrix), scenario_evidence)


@then("no other policy names a scope the matrix does not ask for")
def no_scope_outside(connection_matrix, scenario_evidence):
    _assert_none(matrix.scopes_outside_matrix(connection_matrix), scenario_evidence)


@then("every scope a sandbox protocol test needs is in the matrix")
def protocol_scopes_in_matrix(connection_matrix, gate, scenario_evidence):
    _assert_none(matrix.protocol_scopes_missing(connection_matrix, gate.policies["sandbox-protocol"]["tests"]),
                 scenario_evidence)


@then("every scope in the matrix is needed by a sandbox protocol test once the protocol names scopes")
def matrix_scopes_in_protocol(connection_matrix, gate, scenario_evidence):
    _assert_none(matrix.scopes_no_protocol_test_needs(connection_matrix,
                                                      gate.policies["sandbox-protocol"]["tests"]), scenario_evidence)


@then("every endpoint it names is published by ServiceTitan and needs the scope the matrix gives it")
def endpoints_published(connection_matrix, scenario_evidence):
    _assert_none(matrix.published_endpoints(connection_matrix), scenario_evidence)


@then("every endpoint decision is the matrix's, its alternative is not, and a sandbox protocol test confirms it")
def decisions_hold(connection_matrix, gate, scenario_evidence):
    _assert_none(matrix.endpoint_decisions(connection_matrix, gate.policies["envelopes"], gate.protocol),
                 scenario_evidence)


@then("every write scope has a write use and every other scope is read-only")
def writes_have_uses(connection_matrix, scenario_evidence):
    _assert_none(matrix.write_uses(connection_matrix), scenario_evidence)


@then("every API family names its minimum product use, its module gate and its customer authorization owner")
def families_mapped(connection_matrix, scenario_evidence):
    _assert_none(matrix.mapping_gaps(connection_matrix), scenario_evidence)


@given("the partner application packet rendered from the matrix", target_fixture="rendered_packet")
def partner_packet(gate):
    return next(iter(access_packets.render_partner_packet(gate.policies).items()))


@then("it maps every API family to its minimum product use, module gate and customer authorization owner")
def packet_maps_families(rendered_packet, gate):
    missing = access_packets.unmapped_families(rendered_packet[1], matrix.Matrix(gate.policies).families)
    assert not missing, f"{rendered_packet[0]} does not map: " + "; ".join(missing)


@then("every API-backed item in it is labelled Future")
def labelled_future(rendered_packet):
    name, text = rendered_packet
    lines = access_packets.unlabelled_api_lines(text)
    assert not lines, f"{name}: API-backed lines not labelled Future:\n" + "\n".join(lines)


@then("it makes no claim the claim policy forbids")
def packet_claims(rendered_packet, gate, scenario_evidence):
    name, text = rendered_packet
    _assert_none(claims.scan_text(text, f"packets/{name}", claims.ClaimPolicy.from_policies(gate.policies)),
                 scenario_evidence)


# --- eligibility --------------------------------------------------------------------------------------

@given(parsers.parse("a Launch customer and the {family_title} family of the connection matrix"),
       target_fixture="example_family")
def example_family(gate, family_title):
    loaded = matrix.Matrix(gate.policies)
    family = next((f for f in loaded.families if f["id"] == family_title.lower()), None)
    assert family is not None, f"no {family_title} family in the connection matrix"
    return loaded, family["id"]


@then("the customer's eligibility for that family is as follows")
def eligibility_examples(example_family, datatable):
    loaded, family_id = example_family
    header, *rows = datatable
    wrong = []
    for row in rows:
        example = dict(zip(header, row))
        profile = matrix.example_profile(
            loaded, family_id, "launch", module_purchased=example["module purchased"] == "yes",
            has_owner=example["authorization owner"] == "yes", status=example["connection"],
            scopes_granted=example["scopes granted"] == "all",
        )
        outcome = next(r.outcome for r in matrix.eligibility(loaded, profile) if r.family == family_id)
        if outcome != example["outcome"]:
            wrong.append(f"{row}: got {outcome!r}")
    assert not wrong, "\n".join(wrong)


@given("the tenant's eligibility for every API family", target_fixture="tenant_eligibility")
def tenant_eligibility(gate, tenant, scenario_evidence):
    loaded = matrix.Matrix(gate.policies)
    results = matrix.eligibility(loaded, tenant.profile)
    scenario_evidence.sections["eligibility"] = matrix.eligibility_section(results, tenant.profile)
    return loaded, results


@then("every family is eligible or blocked for one named reason")
def one_outcome_each(tenant_eligibility):
    loaded, results = tenant_eligibility
    assert [r.family for r in results] == [f["id"] for f in loaded.families]
    assert all(r.outcome in matrix.OUTCOMES for r in results)


@then("the tenant's profile names only modules and families the matrix knows")
def known_modules(tenant_eligibility, tenant, scenario_evidence):
    _assert_none(matrix.unknown_modules(tenant_eligibility[0], tenant.profile, tenant.slug), scenario_evidence)


@then("the tenant's connection grants no scope outside the matrix")
def no_unrequested_grant(tenant_eligibility, tenant, scenario_evidence):
    _assert_none(matrix.unrequested_grants(tenant_eligibility[0], tenant.profile, tenant.slug), scenario_evidence)


@when("the families its package uses are checked", target_fixture="eligibility_findings")
def package_families_checked(tenant_eligibility, tenant, gate, scenario_evidence):
    required = gate.policies["packages"]["packages"][tenant.profile["package"]]["api_required"]
    found = matrix.eligibility_findings(tenant_eligibility[1], tenant.profile, tenant.slug, required)
    scenario_evidence.add(found)
    return found


@then("every blocked family is routed to the disconnect runbook")
def blocked_routed(eligibility_findings, tenant_eligibility, tenant, gate):
    problems = matrix.routing_problems(tenant_eligibility[1], eligibility_findings, tenant.slug,
                                       runbooks.runbook_ids(gate.policies))
    assert not problems, "\n".join(problems)


@then("no family the package cannot be delivered without is blocked")
def required_families_reachable(eligibility_findings):
    blockers = [str(f) for f in eligibility_findings if f.severity == "blocker"]
    assert not blockers, "\n".join(blockers)


@given("the tenant's access checklist", target_fixture="rendered_packet")
def access_checklist(gate, tenant):
    name = access_packets.checklist_name(tenant.slug)
    return name, access_packets.render_checklists(gate.policies, [tenant])[name]


@then("it names the admin gate and, for every family the package uses, its module gate, owner, scopes and use")
def checklist_names_gates(rendered_packet, gate, tenant):
    loaded = matrix.Matrix(gate.policies)
    missing = access_packets.unmapped_families(rendered_packet[1], loaded.families_for(tenant.profile["package"]))
    if loaded.data["admin_gate"]["permission"] not in rendered_packet[1]:
        missing.append(f"the admin gate ({loaded.data['admin_gate']['permission']})")
    assert not missing, f"{rendered_packet[0]} does not name: " + "; ".join(missing)
