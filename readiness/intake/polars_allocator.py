"""polars, loaded with its memory allocator set to one arena (the one place that configures polars' allocator).

Why: polars allocates through its own jemalloc (Linux wheels; symbols prefixed ``_rjem_``), which gives each of
polars' threads an arena of its own (up to 8 on this 2-core machine) and keeps the pages each frees for about a
second (its statistics report ``dirty_decay_ms`` 500, ``muzzy_decay_ms`` 1000). A block of the columnar import
frees its cells and text in whichever arenas polars' threads used, so the resident set climbed for the first
second of an import, arena by arena, and a longer file showed a higher peak though nothing is kept per row but the
id: 196, 218 and 230 MB at 100,000, 400,000 and 800,000 jobs. With one arena every thread reuses the same freed
pages: 180, 189 and 195 MB, in the same time (``benchmarks/intake_import.py --peak-rss-of``; docs/intake.md,
Performance).

jemalloc reads its options once, from ``_RJEM_MALLOC_CONF``, when polars loads; so the variable is set only for
that moment (a child process does not inherit it) and only when polars is not loaded yet. Options the operator set
there are kept, and a ``narenas`` of theirs wins. ``tests/test_intake_columnar.py`` fails by name when a polars
upgrade stops reading it (another allocator, another prefix).
"""

from __future__ import annotations

import os
import sys

CONF = "_RJEM_MALLOC_CONF"  # tikv-jemalloc-sys' name for MALLOC_CONF when its symbols are prefixed
ONE_ARENA = "narenas:1"


def _load():
    if "polars" in sys.modules:  # loaded already: its allocator is configured (a test process, say)
        return sys.modules["polars"]
    before = os.environ.get(CONF)
    if before is None or "narenas" not in before:
        os.environ[CONF] = f"{before},{ONE_ARENA}" if before else ONE_ARENA
    try:
        import polars
    finally:
        if before is None:
            del os.environ[CONF]
        else:
            os.environ[CONF] = before
    return polars


polars = _load()
