"""Benchmark: validate 100,000 declarations' silver and gold tables (budget: 2 minutes).

Prepares a lake once (simulate, ingest into bronze, ``lakehouse transform`` into silver and
gold), then times only ``validate_and_report`` on the silver and gold zones: every contract,
the results tables, failing rows and the report, as the nightly run does. The Spark session
is started before the clock. Not a test: run it by hand.

``--baseline`` first times, on the same tables and rows, pandera's own data validation of
each contract (its pyspark backend: one Spark action per check, the table cached, as the
validator did before it compiled the checks into one pass), and prints the ratio.

Besides seconds it prints what the machine did meanwhile: the Spark jobs run per zone (job
ids of the run's job group), the driver JVM's CPU seconds (local mode: every task's too) and
the load average, because on a shared machine wall time alone says little.

    .venv/bin/python benchmarks/bench_validate.py --declarations 100000
    .venv/bin/python benchmarks/bench_validate.py --workdir /tmp/bench   # reuse the lake
    .venv/bin/python benchmarks/bench_validate.py --workdir /tmp/bench --baseline gold
    .venv/bin/python benchmarks/bench_validate.py --workdir /tmp/bench --workers 1
    .venv/bin/python benchmarks/bench_validate.py --workdir /tmp/bench --zones gold \
        --table gold.fct_declarations --baseline gold      # one table
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BUDGET_SECONDS = 120.0
# Job ids stay countable for the whole run (Spark keeps 1,000 by default).
RETAIN_JOBS = {"spark.ui.retainedJobs": "100000", "spark.ui.retainedStages": "100000"}


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


def pandera_baseline(spark, settings, zone: str, table: str | None = None) -> float:
    """Seconds for pandera's own validation (schema and data) of every table of ``zone``."""
    from pandera.config import ValidationDepth, config_context

    from governance.dq.scan import open_version
    from governance.dq.validate import scoped_rows, select_contracts

    start = time.perf_counter()
    for contract in select_contracts(zone, table):
        uri = settings.table_uri(contract.zone, contract.table.split(".", 1)[1])
        opened = open_version(settings, uri)
        if opened is None:
            continue
        df = scoped_rows(spark, contract, opened, None)[0].cache()
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            contract.schema().validate(check_obj=df)
        df.unpersist()
    return time.perf_counter() - start


def main() -> int:
    """Prepare (untimed), validate silver and gold (timed), print JSON, exit 1 over budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--zones", default="silver,gold")
    parser.add_argument("--table", help="only this table (zone.table) of the zones")
    parser.add_argument(
        "--baseline", default="", help="zones (comma-separated) to time pandera's own checks on"
    )
    parser.add_argument("--workers", type=int, help="tables checked at once (default: the job's)")
    args = parser.parse_args()

    from profile_validate import jvm_cpu_seconds

    from governance.dq.run import validate_and_report
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-validate-"))
    lake = (workdir / "lake").resolve()
    with override_settings(lake_root=lake.as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-validate", overrides=RETAIN_JOBS)
        if not (lake / "silver").exists():
            prepare(spark, settings, args.declarations, args.seed)
        timings, baseline, checks, rows = {}, {}, 0, 0
        jobs, jvm_cpu = {}, {}
        workers = {} if args.workers is None else {"workers": args.workers}
        for zone in args.zones.split(","):
            if zone in args.baseline.split(","):
                baseline[zone] = round(pandera_baseline(spark, settings, zone, args.table), 1)
            spark.sparkContext.setJobGroup(f"validate {zone}", f"validate {zone}")
            cpu0, start = jvm_cpu_seconds(spark), time.perf_counter()
            outcome = validate_and_report(
                spark, settings, zone=zone, table=args.table, report_dir=workdir / "r", **workers
            )
            timings[zone] = round(time.perf_counter() - start, 1)
            jvm_cpu[zone] = round(jvm_cpu_seconds(spark) - cpu0, 1)
            jobs[zone] = len(
                spark.sparkContext.statusTracker().getJobIdsForGroup(f"validate {zone}")
            )
            checks += len(outcome.run.results)
            rows += sum({r.table: r.rows_checked for r in outcome.run.results}.values())
    total = sum(timings.values())
    compared = (
        {
            "pandera_seconds": baseline,
            "pandera_over_validate": {z: round(b / timings[z], 1) for z, b in baseline.items()},
        }
        if baseline
        else {}
    )
    print(
        json.dumps(
            {
                "declarations": args.declarations,
                "seconds": timings,
                **compared,
                "total_seconds": round(total, 1),
                "spark_jobs": jobs,
                "jvm_cpu_seconds": jvm_cpu,
                "load_average": [round(x, 1) for x in os.getloadavg()],
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
