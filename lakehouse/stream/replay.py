"""Replaying a simulated day of ECTS traffic: its events, its reference data, its truth.

The demo, the benchmark and the tests need traffic with known incidents. They take it from
what the simulator landed (the NDJSON files of ``landing/ects/events``, malformed lines
included, exactly as a device sent them) and from its ground truth, and turn the simulator's
routes and offices into reference documents of the same shape an administration writes by
hand. Only this module knows the simulator; the rules and the job never import it.

:func:`offline_alerts` runs the same rules as the job over a list of lines, one event at a
time, without Spark or Kafka: it is how precision and recall against the ground truth are
measured on a whole day in seconds.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from lakehouse.formats.base import ParsedRecord
from lakehouse.formats.json_feeds import parse_ects_events
from lakehouse.storage import local_path
from lakehouse.stream.reference import ApprovedPlace, Corridor, Reference, Thresholds
from lakehouse.stream.rules import Alert, TripState, advance, event_from_record

# Alert kind -> the planted fraud types whose trips must raise it. The simulator's
# seal-tampering trips leave the corridor too (the seal is opened during the detour), so
# they must raise a route deviation as well as a seal breach.
SCORED = {
    "seal_breach": frozenset({"seal_tampering"}),
    "route_deviation": frozenset({"route_deviation", "seal_tampering"}),
}
ECTS_FRAUD = frozenset().union(*SCORED.values())
OFFICE_RADIUS_M = 2_000.0


def simulator_reference(seed: int = 42, thresholds: Thresholds | None = None) -> Reference:
    """The simulated administration's corridors and offices as reference data."""
    from lakehouse.simulator.reference import build_reference

    sim = build_reference(seed)
    corridors = tuple(
        Corridor(r.id, r.departure, r.destination, tuple(r.points)) for r in sim.routes
    )
    places = tuple(
        ApprovedPlace(f"office-{code}", "office", row[5], row[6], OFFICE_RADIUS_M, code)
        for code, row in sorted(sim.offices.items())
    )
    return Reference(corridors, places, thresholds or Thresholds())


def landed_lines(lake_root: str) -> list[bytes]:
    """Every landed ECTS line of a (local) lake, ordered by event time where it parses.

    A line that does not parse keeps its place after the line before it in its file, so the
    replay sends malformed lines too, as a device would.
    """
    root = Path(local_path(lake_root)) / "landing" / "ects" / "events"
    keyed: list[tuple[str, int, bytes]] = []
    for n, path in enumerate(sorted(root.rglob("*.ndjson"))):
        last = ""
        for i, line in enumerate(path.read_bytes().splitlines()):
            if not line.strip():
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                last = json.loads(line)["event_time"]
            keyed.append((last, n * 10_000_000 + i, line))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [line for _, _, line in keyed]


_MRN = re.compile(rb'"mrn"\s*:\s*"([^"]+)"')


def sample_trips(
    lines: list[bytes], planted: dict[str, set[str]], budget: int
) -> tuple[list[bytes], dict[str, set[str]]]:
    """Whole trips, planted and clean in turn, until about ``budget`` lines: a short replay.

    Trips are taken whole (an incident needs its trip's history), alternately a planted and a
    clean one (so both recall and false alarms are measured), each group in MRN order; at
    least one trip is taken. A line whose MRN cannot be read (a
    malformed line) goes with a chosen trip whose MRN it contains. Returns the chosen lines,
    in their order, and the ground truth of the chosen trips.
    """
    by_mrn: dict[str, int] = defaultdict(int)
    for line in lines:
        if m := _MRN.search(line):
            by_mrn[m.group(1).decode()] += 1
    dirty = sorted(m for m in planted if planted[m])
    clean = sorted(m for m in planted if not planted[m])
    order = [m for pair in zip_longest(dirty, clean) for m in pair if m is not None]
    chosen: dict[str, set[str]] = {}
    total = 0
    for mrn in order:
        n = by_mrn.get(mrn, 0)
        if n and (total + n <= budget or not chosen):
            chosen[mrn] = planted[mrn]
            total += n
    keys = [m.encode() for m in chosen]
    kept = []
    for line in lines:
        m = _MRN.search(line)
        if (m.group(1).decode() in chosen) if m else any(k in line for k in keys):
            kept.append(line)
    return kept, chosen


def trip_key(line: bytes) -> bytes | None:
    """The Kafka key of a line: its trip id (what the NiFi flow keys by), None if unreadable."""
    try:
        trip = json.loads(line).get("trip_id")
    except (ValueError, AttributeError):
        return None
    return trip.encode() if isinstance(trip, str) else None


def truth(ground_truth_path: str) -> dict[str, set[str]]:
    """MRN -> the ECTS fraud types planted on that transit trip (empty set: a clean trip)."""
    import pyarrow.parquet as pq

    table = pq.read_table(local_path(ground_truth_path), columns=["mrn", "transit", "fraud_types"])
    out: dict[str, set[str]] = {}
    for mrn, transit, kinds in zip(
        *(table.column(c).to_pylist() for c in table.column_names), strict=True
    ):
        if transit:
            out[mrn] = {k for k in (kinds or "").split(";") if k in ECTS_FRAUD}
    return out


