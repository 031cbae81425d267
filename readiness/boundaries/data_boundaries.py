"""Data boundaries: envelopes, the Titan Map, export and lead retention, export fields, consent, token storage.

Each check takes policies and one tenant (or a folder of code) and returns
findings that name the record and the field, never the personal value.
Policies: ``envelopes.yaml`` (field allow-lists) and ``data-boundaries.yaml``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import re2

from readiness.boundaries import privacy
from readiness.boundaries.sensitive import luhn
from readiness.core.documents import did_you_mean
from readiness.core.errors import TenantDataError, relative
from readiness.core.findings import Finding
from readiness.servicetitan import catalog

# Every data-boundary violation is fixed by changing the data the product keeps, not by an operations runbook.
FINDING_KINDS: dict[str, str | None] = {
    "tenant-file-invalid": None,
    "envelope-field": None,
    "titan-map-field": None,
    "titan-map-personal-data": None,
    "export-retention": None,
    "lead-retention": None,
    "export-forbidden-field": None,
    "export-forbidden-value": None,
    "consent-missing": None,
    "consent-invalid": None,
    "token-written": None,
}


def demo_as_of(tenant) -> date | None:
    """The date a demo tenant's data represents (``demo.as_of`` in tenant.yaml), or None for a real tenant: one whose
    exports are customer-supplied is judged as of today whatever it declares, so real data cannot outlive retention."""
    profile = (getattr(tenant, "profile", None) if tenant is not None else None) or {}
    as_of = profile.get("demo", {}).get("as_of") if profile.get("exports", {}).get("source") == "demo" else None
    return _parse_date(as_of) if as_of else None


def reference_date(tenant=None) -> date:
    """'Today' for retention windows: a demo tenant is judged as of the date its data represents, so the bundled
    demo never expires; any other tenant as of today (``SOURCE_DATE_EPOCH`` makes a run reproducible)."""
    as_of = demo_as_of(tenant)
    if as_of is not None:
        return as_of
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.date()


def _finding(kind: str, subject: str, detail: str, severity: str = "blocker") -> Finding:
    return Finding(kind=kind, subject=subject, severity=severity, runbook=None, detail=privacy.mask_text(detail))


# ---------------------------------------------------------------------------------------------- contract


def contract_findings(tenant, problems) -> list[Finding]:
    """One finding per tenant file the pre-flight could not load: where (file:line:column), the key, the fix."""
    found = []
    for problem in problems:
        subject = relative(problem.file, tenant.folder) + "".join(f":{n}" for n in (problem.line, problem.column) if n is not None)
        detail = f"{problem.key}: {problem.message}" if problem.key else problem.message
        found.append(_finding("tenant-file-invalid", subject, detail))
    return found


# ---------------------------------------------------------------------------------------------- envelopes


def envelope_violations(record: dict, envelope: dict, envelopes: dict, subject: str, name: str) -> list[Finding]:
    """Fields of ``record`` outside the envelope's allow-list (sub-fields too), each named."""
    found = []
    fields = envelope["fields"]
    for key, value in record.items():
        if key not in fields:
            hint = did_you_mean(key, fields) or f" (allowed: {', '.join(fields)})"
            found.append(_finding("envelope-field", subject, f"field '{key}' is outside the {name} envelope{hint}"))
            continue
        nested = envelopes.get(key) if key == "booking" and name != "booking" else None
        if nested is not None and isinstance(value, dict):
            found += envelope_violations(value, nested, envelopes, subject, "booking")
            continue
        allowed = fields[key].get("subfields")
        if allowed is not None:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    found += [
                        _finding("envelope-field", subject,
                                 f"field '{key}.{sub}' is outside the {name} envelope"
                                 + (did_you_mean(sub, allowed) or f" (allowed in {key}: {', '.join(allowed)})"))
                        for sub in item if sub not in allowed
                    ]
    return found


LEADS, QUEUE = "leads/submissions.jsonl", "queue/sync-queue.jsonl"


def numbered(tenant, relative: str) -> list[tuple[str, dict]]:
    """``(file:line, record)`` for each record of a tenant's JSON Lines file: findings name the line."""
    if hasattr(tenant, "numbered"):
        return [(f"{relative}:{line}", record) for line, record in tenant.numbered(relative)]
    records = tenant.submissions() if relative == LEADS else tenant.queue_items()
    return [(f"{relative} record {index}", record) for index, record in enumerate(records, start=1)]


