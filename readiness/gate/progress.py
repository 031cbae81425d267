"""Per-tenant progress for long runs: one line as each tenant's last scenario finishes.

Fed with pytest's test reports on the controller (``pytest_runtest_logreport``), so it
works the same serially and under pytest-xdist, where the reports arrive from workers.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from readiness.core import features


class TenantProgress:
    def __init__(self, gate):
        self.gate = gate
        self.expected = sum(features.PER_TENANT_TAG in spec.tags for spec in gate.scenarios)
        self.total = len(gate.tenants)
        self.seconds_by_node: dict[str, float] = defaultdict(float)
        self.seconds_by_tenant: dict[str, float] = defaultdict(float)
        self.records_by_tenant: dict[str, list[dict]] = defaultdict(list)
        self.reported: set[str] = set()

    def observe(self, nodeid: str, phase: str, duration: float) -> str | None:
        """Account one test phase; the progress line when it completes a tenant, else None."""
        self.seconds_by_node[nodeid] += duration
        record = self.gate.records.get(nodeid)
        if phase != "teardown" or record is None or not record["tenant"]:
            return None
        slug = record["tenant"]
        self.seconds_by_tenant[slug] += self.seconds_by_node.pop(nodeid)
        self.records_by_tenant[slug].append(record)  # final: teardown is a test's last report
        if len(self.records_by_tenant[slug]) < self.expected or slug in self.reported:
            return None
        return self._line(slug)

    def unfinished(self) -> list[str]:
        """Lines for tenants that started but never reached every scenario (e.g. some deselected with -k)."""
        return [self._line(slug, partial=True) for slug in sorted(self.records_by_tenant) if slug not in self.reported]

    def _line(self, slug: str, partial: bool = False) -> str:
        self.reported.add(slug)
        records = self.records_by_tenant[slug]
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(Counter(r["status"] for r in records).items()))
        findings = sum(len(r["findings"]) for r in records)
        return (f"tenant {slug}: {len(records)} scenarios ({statuses}), {findings} findings, "
                f"{self.seconds_by_tenant[slug]:.2f}s [{len(self.reported)}/{self.total} tenants"
                f"{', partial' if partial else ''}]")


# A failing tenant (or the product) shows this many lines by default; -v or --tb=long shows them all.
LINES_PER_TENANT = 40
FAILED_STATUSES = ("failed", "dry-run-failed")


def pending_lines(built: dict, protocol: dict[str, dict]) -> list[str]:
    """Pending scenarios by the condition that unblocks them, each condition once with its protocol tests."""
    pending = [r for r in built["scenarios"] if r["status"] == "pending"]
    if not pending:
        return []
    tests_by_condition: dict[str, set[str]] = defaultdict(set)
    for record in pending:
        for test in record["protocol_tests"]:
            tests_by_condition[protocol.get(test, {}).get("unblock", "(no unblock condition)")].add(test)
    lines = [f"pending: {len(pending)} scenarios await sandbox access (pending is not passed); unblocked when:"]
    lines += [f"  {', '.join(sorted(tests))}: {condition}" for condition, tests in sorted(
        tests_by_condition.items(), key=lambda item: sorted(item[1]))]
    return lines


def failure_lines(built: dict, not_loaded: str, full: bool) -> list[str]:
    """Each failed scenario with its findings, one line each (``[severity] kind: file:line: what (runbook)``),
    grouped by tenant; the scenarios a tenant's broken files left unjudged are counted in one line."""
    groups: dict[str | None, list[dict]] = defaultdict(list)
    for record in built["scenarios"]:
        if record["status"] in FAILED_STATUSES:
            groups[record["tenant"]].append(record)
    lines = []
    for tenant in sorted(groups, key=lambda t: (t is not None, t or "")):
        records = groups[tenant]
        unjudged = [r for r in records if (r["reason"] or "").startswith(not_loaded)]
        own = [f"FAILED {tenant or 'the product'}: {len(records)} scenario{'s' if len(records) > 1 else ''} failed"]
        if unjudged:
            own.append(f"  {len(unjudged)} not judged: the tenant did not load (its contract scenario says why)")
        for record in records:
            if record in unjudged:
                continue
            own.append(f"  {record['feature']}: {record['scenario']} ({', '.join(record['requirements'])})")
            if record["findings"]:
                own += [f"    {_finding_line(f)}" for f in record["findings"]]
            else:
                own.append(f"    {record['reason']}")
        if not full and len(own) > LINES_PER_TENANT:
            hidden = len(own) - LINES_PER_TENANT + 1
            own = own[:LINES_PER_TENANT - 1] + [f"  ... {hidden} more lines: run with -v (or read the report)"]
        lines += own
    return lines


def _finding_line(finding: dict) -> str:
    runbook = f", runbook: {finding['runbook']}" if finding.get("runbook") else ""
    return f"[{finding['severity']}] {finding['kind']}: {finding['subject']}: {finding['detail']}{runbook}"
