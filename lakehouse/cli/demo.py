"""``lakehouse demo``: everything that exists, end to end, on a local lake.

Today: simulate a day of traffic, ingest it into bronze (twice, to show the re-run adds
nothing), summarise what landed where, quarantine included, and validate every table that
exists against its quality contract (report path and one verdict line per zone).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from lakehouse.cli.common import add_lake_root, progress, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = sub.add_parser(
        "demo",
        help="run the pipeline end to end on a local lake and summarise it",
        epilog="example: lakehouse demo --declarations 2000",
    )
    add_lake_root(parser)
    parser.add_argument("--declarations", type=int, default=2000, help="declarations to simulate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 24))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Simulate, ingest, re-ingest, summarise; exit non-zero if the re-run was not a no-op."""
    from pyspark.sql import functions as F

    from lakehouse.ingest.bronze import ingest_landing
    from lakehouse.simulator import generate
    from lakehouse.spark import get_spark
    from lakehouse.tables import BRONZE, QUARANTINE

    settings = settings_from(args)
    say = progress("demo")
    say(f"lake root {settings.lake_root}")
    from lakehouse.storage import writer_for

    summary = generate(
        settings.lake_root,
        declarations=args.declarations,
        seed=args.seed,
        day=args.day,
        writer=writer_for(settings),
    )
    say(f"simulated {args.declarations:,} declarations into the landing zone")
    spark = get_spark(settings, app_name="lakehouse-demo")
    first = ingest_landing(spark, settings, progress=progress("ingest"))
    again = ingest_landing(spark, settings, progress=progress("ingest"))
    if again.total_records or again.rejected:
        print(
            f"demo: FAILED: the re-run ingested {again.total_records} records again",
            file=sys.stderr,
        )
        return 1
    print("\nBronze tables:")
    for name in BRONZE:
        n = spark.read.format("delta").load(settings.table_uri("bronze", name)).count()
        print(f"  bronze.{name:<26} {n:>10,}")
    quarantine = spark.read.format("delta").load(settings.table_uri("bronze", QUARANTINE.name))
    print(f"  bronze.{QUARANTINE.name:<26} {quarantine.count():>10,}  by reason:")
    for row in quarantine.groupBy("feed", "error_code").count().orderBy(F.desc("count")).collect():
        print(f"      {row.feed or '?':<12} {row.error_code:<16} {row['count']:>6,}")
    print(f"\nsimulator summary: {summary}")
    _quality(spark, settings)
    print(
        f"\nDEMO OK: {first.files_ingested:,} files, {first.total_records:,} records into bronze, "
        f"{first.rejected:,} quarantined, re-run added nothing; lake at {settings.lake_root}"
    )
    return 0


def _quality(spark, settings) -> None:
    """Validate every table that exists (``lakehouse validate``): report path, verdict per zone."""
    from pathlib import Path

    from governance.dq.run import validate_and_report

    outcome = validate_and_report(spark, settings, report_dir=Path("reports") / "dq")
    print("\nData quality:")
    for line in outcome.verdict.zones.values():
        print(f"  {line}")
    print(f"  report: {outcome.html}")
