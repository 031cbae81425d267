"""Import a customer's CSV and XLSX exports into ``exports/`` pages shaped exactly like ServiceTitan's API.

Each sheet is matched to a profile of ``policies/intake.yaml``; rows stream into pages of at most
:data:`PAGE_SIZE` records, each page validated against ServiceTitan's published schema before it is written.
Pages are staged inside the tenant folder and moved into place only when every file imported cleanly, so a
bad file imports nothing. Every import writes ``evidence/export-receipt-<date>.md``.
"""

from __future__ import annotations

import difflib
import operator
import re
import shutil
from array import array
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

import orjson

from readiness.boundaries.data_boundaries import ExportFieldJudge
from readiness.core.evidence import sha256_file
from readiness.core.errors import PolicyError, TenantDataError
from readiness.intake import profiles as compiled
from readiness.intake.files import refuse_existing, write_new
from readiness.intake.profiles import EMPTY, CellError, Profile, normal
from readiness.intake.sources import IntakeError, Sheet, Workbook, column_letter
from readiness.servicetitan import openapi

PAGE_SIZE = 5000  # the most records ServiceTitan returns per page (pageSize 1-5000)
# A CSV this large (about 4,000 jobs) is imported column-wise when the columnar path takes it (columnar.py); below
# it, polars' import time (0.2 s) outweighs what it saves.
COLUMNAR_FROM_BYTES = 1_000_000
POLICY = "intake"
_PROBLEM = re.compile(r"^data\[(\d+)\](?:\.([A-Za-z0-9]+))?")
_STAGING = ".intake-staging"


@dataclass
class IntakePolicy:
    profiles: list[Profile]
    personal_data: list[tuple[re.Pattern, str]]
    export_fields: ExportFieldJudge  # data-boundaries.yaml: fields no export may hold (card, bank, SSN, notes)

    @classmethod
    def from_policies(cls, policies) -> "IntakePolicy":
        spec = policies[POLICY]
        found = []
        for index, profile in enumerate(spec["profiles"]):
            try:
                found.append(compiled.compile_profile(profile))
            except compiled.ProfileError as exc:
                raise policies.error(POLICY, ["profiles", index, *exc.parts], str(exc)) from None
            except openapi.UnknownOperation as exc:
                raise policies.error(POLICY, ["profiles", index, "export"], str(exc)) from None
        return cls(found, [(re.compile(rule["pattern"]), rule["what"]) for rule in spec["personal_data"]],
                   ExportFieldJudge(policies["data-boundaries"]))

    @property
    def kinds(self) -> list[str]:
        return sorted({p.kind for p in self.profiles})

    def kinds_by_export(self) -> dict[str, str]:
        return {p.export: p.kind for p in self.profiles}

    def refusal(self, heading: str) -> str | None:
        """Why a column is refused by its heading, or None: personal data (intake.yaml) or a field no export may
        hold (data-boundaries.yaml)."""
        text = normal(heading)
        what = next((what for pattern, what in self.personal_data if pattern.search(text)), None)
        if what:
            return f"holds {what}, which the product never imports (data minimization)"
        reason = self.export_fields.forbidden_because(heading)
        return f"is a field no export may hold: {reason} (data-boundaries.yaml)" if reason else None


@dataclass
class SheetImport:
    sheet: str
    profile: str
    export: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: list[str] = field(default_factory=list)
    path: str = "rows"  # or "columnar": which path imported the sheet (the pages are the same)
    deferred: str | None = None  # why the columnar path left a large CSV to the row path


@dataclass
class FileImport:
    name: str
    sha256: str
    kind: str  # csv or xlsx
    sheets: list[SheetImport] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    files: list[FileImport]
    written: list[Path]
    receipt: Path



def _sheet_key(name: str) -> str:
    return normal(name.replace("_", " ").replace("-", " "))


