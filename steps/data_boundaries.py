"""Steps for features/data-boundaries.feature: envelopes, Titan Map, retention, export fields, consent, tokens."""

from pathlib import Path

from pytest_bdd import given, then, when

import readiness
import steps
from readiness.boundaries import data_boundaries, sensitive


@given("the tenant's files", target_fixture="boundary_subject")
def tenant_files(tenant):
    return tenant


@then("every file follows its documented contract")
def files_follow_contract(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence, data_boundaries.contract_findings(
        boundary_subject, gate.load_problems(boundary_subject.slug))))


@then("no file holds sensitive personal data")
def no_sensitive_data(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence,
                         sensitive.tenant_findings(boundary_subject, gate.policies["sensitive-data"])))


@given("the sensitive-data detectors", target_fixture="detectors")
def sensitive_detectors(gate):
    return sensitive.SensitiveData(gate.policies["sensitive-data"])


@then("each finds its samples and none of its near-misses")
def detector_samples(detectors, scenario_evidence):
    _assert_none(_record(scenario_evidence, detectors.sample_problems()))


@given("the tenant's lead submissions", target_fixture="boundary_subject")
def lead_submissions(tenant):
    return tenant


@given("the tenant's sync-queue items", target_fixture="boundary_subject")
def queue_items(tenant):
    return tenant


@when("they are checked against the lead envelope", target_fixture="boundary_findings")
def check_lead_envelope(gate, boundary_subject, scenario_evidence):
    return _record(scenario_evidence, data_boundaries.lead_envelope(boundary_subject, gate.policies["envelopes"]))


@when("they are checked against the queue item envelope", target_fixture="boundary_findings")
def check_queue_envelope(gate, boundary_subject, scenario_evidence):
    return _record(scenario_evidence, data_boundaries.queue_envelope(boundary_subject, gate.policies["envelopes"]))


@then("no record carries a field outside its envelope")
def no_field_outside(boundary_findings):
    _assert_none(boundary_findings)


@given("the booking envelope and ServiceTitan's booking-create fields", target_fixture="boundary_findings")
def booking_shape(gate, scenario_evidence):
    return _record(scenario_evidence, data_boundaries.booking_envelope_shape(gate.policies["envelopes"]))


@then("the envelope holds only booking-create fields and every required one")
def booking_shape_ok(boundary_findings):
    _assert_none(boundary_findings)


@given("the tenant's Titan Map", target_fixture="boundary_subject")
def titan_map(tenant):
    return tenant


@then("it holds only ids, names, codes and notes, and no personal data")
def titan_map_ok(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence,
                         data_boundaries.titan_map_boundary(boundary_subject, gate.policies["data-boundaries"])))


@given("the tenant's exports and their capture date", target_fixture="boundary_subject")
def tenant_exports(tenant):
    return tenant


@then("they are younger than the export retention window")
def exports_in_window(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence,
                         data_boundaries.export_retention(boundary_subject, gate.policies["data-boundaries"])))


@then("every submission is younger than the lead retention window")
def leads_in_window(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence,
                         data_boundaries.lead_retention(boundary_subject, gate.policies["data-boundaries"])))


@then("no export holds a field or a value the product's use does not need")
def export_fields_needed(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence,
                         data_boundaries.export_fields(boundary_subject, gate.policies["data-boundaries"])))


@then("each one references a consent artifact with its capture time, text version, text hash and method")
def consent_ok(gate, boundary_subject, scenario_evidence):
    _assert_none(_record(scenario_evidence, data_boundaries.consent_findings(
        boundary_subject, gate.policies["data-boundaries"], gate.options.product_dir)))


@given("the suite's own code and any code shipped with the offline product", target_fixture="code_folders")
def code_folders(gate):
    return [Path(readiness.__file__).parent, Path(steps.__file__).parent, Path(gate.options.product_dir)]


@then("nothing in it writes a token or secret to a file, a store or a log file")
def no_token_writes(gate, code_folders, scenario_evidence):
    root = Path(readiness.__file__).parent.parent
    _assert_none(_record(scenario_evidence,
                         data_boundaries.code_token_writes(code_folders, gate.policies["data-boundaries"], root)))


def _record(scenario_evidence, found):
    scenario_evidence.add(found)
    return found


def _assert_none(found):
    assert not found, "\n".join(str(f) for f in found)
