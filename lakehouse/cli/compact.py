"""``lakehouse compact``: merge bronze's small files, checkpoint and trim its logs, no JVM.

Run nightly (``lakehouse nightly`` does it after the ingestion) or from a scheduler of your
own; safe beside readers and re-runs, and it waits for the lake's lease like the ingestion
(:mod:`lakehouse.ingest.compact`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.cli.common import add_command, preflight, reporter, settings_from
from lakehouse.ingest.lease import add_wait_argument

if TYPE_CHECKING:
    from lakehouse.ingest.compact import Compaction

HELP = "compact bronze's small files and checkpoint its logs (delta-rs, no JVM)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "compact",
        help=HELP,
        description="Compact the small data files of bronze tables, checkpoint their logs, "
        "remove expired log entries and data files past their retention. Idempotent.",
        epilog="examples:\n  lakehouse compact\n  lakehouse compact --table ects_events "
        "--table ingest_file_log --wait 600",
    )
    parser.add_argument(
        "--table",
        action="append",
        metavar="NAME",
        help="a bronze table to compact (repeatable; default: every bronze table)",
    )
    add_wait_argument(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class CompactResult:
    """What compaction did, table by table."""

    tables: list[Compaction]

    def text(self) -> str:
        """One line per table that changed, and a total."""
        changed = [c for c in self.tables if c.changed]
        lines = [
            f"bronze.{c.table}: {c.files_removed} -> {c.files_added} files, "
            f"checkpoint {c.checkpoint if c.checkpoint is not None else 'current'}, "
            f"{c.logs_removed} log files and {c.files_vacuumed} data files removed"
            for c in changed
        ]
        lines.append(f"{len(changed)} of {len(self.tables)} tables changed")
        return "\n".join(lines)

    def json_value(self) -> dict[str, object]:
        """``--json``: every table's counts."""
        return {
            "tables": [
                {
                    "table": c.table,
                    "files_removed": c.files_removed,
                    "files_added": c.files_added,
                    "checkpoint": c.checkpoint,
                    "logs_removed": c.logs_removed,
                    "files_vacuumed": c.files_vacuumed,
                }
                for c in self.tables
            ]
        }


def run(args: argparse.Namespace) -> CompactResult:
    """Compact under the lake's lease."""
    from lakehouse.ingest.compact import compact_bronze
    from lakehouse.ingest.lease import hold_lease

    settings = settings_from(args)
    preflight(settings, write=True)
    say = reporter(args, "compact").say
    with hold_lease(settings, "lakehouse compact", wait=args.wait, say=say) as lease:
        return CompactResult(compact_bronze(settings, lease, args.table, say))
