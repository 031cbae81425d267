"""Each private internal of pytest, pytest-bdd and pytest-xdist the gate leans on (plugins/framework_internals.py)
is still there and still means what the gate takes it to mean: an upgrade that changes one fails here, by name."""

from __future__ import annotations

import inspect
import textwrap
from importlib.metadata import version

import pytest
from xdist import newhooks
from xdist.scheduler import LoadGroupScheduling

from plugins import framework_internals, step_index, tenant_groups

FEATURE = """\
@req-DEMO
Feature: Demo
  Rule: A rule

    @per-tenant
    Scenario: First
      Given a tenant
      When it is judged
      Then nothing is wrong

    Scenario Outline: Outlined
      Given a tenant
      Then the number <n> is kept

      Examples:
        | n |
        | 1 |
"""

STEPS = """\
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("demo.feature")
RAN = []


@given("a tenant")
def a_tenant():
    RAN.append("module given")


@then(parsers.parse("the number {n:d} is kept"))
def kept(n):
    RAN.append(n)
"""

CONFTEST = """\
from pytest_bdd import then, when

from plugins import framework_internals, step_index

pytest_plugins = ["plugins.step_index"]
SEEN = {"templates": [], "lookups": 0}


@when("it is judged")
def judged():
    pass


@then("nothing is wrong")
def nothing_wrong():
    pass


def pytest_collection_modifyitems(items):
    SEEN["templates"] += [framework_internals.scenario_template(item.obj) for item in items]


def pytest_bdd_before_step(request, feature, scenario, step, step_func):
    assert framework_internals.BDD_SCENARIO.find_fixturedefs_for_step is step_index.find_fixturedefs_for_step
    manager, item = request.node.session._fixturemanager, request.node
    ours = list(step_index.find_fixturedefs_for_step(step, manager, item))
    theirs = list(step_index._walk_every_fixture(step, manager, item))
    assert ours == theirs and ours, (step.name, ours, theirs)
    SEEN["lookups"] += 1
"""


@pytest.fixture
def demo(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".feature", demo=FEATURE)
    pytester.makepyfile(test_demo=STEPS, conftest=CONFTEST)
    pytester.makeini("[pytest]\nbdd_features_base_dir = .\n")
    return pytester


def test_the_installed_pytest_bdd_is_the_major_version_the_step_lookup_was_written_against():
    assert version("pytest-bdd").split(".")[0] == step_index.SUPPORTED_MAJOR, (
        "pytest-bdd changed major version: check plugins/step_index.py against its find_fixturedefs_for_step")


def test_pytest_bdd_still_looks_up_step_definitions_through_the_function_the_step_index_replaces():
    lookup = framework_internals.BDD_SCENARIO.find_fixturedefs_for_step
    assert list(inspect.signature(step_index._walk_every_fixture).parameters) == ["step", "fixturemanager", "node"]
    assert lookup is step_index._walk_every_fixture or lookup is step_index.find_fixturedefs_for_step
    # Called by keyword and looked up as a module global at call time, so replacing the module attribute works.
    caller = inspect.unwrap(framework_internals.BDD_SCENARIO.inject_fixturedefs_for_step)
    assert "find_fixturedefs_for_step" in caller.__code__.co_names
    assert "find_fixturedefs_for_step(step=step, fixturemanager=fixturemanager, node=node)" in inspect.getsource(caller)
    # The step index walks what pytest-bdd's lookup walks, with the same two helpers, once per test module.
    walk = step_index._walk_every_fixture.__code__.co_names
    assert "get_fixture_names" in walk and "getfixturedefs" in walk and "step_function_context_registry" in walk
    assert list(inspect.signature(framework_internals.get_fixture_names).parameters) == ["fixturemanager"]
    assert list(inspect.signature(framework_internals.getfixturedefs).parameters) == [
        "fixturemanager", "fixturename", "node"]


def test_the_memoised_step_lookup_finds_what_pytest_bdd_finds_and_the_registries_describe_the_project(demo):
    result = demo.inline_run("-p", "no:randomly")
    result.assertoutcome(passed=2)
    conftest = next(call.plugin for call in result.getcalls("pytest_plugin_registered")
                    if getattr(call.plugin, "__file__", "").endswith("conftest.py")
                    and str(demo.path) in call.plugin.__file__)
    assert conftest.SEEN["lookups"] == 5  # every step of both scenarios compared with pytest-bdd's own lookup
    first, outlined = sorted(conftest.SEEN["templates"], key=lambda t: t.line_number)
    assert (first.name, first.line_number) == ("First", 6) and first.feature.rel_filename.endswith("demo.feature")
    assert first.tags == {"per-tenant"} and first.feature.tags == {"req-DEMO"} and first.rule is not None
    assert [(s.keyword, s.name) for s in first.steps] == [
        ("Given", "a tenant"), ("When", "it is judged"), ("Then", "nothing is wrong")]
    assert outlined.name == "Outlined" and framework_internals.scenario_template(None) is None
    definitions = {(c.type, c.parser.name): c for c in framework_internals.step_definitions()
                   if c.step_func.__module__ in ("test_demo", "conftest")}
    assert set(definitions) >= {("given", "a tenant"), ("when", "it is judged"), ("then", "nothing is wrong"),
                                ("then", "the number {n:d} is kept")}
    kept = definitions["then", "the number {n:d} is kept"]
    assert kept.parser.is_matching("the number 7 is kept") and not kept.parser.is_matching("the number x is kept")
    assert callable(kept.step_func) and kept.step_func.__name__ == "kept"


def test_pytest_xdist_still_groups_by_the_scope_the_tenant_scheduler_overrides():
    assert list(inspect.signature(LoadGroupScheduling._split_scope).parameters) == ["self", "nodeid"]
    assert hasattr(newhooks, "pytest_xdist_make_scheduler")
    scheduler = tenant_groups.TenantGroupScheduling.__new__(tenant_groups.TenantGroupScheduling)
    assert LoadGroupScheduling._split_scope(scheduler, "test_gate.py::test_x[a]@grouped") == "grouped"
    assert scheduler._split_scope("test_gate.py::test_x[comfort-launch]") == "[comfort-launch]"
    assert scheduler._split_scope("test_gate.py::test_y") == "test_gate.py::test_y"
    assert scheduler._split_scope("test_gate.py::test_x[a]@grouped") == "grouped"


def test_pytest_still_says_whether_its_progress_dots_left_a_line_open(pytester: pytest.Pytester):
    pytester.makeconftest(textwrap.dedent("""
        from plugins import framework_internals

        def pytest_sessionfinish(session):
            terminal = session.config.pluginmanager.get_plugin("terminalreporter")
            print("\\nline open after the dots:", framework_internals.line_is_open(terminal))
            framework_internals.new_line(terminal)
            print("line open after a new line:", framework_internals.line_is_open(terminal))
    """))
    pytester.makepyfile("def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:randomly", "-s")
    result.stdout.fnmatch_lines(["*line open after the dots: True", "line open after a new line: False"])
