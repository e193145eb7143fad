"""Two ingestion runs at once on one lake: one writer, exact counts, and Delta's own skip.

Real ``lakehouse ingest`` processes (each would start its own Spark JVM) on a lake made by
the session's Spark; the lease is on local disk here and on S3Proxy in test_lease_s3.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.ingest.bronze import TXN_DATA, _append
from tests.integration.test_bronze_ingest import land, local_settings, ndjson, payment

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def start_ingest(lake: Path, base_settings, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAKEHOUSE_ENV": "test",
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
        "LAKEHOUSE_CACHE_DIR": str(base_settings.cache_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lakehouse.cli.main", "ingest", "--lake-root", str(lake), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_ingest_runs_at_once_load_every_record_exactly_once(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    lake = tmp_path / "lake"
    for n in range(6):
        land(lake, "erp/payments", f"p{n}.ndjson", ndjson([payment(10 * n + i) for i in range(5)]))
    runs = [start_ingest(lake, base_settings), start_ingest(lake, base_settings)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser_err = next(err for code, _, err in results if code == 2)
    assert (
        loser_err.strip()
        .splitlines()[-1]
        .startswith(
            "lakehouse ingest: error: another run holds the lake's lease: 'lakehouse ingest' (pid "
        )
    )
    assert "Traceback" not in loser_err
    payments = spark.read.format("delta").load(settings.table_uri("bronze", "erp_payments"))
    assert payments.count() == 30
    assert payments.select("payment_id").distinct().count() == 30
    log = spark.read.format("delta").load(settings.table_uri("bronze", "ingest_file_log"))
    assert log.where("status = 'committed'").count() == 6
    assert not (lake / "_lease" / "bronze.json").exists()  # released at the end
    # A waiting run gets the lease afterwards and finds nothing new.
    late = start_ingest(lake, base_settings, "--wait", "60")
    out, err = late.communicate(timeout=600)
    assert late.returncode == 0, err
    assert "ingested 0" in out and payments.count() == 30


def test_a_second_append_of_the_same_batch_is_skipped_by_delta(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    uri = settings.table_uri("bronze", "hr_postings")
    rows = spark.createDataFrame(
        [("P1", "O1", "KE001", "officer", None, None)],
        "posting_id string, officer_id string, office_code string, role string,"
        " start_date date, end_date date",
    )
    target = spark.read.format("delta").load(uri).schema
    from pyspark.sql import functions as F

    full = rows.select(
        *[
            F.col(f.name) if f.name in rows.columns else F.lit(None).cast(f.dataType).alias(f.name)
            for f in target.fields
        ]
    )
    _append(full, uri, TXN_DATA, 7)
    _append(full, uri, TXN_DATA, 7)  # the same batch again (a resume, or a racing run)
    _append(full, uri, TXN_DATA, 5)  # an older batch after a newer one: also skipped
    assert spark.read.format("delta").load(uri).count() == 1
    _append(full, uri, TXN_DATA, 8)
    assert spark.read.format("delta").load(uri).count() == 2
