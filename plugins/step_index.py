"""Step lookup memoised per scenario module, in place of pytest-bdd 9's ``find_fixturedefs_for_step``.

pytest-bdd finds a step's definition by walking every registered fixture name, for every step, twice, asking
pytest each time which definitions of that name the test can see. What a test module can see is walked once per
module here, and the answer for a step depends only on its type and text, so it is computed once per
(module, type, text) and reused: the same definitions, in the same order (why it matters: docs/scale.md).

It replaces a pytest-bdd internal (``plugins/framework_internals.py``), so it applies only to the pytest-bdd major
version it was written against and otherwise leaves pytest-bdd alone (slower, same results).
``-p no:plugins.step_index`` turns it off.
"""

from __future__ import annotations

from importlib.metadata import version

import pytest

from plugins.framework_internals import BDD_SCENARIO, visible_step_definitions

SUPPORTED_MAJOR = "9"
VISIBLE = pytest.StashKey[dict]()
LOOKUPS = pytest.StashKey[dict]()
REPLACED = pytest.StashKey[object]()
# pytest-bdd's own lookup, kept as imported: what this one must equal (tests/test_framework_internals.py).
_walk_every_fixture = BDD_SCENARIO.find_fixturedefs_for_step


def find_fixturedefs_for_step(step, fixturemanager, node):
    module = node.parent.nodeid if node.parent else ""
    lookups = fixturemanager.config.stash.setdefault(LOOKUPS, {})
    key = (module, step.type, step.name)
    if key not in lookups:
        visible = fixturemanager.config.stash.setdefault(VISIBLE, {})
        if module not in visible:
            visible[module] = visible_step_definitions(fixturemanager, node)
        lookups[key] = tuple(fixturedef for fixturedef, context in visible[module]
                             if context.type in (None, step.type) and context.parser.is_matching(step.name))
    return iter(lookups[key])


def pytest_configure(config: pytest.Config) -> None:
    if version("pytest-bdd").split(".")[0] == SUPPORTED_MAJOR:
        config.stash[REPLACED] = BDD_SCENARIO.find_fixturedefs_for_step
        BDD_SCENARIO.find_fixturedefs_for_step = find_fixturedefs_for_step


def pytest_unconfigure(config: pytest.Config) -> None:
    if REPLACED in config.stash:  # what was there before this run (a run inside another run restores the outer's)
        BDD_SCENARIO.find_fixturedefs_for_step = config.stash[REPLACED]
