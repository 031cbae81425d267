"""Personal data in text: find and mask e-mail addresses, phone numbers and street addresses.

Fixture tenants hold fake personal data (example.com e-mails, 555 numbers); it
may sit in fixtures but never in a finding, report or packet. ``mask_text`` is
what the report applies to every finding; ``find`` is what the gate's audit of
its own outputs and the Titan Map boundary use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# North American numbers with separators, optionally +1: an id or a date never has this shape.
PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w])")
STREET_TYPES = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|way|row|boulevard|blvd|place|pl|circle|cir|terrace|"
    "ter|trail|trl|parkway|pkwy|highway|hwy|square|sq|loop|run|path|pike|alley|crescent|close"
)
STREET = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'-]+\s+){1,4}(?:" + STREET_TYPES + r")\b\.?", re.I
)
# Street numbers need a capitalised name after them; the case-insensitive flag above only serves the street type.
_CAPITALISED = re.compile(r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?[A-Z]")

KINDS = {"email": EMAIL, "phone": PHONE, "street address": STREET}


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int


def find(text: str) -> list[Hit]:
    """Every e-mail address, phone number and street address in ``text``, by kind, then by position.

    Reports repeat the same fragments for every tenant, so the text is judged segment by segment and each
    distinct segment once (see ``_SEPARATORS``): the same hits as running the patterns over the whole text.
    """
    hits = []
    judged_until = 0
    for core in _CORE.finditer(text):
        if core.start() < judged_until:
            continue  # its segment was judged with an earlier core
        start = core.start()
        while start and text[start - 1] not in _SEPARATORS:
            start -= 1
        end = _SEGMENT_REST.match(text, core.end()).end()
        part = text[start:end]
        found = _segment_hits(part) if len(part) <= _MEMO_LENGTH else _scan(part)
        hits += [Hit(kind, start + first, start + last) for kind, first, last in found]
        judged_until = end
    hits.sort(key=lambda hit: (_KIND_ORDER[hit.kind], hit.start))
    return hits


# No match can hold one of these characters, and none is a word character or one the patterns look behind or
# ahead for: a segment (a longest run of other characters) is judged alone exactly as inside the whole text.
_SEPARATORS = '"<>{}[],;=|/\\:!?*&#'
_SEGMENT_REST = re.compile(f"[^{re.escape(_SEPARATORS)}]*")
# What every match holds, and no separator: an "@" and a domain character (e-mail), 3 digits, a separator and 4
# digits (phone), a digit, white space and a capital (street address, see _CAPITALISED). Only a segment holding
# one is judged; one pass of this expression finds them (the text's other digits, in ids, dates, hashes and
# counts, are passed over in C, not segment by segment in Python).
_CORE = re.compile(r"[@\d](?:(?<=@)[A-Za-z0-9-]|(?<=\d)(?:\d\d[\s.-]\d{4}|\s+[A-Z]))")
_MEMO_LENGTH = 4096  # longer segments are rare and not worth remembering
_KIND_ORDER = {kind: order for order, kind in enumerate(KINDS)}


def _scan(text: str) -> tuple[tuple[str, int, int], ...]:
    hits = []
    for kind, pattern in KINDS.items():
        for match in pattern.finditer(text):
            if kind == "street address" and not _CAPITALISED.match(match.group(0)):
                continue
            hits.append((kind, match.start(), match.end()))
    return tuple(hits)


_segment_hits = functools.lru_cache(maxsize=1 << 16)(_scan)  # bounded: memory does not grow with the text


def _masked(kind: str, value: str) -> str:
    if kind == "email":
        return f"[email {value[0]}…]"
    if kind == "phone":
        return f"[phone …{value[-2:]}]"
    return "[street address]"


def mask_value(kind: str, value: str) -> str:
    """One value of ``kind`` masked as every output shows it: the kind and at most its last two characters."""
    if kind in KINDS:
        return _masked(kind, value)
    return f"[{kind} …{value[-2:]}]"


def mask_text(text: str) -> str:
    """``text`` with each e-mail, phone number and street address replaced by a masked form."""
    hits = sorted(find(text), key=lambda h: (h.start, -h.end))
    out, position = [], 0
    for hit in hits:
        if hit.start < position:
            continue
        out.append(text[position:hit.start])
        out.append(_masked(hit.kind, text[hit.start:hit.end]))
        position = hit.end
    out.append(text[position:])
    return "".join(out)


def mask_finding(finding: dict) -> dict:
    """A finding row (as the report holds it) with personal data masked in its subject and detail."""
    return {**finding, "subject": mask_text(finding["subject"]), "detail": mask_text(finding["detail"])}


def describe(text: str) -> list[str]:
    """One line per piece of personal data found: its kind and where (never the value itself)."""
    lines = []
    for hit in sorted(find(text), key=lambda h: h.start):
        line = text.count("\n", 0, hit.start) + 1
        lines.append(f"line {line}: unmasked {hit.kind}")
    return lines
