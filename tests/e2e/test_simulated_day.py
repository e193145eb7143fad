"""End to end over generated data: a simulated day, landed, ingested into bronze, re-ingested.

The simulator knows what it planted, so the test checks the ingestion against that truth:
every record sent is either in bronze or in quarantine (nothing lost), the quarantine holds
exactly the malformed records, and a second run adds nothing. Once on a local lake, once on
S3 (S3Proxy) through ``s3a://``.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from pyspark.sql import functions as F

from lakehouse.ingest.bronze import ingest_landing, init_lake
from lakehouse.settings import Settings
from lakehouse.simulator import generate
from lakehouse.storage import writer_for
from lakehouse.tables import BRONZE

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def bronze_rows_per_feed(spark, settings: Settings) -> dict[str, int]:
    """Rows in every bronze table, counted by the feed their file came from."""
    counts: dict[str, int] = {}
    for name in BRONZE:
        df = spark.read.format("delta").load(settings.table_uri("bronze", name))
        for row in (
            df.groupBy(F.concat_ws("/", "_ingest.system", "_ingest.feed").alias("k"))
            .count()
            .collect()
        ):
            counts[row.k] = counts.get(row.k, 0) + int(row["count"])
    return counts


def quarantine_per_feed(spark, settings: Settings) -> dict[str, int]:
    df = spark.read.format("delta").load(settings.table_uri("bronze", "quarantine"))
    rows = df.groupBy(F.concat_ws("/", "system", "feed").alias("k")).count().collect()
    return {r.k: int(r["count"]) for r in rows}


def check_day(spark, settings: Settings, summary) -> None:
    init_lake(spark, settings)  # a lake is created explicitly (lakehouse init)
    first = ingest_landing(spark, settings)
    assert first.files_ingested == sum(summary.files.values())
    sent = {feed: sum(kinds.values()) for feed, kinds in summary.records.items()}
    loaded = bronze_rows_per_feed(spark, settings)
    quarantined = quarantine_per_feed(spark, settings)
    # The planted defects, and nothing else, are in quarantine.
    expected_q = {feed: n for feed, n in summary.expected_quarantine.items() if n}
    assert quarantined == expected_q
    # Nothing lost: every record sent is either in bronze or in quarantine.
    for feed, n in sent.items():
        assert loaded.get(feed, 0) + quarantined.get(feed, 0) == n, feed
    # Wrong control counts are kept and flagged, not dropped.
    decl = spark.read.format("delta").load(settings.table_uri("bronze", "cms_declarations"))
    flagged = decl.where(F.size("control_issues") > 0).count()
    assert flagged >= summary.expected_control_issues["cms/edifact"]
    # Replay: nothing changes.
    again = ingest_landing(spark, settings)
    assert again.files_ingested == 0 and again.total_records == 0
    assert bronze_rows_per_feed(spark, settings) == loaded


def test_a_simulated_day_lands_in_bronze_exactly_once_on_a_local_lake(
    spark, base_settings, tmp_path
) -> None:
    settings = dataclasses.replace(base_settings, lake_root=(tmp_path / "lake").resolve().as_uri())
    summary = generate(
        settings.lake_root,
        declarations=80,
        seed=11,
        day=date(2026, 11, 24),
        malformed_rate=0.03,
        messages_per_interchange=20,
    )
    check_day(spark, settings, summary)


def test_a_simulated_day_lands_in_bronze_exactly_once_on_s3(spark, base_settings, s3proxy) -> None:
    settings = dataclasses.replace(base_settings, lake_root="s3a://lake/e2e-day")
    summary = generate(
        settings.lake_root,
        declarations=40,
        seed=12,
        day=date(2026, 11, 24),
        malformed_rate=0.03,
        messages_per_interchange=20,
        writer=writer_for(settings),
    )
    keys = s3proxy.client().list_objects_v2(Bucket="lake", Prefix="e2e-day/landing/")["KeyCount"]
    assert keys == sum(summary.files.values())
    check_day(spark, settings, summary)
