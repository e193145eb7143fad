"""The ECTS alert job end to end: real Kafka (KRaft), Spark Structured Streaming, Delta.

First test: a few trips of a simulated day (every planted seal-tampering and route-deviation
trip, some clean ones, the malformed lines the simulator planted among them, one unkeyed
garbage record) go through Kafka in two halves; the query is stopped after the first half and
restarted from its checkpoint for the second. Then: each planted trip raised its alert,
no clean trip did, no alert appears twice on the topic or in ``gold.ects_alerts``, the bad
records are in the quarantine with their raw text, and a replayed micro-batch adds nothing.

Second test: a real ``lakehouse stream start`` process is SIGKILLed (its whole process group,
JVM included) after a micro-batch's alerts were committed on Kafka and before they reached
``gold.ects_alerts``; restarted on its checkpoint, the job adds the missing Delta rows and
publishes nothing twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def _consume_alerts(bootstrap: str, topic: str = ALERTS_TOPIC) -> list[dict]:
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
    consumer.subscribe([topic])
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


def _wait_for(path: Path, job_log: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(path.iterdir()):
        tail = job_log.read_text(errors="replace")[-2000:] if job_log.exists() else ""
        assert time.monotonic() < deadline, f"the job never reached the crash window:\n{tail}"
        assert "Traceback" not in tail, tail
        time.sleep(0.5)


def _kill_group(pid: int) -> None:
    """SIGKILL the job's process group (Python driver, its JVM and workers): a crash."""
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)


def test_a_job_killed_between_kafka_and_delta_loses_and_repeats_nothing(
    spark, lake, kafka, tmp_path: Path
) -> None:
    from lakehouse.storage import LakeFiles
    from lakehouse.stream.reference import save_reference
    from spark_jobs.stream.ects_alerts import (
        PAUSE_BETWEEN_SINKS_ENV,
        StreamOptions,
        SupervisedQuery,
    )

    events, alerts = "kill-events", "kill-alerts"  # this test's own topics and batch ids
    ensure_topics(kafka.bootstrap_servers, {events: 2, alerts: 2})
    lines, _ = _day(tmp_path)
    ref = simulator_reference(SEED, Thresholds(silent_after_s=10 * 24 * 3600))
    save_reference(LakeFiles(lake), lake.lake_root, ref)
    half = len(lines) // 2
    assert publish_lines(kafka.bootstrap_servers, events, lines[:half]) == half

    cache, window = tmp_path / "cache", tmp_path / "window"  # own pid/log files
    cache.mkdir()
    window.mkdir()
    (cache / "jars").symlink_to(lake.cache_dir / "jars")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "LAKEHOUSE_ENV": "test",
        "LAKEHOUSE_LAKE_ROOT": lake.lake_root,
        "LAKEHOUSE_CACHE_DIR": str(cache),
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        PAUSE_BETWEEN_SINKS_ENV: str(window),
    }
    cli = [sys.executable, "-m", "lakehouse.cli.main", "stream"]
    topics = ["--events-topic", events, "--alerts-topic", alerts]
    bootstrap = ["--bootstrap-servers", kafka.bootstrap_servers]
    started = subprocess.run(
        [*cli, "start", *bootstrap, *topics], env=env, capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr
    pid = json.loads(started.stdout)["pid"]
    try:
        _wait_for(window, cache / "run" / "ects_alerts.log")
    finally:
        _kill_group(pid)
    stopped = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True)
    assert json.loads(stopped.stdout)["status"] == "not running"

    options = StreamOptions.for_lake(
        lake, kafka.bootstrap_servers, events_topic=events, alerts_topic=alerts
    )
    on_kafka = _consume_alerts(kafka.bootstrap_servers, alerts)
    assert on_kafka, "the killed batch's alerts were committed on Kafka"
    assert spark.read.format("delta").load(options.alerts_uri).count() == 0  # ...not in Delta

    assert publish_lines(kafka.bootstrap_servers, events, lines[half:]) == len(lines) - half
    query = SupervisedQuery(spark, ref, options)  # restart on the killed job's checkpoint
    try:
        query.process_all_available()
    finally:
        query.stop()

    published = _consume_alerts(kafka.bootstrap_servers, alerts)
    ids = [a["alert_id"] for a in published]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert {a["alert_id"] for a in on_kafka} <= set(ids)
    stored = [r.alert_id for r in spark.read.format("delta").load(options.alerts_uri).collect()]
    assert sorted(stored) == sorted(ids)
    expected = {(a.mrn, a.kind) for a in offline_alerts(lines, ref)}
    assert {(a["mrn"], a["kind"]) for a in published} == expected
