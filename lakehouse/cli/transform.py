"""``lakehouse transform``: bronze -> silver -> gold with dbt, in this process's Spark session."""

from __future__ import annotations

import argparse

from lakehouse.cli.common import add_command, progress, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "transform",
        help="build silver and gold (dbt build: models, seeds, tests) and reconcile with bronze",
        epilog="example: lakehouse transform --select +fct_declarations",
    )
    parser.add_argument("--select", nargs="+", help="dbt selection (default: every model)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from all of bronze"
    )
    parser.add_argument(
        "--skip-unit-tests",
        action="store_true",
        help="leave dbt's unit tests out (they test the SQL on literal rows; data tests still run)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run dbt build, print the reconciliation; 1 when bronze and silver do not reconcile."""
    from lakehouse.spark import get_spark
    from lakehouse.transform import print_reconciliation, transform

    settings = settings_from(args)
    spark = get_spark(settings, app_name="lakehouse-transform")
    result = transform(
        spark,
        settings,
        select=args.select,
        full_refresh=args.full_refresh,
        unit_tests=not args.skip_unit_tests,
        progress=progress("transform"),
    )
    print_reconciliation(result.reconciliation)
    return 0 if result.reconciled else 1
