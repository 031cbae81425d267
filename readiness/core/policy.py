"""The policy set: every ``policies/<name>.yaml`` validated against ``readiness/schemas/policies/<name>``.

A schema shipped in the library makes its policy file required: a policy
folder missing one fails closed instead of silently switching a rule off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.documents import YamlDocument, schema, schema_names
from readiness.core.errors import PolicyError, key_path


@dataclass
class PolicySet:
    folder: Path
    documents: dict[str, YamlDocument] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | str) -> "PolicySet":
        folder = Path(folder)
        if not folder.is_dir():
            raise PolicyError(folder, "policy folder not found")
        known = schema_names("policies")
        unknown = sorted(p.name for p in folder.glob("*.yaml") if p.stem not in known)
        if unknown:
            raise PolicyError(folder / unknown[0], f"no schema for this policy (known policies: {', '.join(known)})")
        policies = cls(folder)
        for name in known:
            document = YamlDocument(folder / f"{name}.yaml", PolicyError)
            document.validate(schema(f"policies/{name}"))
            policies.documents[name] = document
        return policies

    def __getitem__(self, name: str) -> Any:
        return self.documents[name].data

    def path(self, name: str) -> Path:
        return self.documents[name].path

    def line_of(self, name: str, parts) -> int | None:
        return self.documents[name].line_of(parts)

    @property
    def files(self) -> list[Path]:
        return [doc.path for _, doc in sorted(self.documents.items())]

    @property
    def digest(self) -> str:
        """One hash over every policy file: reports made under different policies are not comparable."""
        h = hashlib.sha256()
        for path in self.files:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()

    def error(self, name: str, parts, message: str) -> PolicyError:
        """A cross-reference problem found after schema validation, located like a schema error."""
        return PolicyError(self.path(name), message, key=key_path(parts), line=self.line_of(name, parts))
