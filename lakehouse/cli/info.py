"""``lakehouse info``: the effective settings and whether the local installs are in place."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from lakehouse.cli.common import add_command, package_version, settings_from

HELP = "show effective settings and set-up status"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "info",
        help=HELP,
        epilog="example: LAKEHOUSE_ENV=test lakehouse info",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class InfoResult:
    """Effective settings (secrets masked) and set-up status."""

    version: str
    env: str
    lake_root: str
    spark_master: str
    s3_endpoint: str | None
    s3_credentials: str
    spark_jars: str
    engine_log: str

    def text(self) -> str:
        """The settings as JSON: the one format people and scripts both read here."""
        return json.dumps(asdict(self), indent=2)


def run(args: argparse.Namespace) -> InfoResult:
    """Collect the settings and check the jar cache."""
    from lakehouse.errors import SetupError
    from lakehouse.spark import log_file, spark_jars

    settings = settings_from(args)
    try:
        jar_status = f"{len(spark_jars(settings))} jars in {settings.spark_jars_dir}"
    except SetupError as exc:
        jar_status = str(exc)
    return InfoResult(
        version=package_version(),
        env=settings.env,
        lake_root=settings.lake_root,
        spark_master=settings.spark_master,
        s3_endpoint=settings.s3.endpoint,
        s3_credentials="set" if settings.s3.access_key else "default chain",
        spark_jars=jar_status,
        engine_log=str(log_file(settings)),
    )
