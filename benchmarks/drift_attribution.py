"""Benchmark: drift + attribution over a large synthetic tenant, against the plain-parse floor.

    python benchmarks/drift_attribution.py                # the issue's sizes (1M jobs), ~1-2 GB under /tmp
    python benchmarks/drift_attribution.py --scale 0.05   # a quick run at 5% of those sizes

Sizes at --scale 1: 1,000,000 jobs, 1,000,000 invoices, 800,000 payments, 300,000 bookings,
100,000 website leads (plus customer contacts and a taxonomy snapshot), and a tenant 10x smaller.
Data is generated with ``readiness.gate.synth.generate`` (``python -m readiness synth``) under --workdir (default /tmp), never in the repository,
and reused when it is already there with the same size and seed.

Every measurement runs in its own child process pinned to one CPU core, so the peak RSS is that
measurement's own. Printed per size: the plain-parse floor (json.loads of every file the pass
reads), the drift + attribution pass, their ratio, peak RSS; then the 10x scaling ratio, and a
naive drift baseline (one deepdiff over whole unkeyed export lists) beside the keyed diff on the
smaller tenant. Targets: pass < 60 s, peak RSS < 3 GB, pass <= 3x floor, about 10x from small to full.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL_JOBS = 1_000_000


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _files(tenant: Path) -> list[Path]:
    """Every file the drift + attribution pass reads."""
    files = sorted((tenant / "exports").rglob("*.json")) + sorted((tenant / "snapshots").rglob("*.json"))
    return files + [tenant / "leads" / "submissions.jsonl", tenant / "titan-map.yaml", tenant / "tenant.yaml"]


def measure_floor(tenant: Path) -> dict:
    import yaml

    started, cpu = time.perf_counter(), time.process_time()
    records = 0
    for path in _files(tenant):
        if path.suffix == ".json":
            records += len(json.loads(path.read_bytes())["data"])
        elif path.suffix == ".jsonl":
            with open(path, "rb") as handle:
                for line in handle:
                    json.loads(line)
                    records += 1
        else:
            yaml.safe_load(path.read_text())
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "records": records}


def measure_pass(tenant: Path) -> dict:
    from readiness.mapping import attribution, drift
    from readiness.core.policy import PolicySet
    from readiness.core.tenants import FixtureTenant

    policies = PolicySet.load(ROOT / "policies")
    started, cpu = time.perf_counter(), time.process_time()
    source = FixtureTenant(tenant)
    drifted = drift.check(source, policies)
    attributed = attribution.check(source, policies)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "map_drift": len(drifted.map_drifts), "over_time": len(drifted.over_time),
            "leads": attributed.section["leads"], "findings": len(attributed.findings),
            "paid": attributed.section["paid"]}


def measure_keyed_diff(tenant: Path) -> dict:
    from readiness.mapping import drift
    from readiness.core.tenants import FixtureTenant

    started, cpu = time.perf_counter(), time.process_time()
    _, changes = drift.snapshot_drift(FixtureTenant(tenant))
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "changes": len(changes)}


def measure_naive_diff(tenant: Path, ignore_order: bool) -> dict:
    """One deepdiff over the whole unkeyed export lists, previous snapshot against now."""
    from deepdiff import DeepDiff

    from readiness.mapping import drift

    snapshot = drift.latest_snapshot(tenant)
    started, cpu = time.perf_counter(), time.process_time()
    reported = 0
    for entity in drift.ENTITIES.values():
        before = json.loads((snapshot / f"{entity.export}.json").read_bytes())["data"]
        after = json.loads((tenant / "exports" / f"{entity.export}.json").read_bytes())["data"]
        diff = DeepDiff(before, after, ignore_order=ignore_order,
                        exclude_regex_paths=list(drift.IGNORED_FIELDS))
        reported += sum(len(v) for v in diff.values())
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "reported": reported}


MEASURES = {"floor": measure_floor, "pass": measure_pass, "keyed": measure_keyed_diff,
            "naive-ordered": lambda t: measure_naive_diff(t, False),
            "naive-unordered": lambda t: measure_naive_diff(t, True)}


def child(kind: str, tenant: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", kind, "--tenant", str(tenant)],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{kind} on {tenant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_tenant(workdir: Path, jobs: int, seed: int) -> Path:
    from readiness.gate import synth

    folder = workdir / f"jobs-{jobs}" / "synthetic-tenant"
    manifest = folder / synth.MANIFEST
    if manifest.is_file():
        known = json.loads(manifest.read_text())
        if known.get("jobs") == jobs and known.get("seed") == seed:
            return folder
    started = time.perf_counter()
    folder = synth.generate(folder.parent, jobs, seed)
    print(f"generated {folder} in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's sizes (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/drift-attribution-bench"))
    parser.add_argument("--skip-naive-unordered", action="store_true",
                        help="skip the slow naive deepdiff with ignore_order")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--tenant", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        _pin_one_core()
        result = MEASURES[args.measure](args.tenant)
        result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        print(json.dumps(result))
        return 0

    full_jobs = max(2000, int(FULL_JOBS * args.scale))
    small_jobs = max(200, full_jobs // 10)
    print(f"machine: {os.cpu_count()} cores (shared with other work), each measurement pinned to one core")
    rows = {}
    for label, jobs in (("full", full_jobs), ("tenth", small_jobs)):
        tenant = ensure_tenant(args.workdir, jobs, args.seed)
        counts = json.loads((tenant / "synth-manifest.json").read_text())["counts"]
        floor = child("floor", tenant)
        passed = child("pass", tenant)
        rows[label] = {"counts": counts, "floor": floor, "pass": passed, "tenant": tenant}
        print(f"\n[{label}] " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(f"  parse floor           {floor['cpu']:8.2f} s CPU ({floor['seconds']:7.2f} s wall)   peak RSS {floor['peak_rss_mb']:8.1f} MB"
              f"   ({floor['records']:,} records)")
        print(f"  drift + attribution   {passed['cpu']:8.2f} s CPU ({passed['seconds']:7.2f} s wall)   peak RSS {passed['peak_rss_mb']:8.1f} MB"
              f"   ({passed['map_drift']} map drifts, {passed['over_time']} changes, {passed['findings']} "
              f"attribution findings, paid {passed['paid']})")
        print(f"  ratio pass / floor    {passed['cpu'] / floor['cpu']:8.2f} x CPU   (target <= 3)")

    full, tenth = rows["full"], rows["tenth"]
    print(f"\nscaling full / tenth (CPU): pass {full['pass']['cpu'] / tenth['pass']['cpu']:.1f} x, "
          f"floor {full['floor']['cpu'] / tenth['floor']['cpu']:.1f} x (linear: about 10 x)")

    print("\ndrift over time on the tenth tenant (previous snapshot vs now):")
    keyed = child("keyed", tenth["tenant"])
    print(f"  keyed by id (readiness.mapping.drift)      {keyed['cpu']:8.3f} s CPU   {keyed['changes']} changes")
    naive = child("naive-ordered", tenth["tenant"])
    print(f"  naive deepdiff, lists as ordered   {naive['cpu']:8.3f} s CPU   {naive['reported']} reported "
          "(reordering shows up as change)")
    if not args.skip_naive_unordered:
        naive = child("naive-unordered", tenth["tenant"])
        print(f"  naive deepdiff, ignore_order=True  {naive['cpu']:8.3f} s CPU   {naive['reported']} reported "
              f"({naive['cpu'] / max(keyed['cpu'], 1e-9):.0f} x the keyed diff)")

    ok = (full["pass"]["cpu"] < 60 and full["pass"]["peak_rss_mb"] < 3072
          and full["pass"]["cpu"] <= 3 * full["floor"]["cpu"])
    print(f"\ntargets at this scale (< 60 s CPU on one core, < 3 GB, <= 3x floor): {'met' if ok else 'NOT met'}"
          f"; wall times depend on what else the shared machine runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
