"""Parsers for the newline-delimited JSON feeds: CMS declarations and inspections, ECTS
tracking events, ERP payments and HR records.

Why it looks the way it does:

* **One line, one outcome.** Each non-blank line is one message; ``message_index`` counts
  non-blank lines from 0 (blank lines are not messages, so adding one does not shift the
  idempotency keys of the others). A bad line is quarantined and its neighbours still load.
  A file that is ONE pretty-printed JSON value (an object, or an array of objects) is read as
  a document: one message per element, each flagged ``pretty-printed-json``; a broken one is
  quarantined once, not once per line (:func:`json_document`).
* **The JSON Schema is the contract, triaged per value.** Every line is checked against a draft
  2020-12 schema in ``schemas/`` (loaded once per process: these feeds run to 100k+ lines per
  file). Only a missing mandatory key (``required``), an unreadable mandatory value or a broken
  structure rejects, reported as ``<JSON path>: <failed rule>`` with ``field``/``value``/
  ``rule``. Anything else (an unknown code, an odd range, a decimal comma, a bad optional date)
  is merely unusual: the record loads with the value read where it can be (else null), a flag
  in ``flags`` and the literal in ``source_literals`` (see :func:`_triage`).
* **tables.py drives the record shape.** Records are built by walking the bronze table's DDL,
  so every column (and every field of nested structs) is present even when the producer left
  it out, and a column added to tables.py cannot be forgotten here. An absent or null scalar
  becomes ``None``; an absent or null array becomes ``[]``.
* **Money is exact.** Decimal strings of any length become ``Decimal`` without ever being a
  float, and feeds with decimal columns decode JSON numbers as ``Decimal`` too (the digits the
  sender wrote). Where the contract says "string", a JSON number still loads, flagged.
* **Time is UTC.** ECTS timestamps must carry a zone (devices roam across zones); for the other
  feeds a timestamp without a zone is read as UTC, as in the XML parser. ``NaN``/``Infinity``
  are not JSON and are rejected as syntax errors.
* **Unknown keys are tolerated** (producers add fields before we do) and dropped, except for
  CMS declarations, whose JSON paths are kept in ``unknown_segments``.

Mapping and bad-input rules in full: ``docs/xml_json_formats.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from lakehouse.formats.base import (
    E_EMPTY,
    E_ENCODING,
    E_MAPPING,
    E_SCHEMA,
    E_SYNTAX,
    FileParser,
    Outcome,
    ParsedRecord,
    Rejected,
)
from lakehouse.tables import QUALITY_COLUMNS, bronze_table, split_ddl

__all__ = [
    "JSON_PARSERS",
    "bronze_columns",
    "parse_cms_json_declarations",
    "parse_ects_events",
    "parse_erp_payments",
    "parse_hr_records",
    "parse_inspection_outcomes",
]

CMS_JSON_MESSAGE_TYPE = "JSON_DEC"
_ENVELOPE_COLUMNS = (
    "syntax",
    "message_type",
    "directory_version",
    "interchange_ref",
    "message_ref",
    "sender_id",
    "recipient_id",
    "control_issues",
    "unknown_segments",
)
_HR_TABLES = {"officer": "hr_officers", "posting": "hr_postings", "shift": "hr_shifts"}
_MAX_REASON = 400


class _MappingError(ValueError):
    """A schema-valid line whose content is still inconsistent (becomes E_MAPPING)."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        value: str | None = None,
        rule: str = "mapping",
    ) -> None:
        super().__init__(message)
        self.field, self.value, self.rule = field, value, rule


# ---------------------------------------------------------------------------------------------
# Spark DDL -> record shape
# ---------------------------------------------------------------------------------------------

# A parsed DDL type: ("prim", name) | ("array", element) | ("struct", ((field, type), ...)).
_Type = tuple[Any, ...]


_split_top = split_ddl


