"""``lakehouse stream-demo``: Kafka, the ECTS alert job and a replay of a simulated day.

Starts a one-node Kafka on 127.0.0.1, simulates a day of traffic with planted seal-tampering
and route-deviation trips, writes the simulated administration's corridors and offices as the
lake's ECTS reference data (unless the lake already has its own), starts the streaming job on
this process's Spark session, replays the day's ECTS events at ``--rate`` events a second and
prints every alert as it arrives with its latency. Ends with precision and recall against the
simulator's ground truth, and exits 1 if a planted trip raised no alert or a clean one did.
Kafka's data and the job's checkpoint live under ``<lake>/_kafka`` for the run only: both
are removed at the end (a new broker's offsets would not match an old checkpoint).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.cli.common import add_command, progress, settings_from

if TYPE_CHECKING:
    from lakehouse.settings import Settings
    from lakehouse.stream.kafka import KafkaServer
    from lakehouse.stream.reference import Reference
    from lakehouse.stream.replay import AlertWatcher
    from spark_jobs.stream.ects_alerts import StreamOptions


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "stream-demo",
        help="run Kafka + the ECTS alert job over a replay of a simulated day",
        epilog="example: lakehouse stream-demo --declarations 2000 --rate 1000",
    )
    parser.add_argument("--declarations", type=int, default=2000, help="declarations to simulate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate", type=float, default=1000.0, help="events published per second")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="replay only whole trips (planted and clean in turn) worth about this many "
        "seconds at --rate (default: the whole day)",
    )
    parser.add_argument(
        "--kafka-port", type=int, default=0, help="broker port (default: a free one)"
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Replay:
    """What one replay did: events the broker acknowledged, alerts with their latency (s)."""

    sent: int
    alerts: list[tuple[dict, float]]


def _print_alert(alert: dict, latency: float) -> None:
    print(
        f"ALERT {alert['severity']:<6} {alert['kind']:<17} trip {alert['trip_id']} "
        f"mrn {alert['mrn']} at ({alert['latitude']:.4f}, {alert['longitude']:.4f}) "
        f"event {alert['event_time'][:19]}  latency {latency * 1000:.0f} ms  {alert['detail']}",
        flush=True,
    )


def _options(settings: Settings, kafka: KafkaServer, run_dir: Path) -> StreamOptions:
    """The job's options for one demo run: its own checkpoint, since its Kafka is new."""
    from spark_jobs.stream.ects_alerts import StreamOptions

    options = StreamOptions.for_lake(
        settings, kafka.bootstrap_servers, query_name=f"demo{kafka.port}"
    )
    return replace(options, checkpoint=(run_dir / "checkpoint").as_uri())


def _replay(
    settings: Settings, kafka: KafkaServer, lines: list[bytes], ref: Reference, rate: float
) -> Replay:
    """Topics, the job and the alert watcher up; publish at the rate; wait for the job."""
    from lakehouse.spark import get_spark
    from lakehouse.stream.kafka import ALERTS_TOPIC, EVENTS_TOPIC, ensure_topics
    from lakehouse.stream.replay import AlertWatcher, publish_lines
    from spark_jobs.stream.ects_alerts import SupervisedQuery

    ensure_topics(kafka.bootstrap_servers, {EVENTS_TOPIC: 2, ALERTS_TOPIC: 2})
    spark = get_spark(settings, app_name="ects-stream-demo")
    options = _options(settings, kafka, kafka.data_dir.parent)
    watcher = AlertWatcher(kafka.bootstrap_servers, ALERTS_TOPIC, _print_alert).start()
    query = SupervisedQuery(spark, ref, options)
    try:
        say = progress("stream-demo")
        say(f"replaying {len(lines):,} ECTS events at {rate:,.0f}/s")
        sent = publish_lines(kafka.bootstrap_servers, EVENTS_TOPIC, lines, rate=rate)
        query.process_all_available()
        _settle(watcher)
    finally:
        query.stop()
        watcher.stop()
    return Replay(sent, watcher.alerts)


def _settle(watcher: AlertWatcher, quiet_s: float = 2.0, limit_s: float = 30.0) -> None:
    """Wait until no alert arrived for ``quiet_s``: the last batch's alerts reach the watcher."""
    deadline = time.monotonic() + limit_s
    seen = -1
    while seen != len(watcher.alerts) and time.monotonic() < deadline:
        seen = len(watcher.alerts)
        time.sleep(quiet_s)


def run(args: argparse.Namespace) -> int:
    """Set everything up, replay, report; stop what was started whatever happens."""
    from lakehouse.simulator import generate
    from lakehouse.storage import LakeFiles, local_path
    from lakehouse.stream.kafka import KafkaServer, free_port
    from lakehouse.stream.reference import ReferenceError, load_reference, save_reference
    from lakehouse.stream.replay import (
        alert_from_message,
        landed_lines,
        percentile,
        sample_trips,
        score,
        simulator_reference,
        truth,
    )

    settings = settings_from(args)
    if settings.is_s3:
        print(
            "stream-demo: error: the demo replays a local lake; use a path or file:// root",
            file=sys.stderr,
        )
        return 2
    say = progress("stream-demo")
    summary = generate(settings.lake_root, declarations=args.declarations, seed=args.seed)
    files = LakeFiles(settings)
    try:
        ref = load_reference(files, settings.lake_root)
        say("using the lake's own ECTS reference data")
    except ReferenceError:
        ref = simulator_reference(args.seed)
        save_reference(files, settings.lake_root, ref)
        say("wrote the simulated corridors and offices as ECTS reference data")
    lines, planted = landed_lines(settings.lake_root), truth(summary.ground_truth_path)
    if args.duration:
        lines, planted = sample_trips(lines, planted, int(args.rate * args.duration))
        say(f"{len(planted)} whole trips ({sum(map(bool, planted.values()))} planted) fit")
    run_dir = Path(local_path(settings.lake_root)) / "_kafka"
    shutil.rmtree(run_dir, ignore_errors=True)  # a previous demo's broker and checkpoint
    kafka = KafkaServer(run_dir / "broker", settings.cache_dir, port=args.kafka_port or free_port())
    say(f"starting Kafka on {kafka.bootstrap_servers}")
    try:
        with kafka:
            replay = _replay(settings, kafka, lines, ref, args.rate)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    say("the alert job and Kafka are stopped")
    latencies = [lat for _, lat in replay.alerts]
    say(f"published {replay.sent:,}/{len(lines):,} events; {len(replay.alerts)} alerts")
    say(
        f"latency p50 {percentile(latencies, 50):.3f} s  p95 {percentile(latencies, 95):.3f} s"
        f"  max {max(latencies, default=float('nan')):.3f} s"
    )
    scores = score([alert_from_message(a) for a, _ in replay.alerts], planted)
    for s in scores:
        print(s.line())
    ok = all(s.precision == 1.0 and s.recall == 1.0 for s in scores) and replay.sent == len(lines)
    print("STREAM DEMO OK" if ok else "STREAM DEMO FAILED")
    return 0 if ok else 1
