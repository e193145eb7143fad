"""``lakehouse demo``: everything that exists, end to end, on a local lake.

Today: simulate a day of traffic, ingest it into bronze (twice, to show the re-run adds
nothing), and summarise what landed where, quarantine included. The summary is read back
from the tables with the JVM-free reader, the same way ``lakehouse tables`` reads them.
Then silver and gold are built (``lakehouse transform``, with its reconciliation), every table
that exists is validated against its quality contract (``lakehouse validate``: the report's
path and one verdict line per zone), and an analyst's query on gold.

Then the night's last two steps: the risk and revenue models are trained on the days before
``--day`` (``lakehouse train``: training, validation and test windows are the history's days),
``--day`` is scored and exported for the CMS (``lakehouse nightly``'s score and export), and
the summary ends with the five riskiest declarations of the night and their reasons. That is
why the demo simulates ``--days`` days (five by default): a model needs a history to learn from.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lakehouse.cli.common import add_command, at_least, preflight, reporter, settings_from

HELP = "run the pipeline end to end on a local lake and summarise it"
# What an analyst asks first: revenue assessed against collected, per office, on gold.
ANALYST_SQL = (
    "SELECT office_code, sum(n_declarations) AS declarations, round(sum(assessed), 2) AS"
    " assessed, round(sum(collected), 2) AS collected, round(sum(gap), 2) AS gap"
    " FROM gold.fct_revenue_daily GROUP BY office_code ORDER BY gap DESC"
)
# Days the models need: at least three to train on, one to validate, the scored night to test.
MODEL_DAYS = 5
TOP = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "demo",
        help=HELP,
        epilog="example: lakehouse demo --declarations 2000",
    )
    parser.add_argument(
        "--declarations", type=int, default=1000, help="declarations to simulate per day"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--day", type=date.fromisoformat, default=date(2026, 11, 24), help="the night scored"
    )
    parser.add_argument(
        "--days",
        type=int,
        default=MODEL_DAYS,
        help=f"days simulated, ending with --day (default {MODEL_DAYS}; fewer than "
        f"{MODEL_DAYS}: no history to train on, the demo stops after gold)",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class DemoResult:
    """What the demo simulated, ingested and found in the tables afterwards."""

    lake_root: str
    declarations: int
    files_simulated: int
    files_ingested: int
    records: int
    quarantined: int
    rerun_records: int
    tables: dict[str, int] = field(default_factory=dict)
    quarantine_by_reason: list[tuple[str, str, int]] = field(default_factory=list)
    quality: dict[str, str] = field(default_factory=dict)
    quality_report: str = ""
    reconciled: bool = True
    analyst_sql: str = ""
    analyst_answer: list[str] = field(default_factory=list)
    nightly: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when the re-run was not a no-op or bronze and silver do not reconcile."""
        return 0 if self.rerun_records == 0 and self.reconciled else 1

    def text(self) -> str:
        """A short human summary ending in DEMO OK (or FAILED)."""
        lines = ["Bronze tables:"]
        lines += [f"  {name:<34} {n:>10,}" for name, n in self.tables.items()]
        lines.append("Quarantine by feed and reason:")
        lines += [f"  {feed:<14} {code:<16} {n:>8,}" for feed, code, n in self.quarantine_by_reason]
        lines.append("Data quality:")
        lines += [f"  {line}" for line in self.quality.values()]
        lines.append(f"  report: {self.quality_report}")
        lines.append("An analyst's query on gold (lakehouse sql):")
        lines.append(f"  {self.analyst_sql}")
        lines += [f"  {line}" for line in self.analyst_answer]
        if self.nightly:
            lines.append("The night (lakehouse train, score, export):")
            lines += [f"  {line}" for line in self.nightly]
        if self.top:
            lines.append(f"The {len(self.top)} riskiest declarations tonight, with their reasons:")
            lines += [f"  {line}" for line in self.top]
        if not self.reconciled:
            lines.append("DEMO FAILED: bronze and silver do not reconcile (see above)")
        elif self.exit_code:
            lines.append(f"DEMO FAILED: the re-run ingested {self.rerun_records:,} records again")
        else:
            lines.append(
                f"DEMO OK: {self.declarations:,} declarations simulated in "
                f"{self.files_simulated:,} files; {self.files_ingested:,} files, "
                f"{self.records:,} records into bronze, {self.quarantined:,} quarantined; "
                f"the re-run added nothing; lake at {self.lake_root}"
            )
        return "\n".join(lines)


