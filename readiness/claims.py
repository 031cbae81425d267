"""Claim boundary: find forbidden claims (approval, sandbox evidence, overpromises) in text a customer reads.

Text is normalised before matching so that markup, entities, odd Unicode and
line breaks inside a phrase cannot hide a claim; a finding quotes the sentence
with its file and line.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .findings import Finding

TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".yaml", ".yml", ".json", ".jsonl", ".csv"}
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def normalise(text: str) -> str:
    """Unicode NFKC, markup and entities removed, case folded, white space collapsed."""
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class Sentence:
    line: int
    text: str  # normalised


def sentences(raw: str) -> Iterator[Sentence]:
    """Sentences with the line they start on; a sentence may span lines, so a line break cannot hide a claim."""
    starts, parts, line = [], [], 1
    for number, source in enumerate(raw.splitlines(), start=1):
        if not source.strip():
            yield from _split(parts, starts)
            parts, starts = [], []
            continue
        parts.append(source)
        starts.append(number)
        line = number
    yield from _split(parts, starts)


def _split(parts: list[str], starts: list[int]) -> Iterator[Sentence]:
    if not parts:
        return
    text = normalise(" ".join(parts))
    for piece in _SENTENCE_END.split(text):
        if piece:
            yield Sentence(starts[0], piece)


@dataclass(frozen=True)
class ClaimPolicy:
    forbidden: list[tuple[str, str, re.Pattern, str]]  # id, requirement, pattern, say instead
    allowed: list[re.Pattern]

    @classmethod
    def from_policy(cls, policy: dict, requirements: Iterable[str] | None = None) -> "ClaimPolicy":
        wanted = set(requirements) if requirements else None
        forbidden = [
            (rule["id"], rule["requirement"], re.compile(pattern), rule["say_instead"])
            for rule in policy["forbidden"]
            if wanted is None or rule["requirement"] in wanted
            for pattern in rule["patterns"]
        ]
        return cls(forbidden, [re.compile(rule["pattern"]) for rule in policy["allowed"]])


def scan_text(raw: str, where: str, policy: ClaimPolicy) -> list[Finding]:
    found = []
    for sentence in sentences(raw):
        remainder = sentence.text
        for allowed in policy.allowed:
            remainder = allowed.sub(" ", remainder)
        for claim_id, requirement, pattern, say_instead in policy.forbidden:
            if pattern.search(remainder):
                found.append(Finding(
                    kind="forbidden-claim",
                    subject=f"{where}:{sentence.line}",
                    severity="blocker",
                    runbook=None,
                    detail=f'{claim_id} ({requirement}): "{sentence.text}". Say instead: {say_instead}',
                ))
                break
    return found


def scan_files(files: Iterable[Path], policy: ClaimPolicy, root: Path) -> list[Finding]:
    found = []
    for path in sorted(files):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        where = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        found += scan_text(path.read_text(encoding="utf-8", errors="replace"), where, policy)
    return found


def product_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def tenant_documents(folder: Path) -> list[Path]:
    """What the customer reviewed and may be shown: the tenant profile, Titan Map and evidence notes (not raw exports)."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file() and "exports" not in p.relative_to(folder).parts)
