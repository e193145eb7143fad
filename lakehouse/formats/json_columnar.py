"""Columnar fast path for the one-table JSON-lines feeds (ECTS events, ERP payments, inspections).

Why it exists: a day's ECTS feed is about ten tracking events per declaration, a million lines
for 100,000 declarations. Checked and converted one object at a time (a closure tree per line,
a dict per record, then Arrow's conversion of those dicts) a line costs ~25 µs, which made
JSON the largest share of bronze ingestion. Here the lines of a file are decoded by msgspec
into structs with one field per key the table or the schema reads (issue 15: the columns then
come out of one transposition in C, not a dict look-up per line and key), then checked
*column by column*: each property's schema runs once per distinct value of that column (codes,
offices and device ids repeat a lot), or as Arrow kernels over the column (lengths, patterns,
ranges, timestamps in the usual strict form), and the accepted rows are converted straight
into Arrow arrays.

The row parser (:mod:`lakehouse.formats.json_feeds`) stays the judge. This path only accepts a
line when every keyword of the schema passed with the same checks the row path's fast checker
runs; any line it doubts (bad JSON, a failed keyword, a value Arrow would not take) is handed to
the row path, which writes the outcome it always writes: the quarantine reason, or the record.
So both paths give the same bronze rows; ``tests/unit/formats/test_json_columnar.py`` compares
them on mutated lines. A file the fast path cannot read as a whole (not UTF-8, no line) goes to
the row path unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.formats.base import Outcome, ParsedColumns
from lakehouse.formats.json_feeds import (
    _ANNOTATIONS,
    _compile,
    _converter,
    _encodable,
    _fast_check,
    _Feed,
    _feeds,
    _parse_line,
    _parse_lines,
    _table_type,
    _Type,
    _UnsupportedError,
    _validator,
    json_document,
    json_lines,
)

__all__ = ["QUALITY_FIELDS", "arrow_type", "columnar_feeds", "parse_columnar", "record_type"]

# A key absent from the object (not the same as a JSON null): the default of every field of
# the line structs (:func:`_line_struct`).
_MISSING = msgspec.UNSET

# The bronze quality columns (lakehouse.tables.QUALITY_COLUMNS). A line this path accepts broke
# no rule, so both are null; the row path fills them for the lines it flags.
QUALITY_FIELDS = (
    pa.field("flags", pa.list_(pa.string())),
    pa.field("source_literals", pa.map_(pa.string(), pa.string())),
)

# Python value types a column may hold to go to Arrow as they are (else: the row converter).
_PASS_THROUGH: dict[str, tuple[pa.DataType, frozenset[type]]] = {
    "string": (pa.string(), frozenset({str, type(None)})),
    "double": (pa.float64(), frozenset({float, int, type(None)})),
    "float": (pa.float32(), frozenset({float, int, type(None)})),
    "int": (pa.int32(), frozenset({int, type(None)})),
    "bigint": (pa.int64(), frozenset({int, type(None)})),
    "boolean": (pa.bool_(), frozenset({bool, type(None)})),
}


def arrow_type(kind: _Type) -> pa.DataType:
    """The Arrow type Spark uses for a parsed DDL type (timestamps in UTC, microseconds)."""
    if kind[0] == "array":
        return pa.list_(arrow_type(kind[1]))
    if kind[0] == "struct":
        return pa.struct([pa.field(name, arrow_type(sub)) for name, sub in kind[1]])
    name = kind[1]
    if name in _PASS_THROUGH:
        return _PASS_THROUGH[name][0]
    if name == "decimal":
        precision, _, scale = (kind[2] or "10,0").partition(",")
        return pa.decimal128(int(precision), int(scale or 0))
    if name == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if name == "date":
        return pa.date32()
    raise ValueError(f"no Arrow type for DDL type {name!r}")


class _Columns:
    """The decoded lines of a file, column by column.

    The lines are decoded into structs (:func:`_line_struct`), so a file's columns come out
    of one transposition in C (``zip(*map(astuple, lines))``) instead of a dict look-up per
    line and column in Python, the largest single cost of this path before.
    """

    def __init__(self, names: tuple[str, ...], lines: list[msgspec.Struct]) -> None:
        self.rows = len(lines)
        columns = zip(*map(msgspec.structs.astuple, lines), strict=True) if lines else ()
        self._cols: dict[str, list[Any]] = dict(zip(names, map(list, columns), strict=False))
        self._gaps: dict[str, bool] = {}

    def get(self, name: str) -> list[Any]:
        """The column of ``name``: one value per line, ``_MISSING`` where the key is absent."""
        col = self._cols.get(name)
        if col is None:
            col = self._cols[name] = [_MISSING] * self.rows
        return col

    def has_gaps(self, name: str) -> bool:
        """True when some line lacks the key ``name`` (most columns of most files: never)."""
        gaps = self._gaps.get(name)
        if gaps is None:
            gaps = self._gaps[name] = _MISSING in self.get(name)
        return gaps


_CHECKS: dict[int, Callable[[Any], bool]] = {}


def _check_of(schema: Any) -> Callable[[Any], bool]:
    """The row path's compiled checker of a (cached, never freed) sub-schema."""
    check = _CHECKS.get(id(schema))
    if check is None:
        check = _CHECKS[id(schema)] = _compile(schema)
    return check


