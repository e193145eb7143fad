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


def check_quirks(spark, settings: Settings, summary) -> None:
    """Real senders' quirks (valid but unusual input) all arrive in bronze, flagged if inferred."""
    table = lambda name: spark.read.format("delta").load(settings.table_uri("bronze", name))  # noqa: E731
    quirks = summary.quirks
    decl = table("cms_declarations")
    long_amounts = (
        decl.where(F.col("invoice_amount") != F.round("invoice_amount", 4))
        .groupBy("_ingest.feed")
        .count()
        .collect()
    )
    assert {r.feed: r["count"] for r in long_amounts} == {
        feed.split("/")[1]: kinds["long_decimals"]
        for feed, kinds in quirks.items()
        if kinds.get("long_decimals")
    }
    inferred = table("cms_cargo_reports").where(
        F.exists("flags", lambda f: f.startswith("inferred-message-type"))
    )
    assert inferred.count() == quirks.get("cms/edifact", {}).get("empty_message_type", 0)
    notifications = table("cms_responses").where(F.col("_ingest.feed") == "xml")
    assert notifications.count() == quirks.get("cms/xml", {}).get("xml_notification", 0)


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
    check_quirks(spark, settings, summary)
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
        seed=52,  # a day with a CUSCAR, a wrapped XML declaration and no resent XML file
        day=date(2026, 11, 24),
        malformed_rate=0.03,
        messages_per_interchange=20,
        quirk_rate=0.15,
    )
    assert summary.quirks["cms/edifact"]["empty_message_type"] > 0
    assert summary.quirks["cms/xml"]["wrapped"] > 0
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
