"""One validation run end to end: check, store, report, and the verdict for the gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from governance.dq.report import write_report
from governance.dq.results import Verdict, gate
from governance.dq.validate import TABLE_WORKERS, ValidationRun, history, validate
from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished run: its results, verdict and report files."""

    run: ValidationRun
    verdict: Verdict
    html: Path
    json: Path

    def summary(self) -> str:
        """What a person reads: one line per zone, warnings, skipped tables, the report."""
        lines = list(self.verdict.zones.values())
        lines += [f"  warning: {w}" for w in self.verdict.warnings[:10]]
        lines += [f"  failed: {f}" for f in self.verdict.failures]
        lines += [f"  skipped {t}: {why}" for t, why in sorted(self.run.skipped.items())]
        lines.append(f"report: {self.html}")
        return "\n".join(lines)


def validate_and_report(
    spark: SparkSession,
    settings: Settings,
    *,
    zone: str | None = None,
    table: str | None = None,
    day: date | None = None,
    report_dir: Path,
    progress: Callable[[str], None] | None = None,
    workers: int = TABLE_WORKERS,
) -> Outcome:
    """Validate, store results, write ``dq_report.html``/``.json`` under ``report_dir/run_id``.

    ``workers``: tables checked at once (see :func:`governance.dq.validate.validate`).
    """
    run = validate(
        spark, settings, zone=zone, table=table, day=day, progress=progress, workers=workers
    )
    html, js = write_report(
        run.results, history(spark, settings), run.run_id, Path(report_dir) / run.run_id
    )
    return Outcome(run, gate(run.results), html.resolve(), js.resolve())