def _parse_type(text: str) -> _Type:
    text = text.strip()
    lower = text.lower()
    if lower.startswith("array<"):
        return ("array", _parse_type(text[6:-1]))
    if lower.startswith("struct<"):
        fields = []
        for part in _split_top(text[7:-1]):
            name, _, kind = part.partition(":")
            fields.append((name.strip(), _parse_type(kind)))
        return ("struct", tuple(fields))
    base, _, params = lower.partition("(")
    return ("prim", base, params.rstrip(")").replace(" ", ""))


@cache
def _table_type(table: str) -> _Type:
    fields = []
    for part in _split_top(bronze_table(table).ddl):
        name, kind = part.split(None, 1)
        fields.append((name, _parse_type(kind)))
    return ("struct", tuple(fields))


def bronze_columns(table: str) -> tuple[str, ...]:
    """The top-level column names of a bronze record, in order: the table's DDL, then the
    quality columns (``flags``, ``source_literals``); without ``_ingest``."""
    quality = tuple(part.split(None, 1)[0] for part in _split_top(QUALITY_COLUMNS))
    return (*(name for name, _ in _table_type(table)[1]), *quality)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_datetime(text: str, *, require_zone: bool) -> datetime:
    match = _DATETIME_RE.match(text)
    if not match:
        raise ValueError("expected ISO-8601 YYYY-MM-DDThh:mm[:ss[.f]][zone]")
    if require_zone and not match.group(1):
        raise ValueError("a zone (Z or ±hh:mm) is required")
    value = datetime.fromisoformat(text)  # ValueError on impossible dates/times
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _parse_date(text: str) -> date:
    if not _DATE_RE.match(text):
        raise ValueError("expected ISO-8601 YYYY-MM-DD")
    return date.fromisoformat(text)


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_zoned_datetime(instance: object) -> bool:
    if isinstance(instance, str):
        _parse_datetime(instance, require_zone=True)
    return True


@_FORMATS.checks("iso-date-time", raises=ValueError)
def _is_datetime(instance: object) -> bool:
    if isinstance(instance, str):
        _parse_datetime(instance, require_zone=False)
    return True


@_FORMATS.checks("date", raises=ValueError)
def _is_date(instance: object) -> bool:
    if isinstance(instance, str):
        _parse_date(instance)
    return True


def _to_decimal(value: Any) -> Decimal:
    # str(float) is the shortest text that round-trips, i.e. what the producer wrote.
    return Decimal(value if isinstance(value, str | int) else str(value))


_PRIMITIVES: dict[str, Callable[[Any], Any]] = {
    "string": str,
    "decimal": _to_decimal,
    "double": float,
    "float": float,
    "int": int,
    "bigint": int,
    "boolean": bool,
    "timestamp": lambda value: _parse_datetime(value, require_zone=False),
    "date": _parse_date,
}


def _converter(kind: _Type) -> Callable[[Any], Any]:
    """A function turning a schema-valid JSON value into the Python value of DDL ``kind``."""
    if kind[0] == "array":
        element = _converter(kind[1])
        return lambda value: [] if value is None else [element(item) for item in value]
    if kind[0] == "struct":
        fields = tuple((name, _converter(sub)) for name, sub in kind[1])

        def convert_struct(value: Any) -> dict[str, Any] | None:
            if value is None:
                return None
            return {name: convert(value.get(name)) for name, convert in fields}

        return convert_struct
    primitive = _PRIMITIVES[kind[1]]
    return lambda value: None if value is None else primitive(value)


def _unknown_keys(value: Any, kind: _Type, path: str, out: list[str]) -> None:
    if kind[0] == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            _unknown_keys(item, kind[1], f"{path}[{index}]", out)
    elif kind[0] == "struct" and isinstance(value, dict):
        known = dict(kind[1])
        for key, item in value.items():
            if key in known:
                _unknown_keys(item, known[key], f"{path}.{key}", out)
            else:
                out.append(f"{path}.{key}")


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------

