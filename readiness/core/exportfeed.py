"""Streaming reads of a tenant's recorded ServiceTitan export pages, with errors that name file and record.

Large tenants hold millions of records, so pages are parsed one file at a time
(``json.loads`` per page) and callers keep only the few fields they need. Every
value a check relies on is validated here: a wrong type, a duplicate id, an
amount that is not a number or a date in another format becomes a
:class:`TenantDataError` naming the page file and the record, never a traceback
or a silent pass.
"""

from __future__ import annotations

import gc
import json
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

from readiness.core.errors import TenantDataError

_PAGE = re.compile(r"^\d+\.json$")
# ServiceTitan writes UTC date-times as ISO 8601 (``2026-11-04T17:15:00Z``, fractions and offsets allowed).
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?(?:Z|[+-]\d\d:\d\d)?$")


def page_files(root: Path, api_path: str) -> list[Path]:
    """``<root>/<api_path>.json``, or the numbered pages in ``<root>/<api_path>/`` in order.

    ``root`` is a tenant's ``exports/`` folder or a snapshot folder of the same layout.
    """
    single = root / f"{api_path}.json"
    pages = root / api_path
    if single.is_file():
        return [single]
    if pages.is_dir():
        files = sorted((p for p in pages.iterdir() if _PAGE.match(p.name)), key=lambda p: int(p.stem))
        if files:
            return files
        raise TenantDataError(pages, "export folder holds no numbered page files (0001.json, 0002.json, ...)")
    raise TenantDataError(single, "export not found")


class RecordSet:
    """Export records already in memory, read like an ``exports/`` folder: one page per api path.

    The sandbox protocol imports a tenant's taxonomy and outcomes through the API and judges them with the same
    drift and attribution code as recorded exports; ``origin`` names where the records came from in errors.
    """

    def __init__(self, records: dict[str, list], origin: str):
        self.records = records
        self.origin = origin

    def path(self, api_path: str) -> Path:
        return Path(self.origin) / api_path


def recorded_paths(root: Path) -> list[str]:
    """Every export path recorded under ``root``: each ``<path>.json``, and each folder whose files are all
    numbered pages (``<path>/0001.json`` ...); read each one's bodies with ``page_files``."""
    paths = set()
    for file in root.rglob("*.json"):
        relative = file.relative_to(root)
        pages = _PAGE.match(file.name) and all(_PAGE.match(p.name) for p in file.parent.glob("*.json"))
        paths.add((relative.parent if pages else relative.with_suffix("")).as_posix())
    return sorted(paths)


def location(root: Path | RecordSet, api_path: str) -> Path:
    """Where an export is (or would be), for error messages."""
    return root.path(api_path) if isinstance(root, RecordSet) else root / f"{api_path}.json"


def has_export(root: Path | RecordSet, api_path: str) -> bool:
    if isinstance(root, RecordSet):
        return api_path in root.records
    pages = root / api_path
    # a page folder without a numbered page holds no export: it is missing, not unreadable
    return (root / f"{api_path}.json").is_file() or (pages.is_dir() and any(_PAGE.match(p.name) for p in pages.iterdir()))


