"""Step lookup memoised per scenario module: pytest-bdd 9 finds a step's definition by walking every fixture name.

``pytest_bdd.scenario.find_fixturedefs_for_step`` asks pytest for the definitions of every registered fixture
name, for every step, twice (once to inject, once to fetch). With this project's ~120 fixtures that walk was a
third of the gate's time over many tenants (docs/scale.md). The answer depends only on the step's type and text
and on what the test's module can see, so it is computed once per (module, type, text) and reused: the same
definitions, in the same order, as pytest-bdd's own lookup.

It replaces a pytest-bdd internal, so it applies only to the pytest-bdd major version it was written against and
otherwise leaves pytest-bdd alone (slower, same results). ``-p no:plugins.step_index`` turns it off.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

import pytest
import pytest_bdd.scenario  # noqa: F401  (the module, not the function pytest_bdd exports under that name)

SUPPORTED_MAJOR = "9"
LOOKUPS = pytest.StashKey[dict]()
_bdd_scenario = sys.modules["pytest_bdd.scenario"]
_walk_every_fixture = _bdd_scenario.find_fixturedefs_for_step


def find_fixturedefs_for_step(step, fixturemanager, node):
    lookups = fixturemanager.config.stash.setdefault(LOOKUPS, {})
    key = (node.parent.nodeid if node.parent else "", step.type, step.name)
    if key not in lookups:
        lookups[key] = tuple(_walk_every_fixture(step, fixturemanager, node))
    return iter(lookups[key])


def pytest_configure(config: pytest.Config) -> None:
    if version("pytest-bdd").split(".")[0] == SUPPORTED_MAJOR:
        _bdd_scenario.find_fixturedefs_for_step = find_fixturedefs_for_step


def pytest_unconfigure(config: pytest.Config) -> None:
    _bdd_scenario.find_fixturedefs_for_step = _walk_every_fixture
