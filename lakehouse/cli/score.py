"""``lakehouse score --date D``: the champion models score the day into ``gold.risk_scores``."""

from __future__ import annotations

import argparse
from datetime import date

from lakehouse.cli.common import add_command, progress, settings_from

HELP = "score a day's declarations with the champion models into gold.risk_scores"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "score",
        help=HELP,
        epilog="example: lakehouse score --date 2026-11-24\n"
        "capacity and control sample: LAKEHOUSE_INSPECTION_CAPACITY, LAKEHOUSE_CONTROL_RATE, "
        "LAKEHOUSE_CONTROL_SEED",
    )
    parser.add_argument("--date", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace):
    """Score the day (replacing that day's rows)."""
    from lakehouse.spark import get_spark
    from spark_jobs.score.score_job import score_day

    settings = settings_from(args)
    spark = get_spark(settings, app_name="lakehouse-score")
    return score_day(spark, settings, args.date, options_from(settings), progress=progress("score"))


def options_from(settings):
    """The scoring options from the settings."""
    from spark_jobs.score.score_job import ScoreOptions

    return ScoreOptions(settings.inspection_capacity, settings.control_rate, settings.control_seed)
