"""The S3 path for real: a Delta table written, merged, read and time-travelled on S3Proxy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_delta_roundtrip_merge_and_time_travel_on_s3a(spark, s3proxy) -> None:
    from delta.tables import DeltaTable

    uri = "s3a://lake/tests/delta_roundtrip"
    spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string").write.format("delta").mode(
        "overwrite"
    ).save(uri)
    updates = spark.createDataFrame([(2, "B"), (3, "c")], "id int, v string")
    (
        DeltaTable.forPath(spark, uri)
        .alias("t")
        .merge(updates.alias("s"), "t.id = s.id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    current = {r.id: r.v for r in spark.read.format("delta").load(uri).collect()}
    assert current == {1: "a", 2: "B", 3: "c"}
    first = {
        r.id: r.v for r in spark.read.format("delta").option("versionAsOf", 0).load(uri).collect()
    }
    assert first == {1: "a", 2: "b"}
    history = DeltaTable.forPath(spark, uri).history().select("version", "operation").collect()
    assert [(h.version, h.operation) for h in sorted(history)] == [(0, "WRITE"), (1, "MERGE")]
    # The objects really are in the S3 server, under the bucket and prefix.
    keys = [
        o["Key"]
        for o in s3proxy.client().list_objects_v2(
            Bucket="lake", Prefix="tests/delta_roundtrip/_delta_log/"
        )["Contents"]
    ]
    assert any(k.endswith("00000000000000000001.json") for k in keys)
