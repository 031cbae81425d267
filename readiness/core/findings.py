"""Findings: what a check found, in one shape for every concern, so the report can list them all alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("blocker", "major", "minor", "info")


@dataclass(frozen=True, order=True)
class Finding:
    kind: str  # what rule it breaks, e.g. forbidden-claim, drift-inactive, queue-illegal-transition
    subject: str  # what it is about: file:line, a ServiceTitan id and name, a lead or queue item id
    severity: str  # blocker | major | minor | info
    runbook: str | None  # the runbook that handles it, when one does
    detail: str  # one sentence a reviewer understands; never a secret or personal data
    # The id of the rule or detector that found it (a claim rule, a credential detector), for code that acts on
    # findings: steps and tests read this, never the English of ``detail``. Not part of the report.
    rule: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict:
        row = asdict(self)
        del row["rule"]
        return row

    def __str__(self) -> str:
        runbook = f" (runbook: {self.runbook})" if self.runbook else ""
        return f"[{self.severity}] {self.kind}: {self.subject}: {self.detail}{runbook}"
