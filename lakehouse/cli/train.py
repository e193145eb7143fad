"""``lakehouse train``: fit the risk and revenue models on date windows, evaluate, register.

The challenger becomes the champion (the pair ``lakehouse score`` uses) only if it beats the
champion at 5 % on the same test window; ``lakehouse models promote`` overrides.
"""

from __future__ import annotations

import argparse

from lakehouse.cli.common import add_command, progress, settings_from

HELP = "train, evaluate and register the risk and revenue models (MLflow)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command; its options are the training job's own."""
    from spark_jobs.train.job import add_arguments

    parser = add_command(
        sub,
        "train",
        help=HELP,
        epilog="example: lakehouse train --train-from 2026-09-01 --train-to 2026-10-31 "
        "--valid-to 2026-11-15 --test-to 2026-11-30",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace):
    """Train; the result names the versions, the headline figures and the promotion."""
    from lakehouse.spark import get_spark
    from spark_jobs.train.job import JAVA_OPTIONS, config_from, run_training, windows_from

    windows = windows_from(args)  # checked before the JVM starts
    config = config_from(args)
    settings = settings_from(args)
    spark = get_spark(settings, app_name="lakehouse-train", java_options=JAVA_OPTIONS)
    return run_training(
        spark,
        settings,
        windows,
        report_root=args.report_dir,
        truth=args.truth,
        config=config,
        progress=progress("train"),
    )