def lead_envelope(tenant, envelopes: dict) -> list[Finding]:
    return [f for where, lead in numbered(tenant, LEADS)
            for f in envelope_violations(lead, envelopes["lead"], envelopes, where, "lead")]


def queue_envelope(tenant, envelopes: dict) -> list[Finding]:
    return [f for where, item in numbered(tenant, QUEUE)
            for f in envelope_violations(item, envelopes["queue_item"], envelopes, where, "queue item")]


def booking_envelope_shape(envelopes: dict) -> list[Finding]:
    """The booking envelope holds only ServiceTitan booking-create fields and every field that call requires
    (both from the one catalog of ServiceTitan facts, ``readiness.servicetitan.catalog``)."""
    create = catalog.CREATE_BOOKING
    operation = f"{create.method} {create.template}"
    fields = set(envelopes["booking"]["fields"])
    found = [_finding("envelope-field", f"envelopes.yaml booking.fields.{name}",
                      f"'{name}' is not a field of {operation}; the handoff could not send it")
             for name in sorted(fields - set(catalog.request_fields(create)))]
    found += [_finding("envelope-field", "envelopes.yaml booking.fields",
                       f"'{name}' is required by {operation} but missing from the booking envelope")
              for name in catalog.required_fields(create) if name not in fields]
    return found


# ---------------------------------------------------------------------------------------------- Titan Map


