"""The lake lease on S3 (S3Proxy 4.1): conditional PUT creates, If-Match renews and takes over."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lakehouse.ingest.lease import Holder, Lease, LeaseHeldError, LeaseLostError, lease_store

pytestmark = pytest.mark.integration


def test_lease_on_s3_one_holder_takeover_and_release(base_settings, s3proxy) -> None:
    settings = dataclasses.replace(base_settings, lake_root="s3a://lake/lease-test")
    client = s3proxy.client()
    first = Lease(lease_store(settings), "lakehouse ingest", ttl=60)
    first.acquire()
    body = json.loads(
        client.get_object(Bucket="lake", Key="lease-test/_lease/bronze.json")["Body"].read()
    )
    assert body["owner"] == first.owner and body["command"] == "lakehouse ingest"
    with pytest.raises(LeaseHeldError, match="'lakehouse ingest'"):
        Lease(lease_store(settings), "second").acquire()
    assert first.renew()  # If-Match on its own ETag
    # The holder's process hangs past its expiry: a new run takes over with If-Match.
    stale = Holder(first.owner, "elsewhere", 1, "lakehouse ingest", 0.0)
    client.put_object(Bucket="lake", Key="lease-test/_lease/bronze.json", Body=stale.to_bytes())
    said: list[str] = []
    taker = Lease(lease_store(settings), "taker", say=said.append)
    taker.acquire()
    assert "took over the lake's lease" in said[0] and "expired" in said[0]
    assert not first.renew()
    with pytest.raises(LeaseLostError):
        first.check()
    first.release()  # does not delete the taker's lease
    assert client.list_objects_v2(Bucket="lake", Prefix="lease-test/_lease/")["KeyCount"] == 1
    taker.release()
    assert (
        client.list_objects_v2(Bucket="lake", Prefix="lease-test/_lease/").get("KeyCount", 0) == 0
    )
