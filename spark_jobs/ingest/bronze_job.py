"""Entry point: take new landed files into bronze (``spark-submit`` or ``python -m``).

Thin on purpose: parse arguments, build settings and the session, call the ingestion core.
In production the same module runs under ``spark-submit`` on the cluster.
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.errors import LakehouseError
from lakehouse.ingest.bronze import (
    DEFAULT_MAX_FILES,
    ENGINES,
    IngestReport,
    ingest_landing,
    require_lake,
)
from lakehouse.ingest.lease import add_wait_argument
from lakehouse.settings import Settings, get_settings, normalize_lake_root, override_settings


def build_parser() -> argparse.ArgumentParser:
    """Arguments shared by this job and ``lakehouse ingest``."""
    parser = argparse.ArgumentParser(
        description="Ingest new landed files into the bronze Delta tables, exactly once.",
        epilog="example: lakehouse ingest --lake-root file:///srv/lake",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ingest options to a parser (used by the CLI sub-command too)."""
    parser.add_argument(
        "--lake-root", help="lake root URI (default: LAKEHOUSE_LAKE_ROOT or ./lake)"
    )
    parser.add_argument(
        "--max-files",
        type=int,
        default=DEFAULT_MAX_FILES,
        help=f"files per batch (default {DEFAULT_MAX_FILES})",
    )
    add_wait_argument(parser)
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="who parses: local processes (no JVM), Spark, or auto (default): local below "
        "LAKEHOUSE_INGEST_LOCAL_MAX_FILES / LAKEHOUSE_INGEST_LOCAL_MAX_MB, else Spark",
    )


def run(
    settings: Settings, max_files: int = DEFAULT_MAX_FILES, wait: float = 0.0, engine: str = "auto"
) -> IngestReport:
    """Check the lake and take its lease, then ingest; progress to stderr.

    A missing lake or a lease held by another run fails in about a second, and Spark starts
    only when a batch is too large for local processes (a run with nothing new needs none).
    """
    from lakehouse.ingest.lease import hold_lease

    def say(msg: str) -> None:
        print(f"[ingest] {msg}", file=sys.stderr, flush=True)

    require_lake(settings)
    with hold_lease(settings, "lakehouse ingest", wait=wait, say=say) as lease:
        return ingest_landing(
            None, settings, max_files=max_files, progress=say, lease=lease, engine=engine
        )


def format_report(report: IngestReport) -> str:
    """A few lines a person can read after a run."""
    lines = [
        f"files listed {report.files_listed:,}, ingested {report.files_ingested:,}, "
        f"duplicates {report.files_duplicate:,}, batches {report.batches or 'none'}",
        f"records {report.total_records:,}, quarantined {report.rejected:,}, "
        f"{report.bytes_read / 1e6:,.1f} MB in {report.seconds:,.1f} s",
    ]
    in_flight = sum(s.in_flight for s in report.skipped)
    lines.append(
        f"skipped {len(report.skipped):,} ({in_flight:,} in flight, taken by a later run), "
        f"changed {report.files_changed:,}, vanished {report.files_missing:,}"
    )
    lines += [f"  bronze.{t:<24} {n:>10,}" for t, n in sorted(report.records.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m spark_jobs.ingest.bronze_job``."""
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        if args.lake_root:
            with override_settings(lake_root=normalize_lake_root(args.lake_root)) as settings:
                report = run(settings, args.max_files, args.wait, args.engine)
        else:
            report = run(settings, args.max_files, args.wait, args.engine)
    except LakehouseError as exc:
        print(f"bronze_job: error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