def _did_you_mean(wanted: Iterable[str], found: list[str]) -> str:
    for name in wanted:
        close = difflib.get_close_matches(name, found, n=1, cutoff=0.6)
        if close:
            return f"; did you mean sheet {close[0]!r} (expected {name!r})?"
    return ""


def _matched_columns(profile: Profile, headings: list[str]) -> int:
    keys = {normal(h) for h in headings}
    return sum(any(normal(h) in keys for h in leaf.headings) for leaf in profile.leaves)


def _by_headings(candidates: list[Profile], display: str, sheet: str, headings: list[str]) -> Profile:
    scored = sorted(((_matched_columns(p, headings), p.name, p) for p in candidates), key=lambda t: (-t[0], t[1]))
    best = scored[0][0]
    if best == 0 and len(candidates) > 1:  # with one layout named, its missing columns say more
        raise IntakeError(display, "no column matches an import layout (policies/intake.yaml); is this the "
                                   "customer's ServiceTitan export? name its layout with --kind", sheet=sheet)
    if len(scored) > 1 and scored[1][0] == best:
        names = ", ".join(p.name for score, _, p in scored if score == best)
        raise IntakeError(display, f"the columns fit several layouts ({names}); name one with --profile, or give "
                                   "the sheet or file the layout's name", sheet=sheet)
    return scored[0][2]


def plan_sheets(book: Workbook, candidates: list[Profile],
                kind: str | None) -> tuple[list[tuple[str, Profile, Sheet]], list[str]]:
    """Which sheet imports under which profile, and the sheets left out. An XLSX sheet is chosen by name (a
    one-sheet workbook needs no match); a CSV is one sheet named after the file."""
    names = book.sheet_names()
    by_sheet = {}
    for profile in candidates:
        for sheet in profile.sheets:
            by_sheet.setdefault(_sheet_key(sheet), []).append(profile)
    plan = [(name, by_sheet[_sheet_key(name)]) for name in names if _sheet_key(name) in by_sheet]
    if book.kind == "csv" or (len(names) == 1 and not plan):
        sheet = book.sheet(names[0])
        options = plan[0][1] if plan else candidates
        return [(names[0], _by_headings(options, book.display, names[0] if book.kind == "xlsx" else None,
                                         sheet.headings), sheet)], []
    if not plan:
        expected = sorted({s for p in candidates for s in p.sheets})
        what = f"--kind {kind}" if kind else "any import profile"
        raise IntakeError(book.display, f"no sheet this import takes: {what} reads a sheet named "
                                        f"{' or '.join(repr(s) for s in expected)}, the workbook has "
                                        f"{', '.join(repr(n) for n in names)}{_did_you_mean(expected, names)}",
                          sheet=names[0])
    chosen = []
    for name, options in plan:
        sheet = book.sheet(name)
        chosen.append((name, options[0] if len(options) == 1 else _by_headings(options, book.display, name,
                                                                                sheet.headings), sheet))
    taken = {name for name, _ in plan}
    return chosen, [name for name in names if name not in taken]


