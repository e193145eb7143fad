"""Entry point: validate lake tables against their contracts (``spark-submit`` or ``python -m``).

Thin on purpose: parse arguments, build settings and the session, call
:func:`governance.dq.run.validate_and_report`. Exit 0 when every check is within its
threshold, 1 when one is over it (the scheduler stops the night before scoring).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from lakehouse.settings import normalize_lake_root, override_settings


def build_parser() -> argparse.ArgumentParser:
    """The job's arguments (the same as ``lakehouse validate``)."""
    parser = argparse.ArgumentParser(
        description="Validate lake tables against their quality contracts.",
        epilog="example: python -m spark_jobs.validate.validate_job --zone silver",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser, *, lake_root: bool = True) -> None:
    """The validation options (``lakehouse validate`` has its own shared ``--lake-root``)."""
    if lake_root:
        parser.add_argument("--lake-root", help="lake root URI (default: LAKEHOUSE_LAKE_ROOT)")
    parser.add_argument("--zone", choices=("bronze", "silver", "gold"), help="only this zone")
    parser.add_argument("--table", help="only this table (zone.table or table)")
    parser.add_argument("--date", type=date.fromisoformat, help="batches received that day")
    parser.add_argument(
        "--report-dir", type=Path, default=Path("reports") / "dq", help="where reports go"
    )


def run(settings, args: argparse.Namespace, progress=None):
    """Build the session and validate as ``args`` say; the run's outcome (verdict, report)."""
    from governance.contracts.config import load_thresholds
    from governance.dq.run import validate_and_report
    from lakehouse.spark import get_spark

    load_thresholds()  # a bad thresholds file is one line, before a JVM starts
    spark = get_spark(settings, app_name="dq-validate")
    return validate_and_report(
        spark,
        settings,
        zone=args.zone,
        table=args.table,
        day=args.date,
        report_dir=args.report_dir,
        progress=progress or (lambda m: print(f"[validate] {m}", file=sys.stderr, flush=True)),
    )


def main(argv: list[str] | None = None) -> int:
    """Run one validation and print its summary."""
    args = build_parser().parse_args(argv)
    overrides = {"lake_root": normalize_lake_root(args.lake_root)} if args.lake_root else {}
    with override_settings(**overrides) as settings:
        outcome = run(settings, args)
    print(outcome.summary())
    if not outcome.verdict.passed:
        print(outcome.verdict.message(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
