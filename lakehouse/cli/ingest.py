"""``lakehouse ingest``: new landed files into bronze, exactly once."""

from __future__ import annotations

import argparse

from lakehouse.cli.common import add_lake_root, progress, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = sub.add_parser(
        "ingest",
        help="ingest new landed files into bronze Delta tables",
        description="Parse every new file in <lake>/landing into bronze tables; bad input goes "
        "to bronze.quarantine. Safe to re-run and to interrupt.",
        epilog="example: lakehouse ingest --lake-root ./lake",
    )
    add_lake_root(parser)
    parser.add_argument(
        "--max-files", type=int, default=20000, help="files per batch (default 20000)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Ingest and print the report."""
    from lakehouse.ingest.bronze import ingest_landing
    from lakehouse.spark import get_spark
    from spark_jobs.ingest.bronze_job import format_report

    settings = settings_from(args)
    spark = get_spark(settings, app_name="lakehouse-ingest")
    report = ingest_landing(spark, settings, max_files=args.max_files, progress=progress("ingest"))
    print(format_report(report))
    return 0
