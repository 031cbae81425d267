"""ServiceTitan's published API schemas, and validation of a body against them.

The schemas are package data (``readiness/schemas/servicetitan/<module>.json``): the operations this product
reads or sends, taken from ServiceTitan's published OpenAPI documents by ``tools/extract_openapi.py`` with
every ``$ref`` resolved, so each is a self-contained OpenAPI 3.0 Schema Object. Bodies are validated with
``openapi-schema-validator`` (``nullable``, ``readOnly``/``writeOnly`` and OpenAPI formats as OpenAPI means
them). Imports, the conformance check, the simulator and the sandbox protocol all judge bodies here.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker

from readiness.core.errors import key_path

_PACKAGE_DATA = "schemas/servicetitan"
_PARAMETER = re.compile(r"\\\{[^/]+?\\\}")


@dataclass(frozen=True)
class Problem:
    """One way a body departs from the published schema: where (``data[3].name``) and what."""

    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


class UnknownOperation(LookupError):
    """The shipped schemas hold no such operation (not published, or not one the product needs)."""


def api_path(export_path: str) -> str:
    """``jpm/export/jobs`` (an ``exports/`` path) -> ``/jpm/v2/tenant/{tenant}/export/jobs``."""
    module, _, rest = export_path.strip("/").partition("/")
    return f"/{module}/v2/tenant/{{tenant}}/{rest}"


def _module_of(path: str) -> str:
    return path.strip("/").split("/", 1)[0]


@cache
def _operations(module: str) -> dict[str, dict]:
    resource = resources.files("readiness").joinpath(f"{_PACKAGE_DATA}/{module}.json")
    if not resource.is_file():
        return {}
    return json.loads(resource.read_text(encoding="utf-8"))["operations"]


@cache
def _matchers(module: str) -> list[tuple[re.Pattern, str]]:
    """Each operation key as a pattern, so a called path (``/crm/v2/tenant/900000202/leads/form``) finds it."""
    found = []
    for key in _operations(module):
        method, template = key.split(" ", 1)
        pattern = _PARAMETER.sub("[^/]+", re.escape(template))
        found.append((re.compile(f"{re.escape(method)} {pattern}$"), key))
    return found


def operation_key(path: str, method: str = "GET") -> str:
    """The shipped operation a path (template or called) and method stand for; :class:`UnknownOperation` if none."""
    module = _module_of(path)
    wanted = f"{method.upper()} {path.split('?', 1)[0].rstrip('/')}"
    if wanted in _operations(module):
        return wanted
    for pattern, key in _matchers(module):
        if pattern.match(wanted):
            return key
    raise UnknownOperation(f"{wanted} is not among the published ServiceTitan operations the suite ships "
                           f"(readiness/schemas/servicetitan/{module}.json; tools/extract_openapi.py adds one)")


def schema_for(path: str, method: str = "GET", status: int | str | None = 200) -> dict:
    """The self-contained schema of a response (``status``) or, with ``status=None``, of the request body."""
    operation = _operations(_module_of(path))[operation_key(path, method)]
    schema = operation["request"] if status is None else operation["responses"].get(str(status))
    if schema is None:
        what = "request body" if status is None else f"{status} response"
        raise UnknownOperation(f"{method.upper()} {path}: the published API gives no JSON schema for its {what}")
    return schema


@cache
def _validator(key: str, status: str | None):
    method, path = key.split(" ", 1)
    schema = schema_for(path, method, status)
    kind = OAS30WriteValidator if status is None else OAS30ReadValidator
    return kind(schema, format_checker=oas30_format_checker)


def validate_body(path: str, method: str, status: int | str | None, body: Any) -> list[Problem]:
    """Every way ``body`` departs from the published schema, in document order; empty when it conforms.

    ``path`` is a template (``/crm/v2/tenant/{tenant}/leads/form``) or a called path; ``status`` is the response
    status, or ``None`` for the request body. An operation the suite does not ship is one problem, not an error.
    """
    try:
        key = operation_key(path, method)
        validator = _validator(key, None if status is None else str(status))
    except UnknownOperation as exc:
        return [Problem("(operation)", str(exc))]
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    return [Problem(key_path(error.absolute_path) if error.absolute_path else "(body)", _short(error.message))
            for error in errors]


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def field_schemas(path: str, method: str = "GET", status: int | str = 200) -> dict[str, dict]:
    """The properties of one record in a list or export body (its ``data`` items), by field name."""
    return schema_for(path, method, status)["properties"]["data"]["items"]["properties"]


def required_fields(path: str, method: str = "GET", status: int | str = 200) -> list[str]:
    """The fields a record of a list or export body must carry."""
    return list(schema_for(path, method, status)["properties"]["data"]["items"].get("required", []))


# Keywords that constrain a value beyond its type; a schema node holding one is judged on the value itself.
_VALUE_KEYWORDS = ("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
                   "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "not",
                   "oneOf", "anyOf", "allOf")


def _shape(schema: dict | None):
    """A function giving a value's *shape* under ``schema``: everything the schema's verdict on the value depends
    on (type, keys, enum membership, format conformance, and the value itself where other keywords judge it).
    Two values of the same shape get the same verdict, so a page's records are validated once per shape."""
    if schema is None:
        return lambda value: ("?", repr(value))
    for combiner in ("oneOf", "allOf", "anyOf"):
        if combiner in schema and len(schema[combiner]) == 1 and set(schema) <= {combiner, "nullable"}:
            return _shape(schema[combiner][0])
    if any(keyword in schema for keyword in _VALUE_KEYWORDS):
        return lambda value: ("=", json.dumps(value, sort_keys=True))
    enum = schema.get("enum")
    checked = _format_check(schema.get("format"))
    if schema.get("type") in _SCALARS and enum is None and "additionalProperties" not in schema:
        if checked is None:
            return type  # nothing but the type is judged
        if schema.get("format") in ("int32", "int64"):
            return _Ranged(31 if schema["format"] == "int32" else 63)
        return lambda value: (type(value), checked(value))  # date-time and the like: the type and the format
    properties = {name: _shape(sub) for name, sub in schema.get("properties", {}).items()}
    items = _shape(schema["items"]) if "items" in schema else None
    by_keys: dict[tuple, tuple] = {}  # how to shape an object with these keys, in the object's key order

    def plan(keys: tuple) -> tuple:
        """The shape functions of the keys (an int32/int64 field's type only) and, per range, the ranged fields."""
        functions = [properties.get(key, _unknown) for key in keys]
        ranges: dict[int, list[tuple[str, _Ranged]]] = {}
        for key, function in zip(keys, functions):
            if isinstance(function, _Ranged):
                ranges.setdefault(function.high, []).append((key, function))
        ranged = tuple((_items([key for key, _ in fields]), high, tuple(function for _, function in fields))
                       for high, fields in ranges.items())
        return tuple(type if isinstance(f, _Ranged) else f for f in functions), ranged

    def shape(value):
        kind = type(value)
        if kind is dict:
            keys = tuple(value)
            found = by_keys.get(keys)
            if found is None:
                found = by_keys[keys] = plan(keys)
            functions, ranged = found
            shapes = tuple(map(operator.call, functions, value.values()))
            for pick, high, exact in ranged:
                # The ids of a record, checked together in C: all within the range, or each one's own verdict.
                numbers = pick(value)
                try:
                    fits = max(map(abs, filter(None, numbers)), default=0) < high
                except TypeError:  # a value that is no number: its type decides, as each one's verdict says
                    fits = False
                shapes += (True,) if fits else tuple(map(operator.call, exact, numbers))
            return "{", keys, shapes
        if kind is list:
            if not value:
                return _NO_ITEMS
            return ("[", frozenset(items(v) for v in value) if items else repr(value))
        return kind, enum is not None and value in enum, checked is not None and checked(value)

    return shape


