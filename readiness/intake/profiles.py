"""Import profiles (``policies/intake.yaml``) compiled against ServiceTitan's published record schemas.

A profile says which column headings each API field may arrive under; the field's type, whether it may be null
and whether it is required all come from the published schema, so nothing about ServiceTitan is restated here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from readiness.servicetitan import openapi

_EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=timezone.utc)
_FIELD_PART = re.compile(r"^([A-Za-z][A-Za-z0-9]*)(\[0\])?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
_TRUE = {"true", "yes", "y", "1", "active", "x"}
_FALSE = {"false", "no", "n", "0", "inactive", ""}
_SPELLED = {spelling: word in _TRUE for word in _TRUE | _FALSE for spelling in (word, word.upper(), word.title())}
EMPTY = object()


class ProfileError(ValueError):
    """A profile names something ServiceTitan's published record does not have; ``parts`` point into the profile."""

    def __init__(self, parts: list, message: str):
        super().__init__(message)
        self.parts = parts


class CellError(ValueError):
    """A cell's value does not fit its field; the message says what is expected."""


def normal(heading: str) -> str:
    """How headings compare: case-insensitive, surrounding and repeated spaces ignored."""
    return " ".join(str(heading).split()).casefold()


def _unwrap(schema: dict) -> dict:
    """ServiceTitan wraps a referenced object as ``{oneOf|allOf: [object]}``; the object is what a cell fills."""
    for combiner in ("oneOf", "allOf", "anyOf"):
        if combiner in schema and len(schema[combiner]) == 1:
            return {**schema[combiner][0], "nullable": schema.get("nullable", False) or
                    schema[combiner][0].get("nullable", False)}
    return schema


# -- cell converters: (cell value) -> JSON value, raising CellError ----------------------------------------------


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit() and value.isascii():  # the common case (isdigit alone admits "²")
        return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.0+)?\s*", value):
        return int(value.strip().split(".")[0])
    raise CellError(f"not a whole number: {str(value)[:40]!r}; ids and counts are digits only")


def _number(value: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace(",", "").lstrip("$"))
        except InvalidOperation:
            amount = None
        if amount is not None and amount.is_finite():  # JSON has no NaN or Infinity
            return float(amount)
    raise CellError(f"not a number: {str(value)[:40]!r}")


def _money(value: Any) -> str:
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise CellError(f"not an amount: {str(value)[:40]!r}; write it like 249.00") from None
    if not amount.is_finite():
        raise CellError(f"not an amount: {str(value)[:40]!r}; write it like 249.00")
    return f"{amount.quantize(Decimal('0.01'))}"


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is float and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return _date_time(value)
    return str(value)


def _boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    text = normal(_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"not true or false: {str(value)[:40]!r}; write TRUE or FALSE")


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text + "Z"