def run(args: argparse.Namespace) -> DemoResult:
    """Simulate, ingest, re-ingest, summarise."""
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate
    from lakehouse.spark import get_spark
    from lakehouse.storage import writer_for
    from lakehouse.transform import print_reconciliation, transform

    at_least(args.declarations, 0, "--declarations")
    at_least(args.days, 1, "--days")
    # The simulator lands each file whole (write, then rename): no settle time needed.
    settings = dataclasses.replace(settings_from(args), landing_settle_seconds=0.0)
    preflight(settings, write=True)
    report = reporter(args, "demo")
    report.say(f"lake root {settings.lake_root}")
    days = [args.day - timedelta(days=back) for back in range(args.days - 1, -1, -1)]
    files_simulated = 0
    for offset, day in enumerate(days):
        with report.counting(f"simulating {day}", args.declarations) as count:
            summary = generate(
                settings.lake_root,
                declarations=args.declarations,
                seed=args.seed + offset,
                day=day,
                writer=writer_for(settings),
                progress=count,
            )
        files_simulated += sum(summary.files.values())
    total = args.declarations * len(days)
    report.say(f"simulated {total:,} declarations over {len(days)} days; starting Spark")
    spark = get_spark(settings, app_name="lakehouse-demo")
    init_lake(spark, settings)
    first = ingest_landing(spark, settings, progress=report.say)
    report.say("ingesting again: nothing new may land")
    again = ingest_landing(spark, settings, progress=report.say)
    tables, by_reason = _bronze_summary(settings)
    built = transform(spark, settings, progress=report.say)
    print_reconciliation(built.reconciliation)
    quality = _quality(spark, settings, report.say)
    answer: Any = spark.sql(ANALYST_SQL).limit(10).toPandas()
    nightly, top = _night(spark, settings, days, report) if built.reconciled else ([], [])
    return DemoResult(
        lake_root=settings.lake_root,
        declarations=total,
        files_simulated=files_simulated,
        files_ingested=first.files_ingested,
        records=first.total_records,
        quarantined=first.rejected,
        rerun_records=again.total_records + again.rejected,
        tables=tables,
        quarantine_by_reason=by_reason,
        quality=quality.verdict.zones,
        quality_report=str(quality.html),
        reconciled=built.reconciled,
        analyst_sql=ANALYST_SQL,
        analyst_answer=answer.to_string(index=False).splitlines(),
        nightly=nightly,
        top=top,
    )


def _night(spark, settings, days: list[date], report) -> tuple[list[str], list[str]]:
    """Train on the history, score and export the last day; the night's lines and top five."""
    from lakehouse.cli.nightly import score_and_export
    from spark_jobs.train.job import run_training
    from spark_jobs.train.model import Windows

    if len(days) < MODEL_DAYS:
        return [f"no model: {len(days)} day(s) simulated, {MODEL_DAYS} needed to train"], []
    night = days[-1]
    windows = Windows(days[0], days[-3], days[-2], night)
    trained = run_training(
        spark, settings, windows, report_root=Path("reports") / "models", progress=report.say
    )
    lines = trained.text().splitlines()
    said: list[str] = []

    def say(message: str) -> None:
        report.say(message)
        said.append(message)

    score_and_export(spark, settings, night, say)
    return lines + said, top_declarations(spark, night)


def top_declarations(spark, night: date, n: int = TOP) -> list[str]:
    """The night's ``n`` riskiest declarations from ``gold.risk_scores``, one line each."""
    from pyspark.sql import functions as F

    rows = (
        spark.table("gold.risk_scores")
        .where(F.col("score_date") == F.lit(night))
        .orderBy("risk_rank")
        .limit(n)
        .collect()
    )
    return [
        f"{r.risk_rank}. {r.lrn}  risk {r.risk:.0%}  expected revenue {r.expected_revenue:,.0f}"
        f"  {'; '.join(x for x in (r.reason_1, r.reason_2, r.reason_3) if x) or 'no reason'}"
        for r in rows
    ]


def _quality(spark, settings, say):
    """Validate every table that exists against its contract (``lakehouse validate``)."""
    from pathlib import Path

    from governance.dq.run import validate_and_report

    return validate_and_report(spark, settings, report_dir=Path("reports") / "dq", progress=say)


def _bronze_summary(settings) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Rows per bronze table and quarantine rows per (feed, error code), read by delta-rs."""
    from lakehouse.reader import LakeReader
    from lakehouse.tables import BRONZE, QUARANTINE

    reader = LakeReader(settings)
    names = [f"bronze.{n}" for n in BRONZE] + [f"bronze.{QUARANTINE.name}"]
    tables = {name: reader.count(name) for name in names}
    rows = reader.scan(f"bronze.{QUARANTINE.name}", columns=["feed", "error_code"])
    counts = rows.group_by(["feed", "error_code"]).aggregate([("error_code", "count")])
    by_reason = sorted(
        (
            (r["feed"] or "?", r["error_code"] or "?", int(r["error_code_count"]))
            for r in counts.to_pylist()
        ),
        key=lambda t: -t[2],
    )
    return tables, by_reason
