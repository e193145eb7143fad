"""A struct column type for pandera's pyspark engine, which knows arrays and maps but not structs.

Why: bronze keeps provenance (``_ingest``) and shipment details as Spark structs, and a
contract must state their types like any other column's. Registering the type with pandera's
engine lets a model annotate a column with a ``pyspark.sql.types.StructType``; two structs
match when their field names and field types match (nullability is not compared: Delta
reports every read column as nullable).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyspark.sql.types as pst
from pandera import dtypes
from pandera.engines.pyspark_engine import DataType, Engine


def _shape(kind: pst.DataType) -> Any:
    """A type without nullability flags, for comparison."""
    if isinstance(kind, pst.StructType):
        return tuple((f.name, _shape(f.dataType)) for f in kind.fields)
    if isinstance(kind, pst.ArrayType):
        return ("array", _shape(kind.elementType))
    if isinstance(kind, pst.MapType):
        return ("map", _shape(kind.keyType), _shape(kind.valueType))
    return kind.simpleString()


@Engine.register_dtype(equivalents=[pst.StructType])
@dtypes.immutable(init=True)
class StructType(DataType):
    """pandera's view of a :class:`pyspark.sql.types.StructType` column."""

    type: pst.StructType = dataclasses.field(default=pst.StructType, init=False)

    def __init__(self, fields: Any = ()) -> None:
        object.__setattr__(self, "type", pst.StructType(list(fields)))

    @classmethod
    def from_parametrized_dtype(cls, ps_dtype: pst.StructType) -> DataType:
        """Build from a concrete Spark struct type."""
        return cls(fields=ps_dtype.fields)

    def check(self, pandera_dtype: dtypes.DataType, data_container: Any = None) -> bool:
        """Same field names and field types, in order."""
        try:
            other = Engine.dtype(pandera_dtype)
        except TypeError:
            return False
        kind = getattr(other, "type", None)
        return isinstance(kind, pst.StructType) and _shape(kind) == _shape(self.type)

    def __str__(self) -> str:
        return self.type.simpleString()
