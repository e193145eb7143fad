"""``lakehouse validate``: run the quality contracts, store results, write the report, gate.

Exit codes: 0 when every check is within its threshold (warnings are printed), 2 with one
line naming table, check, rate and threshold when a check is over its threshold.
"""

from __future__ import annotations

import argparse

from lakehouse.cli.common import progress, settings_from
from lakehouse.errors import LakehouseError


class QualityGateError(LakehouseError):
    """A check failed more rows than its threshold allows: the run must stop."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command; its options are the validation job's own."""
    from spark_jobs.validate.validate_job import add_arguments

    parser = sub.add_parser(
        "validate",
        help="run the data-quality contracts on lake tables and write the report",
        description="Check tables against their pandera contracts (new batch only for "
        "incremental tables), append results to governance.dq_results, copy failing silver/gold "
        "rows to governance.dq_failed_rows, write dq_report.html/.json, and fail over threshold.",
        epilog="example: lakehouse validate --zone silver --date 2026-11-24",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate, report, gate."""
    from spark_jobs.validate import validate_job

    outcome = validate_job.run(settings_from(args), args, progress=progress("validate"))
    print(outcome.summary())
    if not outcome.verdict.passed:
        raise QualityGateError(outcome.verdict.message())
    return 0
