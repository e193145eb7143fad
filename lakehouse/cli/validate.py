"""``lakehouse validate``: run the quality contracts, store results, write the report, gate.

Exit codes (the CLI's convention): 0 when every check is within its threshold (warnings are
printed), 1 when a check is over its threshold, with one line on stderr naming table, check,
rate and threshold; 2 for an expected error (no such table, unreadable lake).
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.cli.common import add_command, progress, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command; its options are the validation job's own."""
    from spark_jobs.validate.validate_job import add_arguments

    parser = add_command(
        sub,
        "validate",
        help="run the data-quality contracts on lake tables and write the report",
        description="Check tables against their pandera contracts (new batch only for "
        "incremental tables), append results to governance.dq_results, copy failing silver/gold "
        "rows to governance.dq_failed_rows, write dq_report.html/.json, and fail over threshold.",
        epilog="example: lakehouse validate --zone silver --date 2026-11-24",
    )
    add_arguments(parser, lake_root=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate, report, gate."""
    from spark_jobs.validate import validate_job

    outcome = validate_job.run(settings_from(args), args, progress=progress("validate"))
    print(outcome.summary())
    if not outcome.verdict.passed:
        print(f"lakehouse validate: {outcome.verdict.message()}", file=sys.stderr)
        return 1
    return 0
