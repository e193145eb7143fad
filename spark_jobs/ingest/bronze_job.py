"""Entry point: take new landed files into bronze (``spark-submit`` or ``python -m``).

Thin on purpose: parse arguments, build settings and the session, call the ingestion core.
In production the same module runs under ``spark-submit`` on the cluster.
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.ingest.bronze import DEFAULT_MAX_FILES, IngestReport, ingest_landing
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


def run(settings: Settings, max_files: int = DEFAULT_MAX_FILES) -> IngestReport:
    """Build the session and ingest; progress goes to stderr."""
    from lakehouse.spark import get_spark

    spark = get_spark(settings, app_name="bronze-ingest")
    return ingest_landing(
        spark,
        settings,
        max_files=max_files,
        progress=lambda msg: print(f"[ingest] {msg}", file=sys.stderr, flush=True),
    )


def format_report(report: IngestReport) -> str:
    """A few lines a person can read after a run."""
    lines = [
        f"files listed {report.files_listed:,}, ingested {report.files_ingested:,}, "
        f"duplicates {report.files_duplicate:,}, batches {report.batches or 'none'}",
        f"records {report.total_records:,}, quarantined {report.rejected:,}, "
        f"{report.bytes_read / 1e6:,.1f} MB in {report.seconds:,.1f} s",
    ]
    lines += [f"  bronze.{t:<24} {n:>10,}" for t, n in sorted(report.records.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m spark_jobs.ingest.bronze_job``."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    if args.lake_root:
        with override_settings(lake_root=normalize_lake_root(args.lake_root)) as settings:
            report = run(settings, args.max_files)
    else:
        report = run(settings, args.max_files)
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
