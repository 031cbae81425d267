"""Sensitive personal data anywhere in a tenant folder: card numbers, identity numbers, bank details, dates of
birth, driver's licence numbers.

The detectors are policy data (``policies/sensitive-data.yaml``): a pattern whose group ``value`` is the
sensitive value, an optional checksum, and samples it must find and near-misses it must pass over. A finding
names file:line and the kind, masks the value and routes to the policy's runbook.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

from readiness.boundaries import privacy
from readiness.core.findings import Finding

FINDING_KINDS: dict[str, str | None] = {
    "sensitive-data": "sensitive-data",
    "sensitive-detector-sample": None,
}
# Exports are ServiceTitan's response bodies, judged field by field by the export-field rules (data_boundaries).
JUDGED_ELSEWHERE = ("exports",)


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def aba(digits: str) -> bool:
    """The ABA routing-number checksum: 3, 7, 1 weights over the nine digits sum to a multiple of ten."""
    weights = (3, 7, 1) * 3
    return len(digits) == 9 and sum(int(d) * w for d, w in zip(digits, weights)) % 10 == 0


CHECKSUMS = {"luhn": luhn, "aba": aba}


@dataclass(frozen=True)
class Detector:
    id: str
    kind: str
    patterns: tuple[re.Pattern, ...]
    checksum: str | None
    severity: str
    words: tuple[str, ...] = ()

    @classmethod
    def from_policy(cls, row: dict) -> "Detector":
        return cls(row["id"], row["kind"], tuple(re.compile(p) for p in row["patterns"]), row.get("checksum"),
                   row.get("severity", "blocker"), tuple(row.get("words", ())))

    def values(self, text: str) -> Iterator[str]:
        """Each sensitive value in ``text``, once."""
        for _, value in self.found(text):
            yield value

    def found(self, text: str) -> Iterator[tuple[int, str]]:
        """``(offset, value)`` of each sensitive value in ``text``, once (patterns never cross a line end)."""
        if self.words:
            folded = text.lower()
            if not any(word in folded for word in self.words):
                return
        seen = set()
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                value = match.group("value")
                if self.checksum is not None:
                    digits = re.sub(r"\D", "", value)
                    if not (13 <= len(digits) <= 19 or self.checksum != "luhn") or not CHECKSUMS[self.checksum](digits):
                        continue
                if match.start("value") not in seen:
                    seen.add(match.start("value"))
                    yield match.start("value"), value


@dataclass
class SensitiveData:
    """The detectors of ``sensitive-data.yaml`` and the runbook their findings route to."""

    policy: dict

    @cached_property
    def detectors(self) -> list[Detector]:
        return [Detector.from_policy(row) for row in self.policy["detectors"]]

    def by_id(self, detector_id: str) -> Detector:
        return next(d for d in self.detectors if d.id == detector_id)

    def scan_text(self, text: str, where: str) -> list[Finding]:
        """Findings for ``text`` (a file's content, ``where`` its name): file:line, kind, masked value."""
        found = []
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        for detector in self.detectors:  # each pattern over the whole text: C's loop, not one call per line
            for offset, value in detector.found(text):
                number = bisect.bisect_right(line_starts, offset)
                found.append(Finding(
                    "sensitive-data", f"{where}:{number}", detector.severity, self.policy["runbook"],
                    f"holds {privacy.mask_value(detector.kind, value)}: delete it from the file, the product "
                    "never needs one"))
        return sorted(found, key=lambda f: (int(f.subject.rsplit(":", 1)[1]), f.detail))

    def sample_problems(self) -> list[Finding]:
        """A detector that misses one of its samples or matches one of its near-misses is itself a finding."""
        found = []
        for row, detector in zip(self.policy["detectors"], self.detectors):
            found += [Finding("sensitive-detector-sample", f"sensitive-data.yaml {row['id']}", "blocker", None,
                              f"does not find its sample #{i}") for i, s in enumerate(row["finds"], 1)
                      if not any(detector.values(s))]
            found += [Finding("sensitive-detector-sample", f"sensitive-data.yaml {row['id']}", "blocker", None,
                              f"matches its near-miss #{i}, which must pass") for i, s in enumerate(row["passes"], 1)
                      if any(detector.values(s))]
        return found


def tenant_findings(tenant, policy: dict) -> list[Finding]:
    """Every text file of the tenant folder (exports aside, see ``JUDGED_ELSEWHERE``), line by line."""
    scanner = SensitiveData(policy)
    found = []
    for path in tenant.files():
        relative = path.relative_to(tenant.folder)
        if relative.parts[0] in JUDGED_ELSEWHERE:
            continue
        text = _text(path)
        if text is not None:
            found += scanner.scan_text(text, relative.as_posix())
    return found


def _text(path: Path) -> str | None:
    """A file's text, or None for a binary file (an image: no text to find)."""
    data = path.read_bytes()
    if b"\0" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
