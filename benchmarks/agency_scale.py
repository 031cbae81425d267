"""Agency scale: the gate over many small tenants, serially and with pytest-xdist, and merging shard reports.

Generates TENANTS small tenants under a temporary folder (copies of the bundled demo tenants with new
slugs, names and tenant ids), then prints, all measured in this same run:
  - the gate serially and with ``-n 2``, and the ratio (target >= 1.7x on 2 cores);
  - per-tenant overhead serially: (time with all tenants - time with one) / (tenants - 1) (target < 150 ms);
  - ``python -m readiness merge`` of 50 shard reports of that run (split by readiness.gate.shard exactly as
    ``--shard K/50`` would), checked equal to the unsharded report;
  - the floor under the per-tenant figure: a project with as many trivial three-step pytest-bdd scenarios per
    tenant as the gate runs (steps that do nothing, this project's step lookup plugin, no report), timed the
    same way; the gate's own per-tenant work is what lies above it;
  - the floor with ``-n 2`` too, and from it the ceiling of the gate's ``-n 2`` speed-up: pytest-xdist's own
    cost for that many tests, plus the gate's work above the floor split over both cores for free.

Runs use a bytecode cache of their own (PYTHONPYCACHEPREFIX under the temporary folder, warmed by an untimed
run) as a CI runner would, even where PYTHONDONTWRITEBYTECODE is set: without it every pytest process
recompiles pytest's plugins for assertion rewriting, a fixed cost per process that -n 2 pays three times.
``--no-bytecode-cache`` keeps the environment as it is.

    python benchmarks/agency_scale.py [--tenants 200] [--shards 50] [--keep DIR] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.core import evidence  # noqa: E402
from readiness.gate.shard import shard_of  # noqa: E402
from readiness.report import controls, document, merge  # noqa: E402
from readiness.sync.handoff import external_id  # noqa: E402

DEMO = ROOT / "fixtures" / "tenants"


def generate(target: Path, count: int) -> list[str]:
    """``count`` tenants: demo tenant i % 3 copied as ``agency-NNNN`` with its own name and tenant id."""
    demos = sorted(p for p in DEMO.iterdir() if (p / "tenant.yaml").is_file())
    slugs = []
    for number in range(count):
        demo, slug = demos[number % len(demos)], f"agency-{number:04d}"
        folder = target / slug
        shutil.copytree(demo, folder)
        profile = folder / "tenant.yaml"
        text = profile.read_text()
        old_id, new_id = int(re.search(r"(?m)^tenant_id: (\d+)", text)[1]), 910000000 + number
        text = re.sub(r"(?m)^tenant_id: \d+", f"tenant_id: {new_id}", text)
        profile.write_text(re.sub(r"(?m)^name: (.*)$", rf"name: \1 #{number:04d}", text))
        # Booking externalIds derive from the tenant id and lead id: re-derive them for the new tenant id.
        leads = [json.loads(line)["lead_id"] for line in (folder / "leads/submissions.jsonl").read_text().splitlines()
                 if line.strip()] if (folder / "leads/submissions.jsonl").is_file() else []
        renamed = {external_id(old_id, lead): external_id(new_id, lead) for lead in leads}
        for file in (f for f in folder.rglob("*") if f.is_file() and f.suffix in (".json", ".jsonl", ".md", ".yaml")):
            body = file.read_text()
            changed = re.sub(r"web-[0-9a-f]{16}", lambda m: renamed.get(m[0], m[0]), body)
            if changed != body:
                file.write_text(changed)
        slugs.append(slug)
    return slugs


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1795953600"}


def gate(tenants_dir: Path, report_dir: Path, *args: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all processes of the run, workers included) of one gate run."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--tenants-dir={tenants_dir}",
               f"--report-dir={report_dir}", *args]
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"gate failed ({' '.join(args)}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed, cpu


FLOOR_TEST = """
import pytest
from pytest_bdd import given, scenarios, then, when

scenarios("floor.feature")


@pytest.fixture(autouse=True, params=[f"tenant-{number:04d}" for number in range({tenants})])
def tenant(request):
    return request.param


@given("a tenant")
def a_tenant(tenant):
    return tenant


@when("it is judged")
def judged(tenant):
    pass


@then("nothing is wrong")
def nothing_wrong(tenant):
    pass
"""


def floor(base: Path, scenarios: int, tenants: int, *args: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``scenarios`` trivial pytest-bdd scenarios for each of ``tenants`` tenants."""
    project = base / f"floor-{tenants}"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\nbdd_features_base_dir = .\n")
    (project / "conftest.py").write_text('pytest_plugins = ["plugins.step_index"]\n')
    (project / "floor.feature").write_text("Feature: the framework's own cost\n\n" + "".join(
        f"  Scenario: scenario {number}\n    Given a tenant\n    When it is judged\n    Then nothing is wrong\n\n"
        for number in range(scenarios)))
    (project / "test_floor.py").write_text(FLOOR_TEST.replace("{tenants}", str(tenants)))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args]
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=project, capture_output=True, text=True,
                          env={**ENV, "PYTHONPATH": str(ROOT)})
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"floor project failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed, cpu


