"""The ECTS alert rules over one trip's events: pure Python, no Spark, no Kafka.

The streaming job keeps one :class:`TripState` per trip and calls :func:`advance` with each
micro-batch's events of that trip; the same function runs the rules offline over a landed day
(tests, precision/recall). Keeping it pure is what lets the rules be tested exhaustively
without a JVM, and lets the job and the offline check never disagree.

Time and order (why it is built this way):

* **Events are judged in event-time order.** Each trip keeps a buffer of its recent events
  sorted by event time, and every rule reads the buffer, never the arrival order. So a device
  that buffered while offline and sends its backlog shuffled gets the same alerts.
* **Stated lateness.** The trip's watermark is its newest event time minus
  ``allowed_lateness_s``. An event older than the watermark when it arrives is *late*: the
  rules no longer look at it and it is returned for the quarantine (nothing is lost).
* **Raised at once, closed when final.** An incident opens on its first triggering event (an
  alert is raised in the same micro-batch: the officer must know while the truck is there) and
  stays open, raising nothing more, until an event that clears it (back in the corridor,
  moving again, re-sealed) lies behind the watermark: no late event can then reopen the same
  incident, so one incident raises one alert whatever the order its events come in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from lakehouse.stream.reference import Reference, distance_m, distance_to_polyline_m

SEAL_BREACH_TYPES = frozenset({"opened", "tamper"})
RESEAL_TYPES = frozenset({"sealed"})
MAX_EVIDENCE = 5


@dataclass(frozen=True, slots=True)
class Event:
    """One validated tracking event, reduced to what the rules read."""

    event_id: str
    t: float  # event time, epoch seconds
    event_type: str
    lat: float | None
    lon: float | None
    speed: float | None
    published_ms: int = 0  # when it was published to the bus (latency is measured from here)
    corridor_m: float | None = None  # distance to the nearest corridor, measured once on arrival

    @property
    def has_position(self) -> bool:
        """True when the event carries coordinates."""
        return self.lat is not None and self.lon is not None

    def to_list(self) -> list[Any]:
        """Compact form kept in the state store."""
        return [
            self.event_id,
            self.t,
            self.event_type,
            self.lat,
            self.lon,
            self.speed,
            self.published_ms,
            self.corridor_m,
        ]


def event_from_record(record: dict[str, Any], published_ms: int = 0) -> Event:
    """The rules' view of a bronze ``ects_events`` record (as the contract parser built it)."""
    return Event(
        record["event_id"],
        record["event_time"].timestamp(),
        record["event_type"],
        _float(record.get("latitude")),
        _float(record.get("longitude")),
        _float(record.get("speed_kmh")),
        published_ms,
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(slots=True)
class Alert:
    """An alert for an officer: what, where, when, and the events that prove it."""

    alert_id: str
    trip_id: str
    mrn: str | None
    office_of_departure: str | None
    office_of_destination: str | None
    kind: str
    severity: str
    latitude: float | None
    longitude: float | None
    event_time: float
    detail: str
    evidence: list[Event]
    trigger_published_ms: int


@dataclass(slots=True)
class TripState:
    """What the job remembers about one trip between micro-batches (JSON in the state store)."""

    trip_id: str
    mrn: str | None = None
    departure: str | None = None
    destination: str | None = None
    max_t: float = -math.inf
    buffer: list[Event] = field(default_factory=list)
    open: dict[str, float] = field(default_factory=dict)  # kind -> last trigger time
    closed_until: dict[str, float] = field(default_factory=dict)  # kind -> clearing time
    counts: dict[str, int] = field(default_factory=dict)  # kind -> incidents raised
    ended: bool = False
    silent: bool = False
    seen_ms: int = 0  # newest publish time of the trip's events (the silence rule's clock)
    timer_ms: int = 0  # the pending silence timer, 0 for none

    def watermark(self, lateness: float) -> float:
        """Event time before which this trip's events are late."""
        return self.max_t - lateness

    def to_json(self) -> str:
        """Serialise for the state store."""
        return json.dumps(
            {
                "trip_id": self.trip_id,
                "mrn": self.mrn,
                "departure": self.departure,
                "destination": self.destination,
                "max_t": self.max_t if math.isfinite(self.max_t) else None,
                "buffer": [e.to_list() for e in self.buffer],
                "open": self.open,
                "closed_until": self.closed_until,
                "counts": self.counts,
                "ended": self.ended,
                "silent": self.silent,
                "seen_ms": self.seen_ms,
                "timer_ms": self.timer_ms,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TripState:
        """Inverse of :meth:`to_json`."""
        doc = json.loads(text)
        doc["max_t"] = -math.inf if doc["max_t"] is None else doc["max_t"]
        doc["buffer"] = [Event(*item) for item in doc["buffer"]]
        return cls(**doc)


@dataclass(slots=True)
class TripContext:
    """One evaluation: the state, the reference data and the watermark of this batch."""

    state: TripState
    ref: Reference
    watermark: float
    positions: list[Event] = field(init=False)  # buffered events with coordinates, in order

    def __post_init__(self) -> None:
        self.positions = [e for e in self.state.buffer if e.has_position]

    def position_at(self, event: Event) -> tuple[float | None, float | None]:
        """The event's coordinates, or the last known ones before it."""
        if event.has_position:
            return event.lat, event.lon
        before = [e for e in self.positions if e.t <= event.t]
        return (before[-1].lat, before[-1].lon) if before else (None, None)


# -- the rules: each returns (kind, triggers, clears, detail) or None -----------------------
Finding = tuple[str, list[Event], list[Event], Callable[[Event], str]]


def _seal_rule(ctx: TripContext) -> list[Finding]:
    """A seal opened or broken anywhere but at an approved office."""
    triggers, wrong_office = [], []
    for e in ctx.state.buffer:
        if e.event_type not in SEAL_BREACH_TYPES:
            continue
        lat, lon = ctx.position_at(e)
        place = (
            None if lat is None or lon is None else ctx.ref.place_at(lat, lon, offices_only=True)
        )
        if place is None:
            triggers.append(e)
        elif place.office_code not in (None, ctx.state.destination) and e.event_type == "opened":
            wrong_office.append(e)
    clears = [e for e in ctx.state.buffer if e.event_type in RESEAL_TYPES]
    return [
        (
            "seal_breach",
            triggers,
            clears,
            lambda e: f"seal {e.event_type} outside any approved office",
        ),
        (
            "wrong_destination",
            wrong_office,
            [],
            lambda e: f"seal opened at an office other than the declared {ctx.state.destination}",
        ),
    ]


def _deviation_rule(ctx: TripContext) -> list[Finding]:
    """A position farther than the tolerance from every corridor of the declared route."""
    corridors = ctx.ref.corridors_for(ctx.state.departure, ctx.state.destination)
    positions = ctx.positions
    if not corridors:
        return [
            ("unknown_corridor", positions[:1], [], lambda e: "no corridor approved for this route")
        ]
    limit = ctx.ref.thresholds.deviation_distance_m
    off = [e for e in positions if (e.corridor_m or 0.0) > limit]
    on = [e for e in positions if (e.corridor_m or 0.0) <= limit]

    def detail(e: Event) -> str:
        km = (e.corridor_m or 0.0) / 1000
        return f"{km:.1f} km from the corridor (tolerance {limit / 1000:.1f} km)"

    return [("route_deviation", off, on, detail)]


def _stop_rule(ctx: TripContext) -> list[Finding]:
    """Stationary longer than the threshold, outside every approved place."""
    th = ctx.ref.thresholds
    triggers, clears, anchors = [], [], {}
    anchor: Event | None = None
    for e in ctx.positions:
        still = (e.speed is None or e.speed <= th.stop_speed_kmh) and (
            anchor is None or distance_m(anchor.lat, anchor.lon, e.lat, e.lon) <= th.stop_radius_m  # type: ignore[arg-type]
        )
        if not still:
            anchor = e if (e.speed is None or e.speed <= th.stop_speed_kmh) else None
            clears.append(e)
            continue
        anchor = anchor or e
        if e.t - anchor.t >= th.stop_after_s and ctx.ref.place_at(anchor.lat, anchor.lon) is None:  # type: ignore[arg-type]
            triggers.append(e)
            anchors[e.event_id] = anchor
    return [
        (
            "long_stop",
            triggers,
            clears,
            lambda e: (
                f"stopped {(e.t - anchors[e.event_id].t) / 60:.0f} min outside approved places"
            ),
        )
    ]


RULES: tuple[Callable[[TripContext], list[Finding]], ...] = (
    _seal_rule,
    _deviation_rule,
    _stop_rule,
)


def _incident(ctx: TripContext, finding: Finding) -> Alert | None:
    """Open (and raise) or extend or close the incident of one kind; see the module doc."""
    kind, triggers, clears, detail = finding
    state = ctx.state
    after = state.closed_until.get(kind, -math.inf)
    fresh = [e for e in triggers if e.t > after]
    alert = None
    if fresh and kind not in state.open:
        first = fresh[0]
        state.counts[kind] = state.counts.get(kind, 0) + 1
        state.open[kind] = first.t
        alert = _alert(ctx, kind, first, fresh[:MAX_EVIDENCE], detail(first))
    if fresh:
        state.open[kind] = max(state.open[kind], fresh[-1].t)
    if kind in state.open:
        last = state.open[kind]
        final = [c for c in clears if last < c.t <= ctx.watermark]
        if final:
            state.closed_until[kind] = final[0].t
            del state.open[kind]
    return alert


def _alert(ctx: TripContext, kind: str, first: Event, evidence: list[Event], detail: str) -> Alert:
    state = ctx.state
    lat, lon = ctx.position_at(first)
    return Alert(
        alert_id=f"{state.trip_id}:{kind}:{state.counts[kind]}",
        trip_id=state.trip_id,
        mrn=state.mrn,
        office_of_departure=state.departure,
        office_of_destination=state.destination,
        kind=kind,
        severity=ctx.ref.thresholds.severity.get(kind, "medium"),
        latitude=lat,
        longitude=lon,
        event_time=first.t,
        detail=detail,
        evidence=evidence,
        trigger_published_ms=max(e.published_ms for e in evidence),
    )


@dataclass(slots=True)
class Outcome:
    """What one call to :func:`advance` produced."""

    alerts: list[Alert]
    late: list[Event]
    duplicates: int


def advance(
    state: TripState, events: Iterable[tuple[Event, dict[str, Any]]], ref: Reference
) -> Outcome:
    """Add a batch of one trip's events (with their bronze records) and run every rule.

    Returns the alerts raised, the late events (for the quarantine) and how many events were
    exact repeats of buffered ones (at-least-once delivery upstream) and were ignored.
    """
    lateness = ref.thresholds.allowed_lateness_s
    watermark_before = state.watermark(lateness)
    seen = {e.event_id for e in state.buffer}
    late: list[Event] = []
    duplicates = 0
    for event, record in sorted(events, key=lambda pair: (pair[0].t, pair[0].event_id)):
        _learn(state, record)
        if event.event_id in seen:
            duplicates += 1
            continue
        if event.t < watermark_before:
            late.append(event)
            continue
        seen.add(event.event_id)
        state.buffer.append(_measured(event, state, ref))
        state.max_t = max(state.max_t, event.t)
    state.buffer.sort(key=lambda e: (e.t, e.event_id))
    state.silent = False
    ctx = TripContext(state, ref, state.watermark(lateness))
    alerts = [a for rule in RULES for f in rule(ctx) if (a := _incident(ctx, f))]
    state.ended = state.ended or _arrived(ctx)
    _prune(ctx)
    return Outcome(alerts, late, duplicates)


def _measured(event: Event, state: TripState, ref: Reference) -> Event:
    """The event with its distance to the declared route's corridors (None: no position/route).

    Measured once when the event arrives: the rules re-read the buffer on every batch, and
    the distance to a polyline is the costliest thing they compute.
    """
    corridors = ref.corridors_for(state.departure, state.destination)
    if not event.has_position or not corridors:
        return event
    d = min(distance_to_polyline_m(event.lat, event.lon, c.points) for c in corridors)  # type: ignore[arg-type]
    return replace(event, corridor_m=d)


def _learn(state: TripState, record: dict[str, Any]) -> None:
    """Keep the trip's declared identity from the first event that carries it."""
    state.mrn = state.mrn or record.get("mrn")
    state.departure = state.departure or record.get("office_of_departure")
    state.destination = state.destination or record.get("office_of_destination")


def _arrived(ctx: TripContext) -> bool:
    """The seal was opened at the declared destination: the trip is over (no silence alert)."""
    for e in ctx.state.buffer:
        if e.event_type == "opened":
            lat, lon = ctx.position_at(e)
            place = None if lat is None else ctx.ref.place_at(lat, lon, offices_only=True)  # type: ignore[arg-type]
            if place is not None and place.office_code == ctx.state.destination:
                return True
    return False


def _prune(ctx: TripContext) -> None:
    """Forget events no rule can need again (older than a stop plus the lateness)."""
    th = ctx.ref.thresholds
    horizon = ctx.watermark - th.stop_after_s - th.allowed_lateness_s
    keep = [e for e in ctx.state.buffer if e.t >= horizon]
    if len(keep) < len(ctx.state.buffer):
        # Keep the last fix before the horizon: a seal event needs a known position.
        older = [e for e in ctx.state.buffer if e.t < horizon and e.has_position]
        ctx.state.buffer = older[-1:] + keep


def on_silence(state: TripState, ref: Reference) -> Alert | None:
    """The device has not reported for ``silent_after_s`` (on the event bus's clock)."""
    if state.ended or state.silent or not state.buffer:
        return None
    state.silent = True
    kind = "device_silent"
    state.counts[kind] = state.counts.get(kind, 0) + 1
    ctx = TripContext(state, ref, state.watermark(ref.thresholds.allowed_lateness_s))
    last = state.buffer[-1]
    minutes = ref.thresholds.silent_after_s / 60
    return _alert(ctx, kind, last, [last], f"no report for {minutes:.0f} min")
