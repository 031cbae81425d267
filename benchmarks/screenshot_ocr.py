"""Screenshots read by the gate: Tesseract OCR per screenshot, the SHA-256 cache, and the screenshot scenarios'
share of a gate run, all measured in this same run.

Prints, for the bundled tenants' screenshots (one job-types list each):
  - OCR without the cache (pytesseract's image_to_data, as readiness.boundaries.screenshots reads) per image;
  - a read from the cache per image, and its floor: reading the file and hashing it with SHA-256 (what any
    cache keyed by content must do); the ratio of the two is the cache's own cost;
  - the gate over the bundled tenants with an empty cache (every screenshot read by Tesseract) and with the cache
    warm, against the floor of the same gate run with Tesseract off PATH (screenshots reported as not read).

    python benchmarks/screenshot_ocr.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.boundaries import screenshots  # noqa: E402


def best(times: list[float]) -> float:
    return min(times)


def timed(action, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return best(samples)


def gate(env: dict, report_dir: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--report-dir={report_dir}"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gate failed:\n{done.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    version = screenshots.tesseract_version()
    if not version:
        raise SystemExit(f"Tesseract not found: {screenshots.INSTALL_COMMAND}")
    images = sorted((ROOT / "fixtures" / "tenants").glob("*/evidence/*.png"))
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        os.environ[screenshots.CACHE_VARIABLE] = str(scratch / "cache")
        ocr = statistics.mean(timed(lambda image=image: screenshots._ocr(image), args.repeat) for image in images)
        for image in images:
            screenshots.read(image, version)  # fill the cache
        cached = statistics.mean(timed(lambda image=image: screenshots.read(image, version), args.repeat * 20) for image in images)
        floor = statistics.mean(timed(lambda image=image: hashlib.sha256(image.read_bytes()).hexdigest(), args.repeat * 20)
                                for image in images)
        print(f"{len(images)} screenshots, Tesseract {version}")
        print(f"OCR per screenshot (no cache): {ocr * 1000:.0f} ms")
        print(f"cached read per screenshot: {cached * 1000:.2f} ms; floor (read + SHA-256): {floor * 1000:.2f} ms; "
              f"ratio {cached / floor:.2f}x; OCR is {ocr / cached:.0f}x the cached read")

        env = {**os.environ, screenshots.CACHE_VARIABLE: str(scratch / "gate-cache")}
        env.pop(screenshots.REQUIRE_VARIABLE, None)
        bin_dir = scratch / "bin"  # PATH without Tesseract: the floor run
        bin_dir.mkdir()
        for name in ("git", "chromium"):
            if shutil.which(name):
                (bin_dir / name).symlink_to(shutil.which(name))
        without = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{bin_dir}"}
        gate(env, scratch / "warm-up")  # bytecode and page cache; fills gate-cache, so empty it again
        shutil.rmtree(scratch / "gate-cache")
        cold = gate(env, scratch / "cold")
        warm = min(gate(env, scratch / f"warm{i}") for i in range(args.repeat))
        floor_gate = min(gate(without, scratch / f"floor{i}") for i in range(args.repeat))
        print(f"gate over the bundled tenants: empty cache {cold:.2f} s, warm cache {warm:.2f} s, floor without "
              f"Tesseract {floor_gate:.2f} s; warm/floor {warm / floor_gate:.2f}x, cold/floor {cold / floor_gate:.2f}x")


if __name__ == "__main__":
    main()
