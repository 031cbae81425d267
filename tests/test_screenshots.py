"""Item 6: screenshots under a tenant's evidence/ are read with Tesseract OCR, not just hashed.

The OCR proofs render a ServiceTitan-style list in headless Chromium (``tests.screenshot_render``) and read it
back. Without Chromium or Tesseract they skip, naming the install command; CI sets READINESS_REQUIRE_BROWSER=1
and READINESS_REQUIRE_OCR=1 and installs both, so there they fail instead.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytesseract
import pytest
from PIL import Image

from readiness.boundaries import credentials, screenshots
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant
from readiness.report.browser import BrowserError, find_chromium

ROOT = Path(__file__).resolve().parent.parent
NAMES_SCENARIO = "A list screenshot shows the same names as the export beside it"
TEXT_SCENARIO = "The text on the tenant's screenshots holds no credential and no personal data"
JOB_TYPES = ["Drain Cleaning", "Water Heater Repair", "Water Heater Replacement Estimate", "Leak Detection",
             "Sewer Camera Inspection", "Gas Line Repair"]  # riverside-growth's active job types


@pytest.fixture(scope="module")
def tools() -> str:
    """Tesseract's version, with Chromium present to render the screenshots."""
    missing = []
    try:
        find_chromium()
    except BrowserError as exc:
        missing.append(str(exc))
    version = screenshots.tesseract_version()
    if not version:
        missing.append(f"Tesseract OCR not found; install it with: {screenshots.INSTALL_COMMAND}")
    if missing:
        if os.environ.get("READINESS_REQUIRE_BROWSER") == "1" or os.environ.get(screenshots.REQUIRE_VARIABLE) == "1":
            pytest.fail("; ".join(missing))
        pytest.skip("; ".join(missing))
    return version


@pytest.fixture
def policy() -> credentials.CredentialPolicy:
    policies = PolicySet.load(ROOT / "policies")
    return credentials.CredentialPolicy.from_policies(policies)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(screenshots.CACHE_VARIABLE, str(tmp_path / "cache"))


def render(title: str, names: list[str], target: Path) -> Path:
    from tests.screenshot_render import render as render_list

    return render_list(title, names, target)


def kinds(check: screenshots.ScreenshotCheck) -> list[str]:
    return sorted(f.kind for f in check.findings)


@pytest.mark.slow
def test_a_planted_name_on_a_chromium_rendered_job_types_screenshot_is_reported(workspace, tools, policy):
    folder = workspace.tenant("riverside-growth")
    planted = ["Drain Cleaning Deluxe" if name == "Drain Cleaning" else name for name in JOB_TYPES]
    render("Job Types", planted, folder / "evidence" / "job-types-screenshot.png")
    check = screenshots.check(FixtureTenant(folder), policy, tools, require=True)
    assert check.read == ["evidence/job-types-screenshot.png"]
    assert kinds(check) == ["screenshot-export-name-not-shown", "screenshot-name-not-in-export"]
    details = {f.kind: f.detail for f in check.findings}
    assert "'Drain Cleaning Deluxe'" in details["screenshot-name-not-in-export"]
    assert "'Drain Cleaning'" in details["screenshot-export-name-not-shown"]

    render("Job Types", JOB_TYPES, folder / "evidence" / "job-types-screenshot.png")  # the truthful one passes
    assert screenshots.check(FixtureTenant(folder), policy, tools, require=True).findings == []


@pytest.mark.slow
def test_the_gate_fails_on_a_screenshot_that_disagrees_with_the_export(workspace, tools):
    folder = workspace.tenant("riverside-growth")
    render("Job Types", JOB_TYPES[:-1] + ["Frozen Pipe Thaw"], folder / "evidence" / "job-types-screenshot.png")
    result = workspace.run(tenants=["riverside-growth"])
    row = result.assert_fails(NAMES_SCENARIO, "EVIDENCE-SCREENSHOTS", tenant="riverside-growth")
    assert sorted(f["kind"] for f in row["findings"]) == ["screenshot-export-name-not-shown",
                                                         "screenshot-name-not-in-export"]


@pytest.mark.slow
def test_personal_data_and_credentials_in_a_screenshots_text_are_found(workspace, tools, policy):
    folder = workspace.tenant("riverside-growth")
    # Made at run time (no file holds one) from a fixed seed, so the image and what OCR reads are the same every run
    # (with a random one OCR now and then reads a character wrong and the planted secret no longer has its shape).
    seeded = random.Random(2)
    secret = "cs2." + "".join(seeded.choice("abcdefghkmnprstuvwxyz23456789") for _ in range(40))
    render("Customer record", ["Call 918-555-0199 or jo.planted@example.com", f"Client secret {secret}"],
           folder / "evidence" / "customer-screenshot.png")
    check = screenshots.check(FixtureTenant(folder), policy, tools, require=True)
    found = {f.kind: f for f in check.findings if "customer-screenshot" in f.subject}
    assert {"screenshot-personal-data", "credential"} <= set(found)
    assert all("jo.planted" not in f.detail and secret not in f.detail for f in check.findings)
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails(TEXT_SCENARIO, "SEC-NO-CREDENTIALS", tenant="riverside-growth")


