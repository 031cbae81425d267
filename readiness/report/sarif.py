"""SARIF 2.1.0 from the report: every finding that names a file and line, for GitHub code scanning.

One result per finding whose subject starts with ``path:line``: ``ruleId`` is the finding kind, the level follows
its severity, and the rule's help text comes from the runbook the finding routes to. A waived finding is a result
with an accepted external suppression carrying the waiver: code scanning shows it dismissed, never fixed.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"blocker": "error", "major": "error", "minor": "warning", "info": "note"}
# "policies/claims.yaml:12", "product/index.html:40:7 ..." : a path with a folder or an extension, then a line
_LOCATION = re.compile(r"^(?P<path>[^\s:]*[/.][^\s:]*):(?P<line>\d+)(?::(?P<column>\d+))?(?=\s|$)")


def location(subject: str) -> tuple[str, int, int | None] | None:
    """``(path, line, column)`` of a finding's subject, or None when it names no file."""
    match = _LOCATION.match(subject)
    if match is None or int(match["line"]) < 1:
        return None
    return match["path"], int(match["line"]), int(match["column"]) if match["column"] else None


def _artifact(path: str, tenant: str | None, evidence: list[str]) -> str:
    """The path as the repository knows it: a tenant's finding names a file inside the tenant's folder, and the
    evidence manifest knows where that folder is."""
    if path in evidence:
        return path
    suffix = f"/{tenant}/{path}" if tenant else f"/{path}"
    matches = [e for e in evidence if e.endswith(suffix)]
    return matches[0] if len(matches) == 1 else path


_ROOT_LABEL = re.compile(r"^<(?P<option>[a-z-]+)>/(?P<rest>.+)$")  # evidence labels outside the working directory


def _uri(path: str, bases: dict[str, dict]) -> dict:
    """A relative URI and its base: the working directory (``%SRCROOT%``), or the input folder an option named
    (``<tenants-dir>/...`` in the evidence manifest -> base ``TENANTS_DIR``)."""
    label = _ROOT_LABEL.match(path)
    if label is not None:
        base = label["option"].upper().replace("-", "_")
        bases[base] = {"description": {"text": f"the folder given with --{label['option']}"}}
        return {"uri": label["rest"], "uriBaseId": base}
    if PurePosixPath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": path, "uriBaseId": "%SRCROOT%"}


def _help(kind: str, runbook_id: str | None, runbooks: dict[str, dict]) -> str:
    runbook = runbooks.get(runbook_id) if runbook_id else None
    if runbook is None:
        return (f"{kind}: fix the file at the location shown, as the message says; no runbook applies, since the "
                "product itself changes. Rerun the readiness gate to confirm.")
    steps = " ".join(f"{n}. {step}" for n, step in enumerate(runbook.get("steps") or [], start=1))
    return (f"Runbook {runbook['id']} ({runbook.get('title', runbook['id'])}), "
            f"owner {runbook.get('owner', 'not named')}: {steps or 'see the runbooks packet'}")


def _findings(built: dict):
    yield None, built["product"]["findings"]
    for tenant in built["tenants"]:
        yield tenant["slug"], tenant["findings"]


def render(built: dict, policies) -> dict:
    runbooks = {r["id"]: r for r in policies["runbooks"]["runbooks"]}
    evidence = [e["path"] for e in built["evidence"]]
    bases = {"%SRCROOT%": {"description": {"text": "the folder the gate ran in"}}}
    rules: dict[str, dict] = {}
    results = []
    for tenant, findings in _findings(built):
        for finding in findings:
            where = location(finding["subject"])
            if where is None:
                continue
            path, line, column = where
            path = _artifact(path, tenant, evidence)
            rules.setdefault(finding["kind"], {
                "id": finding["kind"],
                "shortDescription": {"text": finding["kind"].replace("-", " ")},
                "help": {"text": _help(finding["kind"], finding["runbook"], runbooks)},
                "defaultConfiguration": {"level": LEVELS[finding["severity"]]},
            })
            region = {"startLine": line} | ({"startColumn": column} if column else {})
            result = {
                "ruleId": finding["kind"],
                "level": LEVELS[finding["severity"]],
                "message": {"text": finding["detail"]},
                "locations": [{"physicalLocation": {"artifactLocation": _uri(path, bases), "region": region}}],
                "properties": {"severity": finding["severity"], "scenario": finding["scenario"],
                               "requirements": finding["requirements"], "tenant": tenant},
            }
            if "waiver" in finding:
                result["suppressions"] = [{"kind": "external", "status": "accepted",
                                           "justification": _justification(built, finding["waiver"], tenant)}]
            results.append(result)
    ordered = sorted(rules)
    for result in results:
        result["ruleIndex"] = ordered.index(result["ruleId"])
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "readiness", "rules": [rules[kind] for kind in ordered]}},
            "automationDetails": {"id": f"readiness/{built['mode']}/"},
            "originalUriBaseIds": dict(sorted(bases.items())),
            "results": results,
        }],
    }


def _justification(built: dict, waiver_id: str, tenant: str | None) -> str:
    waiver = next((w for w in built.get("waivers", []) if w["id"] == waiver_id and w["tenant"] in (tenant, None)),
                  None)
    if waiver is None:
        return f"waived by {waiver_id}"
    return f"waived by {waiver_id} ({waiver['owner']}, until {waiver['expires']}): {waiver['justification']}"
