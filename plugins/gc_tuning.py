"""Garbage collection tuned for a run that keeps what it builds: test items, tenants, scenario records.

CPython's cyclic collector starts a young-generation pass every 700 net allocations and, over a run, keeps
re-examining objects that will live until the end. Measured on 200 generated tenants (docs/scale.md), that was
about a fifth of the scenarios' time, and each xdist worker spent seconds collecting its heap on the way out
while the controller waited. So, for the run:

- young passes start every 50,000 allocations: garbage is still collected, in fewer, larger passes;
- what is alive once collection ends (items, policies, features) and once the tests end (records, tenants) is
  frozen (``gc.freeze``): later passes, including pytest's own at exit, no longer walk it.

Frozen objects are never collected, so cyclic garbage of the last test (or of imports) is not finalised by
pytest's closing collection either, and they stay frozen after pytest: unfreezing would make the interpreter's
exit walk the whole heap again (seconds per process). A process that runs pytest more than once and wants the
memory back calls ``gc.unfreeze()``. The thresholds are restored once pytest's cleanups have run.
``-p no:plugins.gc_tuning`` turns all this off.
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
