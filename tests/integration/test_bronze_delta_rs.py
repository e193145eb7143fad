"""Bronze committed by delta-rs, read by delta-spark: schemas, statistics, engines, recovery.

The workers' Parquet files become Delta data files as they are, so what delta-spark would
have computed (the Arrow schema, the min/max/null statistics readers skip files with) must
come out the same; and the JVM-free and the Spark parse must give the same tables.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import date
from pathlib import Path

import pytest

from lakehouse.ingest.bronze import TXN_DATA, _struct, ingest_landing, table_specs
from lakehouse.ingest.delta_commit import arrow_schema, commit_parts, describe_part, encode_part
from lakehouse.simulator import generate
from lakehouse.tables import BRONZE, STATS_COLUMNS
from tests.integration.test_bronze_ingest import DAY, land, local_settings, ndjson, payment

pytestmark = pytest.mark.integration


def test_the_jvm_free_arrow_schemas_are_sparks(spark) -> None:
    from pyspark.sql.pandas.types import to_arrow_schema

    for spec in table_specs():
        ingest = spec.name in BRONZE
        spark_schema = to_arrow_schema(_struct(spec, with_ingest=ingest), timezone="UTC")
        assert arrow_schema(spec, with_ingest=ingest) == spark_schema, spec.name


def _log_stats(uri: str) -> list[dict]:
    """The statistics of every file added to a local Delta table."""
    stats = []
    for entry in sorted(
        Path(uri.removeprefix("file:").removeprefix("//")).glob("_delta_log/*.json")
    ):
        for line in entry.read_text().splitlines():
            add = json.loads(line).get("add")
            if add and add.get("stats"):
                stats.append(json.loads(add["stats"]))
    return stats


def _get(values: dict, dotted: str):
    for name in dotted.split("."):
        values = (values or {}).get(name)
    return values


def _table_bounds(stats: list[dict], column: str) -> tuple:
    """(min, max, nulls, rows) over all files; a bound is None when any file lacks it."""
    lows = [_get(s.get("minValues"), column) for s in stats if s["numRecords"]]
    highs = [_get(s.get("maxValues"), column) for s in stats if s["numRecords"]]
    nulls = sum(_get(s.get("nullCount"), column) or 0 for s in stats)
    rows = sum(s["numRecords"] for s in stats)
    low = None if None in lows or not lows else min(lows)
    high = None if None in highs or not highs else max(highs)
    return low, high, nulls, rows


def test_statistics_match_what_delta_spark_computes(spark, base_settings, tmp_path) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    long_ref = "ZÉ-DÉCLARATION-" + "x" * 40  # longer than Delta's 32-character string prefix
    rows = [payment(i) for i in range(6)]
    rows[1]["declaration_ref"] = long_ref
    rows[2]["declaration_ref"] = None
    rows[3]["declaration_ref"] = "A-first"
    land(tmp_path / "lake", "erp/payments", "a.ndjson", ndjson(rows[:3]))
    land(tmp_path / "lake", "erp/payments", "b.ndjson", ndjson(rows[3:]))
    ingest_landing(spark, settings, engine="local")
    ours_uri = settings.table_uri("bronze", "erp_payments")
    # The same rows written by delta-spark into a table with the same statistics columns.
    theirs_uri = (tmp_path / "spark_copy").resolve().as_uri()
    spark.sql(
        f"CREATE TABLE delta.`{theirs_uri}` USING delta "
        f"TBLPROPERTIES ('delta.dataSkippingStatsColumns' = "
        f"'{','.join(STATS_COLUMNS['erp_payments'])}') "
        f"AS SELECT * FROM delta.`{ours_uri}`"
    )
    ours, theirs = _log_stats(ours_uri), _log_stats(theirs_uri)
    for column in STATS_COLUMNS["erp_payments"]:
        low, high, nulls, count = _table_bounds(ours, column)
        s_low, s_high, s_nulls, s_count = _table_bounds(theirs, column)
        assert (nulls, count) == (s_nulls, s_count), column
        if column.endswith("received_at"):  # the same instant, spelled by each engine
            from datetime import datetime

            assert datetime.fromisoformat(low) == datetime.fromisoformat(s_low), column
            assert datetime.fromisoformat(high) == datetime.fromisoformat(s_high), column
            continue
        assert low == s_low, column
        if column == "declaration_ref":  # a cut maximum would be too small: ours is left out
            assert high is None and s_high.startswith(long_ref[:32])
        else:
            assert high == s_high, column
    # Filtered reads (which skip files by these statistics) find every row.
    ours_df = spark.read.format("delta").load(ours_uri)
    theirs_df = spark.read.format("delta").load(theirs_uri)
    for where in (
        f"declaration_ref = '{long_ref}'",
        f"declaration_ref >= '{long_ref[:33]}'",
        "declaration_ref < 'B'",
        "declaration_ref IS NULL",
        "payment_id = 'PAY00004'",
        f"value_date = DATE'{DAY}'",
        "_ingest.batch_id = 1",
    ):
        assert ours_df.where(where).count() == theirs_df.where(where).count() > 0, where


def test_timestamp_bounds_are_milliseconds_rounded_outwards() -> None:
    import pyarrow as pa

    from lakehouse.tables import FILE_LOG

    schema = arrow_schema(FILE_LOG, with_ingest=False)
    stamp = pa.array([1_700_000_000_123_456, 1_700_000_000_000_001], pa.timestamp("us", "UTC"))
    rows = pa.table(
        {f.name: pa.nulls(2, f.type) for f in schema} | {"modified_at": stamp}, schema=schema
    )
    part = describe_part("ingest_file_log", "file:/x/part.parquet", encode_part(rows, schema))
    stats = json.loads(part.stats)
    assert part.rows == 2 and stats["numRecords"] == 2
    assert stats["nullCount"]["batch_id"] == 2 and "batch_id" not in stats["minValues"]
    # modified_at is not a statistics column of the file log: nothing claimed for it.
    assert "modified_at" not in stats["minValues"]
    from lakehouse.ingest.delta_commit import _timestamp_text

    assert _timestamp_text(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


def _table_rows(spark, settings, name: str) -> list:
    """A bronze table's rows without the per-run times and the lake's path, in a stable order."""
    df = spark.read.format("delta").load(settings.table_uri("bronze", name))
    if "_ingest" in df.columns:
        df = df.withColumn("_ingest", df["_ingest"].dropFields("ingested_at"))
    else:
        df = df.drop("quarantined_at")
    root = settings.lake_root.removeprefix("file://")
    return sorted(str(row).replace(root, "<lake>") for row in df.collect())


def test_the_local_and_the_spark_parse_give_identical_tables(
    spark, base_settings, tmp_path
) -> None:
    lakes = {}
    for engine in ("local", "spark"):
        settings = local_settings(spark, base_settings, tmp_path / engine)
        generate(
            settings.lake_root,
            declarations=25,
            seed=7,
            day=date(2026, 11, 24),
            malformed_rate=0.05,
            messages_per_interchange=10,
        )
        report = ingest_landing(spark, settings, engine=engine)
        assert report.files_ingested > 0
        lakes[engine] = settings
    for name in [*BRONZE, "quarantine"]:
        local_rows = _table_rows(spark, lakes["local"], name)
        assert local_rows == _table_rows(spark, lakes["spark"], name), name


def test_files_a_killed_run_wrote_are_removed_never_committed(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    land(root, "erp/payments", "a.ndjson", ndjson([payment(1)]))
    # What a run killed between its workers' writes and its commit leaves in a table folder.
    table = root / "bronze" / "erp_payments"
    orphan = table / ("part-b000000000001-" + "0" * 32 + ".parquet")
    orphan.write_bytes(b"PAR1 cut short")
    report = ingest_landing(spark, settings)
    assert report.records == {"erp_payments": 1}
    assert not orphan.exists()
    assert (
        spark.read.format("delta").load(settings.table_uri("bronze", "erp_payments")).count() == 1
    )


def test_delta_rs_skips_a_recorded_batch_and_never_checkpoints(
    spark, base_settings, tmp_path
) -> None:
    import pyarrow as pa

    settings = local_settings(spark, base_settings, tmp_path)
    spec = BRONZE["hr_postings"]
    schema = arrow_schema(spec, with_ingest=True)
    uri = settings.table_uri("bronze", spec.name)

    def part(i: int):
        rows = pa.table({f.name: pa.nulls(1, f.type) for f in schema}, schema=schema)
        rows = rows.set_column(0, "posting_id", pa.array([f"P{i}"]))
        data = encode_part(rows, schema)
        path = f"{uri}/part-b{i:012d}-{'0' * 31}{i % 10}.parquet"
        Path(path.removeprefix("file:").removeprefix("//")).write_bytes(data)
        return describe_part(spec.name, path, data)

    # More commits than Delta's checkpoint interval (10): delta-rs must write no checkpoint.
    for version in range(1, 13):
        assert commit_parts(settings, spec.name, [part(version)], TXN_DATA, version)
    assert not commit_parts(settings, spec.name, [part(7)], TXN_DATA, 7)  # recorded already
    assert not commit_parts(settings, spec.name, [part(5)], TXN_DATA, 5)  # older than recorded
    log = Path(uri.removeprefix("file:").removeprefix("//")) / "_delta_log"
    assert not list(log.glob("*.checkpoint.parquet")) and not (log / "_last_checkpoint").exists()
    rows = spark.read.format("delta").load(uri)
    assert rows.count() == 12 and rows.where("posting_id = 'P12'").count() == 1


def test_a_run_with_nothing_new_answers_without_a_jvm_in_under_a_second(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    settings = dataclasses.replace(settings)
    for n in range(20):
        land(tmp_path / "lake", "erp/payments", f"p{n}.ndjson", ndjson([payment(n)]))
    ingest_landing(None, settings)
    said: list[str] = []
    started = time.perf_counter()
    report = ingest_landing(None, settings, progress=said.append)
    took = time.perf_counter() - started
    assert report.files_ingested == 0 and report.files_listed == 20
    assert not any("Spark" in line for line in said)
    assert took < 1.0, took
