"""ECTS transit alerts: Kafka ``ects-events`` -> per-trip state -> alerts, in real time.

Thin on purpose: the rules are :mod:`lakehouse.stream.rules` (pure, tested without a JVM);
this module wires them into Spark Structured Streaming:

* the Kafka source (``spark-sql-kafka``), keyed by trip; each record is validated against the
  bronze ECTS contract (:func:`lakehouse.formats.json_feeds.parse_ects_events`), and a bad one
  becomes a quarantine row with its raw text, never a failed stream;
* ``transformWithStateInPandas`` keeps one :class:`TripState` per trip in the RocksDB state
  store, with a processing-time timer per trip for the device-silence rule;
* ``foreachBatch`` publishes the batch's alerts to Kafka transactionally and appends them to
  ``gold.ects_alerts`` idempotently (:mod:`lakehouse.stream.sink`), so a restart from the
  checkpoint (on the lake) neither loses nor repeats an alert.

:func:`start` runs on any session (tests share one); :func:`main` is the production entry
point (``python -m spark_jobs.stream.ects_alerts`` or ``spark-submit``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lakehouse.stream.kafka import ALERTS_TOPIC, EVENTS_TOPIC
from lakehouse.stream.reference import Reference
from lakehouse.stream.sink import ALERTS, STREAM_QUARANTINE, AlertPublisher

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

    from lakehouse.settings import Settings

log = logging.getLogger(__name__)

OUTPUT_DDL = "row_kind string, payload string"
STATE_DDL = "doc string"
# How long a finished trip's state is kept (bus clock): late repeats of its events within a
# day are still recognised as repeats.
KEEP_ENDED_MS = 24 * 3600 * 1000
PARSER_VERSION = "ects-stream-1"
BUS_DELAY = "30 seconds"  # how far apart in publish time two partitions' records may arrive
# Test-only: a directory. When set, the sink marks ``batch-<id>`` there after the batch's
# alerts are committed on Kafka and then stalls before the Delta append, so a test can kill
# the job inside the one window where the two sinks disagree (see tests/integration/stream).
PAUSE_BETWEEN_SINKS_ENV = "LAKEHOUSE_STREAM_PAUSE_BETWEEN_SINKS"


@dataclass(frozen=True)
class StreamOptions:
    """Where the job reads, writes and checkpoints, and how often it triggers."""

    bootstrap_servers: str
    checkpoint: str
    alerts_uri: str
    quarantine_uri: str
    events_topic: str = EVENTS_TOPIC
    alerts_topic: str = ALERTS_TOPIC
    trigger: str = "0 seconds"
    query_name: str = "ects_alerts"
    max_offsets_per_trigger: int | None = None

    @classmethod
    def for_lake(cls, settings: Settings, bootstrap_servers: str, **kw: Any) -> StreamOptions:
        """The lake's default locations: checkpoint under ``<lake>/_checkpoints/``."""
        return cls(
            bootstrap_servers=bootstrap_servers,
            checkpoint=f"{settings.lake_root.rstrip('/')}/_checkpoints/ects_alerts",
            alerts_uri=settings.table_uri("gold", ALERTS.name),
            quarantine_uri=settings.table_uri("bronze", STREAM_QUARANTINE.name),
            **kw,
        )


# -- the stateful processor (runs in the Python workers) ----------------------------------------


