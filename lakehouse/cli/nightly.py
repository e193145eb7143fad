"""``lakehouse nightly``: the daily run: ingest, compact bronze, transform, the data-quality
gate, then score and export.

The gate (``lakehouse validate`` on the day's batches) is the last step before anything
reaches the CMS: a night whose data breaches a threshold exits 1 naming table, check, rate and
threshold, and scoring never runs on it. With no champion model yet (nothing trained), the
night stops after the gate and says so: there is nothing to score with.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.cli.common import add_command, progress, settings_from

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lakehouse.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "nightly",
        help="ingest, build silver and gold, check quality, then score and export the day",
        epilog="example: lakehouse nightly --date 2026-11-24",
    )
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="the business day to score and export (default: today, UTC)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports") / "dq",
        help="where the data-quality report goes (default: reports/dq)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Ingest, transform, validate, score and export in one Spark session.

    1 when the reconciliation is not exact or the data-quality gate fails.
    """
    from governance.contracts.config import load_thresholds
    from governance.dq.run import validate_and_report
    from lakehouse.ingest.bronze import ingest_landing
    from lakehouse.spark import get_spark
    from lakehouse.transform import print_reconciliation, transform

    settings = settings_from(args)
    load_thresholds()  # a bad thresholds file stops the night before it ingests anything
    say = progress("nightly")
    say(f"day {args.date or 'today'}: lake {settings.lake_root}")
    spark = get_spark(settings, app_name="lakehouse-nightly")
    ingested = ingest_landing(spark, settings, progress=progress("ingest"))
    say(f"ingested {ingested.total_records:,} records ({ingested.rejected:,} quarantined)")
    compact(settings)
    # Unit tests test the SQL, not the night's data: CI and `lakehouse transform` run them.
    result = transform(spark, settings, unit_tests=False, progress=progress("transform"))
    print_reconciliation(result.reconciliation)
    if not result.reconciled:
        return 1
    outcome = validate_and_report(
        spark, settings, day=args.date, report_dir=args.report_dir, progress=progress("validate")
    )
    print(outcome.summary())
    if not outcome.verdict.passed:
        print(
            f"lakehouse nightly: stopped before scoring: {outcome.verdict.message()}",
            file=sys.stderr,
        )
        return 1
    return score_and_export(spark, settings, args.date or _today(), say)


def compact(settings: Settings) -> None:
    """Bronze's nightly compaction (small files merged, logs checkpointed), after the ingestion.

    Before the transform, so dbt's reads of bronze meet a day's few large files, not the
    ~1,400 small ones a day of minute increments commits.
    """
    from lakehouse.ingest.compact import compact_bronze
    from lakehouse.ingest.lease import hold_lease

    say = progress("compact")
    with hold_lease(settings, "lakehouse nightly (compact)", say=say) as lease:
        compact_bronze(settings, lease, say=say)


def score_and_export(
    spark: SparkSession, settings: Settings, day: date, say: Callable[[str], None]
) -> int:
    """The night's last two steps; skipped, with a line saying why, when no model is champion."""
    from lakehouse.cli.score import options_from
    from spark_jobs.export.export_job import export_day
    from spark_jobs.score.score_job import score_day
    from spark_jobs.train import tracking

    if tracking.champion(settings) is None:
        say("no champion model yet: scoring and export skipped (run `lakehouse train`)")
        return 0
    scored = score_day(spark, settings, day, options_from(settings), progress=progress("score"))
    say(scored.text())
    exported = export_day(spark, settings, day, progress=progress("export"))
    say(exported.text())
    return 0


def _today() -> date:
    from datetime import UTC, datetime

    return datetime.now(UTC).date()
