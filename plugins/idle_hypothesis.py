"""Hypothesis' pytest plugin, set aside at the end of a session in which no hypothesis test ran.

Its end-of-session summary imports all of hypothesis even when nothing used it (a second or more per process,
xdist workers included: docs/scale.md). A process that ran a hypothesis test has imported hypothesis; one that has
not ran none. An xdist controller runs no test itself but summarises its workers' results, so it keeps the plugin.
``-p no:plugins.idle_hypothesis`` turns this off.
"""

from __future__ import annotations

import sys

import pytest

PLUGIN = "hypothesispytest"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    manager = session.config.pluginmanager
    if "hypothesis" in sys.modules or manager.has_plugin("dsession"):
        return
    plugin = manager.get_plugin(PLUGIN)
    if plugin is not None:
        manager.unregister(plugin)
