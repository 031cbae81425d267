"""Steps for features/traceability.feature: requirements, scenarios, protocol tests and step definitions."""

from types import ModuleType

from pytest_bdd import given, then

from plugins.framework_internals import step_definitions
from readiness.core import features
from readiness.report import controls


@given("the requirements catalog, the sandbox protocol catalog and the feature files", target_fixture="trace_problems")
def trace_problems(gate):
    return features.trace(
        gate.scenarios, gate.policies["requirements"]["requirements"], gate.policies["sandbox-protocol"]["tests"]
    )


@then("every requirement that is not planned is named by at least one scenario")
def every_requirement_covered(trace_problems):
    _assert_none(trace_problems, "requirement-without-scenario")


@then("every scenario names at least one requirement")
def every_scenario_traced(trace_problems):
    _assert_none(trace_problems, "scenario-without-requirement")


@then("every requirement a scenario names exists in the catalog")
def no_unknown_requirement(trace_problems):
    _assert_none(trace_problems, "unknown-requirement")


@then("every scenario that needs sandbox access names a protocol test from the catalog")
def sandbox_scenarios_traced(trace_problems):
    for kind in ("sandbox-without-protocol-test", "unknown-protocol-test", "protocol-test-not-sandbox"):
        _assert_none(trace_problems, kind)


@given("the control mapping and the requirements catalog", target_fixture="mapping_problems")
def mapping_problems(gate, scenario_evidence):
    found = controls.mapping_problems(gate.policies)
    scenario_evidence.add(found)
    return found


@then("every requirement the control mapping names exists in the catalog")
def mapped_requirements_exist(mapping_problems):
    hits = [str(f) for f in mapping_problems if f.kind in ("control-unknown-requirement", "control-unknown-control")]
    assert not hits, "\n".join(hits)


@then("every requirement in the catalog is mapped to at least one control")
def requirements_mapped(mapping_problems):
    hits = [str(f) for f in mapping_problems if f.kind == "control-requirement-unmapped"]
    assert not hits, "\n".join(hits)


@then("every control is proven by a requirement or says why it is a gap")
def controls_explained(mapping_problems):
    hits = [str(f) for f in mapping_problems if f.kind in
            ("control-unknown-framework", "control-gap-unexplained", "control-gap-but-mapped")]
    assert not hits, "\n".join(hits)


def _assert_none(problems, kind):
    hits = [f"{p.subject}: {p.detail}" for p in problems if p.kind == kind]
    assert not hits, "; ".join(hits)


@given("the step definitions the gate has loaded", target_fixture="step_audit")
def step_audit(gate, request):
    # pytest-bdd registers every definition of the process (one process may run the gate more than once);
    # this run's are those of the step modules its plugin manager loaded.
    loaded = {id(vars(plugin)) for plugin in request.config.pluginmanager.get_plugins() if isinstance(plugin, ModuleType)}
    definitions = [
        features.StepDefinition(
            type=context.type,
            pattern=context.parser.name,
            where=f"{context.step_func.__module__}.{context.step_func.__name__}",
            matches=context.parser.is_matching,
        )
        for context in step_definitions()
        if context.step_func.__module__.startswith("steps.") and id(context.step_func.__globals__) in loaded
    ]
    return features.audit_steps(gate.scenarios, definitions)


@then("every step in the feature files has a step definition")
def no_missing_step(step_audit):
    missing, _ = step_audit
    assert not missing, "steps with no definition: " + "; ".join(missing)


@then("every step definition is used by a feature")
def no_unused_definition(step_audit):
    _, unused = step_audit
    assert not unused, "unused step definitions: " + "; ".join(f"{d.where}: {d.pattern}" for d in unused)
