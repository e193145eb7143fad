"""Spark DDL to pyspark types without a JVM.

Why: the registry (:mod:`lakehouse.tables`) writes schemas as DDL, and contracts must state the
same types for pandera. ``StructType.fromDDL`` needs a running Spark session, but contracts are
built (and their registry test runs) without one, so this small recursive parser covers the
DDL the registry uses: scalars, ``decimal(p,s)``, ``array<>``, ``map<,>`` and ``struct<>``.
"""

from __future__ import annotations

import re

import pyspark.sql.types as T

from lakehouse.tables import split_ddl

_SCALARS: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "integer": T.IntegerType(),
    "bigint": T.LongType(),
    "long": T.LongType(),
    "smallint": T.ShortType(),
    "tinyint": T.ByteType(),
    "double": T.DoubleType(),
    "float": T.FloatType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "binary": T.BinaryType(),
}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)$")


split_top_level = split_ddl


def _field(text: str) -> tuple[str, str]:
    """``name type`` or ``name:type`` (struct fields use a colon, columns a space)."""
    match = re.match(r"\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*[: ]\s*(.+)$", text, re.S)
    if not match:
        raise ValueError(f"not a DDL field: {text!r}")
    return match.group(1), match.group(2).strip()


def parse_type(text: str) -> T.DataType:
    """One DDL type (``array<struct<a:int>>``, ``decimal(38,18)``, ...) as a pyspark type."""
    text = text.strip()
    lower = text.lower()
    if lower in _SCALARS:
        return _SCALARS[lower]
    if decimal := _DECIMAL.match(lower):
        return T.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    if lower.startswith("array<") and lower.endswith(">"):
        return T.ArrayType(parse_type(text[6:-1]), True)
    if lower.startswith("map<") and lower.endswith(">"):
        key, value = split_top_level(text[4:-1])
        return T.MapType(parse_type(key), parse_type(value), True)
    if lower.startswith("struct<") and lower.endswith(">"):
        return T.StructType(
            [
                T.StructField(n, parse_type(t), True)
                for n, t in map(_field, split_top_level(text[7:-1]))
            ]
        )
    raise ValueError(f"unsupported DDL type {text!r}")


def parse_columns(ddl: str) -> dict[str, T.DataType]:
    """A table's DDL (``a string, b array<int>``) as ordered column name -> type."""
    return {name: parse_type(kind) for name, kind in map(_field, split_top_level(ddl))}
