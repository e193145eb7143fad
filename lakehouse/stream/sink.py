"""Where alerts go: the Kafka ``ects-alerts`` topic and ``gold.ects_alerts``, each exactly once.

Spark's own Kafka sink is at-least-once: a micro-batch replayed after a crash publishes its
rows again. The alerts instead go out from ``foreachBatch`` through a *transactional* producer
whose every record carries the query's name and the micro-batch id in its headers. At start
the sink reads the committed tail of the topic to learn the last batch it published, and a
replayed batch at or below it is not published again; a batch is visible to ``read_committed``
consumers all at once or not at all. Kafka goes first because it is what officers watch (the
latency path); the Delta append then uses Delta's idempotent writes (``txnAppId`` +
``txnVersion`` = batch id), so a replay after a crash between the two writes skips what
was already committed on either side.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from lakehouse.stream.kafka import ALERTS_TOPIC, client_conf
from lakehouse.tables import QUARANTINE, TableSpec

log = logging.getLogger(__name__)

EVIDENCE = (
    "array<struct<event_id:string, event_type:string, event_time:timestamp,"
    " latitude:double, longitude:double>>"
)
ALERTS = TableSpec(
    "gold",
    "ects_alerts",
    "alert_id string, trip_id string, mrn string, office_of_departure string,"
    " office_of_destination string, kind string, severity string, latitude double,"
    " longitude double, event_time timestamp, alert_time timestamp, detail string,"
    f" evidence {EVIDENCE}, trigger_published_at timestamp",
    "One row per ECTS incident alert (seal breach, route deviation, long stop, silence...).",
)
STREAM_QUARANTINE = TableSpec(
    "bronze",
    "ects_stream_quarantine",
    QUARANTINE.ddl,
    "One row per ECTS event the streaming job could not use (invalid, late, unkeyed).",
)


class AlertPublisher:
    """Publishes one micro-batch's alerts to Kafka in one transaction, once per batch id."""

    def __init__(self, bootstrap_servers: str, query_name: str, topic: str = ALERTS_TOPIC) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.query_name = query_name
        self.topic = topic
        self._producer: Any = None
        self.last_batch: int | None = None

    def _start(self) -> None:
        from confluent_kafka import Producer

        self.last_batch = self._last_published()
        conf = client_conf(
            self.bootstrap_servers,
            **{"transactional.id": f"ects-alerts-{self.query_name}", "linger.ms": 0},
        )
        self._producer = Producer(conf)
        self._producer.init_transactions(30)
        log.info("alert publisher ready; last published batch %s", self.last_batch)

    def _last_published(self) -> int | None:
        """The highest batch id of this query among the committed records at the topic's end."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer(
            client_conf(
                self.bootstrap_servers,
                **{
                    "group.id": f"ects-alerts-tail-{self.query_name}",
                    "isolation.level": "read_committed",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                },
            )
        )
        try:
            partitions = consumer.list_topics(self.topic, timeout=30).topics[self.topic].partitions
            assigned = []
            for p in partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=30
                )
                if high > low:
                    assigned.append(TopicPartition(self.topic, p, max(low, high - 64)))
            best: int | None = None
            if assigned:
                consumer.assign(assigned)
                best = _scan(consumer, len(assigned), self.query_name)
            return best
        finally:
            consumer.close()

    def publish(self, alerts: list[dict[str, Any]], batch_id: int) -> bool:
        """Publish the batch's alerts unless this batch was published before; True if sent."""
        if self._producer is None:
            self._start()
        if self.last_batch is not None and batch_id <= self.last_batch:
            log.info("batch %s already published: skipped", batch_id)
            return False
        if not alerts:
            return False
        producer = self._producer
        producer.begin_transaction()
        headers = [("query", self.query_name.encode()), ("batch_id", str(batch_id).encode())]
        for alert in alerts:
            producer.produce(
                self.topic, json.dumps(alert).encode(), alert["trip_id"].encode(), headers=headers
            )
        producer.commit_transaction(30)
        self.last_batch = batch_id
        return True

    def close(self) -> None:
        """Flush and drop the producer."""
        if self._producer is not None:
            self._producer.flush(10)
            self._producer = None


def _scan(consumer: Any, partitions: int, query_name: str) -> int | None:
    best: int | None = None
    ended = 0
    while ended < partitions:
        msg = consumer.poll(10)
        if msg is None:
            break
        if msg.error():
            ended += msg.error().code() == msg.error()._PARTITION_EOF
            continue
        headers = dict(msg.headers() or [])
        if headers.get("query", b"").decode() == query_name and "batch_id" in headers:
            batch = int(headers["batch_id"])
            best = batch if best is None else max(best, batch)
    return best