_SCHEMA_FILES = (
    "common.json",
    "cms_declaration.json",
    "inspection_outcome.json",
    "ects_event.json",
    "erp_payment.json",
    "hr_record.json",
)


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files("lakehouse.formats").joinpath("schemas")
    return {name: json.loads(folder.joinpath(name).read_text("utf-8")) for name in _SCHEMA_FILES}


def _inline_refs(node: Any, root: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """Replace every bare ``{"$ref": ...}`` by the schema it points at.

    Our schemas are not recursive, and resolving a ``$ref`` through the registry on every
    line costs more than half of the validation time, so references are resolved once here.
    """
    if isinstance(node, list):
        return [_inline_refs(item, root, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"$ref"}:
        base, _, pointer = node["$ref"].partition("#")
        document = root if not base else schemas[base]
        target: Any = document
        for token in filter(None, pointer.split("/")):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        return _inline_refs(target, document, schemas)
    return {key: _inline_refs(value, root, schemas) for key, value in node.items()}


@cache
def _checked_schemas() -> dict[str, Any]:
    """The schema files, each checked against the JSON Schema meta-schema once per process.

    Not once per validator: checking all six files for each feed's validator cost a small
    increment (one process per NiFi minute) ~0.5 CPU-s before the first line was read.
    """
    schemas = _schemas()
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    return schemas


@cache
def _validator(name: str) -> Draft202012Validator:
    """The compiled validator for one schema file (built once per process)."""
    schemas = _checked_schemas()
    by_id = {schema["$id"]: schema for schema in schemas.values()}
    # The registry still serves any reference left in place (e.g. inside a "$ref" with
    # siblings); normally none is left after inlining.
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    schema = _inline_refs(schemas[name], schemas[name], by_id)
    return Draft202012Validator(schema, registry=registry, format_checker=_FORMATS)


@cache
def _fast_check(name: str) -> _Check | None:
    """The fast "certainly valid" checker for a schema file, or None if it cannot be built."""
    try:
        return _compile(_validator(name).schema)
    except _UnsupportedError:
        return None


# A fast checker for the subset of JSON Schema our schemas use. jsonschema's generic engine
# costs ~100 µs per ECTS line; this closure tree costs a few µs. It only decides "valid";
# any line it doubts is handed to jsonschema, which stays the judge and writes the message.
_Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description"})
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


class _UnsupportedError(Exception):
    """The schema uses a keyword the fast checker does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _type_check(names: list[str]) -> _Check:
    unknown = set(names) - set(_PLAIN_TYPES) - {"number", "integer"}
    if unknown:
        raise _UnsupportedError(f"type {sorted(unknown)}")
    plain = tuple(cls for name in names for cls in _PLAIN_TYPES.get(name, ()))
    number, integer = "number" in names, "integer" in names

    def check(value: Any) -> bool:
        if isinstance(value, plain):
            return True
        if isinstance(value, bool):  # bool is an int in Python, never a number in JSON
            return False
        if number and isinstance(value, int | float | Decimal):
            return True
        return integer and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )

    return check


def _all_of(checks: tuple[_Check, ...]) -> _Check:
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        # A plain loop: this runs for every node of every line, and a generator per call
        # costs more than the checks themselves.
        for one in checks:  # noqa: SIM110 - all(genexpr) is the slow form this avoids
            if not one(value):
                return False
        return True

    return check


def _properties(subs: tuple[tuple[str, _Check], ...]) -> _Check:
    def check(value: Any) -> bool:
        if isinstance(value, dict):
            for name, sub in subs:
                if name in value and not sub(value[name]):
                    return False
        return True

    return check


def _keyword_check(keyword: str, arg: Any) -> _Check | None:
    """The check of one leaf keyword (``None`` if ``keyword`` is not a leaf keyword)."""
    if keyword == "pattern":
        search = re.compile(arg).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= arg
    if keyword == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= arg
    if keyword == "format":
        return lambda v: not isinstance(v, str) or _FORMATS.conforms(v, arg)
    if keyword == "minimum":
        return lambda v: not _is_number(v) or v >= arg
    if keyword == "maximum":
        return lambda v: not _is_number(v) or v <= arg
    if keyword == "exclusiveMinimum":
        return lambda v: not _is_number(v) or v > arg
    if keyword == "exclusiveMaximum":
        return lambda v: not _is_number(v) or v < arg
    if keyword == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= arg
    if keyword == "required":
        names = frozenset(arg)
        return lambda v: not isinstance(v, dict) or names <= v.keys()
    if keyword in ("enum", "const"):
        options = [arg] if keyword == "const" else arg
        if not all(isinstance(option, str) for option in options):
            raise _UnsupportedError(f"{keyword} with non-string values")
        allowed = frozenset(options)
        return lambda v: isinstance(v, str) and v in allowed
    if keyword == "type":
        return _type_check([arg] if isinstance(arg, str) else list(arg))
    return None


def _items_check(item: _Check) -> _Check:
    return lambda v: not isinstance(v, list) or all(map(item, v))


def _if_check(condition: _Check, then: _Check, otherwise: _Check) -> _Check:
    return lambda v: then(v) if condition(v) else otherwise(v)


def _compile(schema: Any) -> _Check:
    """A fast "is valid" predicate equivalent to jsonschema for the keywords handled here."""
    if schema is True or schema == {}:
        return lambda value: True
    if not isinstance(schema, dict):
        raise _UnsupportedError(repr(schema))
    checks: list[_Check] = []
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("then", "else"):
            continue
        leaf = _keyword_check(keyword, arg)
        if leaf is not None:
            checks.append(leaf)
        elif keyword == "properties":
            checks.append(_properties(tuple((k, _compile(sub)) for k, sub in arg.items())))
        elif keyword == "items":
            checks.append(_items_check(_compile(arg)))
        elif keyword == "allOf":
            checks.append(_all_of(tuple(_compile(sub) for sub in arg)))
        elif keyword == "if":
            checks.append(
                _if_check(
                    _compile(arg),
                    _compile(schema.get("then", True)),
                    _compile(schema.get("else", True)),
                )
            )
        else:
            raise _UnsupportedError(keyword)
    return _all_of(tuple(checks)) if checks else (lambda value: True)


# ---------------------------------------------------------------------------------------------
# Broken rules: reject the record, or flag the value and load it
# ---------------------------------------------------------------------------------------------

# A schema rule broken by a value is "merely unusual" unless the value is unusable where it is
# mandatory: real senders send codes from lists we do not know, odd units, decimal commas and
# empty optional fields, and none of that may cost the record. Only a missing mandatory field
# (the business keys are the schemas' "required"), a mandatory value that cannot be read, or a
# broken structure (not an object, no items) rejects.
_HARD_RULES = frozenset({"required", "minItems"})


@dataclass(slots=True)
class _Notes:
    """What was unusual about one record: ``flags`` and ``source_literals`` (see tables.py)."""

    flags: list[str]
    literals: dict[str, str]

    def as_columns(self) -> dict[str, Any]:
        return {"flags": self.flags or None, "source_literals": self.literals or None}


@dataclass(frozen=True, slots=True)
class _Hard:
    """The rule that rejects a record, with the field, value and rule for the quarantine."""

    error: ValidationError
    field: str | None
    value: str | None


def _field_path(parts: Iterable[str | int]) -> str:
    """``items[0].customs_value``: the path form ``source_literals`` and the worker use."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def _as_sent(value: Any) -> str:
    """A JSON value as the sender wrote it: a string as it is, a number in its digits, anything
    else as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _kind_at(kind: _Type | None, parts: Iterable[str | int]) -> _Type | None:
    """The DDL type at a JSON path of a record of type ``kind`` (None when not a column)."""
    for part in parts:
        if kind is None:
            return None
        if kind[0] == "array" and isinstance(part, int):
            kind = kind[1]
        elif kind[0] == "struct" and isinstance(part, str):
            kind = dict(kind[1]).get(part)
        else:
            return None
    return kind


def _mandatory(schema: dict[str, Any], error: ValidationError) -> bool:
    """True when the failing value is a property its object schema requires (or not a
    property at all: the record itself, an array element)."""
    path = list(error.absolute_path)
    if not path or isinstance(path[-1], int):
        return True
    schema_path = list(error.absolute_schema_path)
    for i in range(len(schema_path) - 2, -1, -1):
        if schema_path[i] == "properties" and schema_path[i + 1] == path[-1]:
            parent: Any = schema
            for token in schema_path[:i]:
                parent = parent[token]
            return path[-1] in parent.get("required", ())
    return True


_BLANK = object()  # an empty optional value: stored as null without a flag
_DECIMAL_TEXT_RE = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


def _fix_decimal(value: Any) -> Any:
    """A decimal from a JSON number or decimal text (comma, exponent, sign, spaces)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return _BLANK
    if not _DECIMAL_TEXT_RE.match(text) or ("," in text and "." in text):
        return None
    number = Decimal(text.replace(",", "."))
    return number if number.is_finite() else None


def _fix_float(value: Any) -> Any:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    number = _fix_decimal(value)
    return float(number) if isinstance(number, Decimal) else number


def _fix_int(value: Any) -> Any:
    number = _fix_decimal(value)
    if isinstance(number, Decimal) and number == number.to_integral_value():
        return int(number)
    return number if number is _BLANK else None


def _fix_text(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else _BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return None


def _fix_other(value: Any) -> Any:
    # Dates, times, booleans, lists and records: only an empty text is tolerated.
    return _BLANK if isinstance(value, str) and not value.strip() else None


_FIXERS: dict[str, Callable[[Any], Any]] = {
    "string": _fix_text,
    "decimal": _fix_decimal,
    "double": _fix_float,
    "float": _fix_float,
    "int": _fix_int,
    "bigint": _fix_int,
}


def _fix(kind: _Type | None, value: Any) -> Any:
    """The storable value of a value that broke a rule; ``None`` if there is none."""
    if kind is None or kind[0] != "prim":
        return _fix_other(value)
    return _FIXERS.get(kind[1], _fix_other)(value)


def _triage(
    obj: Any, errors: list[ValidationError], schema: dict[str, Any], kind: _Type | None
) -> _Hard | _Notes:
    """Fix ``obj`` in place where a broken rule is merely unusual; the rejection otherwise.

    Errors are taken per value (a value may break a rule twice, e.g. in ``then``): a value is
    mandatory when any of its errors comes from a schema that requires it.
    """
    notes = _Notes([], {})
    hard: list[_Hard] = []
    by_path: dict[tuple[Any, ...], list[ValidationError]] = {}
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator in _HARD_RULES or not path:
            missing = (
                [n for n in error.validator_value if n not in error.instance]
                if error.validator == "required"
                else []
            )
            hard.append(_Hard(error, _field_path([*path, *missing[:1]]), None))
        else:
            by_path.setdefault(path, []).append(error)
    for path, found in by_path.items():
        error, value, field = found[0], found[0].instance, _field_path(path)
        fixed = _fix(_kind_at(kind, path), value)
        if fixed is None or fixed is _BLANK:
            if any(_mandatory(schema, e) for e in found):
                hard.append(_Hard(error, field, _as_sent(value)))
                continue
            if fixed is None:
                notes.flags.append(f"{error.validator} {field}: {_message(error)}; stored null")
                notes.literals[field] = _as_sent(value)
            fixed = None
        else:
            notes.flags.append(f"{error.validator} {field}: {_message(error)}")
            if _as_sent(fixed) != _as_sent(value):
                notes.literals[field] = _as_sent(value)
        _set(obj, list(path), fixed)
    if hard:
        chosen = best_match(h.error for h in hard)
        return next(h for h in hard if h.error is chosen)
    return notes


def _set(obj: Any, path: list[Any], value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


_DECIMAL_REPR_RE = re.compile(r"Decimal\('([^']*)'\)")


def _message(error: ValidationError) -> str:
    # jsonschema writes repr(): an exact JSON number reads as the sender wrote it, not Decimal().
    message = _DECIMAL_REPR_RE.sub(r"\1", error.message)
    if error.cause is not None:
        message = f"{message} ({error.cause})"
    return message if len(message) <= _MAX_REASON else message[: _MAX_REASON - 3] + "..."


def _describe(error: ValidationError) -> str:
    text = f"{error.json_path}: {_message(error)}"
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Line loop
# ---------------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Feeds with decimal columns decode JSON numbers with fractions as Decimal: exactly what the
# sender wrote, never a binary float (2359189.8000000003 stays that). Feeds without decimal
# columns (ECTS, a million lines a day) keep the faster float decoding.
_DECODER = json.JSONDecoder(parse_constant=_no_constants)
_EXACT_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=Decimal)

# Builds (table, record) from a schema-valid object; raises _MappingError on inconsistencies.
_Builder = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class _Feed:
    schema: str
    build: _Builder
    message_type: str | None = None
    # Set when every line becomes one row of this table, converted column by column from
    # the schema-valid object (what json_columnar's fast path needs).
    table: str | None = None
    # The type of the line's object (to find the column of a path), by the object itself.
    kind_of: Callable[[Any], _Type | None] = lambda obj: None
    decoder: json.JSONDecoder = _EXACT_DECODER


def json_lines(text: str) -> Iterator[tuple[str, int, int]]:
    """(line without CR, 1-based line number, 0-based message index) of each non-blank line."""
    index = -1
    for line_no, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            index += 1
            yield line.rstrip("\r"), line_no, index


_DOCUMENT_START_RE = re.compile(r"\s*[\[{]")
PRETTY_FLAG = "pretty-printed-json"


def json_document(text: str) -> list[tuple[str, int, int]] | str | None:
    """The messages of a file that is ONE JSON value spanning lines, not JSON lines.

    Producers land pretty-printed documents and arrays in line feeds; read line by line, one
    document became hundreds of quarantine rows. ``None``: the file is JSON lines. A list:
    (text as sent, line number, index) of each element of a top-level array, or of the one
    object. A str: the file is one broken document (fewer than half of its lines are JSON on
    their own), and this is where and why it does not parse.
    """
    match = _DOCUMENT_START_RE.match(text)
    if match is None:
        return None
    start = match.end() - 1
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError) as exc:
        return _where_broken(exc) if _mostly_fragments(text) else None
    if "\n" not in text[start:end] or text[end:].strip():
        return None  # one value per line, or several values: JSON lines
    if not isinstance(value, list):
        return [(text[start:end], _line_of(text, start), 0)]
    return list(_elements(text, start))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _where_broken(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    return str(exc) or type(exc).__name__


def _mostly_fragments(text: str, sample: int = 200) -> bool:
    """True when fewer than half of the (first ``sample``) non-blank lines are JSON alone."""
    whole = 0
    seen = 0
    for raw, _, _ in json_lines(text):
        seen += 1
        try:
            _DECODER.decode(raw)
            whole += 1
        except (ValueError, RecursionError):
            pass
        if seen >= sample:
            break
    return seen > 1 and whole * 2 < seen


def _elements(text: str, start: int) -> Iterator[tuple[str, int, int]]:
    """Each element of the (valid) array at ``start``, as its own text."""
    pos, index = _skip_blank(text, start + 1), 0
    while text[pos] != "]":
        _, end = _DECODER.raw_decode(text, pos)
        yield text[pos:end], _line_of(text, pos), index
        index += 1
        pos = _skip_blank(text, end)
        if text[pos] == ",":
            pos = _skip_blank(text, pos + 1)


def _skip_blank(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos


def _parse_lines(data: bytes, source: str, feed: _Feed) -> Iterator[Outcome]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        yield Rejected(
            0,
            data.decode("utf-8", errors="backslashreplace"),
            E_ENCODING,
            f"{source}: not valid UTF-8 at byte offset {exc.start} (line {bad_line}): {exc.reason}",
            feed.message_type,
            rule="utf-8",
        )
        return
    validator = _validator(feed.schema)
    fast = _fast_check(feed.schema)
    document = json_document(text)
    if isinstance(document, str):
        yield Rejected(
            0,
            text,
            E_SYNTAX,
            f"{source}: the file is one JSON document spanning lines, and it is not valid "
            f"JSON at {document}",
            feed.message_type,
            rule="json",
        )
        return
    messages = json_lines(text) if document is None else document
    index = -1
    for raw, line_no, index in messages:
        yield _parse_line(raw, line_no, index, validator, fast, feed, pretty=document is not None)
    if index < 0:
        yield Rejected(
            0, text, E_EMPTY, f"{source}: the file holds no JSON line", feed.message_type
        )


def _parse_line(
    raw: str,
    line_no: int,
    index: int,
    validator: Draft202012Validator,
    fast: _Check | None,
    feed: _Feed,
    *,
    pretty: bool = False,
) -> Outcome:
    def reject(code: str, reason: str, **named: str | None) -> Rejected:
        return Rejected(index, raw, code, f"line {line_no}: {reason}", feed.message_type, **named)

    try:
        obj = feed.decoder.decode(raw)
    except json.JSONDecodeError as exc:
        return reject(E_SYNTAX, f"invalid JSON at column {exc.colno}: {exc.msg}", rule="json")
    except ValueError as exc:  # NaN / Infinity
        return reject(E_SYNTAX, f"invalid JSON: {exc}", rule="json")
    except RecursionError:
        return reject(E_SYNTAX, "invalid JSON: nested too deeply", rule="json")
    if "\\u" in raw and not _encodable(obj):
        return reject(E_ENCODING, "a \\u escape encodes a lone UTF-16 surrogate", rule="utf-8")

    notes = _Notes([], {})
    if fast is None or not fast(obj):
        errors = list(validator.iter_errors(obj))
        if errors:
            triaged = _triage(obj, errors, validator.schema, feed.kind_of(obj))
            if isinstance(triaged, _Hard):
                return reject(
                    E_SCHEMA,
                    _describe(triaged.error),
                    field=triaged.field,
                    value=triaged.value,
                    rule=str(triaged.error.validator),
                )
            notes = triaged
    if pretty:
        notes.flags.append(f"{PRETTY_FLAG} $: one JSON document spanning lines (line {line_no})")
    try:
        table, record = feed.build(obj)
    except _MappingError as exc:
        return reject(E_MAPPING, str(exc), field=exc.field, value=exc.value, rule=exc.rule)
    record.update(notes.as_columns())
    return ParsedRecord(table, index, record)


def _encodable(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------------------------


def _simple_builder(table: str) -> _Builder:
    convert = _converter(_table_type(table))

    def build(obj: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return table, convert(obj)

    return build


def _simple_feed(schema: str, table: str) -> _Feed:
    kind = _table_type(table)
    exact = "decimal" in bronze_table(table).ddl
    return _Feed(
        schema,
        _simple_builder(table),
        None,
        table,
        kind_of=lambda obj: kind,
        decoder=_EXACT_DECODER if exact else _DECODER,
    )


def _build_cms_declaration(obj: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    convert, business = _cms_shape()
    record: dict[str, Any] = {
        "syntax": "json",
        "message_type": CMS_JSON_MESSAGE_TYPE,
        "directory_version": None,
        "interchange_ref": None,
        "message_ref": None,
        "sender_id": None,
        "recipient_id": None,
        "control_issues": [],
    }
    unknown: list[str] = []
    _unknown_keys(obj, business, "$", unknown)
    record["unknown_segments"] = unknown
    converted = convert(obj)
    assert converted is not None
    record.update(converted)
    return "cms_declarations", record


@cache
def _cms_shape() -> tuple[Callable[[Any], Any], _Type]:
    """Converter and type of the business columns (the envelope is ours to set, not JSON's)."""
    fields = tuple(f for f in _table_type("cms_declarations")[1] if f[0] not in _ENVELOPE_COLUMNS)
    business: _Type = ("struct", fields)
    return _converter(business), business


@cache
def _hr_converters() -> dict[str, Callable[[Any], Any]]:
    return {kind: _converter(_table_type(table)) for kind, table in _HR_TABLES.items()}


def _hr_kind(obj: Any) -> _Type | None:
    table = _HR_TABLES.get(obj.get("record_type")) if isinstance(obj, dict) else None
    return _table_type(table) if table else None


def _build_hr_record(obj: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = obj["record_type"]
    record = _hr_converters()[kind](obj)
    if kind == "posting" and record["end_date"] and record["end_date"] < record["start_date"]:
        raise _MappingError(
            f"posting {record['posting_id']}: end_date {record['end_date']} is before "
            f"start_date {record['start_date']}"
        )
    if kind == "shift" and record["shift_end"] < record["shift_start"]:
        raise _MappingError(
            f"shift {record['shift_id']}: shift_end {record['shift_end'].isoformat()} is before "
            f"shift_start {record['shift_start'].isoformat()}"
        )
    return _HR_TABLES[kind], record


@cache
def _feeds() -> dict[str, _Feed]:
    return {
        "cms/json": _Feed(
            "cms_declaration.json",
            _build_cms_declaration,
            CMS_JSON_MESSAGE_TYPE,
            kind_of=lambda obj: _cms_shape()[1],
        ),
        "cms/inspections": _simple_feed("inspection_outcome.json", "cms_inspection_outcomes"),
        "ects/events": _simple_feed("ects_event.json", "ects_events"),
        "erp/payments": _simple_feed("erp_payment.json", "erp_payments"),
        "hr/records": _Feed("hr_record.json", _build_hr_record, kind_of=_hr_kind, decoder=_DECODER),
    }


def parse_cms_json_declarations(data: bytes, source: str) -> Iterator[Outcome]:
    """Declarations as JSON lines (feed ``cms/json``) -> ``cms_declarations`` (syntax json)."""
    return _parse_lines(data, source, _feeds()["cms/json"])


def parse_inspection_outcomes(data: bytes, source: str) -> Iterator[Outcome]:
    """Inspection outcomes (feed ``cms/inspections``) -> ``cms_inspection_outcomes``."""
    return _parse_lines(data, source, _feeds()["cms/inspections"])


def parse_ects_events(data: bytes, source: str) -> Iterator[Outcome]:
    """GPS positions and e-seal events (feed ``ects/events``) -> ``ects_events``."""
    return _parse_lines(data, source, _feeds()["ects/events"])


def parse_erp_payments(data: bytes, source: str) -> Iterator[Outcome]:
    """Payments, receipts and refunds (feed ``erp/payments``) -> ``erp_payments``."""
    return _parse_lines(data, source, _feeds()["erp/payments"])


def parse_hr_records(data: bytes, source: str) -> Iterator[Outcome]:
    """Officers, postings and shifts (feed ``hr/records``) -> ``hr_officers``/``hr_postings``/
    ``hr_shifts`` by each line's ``record_type``."""
    return _parse_lines(data, source, _feeds()["hr/records"])


JSON_PARSERS: dict[str, FileParser] = {
    "cms/json": parse_cms_json_declarations,
    "cms/inspections": parse_inspection_outcomes,
    "ects/events": parse_ects_events,
    "erp/payments": parse_erp_payments,
    "hr/records": parse_hr_records,
}
