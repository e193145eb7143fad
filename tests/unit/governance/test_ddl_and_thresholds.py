"""DDL types without a JVM (Hypothesis round trip), thresholds, gate and verdict lines."""

from __future__ import annotations

import os

import pyspark.sql.types as T
import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.contracts.config import ThresholdsError, load_thresholds, parse_thresholds
from governance.contracts.ddl import parse_columns, parse_type
from governance.dq.results import FAIL, PASS, WARN, CheckResult, gate

pytestmark = pytest.mark.unit

_scalars = st.sampled_from(
    [
        T.StringType(),
        T.IntegerType(),
        T.LongType(),
        T.DoubleType(),
        T.BooleanType(),
        T.DateType(),
        T.TimestampType(),
        T.DecimalType(38, 18),
        T.DecimalType(10, 2),
    ]
)
_names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


def _types(children):
    return st.one_of(
        st.builds(lambda t: T.ArrayType(t, True), children),
        st.builds(lambda k, v: T.MapType(k, v, True), st.just(T.StringType()), children),
        st.lists(st.tuples(_names, children), min_size=1, max_size=4, unique_by=lambda f: f[0]).map(
            lambda fs: T.StructType([T.StructField(n, t, True) for n, t in fs])
        ),
    )


@given(st.recursive(_scalars, _types, max_leaves=8))
def test_parse_type_round_trips_spark_simple_strings(kind: T.DataType) -> None:
    assert parse_type(kind.simpleString()) == kind


def test_parse_columns_keeps_order_and_nested_commas() -> None:
    cols = parse_columns("a string, b array<struct<x:decimal(38,18), y:int>>, c map<string,string>")
    assert list(cols) == ["a", "b", "c"]
    assert cols["b"].elementType["x"].dataType == T.DecimalType(38, 18)


def test_unknown_type_is_named() -> None:
    with pytest.raises(ValueError, match="unsupported DDL type 'geometry'"):
        parse_type("geometry")


def test_thresholds_first_match_wins_and_default_applies() -> None:
    limits = parse_thresholds(
        {
            "default": 0.01,
            "checks": [
                {"match": "bronze.*:x:*", "max_rate": 0.2},
                {"match": "*:x:*", "max_rate": 0.3},
            ],
        }
    )
    assert limits.max_rate("bronze.t", "x:ge_0") == 0.2
    assert limits.max_rate("silver.t", "x:ge_0") == 0.3
    assert limits.max_rate("silver.t", "y:ge_0") == 0.01


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"default": 2}, "outside 0..1"),
        ({"checks": [{"max_rate": 0.1}]}, r"checks\[0\]"),
        ({"checks": [{"match": "a", "max_rate": "x"}]}, "not a number"),
    ],
)
def test_bad_thresholds_are_named(doc, message) -> None:
    with pytest.raises(ThresholdsError, match=message):
        parse_thresholds(doc)


def test_the_shipped_thresholds_parse() -> None:
    limits = load_thresholds()
    assert 0 <= limits.default <= 1 and limits.max_age_days > 0


def test_an_administrations_thresholds_file_replaces_the_shipped_one(tmp_path, monkeypatch) -> None:
    own = tmp_path / "thresholds.yml"
    own.write_text("default: 0.02\n")
    monkeypatch.setenv("LAKEHOUSE_DQ_THRESHOLDS", str(own))
    assert load_thresholds().max_rate("silver.t", "x:isin") == 0.02
    own.write_text("default: 0.03\n")  # edited between runs: read again
    os.utime(own, ns=(1, 1))
    assert load_thresholds().max_rate("silver.t", "x:isin") == 0.03
    monkeypatch.setenv("LAKEHOUSE_DQ_THRESHOLDS", str(tmp_path / "missing.yml"))
    with pytest.raises(ThresholdsError, match=r"cannot read thresholds .*missing\.yml"):
        load_thresholds()


def _result(failed: int, max_rate: float, table: str = "silver.t") -> CheckResult:
    return CheckResult(table, "amount:ge_0", "amount", "range", 1000, failed, max_rate)


def test_status_pass_warn_fail() -> None:
    assert _result(0, 0.0).status == PASS
    assert _result(5, 0.01).status == WARN
    assert _result(20, 0.01).status == FAIL


def test_gate_fails_over_threshold_and_names_table_check_rate_threshold() -> None:
    verdict = gate([_result(5, 0.01, "bronze.t"), _result(20, 0.01)])
    assert not verdict.passed
    assert "silver.t amount:ge_0: 20 of 1,000 rows failed (2.000%), threshold 1.000%" in (
        verdict.message()
    )
    assert verdict.zones["silver"].startswith("silver: FAIL")
    assert verdict.zones["bronze"].startswith("bronze: WARN")
    assert len(verdict.warnings) == 1


def test_gate_passes_under_threshold() -> None:
    assert gate([_result(5, 0.01)]).passed
    assert gate([]).passed


@given(st.integers(0, 10_000), st.integers(1, 10_000), st.floats(0, 1))
def test_status_follows_the_rate(failed: int, rows: int, max_rate: float) -> None:
    failed = min(failed, rows)
    result = CheckResult("silver.t", "c", "c", "range", rows, failed, max_rate)
    expected = PASS if failed == 0 else (FAIL if failed / rows > max_rate else WARN)
    assert result.status == expected
