"""Throughput, recall and memory of the credential and claim scans, beside plain `detect-secrets scan`.

Generates (under /tmp, at run time, never committed) a product tree and tenant
exports of --size bytes in total, with a planted set of credentials written in
every disguise the gate promises to see through. Then, in the same run:

- our credential scan over every file (one process, one core): MB/s, recall on the planted set;
- our claim scan over the product copy: MB/s;
- plain ``detect-secrets scan --all-files`` over the same files: MB/s, recall;
- peak memory of our scan over one file of N and of 4N bytes (it must not grow with file size).

Usage: python benchmarks/scan_throughput.py [--size 1G] [--workdir /tmp/scan-bench] [--keep]
                                           [--detect-secrets-share 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

import yaml  # noqa: E402

from readiness.boundaries import claims, credentials# noqa: E402

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<main>
<h1>{title}</h1>
{paragraphs}
<section class="future"><h2>Future: planned API-backed features</h2>
<ul><li>Future: booking handoff of website requests to ServiceTitan with the reference code as external id.</li>
<li>Future: automatic lead-to-revenue attribution for the Growth report.</li></ul></section>
<p class="note">No marketplace or partner approval is claimed.</p>
</main></body></html>
"""
SENTENCES = [
    "Your visitors request service with a short form and each request is emailed to your office.",
    "Your office books the job in ServiceTitan by hand, the way it books phone calls now.",
    "We keep a Titan Map that pairs each page of your website with the matching job type, zone or campaign.",
    "We work only from exports and screenshots that you send us and never ask for your login.",
    "Each service page is tied to one job type and one business unit in the Titan Map.",
    "A monthly proof packet matches website leads to bookings, jobs, invoices and payments by hand.",
    "Leads we cannot match are listed as unmatched, never guessed.",
]


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)B?", text.strip().upper())
    if not match:
        raise SystemExit(f"--size {text}: use a number with K, M or G, e.g. 1G or 100M")
    return int(float(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)])


def job_record(rng: random.Random, index: int) -> dict:
    return {
        "id": 100000 + index, "jobNumber": str(50000 + index), "customerId": 200000 + rng.randrange(9000),
        "locationId": 300000 + rng.randrange(9000), "jobStatus": rng.choice(["Completed", "Scheduled", "Canceled"]),
        "completedOn": "2026-11-04T18:00:00Z", "businessUnitId": 21001, "jobTypeId": 22000 + rng.randrange(8),
        "priority": "Normal", "campaignId": 24000 + rng.randrange(5), "summary": rng.choice(SENTENCES),
        "appointmentCount": 1, "firstAppointmentId": 400000 + index, "lastAppointmentId": 400000 + index,
        "recallForId": None, "warrantyId": None, "jobGeneratedLeadSource": {"jobId": None, "employeeId": None},
        "noCharge": False, "notificationsEnabled": True, "createdOn": "2026-11-02T15:41:05Z",
        "createdById": 500 + rng.randrange(20), "modifiedOn": "2026-11-05T09:12:44.123Z", "tagTypeIds": [1, 3],
        "leadCallId": None, "bookingId": 27000 + index, "soldById": None, "externalData": [
            {"key": "websiteRequest", "value": f"web-{rng.getrandbits(64):016x}"}],
        "customerPo": None, "invoiceId": 29000 + index, "membershipId": None, "total": f"{rng.uniform(90, 900):.2f}",
        "active": True,
    }


