"""Merging shard reports: ``python -m readiness merge`` of N shard reports of a many-tenant report, without the gate run.

The agency benchmark (agency_scale.py) times the same merge after running the gate over 200 generated tenants,
which takes minutes. This one runs the gate once over the bundled tenants, copies their scenario records into
TENANTS synthetic tenants (slugs renamed, report rebuilt with ``readiness.report.document.build``), splits that
report into SHARDS shard reports exactly as agency_scale.py does, and times, in this same run:

  - the merge, as a subprocess (interpreter start included), checked equal to the unsharded report;
  - its floor: a subprocess that only reads every shard report and writes the merged ``readiness.json``
    with the merge's own encoder (orjson, as ``document.json_text``): what any merge must do;
  - the CPU of the merge's own process and of the processes it forked (work on the second core).

    python benchmarks/merge_shards.py [--tenants 200] [--shards 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from agency_scale import split  # noqa: E402
from readiness.core import evidence  # noqa: E402
from readiness.report import controls, document, merge  # noqa: E402

ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1795953600"}
FLOOR = """
import json, sys
from pathlib import Path
import orjson
reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in sys.argv[2:]]
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
Path(sys.argv[1], "readiness.json").write_bytes(orjson.dumps(reports, option=options))
"""


def synthetic(bundled: dict, count: int) -> dict:
    """``count`` tenants whose records are the bundled tenants' (tenant i is bundled tenant i % 3, renamed)."""
    demos = sorted(t["slug"] for t in bundled["tenants"])
    per_demo = lambda demo: f"/{demo}/"  # noqa: E731
    scenarios = [r for r in bundled["scenarios"] if not r["tenant"]]
    manifest = [e for e in bundled["evidence"] if not any(per_demo(d) in e["path"] for d in demos)]
    tenants = []
    for number in range(count):
        demo, slug = demos[number % len(demos)], f"agency-{number:04d}"
        scenarios += json.loads(json.dumps([r for r in bundled["scenarios"] if r["tenant"] == demo]).replace(demo, slug))
        row = next(t for t in bundled["tenants"] if t["slug"] == demo)
        tenants.append({**{k: v for k, v in row.items() if k not in merge.DERIVED_TENANT_KEYS},
                        "slug": slug, "name": f"{row['name']} #{number:04d}"})
        manifest += [{"path": e["path"].replace(per_demo(demo), f"/{slug}/"), "sha256": e["sha256"]}
                     for e in bundled["evidence"] if per_demo(demo) in e["path"]]
    manifest.sort(key=lambda e: e["path"])
    return document.build(
        mode=bundled["mode"], scenarios=scenarios,
        requirements=[{"id": r["id"], "text": r["text"], "planned": r["planned"]} for r in bundled["requirements"]],
        tenants=tenants, evidence=manifest, evidence_root=evidence.root_digest(manifest), commit=bundled["commit"],
        policy_digest=bundled["policy_digest"], generated_at=bundled["generated_at"],
        gate_problems=bundled["gate"]["problems"], controls=controls.policy_of(bundled["controls"]))


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (the process and everything it forked) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command[:4])} failed:\n{done.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--shards", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="merge-shards-") as folder:
        base = Path(folder)
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--report-dir={base / 'bundled'}"],
                       cwd=ROOT, capture_output=True, env=ENV, check=True)
        full = synthetic(json.loads((base / "bundled/readiness.json").read_text()), args.tenants)
        (base / "full.json").write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n")
        paths = []
        for built in split(full, args.shards):
            path = base / "shards" / f"{built['shard']['index']:02d}" / "readiness.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(built, indent=2, ensure_ascii=False) + "\n")
            paths.append(str(path))
        print(f"{len(full['scenarios'])} scenario records, {args.tenants} tenants, {args.shards} shards; "
              f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
        for run in range(1, args.repeat + 1):
            merge_wall, merge_cpu = timed([sys.executable, "-m", "readiness", "merge", str(base / "merged"), *paths])
            floor_wall, floor_cpu = timed([sys.executable, "-c", FLOOR, str(base / "floor"), *paths])
            same = (base / "merged/readiness.json").read_bytes() == (base / "full.json").read_bytes()
            print(f"run {run}: merge {merge_wall:.2f} s wall, {merge_cpu:.2f} s cpu; floor (read + write json) "
                  f"{floor_wall:.2f} s wall, {floor_cpu:.2f} s cpu: {merge_wall / floor_wall:.1f}x the floor; "
                  f"merged == unsharded: {same}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