def split(full: dict, shards: int) -> list[dict]:
    """The reports ``--shard K/N`` runs write: each shard's tenants (product scenarios in shard 1)."""
    tenant_files = {t["slug"]: f"/{t['slug']}/" for t in full["tenants"]}
    parts = []
    for index in range(1, shards + 1):
        slugs = {slug for slug in tenant_files if shard_of(slug, shards) == index}
        records = [r for r in full["scenarios"]
                   if (r["tenant"] in slugs if r["tenant"] else index == 1)]
        manifest = [e for e in full["evidence"]
                    if not any(marker in e["path"] for marker in tenant_files.values())
                    or any(tenant_files[s] in e["path"] for s in slugs)]
        built = document.build(
            mode=full["mode"], scenarios=records,
            requirements=[{"id": r["id"], "text": r["text"], "planned": r["planned"]} for r in full["requirements"]],
            tenants=[{k: v for k, v in t.items() if k not in merge.DERIVED_TENANT_KEYS}
                     for t in full["tenants"] if t["slug"] in slugs],
            evidence=manifest, evidence_root=evidence.root_digest(manifest), commit=full["commit"],
            policy_digest=full["policy_digest"], generated_at=full["generated_at"],
            gate_problems=full["gate"]["problems"], shard={"index": index, "count": shards},
            waivers=[w for w in full["waivers"] if (w["tenant"] in slugs if w["tenant"] else index == 1)],
            controls=controls.policy_of(full["controls"]),
        )
        parts.append(built)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--shards", type=int, default=50)
    parser.add_argument("--keep", type=Path, default=None, help="generate here and keep it (default: a temp folder)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="run with the environment as it is")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="agency-scale-"))
    try:
        tenants_dir = base / "tenants"
        shutil.rmtree(tenants_dir, ignore_errors=True)
        slugs = generate(tenants_dir, args.tenants)
        print(f"{len(slugs)} generated tenants under {tenants_dir}")
        print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f} (other work shares the machine)")
        if not args.no_bytecode_cache:
            ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            ENV["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        print(f"bytecode cache: {'off' if 'PYTHONDONTWRITEBYTECODE' in ENV else 'on'}")
        gate(tenants_dir, base / "warm-up", f"--tenant={slugs[0]}", "-n", "2")  # untimed

        one, one_cpu = gate(tenants_dir, base / "one", f"--tenant={slugs[0]}")
        serial, serial_cpu = gate(tenants_dir, base / "serial")
        parallel, parallel_cpu = gate(tenants_dir, base / "parallel", "-n", "2")
        same = (base / "serial/readiness.json").read_bytes() == (base / "parallel/readiness.json").read_bytes()
        print("                                    wall      cpu")
        print(f"gate, 1 tenant, serial:          {one:7.2f} s {one_cpu:7.2f} s")
        print(f"gate, {len(slugs)} tenants, serial:      {serial:7.2f} s {serial_cpu:7.2f} s")
        print(f"gate, {len(slugs)} tenants, -n 2:        {parallel:7.2f} s {parallel_cpu:7.2f} s")
        print(f"speed-up serial / -n 2 (wall):   {serial / parallel:7.2f}x (target >= 1.7x)")
        for label, total, single in (("wall", serial, one), ("cpu", serial_cpu, one_cpu)):
            print(f"per-tenant overhead, serial ({label}): {(total - single) / (len(slugs) - 1) * 1000:6.1f} ms "
                  "(target < 150 ms)")
        print(f"serial and -n 2 readiness.json identical: {same}")

        per_tenant = sum(1 for r in json.loads((base / "one/readiness.json").read_text())["scenarios"] if r["tenant"])
        floor_one, _ = floor(base, per_tenant, 1)
        floor_all, floor_all_cpu = floor(base, per_tenant, len(slugs))
        floor_ms = (floor_all - floor_one) / (len(slugs) - 1) * 1000
        gate_ms = (serial - one) / (len(slugs) - 1) * 1000
        print(f"floor: {per_tenant} trivial 3-step pytest-bdd scenarios per tenant, {len(slugs)} tenants: "
              f"{floor_all:.2f} s, {floor_ms:.1f} ms per tenant ({floor_ms / 150:.0%} of the 150 ms target)")
        print(f"the gate's own per-tenant work above that floor: {gate_ms - floor_ms:.1f} ms "
              f"({gate_ms / floor_ms:.1f}x the floor in all)")
        floor_parallel, floor_parallel_cpu = floor(base, per_tenant, len(slugs), "-n", "2")
        print(f"floor with -n 2: {floor_parallel:.2f} s wall, {floor_parallel_cpu:.2f} s cpu (serially "
              f"{floor_all_cpu:.2f} s cpu): speed-up {floor_all / floor_parallel:.2f}x")
        # The best -n 2 could do: pytest-xdist's cost for this many tests (the floor's -n 2 run), plus the gate's
        # work above the floor split over both cores at no cost at all.
        ceiling = serial / (floor_parallel + (serial - floor_all) / 2)
        print(f"ceiling of the gate's -n 2 speed-up on this machine: {ceiling:.2f}x")

        full = json.loads((base / "serial/readiness.json").read_text())
        paths = []
        for built in split(full, args.shards):
            path = base / "shards" / f"{built['shard']['index']:02d}" / "readiness.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(built, indent=2, ensure_ascii=False) + "\n")
            paths.append(str(path))
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "readiness", "merge", str(base / "merged"), *paths],
                              cwd=ROOT, capture_output=True, text=True, env=ENV)
        merge_seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"merge failed: {done.stderr}")
        merged_same = (base / "merged/readiness.json").read_bytes() == (base / "serial/readiness.json").read_bytes()
        print(f"merge of {args.shards} shard reports:     {merge_seconds:7.2f} s "
              f"(merged == unsharded readiness.json: {merged_same})")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
