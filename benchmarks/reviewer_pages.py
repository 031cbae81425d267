"""Cost of the reviewer pages: living documentation and the PDF, against rendering readiness.html itself.

Usage (from the repository root, after a gate run wrote reports/):
    python benchmarks/reviewer_pages.py [REPORT_DIR] [--repeat N]

Prints the median time of each step and its ratio to the baseline (rendering readiness.html from the JSON),
all measured in the same run. The PDF step needs headless Chromium and is skipped, with a note, without it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from readiness.report import browser, document, livingdoc, pdf, templates  # noqa: E402


def median_seconds(step, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", nargs="?", default="reports", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    built = document.load(args.report_dir / "readiness.json")
    scratch = Path(tempfile.mkdtemp(prefix="reviewer-bench-"))
    (scratch / "readiness.html").write_text(document.render(built, "readiness.html.j2"), encoding="utf-8")
    features = len(livingdoc.feature_paths(built))
    rows = [("render readiness.html (baseline)", median_seconds(lambda: document.render(built, "readiness.html.j2"), args.repeat))]
    rows.append((f"write living docs ({features} feature pages + index)",
                 median_seconds(lambda: livingdoc.write(built, scratch, templates.environment()), args.repeat)))
    try:
        browser.find_chromium()
        rows.append(("print readiness.pdf (headless Chromium, incl. start)",
                     median_seconds(lambda: pdf.print_report(scratch), max(1, args.repeat // 2))))
    except browser.BrowserError as exc:
        print(f"pdf step skipped: {exc}")
    baseline = rows[0][1]
    print(f"{len(built['scenarios'])} scenario records, {features} feature files, median of {args.repeat} runs")
    for name, seconds in rows:
        print(f"{name:<58} {seconds * 1000:9.1f} ms  x{seconds / baseline:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