class _Columns:
    """Which column feeds each mapped field of a profile, from a sheet's heading row."""

    def __init__(self, profile: Profile, policy: IntakePolicy, display: str, sheet: str | None, headings: list[str]):
        position: dict[str, int] = {}
        for index, heading in enumerate(headings):
            if not heading:
                continue
            key = normal(heading)
            if key in position:
                raise IntakeError(display, f"heading {heading!r} appears twice (also column "
                                           f"{column_letter(position[key])}); keep one", sheet=sheet, row=1,
                                  column=column_letter(index), heading=heading)
            position[key] = index
        self.mapped: list[tuple[compiled.Leaf, int]] = []
        used = set()
        for leaf in profile.leaves:
            index = next((position[normal(h)] for h in leaf.headings if normal(h) in position), None)
            if index is None:
                parent = profile.parents.get(leaf.path[0][0])
                needed = leaf.required and (parent is None or parent[1])
                if needed:
                    raise IntakeError(display, f"missing required column {leaf.headings[1]!r} (ServiceTitan field "
                                               f"{leaf.field}; also accepted: "
                                               f"{', '.join(repr(h) for h in leaf.headings[2:]) or 'none'}); add it "
                                               f"or map its heading in policies/intake.yaml", sheet=sheet, row=1)
                continue
            self.mapped.append((leaf, index))
            used.add(index)
        explicit = {normal(h) for leaf in profile.leaves for h in leaf.headings[1:]}
        self.dropped = []
        for index, heading in enumerate(headings):
            if index in used or not heading:
                continue
            why = None if normal(heading) in explicit else policy.refusal(heading)
            if why:
                raise IntakeError(display, f"column {heading!r} {why}; delete the column and import again",
                                  sheet=sheet, row=1, column=column_letter(index), heading=heading)
            self.dropped.append(heading)
        self.headings = headings
        self.column_of = {leaf.path[0][0]: index for leaf, index in self.mapped}
        # Chosen once per sheet, applied to every row: the cells of the mapped columns in leaf order (padded for a
        # short row), one converter per cell, and which converted values are top-level fields or fill an object.
        self.cells = _picker([index for _, index in self.mapped])
        self.converters = [compiled.cell_converter(leaf) for leaf, _ in self.mapped]
        flat = [n for n, (leaf, _) in enumerate(self.mapped) if len(leaf.path) == 1]
        self.flat_fields = [self.mapped[n][0].path[0][0] for n in flat]
        self.flat_values = None if not flat else (lambda values: values) if len(flat) == len(self.mapped) \
            else _picker(flat)
        self.may_omit = any(compiled.may_be_left_out(self.mapped[n][0]) for n in flat)
        self.nested = [(n, leaf.path[0][0], leaf.path[1][0]) for n, (leaf, _) in enumerate(self.mapped)
                       if len(leaf.path) > 1]

    def values(self, row: list[Any], display: str, sheet: str | None, number: int) -> list[Any]:
        """The converted cells of one row, in leaf order; a cell that does not fit names its row and column."""
        if len(row) < len(self.headings):
            row = row + [None] * (len(self.headings) - len(row))
        try:
            return list(map(operator.call, self.converters, self.cells(row)))
        except CellError:
            for converter, (_, index) in zip(self.converters, self.mapped):
                try:
                    converter(row[index])
                except CellError as exc:
                    raise IntakeError(display, str(exc), sheet=sheet, row=number, column=column_letter(index),
                                      heading=self.headings[index]) from None
            raise


