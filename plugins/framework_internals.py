"""Every private internal of pytest, pytest-bdd and pytest-xdist the gate leans on, reached from here only.

``tests/test_framework_internals.py`` fails, naming the internal, when an upgrade changes one of them:

- ``pytest_bdd.scenario.scenario_wrapper_template_registry`` (pytest-bdd 9): the scenario a bound test function
  runs, with its feature, rule, tags, line and steps. ``conftest.py`` reads it for the report (``scenario_template``).
- ``pytest_bdd.steps.step_function_context_registry`` (pytest-bdd 9): every step definition registered in this
  process, with its type, parser and function. ``steps/traceability.py`` audits them (``step_definitions``).
- ``pytest_bdd.scenario.find_fixturedefs_for_step(step, fixturemanager, node)`` (pytest-bdd 9), looked up as a
  module global and called by keyword by ``inject_fixturedefs_for_step``: ``plugins/step_index.py`` replaces it
  with a memoised lookup (``BDD_SCENARIO`` is the module it is replaced in).
- ``pytest_bdd.compat.get_fixture_names(fixturemanager)`` and ``getfixturedefs(fixturemanager, name, node)``
  (pytest-bdd 9): every registered fixture name (pytest keeps the registry private) and the definitions of one
  that a test can see. ``plugins/step_index.py`` walks them once per test module (``visible_step_definitions``).
- ``xdist.scheduler.LoadGroupScheduling._split_scope(nodeid)`` (pytest-xdist 3): the group of a test;
  ``plugins/tenant_groups.py`` overrides it to group a tenant's scenarios.
- ``TerminalReporter._tw.width_of_current_line`` (pytest 9): whether ``-q``'s progress dots left a line open, so
  ``conftest.py``'s progress lines start on a fresh one (``line_is_open``).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest_bdd.scenario  # noqa: F401  (the module: pytest_bdd exports a function under the same name)
from pytest_bdd.compat import get_fixture_names, getfixturedefs
from pytest_bdd.scenario import scenario_wrapper_template_registry
from pytest_bdd.steps import step_function_context_registry

BDD_SCENARIO = sys.modules["pytest_bdd.scenario"]


def scenario_template(function: Any):
    """The ``ScenarioTemplate`` a test function bound by ``scenarios()`` runs, or None for any other object."""
    return scenario_wrapper_template_registry.get(function) if function is not None else None


def step_definitions() -> list:
    """The ``StepFunctionContext`` of every step definition registered in this process (of every run in it)."""
    return list(step_function_context_registry.values())


def visible_step_definitions(fixturemanager, node) -> list[tuple[Any, Any]]:
    """Every step definition ``node`` can see, as (fixture definition, ``StepFunctionContext``), in the order
    pytest-bdd 9's ``find_fixturedefs_for_step`` tries them: fixture names as registered, then pytest's own order."""
    return [(fixturedef, context)
            for name in get_fixture_names(fixturemanager=fixturemanager)
            for fixturedef in getfixturedefs(fixturemanager, name, node) or []
            if (context := step_function_context_registry.get(fixturedef.func)) is not None]


def line_is_open(terminal) -> bool:
    return bool(terminal._tw.width_of_current_line)


def new_line(terminal) -> None:
    terminal._tw.line()
