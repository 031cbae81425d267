"""Tenant sources: where a tenant's profile, Titan Map, exports, leads and queue come from.

``FixtureTenant`` reads the documented folder layout (see ``fixtures/README.md``).
Other sources (the simulator, the integration sandbox) offer the same interface,
so every check runs unchanged against any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, TypeVar

from readiness.core import exportfeed
from readiness.core.documents import (YamlDocument, iter_json_lines, json_line_position, read_json, schema,
                                      validate_data)
from readiness.core.errors import OptionError, ReadinessError, TenantDataError

T = TypeVar("T")
# Each JSON Lines file of the documented layout and its schema (readiness/schemas/tenant/). Which keys a lead or a
# queue item may carry is its envelope (policies/envelopes.yaml): a key outside it is that scenario's finding.
JSON_LINES = {
    "leads/submissions.jsonl": ("tenant/lead-submission", True),
    "leads/consent.jsonl": ("tenant/consent", False),
    "queue/sync-queue.jsonl": ("tenant/queue-item", True),
}
FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)^---\s*$", re.S | re.M)


class TenantSource(Protocol):
    slug: str

    @property
    def profile(self) -> dict[str, Any]: ...

    @property
    def titan_map(self) -> dict[str, Any]: ...

    def export_pages(self, api_path: str) -> list[dict[str, Any]]: ...

    def submissions(self) -> list[dict[str, Any]]: ...

    def queue_items(self) -> list[dict[str, Any]]: ...


@dataclass
class FixtureTenant:
    """A tenant folder: ``tenant.yaml``, ``titan-map.yaml``, ``exports/``, ``leads/``, ``queue/``, ``evidence/``."""

    folder: Path
    _kept: dict[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def slug(self) -> str:
        return self.folder.name

    def hold(self) -> None:
        """From now until ``forget``, what ``derived`` computes is kept (why: docs/scale.md, "A held tenant")."""
        if self._kept is None:
            self._kept = {}

    def forget(self) -> None:
        """Let go of everything kept since ``hold``; asked again, it is computed again."""
        self._kept = None

    def derived(self, key: Any, compute: Callable[[], T]) -> T:
        """What ``compute`` makes of this tenant's files, computed once while the tenant is held; read-only."""
        if self._kept is None:
            return compute()
        if key not in self._kept:
            self._kept[key] = compute()
        return self._kept[key]

    def _json(self, path: Path) -> Any:
        return self.derived(("json", path), lambda: read_json(path, TenantDataError))

    def _json_lines(self, path: Path) -> list[tuple[int, Any]]:
        return self.derived(("json lines", path), lambda: self._read_json_lines(path))

    def _read_json_lines(self, path: Path) -> list[tuple[int, Any]]:
        """Every record of a JSON Lines file, each checked against its file's schema with its line and column."""
        contract = JSON_LINES.get(path.relative_to(self.folder).as_posix())
        records = list(iter_json_lines(path, TenantDataError))
        if contract is not None:
            name, envelope_keys = contract
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, record in records:
                validate_data(record, schema(name), path, TenantDataError,
                              json_line_position(lines[number - 1], number), allow_unknown_keys=envelope_keys)
        return records

    @cached_property
    def profile_document(self) -> YamlDocument:
        document = YamlDocument(self.folder / "tenant.yaml", TenantDataError)
        document.validate(schema("tenant/tenant"))
        return document

    @property
    def profile(self) -> dict[str, Any]:
        return self.profile_document.data

    @cached_property
    def titan_map_document(self) -> YamlDocument:
        """Parsed only: the pre-flight checks it against its schema before any scenario reads it."""
        return YamlDocument(self.folder / "titan-map.yaml", TenantDataError)

    @property
    def titan_map(self) -> dict[str, Any]:
        return self.titan_map_document.data

    @property
    def exports(self) -> Path:
        """The recorded ServiceTitan exports (``readiness.core.exportfeed`` reads them)."""
        return self.folder / "exports"

    def export_file(self, api_path: str) -> Path:
        """``jpm/job-types`` -> ``exports/jpm/job-types.json`` (or the folder of numbered pages)."""
        return self.folder / "exports" / f"{api_path}.json"

    def has_export(self, api_path: str) -> bool:
        return exportfeed.has_export(self.exports, api_path)

    def export_pages(self, api_path: str) -> list[dict[str, Any]]:
        """Every recorded body of ``GET /<module>/v2/tenant/{tenant}/<path>``, in page order (``exportfeed.page_files``
        finds and orders them, as for every other reader of the exports)."""
        return [self._export_body(file) for file in exportfeed.page_files(self.exports, api_path)]

    def export_records(self, api_path: str) -> Iterator[dict[str, Any]]:
        for page in self.export_pages(api_path):
            yield from page["data"]

    def numbered(self, relative: str) -> list[tuple[int, dict[str, Any]]]:
        """``(line, record)`` for each record of a JSON Lines file of the tenant (none when it does not exist)."""
        path = self.folder / relative
        return self._json_lines(path) if path.exists() else []

    def _jsonl(self, relative: str) -> list[dict[str, Any]]:
        return [record for _, record in self.numbered(relative)]

    def submissions(self) -> list[dict[str, Any]]:
        return self._jsonl("leads/submissions.jsonl")

    def queue_items(self) -> list[dict[str, Any]]:
        return self._jsonl("queue/sync-queue.jsonl")

    def files(self) -> list[Path]:
        return self.derived("files", lambda: sorted(p for p in self.folder.rglob("*") if p.is_file()))

    def preflight(self) -> list[ReadinessError]:
        """Read and check every file of the tenant once, before any scenario judges it: one error per broken file
        (file:line:column, key, what is wrong and how to fix it); an empty list when the tenant loads."""
        problems = []
        for path, check in self._contract():
            try:
                check(path)
            except ReadinessError as error:
                if not path.exists():
                    error = TenantDataError(path, "file not found; every tenant folder needs one (fixtures/README.md)")
                problems.append(error)
        return problems

    def _contract(self) -> Iterator[tuple[Path, Callable[[Path], Any]]]:
        yield self.folder / "tenant.yaml", lambda _: self.profile
        yield self.folder / "titan-map.yaml", lambda _: self.titan_map_document.validate(schema("tenant/titan-map"))
        for path in self.files():
            relative = path.relative_to(self.folder)
            if relative.parts[0] == "exports" and path.suffix == ".json":
                yield path, self._export_body
            elif path.suffix == ".jsonl":
                yield path, self._json_lines
            elif relative.parts[0] == "evidence" and path.suffix == ".md":
                yield path, self._front_matter
            elif path.suffix in (".yaml", ".yml") and relative.as_posix() not in ("tenant.yaml", "titan-map.yaml"):
                yield path, lambda p: YamlDocument(p, TenantDataError)

    def _export_body(self, path: Path) -> dict[str, Any]:
        """One recorded response body: ServiceTitan's response object, with its 'data' list."""
        body = self._json(path)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            found = "a list" if isinstance(body, list) else (
                "an object without a 'data' list" if isinstance(body, dict) else "not an object")
            raise TenantDataError(path, "an export body is ServiceTitan's response object with a 'data' list, this "
                                        "is {found}; save the response body unchanged".format(found=found),
                                  line=1, column=1)
        return body

    def _front_matter(self, path: Path) -> dict | None:
        """An evidence note's YAML front matter (between two ``---`` lines at its top), checked; None without one."""
        match = FRONT_MATTER.match(path.read_text(encoding="utf-8", errors="replace"))
        if match is None:
            return None
        document = YamlDocument(path, TenantDataError, text=match.group(1), first_line=2)
        return document.validate(schema("tenant/evidence-note"))

    def check_readable(self) -> None:
        """Raise the first problem ``preflight`` finds, for callers that judge one tenant outside a gate run."""
        problems = self.preflight()
        if problems:
            raise problems[0]


