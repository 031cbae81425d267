"""Whether a Titan Map entry was reviewed with the customer, and the findings for those that were not.

``map draft`` writes every entry ``status: needs-review`` with its candidates; only ``map confirm`` (an
operator, after the review with the customer) makes it ``confirmed`` with ``reviewed_by_role`` and
``reviewed_on``. Until then the entry is never used as mapped: handoffs that need it go to review
(``readiness.sync.handoff``) and the gate's review scenario fails.

An entry without ``status`` belongs to a map reviewed as a whole: it counts as reviewed when the map
records ``reviewed_on`` and ``reviewed_by_role`` at the top (the format of maps written before drafting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from readiness.core.findings import Finding
from readiness.mapping.drift import SECTIONS

NEEDS_REVIEW = "needs-review"
CONFIRMED = "confirmed"
STATUSES = (NEEDS_REVIEW, CONFIRMED)

FINDING_KINDS: dict[str, str | None] = {
    # The operator reviews the entry with the customer (runbook drift-conflict covers map corrections).
    "map-entry-unreviewed": "drift-conflict",
}


@dataclass(frozen=True)
class Unreviewed:
    section: str
    index: int
    website: str
    why: str

    @property
    def subject(self) -> str:
        return f"titan-map.yaml {self.section}[{self.index}] {self.website}"


def why_unreviewed(entry: dict, titan_map: dict) -> str | None:
    """Why ``entry`` may not be used as mapped, or None when the customer reviewed it."""
    status = entry.get("status")
    if status is None:
        if titan_map.get("reviewed_on") and titan_map.get("reviewed_by_role"):
            return None
        return "it has no status and the map records no review (reviewed_on, reviewed_by_role)"
    if status == NEEDS_REVIEW:
        return "it is a draft (status: needs-review); confirm it with the customer: python -m readiness map confirm"
    if status != CONFIRMED:
        return f"status {status!r} is neither {NEEDS_REVIEW} nor {CONFIRMED}"
    missing = [key for key in ("reviewed_by_role", "reviewed_on") if not entry.get(key)]
    if missing:
        return f"it is confirmed without {' and '.join(missing)}"
    return None


def unreviewed(titan_map: dict) -> Iterator[Unreviewed]:
    """Every entry of every section that the customer has not reviewed."""
    for section in SECTIONS:
        for index, entry in enumerate(titan_map.get(section) or []):
            if isinstance(entry, dict):
                why = why_unreviewed(entry, titan_map)
                if why:
                    yield Unreviewed(section, index, str(entry.get("website")), why)


def findings(titan_map: dict) -> list[Finding]:
    return [Finding("map-entry-unreviewed", u.subject, "blocker", FINDING_KINDS["map-entry-unreviewed"],
                    f"not used as mapped: {u.why}") for u in unreviewed(titan_map)]
