"""Progress of a long parse: task counts of the running stages, reported while it runs."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from lakehouse.ingest.bronze import _task_progress, running_tasks

pytestmark = pytest.mark.unit


class FakeTracker:
    """The two calls of pyspark's StatusTracker the progress reporter uses."""

    def __init__(self, stages: dict[int, tuple[int, int]]) -> None:
        self.stages = stages

    def getActiveStageIds(self) -> list[int]:  # noqa: N802 - pyspark's name
        return list(self.stages)

    def getStageInfo(self, stage_id: int) -> SimpleNamespace | None:  # noqa: N802
        if stage_id not in self.stages:
            return None
        done, total = self.stages[stage_id]
        return SimpleNamespace(numCompletedTasks=done, numTasks=total)


def test_running_tasks_adds_up_the_active_stages() -> None:
    assert running_tasks(FakeTracker({3: (2, 8), 4: (1, 4)})) == (3, 12)
    assert running_tasks(FakeTracker({})) is None


def test_progress_is_reported_while_the_body_runs_and_stops_after() -> None:
    tracker = FakeTracker({7: (5, 8)})
    spark = SimpleNamespace(sparkContext=SimpleNamespace(statusTracker=lambda: tracker))
    seen: list[tuple[int, int]] = []
    with _task_progress(spark, lambda done, total: seen.append((done, total)), every=0.01):
        time.sleep(0.2)
    assert seen and set(seen) == {(5, 8)}
    count = len(seen)
    time.sleep(0.05)
    assert len(seen) == count  # the reporter stopped with the body
