"""``lakehouse export --date D``: the day's scores to ``outbound/scores/<date>/`` and the CMS
score table (PostgreSQL, ``LAKEHOUSE_PG_DSN``)."""

from __future__ import annotations

import argparse
from datetime import date

from lakehouse.cli.common import add_command, progress, settings_from

HELP = "export a day's scores: outbound files + manifest, and the CMS database upsert"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub, "export", help=HELP, epilog="example: lakehouse export --date 2026-11-24"
    )
    parser.add_argument("--date", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace):
    """Export the day (a rerun replaces it)."""
    from lakehouse.spark import get_spark
    from spark_jobs.export.export_job import export_day

    settings = settings_from(args)
    spark = get_spark(settings, app_name="lakehouse-export")
    return export_day(spark, settings, args.date, progress=progress("export"))
