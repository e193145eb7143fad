"""``sample_trips``: the short replay of ``stream-demo --duration`` takes whole trips only."""

from __future__ import annotations

import json

from lakehouse.stream.replay import sample_trips


def _line(mrn: str, n: int) -> bytes:
    return json.dumps({"event_id": f"{mrn}-{n}", "trip_id": f"TRP{mrn}", "mrn": mrn}).encode()


def _day() -> tuple[list[bytes], dict[str, set[str]]]:
    sizes = {"A": 3, "B": 4, "C": 2, "D": 5}
    lines = [_line(m, n) for n in range(5) for m, size in sizes.items() if n < size]
    lines.append(b'{"event_id": "broken", "mrn": "C"')  # malformed, still C's (by its text)
    lines.append(b"garbage")
    planted = {"A": {"seal_tampering"}, "B": set(), "C": {"route_deviation"}, "D": set()}
    return lines, planted


def test_whole_trips_planted_and_clean_in_turn_within_the_budget() -> None:
    lines, planted = _day()
    kept, chosen = sample_trips(lines, planted, budget=8)
    assert list(chosen) == ["A", "B"]  # A (3) + B (4) = 7; C (2 + its malformed line) would pass 8
    assert chosen == {"A": {"seal_tampering"}, "B": set()}
    assert kept == [ln for ln in lines if b'"mrn": "A"' in ln or b'"mrn": "B"' in ln]


def test_a_malformed_line_follows_its_trip_and_unreadable_lines_are_left_out() -> None:
    lines, planted = _day()
    kept, chosen = sample_trips(lines, planted, budget=100)
    assert set(chosen) == set(planted)
    assert b'{"event_id": "broken", "mrn": "C"' in kept
    assert b"garbage" not in kept
    assert [ln for ln in lines if ln in kept] == kept  # order kept


def test_at_least_one_trip_even_when_the_first_is_over_budget() -> None:
    lines, planted = _day()
    kept, chosen = sample_trips(lines, planted, budget=1)
    assert list(chosen) == ["A"] and len(kept) == 3