def _picker(indexes: list[int]) -> Callable[[list], tuple]:
    """The items at ``indexes`` as a tuple, in C (operator.itemgetter; one index gives a tuple too)."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*indexes)


def _record(profile: Profile, columns: _Columns, row: list[Any], display: str, sheet: str | None,
            number: int) -> dict[str, Any]:
    values = columns.values(row, display, sheet, number)
    if columns.flat_values is None:
        record = {}
    elif columns.may_omit:
        record = {top: value for top, value in zip(columns.flat_fields, columns.flat_values(values))
                  if value is not EMPTY}
    else:
        record = dict(zip(columns.flat_fields, columns.flat_values(values)))
    if columns.nested:
        nested: dict[str, dict[str, Any]] = {}
        for n, top, sub in columns.nested:
            nested.setdefault(top, {})[sub] = values[n]
        for top, fields in nested.items():
            nullable, required, listed = profile.parents[top]
            if all(v is None or v is EMPTY for v in fields.values()):
                if listed:
                    record[top] = []
                elif nullable:
                    record[top] = None
                elif required:
                    raise IntakeError(display, f"{top} is required but its columns are empty", sheet=sheet,
                                      row=number, column=column_letter(columns.column_of[top]))
                continue
            item = {key: value for key, value in fields.items() if value is not EMPTY}
            record[top] = [item] if listed else item
    for name, value in profile.defaults.items():
        record.setdefault(name, value)
    return record


class _PageWriter:
    """Pages of one export into the staging folder, each validated against the published schema as it is written."""

    def __init__(self, profile: Profile, staging: Path, display: str, sheet: str | None, columns: _Columns):
        self.profile, self.staging, self.display, self.sheet, self.columns = profile, staging, display, sheet, columns
        self.validator = openapi.PageValidator(profile.api_path)
        self.files: list[Path] = []

    def write(self, data: list[dict], rows: list[int], *, has_more: bool) -> None:
        envelope = self._envelope(has_more)
        for problem in self.validator.validate({**envelope, "data": data})[:1]:
            raise self._problem(problem, rows)
        # One record per line: readable, diffable, and encoded by orjson (UTF-8, several times json's speed).
        self._save(envelope, lambda handle: handle.write(b",".join(b"\n  " + orjson.dumps(record) for record in data)))

    def write_encoded(self, records: Callable[[BinaryIO], None], *, has_more: bool) -> None:
        """A page whose records ``records`` writes into the open page file, encoded as :meth:`write` encodes them
        (``\\n  record`` lines joined by ``,``). For the columnar path, which checks every value against the schema
        itself: nothing is checked here."""
        self._save(self._envelope(has_more), records)

    def discard(self) -> None:
        """Forget the pages written so far (the columnar path deferred to the row path)."""
        for page in self.files:
            page.unlink()
        self.files = []

    def _envelope(self, has_more: bool) -> dict[str, Any]:
        number = len(self.files) + 1
        if self.profile.envelope == "list":
            return {"page": number, "pageSize": PAGE_SIZE, "hasMore": has_more, "totalCount": None}
        marker = self.profile.export.rsplit("/", 1)[-1]
        return {"hasMore": has_more, "continueFrom": f"intake-{marker}-{number + 1:04d}"}

    def _save(self, envelope: dict[str, Any], records: Callable[[BinaryIO], None]) -> None:
        target = self.staging / self.profile.export / f"{len(self.files) + 1:04d}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            handle.write(orjson.dumps(envelope)[:-1] + b', "data": [')
            start = handle.tell()
            records(handle)
            handle.write(b"\n]}\n" if handle.tell() > start else b"]}\n")
        self.files.append(target)

    def _problem(self, problem: openapi.Problem, rows: list[int]) -> IntakeError:
        match = _PROBLEM.match(problem.json_path)
        if not match:
            return IntakeError(self.display, f"the imported page does not fit ServiceTitan's schema at "
                                             f"{problem.json_path}: {problem.message}; the profile "
                                             f"{self.profile.name!r} in policies/intake.yaml needs a default or a "
                                             "column for it", sheet=self.sheet)
        index, top = int(match.group(1)), match.group(2)
        column = self.columns.column_of.get(top) if top else None
        detail = problem.message if top else (f"{problem.message}: map a column to it or give it a default in "
                                              f"profile {self.profile.name!r} (policies/intake.yaml)")
        return IntakeError(self.display, f"{top + ': ' if top else ''}{detail} (ServiceTitan's published schema)",
                           sheet=self.sheet, row=rows[index],
                           column=column_letter(column) if column is not None else None,
                           heading=self.columns.headings[column] if column is not None else None)


class _IdIndex:
    """The ids of a sheet so far and the row of each, for the duplicate check. A hash table of 8-byte arrays (an id
    and its row, about 20 bytes a row) instead of a dict of Python ints (about 110): the only thing an import keeps
    per row, so memory stays nearly flat however long the file. An id that is no 64-bit integer (the schema
    refuses it when its page is validated) is kept in a dict."""

    _LOAD = 32  # ids per bucket (on average) before the table doubles; a bucket is searched in C

    def __init__(self):
        self._mask = 255
        self._ids = [array("q") for _ in range(self._mask + 1)]
        self._rows = [array("q") for _ in range(self._mask + 1)]
        self._count = 0
        self._others: dict[Any, int] = {}

    def add(self, ident: Any, row: int) -> int | None:
        """Record ``ident`` at ``row``; the row that had it first if it was seen before (then nothing changes)."""
        if type(ident) is not int or not -(1 << 63) <= ident < (1 << 63):
            earlier = self._others.get(ident)
            if earlier is None:
                self._others[ident] = row
            return earlier
        bucket = ident & self._mask
        ids = self._ids[bucket]
        if ident in ids:
            return self._rows[bucket][ids.index(ident)]
        ids.append(ident)
        self._rows[bucket].append(row)
        self._count += 1
        if self._count > self._LOAD * (self._mask + 1):
            self._grow()
        return None

    def _grow(self) -> None:
        mask = self._mask * 2 + 1
        ids, rows = [array("q") for _ in range(mask + 1)], [array("q") for _ in range(mask + 1)]
        for bucket_ids, bucket_rows in zip(self._ids, self._rows):
            for ident, row in zip(bucket_ids, bucket_rows):
                ids[ident & mask].append(ident)
                rows[ident & mask].append(row)
        self._mask, self._ids, self._rows = mask, ids, rows


def _import_sheet(profile: Profile, policy: IntakePolicy, book: Workbook, sheet: Sheet, display: str,
                  sheet_label: str | None, staging: Path) -> tuple[SheetImport, _PageWriter]:
    columns = _Columns(profile, policy, display, sheet_label, sheet.headings)
    result = SheetImport(sheet.name, profile.name, profile.export, dropped=columns.dropped)
    writer = _PageWriter(profile, staging, display, sheet_label, columns)
    if book.kind == "csv" and book.path.stat().st_size >= COLUMNAR_FROM_BYTES:
        from readiness.intake import columnar  # polars takes 0.2 s to import: only for a file large enough

        try:
            result.rows_in = result.rows_out = columnar.import_sheet(
                book.path, book.dialect, sheet.headings, profile, columns, writer, PAGE_SIZE)
            result.path = "columnar"
            return result, writer
        except columnar.Deferred as deferred:
            result.deferred = str(deferred)
            writer.discard()
    seen = _IdIndex()
    data, rows = [], []
    for number, values in sheet.rows:
        if len(data) == PAGE_SIZE:  # a row follows, so this page is not the last
            writer.write(data, rows, has_more=True)
            data, rows = [], []
        result.rows_in += 1
        record = _record(profile, columns, values, display, sheet_label, number)
        ident = record.get("id")
        earlier = seen.add(ident, number)
        if earlier is not None:
            id_column = columns.column_of["id"]
            raise IntakeError(display, f"duplicate id {ident}: row {earlier} has it too; each record "
                                       "appears once", sheet=sheet_label, row=number, column=column_letter(id_column),
                              heading=columns.headings[id_column])
        data.append(record)
        rows.append(number)
    if result.rows_in == 0:
        raise IntakeError(display, "no data rows below the heading row; export the report again",
                          sheet=sheet_label, row=2)
    writer.write(data, rows, has_more=False)
    result.rows_out = result.rows_in
    return result, writer


def _targets(tenant_dir: Path, export: str) -> list[Path]:
    return [tenant_dir / "exports" / f"{export}.json", tenant_dir / "exports" / export]


def import_files(tenant_dir: Path, sources: list[Path], policy: IntakePolicy, *, reviewed_by_role: str,
                 received_on: str | None = None, kind: str | None = None, profile: str | None = None,
                 force: bool = False) -> ImportResult:
    """Import every file or nothing; returns what was read and written."""
    if not (tenant_dir / "tenant.yaml").is_file():
        raise TenantDataError(tenant_dir, "not a tenant folder (no tenant.yaml); make one with "
                                          "python -m readiness tenant new")
    candidates = [p for p in policy.profiles if (kind is None or p.kind == kind) and (profile is None or
                                                                                        p.name == profile)]
    if not candidates:
        raise PolicyError(None, f"no import profile for --kind {kind} --profile {profile} in policies/intake.yaml")
    received_on = received_on or date.today().isoformat()
    staging = tenant_dir / _STAGING
    shutil.rmtree(staging, ignore_errors=True)
    results, writers = [], []
    try:
        for source in sources:
            if not source.is_file():
                raise IntakeError(source.name, "file not found" if not source.exists() else "not a regular file")
            done = FileImport(source.name, sha256_file(source), "")
            with Workbook(source) as book:
                done.kind = book.kind
                plan, done.ignored_sheets = plan_sheets(book, candidates, kind)
                for name, chosen, sheet in plan:
                    if not force:
                        refuse_existing(_targets(tenant_dir, chosen.export))
                    if any(w.profile.export == chosen.export for w in writers):
                        raise IntakeError(source.name, f"a second source for exports/{chosen.export}; import one "
                                                       "file per export", sheet=name if book.kind == "xlsx" else None)
                    sheet_import, writer = _import_sheet(chosen, policy, book, sheet, source.name,
                                                         name if book.kind == "xlsx" else None, staging)
                    done.sheets.append(sheet_import)
                    writers.append(writer)
            results.append(done)
        written = [_move_into_place(tenant_dir, writer) for writer in writers]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    receipt = _write_receipt(tenant_dir, results, reviewed_by_role, received_on)
    return ImportResult(results, written, receipt)


def _move_into_place(tenant_dir: Path, writer: _PageWriter) -> Path:
    single, folder = _targets(tenant_dir, writer.profile.export)
    if single.exists():
        single.unlink()
    if folder.exists():
        shutil.rmtree(folder)
    if len(writer.files) == 1:
        single.parent.mkdir(parents=True, exist_ok=True)
        writer.files[0].replace(single)
        return single
    folder.parent.mkdir(parents=True, exist_ok=True)
    writer.files[0].parent.replace(folder)
    return folder


def receipt_path(tenant_dir: Path, received_on: str) -> Path:
    """``evidence/export-receipt-<date>.md``; a second import the same day adds ``-2``, ``-3``, ... (never over)."""
    evidence = tenant_dir / "evidence"
    path, number = evidence / f"export-receipt-{received_on}.md", 1
    while path.exists():
        number += 1
        path = evidence / f"export-receipt-{received_on}-{number}.md"
    return path


def _write_receipt(tenant_dir: Path, results: list[FileImport], role: str, received_on: str) -> Path:
    path = receipt_path(tenant_dir, received_on)
    lines = [
        f"# Export receipt {received_on}",
        "",
        "Written by `python -m readiness import`. The files below were received from the customer and imported into",
        "`exports/` in ServiceTitan's published response shapes; nothing else was kept from them.",
        "",
        f"- Date received: {received_on}",
        f"- Reviewed by (customer role): {role}",
        "- Transfer: files supplied by the customer; no ServiceTitan login or connection was used by us",
        "",
        "## Files received",
        "",
        "| File | Sheet | SHA-256 | Rows in | Rows out | Imported into |",
        "|---|---|---|---|---|---|",
    ]
    for done in results:
        for sheet in done.sheets:
            lines.append(f"| `{done.name}` | {sheet.sheet if done.kind == 'xlsx' else '(CSV)'} | `{done.sha256}` | "
                         f"{sheet.rows_in} | {sheet.rows_out} | `exports/{sheet.export}` ({sheet.profile}) |")
    lines += ["", "## Columns dropped (no ServiceTitan field the product needs)", ""]
    for done in results:
        for sheet in done.sheets:
            dropped = ", ".join(f"`{h}`" for h in sheet.dropped) or "none"
            lines.append(f"- `{done.name}`{' [' + sheet.sheet + ']' if done.kind == 'xlsx' else ''}: {dropped}")
        if done.ignored_sheets:
            lines.append(f"- `{done.name}`: sheets not imported: {', '.join(done.ignored_sheets)}")
    write_new(path, "\n".join(lines) + "\n")
    return path