_SCALARS = ("string", "integer", "number", "boolean")
_NO_ITEMS = ("[", frozenset())  # the shape of an empty list under any schema


class _Ranged:
    """The shape of an int32 or int64 field: its type and, for an integer, whether it is within the range
    openapi-schema-validator's is_int32/is_int64 check (an object's ranged fields are checked together)."""

    def __init__(self, bits: int):
        self.low, self.high = ~(1 << bits), 1 << bits

    def __call__(self, value) -> tuple:
        return type(value), type(value) is not int or self.low < value < self.high


def _items(keys: list[str]):
    """The values of ``keys`` in a dict, as a tuple (operator.itemgetter; one key gives a tuple too)."""
    if len(keys) == 1:
        only = keys[0]
        return lambda value: (value[only],)
    return operator.itemgetter(*keys)


def _unknown(value) -> tuple:
    """The shape of a value under a key the schema does not define (additionalProperties judges it whole)."""
    return "?", json.dumps(value, sort_keys=True, default=repr)


def _format_check(name: str | None):
    """The validator's own check of a format (``int64``, ``date-time``, ...), called directly; None if unchecked."""
    if name not in oas30_format_checker.checkers:
        return None
    function, raises = oas30_format_checker.checkers[name]

    def conforms(value) -> bool:
        try:
            return bool(function(value))
        except raises:
            return False

    return conforms


class PageValidator:
    """Validates list and export bodies of one operation page by page, as :func:`validate_body` does, but judges
    each record shape once: a record whose shape (see :func:`_shape`) was already judged is not validated again.
    Imports of 100,000 records built from the same schema have a handful of shapes."""

    def __init__(self, path: str, method: str = "GET", status: int | str = 200):
        self.path, self.method, self.status = path, method, status
        self._record_shape = _shape(schema_for(path, method, status)["properties"]["data"]["items"])
        self._judged: set = set()

    def validate(self, body: dict) -> list[Problem]:
        """Problems of ``body``, JSON paths as in :func:`validate_body` (``data[3].name``)."""
        data = body.get("data")
        if not isinstance(data, list):
            return validate_body(self.path, self.method, self.status, body)
        fresh, where = [], []
        for index, record in enumerate(data):
            shape = self._record_shape(record)
            if shape not in self._judged:
                self._judged.add(shape)
                fresh.append(record)
                where.append(index)
        problems = validate_body(self.path, self.method, self.status, {**body, "data": fresh})
        return [_reindexed(problem, where) for problem in problems]


def _reindexed(problem: Problem, where: list[int]) -> Problem:
    match = re.match(r"^data\[(\d+)\]", problem.json_path)
    if not match:
        return problem
    return Problem(f"data[{where[int(match.group(1))]}]" + problem.json_path[match.end():], problem.message)