def _processor_class() -> type:
    """Built lazily so importing this module needs no pyspark (the CLI lists it cheaply)."""
    import pandas as pd
    from pyspark.sql.streaming.stateful_processor import StatefulProcessor

    class AlertProcessor(StatefulProcessor):
        """Keeps one trip's state; turns its events into alerts and quarantine rows."""

        def __init__(self, ref: Reference) -> None:
            self.ref = ref

        def init(self, handle: Any) -> None:
            self.handle = handle
            # No TTL (Spark allows it only with processing-time timers): a finished trip's
            # state is cleared by its own timer, KEEP_ENDED_MS after its last report.
            self.state = handle.getValueState("trip", STATE_DDL)

        # Method and argument names are pyspark's StatefulProcessor API.
        def handleInputRows(  # noqa: N802
            self,
            key: Any,
            rows: Iterator[pd.DataFrame],
            timerValues: Any,  # noqa: N803
        ) -> Iterator[pd.DataFrame]:
            state = self._load(key[0])
            ended_before = state.ended
            batch = pd.concat(list(rows), ignore_index=True)
            out = trip_batch(state, batch, self.ref)
            self._save(state, max(state.seen_ms, int(batch["published_ms"].max())), ended_before)
            yield pd.DataFrame(out, columns=["row_kind", "payload"])

        def handleExpiredTimer(  # noqa: N802
            self,
            key: Any,
            timerValues: Any,  # noqa: N803
            expiredTimerInfo: Any,  # noqa: N803
        ) -> Iterator[pd.DataFrame]:
            from lakehouse.stream.rules import on_silence

            state = self._load(key[0])
            state.timer_ms = 0
            if state.ended:
                self.state.clear()
                yield pd.DataFrame([], columns=["row_kind", "payload"])
                return
            due = state.seen_ms + self._silent_ms
            alert = None
            if due > timerValues.getCurrentWatermarkInMs():
                self._arm(state, due)  # the trip reported since: wait from its last report
            else:
                alert = on_silence(state, self.ref)
            self.state.update((state.to_json(),))
            rows = [("alert", alert_payload(alert))] if alert else []
            yield pd.DataFrame(rows, columns=["row_kind", "payload"])

        @property
        def _silent_ms(self) -> int:
            return int(self.ref.thresholds.silent_after_s * 1000)

        def _load(self, trip: str) -> Any:
            from lakehouse.stream.rules import TripState

            stored = self.state.get() if self.state.exists() else None
            return TripState.from_json(stored[0]) if stored else TripState(trip)

        def _arm(self, state: Any, at_ms: int) -> None:
            self.handle.registerTimer(at_ms)
            state.timer_ms = at_ms

        def _save(self, state: Any, seen_ms: int, ended_before: bool) -> None:
            """Store the state; keep one silence timer per live trip.

            The timer is not moved on every batch (two state-store calls per trip per batch
            on the latency path): when it fires early, it re-arms from the last report.
            """
            state.seen_ms = seen_ms
            if state.ended and not ended_before:
                if state.timer_ms:
                    self.handle.deleteTimer(state.timer_ms)
                self._arm(state, seen_ms + KEEP_ENDED_MS)  # now the timer clears the state
            elif not state.ended and not state.timer_ms:
                self._arm(state, seen_ms + self._silent_ms)
            self.state.update((state.to_json(),))

        def close(self) -> None:
            pass

    return AlertProcessor


def trip_batch(state: Any, batch: pd.DataFrame, ref: Reference) -> list[tuple[str, str]]:
    """Validate one trip's rows of a micro-batch and run the rules: output rows for the sink."""
    from lakehouse.formats.base import ParsedRecord, Rejected
    from lakehouse.formats.json_feeds import parse_ects_events
    from lakehouse.stream.rules import advance, event_from_record

    out: list[tuple[str, str]] = []
    events: list[tuple[Any, dict[str, Any]]] = []
    sources: dict[str, tuple[str, str]] = {}
    for value, published_ms, source in zip(
        batch["value"], batch["published_ms"], batch["source"], strict=True
    ):
        text = value if isinstance(value, str) else ""
        outcomes = list(parse_ects_events(text.encode(), source)) if text.strip() else []
        if not outcomes:
            out.append(
                _quarantine(source, text, "EMPTY", "empty Kafka record", None, None, "empty")
            )
        for o in outcomes:
            if not isinstance(o, ParsedRecord):
                r = cast(Rejected, o)  # the line parser yields records or rejections only
                out.append(
                    _quarantine(source, text, r.error_code, r.reason, r.field, r.value, r.rule)
                )
            elif o.record["trip_id"] != state.trip_id:
                trip = o.record["trip_id"]
                reason = f"Kafka key {state.trip_id!r} is not the event's trip_id {trip!r}"
                out.append(
                    _quarantine(
                        source, text, "MAPPING", reason, "trip_id", o.record["trip_id"], "kafka_key"
                    )
                )
            else:
                events.append((event_from_record(o.record, int(published_ms)), o.record))
                sources[o.record["event_id"]] = (source, text)
    result = advance(state, events, ref)
    lateness = ref.thresholds.allowed_lateness_s
    for e in result.late:
        source, text = sources[e.event_id]
        reason = f"event_time older than the trip's watermark (allowed lateness {lateness:.0f} s)"
        out.append(
            _quarantine(source, text, "LATE", reason, "event_time", _iso(e.t), "allowed_lateness")
        )
    out.extend(("alert", alert_payload(a)) for a in result.alerts)
    return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _quarantine(
    source: str,
    raw: str,
    code: str,
    reason: str,
    field: str | None,
    value: str | None,
    rule: str | None,
) -> tuple[str, str]:
    row = {
        "source_uri": source,
        "file_sha256": None,
        "system": "ects",
        "feed": "ects/events",
        "message_index": 0,
        "message_type": None,
        "error_code": code,
        "reason": reason,
        "field": field,
        "value": value,
        "rule": rule,
        "raw_payload": raw,
        "parser_version": PARSER_VERSION,
    }
    return ("quarantine", json.dumps(row))


