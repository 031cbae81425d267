"""Screenshots under a tenant's ``evidence/`` are read, not just hashed.

Tesseract OCR (Debian ``tesseract-ocr``, through ``pytesseract``) reads each screenshot's text. That text is
scanned for credentials (the gate's own detectors, ``readiness.boundaries.credentials``) and for personal data
(``readiness.boundaries.privacy``) like every other file; and the names in the *Name* column of a screenshot
of a ServiceTitan list (``job-types-*.png``, ``campaigns-*.png``, ... named after the export it shows) are
compared with that export: a name on one but not the other is a finding.

Without Tesseract nothing is read, and the gate says so (``screenshot-not-read``), never that the screenshots
passed: an info finding, or a blocker where ``READINESS_REQUIRE_OCR=1`` (CI, which installs Tesseract).

OCR costs about a third of a second per screenshot, so what it read is kept by the file's SHA-256 (and
Tesseract's version) in ``$READINESS_CACHE_DIR`` (default ``~/.cache/st-readiness``): an unchanged screenshot is
read once. Tesseract runs on one thread (``OMP_THREAD_LIMIT=1``): its OpenMP threads spin while they wait, and
on the 2-core machine one screenshot took 0.74 s of wall and 0.9 s of CPU with them, 0.3 s and 0.17 s without.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from unittest import mock

from rapidfuzz import fuzz, process, utils

from readiness.boundaries import credentials, privacy
from readiness.core import exportfeed
from readiness.core.findings import Finding
from readiness.mapping import drift

FINDING_KINDS: dict[str, str | None] = {
    # A screenshot that disagrees with the export means one of them is stale: the customer sends both again.
    "screenshot-name-not-in-export": None,
    "screenshot-export-name-not-shown": None,
    "screenshot-no-name-column": None,
    "screenshot-personal-data": None,
    "screenshot-unreadable": None,
    "screenshot-not-read": None,
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
REQUIRE_VARIABLE = "READINESS_REQUIRE_OCR"
CACHE_VARIABLE = "READINESS_CACHE_DIR"
INSTALL_COMMAND = "apt-get install -y tesseract-ocr"
NAME_HEADER = "name"
SAME_NAME = 90  # rapidfuzz ratio at which a name read by OCR is the export's name (OCR drops or swaps a letter)


@dataclass(frozen=True)
class Word:
    text: str
    left: int
    top: int
    height: int
    line: tuple[int, int, int]  # Tesseract's (block, paragraph, line)


@dataclass(frozen=True)
class Reading:
    """What OCR read from one screenshot: its words with positions, and the text line by line."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        lines: dict[tuple, list[str]] = {}
        for word in self.words:
            lines.setdefault(word.line, []).append(word.text)
        return "\n".join(" ".join(words) for words in lines.values())


def tesseract_version() -> str | None:
    """Tesseract's version, or None when it is not installed (nothing can be read)."""
    executable = shutil.which("tesseract")
    return None if executable is None else _version_of(executable)


@functools.cache  # asked once per tenant: pytesseract starts `tesseract --version` each time (16 ms)
def _version_of(executable: str) -> str | None:
    import pytesseract

    try:
        return str(pytesseract.get_tesseract_version())
    except (pytesseract.TesseractNotFoundError, OSError):
        return None


def _cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "st-readiness") / "ocr"


