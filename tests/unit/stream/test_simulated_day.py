"""Precision and recall of the ECTS rules against the simulator's ground truth, a whole day.

The same rules the streaming job runs (:mod:`lakehouse.stream.rules`), fed one event at a
time in the order the devices sent them, over every transit trip of a simulated day: each
planted seal-tampering trip must raise a seal breach, each trip that left its corridor
(route deviation or seal tampering) a route deviation, and no clean trip either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.simulator.engine import generate
from lakehouse.stream.replay import landed_lines, offline_alerts, score, simulator_reference, truth

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_every_planted_trip_alerts_and_no_clean_one(tmp_path: Path) -> None:
    summary = generate(str(tmp_path / "lake"), declarations=3000, seed=7)
    alerts = offline_alerts(landed_lines(str(tmp_path / "lake")), simulator_reference(7))
    scores = score(alerts, truth(summary.ground_truth_path))
    for s in scores:
        print(s.line())
    assert [s.kind for s in scores] == ["seal_breach", "route_deviation"]
    for s in scores:
        assert s.planted > 0 and s.clean_trips > 100
        assert (s.precision, s.recall) == (1.0, 1.0), s.line()
