"""Rule builders shared by the contracts: codes, nested items, date windows, cross-column sums.

Each returns a :class:`~governance.contracts.base.Rule` whose predicate is built only when the
validator asks (Spark columns need a session), and reads reference lists and thresholds then,
so a changed seed or ``thresholds.yml`` applies on the next run.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

from governance.contracts import reference
from governance.contracts.base import Rule
from governance.contracts.config import load_thresholds

Values = Callable[[], frozenset[str]]
ItemCondition = Callable[[Column], Column]


def _norm(c: Column) -> Column:
    """A code as compared: trimmed, upper case (bronze keeps what the sender wrote)."""
    return F.upper(F.trim(c))


def code_in(column: str, values: Values, name: str = "allowed") -> Rule:
    """A top-level code column's value (any case, any padding) is in a reference list."""
    return Rule(
        f"{column}:{name}",
        column,
        "allowed_values",
        lambda: _norm(F.col(column)).isin(sorted(values())),
        f"{column} must be a known code ({name})",
    )


def each(array: str, field: str, name: str, family: str, cond: ItemCondition) -> Rule:
    """Every element of an array column passes ``cond`` (an empty or null array passes)."""
    return Rule(
        f"{array}.{field}:{name}",
        f"{array}[].{field}",
        family,
        lambda: F.forall(F.col(array), cond),
        f"every {array} element's {field}: {name}",
    )


def item_code_in(array: str, field: str, values: Values, name: str = "allowed") -> Rule:
    """Every element's code is in a reference list (null codes pass: nullability is separate)."""
    return each(
        array,
        field,
        name,
        "allowed_values",
        lambda item: item[field].isNull() | _norm(item[field]).isin(sorted(values())),
    )


def item_non_negative(array: str, field: str) -> Rule:
    """Every element's amount, mass or quantity is >= 0."""
    return each(array, field, "ge_0", "range", lambda item: item[field] >= 0)


def item_matches(array: str, field: str, pattern: str, name: str = "format") -> Rule:
    """Every element's text matches a regular expression (after trimming)."""
    return each(array, field, name, "format", lambda item: F.trim(item[field]).rlike(pattern))


def hs_not_withdrawn(array: str | None, field: str) -> Rule:
    """The HS code's subheading (first 6 digits) is not one HS 2022 replaced."""

    def ok(code: Column) -> Column:
        return ~F.substring(F.trim(code), 1, 6).isin(sorted(reference.withdrawn_hs_subheadings()))

    if array is None:
        return Rule(
            f"{field}:not_withdrawn",
            field,
            "allowed_values",
            lambda: ok(F.col(field)),
            f"{field} must be an HS 2022 code, not a withdrawn HS 2017 subheading",
        )
    return each(array, field, "not_withdrawn", "allowed_values", lambda item: ok(item[field]))


def net_le_gross(array: str | None, net: str = "net_mass", gross: str = "gross_mass") -> Rule:
    """Net mass does not exceed gross mass (same row, same unit)."""
    if array is None:
        return Rule(
            f"{net}:le_{gross}",
            net,
            "cross_column",
            lambda: F.col(net) <= F.col(gross),
            f"{net} must not exceed {gross}",
        )
    return each(array, net, f"le_{gross}", "cross_column", lambda item: item[net] <= item[gross])


def within_window(column: str, received: str) -> Rule:
    """A business time lies inside its batch's window around the time we received it."""

    def predicate() -> Column:
        limits = load_thresholds()
        value, got = F.col(column).cast("timestamp"), F.col(received)
        earliest = got - F.make_dt_interval(F.lit(limits.max_age_days))
        latest = got + F.make_dt_interval(F.lit(0), F.lit(limits.max_future_hours))
        return (value >= earliest) & (value <= latest)

    return Rule(
        f"{column}:window",
        column,
        "window",
        predicate,
        f"{column} must lie within the batch's window around {received}",
    )


def close(a: Column, b: Column) -> Column:
    """Two amounts agree within the configured relative and absolute tolerance."""
    limits = load_thresholds()
    allowed = F.greatest(
        F.lit(limits.absolute_tolerance),
        F.greatest(F.abs(a), F.abs(b)) * F.lit(limits.relative_tolerance),
    )
    return F.abs(a - b) <= allowed


def agrees(column: str, expr: str, name: str) -> Rule:
    """A column agrees with a SQL expression of its row's columns, within tolerance."""
    return Rule(
        f"{column}:{name}",
        column,
        "cross_column",
        lambda: close(F.col(column), F.expr(expr)),
        f"{column} must agree with {expr} (tolerance)",
    )


def invoice_matches_items() -> Rule:
    """Items' customs values add up to the invoice amount, converted where currencies differ.

    Items in the invoice currency are summed as they are; items in another currency are
    compared with the invoice amount times the declared exchange rate (national currency).
    A declaration whose items mix currencies, or without an invoice amount, is not applicable.
    """

    def predicate() -> Column:
        items = F.col("items")
        same = F.forall(
            items, lambda i: _norm(i["value_currency"]) == _norm(F.col("invoice_currency"))
        )
        total = F.aggregate(
            items,
            F.lit(0).cast("decimal(38,18)"),
            # Spark widens decimal(38,18) + decimal(38,18) to (38,17): keep the sum's type fixed.
            lambda acc, i: (acc + F.coalesce(i["customs_value"], F.lit(0))).cast("decimal(38,18)"),
        )
        converted = F.col("invoice_amount") * F.col("exchange_rate")
        other = F.forall(
            items, lambda i: _norm(i["value_currency"]) != _norm(F.col("invoice_currency"))
        )
        return (
            F.when(F.col("invoice_amount").isNull() | (F.size(items) == 0), F.lit(None))
            .when(same, close(total, F.col("invoice_amount")))
            .when(other & F.col("exchange_rate").isNotNull(), close(total, converted))
        )

    return Rule(
        "invoice_amount:invoice_matches_items",
        "invoice_amount",
        "cross_column",
        predicate,
        "the items' customs values must add up to the invoice amount (converted)",
    )


def array_empty(column: str, family: str = "envelope") -> Rule:
    """An array column holds nothing (e.g. no EDIFACT control-count issue)."""
    return Rule(
        f"{column}:empty",
        column,
        family,
        lambda: F.coalesce(F.size(F.col(column)) <= 0, F.lit(True)),
        f"{column} must be empty",
    )


def ordered(first: str, second: str, *, strict: bool = False) -> Rule:
    """One time or date column does not come after another (start before end)."""
    return Rule(
        f"{second}:after_{first}",
        second,
        "cross_column",
        lambda: (F.col(second) > F.col(first)) if strict else (F.col(second) >= F.col(first)),
        f"{second} must come after {first}",
    )


def null_exactly_when(column: str, condition: str, name: str) -> Rule:
    """``column`` is null exactly when a SQL condition holds (e.g. no rule for a kept row).

    Why: a disposition or a derived code is explained by its companion column, so a row whose
    reason is missing (or given where none applies) is a transformation defect.
    """
    return Rule(
        f"{column}:{name}",
        column,
        "cross_column",
        lambda: F.col(column).isNull() == F.expr(condition),
        f"{column} must be null exactly when {condition}",
    )
