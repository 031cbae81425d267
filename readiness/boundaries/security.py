"""The security packet and implementation playbook, and the audit of everything the gate run writes.

``packet_model`` is what the packet says, from the policies (credentials, envelopes, data
boundaries); ``readiness.report.packets`` renders it into ``<report-dir>/packets/security-packet.md``
and the same model feeds the HTML report's section. ``audit_outputs`` is one of the gate's
``OUTPUT_AUDITS``: after the run writes its report and packets, it scans them for credentials,
unmasked personal data and forbidden claims.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from readiness.boundaries import claims, credentials, privacy
from readiness.gate import overlap
from readiness.servicetitan import catalog

PACKET = "security-packet.md"
SECTION = "security-packet"

# What the packet must state, each checked against the rendered text (see ``missing_topics``).
TOPICS = {
    "current no-credential mode": r"(?i)## 1\. current mode: no credentials\n\n[^\n]*\bno servicetitan credential",
    "data minimization per envelope": r"(?i)## 2\. data minimization\n(.|\n)*### lead envelope(.|\n)*### booking envelope",
    "consent artifacts": r"(?i)## 3\. consent artifacts\n\n[^\n]*consent artifact[^\n]*capture time",
    "retention windows": r"(?i)## 4\. retention windows\n(.|\n)*exports \| \d+ days(.|\n)*submissions \| \d+ days",
    "future encrypted storage": r"(?i)- credentials at rest: [^\n]*\bencrypted\b",
    "tokens in memory only": r"(?i)- access tokens: [^\n]*\bmemory\b",
}


def _envelope_rows(envelope: dict) -> list[dict]:
    return [
        {"field": name, "purpose": spec["purpose"], "personal": bool(spec.get("personal")),
         "subfields": spec.get("subfields", [])}
        for name, spec in envelope["fields"].items()
    ]


def packet_model(policies) -> dict[str, Any]:
    """Everything the packet says, from the policies alone (so every shard of a run renders the same packet)."""
    envelopes = policies["envelopes"]
    limits = policies["data-boundaries"]
    secret_policy = policies["credentials"]
    return {
        "current": limits["tokens"]["current"],
        "future": limits["tokens"]["future"],
        "static_check": limits["tokens"]["static_check"]["description"],
        "detectors": [d["id"] for d in secret_policy["detectors"]],
        "allow": [{"id": a["id"], "reason": a["reason"]} for a in secret_policy["allow"]],
        "envelopes": [
            {"name": name, "description": " ".join(envelope["description"].split()), "fields": _envelope_rows(envelope)}
            for name, envelope in envelopes.items()
        ],
        "booking_create": {"operation": f"{catalog.CREATE_BOOKING.method} {catalog.CREATE_BOOKING.template}",
                           "required": list(catalog.required_fields(catalog.CREATE_BOOKING))},
        "titan_map": " ".join(limits["titan_map"]["description"].split()),
        "export_fields": [r["reason"] for r in limits["export_fields"]["forbidden"]]
        + [r["reason"] for r in limits["export_fields"]["forbidden_values"]],
        "consent": {**limits["consent"], "description": " ".join(limits["consent"]["description"].split())},
        "retention": limits["retention"],
    }


def missing_topics(text: str) -> list[str]:
    return [topic for topic, pattern in TOPICS.items() if not re.search(pattern, text)]


# ---------------------------------------------------------------------------------------------- output audit


def _quoted_findings(gate, claim_policy: claims.ClaimPolicy) -> list[str]:
    """Finding details and failure reasons the report quotes on purpose that hold a forbidden claim: only those
    are blanked before the report is read for claims (why: docs/scale.md, "The output audit blanks only quotes")."""
    quoted = set()
    for record in gate.records.values():
        quoted.update(privacy.mask_text(f["detail"]) for f in record.get("findings", []))
        if record.get("reason"):
            quoted.add(privacy.mask_text(record["reason"]))
    return sorted((q for q in quoted if claims.scan_text(q, "quote", claim_policy)), key=len, reverse=True)


def audit_outputs(gate, written: list[Path]) -> list[str]:
    """The ``OUTPUT_AUDITS`` entry: problems in the files this run wrote (report and packets)."""
    report_dir = Path(gate.options.report_dir)
    secret_policy, claim_policy = _scanners(gate)  # built once: the credential scanner remembers shared lines
    quoted = _quoted_findings(gate, claim_policy)
    documents, problems = [], [[] for _ in written]
    for index, path in enumerate(written):
        where = path.relative_to(report_dir).as_posix() if path.is_relative_to(report_dir) else path.name
        try:
            documents.append((index, where, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems[index].append(f"{where}: cannot be read back for the output audit ({exc})")
    # Claims are read on another core while this one scans for credentials and personal data (gate.overlap).
    claims_found = overlap.start(lambda: [_claims(where, text, quoted, claim_policy) for _, where, text in documents])
    for index, where, text in documents:
        problems[index] += _credentials(where, text, secret_policy) + _personal_data(where, text)
    for (index, _, _), found in zip(documents, claims_found()):
        problems[index] += found
    return [problem for file_problems in problems for problem in file_problems]


def _scanners(gate) -> tuple[credentials.CredentialPolicy, claims.ClaimPolicy]:
    return (credentials.CredentialPolicy.from_policies(gate.policies),
            claims.ClaimPolicy.from_policies(gate.policies))


def audit_text(gate, where: str, text: str, quoted: list[str] = (), scanners=None) -> list[str]:
    """Credentials, unmasked personal data and (in Markdown and HTML) forbidden claims in one written document;
    ``quoted`` are finding details the report repeats on purpose and are not judged again."""
    secret_policy, claim_policy = scanners or _scanners(gate)
    return (_credentials(where, text, secret_policy) + _personal_data(where, text)
            + _claims(where, text, quoted, claim_policy))


def _credentials(where: str, text: str, secret_policy: credentials.CredentialPolicy) -> list[str]:
    return [f"{f.subject}: {f.detail}" for f in credentials.scan_text(text, where, secret_policy)
            if f.severity in ("blocker", "major")]


def _personal_data(where: str, text: str) -> list[str]:
    return [f"{where}: {line}" for line in privacy.describe(text)]


def _claims(where: str, text: str, quoted: list[str], claim_policy: claims.ClaimPolicy) -> list[str]:
    if Path(where).suffix not in (".md", ".html"):
        return []
    for quote in quoted:
        text = text.replace(quote, " ").replace(html.escape(quote), " ").replace(html.escape(quote, False), " ")
    return [f"{f.subject}: {f.detail.split(':')[0]}: a forbidden claim in the gate's own output"
            for f in claims.scan_text(text, where, claim_policy)]
