"""Garbage collection tuned for a run that keeps what it builds: test items, tenants, scenario records.

For the run, young-generation passes start every 50,000 allocations instead of 700, and what is alive once
collection ends and once the tests end is frozen (``gc.freeze``), so later passes, pytest's own at exit included,
no longer walk it (what this saves: docs/scale.md). Frozen objects are never collected and stay frozen after
pytest; a process that runs pytest more than once and wants the memory back calls ``gc.unfreeze()``. The
thresholds are restored once pytest's cleanups have run. ``-p no:plugins.gc_tuning`` turns all this off.
"""

from __future__ import annotations

import gc

import pytest

YOUNG_THRESHOLD = 50_000


def pytest_configure(config: pytest.Config) -> None:
    saved = gc.get_threshold()
    config.add_cleanup(lambda: gc.set_threshold(*saved))
    gc.set_threshold(YOUNG_THRESHOLD, *saved[1:])


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()


@pytest.hookimpl(wrapper=True, tryfirst=True)  # before any plugin's end-of-session work (the report is written there)
def pytest_sessionfinish(session: pytest.Session):
    gc.freeze()
    return (yield)