def read_page(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise TenantDataError(path, f"invalid JSON (truncated or corrupt page?): {exc.msg} (column {exc.colno})",
                              line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise TenantDataError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise TenantDataError(path, f"cannot read: {exc.strerror}") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise TenantDataError(path, "an export body must be an object with a 'data' list")
    return body


def iter_pages(root: Path | RecordSet, api_path: str) -> Iterator[tuple[Path, list]]:
    """``(page file, data list)`` per page, one page in memory at a time; callers check each record is an object
    (see :func:`not_an_object`).

    The last page must say ``hasMore: false``: otherwise pages are missing and totals would be silently short.
    """
    if isinstance(root, RecordSet):
        if api_path not in root.records:
            raise TenantDataError(root.path(api_path), "not imported")
        yield root.path(api_path), root.records[api_path]
        return
    files = page_files(root, api_path)
    for number, path in enumerate(files, start=1):
        body = read_page(path)
        data = body["data"]
        yield path, data
        if number == len(files) and body.get("hasMore") is True:
            raise TenantDataError(path, "last page says hasMore: true, so later pages are missing")
        del body, data


def iter_records(root: Path | RecordSet, api_path: str) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """``(page file, index in data, record)`` for every record (see :func:`iter_pages`)."""
    for path, data in iter_pages(root, api_path):
        for index, record in enumerate(data):
            if type(record) is not dict:
                not_an_object(path, index)
            yield path, index, record


def not_an_object(path: Path, index: int) -> None:
    raise TenantDataError(path, "each record must be an object", key=f"data[{index}]")


@contextmanager
def bulk_load():
    """Pause the cyclic garbage collector while millions of acyclic records (parsed JSON) stream through
    (why: docs/scale.md, "Export feeds pause the cyclic garbage collector")."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def where(index: int, record: dict) -> str:
    """How an error points at a record: ``data[3] (id 28001)``."""
    ident = record.get("id")
    return f"data[{index}]" + (f" (id {ident})" if isinstance(ident, int) else "")


def need_int(path: Path, index: int, record: dict, field: str, *, optional: bool = False) -> int | None:
    value = record.get(field)
    if type(value) is int:
        return value
    if value is None and optional:
        return None
    problem = "missing" if value is None else f"must be an integer id, not {json.dumps(value)[:40]}"
    raise TenantDataError(path, f"{field} {problem}", key=where(index, record))


def need_str(path: Path, index: int, record: dict, field: str, *, optional: bool = False) -> str | None:
    value = record.get(field)
    if type(value) is str:
        return value
    if value is None and optional:
        return None
    problem = "missing" if value is None else f"must be text, not {json.dumps(value)[:40]}"
    raise TenantDataError(path, f"{field} {problem}", key=where(index, record))


def need_bool(path: Path, index: int, record: dict, field: str) -> bool:
    value = record.get(field, True)
    if type(value) is bool:
        return value
    raise TenantDataError(path, f"{field} must be true or false, not {json.dumps(value)[:40]}", key=where(index, record))


def need_date_time(path: Path, index: int, record: dict, field: str, *, optional: bool = False) -> str | None:
    value = record.get(field)
    if type(value) is str and DATE_TIME.match(value):
        return value
    if value is None and optional:
        return None
    problem = "missing" if value is None else f"must be an ISO 8601 date-time like 2026-11-04T17:15:00Z, not {json.dumps(value)[:40]}"
    raise TenantDataError(path, f"{field} {problem}", key=where(index, record))


def money(path: Path, key: str, field: str, value: Any, *, optional: bool = False) -> Decimal:
    """A ServiceTitan amount as a Decimal. Amounts come as strings ("249.00"); never through float."""
    if value is None and optional:
        return Decimal(0)
    if type(value) is str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = None
        if amount is not None and amount.is_finite():
            return amount
    elif type(value) is int:
        return Decimal(value)
    raise TenantDataError(path, f"{field} must be an amount like \"249.00\", not {json.dumps(value)[:40]}", key=key)


def is_date_time(value: Any) -> bool:
    return type(value) is str and bool(DATE_TIME.match(value))


def epoch(value: str) -> float:
    """Seconds since 1970 of a validated date-time; one without offset is read as UTC, as ServiceTitan means it."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def duplicate(path: Path, index: int, record: dict, ident: int) -> None:
    raise TenantDataError(path, f"duplicate id {ident}: it appears earlier in this export", key=where(index, record))


class UniqueIds(set):
    """Ids already seen in one export, so a duplicate is an error naming the file and record (a set: millions fit)."""

    def add_once(self, path: Path, index: int, record: dict, ident: int) -> None:
        if ident in self:
            duplicate(path, index, record, ident)
        self.add(ident)
