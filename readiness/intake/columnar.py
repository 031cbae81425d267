"""The columnar path of a CSV import: the same import as the row path (``importer``), a column at a time in polars.

Why: the row path spends Python calls on every cell (about 30 µs a row for a job), 14x what ``csv.reader`` takes
to split the file. Here the file is read 4 MiB of whole records at a time (memory does not grow with the
file), polars parses each block and builds every record's JSON text with vectorised string expressions (each
column converted as the profile's field type says and checked against the published schema: type, int32/int64
range, date-time, enum, required), and the pages are written by polars too. polars' own JSON writer is not used:
building the text is twice as fast, and for the values this path writes the text is byte for byte orjson's
(integers as written, floats in the shortest form that reads back the same, text with no character to escape).

The same import, not a second one: the sheet's columns are chosen, refused and dropped by the row path's own
``importer._Columns`` (the same policy data, the same one-line errors), the same page writer writes the pages,
the receipt is the same, and every value written is the one the row path's converters give that cell. The path
takes only what it can answer exactly; anything else raises :class:`Deferred`, and the row path imports the
sheet from its first row, which imports it or names file, row and column as before. Deferred before any row:

- a profile that fills an object or list item from several columns (campaigns, pricebook services, invoices,
  payments), that has no id column, or whose field is not the JSON type its converter gives;
- a CSV dialect other than ``"``-quoted fields without space skipping, or a heading row polars reads differently.

Deferred while reading, for any cell of the sheet (a batch with a cell outside the quick pass's common forms is
read again by the thorough pass, which takes the other forms below; what neither takes defers):

- a cell this path does not convert: a JSON cell that is not empty, a list of whole numbers with an item other
  than plain digits, a date other than
  ``2026-11-04T17:15:00Z`` or a whole Excel serial (``11/04/2026 5:15 PM``, fractional serials, offsets go the row
  path), a whole number other than ``-?digits(.0+)`` in spaces, an amount other than digits with ``$``, ``,``,
  ``.`` and an exponent, a boolean other than the spelled words (``TRUE``, ``Active``, ``no``, ``x``...);
- a cell that does not convert, an int32 out of range, a value outside its enum, an empty cell the schema refuses
  (a required number, flag or date; an enum), an id seen twice, no data rows;
- a carriage return not followed by a line feed (a row end for ``csv.reader``, not for polars), a row longer than
  the heading row or a block whose first row is shorter, quoting polars refuses, text that is not UTF-8.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterator

import orjson

from readiness.intake import profiles as compiled
from readiness.intake.polars_allocator import polars as pl  # polars with its allocator set to one arena
from readiness.intake.profiles import EMPTY, CellError, Leaf, Profile
from readiness.servicetitan import openapi

_BLOCK = 4 << 20  # bytes of the file read at a time: about 20,000 jobs (four pages)
ID, ODD, LINE = "__id", "__odd", "__line"  # a batch's ids, whether each row holds an odd cell, its record as JSON
_EMPTY = r"^[\s\x1c-\x1f]*$"  # the row path's empty cell: "" or str.isspace(), which is Rust's \s plus U+001C-F
_WHOLE = r"^\s*-?[0-9]+(\.0+)?\s*$"
_AMOUNT = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
_ISO_UTC = (r"^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$")  # as RFC 3339 has it (no year 0000, no leap second)
_SERIAL = r"^[0-9]{1,7}$"  # a whole Excel serial written as text (1 .. 2958465: 1900-01-01 .. 9999-12-31)
_ESCAPED = r'["\\\x00-\x1f]'  # what orjson escapes in text: a quote, a backslash, a control character
_ESCAPES = {"\\": "\\\\", '"': '\\"', **{chr(c): orjson.dumps(chr(c)).decode()[1:-1] for c in range(32)}}
_JSON_TYPE = {compiled._integer: "integer", compiled._number: "number", compiled._boolean: "boolean",
              compiled._text: "string", compiled._date_time: "string"}
_EMPTY_ONLY = {compiled._json}
_LISTS = {compiled._integer_list: "integer", compiled._text_list: "string"}  # the JSON type of their items
_WORDS = {word: "true" if word in compiled._TRUE else "false" for word in compiled._TRUE | compiled._FALSE if word}
_SPELLED_WORDS = {spelling: "true" if truth else "false" for spelling, truth in compiled._SPELLED.items() if spelling}


class Deferred(Exception):
    """The columnar path does not take this sheet; the row path imports it. The message says why."""


def _quoted(text: pl.Expr) -> pl.Expr:
    return pl.concat_str(pl.lit('"'), text, pl.lit('"'))


def _column(leaf: Leaf, schema: dict, cell: pl.Expr, thorough: bool,
            may_omit: bool) -> tuple[list, pl.Expr, pl.Expr | None, pl.Expr]:
    """One column's cells as pieces of JSON text (literal strings and expressions; together what orjson writes for
    the row path's value), whether each cell is odd (the row path must answer it), the numbers of an integer
    column, and whether each cell is empty. ``cell`` is null for an empty cell. The quick pass takes the common
    form of each type in few operations; the thorough one, run on a batch where the quick pass found an odd cell,
    every form this path takes. A row with an odd cell is never written, so its text does not matter."""
    try:
        filled = compiled.fill_empty(leaf)
    except CellError:
        filled = EMPTY
    # An empty cell the row path refuses, or that fills a value the schema refuses (an enum holds neither "" nor
    # null, a required date-time is never ""), makes the row odd; one that leaves the field out is written as
    # nothing when the caller can leave it out.
    refused = "enum" in schema or (filled == "" and leaf.convert is compiled._date_time)
    writable = (filled is not EMPTY and not refused) or (filled is EMPTY and may_omit)
    filled = None if filled is EMPTY else filled
    empty_text = orjson.dumps(filled).decode()
    number, pieces = None, None
    convert = leaf.convert
    if convert in _EMPTY_ONLY:  # JSON text: only its empty cell is answered here
        text, fits, pieces = None, pl.lit(False), [empty_text]
    elif convert in (compiled._integer_list, compiled._text_list):  # items split at ";", else "|", else ","
        separator = (pl.when(cell.str.contains(";", literal=True)).then(pl.lit(";"))
                     .when(cell.str.contains("|", literal=True)).then(pl.lit("|")).otherwise(pl.lit(",")))
        items = cell.str.split(separator).list.eval(pl.element().str.strip_chars()) \
            .list.eval(pl.element().filter(pl.element() != ""))
        strippable = ~cell.str.contains(r"[\x1c-\x1f]")  # Python strips these around an item, polars does not
        if convert is compiled._integer_list:  # plain digits only, each as orjson writes it
            plain = pl.element().cast(pl.Int64, strict=False).is_not_null() & ~(
                pl.element().str.starts_with("+") | pl.element().str.starts_with("-0")
                | (pl.element().str.starts_with("0") & (pl.element().str.len_bytes() > 1)))
            fits = strippable & items.list.eval(plain).list.all()
            text = pl.concat_str(pl.lit("["), items.list.join(","), pl.lit("]"))
        else:
            quoted = items.list.eval(_quoted(pl.element().str.replace_many(_ESCAPES)))
            fits = strippable
            text = pl.concat_str(pl.lit("["), quoted.list.join(","), pl.lit("]"))
    elif convert is compiled._integer:
        if thorough:
            number = cell.str.strip_chars().str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
            fits = cell.str.contains(_WHOLE) & number.is_not_null()
            text = number.cast(pl.String)
        else:  # digits as orjson writes the number (no sign "+", no leading zero): the cell is its own text
            number = cell.cast(pl.Int64, strict=False)  # digits with an optional sign
            fits = number.is_not_null() & ~(cell.str.starts_with("+") | cell.str.starts_with("-0")
                                             | (cell.str.starts_with("0") & (cell.str.len_bytes() > 1)))
            text = cell
        if schema.get("format") == "int32":
            fits = fits & number.is_between(-(1 << 31), (1 << 31) - 1)
    elif convert is compiled._number:  # polars' float text is orjson's (the shortest that reads back the same)
        amount = cell.str.strip_chars().str.replace_all(",", "", literal=True).str.strip_chars_start("$") \
            if thorough else cell
        converted = amount.cast(pl.Float64, strict=False)
        # What polars reads as a finite number, Decimal() reads as the same number (the tests generate the forms);
        # the thorough pass also spells out the form it takes.
        fits = converted.is_finite() & (amount.str.contains(_AMOUNT) if thorough else pl.lit(True))
        text = converted.cast(pl.String)
    elif convert is compiled._boolean:
        word = cell.str.strip_chars().str.to_lowercase() if thorough else cell
        spelled = _WORDS if thorough else _SPELLED_WORDS
        text = word.replace_strict(spelled, default=None, return_dtype=pl.String)
        fits = text.is_not_null()
    elif convert is compiled._date_time:
        real_day = cell.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).is_not_null()  # not 2026-02-30
        is_iso = cell.str.contains(_ISO_UTC) & real_day
        if thorough:
            serial = cell.cast(pl.Int64, strict=False)
            is_serial = cell.str.contains(_SERIAL) & serial.is_between(1, 2958465)
            as_date = (pl.date(1899, 12, 30) + pl.duration(days=serial)).dt.strftime("%Y-%m-%dT00:00:00Z")
            text = _quoted(pl.when(is_iso).then(cell).otherwise(as_date))
            fits = is_iso | is_serial
        else:
            text, fits = None, is_iso
            pieces = ['"', cell, '"'] if not writable else [_quoted(cell).fill_null(empty_text)]
    elif thorough:  # text, as written
        text, fits = _quoted(cell.str.replace_many(_ESCAPES)), pl.lit(True)
    else:  # orjson writes it between quotes as it is; a leading space might make the cell empty
        leading_space = cell.str.strip_chars_start().str.len_bytes() != cell.str.len_bytes()
        text, fits = None, ~(leading_space | cell.str.contains(_ESCAPED))
        pieces = ['"', cell.fill_null(""), '"'] if filled == "" or not writable else \
            [_quoted(cell).fill_null(empty_text)]
    if "enum" in schema:
        fits = fits & cell.is_in(schema["enum"])
    empty = cell.is_null() | cell.str.contains(_EMPTY) if thorough else cell.is_null()
    if thorough:
        pieces = pieces or [pl.when(empty).then(pl.lit(empty_text)).otherwise(text)]
        odd = pl.when(empty).then(pl.lit(not writable)).otherwise(~fits.fill_null(False))
    else:
        pieces = pieces or [text.fill_null(empty_text) if writable else text]
        odd = cell.is_not_null() & ~fits.fill_null(False)
        if not writable:
            odd = odd | cell.is_null()
    return pieces, odd, number, empty


def _static_refusal(profile: Profile, mapped: list[tuple[Leaf, int]], record_schema: dict) -> str | None:
    """Why this sheet's mapping is outside the columnar path's scope, or None."""
    if any(len(leaf.path) > 1 for leaf, _ in mapped):
        return "a field is filled from several columns (an object or a list item)"
    by_name = {leaf.path[0][0]: leaf for leaf, _ in mapped}
    if "id" not in by_name or by_name["id"].convert is not compiled._integer:
        return "no id column of whole numbers"
    for leaf, _ in mapped:
        schema = compiled._unwrap(record_schema["properties"][leaf.path[0][0]])
        if leaf.convert in _EMPTY_ONLY:
            continue
        if leaf.convert in _LISTS:
            item = compiled._unwrap(schema.get("items", {}))
            if item.get("type") != _LISTS[leaf.convert] or set(item) - {"type", "format"} or \
                    item.get("format") not in (None, "int64"):
                return f"{leaf.field}: list items other than whole numbers (int64) or text"
            continue
        if _JSON_TYPE.get(leaf.convert) != schema.get("type"):
            return f"{leaf.field}: its converter's JSON type is not the schema's"
        if "enum" in schema and leaf.convert is not compiled._text:
            return f"{leaf.field}: an enum of a type other than text"
    missing = set(record_schema.get("required", [])) - set(by_name) - set(profile.defaults)
    if missing:
        return f"required fields neither mapped nor defaulted: {sorted(missing)}"
    return None


def _query_columns(profile: Profile, columns, record_schema: dict, names: list[str], thorough: bool,
                   also_odd: list[pl.Expr]) -> tuple[list[pl.Expr], list[tuple[str, pl.Expr]]]:
    """The id, whether the row is odd, and the record as a line of JSON (the profile's defaults last); and each
    column's heading and odd cells, to name the first odd column."""
    parts, odds, ident = [], [], None
    mapped = set()
    for position, (leaf, index) in enumerate(columns.mapped):
        field = leaf.path[0][0]
        mapped.add(field)
        schema = compiled._unwrap(record_schema["properties"][field])
        may_omit = position > 0 and compiled.may_be_left_out(leaf)
        pieces, odd, number, empty = _column(leaf, schema, pl.col(names[index]), thorough, may_omit)
        key = ("{" if position == 0 else ",") + orjson.dumps(field).decode() + ":"
        if may_omit:  # an empty cell leaves the field out of the record
            keyed = pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in [key, *pieces]])
            parts.append(pl.when(empty).then(pl.lit("")).otherwise(keyed))
        else:
            parts += [key, *pieces]
        odds.append((columns.headings[index], odd))
        if field == "id":
            ident = number
    defaults = {name: value for name, value in profile.defaults.items() if name not in mapped}
    parts.append("," + orjson.dumps(defaults).decode()[1:] if defaults else "}")
    merged = []  # neighbouring literals as one
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    line = pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in merged])
    odd = pl.any_horizontal([odd for _, odd in odds] + also_odd).fill_null(True)
    return [ident.alias(ID), odd.alias(ODD), line.alias(LINE)], odds