def _walk(value: Any, path: str = "", parts: tuple = ()) -> Iterator[tuple[str, str, Any, tuple]]:
    """(path, key, value, key path parts) for every mapping entry below ``value``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key), inner, (*parts, key)
            yield from _walk(inner, here, (*parts, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{index}]", (*parts, index))


def titan_map_boundary(tenant, boundaries: dict) -> list[Finding]:
    """Only ids, names, codes and notes in the Titan Map, and no personal data in any of its values."""
    allowed = set(boundaries["titan_map"]["allowed_keys"])
    document = getattr(tenant, "titan_map_document", None)
    found = []
    for path, key, value, parts in _walk(tenant.titan_map):
        line = document.line_of(parts) if document is not None else None
        where = f"titan-map.yaml:{line}" if line else "titan-map.yaml"
        if key not in allowed:
            found.append(_finding("titan-map-field", where, f"key '{path}' is outside the Titan Map boundary "
                                                            "(ids, names and mapping notes only)"))
        if isinstance(value, str):
            for hit in privacy.find(value):
                found.append(_finding("titan-map-personal-data", where, f"'{path}' holds a customer's {hit.kind}; "
                                                                       "the Titan Map may hold no personal data"))
    return found


# ---------------------------------------------------------------------------------------------- retention


def _parse_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).date()
    except ValueError:
        return None


def export_retention(tenant, boundaries: dict, today: date | None = None) -> list[Finding]:
    """Exports carry a capture date (tenant.yaml exports.captured_on) inside the retention window."""
    if not (tenant.folder / "exports").is_dir():
        return []
    today = today or reference_date(tenant)
    window = boundaries["retention"]["exports"]["days"]
    captured = _parse_date(tenant.profile["exports"]["captured_on"])
    document = getattr(tenant, "profile_document", None)
    line = document.line_of(["exports", "captured_on"]) if document is not None else None
    where = f"tenant.yaml:{line}" if line else "tenant.yaml"
    if captured is None:
        return [_finding("export-retention", where, "exports.captured_on: the capture date is not a date")]
    if captured > today:
        return [_finding("export-retention", where,
                         f"exports.captured_on: exports are dated {captured}, after today ({today}): "
                         "the capture date is wrong")]
    age = (today - captured).days
    if age > window:
        return [_finding("export-retention", "exports/",
                         f"exports captured on {captured} are {age} days old, past the {window}-day retention window; "
                         "delete them or ask the customer for fresh exports")]
    return []


def lead_retention(tenant, boundaries: dict, today: date | None = None) -> list[Finding]:
    today = today or reference_date(tenant)
    window = boundaries["retention"]["leads"]["days"]
    found = []
    for where, lead in numbered(tenant, LEADS):
        submitted = _parse_date(lead.get("submitted_at", ""))
        if submitted is not None and (today - submitted).days > window:
            found.append(_finding("lead-retention", where, f"lead {lead.get('lead_id', '?')} was submitted "
                                  f"{(today - submitted).days} days ago, past the {window}-day window"))
    return found


# ---------------------------------------------------------------------------------------------- export fields


# A card number stands alone: digits inside an identifier (the hex of a ``web-…`` externalId, a token) are not one.
_CARD = re.compile(r"(?<![\w.])(?<!\w-)(?:\d[ -]?){12,18}\d(?![\w.])")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
# _SSN and _CARD without their edge conditions (RE2 has no look-around), so it finds at least what they find; in
# RE2 (linear time) because it runs over a whole export page. \p{Nd} is the digits Python's \d matches in text.
_NUMBER_SHAPES = re2.compile(r"\p{Nd}{3}-\p{Nd}{2}-\p{Nd}{4}|(?:\p{Nd}[ -]?){12,18}\p{Nd}")


def _forbidden_value(kind: str, value: str) -> bool:
    if kind == "ssn":
        return bool(_SSN.search(value))
    return any(luhn(re.sub(r"\D", "", m.group(0))) for m in _CARD.finditer(value)
               if 13 <= len(re.sub(r"\D", "", m.group(0))) <= 19)


def export_export_paths(tenant) -> list[str]:
    exports = tenant.folder / "exports"
    paths = set()
    for file in exports.rglob("*.json") if exports.is_dir() else []:
        relative = file.relative_to(exports)
        parts = relative.parts[:-1] if re.fullmatch(r"\d+\.json", relative.name) else (*relative.parts[:-1], relative.stem)
        paths.add("/".join(parts))
    return sorted(paths)


class ExportFieldJudge:
    """The export-field rules of ``data-boundaries.yaml``, judged one export page at a time."""

    _KEY = re.compile(r'"([^"]*)": ')  # in json.dumps' text without escapes, only a key is followed by ": "

    def __init__(self, boundaries: dict):
        self.rules = [(re.compile(r["pattern"]), r["reason"]) for r in boundaries["export_fields"]["forbidden"]]
        self.value_rules = [(r["kind"], r["reason"]) for r in boundaries["export_fields"]["forbidden_values"]]
        self.forbidden_because = functools.cache(self._forbidden_because)  # an export repeats its few keys

    def _forbidden_because(self, key: str) -> str | None:
        folded = re.sub(r"[^a-z0-9]", "", key.lower())
        return next((reason for pattern, reason in self.rules if pattern.search(folded)), None)

    def may_find(self, page: dict) -> bool:
        """Whether ``findings`` can find anything in ``page``: its JSON text holds a forbidden key, or a number
        shaped like a card or a social security number. Reading the text is C's and RE2's work, walking every value
        Python's. Any escape in the text means the page is walked: an escaped quote hides where a key ends."""
        text = json.dumps(page, ensure_ascii=False)
        if "\\" in text or _NUMBER_SHAPES.search(text):
            return True
        return any(self.forbidden_because(key) for key in set(self._KEY.findall(text)))

    def findings(self, api_path: str, records: list, first_index: int = 0) -> list[Finding]:
        found = []
        for index, record in enumerate(records, start=first_index):
            subject = f"exports/{api_path} record {record.get('id', index) if isinstance(record, dict) else index}"
            for path, key, value, _ in _walk(record):
                reason = self.forbidden_because(key)
                if reason is not None and value not in (None, "", [], {}):
                    found.append(_finding("export-forbidden-field", subject, f"field '{path}': {reason}"))
                if isinstance(value, (str, int)) and not isinstance(value, bool):
                    for kind, why in self.value_rules:
                        if _forbidden_value(kind, str(value)):
                            found.append(_finding("export-forbidden-value", subject,
                                                  f"field '{path}' holds what looks like a {kind}: {why}"))
        return found


def export_fields(tenant, boundaries: dict) -> list[Finding]:
    """No export holds a field (or a value) the product's use does not need."""
    judge = ExportFieldJudge(boundaries)
    found = []
    for api_path in export_export_paths(tenant):
        first_index = 0
        for page in tenant.export_pages(api_path):
            if judge.may_find(page):
                found += judge.findings(api_path, page["data"], first_index)
            first_index += len(page["data"])
    return found


# ---------------------------------------------------------------------------------------------- consent


def consent_artifacts(tenant) -> dict[str, dict]:
    path = tenant.folder / "leads" / "consent.jsonl"
    if not path.exists():
        return {}
    from readiness.core.documents import iter_json_lines

    return {record.get("consent_id"): record for _, record in iter_json_lines(path, TenantDataError)}


