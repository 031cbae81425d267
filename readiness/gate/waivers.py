"""Governed exceptions: waivers with a justification, an owner role and an expiry, and never silent.

A waiver names a finding (its kind and a subject pattern) or a scenario (a requirement and the scenario's name).
The run's own waivers live in ``policies/waivers.yaml``; a tenant's in ``<tenant>/waivers.yaml``; both follow
``schemas/policies/waivers``. What a waiver covers is reported as *waived*, never as passed. A waiver that has
expired stops applying and is itself a failing finding (``waiver-expired``), and so is one that matched nothing in
the run (``waiver-stale``). Some things are never waivable: a waiver for one of them is a policy error, named
with its file and line, and the gate does not run.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

from readiness.core import features
from readiness.core.documents import YamlDocument, schema
from readiness.core.errors import PolicyError, relative
from readiness.core.findings import Finding

POLICY = "waivers"
WAIVER_FILE = "waivers.yaml"  # a tenant's own, beside its tenant.yaml
REQUIREMENT = "WAIVER-GOVERNED"  # the requirement whose scenarios judge the waivers themselves
MAX_DAYS = 90  # a waiver is reviewed at least this often: its expiry is at most this far after the run date

FINDING_KINDS: dict[str, str | None] = {
    "waiver-expired": None,
    "waiver-stale": None,
}

# The product's own rule, kept out of the YAML an operator edits: what no justification can make acceptable.
NEVER_WAIVABLE_KINDS = {
    "credential": "credentials found",
    "credential-unreadable": "credentials found (a file the credential scan could not read)",
    "credential-symlink-outside": "credentials found (a link out of the scanned folder)",
    "token-written": "credentials found (a token written to disk)",
    "forbidden-claim": "claims of approval",
    "titan-map-personal-data": "personal data",
    "export-forbidden-value": "personal data",
}
NEVER_WAIVABLE_REQUIREMENTS = {
    "SEC-NO-CREDENTIALS": "credentials found",
    "CLAIM-APPROVAL": "claims of approval",
    "SEC-BOUNDARIES": "personal data in outputs",
    "SANDBOX-PROTOCOL": "pending sandbox tests",
    REQUIREMENT: "the waivers themselves",
}


@dataclass(frozen=True)
class Waiver:
    id: str
    file: str  # as the report shows it: relative to the working directory
    line: int
    tenant: str | None  # None: a waiver of the whole run (policies/waivers.yaml)
    justification: str
    owner: str
    expires: date
    kind: str | None = None
    subject: str | None = None  # an fnmatch pattern over the finding's subject
    requirement: str | None = None
    scenario: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def key(self) -> tuple[str, str]:
        return self.file, self.id

    @property
    def target(self) -> str:
        if self.kind is not None:
            return f"finding {self.kind} {self.subject}"
        return f"scenario {self.requirement}: {self.scenario}"

    def covers_tenant(self, tenant: str | None) -> bool:
        return self.tenant is None or self.tenant == tenant

    def matches_finding(self, finding: dict) -> bool:
        return finding["kind"] == self.kind and fnmatch.fnmatchcase(finding["subject"], self.subject)

    def matches_scenario(self, record: dict) -> bool:
        return self.requirement in record["requirements"] and record["scenario"] == self.scenario

    def to_dict(self, status: str, applied: int) -> dict:
        row = {"id": self.id, "file": self.file, "line": self.line, "tenant": self.tenant, "target": self.target,
               "justification": self.justification, "owner": self.owner, "expires": self.expires.isoformat(),
               "status": status, "applied": applied}
        return row


@dataclass
class WaiverSet:
    waivers: list[Waiver]
    run_date: date

    def expired(self, waiver: Waiver) -> bool:
        return waiver.expires < self.run_date

    @property
    def active(self) -> list[Waiver]:
        return [w for w in self.waivers if not self.expired(w)]

    def of(self, tenant: str | None) -> list[Waiver]:
        """The waivers a tenant's file declares (``None``: the run's own, from policies/waivers.yaml)."""
        return [w for w in self.waivers if w.tenant == tenant]

    def expired_findings(self, tenant: str | None) -> list[Finding]:
        return [Finding("waiver-expired", f"{w.where} {w.id}", "blocker", None,
                        f"waiver {w.id} ({w.target}) expired on {w.expires.isoformat()}: it no longer applies; "
                        f"fix what it covered, or renew it with a new justification from {w.owner}")
                for w in self.of(tenant) if self.expired(w)]


def stale_finding(waiver: Waiver) -> Finding:
    return Finding("waiver-stale", f"{waiver.where} {waiver.id}", "blocker", None,
                   f"waiver {waiver.id} ({waiver.target}) matched nothing in this run: remove it, "
                   "an exception that covers nothing hides the next problem")


# ------------------------------------------------------------------------------------------------------ loading


def load(policies, tenants: Iterable, scenarios: list[features.ScenarioSpec], run_date: date) -> WaiverSet:
    """The run's waivers and each tenant's, checked against the schema, the features and the never-waivable rule."""
    # A runbook missing its owner is the runbook scenarios' finding to report, not a reason to stop here.
    owners = sorted({r["owner"] for r in policies["runbooks"]["runbooks"] if r.get("owner")})
    loaded = _read(policies.documents[POLICY], None, scenarios, owners, run_date)
    for tenant in tenants:
        path = Path(tenant.folder) / WAIVER_FILE
        if path.is_file():
            document = YamlDocument(path, PolicyError)
            document.validate(schema(f"policies/{POLICY}"))
            loaded += _read(document, tenant.slug, scenarios, owners, run_date)
    return WaiverSet(loaded, run_date)


def _read(document: YamlDocument, tenant: str | None, scenarios: list[features.ScenarioSpec], owners: list[str],
          run_date: date) -> list[Waiver]:
    loaded, seen = [], set()
    for index, entry in enumerate(document.data.get("waivers") or []):
        def error(key: str, message: str) -> PolicyError:
            return PolicyError(document.path, message, key=f"waivers[{index}].{key}",
                               line=document.line_of(["waivers", index, key]))

        if entry["id"] in seen:
            raise error("id", f"waiver id {entry['id']} is used twice in this file: give each waiver its own id")
        seen.add(entry["id"])
        expires = _date(entry["expires"], error)
        if expires > run_date + timedelta(days=MAX_DAYS):
            raise error("expires", f"{expires.isoformat()} is more than {MAX_DAYS} days after the run date "
                                   f"{run_date.isoformat()}: a waiver is reviewed at least every {MAX_DAYS} days")
        if entry["owner"] not in owners:
            raise error("owner", f"owner role {entry['owner']!r} is not a runbook owner{_did_you_mean(entry['owner'], owners)}")
        found, scenario = entry.get("finding"), entry.get("scenario")
        if found is not None:
            why = NEVER_WAIVABLE_KINDS.get(found["kind"])
            if why:
                raise error("finding", f"finding kind {found['kind']} is never waivable ({why}): "
                                       "remove this waiver and fix what the finding names")
            target = {"kind": found["kind"], "subject": found["subject"]}
        else:
            target = _scenario_target(scenario, scenarios, error)
        loaded.append(Waiver(id=entry["id"], file=relative(document.path),
                             line=document.line_of(["waivers", index]) or 1, tenant=tenant,
                             justification=" ".join(entry["justification"].split()), owner=entry["owner"],
                             expires=expires, **target))
    return loaded


def _scenario_target(scenario: dict, scenarios: list[features.ScenarioSpec], error) -> dict:
    requirement, name = scenario["requirement"], scenario["name"]
    why = NEVER_WAIVABLE_REQUIREMENTS.get(requirement)
    if why:
        raise error("scenario", f"requirement {requirement} is never waivable ({why}): remove this waiver")
    named = [s for s in scenarios if s.name == name]
    if not named:
        raise error("scenario", f"no scenario is named {name!r}{_did_you_mean(name, sorted({s.name for s in scenarios}))}")
    if not any(requirement in s.requirements for s in named):
        raise error("scenario", f"scenario {name!r} does not prove {requirement} "
                                f"(it proves {', '.join(sorted({r for s in named for r in s.requirements}))})")
    if any(s.is_sandbox for s in named):
        raise error("scenario", f"scenario {name!r} needs sandbox access: pending sandbox tests are never waivable")
    return {"requirement": requirement, "scenario": name}


def _date(value, error) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise error("expires", f"{value!r} is not a date: write it as YYYY-MM-DD") from None


def _did_you_mean(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (one of: {', '.join(choices)})" if len(choices) < 8 else ""


# ----------------------------------------------------------------------------------------------------- applying


def never_waivable(record: dict) -> bool:
    """A record no waiver may touch: a sandbox scenario, or one proving a never-waivable requirement."""
    return (features.SANDBOX_TAG in record["tags"]
            or any(r in NEVER_WAIVABLE_REQUIREMENTS for r in record["requirements"])
            or any(f["kind"] in NEVER_WAIVABLE_KINDS for f in record.get("findings", [])))


def covered_by(record: dict, active: list[Waiver]) -> list[Waiver]:
    """The active waivers that cover a failed scenario record: a scenario waiver that names it, else the finding
    waivers of its findings when it failed on its own assertion and every finding it recorded is waived. A failure
    that is not a finding (an error, a malformed file) is never covered; nor is a never-waivable record."""
    if never_waivable(record):
        return []
    mine = [w for w in active if w.covers_tenant(record["tenant"])]
    by_scenario = [w for w in mine if w.requirement is not None and w.matches_scenario(record)]
    if by_scenario:
        return by_scenario[:1]
    if not record.get("assertion") or not record.get("findings"):
        return []
    covering = []
    for finding in record["findings"]:
        match = next((w for w in mine if w.kind is not None and w.matches_finding(finding)), None)
        if match is None:
            return []
        if match not in covering:
            covering.append(match)
    return covering


def apply(records: Iterable[dict], waivers: WaiverSet,
          judge_run_waivers: bool = True) -> tuple[list[dict], list[dict], list[str]]:
    """The records with waived findings and scenarios marked, one report row per waiver, and gate problems.

    A finding an active waiver matches carries ``waiver`` (its id). A failed scenario is *waived* when a scenario
    waiver names it, or when it failed on its own assertion and every finding it recorded is waived: a failure
    that is not a finding (an error, a malformed file) is never waived. Stale waivers fail the scenario that judges
    waivers for their tenant (the run's own only when ``judge_run_waivers``: a run of some tenants cannot tell);
    a stale waiver whose judging scenario did not run is a gate problem instead, so it can never pass unseen.
    """
    active = waivers.active
    applied: dict[tuple[str, str], int] = {w.key: 0 for w in waivers.waivers}
    out = []
    for record in records:
        record = {**record, "findings": [dict(f) for f in record.get("findings", [])]}
        mine = [w for w in active if w.covers_tenant(record["tenant"])]
        untouchable = never_waivable(record)
        if not untouchable:
            for finding in record["findings"]:
                match = next((w for w in mine if w.kind is not None and w.matches_finding(finding)), None)
                if match is not None:
                    finding["waiver"] = match.id
                    applied[match.key] += 1
        if record["status"] == "failed":
            covering = covered_by(record, mine)
            if covering:
                if covering[0].requirement is not None:  # a finding waiver was counted with its finding above
                    applied[covering[0].key] += 1
                _waive(record, covering)
        record.pop("assertion", None)
        record.pop("waived", None)
        out.append(record)
    stale = [w for w in active if not applied[w.key] and (w.tenant is not None or judge_run_waivers)]
    unjudged = _fail_stale(out, stale)
    problems = [f"{w.where}: {stale_finding(w).detail} (its waiver scenario did not run)" for w in unjudged]
    rows = []
    for waiver in sorted(waivers.waivers, key=lambda w: (w.tenant or "", w.file, w.line)):
        status = "expired" if waivers.expired(waiver) else "applied" if applied[waiver.key] else \
            "stale" if waiver in stale else "unjudged"
        rows.append(waiver.to_dict(status, applied[waiver.key]))
    return out, rows, problems


def describe(by: list[Waiver]) -> str:
    return "waived by " + ", ".join(f"{w.id} ({w.owner}, until {w.expires.isoformat()})" for w in by)


def _waive(record: dict, by: list[Waiver]) -> None:
    names = describe(by).removeprefix("waived by ")
    record["status"] = "waived"
    record["reason"] = f"waived by {names}: {record['reason']}" if record.get("reason") else f"waived by {names}"


def _fail_stale(records: list[dict], stale: list[Waiver]) -> list[Waiver]:
    """Stale waivers fail their tenant's waiver scenario (the product's for the run's own waivers); returns those
    whose scenario is not among the records."""
    judged = set()
    for record in records:
        if REQUIREMENT not in record["requirements"]:
            continue
        found = [stale_finding(w).to_dict() for w in stale if w.tenant == record["tenant"]]
        judged.add(record["tenant"])
        if not found:
            continue
        record["findings"] = sorted(record["findings"] + found, key=lambda f: (f["kind"], f["subject"]))
        text = "; ".join(f"{f['subject']}: {f['detail']}" for f in found)
        record["reason"] = f"{record['reason']}; {text}" if record["status"] == "failed" else text
        record["status"] = "failed"
        if record.get("steps"):
            record["steps"] = record["steps"][:-1] + [{**record["steps"][-1], "status": "failed"}]
    return [w for w in stale if w.tenant not in judged]


def merge_rows(reports: list[dict]) -> tuple[list[dict], list[str]]:
    """The waiver rows of shard reports as one run's: a waiver of the whole run that no shard could judge alone is
    applied if it applied in any shard, else stale, and then a gate problem (its scenario ran in one shard only)."""
    merged: dict[tuple, dict] = {}
    for built in reports:
        for row in built.get("waivers", []):
            key = (row["tenant"] or "", row["file"], row["id"])
            known = merged.setdefault(key, {**row, "applied": 0})
            known["applied"] += row["applied"]
            if row["status"] in ("expired", "stale"):
                known["status"] = row["status"]
    problems = []
    for row in merged.values():
        if row["status"] in ("applied", "unjudged"):
            row["status"] = "applied" if row["applied"] else "stale"
            if row["status"] == "stale":
                problems.append(f"{row['file']}:{row['line']}: waiver {row['id']} ({row['target']}) matched nothing "
                                "in any shard: remove it")
    return [merged[k] for k in sorted(merged)], problems
