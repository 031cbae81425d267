"""Tenant sources: where a tenant's profile, Titan Map, exports, leads and queue come from.

``FixtureTenant`` reads the documented folder layout (see ``fixtures/README.md``).
Other sources (the simulator, the integration sandbox) offer the same interface,
so every check runs unchanged against any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, TypeVar

from readiness.core import exportfeed
from readiness.core.documents import YamlDocument, iter_json_lines, read_json, schema
from readiness.core.errors import OptionError, TenantDataError

T = TypeVar("T")


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
        return self.derived(("json lines", path), lambda: list(iter_json_lines(path, TenantDataError)))

    @cached_property
    def profile(self) -> dict[str, Any]:
        return YamlDocument(self.folder / "tenant.yaml", TenantDataError).validate(schema("tenant/tenant"))

    @cached_property
    def titan_map_document(self) -> YamlDocument:
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
        pages = []
        for file in exportfeed.page_files(self.exports, api_path):
            body = self._json(file)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise TenantDataError(file, "an export body must be an object with a 'data' list")
            pages.append(body)
        return pages

    def export_records(self, api_path: str) -> Iterator[dict[str, Any]]:
        for page in self.export_pages(api_path):
            yield from page["data"]

    def _jsonl(self, relative: str) -> list[dict[str, Any]]:
        path = self.folder / relative
        if not path.exists():
            return []
        return [record for _, record in self._json_lines(path)]

    def submissions(self) -> list[dict[str, Any]]:
        return self._jsonl("leads/submissions.jsonl")

    def queue_items(self) -> list[dict[str, Any]]:
        return self._jsonl("queue/sync-queue.jsonl")

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())

    def check_readable(self) -> None:
        """Parse every data file once so a malformed one fails this tenant closed with its location."""
        self.profile
        self.titan_map
        for path in self.files():
            relative = path.relative_to(self.folder)
            if relative.parts[0] == "exports" and path.suffix == ".json":
                self._json(path)
            elif path.suffix == ".jsonl":
                self._json_lines(path)
            elif path.suffix in (".yaml", ".yml") and relative.as_posix() not in ("tenant.yaml", "titan-map.yaml"):
                YamlDocument(path, TenantDataError)  # the profile and Titan Map were parsed just above


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
