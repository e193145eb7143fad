"""Simulated history for the model benchmarks and the README figures.

Lands ``days`` simulated days (``per_day`` declarations each), ingests every day into bronze,
then builds silver and gold once. The models see only the lake: nothing here leaks the
simulator's ground truth into training (it stays under ``<lake>/simulator/ground_truth``, read
only by the evaluation's selection-bias measurement).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from datetime import date, timedelta
from pathlib import Path


def build_history(spark, settings, first_day: date, days: int, per_day: int, seed: int) -> dict:
    """Simulate, ingest and transform ``days`` days; returns timings in seconds."""
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate
    from lakehouse.transform import transform

    root = settings.lake_root.removeprefix("file://")
    timings = {"simulate": 0.0, "ingest": 0.0, "transform": 0.0}
    init_lake(spark, settings)
    for offset in range(days):  # land every day first: one ingest pass is cheaper than many
        day = first_day + timedelta(days=offset)
        started = time.monotonic()
        generate(root, declarations=per_day, seed=seed + offset, day=day, malformed_rate=0.005)
        timings["simulate"] += time.monotonic() - started
    started = time.monotonic()
    ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))
    timings["ingest"] += time.monotonic() - started
    started = time.monotonic()
    transform(spark, settings)
    timings["transform"] = time.monotonic() - started
    return timings


def main() -> None:
    """``python benchmarks/history.py --lake /tmp/hist --days 8 --per-day 2500``"""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--per-day", type=int, default=2500)
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "benchmark-pseudonym-key")
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    with override_settings(lake_root=args.lake.resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-history")
        timings = build_history(spark, settings, args.first_day, args.days, args.per_day, args.seed)
        print({k: round(v, 1) for k, v in timings.items()})


if __name__ == "__main__":
    main()
