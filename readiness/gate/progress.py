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
