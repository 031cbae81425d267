"""Benchmark: SARIF, OSCAL and cucumber JSON rendered from an agency-sized report, against the HTML report's render.

Builds a report shaped like an agency's by copying the bundled report's per-tenant scenarios and findings under
TENANTS fake tenant slugs, then times, in the same run, each format's render and the HTML report's render (the
floor: the gate renders that page on every run anyway). Prints milliseconds and the ratio to the floor.

    python benchmarks/formats.py [--report reports/readiness.json] [--tenants 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.core.policy import PolicySet  # noqa: E402
from readiness.report import document, formats  # noqa: E402


def agency(built: dict, tenants: int) -> dict:
    """The report with its per-tenant records and tenant rows repeated for ``tenants`` slugs."""
    template = built["tenants"][0]
    records = [r for r in built["scenarios"] if r["tenant"] == template["slug"]]
    scenarios = [r for r in built["scenarios"] if r["tenant"] is None]
    rows = []
    for n in range(tenants):
        slug = f"tenant-{n:04d}"
        scenarios += [{**r, "tenant": slug} for r in records]
        rows.append({**template, "slug": slug, "findings": template["findings"]})
    return {**built, "scenarios": scenarios, "tenants": rows}


def timed(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default=str(ROOT / "reports" / "readiness.json"))
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    built = agency(json.loads(Path(args.report).read_text()), args.tenants)
    policies = PolicySet.load(ROOT / "policies")
    floor = timed(lambda: document.render(built, "readiness.html.j2"), args.repeat)
    print(f"{len(built['scenarios'])} scenarios over {args.tenants} tenants; HTML report render (floor) {floor:.0f} ms")
    for name in formats.FORMATS:
        spent = timed(lambda: json.dumps(formats.render(name, built, policies, ROOT / "features")), args.repeat)
        print(f"{name:9} {spent:7.0f} ms  {spent / floor:5.2f}x the floor")


if __name__ == "__main__":
    main()