def alert_payload(alert: Any) -> str:
    """The alert as published on Kafka (JSON; times ISO-8601 UTC)."""
    doc = asdict(alert)
    doc["event_time"] = _iso(alert.event_time)
    doc["alert_time"] = datetime.now(UTC).isoformat()
    doc["trigger_published_at"] = datetime.fromtimestamp(
        alert.trigger_published_ms / 1000, UTC
    ).isoformat()
    doc.pop("trigger_published_ms")
    doc["evidence"] = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "event_time": _iso(e.t),
            "latitude": e.lat,
            "longitude": e.lon,
        }
        for e in alert.evidence
    ]
    return json.dumps(doc)


# -- the sink (runs on the driver) -----------------------------------------------------------


class BatchSink:
    """``foreachBatch`` target: Kafka first (latency), then Delta, both idempotent per batch."""

    def __init__(self, options: StreamOptions) -> None:
        self.options = options
        self.publisher = AlertPublisher(
            options.bootstrap_servers, options.query_name, options.alerts_topic
        )

    def __call__(self, df: DataFrame, batch_id: int) -> None:
        rows = df.collect()
        alerts = [json.loads(r.payload) for r in rows if r.row_kind == "alert"]
        bad = [json.loads(r.payload) for r in rows if r.row_kind == "quarantine"]
        if self.publisher.publish(alerts, batch_id):
            _pause_between_sinks(batch_id)
        spark = df.sparkSession
        now = datetime.now(UTC)
        if alerts:
            _append(
                spark,
                ALERTS,
                [_alert_row(a) for a in alerts],
                self.options.alerts_uri,
                f"{self.options.query_name}-alerts",
                batch_id,
            )
        if bad:
            rows_q = [{**q, "batch_id": batch_id, "quarantined_at": now} for q in bad]
            _append(
                spark,
                STREAM_QUARANTINE,
                rows_q,
                self.options.quarantine_uri,
                f"{self.options.query_name}-quarantine",
                batch_id,
            )


def _pause_between_sinks(batch_id: int) -> None:
    """The crash window made wide for a kill test; a no-op unless the test variable is set."""
    where = os.environ.get(PAUSE_BETWEEN_SINKS_ENV)
    if not where:
        return
    Path(where, f"batch-{batch_id}").touch()
    log.warning("batch %s is on Kafka, not yet in Delta: pausing for a kill test", batch_id)
    time.sleep(3600)


def _ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _alert_row(a: dict[str, Any]) -> dict[str, Any]:
    row = {**a}
    for key in ("event_time", "alert_time", "trigger_published_at"):
        row[key] = _ts(a[key])
    row["evidence"] = [{**e, "event_time": _ts(e["event_time"])} for e in a["evidence"]]
    return row


def _append(
    spark: SparkSession, spec: Any, rows: list[dict[str, Any]], uri: str, app_id: str, batch_id: int
) -> None:
    from pyspark.sql.types import StructType, _parse_datatype_string

    schema = cast(StructType, _parse_datatype_string(spec.ddl))
    df = spark.createDataFrame([tuple(r.get(f.name) for f in schema.fields) for r in rows], schema)
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
        .save(uri)
    )


def ensure_tables(spark: SparkSession, options: StreamOptions) -> None:
    """Create ``gold.ects_alerts`` and the stream's quarantine if they do not exist."""
    from delta.tables import DeltaTable
    from pyspark.sql.types import StructType, _parse_datatype_string

    for spec, uri in ((ALERTS, options.alerts_uri), (STREAM_QUARANTINE, options.quarantine_uri)):
        if not DeltaTable.isDeltaTable(spark, uri):
            (
                DeltaTable.createIfNotExists(spark)
                .location(uri.replace("file:///", "file:/", 1))
                .addColumns(cast(StructType, _parse_datatype_string(spec.ddl)))
                .comment(spec.description)
                .execute()
            )


# -- wiring ----------------------------------------------------------------------------------