def offline_alerts(lines: Iterable[bytes], ref: Reference) -> list[Alert]:
    """Run the rules over lines in the given order, one event at a time, as the job would."""
    states: dict[str, TripState] = {}
    alerts: list[Alert] = []
    for line in lines:
        for outcome in parse_ects_events(line, "replay"):
            if not isinstance(outcome, ParsedRecord):
                continue
            record = outcome.record
            state = states.setdefault(record["trip_id"], TripState(record["trip_id"]))
            alerts.extend(advance(state, [(event_from_record(record), record)], ref).alerts)
    return alerts


@dataclass(frozen=True, slots=True)
class Score:
    """Precision and recall of one alert kind over the transit trips of a day."""

    kind: str
    planted: int
    caught: int
    false_alarms: int
    clean_trips: int

    @property
    def recall(self) -> float:
        """Share of planted trips that raised the alert."""
        return self.caught / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        """Share of trips with the alert that were planted."""
        raised = self.caught + self.false_alarms
        return self.caught / raised if raised else 1.0

    def line(self) -> str:
        """One printable line."""
        return (
            f"{self.kind}: planted {self.planted}, caught {self.caught}, false alarms "
            f"{self.false_alarms} on {self.clean_trips} other trips: precision "
            f"{self.precision:.3f} recall {self.recall:.3f}"
        )


def score(alerts: Iterable[Alert], planted: dict[str, set[str]]) -> list[Score]:
    """Precision/recall per scored alert kind: a trip counts once whatever its alerts."""
    kinds_by_mrn: dict[str, set[str]] = defaultdict(set)
    for alert in alerts:
        if alert.mrn is not None:
            kinds_by_mrn[alert.mrn].add(alert.kind)
    scores = []
    for kind, frauds in SCORED.items():
        hit = {m for m, k in kinds_by_mrn.items() if kind in k and m in planted}
        positive = {m for m, types in planted.items() if types & frauds}
        scores.append(
            Score(
                kind,
                len(positive),
                len(hit & positive),
                len(hit - positive),
                len(planted) - len(positive),
            )
        )
    return scores


def publish_lines(
    bootstrap_servers: str,
    topic: str,
    lines: Iterable[bytes],
    *,
    rate: float | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """Publish lines keyed by trip (as the NiFi flow does), at ``rate`` lines/s if given.

    Returns how many lines the broker acknowledged; a line it refused is logged by the
    delivery callback and not counted, so a caller compares the count to detect drops.
    """
    from confluent_kafka import Producer

    from lakehouse.stream.kafka import client_conf

    acked = 0

    def delivered(err: object, _msg: object) -> None:
        nonlocal acked
        acked += err is None

    producer = Producer(
        client_conf(bootstrap_servers, **{"linger.ms": 2, "enable.idempotence": True})
    )
    start = time.monotonic()
    for n, line in enumerate(lines, 1):
        while True:
            try:
                producer.produce(topic, line, trip_key(line), on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if on_sent is not None:
            on_sent(n)
        if rate:
            ahead = start + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    producer.flush(60)
    return acked


class AlertWatcher:
    """Reads the alerts topic (committed records only) in a thread; latency per alert.

    Latency is the alert's arrival here minus ``trigger_published_at``: the time the event
    that completed the evidence was published to the events topic.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        on_alert: Callable[[dict, float], None] | None = None,
    ) -> None:
        import threading

        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.on_alert = on_alert
        self.alerts: list[tuple[dict, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-watcher", daemon=True)

    def start(self) -> AlertWatcher:
        """Start consuming from the topic's beginning (a fresh topic per run)."""
        self._thread.start()
        return self

    def _run(self) -> None:
        from datetime import datetime

        from confluent_kafka import Consumer

        from lakehouse.stream.kafka import client_conf

        consumer = Consumer(
            client_conf(
                self.bootstrap_servers,
                **{
                    "group.id": f"alert-watcher-{time.time_ns()}",
                    "auto.offset.reset": "earliest",
                    "isolation.level": "read_committed",
                    "fetch.wait.max.ms": 10,
                },
            )
        )
        consumer.subscribe([self.topic])
        try:
            while not self._stop.is_set():
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                arrived = time.time()
                alert = json.loads(msg.value() or b"{}")
                latency = (
                    arrived - datetime.fromisoformat(alert["trigger_published_at"]).timestamp()
                )
                self.alerts.append((alert, latency))
                if self.on_alert is not None:
                    self.on_alert(alert, latency)
        finally:
            consumer.close()

    def stop(self) -> None:
        """Stop consuming and wait for the thread."""
        self._stop.set()
        self._thread.join(10)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def alert_from_message(doc: dict) -> Alert:
    """An alert read back from the alerts topic, enough for :func:`score` (no evidence)."""
    keep = {k: v for k, v in doc.items() if k in Alert.__dataclass_fields__}
    return Alert(**{**keep, "event_time": 0.0, "evidence": [], "trigger_published_ms": 0})
