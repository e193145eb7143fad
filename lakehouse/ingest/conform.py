"""Fit a parsed record to its bronze columns without losing what the sender sent.

Why: real senders write amounts with more decimals than any sane column (an upstream system
that stores floats sends ``2359189.8000000003``), integers too large for ``int``, and so on.
Such a value is valid input, merely unusual, so rejecting the whole message for it (as Arrow's
"Rescaling Decimal value would cause data loss" did) loses a real declaration. Instead the
value is fitted to its column (rounded half-even to the column's scale, or left null when it
cannot be represented at all), the literal text goes to ``source_literals`` under the value's
field path, and a flag in ``flags`` says what was done. Nothing is lost and the record loads.

The worker only calls :func:`conform` on the slow path, after Arrow refused a batch, so
ordinary data pays nothing for it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

import pyarrow as pa

FLAGS = "flags"
LITERALS = "source_literals"


class _Fit:
    """The flags and literals gathered while one record is fitted."""

    def __init__(self) -> None:
        self.flags: list[str] = []
        self.literals: dict[str, str] = {}

    def note(self, rule: str, path: str, value: Any, what: str) -> None:
        literal = value if isinstance(value, str) else str(value)
        self.flags.append(f"{rule} {path}: {literal!r} {what}")
        self.literals[path] = literal


def conform(row: dict[str, Any], typ: pa.StructType) -> dict[str, Any]:
    """A copy of ``row`` whose values all fit ``typ``, with what changed flagged.

    ``typ`` is the table's record type; when it has the quality columns (``flags``,
    ``source_literals``) the notes are appended to what the parser already put there.
    """
    fit = _Fit()
    out = {f.name: _value(row.get(f.name), f.type, f.name, fit) for f in typ}
    if fit.flags and FLAGS in out and LITERALS in out:
        out[FLAGS] = [*(out[FLAGS] or []), *fit.flags]
        literals = dict(out[LITERALS] or {})
        literals.update(fit.literals)
        out[LITERALS] = literals
    return out


def _value(value: Any, typ: pa.DataType, path: str, fit: _Fit) -> Any:
    if value is None:
        return None
    if pa.types.is_struct(typ):
        if not isinstance(value, dict):
            fit.note("not-a-record", path, value, "is not a record; kept as text only")
            return None
        return {f.name: _value(value.get(f.name), f.type, f"{path}.{f.name}", fit) for f in typ}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        if not isinstance(value, list | tuple):
            fit.note("not-a-list", path, value, "is not a list; kept as text only")
            return None
        elem = typ.value_type
        return [_value(v, elem, f"{path}[{i}]", fit) for i, v in enumerate(value)]
    if pa.types.is_decimal(typ):
        return _decimal(value, typ, path, fit)
    if pa.types.is_integer(typ):
        return _integer(value, typ, path, fit)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return value if isinstance(value, str) else str(value)
    if pa.types.is_timestamp(typ) and not isinstance(value, datetime):
        fit.note("not-a-timestamp", path, value, "is not a timestamp; kept as text only")
        return None
    if pa.types.is_date(typ) and not isinstance(value, date):
        fit.note("not-a-date", path, value, "is not a date; kept as text only")
        return None
    return value


def _decimal(value: Any, typ: pa.Decimal128Type, path: str, fit: _Fit) -> Decimal | None:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        fit.note("not-a-number", path, value, "is not a number; kept as text only")
        return None
    if not number.is_finite():
        fit.note("not-finite", path, value, "is not a finite number; kept as text only")
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if -exponent > typ.scale:
        with localcontext(prec=2 * typ.precision + -exponent):  # never round the integer part
            number = number.quantize(Decimal(1).scaleb(-typ.scale), rounding=ROUND_HALF_EVEN)
        fit.note("decimal-rounded", path, value, f"rounded to {typ.scale} decimals")
    if number.adjusted() >= typ.precision - typ.scale:
        fit.note(
            "decimal-out-of-range",
            path,
            value,
            f"has more than {typ.precision - typ.scale} integer digits; kept as text only",
        )
        return None
    return number


def _integer(value: Any, typ: pa.DataType, path: str, fit: _Fit) -> int | None:
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        fit.note("not-an-integer", path, value, "is not an integer; kept as text only")
        return None
    bits = typ.bit_width - (1 if pa.types.is_signed_integer(typ) else 0)
    low = -(2**bits) if pa.types.is_signed_integer(typ) else 0
    if not low <= number < 2**bits:
        fit.note("integer-out-of-range", path, value, "does not fit the column; kept as text")
        return None
    return number