_NUMERIC_BOUNDS = {
    "minimum": pc.less,
    "maximum": pc.greater,
    "exclusiveMinimum": pc.less_equal,
    "exclusiveMaximum": pc.greater_equal,
}  # keyword -> the comparison that makes a value fail it
_VECTOR_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern", *_NUMERIC_BOUNDS})
_JSON_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float, Decimal}),
    "null": frozenset({type(None)}),
    "boolean": frozenset({bool}),
}
# Escapes whose meaning differs between Python's re (Unicode) and Arrow's RE2 (ASCII) in the
# direction that would make RE2 accept what Python rejects.
_RE2_UNSAFE = re.compile(r"\\[sSwWbBD]|\[\^[^\]]*\\d")


# Timestamps in the form nearly every sender uses, narrow enough that Arrow's ISO-8601 cast
# and the project's rule (json_feeds._parse_datetime: its regex, then Python's fromisoformat)
# agree on every one: both accept it exactly when the calendar date exists, and give the same
# instant (years 1900-2099, zones under 14 h: no overflow). RE2's \d is ASCII only, so a
# Unicode digit never passes here; the rule decides every other text, one by one.
_STRICT_DATETIME = (
    r"^(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d)$"
)
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_DATETIME_FORMATS = frozenset({"date-time", "iso-date-time"})
_NONE = type(None)


