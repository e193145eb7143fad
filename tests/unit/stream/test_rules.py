"""The ECTS alert rules over hand-made trips: one rule at a time, then order and lateness.

The trips live on a made-up straight corridor (no simulator code or office), so every
distance in a test can be checked by hand: 0.01 degree of latitude is ~1.11 km.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakehouse.stream.reference import ApprovedPlace, Corridor, Reference, Thresholds
from lakehouse.stream.rules import TripState, advance, event_from_record, on_silence

T0 = datetime(2030, 5, 1, 6, 0, tzinfo=UTC)
REF = Reference(
    corridors=(Corridor("C1", "AAA", "BBB", ((0.0, 10.0), (0.0, 11.0))),),
    places=(
        ApprovedPlace("p-aaa", "office", 0.0, 10.0, 1_000.0, "AAA"),
        ApprovedPlace("p-bbb", "office", 0.0, 11.0, 1_000.0, "BBB"),
        ApprovedPlace("p-ccc", "office", 0.0, 10.5, 1_000.0, "CCC"),
        ApprovedPlace("p-park", "parking", 0.0, 10.3, 500.0, None),
    ),
    thresholds=Thresholds(
        deviation_distance_m=3_000, stop_after_s=3_600, silent_after_s=900, allowed_lateness_s=1_800
    ),
)


def ev(
    n: int,
    minute: float,
    kind: str = "position",
    lat: float | None = 0.0,
    lon: float | None = None,
    speed: float | None = 50.0,
    trip: str = "T1",
) -> dict:
    """A bronze record as the contract parser builds it."""
    return {
        "event_id": f"{trip}-{n:04d}",
        "trip_id": trip,
        "event_type": kind,
        "event_time": T0 + timedelta(minutes=minute),
        "latitude": lat,
        "longitude": 10.0 + minute / 600 if lon is None and lat is not None else lon,
        "speed_kmh": speed,
        "mrn": f"MRN-{trip}",
        "office_of_departure": "AAA",
        "office_of_destination": "BBB",
    }


def run(records: list[dict], batch: int = 1) -> tuple[TripState, list]:
    state, alerts = TripState(records[0]["trip_id"]), []
    for i in range(0, len(records), batch):
        chunk = records[i : i + batch]
        alerts += advance(state, [(event_from_record(r), r) for r in chunk], REF).alerts
    return state, alerts


def clean_trip() -> list[dict]:
    recs = [ev(0, 0, "sealed", lon=10.0, speed=0.0)]
    recs += [ev(n, n * 5) for n in range(1, 120)]
    recs.append(ev(120, 600, "opened", lon=11.0, speed=0.0))
    return recs


def detour_trip(seal: str | None = "tamper") -> list[dict]:
    recs = clean_trip()[:-1]
    for n in range(40, 60):  # 100 minutes parked 5.5 km off the corridor
        recs[n] = ev(n, n * 5, lat=0.05, lon=10.33, speed=0.0)
    if seal:
        recs.append(ev(500, 251, seal, lat=0.05, lon=10.33, speed=0.0))
    recs.append(ev(120, 600, "opened", lon=11.0, speed=0.0))
    return sorted(recs, key=lambda r: r["event_time"])


def test_a_clean_trip_raises_nothing_and_ends_at_its_destination() -> None:
    state, alerts = run(clean_trip())
    assert alerts == []
    assert state.ended


def test_a_detour_with_a_broken_seal_raises_each_kind_once() -> None:
    _, alerts = run(detour_trip())
    assert sorted(a.kind for a in alerts) == ["long_stop", "route_deviation", "seal_breach"]
    deviation = next(a for a in alerts if a.kind == "route_deviation")
    assert deviation.event_time == (T0 + timedelta(minutes=200)).timestamp()
    assert "5.6 km from the corridor" in deviation.detail
    assert deviation.mrn == "MRN-T1" and deviation.severity == "high"
    assert deviation.evidence[0].event_id == "T1-0040"


def test_a_seal_opened_at_another_office_is_a_wrong_destination() -> None:
    recs = [*clean_trip()[:60], ev(900, 301, "opened", lon=10.5, speed=0.0)]
    _, alerts = run(recs)
    assert [a.kind for a in alerts] == ["wrong_destination"]


def test_a_seal_event_without_coordinates_is_placed_at_the_last_fix() -> None:
    recs = [*clean_trip()[:40], ev(900, 196, "tamper", lat=None, lon=None, speed=None)]
    _, alerts = run(recs)
    assert [a.kind for a in alerts] == ["seal_breach"]
    assert alerts[0].latitude == 0.0


def test_a_stop_at_an_approved_parking_is_no_alert() -> None:
    recs = clean_trip()[:-1]
    for n in range(30, 60):  # 150 minutes at the parking at lon 10.3
        recs[n] = ev(n, n * 5, lon=10.3, speed=0.0)
    _, alerts = run(recs)
    assert alerts == []


def test_two_separate_deviations_are_two_incidents() -> None:
    recs = clean_trip()[:-1]
    for n in (20, 21, 80, 81):
        recs[n] = ev(n, n * 5, lat=0.05)
    _, alerts = run(recs)
    assert [a.alert_id for a in alerts] == ["T1:route_deviation:1", "T1:route_deviation:2"]


def test_repeated_deliveries_are_ignored() -> None:
    recs = detour_trip()
    _, alerts = run(recs + recs[30:70])
    assert len(alerts) == 3


def test_an_event_older_than_the_lateness_is_returned_late() -> None:
    recs = clean_trip()[:50]
    state, _ = run(recs)
    late = ev(7, 35)  # 35 min into a trip whose newest event is at 245 min
    outcome = advance(state, [(event_from_record(late), late)], REF)
    assert [e.event_id for e in outcome.late] == ["T1-0007"]


def test_silence_is_raised_once_and_cleared_by_the_next_report() -> None:
    state, _ = run(clean_trip()[:30])
    first = on_silence(state, REF)
    assert first is not None and first.kind == "device_silent"
    assert on_silence(state, REF) is None
    advance(state, [(event_from_record(r), r) for r in [ev(31, 155)]], REF)
    assert on_silence(state, REF) is not None


def test_no_silence_after_arrival() -> None:
    state, _ = run(clean_trip())
    assert on_silence(state, REF) is None


def test_state_survives_a_round_trip_through_json() -> None:
    state, _ = run(detour_trip()[:55])
    again = TripState.from_json(state.to_json())
    assert again == state


def _kinds(alerts: list) -> list[tuple[str, str]]:
    return sorted((a.trip_id, a.kind) for a in alerts)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    batch=st.integers(1, 12),
    seal=st.sampled_from(["tamper", "opened", None]),
)
def test_buffered_and_shuffled_delivery_gives_the_same_alerts(
    seed: int, batch: int, seal: str | None
) -> None:
    """A device that buffers offline sends its backlog in any order, within the lateness."""
    recs = detour_trip(seal)
    rnd = random.Random(seed)
    # Every event is delayed by up to 25 min (< the 30 min lateness), then sent in that order.
    delayed = sorted(recs, key=lambda r: r["event_time"] + timedelta(minutes=rnd.uniform(0, 25)))
    _, expected = run(recs)
    _, got = run(delayed, batch)
    assert _kinds(got) == _kinds(expected)


@pytest.mark.parametrize("lateness", [0.0, 1_800.0])
def test_in_order_delivery_does_not_depend_on_batching(lateness: float) -> None:
    recs = detour_trip()
    _, one = run(recs, 1)
    _, many = run(recs, 17)
    assert _kinds(one) == _kinds(many)