def _date_time(value: Any) -> str:
    """ISO 8601 in UTC with ``Z``, from an Excel date, an Excel date serial, ``MM/DD/YYYY [hh:mm [AM]]`` or ISO."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return _iso(datetime.combine(value, time()))
    if type(value) is str and _ISO_UTC.match(value):
        return value  # already as ServiceTitan writes it
    if type(value) in (int, float) and 1 <= value < 2958466:  # Excel serial days (1900-01-01 .. 9999-12-31)
        return _iso(_EXCEL_EPOCH + timedelta(days=value))
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text) and 1 <= float(text) < 2958466:  # a serial written as text
        return _date_time(float(text))
    if match := _US_DATE.match(text):
        month, day, year, hour, minute, second, half = match.groups()
        hour = int(hour or 0)
        if half:
            hour = hour % 12 + (12 if half.lower() == "pm" else 0)
        try:
            return _iso(datetime(int(year), int(month), int(day), hour, int(minute or 0), int(second or 0)))
        except ValueError:
            pass
    try:
        return _iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise CellError(f"not a date: {text[:40]!r}; write 2026-11-04T17:15:00Z, 11/04/2026 5:15 PM or an "
                        "Excel date") from None


def _split(value: Any) -> list[str]:
    text = _text(value)
    separator = ";" if ";" in text else ("|" if "|" in text else ",")
    return [part.strip() for part in text.split(separator) if part.strip()]


def _integer_list(value: Any) -> list[int]:
    if type(value) in (int, float):
        return [_integer(value)]
    return [_integer(part) for part in _split(value)]


def _text_list(value: Any) -> list[str]:
    return _split(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json(value: Any) -> Any:
    try:
        return json.loads(_text(value), parse_constant=_no_constant)
    except ValueError as exc:
        raise CellError(f"not JSON text ({exc.args[0][:60]}); this field holds a list or object as JSON") from None


def converter(schema: dict, money: bool) -> Callable[[Any], Any]:
    schema = _unwrap(schema)
    kind = schema.get("type")
    if money:
        return _money
    if kind == "integer":
        return _integer
    if kind == "number":
        return _number
    if kind == "boolean":
        return _boolean
    if kind == "string":
        return _date_time if schema.get("format") == "date-time" else _text
    if kind == "array":
        item = _unwrap(schema.get("items", {}))
        if item.get("type") == "integer":
            return _integer_list
        if item.get("type") == "string":
            return _text_list
    return _json


# -- compiled profiles ---------------------------------------------------------------------------------------------


@dataclass
class Leaf:
    """One mapped API field: where it goes in the record, the headings it arrives under, how a cell converts."""

    field: str  # as the profile names it: name, category.id, categories[0].name
    path: list[tuple[str, bool]]  # [(property, is the first item of a list)]
    headings: list[str]
    convert: Callable[[Any], Any]
    nullable: bool
    required: bool
    is_text: bool
    is_list: bool


@dataclass
class Profile:
    name: str
    kind: str
    export: str
    sheets: list[str]
    leaves: list[Leaf]
    defaults: dict[str, Any]
    envelope: str  # "list" or "export"
    parents: dict[str, tuple[bool, bool, bool]] = field(default_factory=dict)  # top field -> (nullable, required, list)

    @property
    def api_path(self) -> str:
        return openapi.api_path(self.export)


def compile_profile(spec: dict) -> Profile:
    path = openapi.api_path(spec["export"])
    response = openapi.schema_for(path)
    envelope = "export" if "continueFrom" in response["properties"] else "list"
    record = response["properties"]["data"]["items"]
    properties, required = record["properties"], set(record.get("required", []))
    money = set(spec.get("money", []))
    leaves, parents = [], {}
    for name, headings in spec["fields"].items():
        parts = name.split(".")
        steps, schema, owner_required, node_props = [], None, required, properties
        for depth, part in enumerate(parts):
            prop, listed = _FIELD_PART.match(part).groups()
            if prop not in node_props:
                raise ProfileError(["fields", name], f"ServiceTitan's {spec['export']} record has no field {prop!r}"
                                                     f"{' here' if depth else ''}")
            schema = _unwrap(node_props[prop])
            is_required = prop in owner_required
            if depth == 0 and len(parts) > 1:
                parents[prop] = (schema.get("nullable", False), is_required, bool(listed))
            if listed:
                schema = _unwrap(schema.get("items", {}))
            steps.append((prop, bool(listed)))
            if depth < len(parts) - 1:
                node_props, owner_required = schema.get("properties", {}), set(schema.get("required", []))
        leaves.append(Leaf(name, steps, [name, *headings], converter(schema, name in money),
                           schema.get("nullable", False), is_required,
                           schema.get("type") == "string" and name not in money, schema.get("type") == "array"))
    for name in sorted(money - set(spec["fields"])):
        raise ProfileError(["money"], f"{name} is not one of the profile's fields")
    for name in spec.get("defaults", {}):
        if name not in properties:
            raise ProfileError(["defaults", name], f"ServiceTitan's {spec['export']} record has no field {name!r}")
    return Profile(spec["name"], spec["kind"], spec["export"], spec["sheets"], leaves, dict(spec.get("defaults", {})),
                   envelope, parents)


def cell_converter(leaf: Leaf) -> Callable[[Any], Any]:
    """One function per column, chosen once per sheet: a cell to its JSON value (EMPTY: the field is left out),
    raising CellError. A cell is empty when None, "" or spaces. The common text cell of each type (digits, a
    spelled-out boolean, a date already in ServiceTitan's form, any text) is answered in the same call, exactly as
    its converter would answer it; any other cell goes to the converter."""
    convert = leaf.convert
    try:
        empty, missing = fill_empty(leaf), None
    except CellError as exc:
        empty, missing = EMPTY, str(exc)
    if convert is _integer:  # most columns: ids and counts
        def integer(value: Any) -> Any:
            if type(value) is str:
                if value.isdigit() and value.isascii():
                    return int(value)
                if value and not value.isspace():
                    return _integer(value)
            elif value is not None:
                return _integer(value)
            if missing:
                raise CellError(missing)
            return empty

        return integer
    if convert is _text:
        def text(value: Any) -> Any:
            if type(value) is str:
                if value and not value.isspace():
                    return value
            elif value is not None:
                return _text(value)
            if missing:
                raise CellError(missing)
            return empty

        return text
    if convert is _boolean:
        common = _SPELLED.get
    elif convert is _date_time:
        def common(value: str) -> Any:
            return value if _ISO_UTC.match(value) else None
    else:
        def common(value: str) -> Any:
            return None

    def cell(value: Any) -> Any:
        if type(value) is str:
            if value and not value.isspace():
                found = common(value)
                return convert(value) if found is None else found
        elif value is not None:
            return convert(value)
        if missing:
            raise CellError(missing)
        return empty

    return cell


def may_be_left_out(leaf: Leaf) -> bool:
    """Whether an empty cell leaves the field out of the record (fill_empty gives EMPTY)."""
    return not (leaf.is_list or leaf.nullable or leaf.required)


def fill_empty(leaf: Leaf) -> Any:
    """The JSON value of an empty cell, or EMPTY when the field is to be left out."""
    if leaf.is_list:
        return []  # a screen shows no items as an empty cell; ServiceTitan sends an empty list
    if leaf.nullable:
        return None
    if leaf.required and leaf.is_text:
        return ""
    if leaf.required:
        raise CellError(f"empty, but {leaf.field} is required by ServiceTitan's schema")
    return EMPTY
