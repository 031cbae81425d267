"""Export conformance: every recorded body under a tenant's ``exports/`` against ServiceTitan's published schema.

``exports/<module>/<path>.json`` is the body of ``GET /<module>/v2/tenant/{tenant}/<path>``; a folder whose files
are all numbered pages (``0001.json`` ...) stands for one path, each page one body (fixtures/README.md 1.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from readiness.core import exportfeed
from readiness.core.errors import TenantDataError, relative
from readiness.servicetitan import openapi


@dataclass(frozen=True)
class Nonconformity:
    file: Path
    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{relative(self.file)}: {self.json_path}: {self.message}"


def recorded_bodies(tenant_dir: Path) -> Iterator[tuple[Path, str]]:
    """``(page file, export path)`` for every body under ``exports/``, pages of one path in number order."""
    exports = tenant_dir / "exports"
    if not exports.is_dir():
        return
    for export_path in exportfeed.recorded_paths(exports):
        for file in exportfeed.page_files(exports, export_path):
            yield file, export_path


def check_tenant(tenant_dir: Path) -> tuple[int, list[Nonconformity]]:
    """How many bodies were read, and every way they depart from the published schemas."""
    if not (tenant_dir / "tenant.yaml").is_file():
        raise TenantDataError(tenant_dir, "not a tenant folder (no tenant.yaml)")
    count, found = 0, []
    for file, export_path in recorded_bodies(tenant_dir):
        count += 1
        try:
            body = json.loads(file.read_bytes())
        except (ValueError, OSError) as exc:
            found.append(Nonconformity(file, "(file)", f"unreadable JSON: {exc}"))
            continue
        for problem in openapi.validate_body(openapi.api_path(export_path), "GET", 200, body):
            found.append(Nonconformity(file, problem.json_path, problem.message))
    return count, found