class Generator:
    """Writes files until the tree reaches its size, planting credentials at known lines along the way."""

    def __init__(self, root: Path, size: int, seed: int = 7):
        self.root, self.size, self.rng = root, size, random.Random(seed)
        self.written = 0
        self.planted: list[tuple[str, int, str, str]] = []  # path, line, credential kind, disguise

    def _plant_text(self, lines_so_far: int, relative: str) -> str:
        kind = self.rng.choice(sorted(credentials.SAMPLES))
        disguise = self.rng.choice(sorted(credentials.DISGUISES))
        text = credentials.DISGUISES[disguise](credentials.SAMPLES[kind]())
        # Every disguise puts the value on its last line.
        self.planted.append((relative, lines_so_far + text.count("\n"), kind, disguise))
        return text

    def product(self, share: float) -> None:
        budget = int(self.size * share)
        index = 0
        while budget > 0:
            relative = f"product/site/page-{index:05d}.html"
            paragraphs = "\n".join(
                "<p>" + " ".join(self.rng.choice(SENTENCES) for _ in range(4)) + "</p>" for _ in range(40))
            text = PAGE.format(title=f"Service page {index}", paragraphs=paragraphs)
            if index % 40 == 7:
                text += self._plant_text(text.count("\n"), relative)
            self._write(relative, text)
            budget -= len(text)
            index += 1

    def exports(self, share: float, big_file_share: float) -> None:
        budget = int(self.size * share)
        big = int(self.size * big_file_share)
        self._export_file("tenants/bench-tenant/exports/jpm/export/jobs-all.json", big, plant_every=50000)
        budget -= big
        page = 1
        while budget > 0:
            relative = f"tenants/bench-tenant/exports/jpm/export/jobs/{page:04d}.json"
            budget -= self._export_file(relative, min(budget, 8 << 20), plant_every=20000)
            page += 1

    def _export_file(self, relative: str, target: int, plant_every: int) -> int:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        written, lines, index = 0, 1, 0
        with open(path, "w", encoding="utf-8") as handle:
            head = '{"hasMore": true, "continueFrom": "bench", "data": [\n'
            handle.write(head)
            written += len(head)
            lines += 1
            while written < target:
                record = json.dumps(job_record(self.rng, index))
                chunk = ("  " if index == 0 else ",\n  ") + record
                if index and index % plant_every == 0:  # on the lines after this record
                    chunk += "\n" + self._plant_text(lines + chunk.count("\n"), relative).rstrip("\n")
                handle.write(chunk)
                written += len(chunk)
                lines += chunk.count("\n")
                index += 1
            handle.write("\n]}\n")
        self.written += written
        return written

    def _write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written += len(text)


def policy() -> credentials.CredentialPolicy:
    return credentials.CredentialPolicy.from_policy(yaml.safe_load((ROOT / "policies/credentials.yaml").read_text()))


def recall(hits: set[tuple[str, int]], planted) -> tuple[int, int]:
    return sum((path, line) in hits for path, line, *_ in planted), len(planted)


def run_ours(root: Path) -> tuple[float, float, int, set[tuple[str, int]]]:
    start, cpu = time.perf_counter(), time.process_time()
    result = credentials.scan_folder(root, policy())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    hits = set()
    for finding in result.findings:
        if finding.kind == "credential":
            where, line = finding.subject.rsplit(":", 1)
            hits.add((where.split("/", 1)[1], int(line)))
    return elapsed, cpu, result.bytes, hits


def run_claims(root: Path) -> tuple[float, int, int]:
    rules = claims.ClaimPolicy.from_policy(yaml.safe_load((ROOT / "policies/claims.yaml").read_text()))
    files = claims.product_files(root / "product")
    size = sum(f.stat().st_size for f in files)
    start = time.perf_counter()
    found = claims.scan_files(files, rules, root)
    return time.perf_counter() - start, size, len(found)


def sample_tree(tree: Path, target: Path, share: float, planted) -> tuple[int, int]:
    """Hard-link every k-th file of ``tree`` (k = 1/share, sorted paths) into ``target``, taken separately from
    the files with planted credentials and from the rest, so the share holds its part of the planted set."""
    step = max(round(1 / share), 1)
    with_plants = {tree / path for path, *_ in planted}
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    chosen = [p for p in files if p in with_plants][::step] + [p for p in files if p not in with_plants][::step]
    for path in chosen:
        link = target / path.relative_to(tree)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, link)
    return len(chosen), sum(p.stat().st_size for p in chosen)


def run_detect_secrets(root: Path) -> tuple[float, float, set[tuple[str, int]]]:
    """Wall time, CPU time of it and its worker processes (it scans files in parallel), and its hits."""
    executable = shutil.which("detect-secrets", path=str(Path(sys.executable).parent)) or "detect-secrets"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([executable, "scan", "--all-files", "."], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"detect-secrets failed: {done.stderr[-2000:]}")
    results = json.loads(done.stdout)["results"]
    return elapsed, cpu, {(path, item["line_number"]) for path, items in results.items() for item in items}


