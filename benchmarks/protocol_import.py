"""Benchmark: the full sandbox protocol against the simulator on a 100,000-job tenant, paging at 5000.

Prints requests/s and time per protocol test, and splits the 100,000-job import into server time (simulator
handlers, JSON encoding included), client parse time (json.loads of the same bodies) and the rest (httpx,
ASGI transport, client bookkeeping), against a floor measured in the same run (plain json.dumps + json.loads of
the same records). The simulator must not be the bottleneck of the import.

    python benchmarks/protocol_import.py [--jobs 100000] [--page-size 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from readiness.sandbox import protocol# noqa: E402
from readiness.core.policy import PolicySet  # noqa: E402
from readiness.core.tenants import FixtureTenant  # noqa: E402

SOURCE = ROOT / "fixtures" / "tenants" / "riverside-growth"


def build_tenant(folder: Path, jobs: int, page_size: int) -> FixtureTenant:
    """riverside-growth with its job export replaced by ``jobs`` synthetic jobs in pages of ``page_size``."""
    shutil.copytree(SOURCE, folder)
    export = folder / "exports" / "jpm" / "export" / "jobs"
    template = json.loads((export / "0001.json").read_text())["data"][0]
    shutil.rmtree(export)
    export.mkdir()
    for start in range(0, jobs, page_size):
        data = [{**template, "id": 10_000_000 + n, "jobNumber": str(10_000_000 + n), "bookingId": None,
                 "invoiceId": None} for n in range(start, min(start + page_size, jobs))]
        body = {"hasMore": start + page_size < jobs, "continueFrom": f"bench-{start + page_size}", "data": data}
        (export / f"{start // page_size + 1:04d}.json").write_text(json.dumps(body))
    return FixtureTenant(folder)


async def timed_import(session: protocol.Session) -> tuple[float, int, list[bytes]]:
    made = session.client()
    bodies: list[bytes] = []
    started = time.perf_counter()
    records = await made.collect("jpm", "export/jobs")
    elapsed = time.perf_counter() - started
    requests = len([e for e in made.transcript if e.path != "/connect/token"])
    # The same bodies again, raw, to time the client's parse on its own.
    params: dict = {}
    while True:
        token = await made.token()
        response = await made._http.get(made.credentials.api_url + made.api_path("jpm", "export/jobs"),
                                        params=params, headers=made.headers(token))
        bodies.append(response.content)
        body = json.loads(response.content)
        if not body["hasMore"]:
            break
        params = {"from": body["continueFrom"]}
    await made.aclose()
    assert len(records) == sum(len(json.loads(b)["data"]) for b in bodies)
    return elapsed, requests, bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()
    catalog = yaml.safe_load((ROOT / "policies" / "sandbox-protocol.yaml").read_text())
    context = protocol.context(PolicySet.load(ROOT / "policies"))
    with tempfile.TemporaryDirectory() as scratch:
        tenant = build_tenant(Path(scratch) / "bench-tenant", args.jobs, args.page_size)
        records = [r for page in tenant.export_pages("jpm/export/jobs") for r in page["data"]]

        floor_start = time.perf_counter()
        encoded = [json.dumps({"hasMore": True, "data": records[i:i + args.page_size]}, separators=(",", ":"))
                   for i in range(0, len(records), args.page_size)]
        encode_floor = time.perf_counter() - floor_start
        floor_start = time.perf_counter()
        for text in encoded:
            json.loads(text)
        parse_floor = time.perf_counter() - floor_start

        session = protocol.simulator_session(tenant, "benchmark", export_chunk=args.page_size, latency=0.0)
        elapsed, requests, bodies = asyncio.run(timed_import(session))
        server = session.simulator.server_seconds / 2  # the import ran twice (timed + raw bodies)
        parse_start = time.perf_counter()
        for body in bodies:
            json.loads(body)
        client_parse = time.perf_counter() - parse_start

        print(f"tenant: {args.jobs:,} jobs, export chunks of {args.page_size} "
              f"(machine: 2 cores shared with other work; numbers vary run to run)")
        print(f"import of jpm/export/jobs: {elapsed:.3f} s, {requests} requests, {requests / elapsed:.1f} requests/s, "
              f"{args.jobs / elapsed:,.0f} records/s")
        print(f"  server time (simulator handlers, JSON encoding): {server:.3f} s ({server / elapsed:.0%} of the import)")
        print(f"  client parse time (json.loads of the bodies):    {client_parse:.3f} s ({client_parse / elapsed:.0%})")
        print(f"  rest (httpx, ASGI transport, client bookkeeping): {max(0.0, elapsed - server - client_parse):.3f} s")
        print(f"  floor in this run: json.dumps {encode_floor:.3f} s + json.loads {parse_floor:.3f} s = "
              f"{encode_floor + parse_floor:.3f} s; import / floor = {elapsed / (encode_floor + parse_floor):.2f}x")
        print(f"  server / encode floor = {server / encode_floor:.2f}x; "
              f"simulator is {'NOT ' if server <= elapsed / 2 else ''}the bottleneck")

        print("\nfull protocol on this tenant (one fresh simulator per test):")
        total_requests = total_time = 0.0
        for test in catalog["tests"]:
            session = protocol.simulator_session(tenant, "benchmark", export_chunk=args.page_size)
            started = time.perf_counter()
            outcome = protocol.run(session, test, context)
            spent = time.perf_counter() - started
            calls = len(outcome.transcript)
            total_requests += calls
            total_time += spent
            verdict = "passed" if outcome.error is None and all(c.passed for c in outcome.checks.values()) else "FAILED"
            print(f"  {test['id']:<12} {spent:7.3f} s  {calls:4d} requests  {calls / spent:8.1f} requests/s  {verdict}")
        print(f"  {'total':<12} {total_time:7.3f} s  {int(total_requests):4d} requests  "
              f"{total_requests / total_time:8.1f} requests/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
