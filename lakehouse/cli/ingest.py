"""``lakehouse ingest``: the bronze job as a command (new landed files, exactly once)."""

from __future__ import annotations

import argparse

from lakehouse.cli.common import settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command; its options are the bronze job's own."""
    from spark_jobs.ingest.bronze_job import add_arguments

    parser = sub.add_parser(
        "ingest",
        help="ingest new landed files into bronze Delta tables",
        description="Parse every new file in <lake>/landing into bronze tables; bad input goes "
        "to bronze.quarantine. Safe to re-run and to interrupt.",
        epilog="example: lakehouse ingest --lake-root ./lake",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Ingest and print the report."""
    from spark_jobs.ingest import bronze_job

    report = bronze_job.run(settings_from(args), args.max_files, args.wait)
    print(bronze_job.format_report(report))
    return 0
