"""Work done beside the main line of the gate's end of run, on a second core, in a forked child process.

Without ``fork``, without a second CPU, or when every CPU is already busy (another pytest-xdist worker, another
job on the machine) the job runs in this process when its result is asked for: the same result, later. A fork
with no idle core to run on only adds its own cost (10% more CPU for the project's tests under ``-n 2``). Why:
docs/scale.md, "End-of-run work on a second core".
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


def _spare_core() -> bool:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus > 1 and "fork" in multiprocessing.get_all_start_methods() and _runnable() < cpus


def _runnable() -> int:
    """Threads running or ready to run at this moment, this one included: Linux's ``/proc/loadavg`` (the load
    averages lag by a minute, so the end of a ``-n`` run, its workers gone, would still look busy); 1 elsewhere."""
    try:
        return int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return 1


def start(job: Callable[[], T]) -> Callable[[], T]:
    """Start ``job`` beside the caller; the returned function waits for its result (or raises what it raised)."""
    if not _spare_core():
        return job
    receive, send = multiprocessing.Pipe(duplex=False)
    with warnings.catch_warnings():
        # The child only computes and writes to its pipe; it takes none of the locks xdist's threads hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = multiprocessing.get_context("fork").Process(target=_run, args=(job, send), daemon=True)
        child.start()
    send.close()

    def result() -> T:
        try:
            succeeded, value = receive.recv()  # before join: a large result would otherwise fill the pipe
        except EOFError:  # the child died before it could send (killed, out of memory)
            child.join()
            succeeded, value = False, RuntimeError(f"a background job of the gate ended without a result "
                                                   f"(exit code {child.exitcode})")
        finally:
            receive.close()
        child.join()
        if not succeeded:
            raise value
        return value

    return result


def _run(job: Callable[[], T], send) -> None:
    try:
        outcome = (True, job())
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        outcome = (False, exc)
    try:
        send.send(outcome)
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception still ends in a clear error
        send.send((False, RuntimeError(f"a background job of the gate failed: {outcome[1]!r} ({exc})")))
    send.close()
