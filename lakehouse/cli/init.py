"""``lakehouse init``: create the lake (its bronze tables, quarantine and file log).

Creating a lake is an explicit step so that a mistyped lake root fails every other command
(one line naming the path and this command) instead of quietly growing an empty lake.
Idempotent: on an existing lake it only adds tables or columns a newer version defines.
"""

from __future__ import annotations

import argparse

from lakehouse.cli.common import add_command, preflight, progress, settings_from
from lakehouse.ingest.lease import add_wait_argument


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "init",
        help="create the lake's tables (idempotent)",
        epilog="example: lakehouse init --lake-root s3a://customs-lake/prod",
    )
    add_wait_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Create or complete the tables under the lake's lease; print what exists."""
    from lakehouse.ingest.bronze import init_lake, missing_tables
    from lakehouse.spark import get_spark

    settings = settings_from(args)
    preflight(settings, write=True)  # a lake root that is a file, or read-only: one line, no JVM
    say = progress("init")
    before = missing_tables(settings)
    if not before:
        say(f"lake at {settings.lake_root} already has every table; checking columns")
    spark = get_spark(settings, app_name="lakehouse-init")
    init_lake(spark, settings, wait=args.wait)
    print(f"lake ready at {settings.lake_root}: created {len(before)} tables {sorted(before)}")
    return 0