def test_without_tesseract_screenshots_are_reported_as_not_read_never_as_passed(policy):
    tenant = FixtureTenant(ROOT / "fixtures" / "tenants" / "riverside-growth")
    check = screenshots.check(tenant, policy, version="", require=False)
    assert check.read == [] and check.not_read == ["evidence/job-types-screenshot.png"]
    (finding,) = check.findings
    assert (finding.kind, finding.severity) == ("screenshot-not-read", "info")
    assert "not a pass" in finding.detail and screenshots.INSTALL_COMMAND in finding.detail
    required = screenshots.check(tenant, policy, version="", require=True)
    assert [f.severity for f in required.findings] == ["blocker"]


@pytest.mark.slow
def test_the_gate_without_tesseract_says_the_screenshots_were_not_read(workspace, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"  # everything on PATH but Tesseract
    bin_dir.mkdir()
    for name in ("git", "chromium"):
        if shutil.which(name):
            (bin_dir / name).symlink_to(shutil.which(name))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{bin_dir}")
    monkeypatch.delenv(screenshots.REQUIRE_VARIABLE, raising=False)
    result = workspace.run(tenants=["riverside-growth"])
    row = result.scenario(NAMES_SCENARIO, "riverside-growth")
    assert [(f["kind"], f["severity"]) for f in row["findings"]] == [("screenshot-not-read", "info")]
    monkeypatch.setenv(screenshots.REQUIRE_VARIABLE, "1")
    result = workspace.run(tenants=["riverside-growth"])
    result.assert_fails(TEXT_SCENARIO, "EVIDENCE-SCREENSHOTS", tenant="riverside-growth")


def test_an_image_that_cannot_be_read_is_a_blocker(workspace, policy):
    folder = workspace.tenant("riverside-growth")
    (folder / "evidence" / "job-types-screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really an image")
    check = screenshots.check(FixtureTenant(folder), policy, version="5.3.0", require=True)
    assert [(f.kind, f.severity) for f in check.findings] == [("screenshot-unreadable", "blocker")]


def test_what_ocr_read_is_kept_by_the_files_sha256(tmp_path, monkeypatch):
    image = tmp_path / "shot.png"
    image.write_bytes(b"same bytes")
    calls = []
    monkeypatch.setattr(screenshots, "_ocr", lambda path: calls.append(path) or [["Name", 10, 10, 12, [1, 1, 1]]])
    first = screenshots.read(image, "5.3.0")
    second = screenshots.read(image, "5.3.0")
    assert first == second and first.text == "Name" and len(calls) == 1
    (cached,) = (tmp_path / "cache" / "ocr").iterdir()
    assert oct(cached.stat().st_mode & 0o777) == "0o600"
    screenshots.read(image, "5.4.0")  # another Tesseract reads again
    assert len(calls) == 2


def test_tesseract_runs_on_one_thread_and_the_environment_is_left_as_it_was(tmp_path, monkeypatch):
    seen = []
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    monkeypatch.setattr(pytesseract, "image_to_data", lambda image, output_type: seen.append(
        os.environ.get("OMP_THREAD_LIMIT")) or {key: [] for key in ("text", "left", "top", "height")})
    image = tmp_path / "shot.png"
    Image.new("RGB", (4, 4)).save(image)
    assert screenshots.read(image, "5.3.0").words == ()
    assert seen == ["1"] and "OMP_THREAD_LIMIT" not in os.environ


def word(text: str, left: int, top: int, line: int) -> screenshots.Word:
    return screenshots.Word(text, left, top, 14, (1, 1, line))


def test_the_name_column_is_read_by_position_under_its_header():
    reading = screenshots.Reading((
        word("Job", 24, 20, 1), word("Types", 60, 20, 1),
        word("Name", 30, 60, 2), word("Class", 330, 60, 2), word("Status", 450, 60, 2),
        word("Drain", 30, 100, 3), word("Cleaning", 80, 100, 3), word("Service", 330, 100, 3),
        word("Active", 450, 101, 3),
        word("Leak", 31, 140, 4), word("Detection", 75, 141, 4), word("Service", 330, 140, 4),
    ))
    assert screenshots.names_in_column(reading) == ["Drain Cleaning", "Leak Detection"]
    assert screenshots.names_in_column(screenshots.Reading((word("Drain", 30, 100, 1),))) is None


def test_a_screenshot_is_compared_with_the_export_its_file_name_names():
    assert screenshots.entity_of(Path("job-types-screenshot.png")).export == "jpm/job-types"
    assert screenshots.entity_of(Path("campaigns-2026-11.png")).export == "marketing/campaigns"
    assert screenshots.entity_of(Path("customer-record.png")) is None
