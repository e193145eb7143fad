"""Bronze compaction (delta-rs): fewer files, same rows for both engines, readers of an older
snapshot unharmed, no stale Hadoop checksum, exactly-once intact, and a re-run changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakehouse.ingest.bronze import ingest_landing
from lakehouse.ingest.compact import compact_bronze
from lakehouse.ingest.delta_commit import delta_uri
from lakehouse.ingest.lease import hold_lease
from tests.integration.test_bronze_ingest import land, local_settings, ndjson, payment

pytestmark = pytest.mark.integration


def test_compaction_merges_small_files_and_keeps_every_reader_right(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    for minute in range(3):  # three minute-increments: small files in every table
        land(root, "erp/payments", f"m{minute}.ndjson", ndjson([payment(2 * minute + 1)]))
        land(root, "erp/payments", f"n{minute}.ndjson", ndjson([payment(2 * minute + 2), "{x"]))
        ingest_landing(None, settings, engine="local")
    uri = settings.table_uri("bronze", "erp_payments")
    log = Path(delta_uri(uri)) / "_delta_log"
    # A Spark checkpoint leaves Hadoop's checksum beside _last_checkpoint, which delta-rs's
    # checkpoint would make stale.
    jvm = spark.sparkContext._jvm
    jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, uri).checkpoint()
    assert (log / "._last_checkpoint.crc").exists()
    before = DeltaTable(delta_uri(uri))
    old_version, old_files = before.version(), before.file_uris()
    assert len(old_files) >= 3  # at least one per batch

    with hold_lease(settings, "test compact") as lease:
        done = {c.table: c for c in compact_bronze(settings, lease, vacuum_hours=None)}
        again = compact_bronze(settings, lease)
    payments = done["erp_payments"]
    assert (payments.files_removed, payments.files_added) == (len(old_files), 1)
    assert payments.checkpoint == DeltaTable(delta_uri(uri)).version()
    assert done["ingest_file_log"].files_removed == 6  # plan + commit, three batches
    assert not [c.table for c in again if c.changed]  # a re-run commits nothing
    assert not (log / "._last_checkpoint.crc").exists()
    assert not [
        n
        for n in (p.name for p in log.iterdir())
        if n.startswith(".") and n.endswith(".crc") and not (log / n[1:-4]).exists()
    ]

    # A reader still on the old snapshot reads the old files, which are still there.
    assert all(Path(f).exists() for f in old_files)
    old = DeltaTable(delta_uri(uri), version=old_version)
    assert old.file_uris() == old_files
    # Both engines read the same rows; data skipping on the compacted file's stats is right.
    frame = spark.read.format("delta").load(uri)
    assert frame.count() == 6
    assert frame.where("_ingest.batch_id = 2").count() == 2
    assert frame.where("payment_id = 'PAY00005'").count() == 1
    assert DeltaTable(delta_uri(uri)).get_add_actions().num_rows == 1

    # Exactly-once still holds on the checkpointed log: nothing is read again.
    land(root, "erp/payments", "late.ndjson", ndjson([payment(7)]))
    later = ingest_landing(None, settings, engine="local")
    assert later.records == {"erp_payments": 1} and later.batches == [4]
    assert ingest_landing(None, settings, engine="local").batches == []
    assert spark.read.format("delta").load(uri).count() == 7
