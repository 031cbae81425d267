"""Work beside the end of a run (``readiness.gate.overlap``) gives the same results, and errors, as work done in line."""

from __future__ import annotations

import os

import pytest

from readiness.gate import overlap
from readiness.report import document
from readiness.core.errors import ReadinessError, TenantDataError


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """The tests below fork as on an idle machine, whatever else runs beside them."""
    monkeypatch.setattr(overlap, "_runnable", lambda: 1)


def test_a_job_beside_returns_its_result_from_another_process():
    waiting = overlap.start(lambda: (os.getpid(), "x" * 1_000_000))  # larger than a pipe's buffer
    pid, text = waiting()
    assert pid != os.getpid() and len(text) == 1_000_000


def test_a_job_beside_raises_its_error_with_its_type_file_and_line():
    def broken():
        raise TenantDataError("tenants/demo/leads.jsonl", "invalid JSON Lines record", line=3)

    with pytest.raises(TenantDataError) as raised:
        overlap.start(broken)()
    assert str(raised.value) == "tenants/demo/leads.jsonl:3: invalid JSON Lines record"
    assert (raised.value.file, raised.value.line) == ("tenants/demo/leads.jsonl", 3)


def test_a_job_that_dies_is_an_error_not_a_result():
    with pytest.raises(RuntimeError, match="ended without a result"):
        overlap.start(lambda: os._exit(3))()


def test_an_unsendable_result_is_a_clear_error():
    with pytest.raises(RuntimeError, match="failed"):
        overlap.start(lambda: (lambda: None))()


def test_without_a_spare_core_the_job_runs_in_this_process(monkeypatch):
    monkeypatch.setattr(overlap, "_spare_core", lambda: False)
    assert overlap.start(os.getpid)() == os.getpid()


def test_when_every_core_is_busy_the_job_runs_in_this_process(monkeypatch):
    monkeypatch.setattr(overlap, "_runnable", lambda: os.cpu_count() or 1)
    assert overlap.start(os.getpid)() == os.getpid()


def test_the_threads_ready_to_run_are_read_from_the_kernel():
    assert 1 <= overlap._runnable() <= 10_000  # this thread is one of them (1 where /proc/loadavg is missing)


def test_a_report_off_its_schema_is_refused_before_anything_is_written(tmp_path):
    """Validation runs beside rendering; its error still comes first, and no file is written."""
    with pytest.raises(ReadinessError, match="readiness.json"):
        document.write({"schema_version": 5, "scenarios": "not a list"}, tmp_path / "out")
    assert not (tmp_path / "out").exists()
