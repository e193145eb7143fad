"""``lakehouse simulate``: a day of source-system traffic written into the landing zone.

The options are the simulator's own (:mod:`lakehouse.simulator.cli`); this module adds the
shared options, progress with counts and an ETA, and a typed result.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from lakehouse.cli.common import (
    add_command,
    adopt_option,
    at_least,
    preflight,
    reporter,
    settings_from,
)

HELP = "generate a day of CMS, ECTS, ERP and HR traffic into the landing zone"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command (options are owned by the simulator)."""
    from lakehouse.simulator.cli import add_arguments

    parser = add_command(
        sub,
        "simulate",
        help=HELP,
        description="Seeded and deterministic: the same seed writes byte-identical files.",
    )
    add_arguments(parser)
    adopt_option(parser, "--lake-root")
    parser.epilog = "example: lakehouse simulate --lake-root ./lake --declarations 10000 --seed 7"
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class SimulateResult:
    """The simulator's summary (what it wrote and what ingestion should make of it)."""

    summary: dict[str, Any]

    def text(self) -> str:
        """A few lines: files per feed, planted defects, where the ground truth is."""
        s = self.summary
        files = ", ".join(f"{feed} {n:,}" for feed, n in sorted(s.get("files", {}).items()))
        planted = sum(sum(kinds.values()) for kinds in s.get("malformed", {}).values())
        return "\n".join(
            [
                f"simulated {s['declarations']:,} declarations of {s['day']} (seed {s['seed']})"
                f" into {s['lake_root']}",
                f"files: {files}",
                f"planted defects: {planted:,}; ground truth: {s['ground_truth_path']}",
            ]
        )

    def json_value(self) -> dict[str, Any]:
        """``--json``: the full summary."""
        return self.summary


def run(args: argparse.Namespace) -> SimulateResult:
    """Generate the day; progress with counts and an ETA on stderr."""
    from lakehouse.simulator import generate
    from lakehouse.storage import writer_for

    at_least(args.declarations, 0, "--declarations")
    settings = settings_from(args)
    preflight(settings, write=True)
    with reporter(args, "simulate").counting("declarations", args.declarations) as count:
        summary = generate(
            settings.lake_root,
            writer=writer_for(settings),
            declarations=args.declarations,
            seed=args.seed,
            day=args.day,
            malformed_rate=args.malformed_rate,
            progress=count,
        )
    return SimulateResult(summary.to_dict())
