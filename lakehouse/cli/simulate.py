"""``lakehouse simulate``: a day of source-system traffic written into the landing zone."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command (options are owned by the simulator)."""
    from lakehouse.simulator.cli import add_arguments, run

    parser = sub.add_parser(
        "simulate",
        help="generate a day of CMS, ECTS, ERP and HR traffic into the landing zone",
        description="Seeded and deterministic: the same seed writes byte-identical files.",
        epilog="example: lakehouse simulate --lake-root ./lake --declarations 10000 --seed 7",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)
