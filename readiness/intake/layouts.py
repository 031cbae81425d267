"""The documented layouts: API records written out as the CSV or XLSX a profile reads (its first heading per field).

Used to show an operator what a layout looks like (docs/intake.md), by the round-trip proof and by the benchmark.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from readiness.intake.profiles import Leaf, Profile, _date_time

_MISSING = object()


def headings(profile: Profile) -> list[str]:
    return [leaf.headings[1] for leaf in profile.leaves]


def _lookup(record: dict, leaf: Leaf) -> Any:
    value: Any = record
    for prop, listed in leaf.path:
        if not isinstance(value, dict) or prop not in value:
            return _MISSING
        value = value[prop]
        if listed:
            if not value:
                return _MISSING
            value = value[0]
    return value


def cell(leaf: Leaf, record: dict, *, for_xlsx: bool) -> Any:
    """The cell a customer's file would hold for this field (None: empty)."""
    value = _lookup(record, leaf)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool):
        return value if for_xlsx else ("TRUE" if value else "FALSE")
    if isinstance(value, list) and all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in value):
        return "; ".join(str(v) for v in value) if value else None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if for_xlsx and isinstance(value, str) and leaf.convert is _date_time:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    return value


def write_csv(path: Path, profile: Profile, records: Iterable[dict], *, delimiter: str = ",", bom: bool = False) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(headings(profile))
        for record in records:
            writer.writerow(["" if (v := cell(leaf, record, for_xlsx=False)) is None else v for leaf in profile.leaves])


def write_xlsx(path: Path, sheets: Iterable[tuple[str, Profile, Iterable[dict]]]) -> None:
    """One workbook, a sheet per ``(sheet name, profile, records)``, written in openpyxl's streaming mode."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, profile, records in sheets:
        sheet = book.create_sheet(name)
        sheet.append(headings(profile))
        for record in records:
            sheet.append([cell(leaf, record, for_xlsx=True) for leaf in profile.leaves])
    book.save(path)
