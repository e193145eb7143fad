"""The ECTS alert job end to end: real Kafka (KRaft), Spark Structured Streaming, Delta.

A few trips of a simulated day (every planted seal-tampering and route-deviation trip, some
clean ones, the malformed lines the simulator planted among them, one unkeyed garbage
record) go through Kafka in two halves; the query is stopped after the first half and
restarted from its checkpoint for the second. Then: each planted trip raised its alert,
no clean trip did, no alert appears twice on the topic or in ``gold.ects_alerts``, the bad
records are in the quarantine with their raw text, and a replayed micro-batch adds nothing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from lakehouse.simulator.engine import generate
from lakehouse.stream.kafka import (
    ALERTS_TOPIC,
    EVENTS_TOPIC,
    KafkaServer,
    client_conf,
    ensure_topics,
    free_port,
)
from lakehouse.stream.reference import Thresholds
from lakehouse.stream.replay import (
    alert_from_message,
    landed_lines,
    offline_alerts,
    publish_lines,
    score,
    simulator_reference,
    truth,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

SEED = 7
CLEAN_TRIPS = 3


@pytest.fixture(scope="module")
def kafka(run_dir: Path):
    server = KafkaServer(
        run_dir / "kafka", Path.home() / ".cache" / "customs-lakehouse", port=free_port()
    )
    server.start(timeout=300)
    ensure_topics(server.bootstrap_servers, {EVENTS_TOPIC: 2, ALERTS_TOPIC: 2})
    yield server
    server.stop()


def _day(tmp: Path) -> tuple[list[bytes], dict[str, set[str]]]:
    summary = generate(str(tmp / "sim"), declarations=3000, seed=SEED)
    planted = truth(summary.ground_truth_path)
    chosen = {m for m, kinds in planted.items() if kinds}
    chosen |= set(sorted(m for m, kinds in planted.items() if not kinds)[:CLEAN_TRIPS])
    lines = [ln for ln in landed_lines(str(tmp / "sim")) if any(m.encode() in ln for m in chosen)]
    return lines, {m: planted[m] for m in chosen}


def _consume_alerts(bootstrap: str) -> list[dict]:
    from confluent_kafka import Consumer

    consumer = Consumer(
        client_conf(
            bootstrap,
            **{
                "group.id": f"test-alerts-{time.time_ns()}",  # from the start, every time
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            },
        )
    )
    consumer.subscribe([ALERTS_TOPIC])
    out, eof = [], set()
    while len(eof) < 2:
        msg = consumer.poll(20)
        if msg is None:
            break
        if msg.error():
            eof.add(msg.partition())
            continue
        out.append({**json.loads(msg.value()), "_batch": int(dict(msg.headers())["batch_id"])})
    consumer.close()
    return out


def test_alerts_once_across_a_restart(spark, lake, kafka, tmp_path: Path) -> None:
    from spark_jobs.stream.ects_alerts import BatchSink, StreamOptions, SupervisedQuery

    lines, planted = _day(tmp_path)
    lines.insert(len(lines) // 3, b'{"event_id": "broken", "trip_id": ')  # unkeyed and invalid
    ref = simulator_reference(SEED, Thresholds(silent_after_s=10 * 24 * 3600))
    options = StreamOptions.for_lake(lake, kafka.bootstrap_servers)
    half = len(lines) // 2

    assert publish_lines(kafka.bootstrap_servers, EVENTS_TOPIC, lines[:half]) == half
    query = SupervisedQuery(spark, ref, options)
    query.process_all_available()
    query.stop()  # the job goes away mid-stream; its checkpoint stays on the lake
    assert publish_lines(kafka.bootstrap_servers, EVENTS_TOPIC, lines[half:]) == len(lines) - half
    query = SupervisedQuery(spark, ref, options)
    try:
        query.process_all_available()
        last_batch = query.query.lastProgress["batchId"]
    finally:
        query.stop()

    published = _consume_alerts(kafka.bootstrap_servers)
    stored = spark.read.format("delta").load(options.alerts_uri)
    ids = [a["alert_id"] for a in published]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert stored.count() == len(ids) == stored.select("alert_id").distinct().count()

    kinds = {(a["mrn"], a["kind"]) for a in published}
    scores = score([alert_from_message(a) for a in published], planted)
    for s in scores:
        print(s.line())
        assert s.precision == 1.0 and s.recall == 1.0 and s.planted > 0
    assert kinds == {(a.mrn, a.kind) for a in offline_alerts(lines, ref)}

    quarantine = spark.read.format("delta").load(options.quarantine_uri).collect()
    raws = {r.raw_payload for r in quarantine}
    assert '{"event_id": "broken", "trip_id": ' in raws
    assert all(r.reason and r.error_code for r in quarantine)

    # A micro-batch replayed after a crash (same id, same alerts) changes nothing anywhere.
    batch = max(a.pop("_batch") for a in published)
    again = [json.dumps(a) for a in published]
    replay = spark.createDataFrame([("alert", p) for p in again], "row_kind string, payload string")
    BatchSink(options)(replay, batch)
    assert last_batch >= batch
    assert len(_consume_alerts(kafka.bootstrap_servers)) == len(published)
    assert spark.read.format("delta").load(options.alerts_uri).count() == len(published)
