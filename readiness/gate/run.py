"""One gate run: its options, the policy set, the tenants, and the scenario records that become the report.

The root ``conftest.py`` wires pytest's hooks to this class; nothing here imports pytest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

import orjson

from readiness.servicetitan import client
from readiness.core import evidence, features
from readiness.report import document, formats, history, packets
from readiness.sandbox import protocol
from readiness.access import runbooks
from readiness.boundaries import data_boundaries, security
from readiness.core.errors import OptionError, ReadinessError, relative
from readiness.core.findings import Finding
from readiness.core.policy import PolicySet
from readiness.gate import waivers
from readiness.gate.shard import Shard
from readiness.core.tenants import FixtureTenant, discover

SANDBOX_MODES = ("off", "simulator", "integration")

PROPERTY = "readiness-scenario"
# The scenario that judges a tenant's files against their contract; every other scenario of a tenant whose files
# do not load is failed unjudged, so one broken file is reported once, by that scenario, never once per scenario.
CONTRACT_TAG = "tenant-contract"
NOT_LOADED = "not judged: the tenant did not load"
CONTRACT_SCENARIO = "Every tenant file follows its documented contract"
# In --sandbox simulator a @sandbox scenario's result is a dry run, never evidence.
DRY_RUN_STATUSES = {"passed": "dry-run-passed", "failed": "dry-run-failed"}


def credential_leaks(gate: "GateRun", written: list[Path]) -> list[str]:
    """No credential or token of this run in any file it wrote: report, packets, transcripts, anything in the
    report folder (e.g. a --junitxml written there)."""
    markers = protocol.leak_markers(gate.mode)
    if not markers:
        return []
    report_dir = Path(gate.options.report_dir)
    files = set(written) | {p for p in report_dir.rglob("*") if p.is_file()}
    return protocol.scan_for_leaks(files, markers, report_dir)


# Checks over the files the run itself wrote (report, packets, transcripts): each returns one-line problems, never
# secrets. ``GateRun.write_report`` runs every one; a problem fails the gate.
OUTPUT_AUDITS: list[Callable[["GateRun", list[Path]], list[str]]] = [
    security.audit_outputs,  # credentials, unmasked personal data and forbidden claims in every written file
    credential_leaks,  # this run's own credentials and tokens, anywhere in the report folder
    runbooks.audit_findings,  # every reported finding's kind is declared and routed to a runbook the policy defines
]


@dataclass
class Options:
    tenants_dir: Path
    policies_dir: Path
    product_dir: Path
    report_dir: Path
    features_dir: Path
    tenant_names: list[str] = field(default_factory=list)
    sandbox: str = "off"
    shard: str | None = None  # "K/N": judge only the tenants of shard K of N (readiness.gate.shard)
    baseline: Path | None = None  # an earlier readiness.json: the report shows what changed since
    # Formats reviewers' tools read, written beside the report when given (readiness.report.formats)
    sarif: Path | None = None
    oscal: Path | None = None
    cucumber: Path | None = None


@dataclass
class ScenarioEvidence:
    """What a scenario's steps recorded for the report: findings and per-concern report sections."""

    findings: list[Finding] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)

    def add(self, found) -> None:
        self.findings.extend(found)


def run_date() -> date:
    """The run's calendar date (UTC), from the same source as ``generated_at``: waiver expiry is judged by it."""
    return date.fromisoformat(generated_at()[:10])


