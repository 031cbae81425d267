"""Each tenant's scenarios run together: one after another in a serial run, on one worker under pytest-xdist.

Serially, pytest would run the first feature's scenarios for every tenant, then the next feature's: every tenant
would finish, and print its progress line, only during the last feature. Grouped, a tenant's line comes as soon as
it is judged. The gate's scenarios come first, then each tenant's, in their order otherwise unchanged.

Under pytest-xdist, only the worker that runs a tenant's scenarios reads the tenant's files: the controller groups
tests by the tenant parameter of their node id (``test_x[comfort-launch]``), overriding pytest-xdist's private
``LoadGroupScheduling._split_scope`` (``plugins/framework_internals.py``), because xdist's own ``@name`` grouping no
longer reaches pytest 9 (docs/scale.md). Scenarios without parameters are groups of one and spread freely; an
``@name`` suffix, once pytest-xdist delivers it again, still wins.

With ``-n`` and no ``--dist`` the gate picks this scheduling; ``--dist loadgroup`` names it too, and any other
``--dist`` is left as given.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling


class TenantGroupScheduling(LoadGroupScheduling):
    def _split_scope(self, nodeid: str) -> str:
        if nodeid.rfind("@") > nodeid.rfind("]"):
            return super()._split_scope(nodeid)
        name = nodeid.rsplit("::", 1)[-1]
        return name[name.index("["):] if name.endswith("]") and "[" in name else nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and config.option.dist == "no":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown when xdist is off (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadGroupScheduling | None:
    if config.option.dist == "loadgroup":
        return TenantGroupScheduling(config, log)
    return None


@pytest.hookimpl(trylast=True)  # after selection (shards, -k) and after any plugin that shuffles
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order: dict[str | None, int] = {None: 0}
    for item in items:
        order.setdefault(_tenant(item), len(order))
    items.sort(key=lambda item: order[_tenant(item)])  # stable: each tenant's scenarios keep their order


def _tenant(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("tenant") if callspec is not None else None
