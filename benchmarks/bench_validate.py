"""Benchmark: validate 100,000 declarations' silver and gold tables (budget: 2 minutes).

Prepares a lake once (simulate, ingest into bronze, ``lakehouse transform`` into silver and
gold), then times only ``validate_and_report`` on the silver and gold zones: every contract,
the results tables, failing rows and the report, as the nightly run does. The Spark session
is started before the clock. Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_validate.py --declarations 100000
    .venv/bin/python benchmarks/bench_validate.py --workdir /tmp/bench --keep   # reuse the lake
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BUDGET_SECONDS = 120.0


def prepare(spark, settings, declarations: int, seed: int) -> None:
    """Simulate, ingest and transform, unless the lake already holds silver tables."""
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate
    from lakehouse.transform import transform

    generate(settings.lake_root, declarations=declarations, seed=seed, day=date(2026, 11, 24))
    init_lake(spark, settings)  # idempotent; a lake is created explicitly
    # The simulator lands files whole: nothing to let settle.
    ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))
    transform(spark, settings)


def main() -> int:
    """Prepare (untimed), validate silver and gold (timed), print JSON, exit 1 over budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--zones", default="silver,gold")
    args = parser.parse_args()

    from governance.dq.run import validate_and_report
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-validate-"))
    lake = (workdir / "lake").resolve()
    with override_settings(lake_root=lake.as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-validate")
        if not (lake / "silver").exists():
            prepare(spark, settings, args.declarations, args.seed)
        timings, checks, rows = {}, 0, 0
        for zone in args.zones.split(","):
            start = time.perf_counter()
            outcome = validate_and_report(spark, settings, zone=zone, report_dir=workdir / "r")
            timings[zone] = round(time.perf_counter() - start, 1)
            checks += len(outcome.run.results)
            rows += sum({r.table: r.rows_checked for r in outcome.run.results}.values())
    total = sum(timings.values())
    print(
        json.dumps(
            {
                "declarations": args.declarations,
                "seconds": timings,
                "total_seconds": round(total, 1),
                "checks": checks,
                "rows_checked": rows,
                "budget_seconds": BUDGET_SECONDS,
                "within_budget": total <= BUDGET_SECONDS,
            },
            indent=2,
        )
    )
    return 0 if total <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
