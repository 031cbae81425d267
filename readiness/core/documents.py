"""Reading YAML, JSON and JSON Lines documents with errors that name file, key and line.

Every file the gate judges passes through here, so a malformed input always
becomes a :class:`ReadinessError` with a location, never a bare traceback.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import jsonschema_rs
import yaml

from readiness.core.errors import ReadinessError, key_path


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader that refuses duplicate keys: YAML keeps the last one silently, which hides mistakes.

    Built on libyaml when PyYAML has it: parsing is most of the gate's per-tenant cost, and libyaml's is
    ~25x faster than pure Python's, with the same line marks."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_text(path: Path, error: type[ReadinessError]) -> str:
    if not path.is_file():
        raise error(path, "file not found" if not path.exists() else "not a regular file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(path, f"cannot read: {exc.strerror}") from None


class YamlDocument:
    """A parsed YAML file that remembers where each value came from."""

    def __init__(self, path: Path, error: type[ReadinessError] = ReadinessError, *, text: str | None = None,
                 first_line: int = 1):
        """``text`` (e.g. a Markdown note's front matter) stands for the file from its line ``first_line``."""
        self.path = Path(path)
        self.error = error
        self.offset = first_line - 1
        text = _read_text(self.path, error) if text is None else text
        try:
            loader = _UniqueKeyLoader(text)  # one parse: the node tree keeps lines, the data is built from it
            try:
                self.node = loader.get_single_node()
                self.data = loader.construct_document(self.node) if self.node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise error(self.path, f"invalid YAML: {problem}", line=mark.line + 1 + self.offset if mark else None,
                        column=mark.column + 1 if mark else None) from None

    def position_of(self, parts) -> tuple[int, int] | None:
        """1-based line and column of the value at a key path (of the key itself when the path ends in a mapping's
        key that holds it), or of its nearest parent that exists."""
        node = self.node
        if node is None:
            return None
        mark = node.start_mark
        for part in parts:
            key_node = match = None
            if isinstance(node, yaml.MappingNode):
                key_node, match = next(((k, v) for k, v in node.value if k.value == str(part)), (None, None))
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                match = node.value[part]
            if match is None:
                break
            node, mark = match, (key_node or match).start_mark
        return mark.line + 1 + self.offset, mark.column + 1

    def line_of(self, parts) -> int | None:
        position = self.position_of(parts)
        return position[0] if position else None

    def validate(self, schema: dict) -> Any:
        """Check against a JSON Schema; one error, the one a person fixes first, is raised with its line and column."""
        validate_data(self.data, schema, self.path, self.error, self.position_of)
        return self.data


# A misspelt key is both an unknown key and a missing one: the unknown key is named first, with its spelling fix.
UNKNOWN_KEY = ("additionalProperties", "unevaluatedProperties")


def validate_data(data, schema: dict, path: Path, error: type[ReadinessError], line_of=None, *,
                  allow_unknown_keys: bool = False) -> None:
    """Raise ``error`` for the first problem of ``data`` against ``schema``: file, line and column (``line_of(parts)``
    gives a line or a (line, column)), the key path, what is wrong and how to fix it."""
    problem = first_problem(data, schema, allow_unknown_keys=allow_unknown_keys)
    if problem is not None:
        parts, message = problem
        where = line_of(parts) if line_of else None
        line, column = where if isinstance(where, tuple) else (where, None)
        raise error(path, message, key=key_path(parts), line=line, column=column)


def first_problem(data, schema: dict, *, allow_unknown_keys: bool = False) -> tuple[list, str] | None:
    """The key path and one-line explanation of the problem to fix first, or None when ``data`` conforms."""
    validator, fast = _validator(schema)
    try:
        if fast is not None and fast.is_valid(data):  # compiled in Rust: 7-250x faster, so most data ends here
            return None
    except ValueError:
        pass  # a value JSON has no type for (a date YAML read unquoted): jsonschema decides, and explains
    errors = list(validator.iter_errors(data))
    unknown = [e for e in errors if e.validator in UNKNOWN_KEY]
    if allow_unknown_keys:
        errors = [e for e in errors if e.validator not in UNKNOWN_KEY]
        unknown = []
    if not errors:
        return None
    if unknown:
        problem = min(unknown, key=lambda e: [str(p) for p in e.absolute_path])
    else:
        problem = jsonschema.exceptions.best_match(errors)
    return _explain(problem, schema)


_VALIDATORS: dict[int, tuple[dict, jsonschema.Draft202012Validator, Any]] = {}
# Both judge every format with jsonschema's checker: a format jsonschema's checker does not know passes in both.
_FORMATS = jsonschema.FormatChecker()


def _validator(schema: dict):
    """jsonschema's validator (the authority, and the one that explains), and jsonschema-rs's compiled check of
    the same schema, which only clears data: what it refuses, or cannot build, jsonschema judges. One of each per
    schema object (``schema()`` hands out the same dict each time)."""
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        formats = {name: partial(_FORMATS.conforms, format=name)
                   for name in re.findall(r'"format": "([^"]+)"', json.dumps(schema))}
        try:
            fast = jsonschema_rs.validator_for(schema, validate_formats=True, formats=formats)
        except ValueError:  # a pattern Rust's regular expressions do not take
            fast = None
        kept = _VALIDATORS[id(schema)] = (
            schema, jsonschema.Draft202012Validator(schema, format_checker=_FORMATS), fast)
    return kept[1], kept[2]


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _explain(problem: jsonschema.ValidationError, root: dict) -> tuple[list, str]:
    parts, value = list(problem.absolute_path), problem.instance
    if problem.validator in UNKNOWN_KEY and isinstance(value, dict):
        allowed = _declared_keys(problem.schema, root)
        key = next(k for k in value if k not in allowed)
        fix = did_you_mean(key, allowed) or f"; remove it (allowed here: {', '.join(sorted(allowed))})"
        return [*parts, key], f"unknown key '{key}'{fix}"
    if problem.validator == "required" and isinstance(value, dict):
        missing = [k for k in problem.validator_value if k not in value][0]
        close = difflib.get_close_matches(missing, [str(k) for k in value], n=1, cutoff=0.6)
        fix = f"; is '{close[0]}' a misspelling of it?" if close else "; add it"
        return [*parts, close[0]] if close else parts, f"missing required key '{missing}'{fix}"
    if problem.validator == "enum":
        choices = problem.validator_value
        fix = did_you_mean(value, choices) if isinstance(value, str) else ""
        return parts, f"{value!r} is not allowed here{fix or ''} (choose one of: {', '.join(map(str, choices))})"
    if problem.validator == "const":
        why = problem.schema.get("description", "")
        return parts, f"must be {problem.validator_value!r} here, found {value!r}" + (f": {why}" if why else "")
    if problem.validator == "type":
        return parts, f"expected {_a(problem.validator_value)}, found {_a(_json_type(value))}"
    if problem.validator == "format" and problem.validator_value == "date":
        return parts, f"{value!r} is not a date; write a quoted ISO date such as \"2026-11-20\""
    return parts, problem.message


def _declared_keys(fragment: dict, root: dict) -> set[str]:
    """Keys a schema fragment declares, following local $ref and allOf (what unevaluatedProperties accepts)."""
    keys = set(fragment.get("properties", {}))
    ref = fragment.get("$ref", "")
    if ref.startswith("#/"):
        target = root
        for name in ref[2:].split("/"):
            target = target[name]
        keys |= _declared_keys(target, root)
    for inner in fragment.get("allOf", []):
        keys |= _declared_keys(inner, root)
    return keys


def _json_type(value) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _a(kind) -> str:
    kinds = kind if isinstance(kind, list) else [kind]
    words = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "nothing"}
    return " or ".join(words.get(k, k) for k in kinds)


