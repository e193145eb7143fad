"""Nightly scoring + export benchmark: ``lakehouse score`` then ``lakehouse export`` (files and,
with ``--pg-dsn``, the PostgreSQL upsert) for one day of a lake that has a champion model.

    python benchmarks/bench_score.py --lake /tmp/hist --date 2026-11-08 [--pg-dsn postgresql://...]

Prints the day's declarations and the seconds of each step (model loading included). The
issue's target: a 50,000-declaration night scored and exported within 2 minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from datetime import date
from pathlib import Path


def main() -> None:
    """Score and export the day twice (cold, then warm: the rerun is the idempotent path)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--pg-dsn", default=None)
    args = parser.parse_args()
    os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "benchmark-pseudonym-key")
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark
    from spark_jobs.export.export_job import export_day
    from spark_jobs.score.score_job import ScoreOptions, score_day

    with override_settings(lake_root=args.lake.resolve().as_uri()) as settings:
        settings = dataclasses.replace(settings, pg_dsn=args.pg_dsn)
        spark = get_spark(settings, app_name="bench-score")
        runs = []
        for attempt in ("cold", "warm"):
            started = time.monotonic()
            scored = score_day(spark, settings, args.date, ScoreOptions())
            middle = time.monotonic()
            exported = export_day(spark, settings, args.date)
            done = time.monotonic()
            runs.append(
                {
                    "run": attempt,
                    "declarations": scored.rows,
                    "score_seconds": round(middle - started, 1),
                    "export_seconds": round(done - middle, 1),
                    "total_seconds": round(done - started, 1),
                    "database": exported.database,
                }
            )
    print(json.dumps({"budget_seconds_for_50000": 120, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
