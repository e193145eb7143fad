"""``lakehouse ingest``: the bronze job as a command (new landed files, exactly once).

Arguments and the lake are checked first (a bad ``--max-files`` or a lake root that is a file
fails in milliseconds), and Spark starts only for a batch too large for local processes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.cli.common import (
    add_command,
    adopt_option,
    at_least,
    preflight,
    reporter,
    settings_from,
)

if TYPE_CHECKING:
    from lakehouse.ingest.bronze import IngestReport


HELP = "ingest new landed files into bronze Delta tables"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command; its options are the bronze job's own."""
    from spark_jobs.ingest.bronze_job import add_arguments

    parser = add_command(
        sub,
        "ingest",
        help=HELP,
        description="Parse every new file in <lake>/landing into bronze tables; bad input goes "
        "to bronze.quarantine. Safe to re-run and to interrupt.",
        epilog="example: lakehouse ingest --lake-root ./lake",
    )
    add_arguments(parser)
    adopt_option(parser, "--lake-root")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class IngestResult:
    """What the run did (the ingestion core's own report) and where."""

    lake_root: str
    report: IngestReport

    def text(self) -> str:
        """The bronze job's summary lines."""
        from spark_jobs.ingest.bronze_job import format_report

        return format_report(self.report)

    def json_value(self) -> dict[str, object]:
        """``--json``: every count of the report."""
        r = self.report
        return {
            "lake_root": self.lake_root,
            "batches": r.batches,
            "files_listed": r.files_listed,
            "files_ingested": r.files_ingested,
            "files_duplicate": r.files_duplicate,
            "bytes_read": r.bytes_read,
            "records": r.records,
            "total_records": r.total_records,
            "rejected": r.rejected,
            "files_changed": r.files_changed,
            "files_missing": r.files_missing,
            "skipped": [{"path": k.path, "reason": k.reason} for k in r.skipped],
            "seconds": round(r.seconds, 3),
        }


def run(args: argparse.Namespace) -> IngestResult:
    """Check arguments and the lake, then ingest."""
    from lakehouse.ingest.bronze import ingest_landing, require_lake
    from lakehouse.ingest.lease import hold_lease

    at_least(args.max_files, 1, "--max-files")
    settings = settings_from(args)
    preflight(settings, write=True)
    require_lake(settings)  # a missing lake, or a held lease, fails before the JVM starts
    say = reporter(args, "ingest").say
    with hold_lease(settings, "lakehouse ingest", wait=args.wait, say=say) as lease:
        say(f"lake root {settings.lake_root}")
        report = ingest_landing(
            None, settings, max_files=args.max_files, progress=say, lease=lease, engine=args.engine
        )
    return IngestResult(settings.lake_root, report)
