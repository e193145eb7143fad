"""Benchmark: bronze -> silver -> gold (lakehouse transform) on the embedded default.

Two figures, each with wall time and peak memory of the process tree (this Python, the Spark
JVM, its Python workers; PeakMemory from bench_ingest):

1. full build: `--declarations` declarations in one day, simulated and ingested into bronze
   (not timed), then one `transform` (every model, seed, unit and data test) on the clock;
2. nightly increment: `--days` days built, then one more day ingested and an incremental
   `transform` timed (budget: a third of the full build).

Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_transform.py --declarations 100000 --days 7
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import PeakMemory


def _land_and_ingest(spark, settings, day: date, declarations: int, seed: int) -> None:
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate

    generate(
        settings.lake_root.removeprefix("file://"), declarations=declarations, seed=seed, day=day
    )
    init_lake(spark, settings)  # idempotent; a lake is created explicitly
    # The simulator lands files whole: nothing to let settle.
    ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))


def _timed_transform(spark, settings) -> dict:
    from lakehouse.transform import transform

    start = time.perf_counter()
    with PeakMemory() as mem:
        result = transform(spark, settings)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mib": round(mem.peak / 2**20),
        "reconciled": result.reconciled,
    }


def main() -> int:
    """Run both measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7, help="days before the timed increment")
    parser.add_argument(
        "--day-declarations",
        type=int,
        default=None,
        help="declarations per day for the increment run (default: declarations/days)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-transform-"))
    first = date(2026, 11, 1)
    report: dict = {"declarations": args.declarations, "days": args.days}
    with override_settings(lake_root=(work / "full").resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-transform")
        _land_and_ingest(spark, settings, first, args.declarations, seed=1)
        report["full_build"] = _timed_transform(spark, settings)
    per_day = args.day_declarations or max(1, args.declarations // args.days)
    with override_settings(lake_root=(work / "nightly").resolve().as_uri()) as settings:
        for n in range(args.days):
            _land_and_ingest(spark, settings, first + timedelta(days=n), per_day, seed=10 + n)
        _timed_transform(spark, settings)
        _land_and_ingest(spark, settings, first + timedelta(days=args.days), per_day, seed=99)
        report["nightly_increment"] = _timed_transform(spark, settings)
        report["per_day_declarations"] = per_day
    full, nightly = report["full_build"]["seconds"], report["nightly_increment"]["seconds"]
    report["within_budget"] = full <= 300 and nightly <= full / 3
    print(json.dumps(report, indent=2))
    return 0 if report["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
