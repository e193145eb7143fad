"""``lakehouse``: the console script. Sub-commands live in their own modules.

Each sub-command module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` to a function ``(args) -> int`` (the exit code).
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.errors import LakehouseError

COMMANDS = ("simulate", "ingest", "demo", "info", "flows", "validate")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Customs data lakehouse: simulate sources, ingest to bronze, run the pipeline.",
        epilog="example: lakehouse demo    (runs everything on a local lake in ./lake)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"lakehouse.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; named lakehouse errors print one clear line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except LakehouseError as exc:
        print(f"lakehouse {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lakehouse {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
