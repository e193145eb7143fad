"""``lakehouse stream-demo``: Kafka, the ECTS alert job and a replay of a simulated day.

Starts a one-node Kafka on 127.0.0.1, simulates a day of traffic with planted seal-tampering
and route-deviation trips, writes the simulated administration's corridors and offices as the
lake's ECTS reference data (unless the lake already has its own), starts the streaming job on
this process's Spark session, replays the day's ECTS events at ``--rate`` events a second and
prints every alert as it arrives with its latency. Ends with precision and recall against the
simulator's ground truth, and exits 1 if a planted trip raised no alert or a clean one did.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lakehouse.cli.common import add_command, progress, settings_from


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
        "--kafka-port", type=int, default=0, help="broker port (default: a free one)"
    )
    parser.set_defaults(handler=run)


def _print_alert(alert: dict, latency: float) -> None:
    print(
        f"ALERT {alert['severity']:<6} {alert['kind']:<17} trip {alert['trip_id']} "
        f"mrn {alert['mrn']} at ({alert['latitude']:.4f}, {alert['longitude']:.4f}) "
        f"event {alert['event_time'][:19]}  latency {latency * 1000:.0f} ms  {alert['detail']}",
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """Set everything up, replay, report; stop what was started whatever happens."""
    from lakehouse.simulator import generate
    from lakehouse.spark import get_spark
    from lakehouse.storage import LakeFiles, local_path
    from lakehouse.stream.kafka import (
        ALERTS_TOPIC,
        EVENTS_TOPIC,
        KafkaServer,
        ensure_topics,
        free_port,
    )
    from lakehouse.stream.reference import ReferenceError, load_reference, save_reference
    from lakehouse.stream.replay import (
        AlertWatcher,
        alert_from_message,
        landed_lines,
        percentile,
        publish_lines,
        score,
        simulator_reference,
        truth,
    )
    from spark_jobs.stream.ects_alerts import StreamOptions, SupervisedQuery

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
    lines = landed_lines(settings.lake_root)
    kafka_dir = Path(local_path(settings.lake_root)) / "_kafka" / f"demo-{int(time.time())}"
    kafka = KafkaServer(kafka_dir, settings.cache_dir, port=args.kafka_port or free_port())
    say(f"starting Kafka on {kafka.bootstrap_servers}")
    with kafka:
        ensure_topics(kafka.bootstrap_servers, {EVENTS_TOPIC: 2, ALERTS_TOPIC: 2})
        spark = get_spark(settings, app_name="ects-stream-demo")
        options = StreamOptions.for_lake(
            settings, kafka.bootstrap_servers, query_name=f"demo{kafka.port}"
        )
        watcher = AlertWatcher(kafka.bootstrap_servers, ALERTS_TOPIC, _print_alert).start()
        query = SupervisedQuery(spark, ref, options)
        try:
            say(f"replaying {len(lines):,} ECTS events at {args.rate:,.0f}/s")
            sent = publish_lines(kafka.bootstrap_servers, EVENTS_TOPIC, lines, rate=args.rate)
            query.process_all_available()
            time.sleep(2)
        finally:
            query.stop()
            watcher.stop()
    latencies = [lat for _, lat in watcher.alerts]
    say(f"published {sent:,}/{len(lines):,} events; {len(watcher.alerts)} alerts")
    say(f"latency p50 {percentile(latencies, 50):.3f} s  p95 {percentile(latencies, 95):.3f} s")
    alerts = [alert_from_message(a) for a, _ in watcher.alerts]
    scores = score(alerts, truth(summary.ground_truth_path))
    for s in scores:
        print(s.line())
    ok = all(s.precision == 1.0 and s.recall == 1.0 for s in scores) and sent == len(lines)
    print("STREAM DEMO OK" if ok else "STREAM DEMO FAILED")
    return 0 if ok else 1