def build(spark: SparkSession, ref: Reference, options: StreamOptions) -> DataFrame:
    """The streaming plan from the Kafka source to (row_kind, payload) rows."""
    from pyspark.sql import functions as F

    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", options.bootstrap_servers)
        .option("subscribe", options.events_topic)
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "false")
    )
    if options.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", options.max_offsets_per_trigger)
    events = reader.load().select(
        F.coalesce(F.col("key").cast("string"), F.lit("")).alias("trip_key"),
        F.col("value").cast("string").alias("value"),
        F.col("timestamp").alias("published_at"),
        F.unix_millis(F.col("timestamp")).alias("published_ms"),
        F.format_string(
            "kafka://%s/%d/%d", F.col("topic"), F.col("partition"), F.col("offset")
        ).alias("source"),
    )
    # The silence timers run on the bus's clock: the watermark of the Kafka publish time.
    # Unlike processing-time timers (which make Spark run a batch on every trigger, data or
    # not), these fire only when new records move the clock, and a record is only "late" to
    # Spark if it was published more than BUS_DELAY before the newest one: event-time
    # lateness is the rules' business (late events go to the quarantine, not to /dev/null).
    return (
        events.withWatermark("published_at", BUS_DELAY)
        .groupBy("trip_key")
        .transformWithStateInPandas(
            statefulProcessor=_processor_class()(ref),
            outputStructType=OUTPUT_DDL,
            outputMode="Append",
            timeMode="EventTime",
        )
    )


def start(spark: SparkSession, ref: Reference, options: StreamOptions) -> StreamingQuery:
    """Start the query on ``spark`` (the caller stops it)."""
    spark.conf.set(
        "spark.sql.streaming.stateStore.providerClass",
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
    )
    ensure_tables(spark, options)
    return (
        build(spark, ref, options)
        .writeStream.queryName(options.query_name)
        .foreachBatch(BatchSink(options))
        .option("checkpointLocation", options.checkpoint)
        .trigger(processingTime=options.trigger)
        .start()
    )


# Failures that a restart from the checkpoint cures. Spark gives the Python worker it starts
# on the driver for transformWithState a hard-coded 10 s to connect back; on an overloaded
# machine the interpreter start alone can take longer.
TRANSIENT = ("Python worker failed to connect back", "CANNOT_OPEN_SOCKET")


class SupervisedQuery:
    """The query, restarted from its checkpoint after a transient failure (a few times).

    Restarting is safe by construction: the checkpoint replays the unfinished micro-batch and
    the sink skips what it had already published or committed.
    """

    def __init__(
        self, spark: SparkSession, ref: Reference, options: StreamOptions, restarts: int = 3
    ) -> None:
        self.spark, self.ref, self.options = spark, ref, options
        self.restarts_left = restarts
        self.query = start(spark, ref, options)

    def check(self) -> None:
        """Restart a query that died of a transient failure; re-raise any other failure."""
        if self.query.isActive:
            return
        exc = self.query.exception()
        if exc is None:
            return
        text = str(exc)
        if self.restarts_left <= 0 or not any(t in text for t in TRANSIENT):
            raise exc
        self.restarts_left -= 1
        log.warning("restarting the ECTS alert query after: %s", text.splitlines()[0][:300])
        self.query = start(self.spark, self.ref, self.options)

    def process_all_available(self) -> None:
        """Block until everything published so far is processed (restarting as needed)."""
        from pyspark.errors import StreamingQueryException

        while True:
            try:
                self.query.processAllAvailable()
                return
            except StreamingQueryException:
                self.check()

    def stop(self) -> None:
        """Stop the query (idempotent)."""
        self.query.stop()


def main(argv: list[str] | None = None) -> int:
    """Production entry point: run until SIGTERM/SIGINT, then stop the query cleanly."""
    from lakehouse.settings import get_settings
    from lakehouse.spark import get_spark
    from lakehouse.storage import LakeFiles
    from lakehouse.stream.reference import load_reference

    parser = argparse.ArgumentParser(description="ECTS transit alerts from Kafka, in real time.")
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--trigger", default="0 seconds", help="micro-batch trigger interval")
    parser.add_argument("--events-topic", default=EVENTS_TOPIC, help="topic the events come on")
    parser.add_argument("--alerts-topic", default=ALERTS_TOPIC, help="topic alerts go to")
    parser.add_argument("--status-file", help="where to write the query's last progress (JSON)")
    args = parser.parse_args(argv)
    settings = get_settings()
    ref = load_reference(LakeFiles(settings), settings.lake_root)
    spark = get_spark(settings, app_name="ects-alerts")
    options = StreamOptions.for_lake(
        settings,
        args.bootstrap_servers,
        trigger=args.trigger,
        events_topic=args.events_topic,
        alerts_topic=args.alerts_topic,
    )
    query = SupervisedQuery(spark, ref, options)
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            query.check()
            progress = query.query.lastProgress
            if args.status_file and progress:
                with open(args.status_file, "w") as fh:
                    json.dump(progress, fh)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    query.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
