"""Reading a table version for validation: the same rows, schema and newest batch as Delta's
reader, whether the files are read as Parquet (plain tables) or through Delta (the rest); and
the hex-id format check without its regex gives the regex's answer on every kind of value."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest

from governance.dq.scan import newest_value, open_version, read_version

pytestmark = pytest.mark.integration

SCHEMA = (
    "record_id string, batch_id bigint, amount decimal(18,2), received_at timestamp,"
    " tags array<string>, _ingest struct<batch_id:bigint,file:string>"
)


def rows(batch: int, n: int) -> list[tuple]:
    return [
        (
            f"{batch}-{i}",
            batch if i % 5 else None,  # nulls do not count as the newest batch
            Decimal(i) / 4,
            datetime(2026, 11, 24, 1 + i % 20),
            [f"t{i}", None],
            (batch, f"f{batch}.xml"),
        )
        for i in range(n)
    ]


def delta_rows(spark, uri: str, version: int) -> tuple:
    df = spark.read.format("delta").option("versionAsOf", version).load(uri)
    return df.schema, sorted(df.collect())


@pytest.mark.parametrize("store", ["local", "s3a"])
def test_a_plain_version_reads_as_delta_reads_it(
    spark, lake, base_settings, tmp_path, store
) -> None:
    from pyspark.sql import functions as F

    settings = lake
    if store == "s3a":  # the S3Proxy of the test run (base_settings carry its keys)
        settings = dataclasses.replace(base_settings, lake_root=f"s3a://lake/scan-{tmp_path.name}")
    uri = settings.table_uri("silver", "scan_plain")
    spark.createDataFrame(rows(1, 30), SCHEMA).write.format("delta").save(uri)
    spark.createDataFrame(rows(2, 12), SCHEMA).write.format("delta").mode("append").save(uri)
    for version, newest in ((0, 1), (1, 2)):
        opened = open_version(settings, uri, version)
        assert opened is not None and opened.plain and opened.version == version
        df = read_version(spark, opened)
        assert (df.schema, sorted(df.collect())) == delta_rows(spark, uri, version)
        assert "delta" not in df._jdf.queryExecution().analyzed().toString().lower()
        for column in ("batch_id", "_ingest.batch_id"):
            spark_max = df.agg(F.max(F.col(column))).collect()[0][0]
            assert newest_value(opened, column) == newest == spark_max
    assert open_version(settings, settings.table_uri("silver", "no_such_table")) is None


def test_an_empty_plain_table_has_its_schema_and_no_rows(spark, lake) -> None:
    uri = lake.table_uri("silver", "scan_empty")
    spark.createDataFrame([], SCHEMA).write.format("delta").save(uri)
    opened = open_version(lake, uri)
    assert opened is not None and opened.plain
    df = read_version(spark, opened)
    assert df.schema == delta_rows(spark, uri, 0)[0] and df.count() == 0
    assert newest_value(opened, "batch_id") is None


def test_deletion_vectors_and_partitions_are_read_through_delta(spark, lake) -> None:
    """Rows a deletion vector removes are still in the Parquet files: Delta must read them."""
    uri = lake.table_uri("silver", "scan_dv")
    (
        spark.createDataFrame(rows(1, 30), SCHEMA)
        .write.format("delta")
        .option("delta.enableDeletionVectors", "true")
        .save(uri)
    )
    spark.sql(f"DELETE FROM delta.`{uri}` WHERE amount < 2")
    opened = open_version(lake, uri)
    assert opened is not None and not opened.plain
    df = read_version(spark, opened)
    assert sorted(df.collect()) == delta_rows(spark, uri, opened.version)[1]
    assert df.count() == 22
    parted = lake.table_uri("silver", "scan_parted")
    spark.createDataFrame(rows(1, 10), SCHEMA).write.format("delta").partitionBy("batch_id").save(
        parted
    )
    opened = open_version(lake, parted)
    assert opened is not None and not opened.plain
    assert sorted(read_version(spark, opened).collect()) == delta_rows(spark, parted, 0)[1]


def test_the_hex_id_check_without_regex_answers_as_the_regex(spark) -> None:
    """Every kind of near miss: case, length, line breaks Java's ``$`` accepts, non-ASCII."""
    from pyspark.sql import functions as F

    from governance.contracts.base import _matches
    from governance.contracts.silver import HEX64

    good = "0123456789abcdef" * 4
    values = [good, good.upper(), good[:-1], good + "0", good[:-1] + "g", None, ""]
    values += [good + end for end in ("\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029", "\n\n")]
    values += [good[:-1] + ch for ch in ("A", "\u0660", "\uff10", "\u00e9", " ", "\x00")]
    values += [good[:-2] + "\u00e9", "abc\n" + good[4:], "x" + good]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    fast = _matches(F.col("v"), HEX64)
    regex = F.col("v").rlike(HEX64)
    compared = df.select("v", fast.alias("fast"), regex.alias("regex")).collect()
    assert [(r.v, r.fast) for r in compared] == [(r.v, r.regex) for r in compared]
    answers = {r.v: r.fast for r in compared}
    assert answers[good] is True and answers[good + "\n"] is True  # Java's $ before a final \n
    assert answers[good.upper()] is False and answers[None] is None
