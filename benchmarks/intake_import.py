"""Benchmark: customer intake of a 5,000-row pricebook XLSX and a 100,000-row jobs CSV (generated, fake).

Times ``readiness.intake.importer.import_files`` on each file and, in the same run, the floor: openpyxl's
read-only iteration over the same workbook and ``csv.reader`` over the same CSV (reading the cells and nothing
else). Prints rows/s and the ratio to the floor (target: at most 2x), the machine's load average (the CPU is
shared), and for reference an untyped copy of the CSV to JSON lines with orjson. The jobs CSV must be imported by
the columnar path (readiness/intake/columnar.py); the benchmark fails if it deferred to the row path.

Memory: the peak resident set (VmHWM, which sees polars' Rust allocations as tracemalloc does not) of a fresh
process importing the jobs CSV at the full size and at four times the rows, and what each extra row cost; a peak
that does not grow with the file is the target. The file is read 4 MiB of records (about 20,000 jobs) at a time,
each block's cells and text freed once its pages are written; what stays is the ids, kept for the duplicate check:
8 bytes a row (16 while they are sorted, once, at the end). The child mode prints one file's peak in bytes:

    python benchmarks/intake_import.py --peak-rss-of FILE.csv

    python benchmarks/intake_import.py [--services 5000] [--jobs 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402
import orjson  # noqa: E402

from readiness.core.policy import PolicySet  # noqa: E402
from readiness.intake import importer, layouts  # noqa: E402

STAMP = "2026-11-04T17:15:00Z"
ID_BYTES = 8  # what the columnar path keeps a row: the id, as a 64-bit integer, for the duplicate check


def service(number: int) -> dict:
    return {"id": 50000 + number, "code": f"SV-{number:05d}", "displayName": f"Demo Service {number}",
            "description": f"<p>Demo service {number}.</p>", "warranty": None,
            "categories": [{"id": 900 + number % 20, "name": f"Category {number % 20}", "active": True}],
            "price": 100.0 + number % 300, "memberPrice": 90.0, "addOnPrice": 100.0, "addOnMemberPrice": 90.0,
            "taxable": False, "account": None, "hours": 1.5, "isLabor": True, "active": number % 17 != 0,
            "crossSaleGroup": None, "paysCommission": False, "bonus": 0.0, "commissionBonus": 0.0,
            "modifiedOn": STAMP, "source": None, "externalId": None, "businessUnitId": 1001, "cost": 0.0,
            "createdOn": STAMP, "soldByCommission": 0.0, "defaultAssetUrl": None}


def job(number: int) -> dict:
    return {"id": 1_000_000 + number, "jobNumber": str(1_000_000 + number), "projectId": None,
            "customerId": 7_000_000 + number, "locationId": 8_000_000 + number,
            "jobStatus": "Completed" if number % 5 else "Canceled", "completedOn": STAMP if number % 5 else None,
            "businessUnitId": 1001 + number % 3, "jobTypeId": 2001 + number % 12, "priority": "Normal",
            "campaignId": 4001 + number % 9, "summary": f"Demo job {number}.", "appointmentCount": 1,
            "firstAppointmentId": 9_000_000 + number, "lastAppointmentId": 9_000_000 + number, "recallForId": None,
            "warrantyId": None, "jobGeneratedLeadSource": None, "noCharge": False, "notificationsEnabled": True,
            "createdOn": STAMP, "createdById": 99, "modifiedOn": STAMP, "leadCallId": None,
            "bookingId": 6_000_000 + number if number % 2 else None, "soldById": None, "customerPo": "",
            "invoiceId": 5_000_000 + number, "membershipId": None, "total": 249.0, "active": True}


def timed(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def floor_xlsx(path: Path) -> None:
    book = openpyxl.load_workbook(path, read_only=True)
    for _ in book["Services"].iter_rows(values_only=True):
        pass
    book.close()


def floor_csv(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        for _ in csv.reader(handle):
            pass


def untyped_copy(source: Path, target: Path) -> None:
    """What any import must at least do: read each row and write it as JSON (no typing, no checks)."""
    with source.open(newline="", encoding="utf-8") as handle, target.open("wb") as out:
        rows = csv.reader(handle)
        headings = next(rows)
        for row in rows:
            out.write(orjson.dumps(dict(zip(headings, row))) + b"\n")


def importing(policy, base: Path, source: Path, kind: str, paths: list[str] | None = None):
    def run() -> None:
        tenant = base / "tenant"
        shutil.rmtree(tenant, ignore_errors=True)
        (tenant / "exports").mkdir(parents=True)
        (tenant / "tenant.yaml").write_text("name: benchmark\n")
        result = importer.import_files(tenant, [source], policy, reviewed_by_role="Office Manager", kind=kind)
        if paths is not None:
            paths[:] = [f"{sheet.path}{' (' + sheet.deferred + ')' if sheet.deferred else ''}"
                        for done in result.files for sheet in done.sheets]
    return run


def peak_rss(source: Path) -> int:
    """The peak resident set, in bytes, of a fresh process importing the jobs CSV ``source`` (VmHWM: unlike
    ru_maxrss, not inherited from the process that started it)."""
    out = subprocess.run([sys.executable, __file__, "--peak-rss-of", str(source)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip())


def load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings (default 3)")
    parser.add_argument("--peak-rss-of", type=Path, metavar="FILE",
                        help="print the peak RSS, in bytes, of this process importing the jobs CSV FILE, and exit")
    args = parser.parse_args()
    policy = importer.IntakePolicy.from_policies(PolicySet.load(ROOT / "policies"))
    if args.peak_rss_of:
        with tempfile.TemporaryDirectory(prefix="intake-rss-") as folder:
            importing(policy, Path(folder), args.peak_rss_of, "jobs")()
        status = Path("/proc/self/status").read_text()
        print(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024)
        return 0
    print(f"load average (1, 5, 15 min) at the start: {load()}")
    profiles = {p.name: p for p in policy.profiles}
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        base = Path(folder)
        workbook = base / "pricebook.xlsx"
        layouts.write_xlsx(workbook, [("Services", profiles["pricebook-services"],
                                       (service(n) for n in range(args.services)))])
        jobs_csv = base / "jobs.csv"
        layouts.write_csv(jobs_csv, profiles["jobs"], (job(n) for n in range(args.jobs)))
        large_csv = base / "jobs-large.csv"
        layouts.write_csv(large_csv, profiles["jobs"], (job(n) for n in range(4 * args.jobs)))
        print(f"files: pricebook.xlsx {workbook.stat().st_size / 1e6:.1f} MB ({args.services} rows), "
              f"jobs.csv {jobs_csv.stat().st_size / 1e6:.1f} MB ({args.jobs} rows)")
        for label, rows, source, kind, floor, floor_name in (
                ("pricebook XLSX", args.services, workbook, "pricebook", floor_xlsx, "openpyxl read-only iteration"),
                ("jobs CSV", args.jobs, jobs_csv, "jobs", floor_csv, "csv.reader")):
            paths: list[str] = []
            floor_time = timed(lambda: floor(source), args.repeat)
            import_time = timed(importing(policy, base, source, kind, paths), args.repeat)
            print(f"{label}: import {import_time:.2f} s ({rows / import_time:,.0f} rows/s, {', '.join(paths)} path); "
                  f"floor ({floor_name}) {floor_time:.2f} s ({rows / floor_time:,.0f} rows/s); ratio "
                  f"{import_time / floor_time:.2f}x (target <= 2x)")
        if paths != ["columnar"]:
            raise SystemExit(f"the jobs CSV was not imported column-wise: {paths}")
        copy_time = timed(lambda: untyped_copy(jobs_csv, base / "copy.jsonl"), args.repeat)
        print(f"jobs CSV, reference: csv.reader + orjson.dumps of each row as read (untyped) {copy_time:.2f} s "
              f"({args.jobs / copy_time:,.0f} rows/s; {copy_time / floor_time:.1f}x the floor)")
        full, large = peak_rss(jobs_csv), peak_rss(large_csv)
        print(f"memory (peak RSS of a process importing the jobs CSV): {args.jobs} rows {full / 1e6:.0f} MB, "
              f"{4 * args.jobs} rows {large / 1e6:.0f} MB ({(large - full) / 1e6:+.0f} MB for 4x the rows: "
              f"{(large - full) / (3 * args.jobs):.0f} bytes an extra row, of which the ids kept for the duplicate "
              f"check are {ID_BYTES})")
    print(f"load average (1, 5, 15 min) at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