def read(path: Path, version: str) -> Reading:
    """The words on a screenshot, from the cache when this exact file was read by this Tesseract before."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    cached = _cache_dir() / f"{digest}-tesseract-{version}.json"
    try:
        rows = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rows = _ocr(path)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(rows), encoding="utf-8")
            os.chmod(temporary, 0o600)  # a screenshot's text stays as private as the screenshot
            temporary.replace(cached)
        except OSError:
            pass  # an unwritable cache only costs time
    return Reading(tuple(Word(r[0], r[1], r[2], r[3], tuple(r[4])) for r in rows))


def _ocr(path: Path) -> list[list]:
    import pytesseract
    from PIL import Image

    # pytesseract hands this process's environment to tesseract; the patch is undone when the call returns.
    with Image.open(path) as image, mock.patch.dict(os.environ, OMP_THREAD_LIMIT="1"):
        data = pytesseract.image_to_data(image.convert("RGB"), output_type=pytesseract.Output.DICT)
    rows = []
    for i, text in enumerate(data["text"]):
        if text.strip():
            rows.append([text.strip(), data["left"][i], data["top"][i], data["height"][i],
                         [data["block_num"][i], data["par_num"][i], data["line_num"][i]]])
    return rows


# ---------------------------------------------------------------------------------------------- names


def names_in_column(reading: Reading) -> list[str] | None:
    """The cells of the *Name* column, top to bottom; None when no *Name* header was read.

    The column runs from the header's left edge to the next header on the same row; each row is the words
    whose left edge falls in it and whose top is within half a line of each other."""
    headers = [w for w in reading.words if w.text.casefold().strip(":") == NAME_HEADER]
    if not headers:
        return None
    header = min(headers, key=lambda w: (w.top, w.left))
    same_row = [w for w in reading.words if abs(w.top - header.top) <= header.height and w.left > header.left]
    right = min((w.left for w in same_row), default=None)
    margin = header.height
    cells = sorted((w for w in reading.words if w.top > header.top + header.height // 2
                    and header.left - margin <= w.left and (right is None or w.left < right - margin // 2)),
                   key=lambda w: (w.top, w.left))
    rows: list[list[Word]] = []
    for word in cells:
        if rows and abs(word.top - rows[-1][0].top) <= word.height // 2 + 2:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [" ".join(w.text for w in sorted(row, key=lambda w: w.left)) for row in rows]


def entity_of(path: Path) -> drift.Entity | None:
    """The export a screenshot shows, from its file name: ``job-types-screenshot.png`` -> job types."""
    name = path.name.casefold()
    matches = [e for e in drift.ENTITIES.values() if name.startswith(e.export.rsplit("/", 1)[-1])]
    return max(matches, key=lambda e: len(e.export.rsplit("/", 1)[-1]), default=None)


def compare_names(shown: list[str], exported: dict[int, drift.TaxonomyRecord], where: str,
                  export: str) -> list[Finding]:
    """A finding per name on the screenshot but not in the export, and per active exported name not shown."""
    all_names = sorted({r.name for r in exported.values() if r.name})
    active = sorted({r.name for r in exported.values() if r.name and r.active})
    found = []
    matched = set()
    for name in shown:
        best = process.extractOne(name, all_names, scorer=fuzz.ratio, processor=utils.default_process)
        if best is None or best[1] < SAME_NAME:
            found.append(Finding("screenshot-name-not-in-export", where, "major", None,
                                 f"shows {name!r}, which is not a name in exports/{export}.json; the screenshot "
                                 "and the export disagree: ask the customer for both from the same account today"))
        else:
            matched.add(best[0])
    for name in active:
        if name not in matched:
            found.append(Finding("screenshot-export-name-not-shown", where, "major", None,
                                 f"does not show {name!r}, which is active in exports/{export}.json; the screenshot "
                                 "and the export disagree: ask the customer for both from the same account today"))
    return found


# ---------------------------------------------------------------------------------------------- the check


@dataclass
class ScreenshotCheck:
    read: list[str]  # evidence paths read
    not_read: list[str]
    findings: list[Finding]


def screenshots(folder: Path) -> list[Path]:
    evidence = Path(folder) / "evidence"
    return sorted(p for p in evidence.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) \
        if evidence.is_dir() else []


def check(tenant, credential_policy: credentials.CredentialPolicy, version: str | None = None,
          require: bool | None = None) -> ScreenshotCheck:
    """Read every screenshot of a tenant; scan its text; compare a list screenshot's names with its export."""
    version = tesseract_version() if version is None else version
    require = os.environ.get(REQUIRE_VARIABLE) == "1" if require is None else require
    result = ScreenshotCheck([], [], [])
    for path in screenshots(tenant.folder):
        where = path.relative_to(tenant.folder).as_posix()
        if not version:
            result.not_read.append(where)
            result.findings.append(Finding(
                "screenshot-not-read", where, "blocker" if require else "info", None,
                f"not read: Tesseract OCR is not installed ({INSTALL_COMMAND}), so its text was neither scanned "
                "for credentials and personal data nor compared with the exports; this is not a pass"))
            continue
        try:
            reading = tenant.derived(("ocr", where), lambda path=path: read(path, version))
        except Exception as exc:  # Pillow and Tesseract raise many kinds for a broken image; each is one finding
            result.findings.append(Finding("screenshot-unreadable", where, "blocker", None,
                                           f"cannot be read as an image ({type(exc).__name__}); replace it"))
            continue
        result.read.append(where)
        result.findings += _text_findings(reading.text, where, credential_policy)
        entity = entity_of(path)
        if entity is not None and exportfeed.has_export(tenant.exports, entity.export):
            shown = names_in_column(reading)
            if shown is None:
                result.findings.append(Finding(
                    "screenshot-no-name-column", where, "major", None,
                    f"shows {entity.label}s but no 'Name' column header was read, so its names cannot be compared "
                    f"with exports/{entity.export}.json; send a screenshot of the list with its header row"))
            else:
                result.findings += compare_names(shown, drift.load_taxonomy(tenant.exports, entity), where,
                                                 entity.export)
    return result


def _text_findings(text: str, where: str, credential_policy: credentials.CredentialPolicy) -> Iterable[Finding]:
    for found in credentials.scan_text(text, f"{where} (text read by OCR)", credential_policy):
        if found.kind == "credential":
            yield found
    for hit in privacy.find(text):
        line = text.count("\n", 0, hit.start) + 1
        yield Finding("screenshot-personal-data", f"{where} (text read by OCR, line {line})", "blocker", None,
                      f"shows a customer's {hit.kind}; crop or blur it before it is kept as evidence")