def json_line_position(text: str, number: int):
    """``line_of`` for one JSON Lines record: its line, and the column where the key path's last key is written."""

    def position(parts) -> tuple[int, int]:
        column = 0
        for part in parts:
            if isinstance(part, str):
                found = text.find(json.dumps(part), column)
                column = found if found >= 0 else column
        return number, column + 1

    return position


def read_json(path: Path, error: type[ReadinessError] = ReadinessError) -> Any:
    text = _read_text(Path(path), error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(path, f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None


def iter_json_lines(path: Path, error: type[ReadinessError] = ReadinessError) -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, object)`` for each non-blank line of a JSON Lines file."""
    text = _read_text(Path(path), error)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(path, f"invalid JSON Lines record: {exc.msg}", line=number, column=exc.colno) from None
        if not isinstance(value, dict):
            raise error(path, "each line must be a JSON object ({...})", line=number, column=1)
        yield number, value


@cache
def schema(name: str) -> dict:
    """A JSON Schema shipped in ``readiness/schemas`` by relative name, e.g. ``policies/claims``."""
    return json.loads(resources.files("readiness").joinpath("schemas", f"{name}.schema.json").read_text("utf-8"))


def schema_names(folder: str) -> list[str]:
    base = resources.files("readiness").joinpath("schemas", folder)
    return sorted(p.name.removesuffix(".schema.json") for p in base.iterdir() if p.name.endswith(".schema.json"))