def generated_at() -> str:
    """ISO time of the run; ``SOURCE_DATE_EPOCH`` makes it reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class GateRun:
    def __init__(self, options: Options):
        self.options = options
        if options.sandbox not in SANDBOX_MODES:
            raise OptionError(f"--sandbox {options.sandbox}: choose one of {', '.join(SANDBOX_MODES)}")
        if options.sandbox == "integration":
            client.Credentials.from_env()  # every credential variable present, no production host, else a clear error
        elif options.sandbox == "simulator":
            protocol.simulator_run_key()  # shared with xdist workers through the environment
        for name, folder in (("--product-dir", options.product_dir), ("--features-dir", options.features_dir)):
            if not Path(folder).is_dir():
                raise OptionError(f"{name} {folder}: folder not found")
        self.shard = Shard.parse(options.shard) if options.shard else None
        self.baseline = document.load(options.baseline) if options.baseline else None
        self.policies = PolicySet.load(options.policies_dir)
        self.tenants = discover(options.tenants_dir, options.tenant_names)
        if not self.tenants:
            raise OptionError(f"--tenants-dir {options.tenants_dir}: no tenant folders (each needs a tenant.yaml)")
        if self.shard:
            # A shard may hold no tenant at all (more shards than tenants): it then writes an empty shard report.
            self.tenants = [t for t in self.tenants if self.shard.holds(t.slug)]
        self._load_problems: dict[str, list[ReadinessError]] = {}
        self._judging: FixtureTenant | None = None
        self.scenarios = features.load_scenarios(options.features_dir)
        self.waivers = waivers.load(self.policies, self.tenants, self.scenarios, run_date())
        self.protocol = {t["id"]: t for t in self.policies["sandbox-protocol"]["tests"]}
        protocol.family_probes(self.policies)  # SCOPE-01 disagreeing with the matrix fails closed in every mode
        self.records: dict[str, dict] = {}
        self._tenants_by_slug = {t.slug: t for t in self.tenants}

    @property
    def mode(self) -> str:
        return self.options.sandbox

    def tenant(self, slug: str) -> FixtureTenant:
        """A selected tenant, its files checked once by the pre-flight (``load_problems`` says what broke).

        A tenant's scenarios run one after another (``plugins.tenant_groups``): the tenant keeps its parsed files
        and derived data while they run, and lets go of them when the next tenant's begin. The run holds one
        tenant's data at a time, however many it judges."""
        tenant = self._tenants_by_slug[slug]
        if self._judging is not tenant:
            if self._judging is not None:
                self._judging.forget()
            self._judging = tenant
            tenant.hold()
        if slug not in self._load_problems:  # once per tenant, not once per scenario: it parses every file
            self._load_problems[slug] = tenant.preflight()
        return tenant

    def load_problems(self, slug: str) -> list[ReadinessError]:
        """One error per file of the tenant that broke its contract in the pre-flight (after ``tenant``)."""
        return self._load_problems.get(slug, [])

    def not_loaded_reason(self, slug: str) -> str:
        """Why a scenario of a tenant that did not load is unjudged: the broken files, named once, not their errors."""
        folder = self._tenants_by_slug[slug].folder
        files = [relative(problem.file, folder) for problem in self.load_problems(slug)]
        return f"{NOT_LOADED} ({', '.join(files)}); see '{CONTRACT_SCENARIO}'"

    def pending_reason(self, tags: set[str]) -> str | None:
        """Why a scenario cannot run in this mode, or None when it runs."""
        if features.SANDBOX_TAG not in tags or self.mode != "off":
            return None
        unblock = sorted(
            self.protocol[t[len(features.PROTOCOL_PREFIX):]]["unblock"]
            for t in tags
            if t.startswith(features.PROTOCOL_PREFIX) and t[len(features.PROTOCOL_PREFIX):] in self.protocol
        )
        return "awaits sandbox access" + (f"; unblocked when: {' '.join(unblock)}" if unblock else "")

    def waived(self, payload: dict) -> str | None:
        """Why a failed scenario is waived (``waivers.covered_by``), or None: pytest then counts it as an expected
        failure, never a pass, and the report shows it waived."""
        covering = waivers.covered_by(payload, self.waivers.active)
        return waivers.describe(covering) if covering else None

    # Records arrive once per test phase (on the controller under xdist); one record per scenario and tenant.
    def observe(self, nodeid: str, phase: str, outcome: str, payload: dict, message: str | None) -> None:
        if payload.get("waived") is not None:  # its failure, which a waiver covers: judged in build_report
            outcome, message = "failed", payload["waived"]
        record = self.records.get(nodeid)
        if record is None:
            record = self.records[nodeid] = {**payload, "status": "passed", "reason": None}
        else:
            record["findings"] = payload["findings"] or record["findings"]
            record["sections"] = payload["sections"] or record["sections"]
            if payload["steps"]:
                record["steps"] = payload["steps"]
        if outcome == "skipped":
            if features.SANDBOX_TAG in record["tags"]:
                record["status"], record["reason"] = "pending", message
            else:
                record["status"] = "failed"
                record["reason"] = f"an offline scenario may not skip: {message}"
        elif outcome == "failed":
            record["status"] = "failed"
            unjudged = phase == "call" or (message or "").startswith(NOT_LOADED)
            record["reason"] = record["reason"] or (message if unjudged else f"{phase}: {message}")
        if features.SANDBOX_TAG in record["tags"] and self.mode != "off":
            if record["status"] == "pending":
                record["status"] = "failed"
                record["reason"] = f"a sandbox scenario may not skip in --sandbox {self.mode}: {message}"
            if self.mode == "simulator":
                record["status"] = DRY_RUN_STATUSES.get(record["status"], record["status"])

    def evidence_roots(self) -> dict[str, Path]:
        """Input folders by the option naming them: evidence paths outside the working directory use these."""
        return {"policies-dir": self.options.policies_dir, "features-dir": self.options.features_dir,
                "product-dir": self.options.product_dir, "tenants-dir": self.options.tenants_dir}

    def evidence_files(self) -> list[Path]:
        files = list(self.policies.files)
        files += features.feature_files(self.options.features_dir)
        files += sorted(p for p in Path(self.options.product_dir).rglob("*") if p.is_file())
        for tenant in self.tenants:
            files += tenant.files()
        return files

    def tenant_rows(self) -> list[dict]:
        rows = []
        for tenant in self.tenants:
            try:
                profile = tenant.profile
                row = {"slug": tenant.slug, "name": profile["name"], "package": profile["package"]}
                as_of = data_boundaries.demo_as_of(tenant)
                if as_of is not None:  # said plainly in the report: a demo is judged as of the date it represents
                    row["judged_as_of"] = as_of.isoformat()
                rows.append(row)
            except ReadinessError as exc:
                rows.append({"slug": tenant.slug, "name": tenant.slug, "package": None, "error": str(exc)})
        return rows

    def build_report(self, problems: list[str] = ()) -> dict:
        manifest = evidence.manifest(self.evidence_files(), roots=self.evidence_roots())
        # A run of some tenants only, or of one shard, cannot tell whether a waiver of the whole run is stale.
        judge_run_waivers = not self.options.tenant_names and not self.shard
        scenarios, waiver_rows, waiver_problems = waivers.apply(self.records.values(), self.waivers, judge_run_waivers)
        built = document.build(
            mode=self.mode,
            scenarios=scenarios,
            requirements=self.policies["requirements"]["requirements"],
            tenants=self.tenant_rows(),
            evidence=manifest,
            evidence_root=evidence.root_digest(manifest),
            commit=evidence.git_commit(),
            policy_digest=self.policies.digest,
            generated_at=generated_at(),
            gate_problems=sorted({*problems, *waiver_problems}),
            shard=self.shard.to_dict() if self.shard else None,
            waivers=waiver_rows,
            controls=self.policies["controls"],
        )
        if self.baseline is not None:
            built["baseline"] = history.diff(self.baseline, built)
        return built

    def write_report(self) -> tuple[dict, list[Path]]:
        """Write packets and report, then audit every written file; problems fail the gate and are reported."""
        built = self.build_report()
        validated = document.start_validation(built)  # on another core while the packets render
        written = packets.write(packets.render_all(self.policies, self.tenants), self.options.report_dir)
        written += document.write(built, self.options.report_dir, validated=validated)
        written += formats.write(built, self.policies, self.options)
        problems = sorted({problem for audit in OUTPUT_AUDITS for problem in audit(self, written)})
        if problems:
            built = self.build_report(problems)
            document.write(built, self.options.report_dir)
            formats.write(built, self.policies, self.options)
        return built, written


def encode(payload: dict) -> str:
    """A scenario's record as it travels from an xdist worker to the controller (``report.user_properties``)."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()


def decode(text: str) -> dict:
    return orjson.loads(text)
