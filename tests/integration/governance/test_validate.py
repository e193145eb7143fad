"""The contracts on real Spark + Delta: planted defects caught by the named check, per family.

Two sources of defects: a simulated day (the simulator's own planted defects: withdrawn HS
2017 codes, wrong EDIFACT control counts, resent duplicates) through real ingestion into
bronze, and silver tables written here with one defect per check family.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyspark.sql.types as T
import pytest

from governance.contracts import contract_for
from governance.contracts.reference import seeds_from
from governance.dq.results import FAIL
from governance.dq.run import validate_and_report
from lakehouse.ingest.bronze import ingest_landing, init_lake
from lakehouse.settings import Settings
from lakehouse.simulator import generate

pytestmark = pytest.mark.integration

RECEIVED = datetime(2026, 11, 24, 12, 0, 0)
# Reference data as the dbt seeds hold it: UN/ECE Rec. 20 units and the WCO HS 2017 -> 2022
# correlation (the subheadings the simulator declares under their old codes among them).
UNITS = ["KGM", "GRM", "TNE", "LBR", "NAR", "NPR", "LTR", "H87", "C62"]
HS_PAIRS = [
    ("851712", "851713"),
    ("851712", "851714"),
    ("853950", "853951"),
    ("853950", "853952"),
    ("852990", "852410"),
    ("852990", "852990"),
    ("854140", "854143"),
    ("880220", "880690"),
    ("240399", "240412"),
    ("300220", "300241"),
]


@pytest.fixture()
def seeds(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    units = "code,name,quantity_kind,factor_to_base\n" + "".join(f"{u},{u},x,1\n" for u in UNITS)
    (folder / "unece_rec20_units.csv").write_text(units)
    pairs = "hs2017,hs2022\n" + "".join(f"{a},{b}\n" for a, b in HS_PAIRS)
    (folder / "hs_correlation_2017_2022.csv").write_text(pairs)
    with seeds_from(folder):
        yield folder


def local(base: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(base, lake_root=(tmp_path / "lake").resolve().as_uri())


def by_check(outcome) -> dict[tuple[str, str], object]:
    return {(r.table, r.check): r for r in outcome.run.results}


def test_the_simulators_planted_defects_are_caught_in_bronze(
    spark, base_settings, tmp_path, seeds
) -> None:
    settings = local(base_settings, tmp_path)
    summary = generate(
        settings.lake_root,
        declarations=400,
        seed=5,
        day=date(2026, 11, 24),
        malformed_rate=0.03,
        messages_per_interchange=20,
    )
    init_lake(spark, settings)
    ingest_landing(spark, settings)
    outcome = validate_and_report(spark, settings, zone="bronze", report_dir=tmp_path / "reports")
    results = by_check(outcome)
    decl = "bronze.cms_declarations"
    # Withdrawn HS 2017 codes (a sender defect the simulator plants on 25 % of such lines).
    assert results[(decl, "items.hs_code:not_withdrawn")].rows_failed > 0
    # Wrong UNT counts are kept and flagged in bronze: the envelope check names them.
    assert (
        results[(decl, "control_issues:empty")].rows_failed
        >= summary.expected_control_issues["cms/edifact"]
    )
    # Exact resubmissions repeat the declaration's key.
    assert summary.duplicates > 0
    assert results[(decl, "lrn+message_function+issue_datetime:unique")].rows_failed >= 2
    # A normal day's known defects stay under their thresholds: the night goes on.
    assert outcome.verdict.passed, outcome.verdict.message()
    assert outcome.verdict.warnings
    assert json.loads(outcome.json.read_text())["verdict"]["passed"] is True


def schema_of(table: str) -> T.StructType:
    columns = contract_for(table).model.to_schema().columns
    return T.StructType([T.StructField(n, c.dtype.type, True) for n, c in columns.items()])


def hexid(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def provenance(i: int) -> dict:
    return {
        "record_id": hexid(f"r{i}"),
        "batch_id": 1,
        "source_uri": "file:///landing/x",
        "received_at": RECEIVED,
        "bronze_flags": [],
    }


def payment(i: int, **changes) -> dict:
    row = provenance(i) | {
        "payment_id": f"P{i}",
        "kind": "payment",
        "lrn": f"L{i}",
        "tax_type": "CUD",
        "amount": Decimal("10.5"),
        "currency": "KES",
        "method": "EFT",
        "value_date": date(2026, 11, 24),
        "recorded_at": RECEIVED,
    }
    return row | changes


def item(i: int, **changes) -> dict:
    row = provenance(i) | {
        "item_record_id": hexid(f"i{i}"),
        "lrn": f"L{i}",
        "item_no": 1,
        "hs_code_declared": "85171300",
        "hs_code_list": "122",
        "procedure_code": "4000",
        "description": "phones",
        "origin_country": "CN",
        "customs_value": Decimal("100"),
        "value_currency": "USD",
        "statistical_value": Decimal("100"),
        "gross_mass": Decimal("12.5"),
        "net_mass": Decimal("11"),
        "mass_unit": "KGM",
        "quantity": Decimal("10"),
        "quantity_unit": "NAR",
        "packages": 1,
    }
    return row | changes


def shift(i: int, **changes) -> dict:
    row = provenance(i) | {
        "shift_id": f"S{i}",
        "officer_id": "OF1",
        "office_code": "X1",
        "shift_start": datetime(2026, 11, 24, 6),
        "shift_end": datetime(2026, 11, 24, 14),
    }
    return row | changes


def write(spark, settings: Settings, table: str, rows: list[dict]) -> None:
    zone, name = table.split(".")
    uri = settings.table_uri(zone, name)
    spark.createDataFrame(rows, schema_of(table)).write.format("delta").mode("overwrite").save(uri)


def test_planted_silver_defects_are_caught_by_the_named_check(
    spark, base_settings, tmp_path, seeds
) -> None:
    settings = local(base_settings, tmp_path)
    pay = "silver.stg_erp__payments"
    items = "silver.stg_cms__declaration_items"
    shifts = "silver.stg_hr__shifts"
    write(
        spark,
        settings,
        pay,
        [
            *(payment(i) for i in range(20)),
            payment(20, amount=Decimal("-5")),  # range
            payment(21, currency="KSH"),  # allowed values: not ISO 4217 (KES is)
            payment(22, payment_id=None),  # nullability
            payment(0, payment_id="P0-again"),  # key: record_id repeated
        ],
    )
    write(
        spark,
        settings,
        items,
        [
            *(item(i) for i in range(20)),
            item(20, net_mass=Decimal("13")),  # cross-column: net > gross
            item(21, hs_code_declared="85171200"),  # withdrawn HS 2017 subheading
            item(22, mass_unit="ZZZ"),  # unknown UN/ECE unit
            item(23, hs_code_declared="8517-12"),  # format
        ],
    )
    write(
        spark,
        settings,
        shifts,
        [
            *(shift(i) for i in range(5)),
            shift(5, shift_end=datetime(2026, 11, 24, 5)),  # cross-column: ends before start
        ],
    )
    outcome = validate_and_report(spark, settings, zone="silver", report_dir=tmp_path / "r")
    results = by_check(outcome)
    expected = {
        (pay, "amount:greater_than_or_equal_to"): 1,
        (pay, "currency:isin"): 1,
        (pay, "payment_id:not_null"): 1,
        (pay, "record_id:unique"): 2,
        (items, "net_mass:le_gross_mass"): 1,
        (items, "hs_code_declared:not_withdrawn"): 1,
        (items, "mass_unit:unece_rec20"): 1,
        (items, "hs_code_declared:str_matches"): 1,
        (shifts, "shift_end:after_shift_start"): 1,
    }
    for key, failed in expected.items():
        assert results[key].rows_failed == failed, key
    clean = [r for k, r in results.items() if k not in expected]
    assert all(r.rows_failed == 0 for r in clean), [r.describe() for r in clean if r.rows_failed]
    # Tables that do not exist yet are skipped and said so, not failed.
    assert "silver.stg_cms__responses" in outcome.run.skipped
    # Over threshold (0 by default): the night stops, naming table, check, rate, threshold.
    assert not outcome.verdict.passed
    assert f"{pay} currency:isin: 1 of 24 rows failed" in outcome.verdict.message() or any(
        f"{pay} currency:isin" in f for f in outcome.verdict.failures
    )
    assert results[(pay, "currency:isin")].status == FAIL
    # Failing rows are copied with the check that failed; the results are stored.
    failed_rows = spark.read.format("delta").load(
        settings.table_uri("governance", "dq_failed_rows")
    )
    copied = {
        (r.table, r.check): r.n
        for r in failed_rows.groupBy("table", "check")
        .count()
        .withColumnRenamed("count", "n")
        .collect()
    }
    assert copied == {k: v for k, v in expected.items()}
    xxx = failed_rows.filter("check = 'currency:isin'").first().record
    assert json.loads(xxx)["currency"] == "KSH"
    stored = spark.read.format("delta").load(settings.table_uri("governance", "dq_results"))
    assert stored.filter(f"run_id = '{outcome.run.run_id}'").count() == len(outcome.run.results)
    # Re-validating the same versions is the same run: nothing is added.
    again = validate_and_report(spark, settings, zone="silver", report_dir=tmp_path / "r")
    assert again.run.run_id == outcome.run.run_id
    assert (
        spark.read.format("delta").load(settings.table_uri("governance", "dq_results")).count()
        == stored.count()
    )


def test_a_missing_column_or_wrong_type_fails_the_table_schema_check(
    spark, base_settings, tmp_path, seeds
) -> None:
    settings = local(base_settings, tmp_path)
    table = "silver.stg_hr__shifts"
    schema = T.StructType(
        [
            T.StructField(f.name, T.StringType() if f.name == "shift_start" else f.dataType, True)
            for f in schema_of(table).fields
            if f.name != "shift_end"
        ]
    )
    row = shift(1, shift_start="2026-11-24 06:00")
    row.pop("shift_end")
    uri = settings.table_uri("silver", "stg_hr__shifts")
    spark.createDataFrame([row], schema).write.format("delta").save(uri)
    outcome = validate_and_report(spark, settings, table=table, report_dir=tmp_path / "r")
    schema_checks = {r.column: r for r in outcome.run.results if r.family == "schema"}
    assert {"shift_end", "shift_start"} <= set(schema_checks), outcome.run.results
    assert all(r.status == FAIL for r in schema_checks.values())
    assert not outcome.verdict.passed


def pandera_failed(contract, errors: dict) -> set[str]:
    """The contract's check names that pandera's own validation reports as failed."""
    labels: dict[tuple[str, str], str] = {}
    for name, col in contract.model.to_schema().columns.items():
        labels[(name, "not_nullable")] = f"{name}:not_null"
        for check in col.checks:
            labels[(name, check.error or check.name)] = f"{name}:{check.name}"
    rules = {rule.description or rule.name: rule.name for rule in contract.rules}
    key = [spec.name for spec in contract.checks() if spec.is_key]
    failed = set()
    for reasons in errors.values():
        for reason, items in reasons.items():
            for item in items:
                if reason == "DUPLICATES":
                    failed.update(key)
                elif (item["column"], item["check"]) in labels:
                    failed.add(labels[(item["column"], item["check"])])
                else:
                    failed.add(rules[item["check"]])  # KeyError: pandera named an unknown check
    return failed


def pandera_counts(spark, contract, rows: list[dict]) -> dict[str, int]:
    """Per check, the rows pandera fails it on: pandera's pyspark backend says only pass or
    fail per check, so each row is validated alone (keys are judged on the whole frame)."""
    from pandera.config import ValidationDepth, config_context

    schema = schema_of(contract.table)
    counts: dict[str, int] = {}
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        for row in rows:
            out = contract.schema().validate(check_obj=spark.createDataFrame([row], schema))
            for check in pandera_failed(contract, dict(out.pandera.errors or {})):
                counts[check] = counts.get(check, 0) + 1
        whole = contract.schema().validate(check_obj=spark.createDataFrame(rows, schema))
        verdict = pandera_failed(contract, dict(whole.pandera.errors or {}))
    # Row checks: a check fails on the whole frame exactly when it failed on some row.
    assert {c for c in verdict if not c.endswith(":unique")} == set(counts)
    counts.update({c: -1 for c in verdict if c.endswith(":unique")})  # failed, count unknown
    return counts


def test_compiled_checks_count_what_pandera_validation_finds(spark, seeds) -> None:
    """The validator's one-pass counts agree, check by check, with pandera's own validation."""
    from governance.dq.validate import check_table

    planted = {
        "silver.stg_erp__payments": [
            payment(0),
            payment(1, amount=Decimal("-5"), currency="KSH"),  # two checks on one row
            payment(2, payment_id=None, amount=None),
            payment(3, record_id="not-a-sha256"),
            payment(0, payment_id="P0-again"),  # record_id repeated
        ],
        "silver.stg_cms__declaration_items": [
            item(0),
            item(1, net_mass=Decimal("13"), mass_unit="ZZZ"),
            item(2, hs_code_declared="85171200", origin_country="XX"),
            item(3, hs_code_declared="8517-12", quantity=Decimal("-1"), quantity_unit=None),
        ],
    }
    compared = 0
    for table, rows in planted.items():
        contract = contract_for(table)
        expected = pandera_counts(spark, contract, rows)
        df = spark.createDataFrame(rows, schema_of(table))
        results, errors, _ = check_table(df, contract)
        assert not errors, errors  # the shape is right: only data checks fail
        counted = {r.check: r.rows_failed for r in results if r.rows_failed}
        assert set(counted) == set(expected), table
        for check, failed in expected.items():
            assert counted[check] == (2 if failed == -1 else failed), (table, check)
        compared += len(expected)
    assert compared >= 10  # the planted defects span nullability, format, range, codes, rules


def test_an_empty_table_is_counted_when_spark_drops_the_observer(spark, seeds) -> None:
    """Zero rows: every check counted (0 of 0), also where Spark optimised the observer away."""
    from governance.dq.validate import check_table

    contract = contract_for("silver.stg_erp__payments")
    df = spark.createDataFrame([], schema_of(contract.table))
    results, errors, failed = check_table(df, contract)
    assert not errors
    assert failed is None
    assert len(results) == len(contract.checks())
    assert {(r.rows_checked, r.rows_failed) for r in results} == {(0, 0)}
