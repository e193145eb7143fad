"""Small helpers shared by sub-commands: settings from flags, progress to stderr."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from lakehouse.settings import Settings, get_settings, normalize_lake_root


def add_lake_root(parser: argparse.ArgumentParser) -> None:
    """The ``--lake-root`` flag every data command takes."""
    parser.add_argument(
        "--lake-root",
        help="lake root: a path, file:// or s3a:// URI (default: LAKEHOUSE_LAKE_ROOT, else ./lake)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Process settings with command-line overrides applied."""
    settings = get_settings()
    if getattr(args, "lake_root", None):
        settings = dataclasses.replace(settings, lake_root=normalize_lake_root(args.lake_root))
    return settings


def progress(prefix: str):
    """A progress printer: one line per step on stderr, so stdout stays machine-readable."""

    def say(message: str) -> None:
        print(f"[{prefix}] {message}", file=sys.stderr, flush=True)

    return say
