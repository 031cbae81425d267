"""Reading a customer's spreadsheet row by row: CSV (any delimiter, UTF-8 with or without BOM) or XLSX.

Rows stream one at a time (``csv.reader``; openpyxl in read-only mode), so memory does not grow with the file.
A formula cell is refused: its value is whatever Excel computed last, which a receipt cannot vouch for.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from readiness.core.errors import ReadinessError

_SAMPLE = 64 * 1024
_DELIMITERS = ",;\t|"
_ZIP_MAGIC = b"PK\x03\x04"


class IntakeError(ReadinessError):
    """A customer file cannot be imported. Names the file, sheet, row and column; nothing was imported."""

    def __init__(self, file: str, message: str, *, sheet: str | None = None, row: int | None = None,
                 column: str | None = None, heading: str | None = None):
        where = file + (f" [sheet {sheet}]" if sheet else "")
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f" column {column}" + (f" ({heading})" if heading else "")
        super().__init__(None, f"{where}: {message}")
        # After ReadinessError.__init__, which sets its own (numeric) column to None.
        self.file, self.sheet, self.row, self.column, self.heading = file, sheet, row, column, heading


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Sheet:
    """One table of a file: its name (the worksheet, or the CSV's file stem), headings and rows."""

    name: str
    headings: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number as the customer sees it, cell values)


class Workbook:
    """A CSV file (one sheet) or an XLSX workbook, opened for streaming; use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        self.display = path.name
        self._book = None
        self._text = None
        try:
            head = path.open("rb").read(_SAMPLE)
        except OSError as exc:
            raise IntakeError(self.display, f"cannot read: {exc.strerror}") from None
        if not head.strip():
            raise IntakeError(self.display, "the file is empty: export the report again, with its heading row")
        self.kind = "xlsx" if head.startswith(_ZIP_MAGIC) else "csv"
        if self.kind == "xlsx":
            self._open_xlsx()
        else:
            self._open_csv(head)

    def _open_xlsx(self) -> None:
        import openpyxl

        try:
            self._book = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise IntakeError(self.display, f"not a spreadsheet: a ZIP file that is not an Excel workbook ({exc}); "
                                            "save it as .xlsx or .csv") from None

    def _open_csv(self, head: bytes) -> None:
        if b"\0" in head:
            raise IntakeError(self.display, "not a spreadsheet: binary content; give a CSV or XLSX file")
        try:
            sample = head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 3:  # not just a character cut at the sample's end
                raise IntakeError(self.display, f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8, or give "
                                                "the XLSX file") from None
            sample = head[: exc.start].decode("utf-8-sig")
        complete = sample if len(head) < _SAMPLE else sample[: sample.rfind("\n") + 1] or sample
        try:
            self.dialect = csv.Sniffer().sniff(complete, _DELIMITERS)
        except csv.Error:
            self.dialect = csv.excel
        self._text = self.path.open("r", encoding="utf-8-sig", newline="")

    def sheet_names(self) -> list[str]:
        return list(self._book.sheetnames) if self._book is not None else [self.path.stem]

    def sheet(self, name: str) -> Sheet:
        if self._book is None:
            return self._csv_sheet()
        return self._xlsx_sheet(name)

    def _csv_sheet(self) -> Sheet:
        reader = csv.reader(self._text, self.dialect)
        try:
            headings = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise IntakeError(self.display, f"unreadable CSV: {exc}", row=1) from None
        if not headings or not any(h.strip() for h in headings):
            raise IntakeError(self.display, "the file is empty: export the report again, with its heading row", row=1)

        def rows():
            try:
                for values in reader:
                    if any(values):
                        yield reader.line_num, values
            except UnicodeDecodeError as exc:
                raise IntakeError(self.display, f"not UTF-8 text ({exc.reason}); save the CSV as UTF-8",
                                  row=reader.line_num + 1) from None
            except csv.Error as exc:
                raise IntakeError(self.display, f"unreadable CSV: {exc}", row=reader.line_num) from None

        return Sheet(self.path.stem, [h.strip() for h in headings], rows())

    def _xlsx_sheet(self, name: str) -> Sheet:
        rows = self._book[name].iter_rows()
        first = next(rows, None)
        if first is None or all(cell.value is None for cell in first):
            raise IntakeError(self.display, "the sheet is empty: it needs a heading row", sheet=name, row=1)
        headings = []
        for index, cell in enumerate(first):
            if cell.data_type == "f":
                raise IntakeError(self.display, "a heading is a formula; type the heading instead", sheet=name, row=1,
                                  column=column_letter(index))
            headings.append("" if cell.value is None else str(cell.value).strip())

        def values():
            for number, cells in enumerate(rows, start=2):
                row = []
                for index, cell in enumerate(cells):
                    if cell.data_type == "f":
                        raise IntakeError(
                            self.display, f"a formula ({str(cell.value)[:40]}) where a value belongs: imports take "
                            "values only; paste the column as values (Paste Special > Values) and save",
                            sheet=name, row=number, column=column_letter(index),
                            heading=headings[index] if index < len(headings) else None)
                    row.append(cell.value)
                if any(value is not None and value != "" for value in row):
                    yield number, row

        return Sheet(name, headings, values())

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
        if self._text is not None:
            self._text.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

