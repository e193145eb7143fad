"""Values a sender may send that do not fit a bronze column load fitted, flagged and kept."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakehouse.ingest.conform import conform

pytestmark = pytest.mark.unit

DEC = pa.decimal128(38, 18)
TYPE = pa.struct(
    [
        ("amount", DEC),
        ("items", pa.list_(pa.struct([("value", DEC), ("packages", pa.int32())]))),
        ("flags", pa.list_(pa.string())),
        ("source_literals", pa.map_(pa.string(), pa.string())),
    ]
)


def test_a_float_written_as_text_is_rounded_flagged_and_its_literal_kept() -> None:
    row = conform({"amount": Decimal("0.30000000000000004441")}, TYPE)
    assert row["amount"] == Decimal("0.300000000000000044")
    assert row["source_literals"] == {"amount": "0.30000000000000004441"}
    assert row["flags"] == [
        "decimal-rounded amount: '0.30000000000000004441' rounded to 18 decimals"
    ]
    pa.array([row], type=TYPE)  # now storable


def test_values_that_cannot_be_stored_are_null_with_their_text_kept() -> None:
    row = conform(
        {"items": [{"value": Decimal("1" * 25), "packages": 2**40}], "flags": ["parser"]}, TYPE
    )
    assert row["items"] == [{"value": None, "packages": None}]
    assert row["source_literals"] == {"items[0].value": "1" * 25, "items[0].packages": str(2**40)}
    assert row["flags"][0] == "parser"  # what the parser flagged stays first
    assert [f.split()[0] for f in row["flags"][1:]] == [
        "decimal-out-of-range",
        "integer-out-of-range",
    ]


def test_a_row_that_fits_is_unchanged() -> None:
    row = {"amount": Decimal("12.5"), "items": [], "flags": None, "source_literals": None}
    assert conform(row, TYPE) == row


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_any_decimal_becomes_storable_and_keeps_its_text_when_changed(value: Decimal) -> None:
    row = conform({"amount": value}, TYPE)
    pa.array([row], type=TYPE)
    if row["amount"] != value:
        assert row["source_literals"]["amount"] == str(value)