class ApiTenant:
    """A tenant whose ServiceTitan side is what the API answered in this run: exports are the records fetched
    (``api path -> records``); the website's own side (profile, Titan Map, leads, queue) stays the local
    tenant's. Drift and attribution judge it exactly like a :class:`FixtureTenant`."""

    def __init__(self, local: FixtureTenant, records: dict[str, list[dict[str, Any]]], origin: str):
        self.local = local
        self.exports = exportfeed.RecordSet(records, origin)

    @property
    def folder(self) -> Path:
        return self.local.folder

    @property
    def profile(self) -> dict[str, Any]:
        return self.local.profile

    @property
    def titan_map_document(self) -> YamlDocument:
        return self.local.titan_map_document

    @property
    def titan_map(self) -> dict[str, Any]:
        return self.local.titan_map

    def submissions(self) -> list[dict[str, Any]]:
        return self.local.submissions()

    def numbered(self, relative: str) -> list[tuple[int, dict[str, Any]]]:
        return self.local.numbered(relative)


def discover(tenants_dir: Path | str, names: list[str] | None = None) -> list[FixtureTenant]:
    """The tenants to judge: every folder with a ``tenant.yaml``, or exactly the ones named."""
    tenants_dir = Path(tenants_dir)
    if not tenants_dir.is_dir():
        raise OptionError(f"--tenants-dir {tenants_dir}: folder not found")
    available = sorted(p.parent.name for p in tenants_dir.glob("*/tenant.yaml"))
    if names:
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise OptionError(
                f"--tenant {unknown[0]}: no such tenant in {tenants_dir} (available: {', '.join(available) or 'none'})"
            )
        available = sorted(set(names))
    return [FixtureTenant(tenants_dir / slug) for slug in available]
