"""``lakehouse info``: the effective settings and whether the local installs are in place."""

from __future__ import annotations

import argparse
import json

from lakehouse.cli.common import add_lake_root, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = sub.add_parser(
        "info",
        help="show effective settings and set-up status",
        epilog="example: LAKEHOUSE_ENV=test lakehouse info",
    )
    add_lake_root(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print settings (secrets masked) as JSON."""
    from lakehouse.errors import SetupError
    from lakehouse.spark import spark_jars

    settings = settings_from(args)
    try:
        jars = len(spark_jars(settings))
        jar_status = f"{jars} jars in {settings.spark_jars_dir}"
    except SetupError as exc:
        jar_status = str(exc)
    print(
        json.dumps(
            {
                "env": settings.env,
                "lake_root": settings.lake_root,
                "spark_master": settings.spark_master,
                "s3_endpoint": settings.s3.endpoint,
                "s3_credentials": "set" if settings.s3.access_key else "default chain",
                "spark_jars": jar_status,
            },
            indent=2,
        )
    )
    return 0
