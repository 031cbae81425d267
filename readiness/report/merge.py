"""``python -m readiness merge OUT_DIR shard1/readiness.json ...``: one report from the reports of a sharded run.

The shards' scenario records, tenants, findings and evidence are combined and the
report is rebuilt with :func:`readiness.report.build`, so the merged ``readiness.json``,
Markdown and HTML are exactly what one unsharded run over the same inputs writes.
Reports made under different policies, commits, modes or report versions are refused,
and so are incomplete or overlapping sets of shards: a merge never silently drops or
double-counts a tenant.

The shards are checked against the report schema on another core (``readiness.gate.overlap``) while this one
merges and renders; nothing is written until they pass, and a shard off its schema is named before any other
refusal.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from readiness.core import evidence
from readiness.core.documents import read_json, schema, validate_data
from readiness.core.errors import ReadinessError
from readiness.gate import overlap, waivers
from readiness.report import controls, document, history

MUST_AGREE = {
    "policy_digest": "policy versions (policy digests)",
    "commit": "commits",
    "mode": "sandbox modes",
    "schema_version": "report schema versions",
}
# Keys document.build derives; the rest of a tenant row is what the gate knew about the tenant.
DERIVED_TENANT_KEYS = ("status", "scenario_counts", "findings", "sections")


def scenario_identity(record: dict) -> tuple:
    """One scenario for one tenant; each Examples row of an outline is its own (its steps carry the row's values)."""
    return (record["feature"], record["line"], record["scenario"], record["tenant"] or "",
            tuple(step["name"] for step in record["steps"]))


def _check_agreement(inputs: list[tuple[Path, dict]]) -> None:
    first_path, first = inputs[0]
    for path, built in inputs[1:]:
        for key, what in MUST_AGREE.items():
            if built[key] != first[key]:
                raise ReadinessError(path, f"refusing to merge reports from different {what}: "
                                           f"{key} {built[key]} here, {first[key]} in {first_path.as_posix()}")


def _check_shards(inputs: list[tuple[Path, dict]]) -> None:
    sharded = [(path, built["shard"]) for path, built in inputs if "shard" in built]
    if not sharded:
        return
    if len(sharded) != len(inputs):
        path = next(path for path, built in inputs if "shard" not in built)
        raise ReadinessError(path, "refusing to merge an unsharded report with shard reports")
    counts = {shard["count"] for _, shard in sharded}
    if len(counts) > 1:
        raise ReadinessError(sharded[-1][0], f"refusing to merge shards of different splits (N = {sorted(counts)})")
    count = counts.pop()
    seen: dict[int, Path] = {}
    for path, shard in sharded:
        if shard["index"] in seen:
            raise ReadinessError(path, f"shard {shard['index']}/{count} given twice "
                                       f"(also {seen[shard['index']].as_posix()})")
        seen[shard["index"]] = path
    missing = sorted(set(range(1, count + 1)) - seen.keys())
    if missing:
        raise ReadinessError(None, f"incomplete set of shards: missing {', '.join(f'{k}/{count}' for k in missing)}"
                                   " (a merged report must cover every tenant)")


def merge(inputs: list[tuple[Path, dict]]) -> dict:
    """One report from several ``(path, readiness.json)`` inputs; ReadinessError when they do not belong together."""
    if not inputs:
        raise ReadinessError(None, "nothing to merge: give at least one readiness.json")
    _check_agreement(inputs)
    _check_shards(inputs)
    scenarios: dict[tuple, tuple[Path, dict]] = {}
    tenants: dict[str, dict] = {}
    hashes: dict[str, tuple[str, Path]] = {}
    problems: set[str] = set()
    for path, built in inputs:
        for record in built["scenarios"]:
            key = scenario_identity(record)
            if key in scenarios:
                raise ReadinessError(path, f"scenario \"{record['scenario']}\""
                                           f"{' [' + record['tenant'] + ']' if record['tenant'] else ''} is also in "
                                           f"{scenarios[key][0].as_posix()}: the reports overlap")
            scenarios[key] = (path, record)
        for row in built["tenants"]:
            tenants[row["slug"]] = {k: v for k, v in row.items() if k not in DERIVED_TENANT_KEYS}
        for entry in built["evidence"]:
            known = hashes.setdefault(entry["path"], (entry["sha256"], path))
            if known[0] != entry["sha256"]:
                raise ReadinessError(path, f"input {entry['path']} has a different SHA-256 than in "
                                           f"{known[1].as_posix()}: the runs read different files")
        problems.update(built["gate"]["problems"])
    manifest = [{"path": name, "sha256": hashes[name][0]} for name in sorted(hashes)]
    first = inputs[0][1]
    waiver_rows, waiver_problems = waivers.merge_rows([built for _, built in inputs])
    return document.build(
        mode=first["mode"],
        scenarios=[record for _, record in scenarios.values()],
        requirements=[{"id": r["id"], "text": r["text"], "planned": r["planned"]} for r in first["requirements"]],
        tenants=list(tenants.values()),
        evidence=manifest,
        evidence_root=evidence.root_digest(manifest),
        commit=first["commit"],
        policy_digest=first["policy_digest"],
        generated_at=max(built["generated_at"] for _, built in inputs),
        gate_problems=sorted(problems | set(waiver_problems)),
        waivers=waiver_rows,
        controls=controls.policy_of(first["controls"]) if "controls" in first else None,
    )


def copy_packets(report_paths: list[Path], out_dir: Path) -> tuple[list[Path], list[str]]:
    """Each shard's ``packets/`` into OUT_DIR/packets, and the names of packets whose text differs between shards.

    A packet rendered over all tenants differs per shard; no shard's copy is the whole, so none is copied."""
    sources: dict[str, Path] = {}
    differing: set[str] = set()
    for report_path in report_paths:
        folder = report_path.parent / "packets"
        for file in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
            name = file.relative_to(folder).as_posix()
            if name in sources and sources[name].read_bytes() != file.read_bytes():
                differing.add(name)
            sources.setdefault(name, file)
    written = []
    for name, file in sorted(sources.items()):
        if name in differing:
            continue
        target = out_dir / "packets" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        written.append(target)
    return written, sorted(differing)


@dataclass
class MergedRun:
    """What ``merge_files`` wrote: the merged document, its files, and packets left per shard."""

    document: dict
    written: list[Path]
    differing_packets: list[str]

    @property
    def failed(self) -> bool:
        return self.document["gate"]["status"] == "failed"


def start_checking(inputs: list[tuple[Path, dict]]) -> Callable[[], None]:
    """``document.load``'s schema check of every input, on another core; the returned function waits for it and
    raises the first input's problem, in the order given."""
    report_schema = schema("report/readiness")

    def check() -> None:
        for path, built in inputs:
            validate_data(built, report_schema, path, ReadinessError)

    return overlap.start(check)


def merge_files(paths: list[Path], out_dir: Path, baseline: Path | None = None) -> MergedRun:
    """Merge the shard reports at ``paths`` into ``out_dir`` (with what changed since ``baseline``, when given).
    Nothing, packets included, is written before the shards and the merged report pass the report schema."""
    inputs = [(path, read_json(path)) for path in paths]
    inputs_checked = start_checking(inputs)
    try:
        merged = merge(inputs)
        if baseline is not None:
            merged["baseline"] = history.diff(document.load(baseline), merged)
    except Exception:
        inputs_checked()  # a shard off the report schema is named as such, not by what it broke in the merge
        raise
    merged_checked = document.start_validation(merged)

    def validated() -> None:
        inputs_checked()
        merged_checked()

    written = document.write(merged, out_dir, validated=validated)
    packets, differing = copy_packets(paths, out_dir)
    return MergedRun(merged, packets + written, differing)