def _strict_datetimes(values: list[Any]) -> pa.Array | None:
    """The UTC instants of a column of texts (and nulls) when every text is in the strict
    form and a real date, converted by Arrow at once; ``None`` otherwise (check each)."""
    try:
        arr = pa.array(values, type=pa.string())
        if not pc.all(pc.match_substring_regex(arr, _STRICT_DATETIME)).as_py():
            return None
        return pc.cast(arr, _TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None  # an impossible date (2026-02-30) among them, or not all texts


def _datetime_bad(schema: dict[str, Any], values: list[Any], types: set[type]) -> list[int] | None:
    """No position fails when a date-time column (texts, nulls where allowed) is all in the
    strict form; ``None`` means "not handled, check each value"."""
    if schema.get("format") not in _DATETIME_FORMATS or set(schema) - _ANNOTATIONS != {
        "type",
        "format",
    }:
        return None
    names = schema["type"]
    names = [names] if isinstance(names, str) else names
    allowed: set[type] = {str} if "string" in names else set()
    if "null" in names:
        allowed.add(_NONE)
    if str not in types or not types <= allowed:
        return None
    return [] if _strict_datetimes(values) is not None else None


def _vector_bad(schema: dict[str, Any], values: list[Any], types: set[type]) -> list[int] | None:
    """Positions of ``values`` failing ``schema``, computed with Arrow kernels.

    Handles a leaf schema of type, numeric bounds, string lengths and (RE2-safe) patterns over
    a column of plain strings or plain numbers; ``None`` means "not handled, check each value".
    """
    if not set(schema) - _ANNOTATIONS <= _VECTOR_KEYWORDS:
        return None
    names = schema.get("type", ["string", "number", "null", "boolean"])
    names = [names] if isinstance(names, str) else names
    if any(name not in _JSON_TYPES for name in names):
        return None
    allowed = frozenset().union(*(_JSON_TYPES[name] for name in names))
    wrong: list[int] = []
    if not types <= allowed:  # values of a wrong type fail; the others are checked below
        wrong = [j for j, value in enumerate(values) if type(value) not in allowed]
        values = [None if type(value) not in allowed else value for value in values]
        types = types & allowed
    kinds = types - {type(None)}
    if (len(kinds) > 1 and kinds != {int, float}) or Decimal in kinds:
        return None  # exact decimals are compared one by one, never through a float
    mask = None
    try:
        if kinds == {str}:
            arr = pa.array(values, type=pa.string())
            lengths = pc.utf8_length(arr)
            parts = []
            if "minLength" in schema:
                parts.append(pc.less(lengths, schema["minLength"]))
            if "maxLength" in schema:
                parts.append(pc.greater(lengths, schema["maxLength"]))
            if "pattern" in schema:
                if _RE2_UNSAFE.search(schema["pattern"]):
                    return None
                parts.append(pc.invert(pc.match_substring_regex(arr, schema["pattern"])))
        elif kinds <= {int, float}:
            arr = pa.array(values, type=pa.float64())
            parts = [
                compare(arr, schema[keyword])
                for keyword, compare in _NUMERIC_BOUNDS.items()
                if keyword in schema
            ]
        else:
            parts = []
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    for part in parts:
        mask = part if mask is None else pc.or_(mask, part)
    if mask is None or not pc.any(mask).as_py():
        return wrong
    return sorted({*wrong, *pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()})


def _bad_values(col: list[Any], schema: Any, rows: list[int], gaps: bool = True) -> set[int]:
    """Rows whose value of this property fails its schema (an absent key never fails).

    ``gaps`` False: no line lacks the key, so when ``rows`` are all the lines the column is
    checked as it is, without copying it.
    """
    if not gaps and len(rows) == len(col):
        present_rows, present = rows, col
    else:
        present_rows = [i for i in rows if col[i] is not _MISSING]
        present = [col[i] for i in present_rows]
    types = set(map(type, present))
    if isinstance(schema, dict):
        failed = _datetime_bad(schema, present, types)
        if failed is None:
            failed = _vector_bad(schema, present, types)
        if failed is not None:
            return {present_rows[j] for j in failed}
    check = _check_of(schema)
    # A set treats True, 1 and 1.0 as one value: a column mixing bools and numbers, or
    # holding unhashable values, is checked row by row.
    if (bool in types and types & {int, float, Decimal}) or types & {dict, list}:
        return {i for i in rows if col[i] is not _MISSING and not check(col[i])}
    failing = {value for value in set(present) if not check(value)}
    if not failing:
        return set()
    return {i for i in rows if col[i] is not _MISSING and col[i] in failing}


def _bad_rows(schema: Any, cols: _Columns, rows: list[int]) -> set[int]:
    """Rows (objects) that fail ``schema``; raises _UnsupportedError for other keywords."""
    if not rows or schema is True:
        return set()
    if schema is False:
        return set(rows)
    bad: set[int] = set()
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("then", "else"):
            continue
        if keyword == "type":
            if "object" not in ([arg] if isinstance(arg, str) else arg):
                return set(rows)  # every row is an object
        elif keyword == "required":
            for name in arg:
                if cols.has_gaps(name):
                    col = cols.get(name)
                    bad.update(i for i in rows if col[i] is _MISSING)
        elif keyword == "properties":
            for name, sub in arg.items():
                bad |= _bad_values(cols.get(name), sub, rows, cols.has_gaps(name))
        elif keyword == "allOf":
            for sub in arg:
                bad |= _bad_rows(sub, cols, rows)
        elif keyword == "if":
            failed = _bad_rows(arg, cols, rows)
            bad |= _bad_rows(schema.get("then", True), cols, [i for i in rows if i not in failed])
            bad |= _bad_rows(schema.get("else", True), cols, [i for i in rows if i in failed])
        else:
            raise _UnsupportedError(keyword)
    return bad


def _column_array(values: list[Any], kind: _Type, typ: pa.DataType) -> pa.Array:
    """Arrow array of one column, with the values the row path's converter would give."""
    if kind[0] == "prim" and kind[1] in _PASS_THROUGH:
        allowed = _PASS_THROUGH[kind[1]][1]
        if set(map(type, values)) <= allowed:
            return pa.array(values, type=typ)
    if kind[0] == "prim" and kind[1] == "timestamp" and typ == _TIMESTAMP:
        types = set(map(type, values))
        instants = _strict_datetimes(values) if str in types and types <= {str, _NONE} else None
        if instants is not None:
            return instants
    convert = _converter(kind)
    return pa.array([convert(value) for value in values], type=typ)


@cache
def _struct_type(table: str) -> pa.StructType:
    return arrow_type(_table_type(table))


@cache
def record_type(table: str) -> pa.StructType:
    """The struct of one record as both paths yield it: the columns, then the quality ones."""
    return pa.struct([*_struct_type(table), *QUALITY_FIELDS])


def _require_supported(schema: Any) -> None:
    """Raise _UnsupportedError unless :func:`_bad_rows` handles every keyword of ``schema``."""
    if isinstance(schema, bool):
        return
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("type", "required"):
            continue
        if keyword == "properties":
            for sub in arg.values():
                _check_of(sub)
        elif keyword == "allOf":
            for sub in arg:
                _require_supported(sub)
        elif keyword in ("if", "then", "else"):
            _require_supported(arg)
        else:
            raise _UnsupportedError(keyword)


def _supported(feed: _Feed) -> bool:
    """True when the feed maps each line to one table and its schema uses handled keywords."""
    if feed.table is None or _fast_check(feed.schema) is None:
        return False
    try:
        _require_supported(_validator(feed.schema).schema)
    except _UnsupportedError:
        return False
    return True


def _escapes_encodable(raw: str, feed: _Feed) -> bool:
    """Whether a line with ``\\u`` escapes decodes to text UTF-8 can hold (no lone surrogate).

    Checked on the whole object as the plain decoder reads it, since the line's struct
    skips the keys no column or rule reads, and a surrogate there still rejects the line.
    """
    try:
        obj = _fast_decoder(feed.decoder.parse_float is Decimal)(raw)
    except (ValueError, RecursionError):
        return False
    return _encodable(obj)


@cache
def _fast_decoder(exact: bool) -> Callable[[str], Any]:
    """msgspec's JSON decoder, numbers as the row path's decoder reads them (``exact``: decimals).

    It decodes a line ~3x faster than the standard library. It refuses what the row path's
    decoder refuses (NaN, control characters) and more (lone surrogate escapes, numbers beyond
    a double); every line it refuses goes to the row path, which decides as it always did, so
    the decoder changes no outcome (tests/unit/formats/test_json_columnar.py).
    """
    import msgspec

    return msgspec.json.Decoder(float_hook=Decimal if exact else None).decode


def _schema_names(schema: Any) -> list[str]:
    """Every key a (supported) schema reads: its properties and required names, nested ones
    of ``allOf``/``if``/``then``/``else`` included."""
    if not isinstance(schema, dict):
        return []
    names = [*schema.get("properties", {}), *schema.get("required", [])]
    for sub in [*schema.get("allOf", []), *(schema.get(k) for k in ("if", "then", "else"))]:
        names.extend(_schema_names(sub))
    return names


@cache
def _line_struct(feed_key: str) -> tuple[tuple[str, ...], Callable[[str], Any]]:
    """The keys a line of the feed is read for, and a decoder of one line into a struct.

    Every key the table stores or the schema checks is a field of type ``Any`` (decoded as
    the plain decoder would, so values are the same) defaulting to ``_MISSING`` when absent;
    other keys are skipped, as the row path drops them too. Fields get neutral attribute
    names and are renamed to the keys, so any key spelling works.
    """
    feed = _feeds()[feed_key]
    assert feed.table is not None
    table_names = [name for name, _ in _table_type(feed.table)[1]]
    names = tuple(dict.fromkeys([*table_names, *_schema_names(_validator(feed.schema).schema)]))
    fields = [(f"f{i}", Any, _MISSING) for i in range(len(names))]
    struct = msgspec.defstruct(
        f"_Line_{feed.table}",
        fields,
        rename={f"f{i}": name for i, name in enumerate(names)},
        gc=False,  # decoded JSON cannot form reference cycles
    )
    exact = feed.decoder.parse_float is Decimal
    decoder = msgspec.json.Decoder(struct, float_hook=Decimal if exact else None)
    return names, decoder.decode


@cache
def columnar_feeds() -> frozenset[str]:
    """The JSON feeds :func:`parse_columnar` reads column by column."""
    return frozenset(key for key, feed in _feeds().items() if _supported(feed))


def parse_columnar(feed_key: str, data: bytes, source: str) -> Iterator[Outcome]:
    """Parse a JSON-lines file of ``feed_key``: accepted lines as one :class:`ParsedColumns`,
    every doubtful line through the row path (a record or a quarantine entry)."""
    feed = _feeds()[feed_key]
    if feed_key not in columnar_feeds():
        yield from _parse_lines(data, source, feed)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield from _parse_lines(data, source, feed)
        return
    if json_document(text) is not None:  # one pretty-printed document: rare, the row path
        yield from _parse_lines(data, source, feed)
        return
    names, decode = _line_struct(feed_key)
    lines: list[msgspec.Struct] = []
    where: list[tuple[str, int, int]] = []  # per object: (raw line, line number, index)
    doubtful: list[tuple[str, int, int]] = []
    index = -1
    for raw, line_no, index in json_lines(text):
        try:
            line = decode(raw)  # not an object: a ValidationError (a ValueError)
        except (ValueError, RecursionError):
            doubtful.append((raw, line_no, index))
            continue
        if "\\u" in raw and not _escapes_encodable(raw, feed):
            doubtful.append((raw, line_no, index))
            continue
        lines.append(line)
        where.append((raw, line_no, index))
    if index < 0:
        yield from _parse_lines(data, source, feed)
        return

    assert feed.table is not None
    cols = _Columns(names, lines)
    rows = list(range(len(lines)))
    bad = _bad_rows(_validator(feed.schema).schema, cols, rows)
    good = [i for i in rows if i not in bad] if bad else rows
    doubtful.extend(where[i] for i in sorted(bad))
    if good:
        struct = _struct_type(feed.table)
        try:
            arrays = []
            for (name, kind), field in zip(_table_type(feed.table)[1], struct, strict=True):
                col = cols.get(name)
                if good is rows and not cols.has_gaps(name):
                    values = col
                else:
                    values = [None if col[i] is _MISSING else col[i] for i in good]
                arrays.append(_column_array(values, kind, field.type))
            arrays.extend(pa.nulls(len(good), f.type) for f in QUALITY_FIELDS)
            records = pa.StructArray.from_arrays(arrays, fields=[*struct, *QUALITY_FIELDS])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError, TypeError):
            # A value Arrow refuses (out of range, too many decimals): the row path decides
            # per line, and the worker quarantines what cannot be stored.
            doubtful.extend(where[i] for i in good)
        else:
            yield ParsedColumns(feed.table, [where[i][2] for i in good], records)
    if doubtful:
        validator, fast = _validator(feed.schema), _fast_check(feed.schema)
        for raw, line_no, idx in sorted(doubtful, key=lambda d: d[2]):
            yield _parse_line(raw, line_no, idx, validator, fast, feed)