def import_sheet(path: Path, dialect, headings: list[str], profile: Profile, columns, writer,
                 page_size: int) -> int:
    """Write the sheet's pages through ``writer`` (the row path's page writer) and return the rows read; raises
    :class:`Deferred` (pages written so far are the caller's to discard) when the row path must import it."""
    record_schema = openapi.schema_for(profile.api_path)["properties"]["data"]["items"]
    refusal = _static_refusal(profile, columns.mapped, record_schema)
    if refusal:
        raise Deferred(refusal)
    if dialect.quotechar != '"' or dialect.skipinitialspace or dialect.escapechar:
        raise Deferred("a CSV dialect other than double-quoted fields")
    names = [f"c{index}" for index in range(len(headings))]
    try:
        seen = pl.read_csv(path, separator=dialect.delimiter, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise Deferred(f"polars cannot read the heading row: {exc}") from None
    if [heading.strip() for heading in seen] != headings:
        raise Deferred("polars reads the heading row differently")
    # csv.Sniffer says no doubled quotes when its sample has no quote; csv.reader then reads a quote inside a
    # quoted field differently from polars.
    also_odd = [] if dialect.doublequote else [
        pl.any_horizontal(pl.all().str.contains('"', literal=True)).fill_null(False)]
    quick, _ = _query_columns(profile, columns, record_schema, names, False, also_odd)
    thorough, odd_cells = _query_columns(profile, columns, record_schema, names, True, also_odd)
    schema = {name: pl.String for name in names}
    ids, pages, rows = [], _Pages(writer, page_size), 0
    for block in _record_blocks(path, dialect, headings):
        ident, lines = _batch(block, schema, dialect.delimiter, quick, thorough, odd_cells)
        ids.append(ident)
        pages.add(lines)
        rows += len(lines)
        del ident, lines  # the batch's text is freed: what waits for the next page is kept encoded by pages
    if rows == 0:
        raise Deferred("no data rows")
    # Sorted, a repeated id sits next to itself: 8 bytes a row (twice while sorting), where a hash table of the
    # ids would take several times that.
    ordered = pl.concat(ids, rechunk=True).sort()
    del ids
    if (ordered.slice(1) == ordered.slice(0, len(ordered) - 1)).any():
        raise Deferred("an id appears twice")
    pages.finish()
    return rows


def _batch(block: bytes, schema: dict, delimiter: str, quick: list[pl.Expr], thorough: list[pl.Expr],
           odd_cells: list[tuple[str, pl.Expr]]) -> tuple[pl.Series, pl.Series]:
    """A block's ids and records as lines of JSON. Its cells and the columns made from them are freed on return:
    only the ids and the text stay."""
    try:  # an empty cell is null
        cells = pl.read_csv(block, has_header=False, schema=schema, separator=delimiter, encoding="utf8")
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise Deferred(f"polars cannot read the file: {str(exc).splitlines()[0]}") from None
    blank = cells.select(pl.all_horizontal(pl.all().is_null())).to_series()
    if blank.any():  # csv.reader skips an all-empty row
        cells = cells.filter(~blank)
    batch = cells.select(quick)
    if batch[ODD].any():  # a cell in another form than the common one: every form this path takes
        batch = cells.select(thorough)
        if batch[ODD].any():
            where = next((heading for heading, odd in odd_cells if cells.select(odd.any()).item()), None)
            raise Deferred(f"a cell the columnar path does not answer (column {where!r})")
    return batch[ID], batch[LINE]


class _Pages:
    """Pages of ``page_size`` records written through the row path's page writer as the batches come, each record
    on its own line as the row path writes it (written by polars straight into the page file). A page is written
    once a row follows it (so the last page knows it is the last); the records waiting for that are kept encoded
    (at most a page), not as the batch they came in, so a batch's memory is freed when its pages are written."""

    _SEPARATOR = b",\n  "  # between two records

    def __init__(self, writer, page_size: int):
        self.writer, self.page_size = writer, page_size
        self.waiting = io.BytesIO()  # records waiting for a row to follow, each with the separator after it
        self.count = 0  # records in self.waiting

    def add(self, lines: pl.Series) -> None:
        start = 0
        while self.count + len(lines) - start > self.page_size:  # a row follows, so this page is not the last
            take = self.page_size - self.count
            self._write(lines.slice(start, take), has_more=True)
            start += take
        if start < len(lines):
            self._lines(self.waiting, lines.slice(start))
            self.count += len(lines) - start

    def finish(self) -> None:
        self._write(None, has_more=False)

    def _write(self, lines: pl.Series | None, *, has_more: bool) -> None:
        def records(handle) -> None:
            handle.write(b"\n  ")
            handle.write(self.waiting.getbuffer())
            if lines is not None:
                self._lines(handle, lines)
            handle.seek(-len(self._SEPARATOR), io.SEEK_CUR)  # the last record's separator
            handle.truncate()

        self.writer.write_encoded(records, has_more=has_more)
        self.waiting, self.count = io.BytesIO(), 0

    def _lines(self, handle, lines: pl.Series) -> None:
        lines.to_frame().write_csv(handle, include_header=False, quote_style="never",
                                   line_terminator=self._SEPARATOR.decode())


def _record_blocks(path: Path, dialect, headings: list[str]) -> Iterator[bytes]:
    """The file's records after the heading row, in blocks of about _BLOCK bytes (so memory does not grow with the
    file; polars' own streaming CSV source holds the whole file). A block ends at a line end outside quotes: one
    with an even count of quote characters before it (doubled quotes inside a quoted field count twice), so polars
    reads each block as it would read the whole file. Blank lines a block starts with are dropped (csv.reader skips
    them; polars takes its column count from a block's first line). Raises Deferred for a carriage return that
    does not end a line (a row end for csv.reader, not for polars), and when the heading row so found is not the
    one row csv.reader reads there (a stray quote would make the count of quotes mislead).

    Where a block ends is found in one buffer read into again and again; the block is then read as it is, so one
    block at a time is held (cutting it out of what was read would hold two, and leave the heap in pieces)."""
    with path.open("rb") as handle:
        start = _heading_end(handle, dialect, headings)
        if start is None:
            return  # no line end after the heading row: no records
        ahead = bytearray(_BLOCK)
        while True:
            handle.seek(start)
            filled = handle.readinto(ahead)
            end = _record_end(ahead, first=False) if filled == len(ahead) else filled  # else the rest of the file
            if end is None:  # a record longer than the block: read on
                ahead = bytearray(2 * len(ahead))
                continue
            handle.seek(start)
            records = handle.read(end)
            start += end
            if records.count(b"\r") != records.count(b"\r\n"):
                raise Deferred("a carriage return that does not end a line")
            records = records.lstrip(b"\r\n")
            if records:
                yield records
            if filled < len(ahead):
                return


def _heading_end(handle, dialect, headings: list[str]) -> int | None:
    """The position after the heading row's line end, or None when it has none."""
    block = b""
    while True:
        data = handle.read(_BLOCK)
        block += data
        end = _record_end(block, first=True)
        if end is not None:
            break
        if not data:
            return None
    with io.StringIO(block[:end].decode("utf-8-sig", errors="replace"), newline="") as text:
        if [[cell.strip() for cell in row] for row in csv.reader(text, dialect)] != [headings]:
            raise Deferred("the heading row does not end where csv.reader ends it")
    return end


def _record_end(block: bytes | bytearray, first: bool) -> int | None:
    """The position after the first (``first``) or last line end of ``block`` outside quotes, or None."""
    if first:
        position, quotes = 0, 0
        while (found := block.find(b"\n", position)) >= 0:
            quotes += block.count(b'"', position, found)
            if quotes % 2 == 0:
                return found + 1
            position = found + 1
        return None
    quotes_after, end = 0, len(block)
    total = block.count(b'"')
    while (found := block.rfind(b"\n", 0, end)) >= 0:
        quotes_after += block.count(b'"', found, end)
        if (total - quotes_after) % 2 == 0:
            return found + 1
        end = found
    return None