MEMORY_CHILD = """
import resource, sys, yaml
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from readiness.boundaries import credentials
policy = credentials.CredentialPolicy.from_policy(yaml.safe_load(Path(sys.argv[1], "policies/credentials.yaml").read_text()))
credentials.scan_file(Path(sys.argv[2]), "x", policy)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory_kib(path: Path) -> int:
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(ROOT), str(path)], capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip())


def memory_probe(workdir: Path, size: int) -> list[tuple[int, int]]:
    """Peak memory of scanning one export of ``size`` bytes, then of four times that."""
    generator = Generator(workdir / "memory", 0)
    rows = []
    for multiple in (1, 4):
        generator._export_file(f"memory-{multiple}.json", size * multiple, plant_every=10 ** 9)
        path = generator.root / f"memory-{multiple}.json"
        rows.append((path.stat().st_size, peak_memory_kib(path)))
        path.unlink()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="total size of the generated tree (default 1G; e.g. 100M)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to generate (default: a new /tmp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree")
    parser.add_argument("--detect-secrets-share", type=float, default=1.0, metavar="SHARE",
                        help="run plain detect-secrets over every k-th file only (k = 1/SHARE; default 1: all "
                             "files). It scans about 0.3 MB/s here, so 1 GB takes about an hour; a share prints "
                             "its measured rate, its projected time for the whole tree, and recall on that share.")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="scan-bench-", dir="/tmp"))
    tree = workdir / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    print(f"machine: {os.cpu_count()} cores (shared with other work while this ran); one process, one core each")
    try:
        start = time.perf_counter()
        generator = Generator(tree, size)
        generator.product(0.10)
        generator.exports(0.90, big_file_share=0.25)
        print(f"generated {generator.written / 1e6:.0f} MB in {time.perf_counter() - start:.0f} s under {tree}; "
              f"{len(generator.planted)} planted credentials")

        ours_time, ours_cpu, ours_bytes, ours_hits = run_ours(tree)
        ours_found, planted = recall(ours_hits, generator.planted)
        ours_rate = ours_bytes / 1e6 / ours_time
        print(f"ours, credential scan: {ours_bytes / 1e6:.0f} MB in {ours_time:.1f} s wall = {ours_rate:.1f} MB/s "
              f"({ours_bytes / 1e6 / ours_cpu:.1f} MB per CPU second); recall {ours_found}/{planted}")

        claim_time, claim_bytes, claim_found = run_claims(tree)
        print(f"ours, claim scan of product copy: {claim_bytes / 1e6:.0f} MB in {claim_time:.1f} s = "
              f"{claim_bytes / 1e6 / claim_time:.1f} MB/s; {claim_found} findings (0 expected)")
        print(f"ours, both scans as the gate runs them (credentials over every file, claims over the product "
              f"copy): {ours_bytes / 1e6:.0f} MB of text in {ours_time + claim_time:.1f} s = "
              f"{ours_bytes / 1e6 / (ours_time + claim_time):.1f} MB/s on one core (target >= 50)")

        ds_root, ds_bytes = tree, ours_bytes
        if args.detect_secrets_share < 1:
            ds_root = workdir / "detect-secrets-share"
            files, ds_bytes = sample_tree(tree, ds_root, args.detect_secrets_share, generator.planted)
            print(f"plain detect-secrets gets every {round(1 / args.detect_secrets_share)}th file: "
                  f"{files} files, {ds_bytes / 1e6:.0f} MB")
        ds_time, ds_cpu, ds_hits = run_detect_secrets(ds_root)
        in_share = [p for p in generator.planted if (ds_root / p[0]).exists()]
        ds_found, ds_planted = recall(ds_hits, in_share)
        ours_in_share, _ = recall(ours_hits, in_share)
        ds_rate = ds_bytes / 1e6 / ds_time
        print(f"plain detect-secrets scan --all-files: {ds_bytes / 1e6:.0f} MB in {ds_time:.1f} s wall = "
              f"{ds_rate:.2f} MB/s ({ds_bytes / 1e6 / max(ds_cpu, 1e-9):.2f} MB per CPU second, its own worker "
              f"processes included); recall {ds_found}/{ds_planted}")
        if ds_root is not tree:
            print(f"  projected for the whole tree at that rate: {ours_bytes / 1e6 / ds_rate / 60:.0f} min wall")
        print(f"ratio: ours is {ours_rate / ds_rate:.0f}x plain detect-secrets by wall time and "
              f"{(ds_cpu / ds_bytes) / max(ours_cpu / ours_bytes, 1e-12):.0f}x by CPU time per MB; recall on the "
              f"files both scanned: ours {ours_in_share}/{ds_planted}, detect-secrets {ds_found}/{ds_planted}")
        missed = [p for p in generator.planted if (p[0], p[1]) not in ours_hits]
        for path, line, kind, disguise in missed:
            print(f"  ours missed: {kind} as {disguise} at {path}:{line}")

        probe = max(size // 16, 1 << 20)
        for file_size, kib in memory_probe(workdir, probe):
            print(f"peak memory scanning one {file_size / 1e6:.0f} MB file: {kib / 1024:.0f} MiB")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
