"""``python -m readiness verify REPORT_DIR``: re-hash the inputs a report lists and say which changed since.

A reviewer holding a report can check it still describes the files in front of them:
every input is re-hashed against the evidence manifest, the manifest against its
root digest, and files that appeared beside the listed inputs are named too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from readiness.core import evidence
from readiness.report import document

ROOT_OPTIONS = ("policies-dir", "features-dir", "product-dir", "tenants-dir")


@dataclass
class Verification:
    inputs: int
    recorded_root: str
    manifest_root: str
    current_root: str
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def manifest_intact(self) -> bool:
        return self.recorded_root == self.manifest_root

    @property
    def ok(self) -> bool:
        return self.manifest_intact and not (self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        if self.ok:
            return [f"OK: all {self.inputs} inputs match the report (evidence root {self.recorded_root[:16]})"]
        lines = []
        if not self.manifest_intact:
            lines.append("the report's evidence manifest does not match its root digest: the report was edited")
        count = len(self.changed) + len(self.missing) + len(self.added)
        if count:
            lines.append(f"CHANGED: {count} input(s) differ from the report "
                         f"(evidence root {self.recorded_root[:16]} then, {self.current_root[:16]} now)")
        lines += [f"changed  {p}" for p in self.changed]
        lines += [f"missing  {p}" for p in self.missing]
        lines += [f"new      {p}" for p in self.added]
        return lines


def verify(built: dict, roots: dict[str, Path] | None = None, root: Path | None = None) -> Verification:
    """Compare the report's evidence manifest with the files as they are now."""
    recorded = {e["path"]: e["sha256"] for e in built["evidence"]}
    current: dict[str, str] = {}
    result = Verification(len(recorded), built["evidence_root"], evidence.root_digest(built["evidence"]), "")
    folders: dict[Path, set[str]] = {}
    for name, digest in sorted(recorded.items()):
        path = evidence.resolve(name, roots, root)
        folders.setdefault(path.parent, set()).add(path.suffix)
        if not path.is_file():
            result.missing.append(name)
            continue
        current[name] = evidence.sha256_file(path)
        if current[name] != digest:
            result.changed.append(name)
    # A file of a kind the gate reads that appeared beside the listed inputs is an input change too.
    listed = {evidence.resolve(name, roots, root).resolve() for name in recorded}
    for folder, suffixes in sorted(folders.items()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in suffixes and path.resolve() not in listed:
                name = evidence.label(path, root, roots)
                result.added.append(name)
                current[name] = evidence.sha256_file(path)
    result.current_root = evidence.root_digest([{"path": p, "sha256": current[p]} for p in sorted(current)])
    return result
