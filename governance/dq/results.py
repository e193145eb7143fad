"""The quality results: one row per table x check per run, the verdict and the gate.

Pure Python (no Spark): the validator fills :class:`CheckResult` rows, :func:`gate` turns them
into a :class:`Verdict` the nightly run can act on, and the report reads the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

PASS, WARN, FAIL = "pass", "warn", "fail"

RESULTS_DDL = (
    "run_id string, run_at timestamp, table string, zone string, delta_version bigint,"
    " scope string, check string, column string, family string, rows_checked bigint,"
    " rows_failed bigint, failure_rate double, max_rate double, status string,"
    " examples array<string>"
)
FAILED_ROWS_DDL = "run_id string, table string, check string, column string, record string"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome on one table in one run (a ``governance.dq_results`` row)."""

    table: str
    check: str
    column: str
    family: str
    rows_checked: int
    rows_failed: int
    max_rate: float
    delta_version: int = -1
    scope: str = "all"
    examples: tuple[str, ...] = ()

    @property
    def zone(self) -> str:
        """The table's zone."""
        return self.table.split(".", 1)[0]

    @property
    def failure_rate(self) -> float:
        """Failed share of the checked rows (0 on an empty table)."""
        return self.rows_failed / self.rows_checked if self.rows_checked else 0.0

    @property
    def status(self) -> str:
        """``pass`` (nothing failed), ``warn`` (under the threshold) or ``fail`` (over it)."""
        if self.rows_failed == 0:
            return PASS
        return FAIL if self.failure_rate > self.max_rate else WARN

    def as_row(self, run_id: str, run_at: Any) -> dict[str, Any]:
        """The ``governance.dq_results`` row."""
        row = asdict(self)
        row.update(
            run_id=run_id,
            run_at=run_at,
            zone=self.zone,
            failure_rate=self.failure_rate,
            status=self.status,
            examples=list(self.examples),
        )
        return row

    def describe(self) -> str:
        """One line naming table, check, rate and threshold."""
        return (
            f"{self.table} {self.check}: {self.rows_failed:,} of {self.rows_checked:,} rows "
            f"failed ({self.failure_rate:.3%}), threshold {self.max_rate:.3%}"
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a run may go on: failures (over threshold), warnings, one line per zone."""

    passed: bool
    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    zones: dict[str, str] = field(default_factory=dict)

    def message(self) -> str:
        """Why the run stops (or that it may go on)."""
        if self.passed:
            return f"data quality passed ({len(self.warnings)} warnings)"
        shown = "; ".join(self.failures[:3])
        more = f" (+{len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        return f"data quality failed: {shown}{more}"


def gate(results: list[CheckResult]) -> Verdict:
    """The data-quality gate: a check over its threshold fails the run; under it, warns.

    ``lakehouse nightly`` calls this after validation and stops before scoring when
    ``passed`` is false, printing :meth:`Verdict.message`.
    """
    failures = tuple(r.describe() for r in results if r.status == FAIL)
    warnings = tuple(r.describe() for r in results if r.status == WARN)
    return Verdict(not failures, failures, warnings, zone_lines(results))


def zone_lines(results: list[CheckResult]) -> dict[str, str]:
    """One verdict line per zone: tables checked, checks failed and warned."""
    by_zone: dict[str, list[CheckResult]] = defaultdict(list)
    for result in results:
        by_zone[result.zone].append(result)
    lines = {}
    for zone, rows in sorted(by_zone.items()):
        tables = len({r.table for r in rows})
        failed = sum(r.status == FAIL for r in rows)
        warned = sum(r.status == WARN for r in rows)
        word = "FAIL" if failed else ("WARN" if warned else "PASS")
        lines[zone] = (
            f"{zone}: {word} - {tables} tables, {len(rows)} checks, "
            f"{failed} over threshold, {warned} warnings"
        )
    return lines
