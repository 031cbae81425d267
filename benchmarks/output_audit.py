"""Benchmark: the output audit of a report whose tenants each bring findings of their own.

The report quotes every finding's detail (a lead under review, a drifted record, an offending sentence); the audit
blanks the quoted claims before it reads the report for forbidden claims, so a quoted claim is not judged twice.
Copies of the demo tenants repeat the same few details; an agency's tenants each bring their own. This script builds
an HTML page shaped like the report's findings table (TENANTS tenants, FINDINGS distinct details each, one tenant
quoting a forbidden claim) and times ``security.audit_text`` on it, in the same run:
  - as the gate calls it: blanking only the quotes that hold a claim (``security._quoted_findings``);
  - the baseline it replaced: blanking every quoted detail, three ``str.replace`` passes over the page per detail;
and checks both report the same problems.

    python benchmarks/output_audit.py [--tenants 200] [--findings 10]
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.boundaries import security# noqa: E402
from readiness.core.policy import PolicySet  # noqa: E402

CLAIM = 'site/index.md:4: partner-approval (CLAIM-APPROVAL): "we are an official servicetitan partner.". Say instead: x'


def findings(tenants: int, per_tenant: int) -> dict[str, dict]:
    records = {}
    for tenant in range(tenants):
        details = [f"lead lead-{tenant:04d}-{n:03d} review since 2026-11-09T16:06:30Z after 0 attempts: "
                   f"the lead's service has no entry in the Titan Map." for n in range(per_tenant)]
        records[f"tenant-{tenant:04d}"] = {"findings": [{"detail": d} for d in details],
                                           "reason": CLAIM if tenant == 0 else None}
    return records


def page(records: dict[str, dict]) -> str:
    rows = "".join(f"<tr><td>{slug}</td><td>{html.escape(finding['detail'])}</td></tr>\n"
                   for slug, record in records.items() for finding in record["findings"])
    reasons = "".join(f"<p>{html.escape(r['reason'])}</p>\n" for r in records.values() if r["reason"])
    filler = "<tr><td>passed</td><td>The tenant's documents promise nothing API-backed as current.</td></tr>\n"
    # The real report runs to about 38 KB per tenant (its scenarios, steps and sections).
    return f"<table>\n{rows}{filler * (350 * len(records))}</table>\n{reasons}"


def every_detail(gate) -> list[str]:
    """The baseline's quote list: every distinct detail and reason, claim or not."""
    quoted = {f["detail"] for r in gate.records.values() for f in r["findings"]}
    quoted |= {r["reason"] for r in gate.records.values() if r["reason"]}
    return sorted(quoted, key=len, reverse=True)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--findings", type=int, default=10, help="distinct finding details per tenant")
    args = parser.parse_args()
    policies = PolicySet.load(ROOT / "policies")
    gate = SimpleNamespace(policies=policies, records=findings(args.tenants, args.findings))
    text, scanners = page(gate.records), security._scanners(gate)
    security.audit_text(gate, "warm.html", "<p>warm up</p>", [], scanners)

    def audit(quoted):
        return security.audit_text(gate, "readiness.html", text, quoted, scanners)

    select, claims_only = timed(security._quoted_findings, gate, scanners[1])
    fast, problems = timed(audit, claims_only)
    everything = every_detail(gate)
    slow, baseline = timed(audit, everything)
    if problems != baseline:
        sys.exit(f"the audits disagree:\n{problems}\n{baseline}")
    print(f"page: {len(text) / 1e6:.1f} MB; {len(everything)} distinct quoted details "
          f"({args.tenants} tenants x {args.findings}, one reason quoting a claim)")
    print(f"audit, blanking the {len(claims_only)} quote(s) holding a claim: {select + fast:.2f} s "
          f"(choosing them {select:.2f} s)")
    print(f"audit, blanking every quoted detail (baseline): {slow:.2f} s")
    print(f"ratio: {slow / (select + fast):.1f}x; same problems: yes ({len(problems)})")


if __name__ == "__main__":
    main()