def consent_findings(tenant, boundaries: dict, product_dir: Path) -> list[Finding]:
    """Every lead references an existing consent artifact whose text version, hash, method and time are valid."""
    policy = boundaries["consent"]
    artifacts = consent_artifacts(tenant)
    texts = Path(product_dir) / policy["texts_folder"]
    found = []
    for subject, lead in numbered(tenant, LEADS):
        ref = lead.get("consent_ref")
        if not ref:
            found.append(_finding("consent-missing", subject, "the lead references no consent artifact"))
            continue
        artifact = artifacts.get(ref)
        if artifact is None:
            found.append(_finding("consent-missing", subject,
                                  f"consent artifact '{ref}' does not exist in leads/consent.jsonl"))
            continue
        found += [_finding("consent-invalid", subject, f"consent artifact '{ref}': {problem}")
                  for problem in _consent_problems(artifact, lead, policy, texts)]
    return found


def _consent_problems(artifact: dict, lead: dict, policy: dict, texts: Path) -> Iterable[str]:
    missing = [k for k in ("captured_at", "text_version", "text_sha256", "method") if not artifact.get(k)]
    if missing:
        yield f"missing {', '.join(missing)}"
        return
    if artifact["method"] not in policy["methods"]:
        yield f"capture method '{artifact['method']}' is not one of {', '.join(policy['methods'])}"
    text_file = texts / f"{artifact['text_version']}.txt"
    if not text_file.is_file():
        yield f"consent text version '{artifact['text_version']}' has no text in {policy['texts_folder']}/"
    elif hashlib.sha256(text_file.read_bytes()).hexdigest() != artifact["text_sha256"]:
        yield f"text_sha256 does not match the text of version '{artifact['text_version']}'"
    captured = _parse_datetime(artifact["captured_at"])
    submitted = _parse_datetime(lead.get("submitted_at", ""))
    if captured is None:
        yield "captured_at is not a date and time"
    elif submitted is not None:
        if captured > submitted:
            yield "consent was captured after the lead was submitted"
        elif submitted - captured > timedelta(minutes=policy["max_minutes_before_submission"]):
            yield (f"consent was captured more than {policy['max_minutes_before_submission']} minutes before the "
                   "submission it is meant for")


def _parse_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------- tokens


_WRITERS = {"write", "write_text", "write_bytes", "writelines", "dump", "dumps_to", "save", "savez", "to_csv",
            "to_json", "setex"}
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
_SERIALISERS = {"dump"}  # json.dump / yaml.dump / pickle.dump(value, handle)


def _names_in(node: ast.AST) -> Iterator[str]:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            yield inner.id
        elif isinstance(inner, ast.Attribute):
            yield inner.attr
        elif isinstance(inner, ast.Constant) and isinstance(inner.value, str) and re.fullmatch(r"[\w.-]{1,40}", inner.value):
            yield inner.value


def token_writes(source: str, filename: str, sensitive: re.Pattern) -> list[Finding]:
    """Calls that write to a file, a store or a log a value whose name mentions a token or secret."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [_finding("token-written", f"{filename}:{exc.lineno}", "cannot be parsed, so cannot be checked")]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        logger = isinstance(func, ast.Attribute) and name in _LOG_METHODS and re.search(
            r"log", ast.unparse(func.value), re.I)
        if name not in _WRITERS and not logger:
            continue
        written = node.args[:1] if name in _SERIALISERS else node.args
        written = [*written, *(k.value for k in node.keywords)]
        hits = sorted({n for arg in written for n in _names_in(arg) if sensitive.search(n)})
        if hits:
            found.append(_finding("token-written", f"{filename}:{node.lineno}",
                                  f"{name}() writes {', '.join(hits)}: tokens and secrets live in memory only"))
    return found


@functools.lru_cache(maxsize=1024)
def _token_writes_of(source: str, filename: str, sensitive: str) -> tuple[Finding, ...]:
    # Parsing is most of a gate run's cost in a process that runs the gate again and again over the same, unchanged
    # code (the project's own tests): a text is parsed once per process; an edited file is a new text.
    return tuple(token_writes(source, filename, re.compile(sensitive)))


def code_token_writes(folders: Iterable[Path], boundaries: dict, root: Path | None = None) -> list[Finding]:
    sensitive = boundaries["tokens"]["static_check"]["sensitive_names"]
    found = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            where = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else path.as_posix()
            found += _token_writes_of(path.read_text(encoding="utf-8", errors="replace"), where, sensitive)
    return found
