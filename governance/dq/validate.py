"""Run the contracts on lake tables, store the results, copy failing silver/gold rows.

How a table is checked, and why this way:

1. Read one Delta version (recorded in the results), and only the new batch of an incremental
   table (the newest batch id, or the batches received on ``--date``).
2. Cache it once: pandera's pyspark backend runs one Spark action per check (STACK_NOTES 4.3).
3. pandera validates the schema and the checks (its verdict per check, ``df.pandera.errors``).
4. One aggregation pass counts every check's failing rows (pandera has no failure cases on
   pyspark), plus one grouping per key for uniqueness; a few failing rows become examples.
5. Results replace the run's previous rows (the run id is derived from the table versions
   and scope, so re-validating the same data changes nothing); failing rows of silver and
   gold go to ``governance.dq_failed_rows`` with the check that failed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from governance.contracts import Contract, contracts
from governance.contracts.base import CheckSpec
from governance.contracts.config import THRESHOLDS_PATH, load_thresholds
from governance.dq.results import FAILED_ROWS_DDL, RESULTS_DDL, CheckResult
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)
RESULTS_TABLE, FAILED_ROWS_TABLE = "dq_results", "dq_failed_rows"
EXAMPLES = 3


class ValidationError(LakehouseError, ValueError):
    """The validation was asked for something that does not exist (zone, table)."""


@dataclass
class ValidationRun:
    """What a validation run checked and found."""

    run_id: str
    run_at: datetime
    results: list[CheckResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    pandera_errors: dict[str, dict] = field(default_factory=dict)


def select_contracts(zone: str | None = None, table: str | None = None) -> list[Contract]:
    """The contracts to run, by zone and/or ``zone.table`` (or bare table name)."""
    chosen = list(contracts().values())
    if zone:
        chosen = [c for c in chosen if c.zone == zone]
    if table:
        chosen = [c for c in chosen if table in (c.table, c.table.split(".", 1)[1])]
    if not chosen:
        raise ValidationError(f"no contract matches zone={zone!r} table={table!r}")
    return chosen


def validate(
    spark: SparkSession,
    settings: Settings,
    *,
    zone: str | None = None,
    table: str | None = None,
    day: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> ValidationRun:
    """Validate the chosen tables, store results and failing rows, return the run."""
    say = progress or log.info
    plans = []
    for contract in select_contracts(zone, table):
        uri = settings.table_uri(contract.zone, contract.table.split(".", 1)[1])
        version = _version(spark, uri)
        plans.append((contract, uri, version))
    run = ValidationRun(_run_id(plans, day), datetime.now(UTC))
    failed_frames = []
    for contract, uri, version in plans:
        if version is None:
            run.skipped[contract.table] = "table does not exist yet"
            continue
        say(f"checking {contract.table} (version {version})")
        df, scope = _scoped(spark, contract, uri, version, day)
        results, errors, failed = check_table(df, contract, version=version, scope=scope)
        run.results += results
        if errors:
            run.pandera_errors[contract.table] = errors
        if failed is not None:
            failed_frames.append(failed.withColumn("run_id", _lit(run.run_id)))
    _store(spark, settings, run, failed_frames)
    return run


def check_table(
    df: DataFrame, contract: Contract, *, version: int = -1, scope: str = "all"
) -> tuple[list[CheckResult], dict, DataFrame | None]:
    """Every check of ``contract`` on ``df``: results, pandera's errors, failing rows."""
    df = df.cache()
    try:
        errors = _pandera_errors(df, contract)
        missing = _schema_results(errors, contract, df, version, scope)
        present = set(df.columns)
        specs = [s for s in contract.checks() if _columns_of(s) <= present]
        results = missing + _count(df, contract, specs, version, scope)
        failed = _failed_rows(df, contract, specs, results) if contract.copies_failed_rows else None
        if failed is not None:
            failed = failed.localCheckpoint()
        return results, errors, failed
    finally:
        df.unpersist()


def _pandera_errors(df: DataFrame, contract: Contract) -> dict:
    from pandera.config import ValidationDepth, config_context

    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        out = contract.schema().validate(check_obj=df)
    return dict(out.pandera.errors or {})


def _schema_results(
    errors: dict, contract: Contract, df: DataFrame, version: int, scope: str
) -> list[CheckResult]:
    """pandera's schema-level errors (a column missing, a wrong type) fail the whole table."""
    rows = df.count()
    limits = load_thresholds()
    out = []
    for reason, items in (errors.get("SCHEMA") or {}).items():
        if reason in _COUNTED_REASONS:
            continue
        for item in items:
            col = str(item.get("column") or "")
            check = f"{col}:schema_{reason.lower()}"
            out.append(
                CheckResult(
                    contract.table,
                    check,
                    col,
                    "schema",
                    rows,
                    rows,
                    limits.max_rate(contract.table, check),
                    version,
                    scope,
                    (str(item.get("error", ""))[:300],),
                )
            )
    return out


# pandera files nulls and duplicate keys under SCHEMA; the validator counts those rows itself
# (not_null and unique checks), so only a missing column or a wrong type fails a whole table.
_COUNTED_REASONS = frozenset({"SERIES_CONTAINS_NULLS", "DUPLICATES", "DATAFRAME_CHECK"})


def _columns_of(spec: CheckSpec) -> set[str]:
    """Top-level columns a check reads (a check on a missing column is not counted)."""
    if spec.is_key:
        return set(spec.key)
    return {spec.column.split("[", 1)[0].split(".", 1)[0]}


def _passes(spec: CheckSpec) -> Column:
    from pyspark.sql import functions as F

    assert spec.predicate is not None
    return F.coalesce(spec.predicate(), F.lit(True))


def _count(
    df: DataFrame, contract: Contract, specs: list[CheckSpec], version: int, scope: str
) -> list[CheckResult]:
    from pyspark.sql import functions as F

    rows_specs = [s for s in specs if not s.is_key]
    aggs = [F.count(F.lit(1)).alias("_n")] + [
        F.sum(F.when(_passes(s), 0).otherwise(1)).alias(f"_c{i}") for i, s in enumerate(rows_specs)
    ]
    counts = df.agg(*aggs).first()
    total = int(counts["_n"])
    limits = load_thresholds()
    out = []
    for i, spec in enumerate(rows_specs):
        failed = int(counts[f"_c{i}"] or 0)
        examples = _examples(df.filter(~_passes(spec))) if failed else ()
        out.append(_result(contract, spec, total, failed, limits, version, scope, examples))
    for spec in (s for s in specs if s.is_key):
        dupes = df.groupBy(*spec.key).count().filter("count > 1")
        failed = int(dupes.agg(F.sum("count")).first()[0] or 0)
        examples = _examples(dupes) if failed else ()
        out.append(_result(contract, spec, total, failed, limits, version, scope, examples))
    return out


def _result(contract, spec, total, failed, limits, version, scope, examples) -> CheckResult:
    return CheckResult(
        contract.table,
        spec.name,
        spec.column,
        spec.family,
        total,
        failed,
        limits.max_rate(contract.table, spec.name),
        version,
        scope,
        examples,
    )


def _examples(df: DataFrame) -> tuple[str, ...]:
    """A few failing rows as JSON (nested bronze rows cut to 500 characters)."""
    from pyspark.sql import functions as F

    rows = df.select(F.substring(F.to_json(F.struct("*")), 1, 500).alias("j")).limit(EXAMPLES)
    return tuple(r.j for r in rows.collect())


def _failed_rows(
    df: DataFrame, contract: Contract, specs: list[CheckSpec], results: list[CheckResult]
) -> DataFrame | None:
    """Failing rows of every failed check, each with the check that failed."""
    from pyspark.sql import functions as F

    failed_checks = {r.check for r in results if r.rows_failed}
    frames = []
    for spec in specs:
        if spec.name not in failed_checks:
            continue
        if spec.is_key:
            dupes = df.groupBy(*spec.key).count().filter("count > 1").drop("count")
            rows = df.join(dupes, list(spec.key), "left_semi")
        else:
            rows = df.filter(~_passes(spec))
        frames.append(
            rows.select(
                F.lit(contract.table).alias("table"),
                F.lit(spec.name).alias("check"),
                F.lit(spec.column).alias("column"),
                F.to_json(F.struct("*")).alias("record"),
            )
        )
    if not frames:
        return None
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def _version(spark: SparkSession, uri: str) -> int | None:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, uri):
        return None
    return int(DeltaTable.forPath(spark, uri).history(1).first()["version"])


def _scoped(
    spark: SparkSession, contract: Contract, uri: str, version: int, day: date | None
) -> tuple[DataFrame, str]:
    """The rows to check: the day's batches, else the newest batch, else the whole table."""
    from pyspark.sql import functions as F

    df = spark.read.format("delta").option("versionAsOf", version).load(uri)
    if day is not None and contract.received_column:
        return df.filter(F.to_date(F.col(contract.received_column)) == F.lit(day)), f"date={day}"
    if contract.batch_column:
        newest = df.agg(F.max(F.col(contract.batch_column))).first()[0]
        if newest is not None:
            return df.filter(F.col(contract.batch_column) == F.lit(newest)), f"batch={newest}"
    return df, "all"


def _run_id(plans: list, day: date | None) -> str:
    """Same tables at the same versions, same scope and thresholds: same run id."""
    digest = hashlib.sha256(THRESHOLDS_PATH.read_bytes())
    for contract, _uri, version in sorted(plans, key=lambda p: p[0].table):
        digest.update(f"{contract.table}@{version};".encode())
    digest.update(f"day={day}".encode())
    return digest.hexdigest()[:16]


def _lit(value: str) -> Column:
    from pyspark.sql import functions as F

    return F.lit(value)


def _store(spark: SparkSession, settings: Settings, run: ValidationRun, failed: list) -> None:
    """Replace the run's rows in both tables (one atomic Delta commit each)."""
    rows = [r.as_row(run.run_id, run.run_at.replace(tzinfo=None)) for r in run.results]
    results = spark.createDataFrame(rows, RESULTS_DDL)
    _replace_run(results, settings.table_uri("governance", RESULTS_TABLE), run.run_id, spark)
    frame = spark.createDataFrame([], FAILED_ROWS_DDL)
    for part in failed:
        frame = frame.unionByName(part.select(*frame.columns))
    _replace_run(frame, settings.table_uri("governance", FAILED_ROWS_TABLE), run.run_id, spark)


def _replace_run(df: DataFrame, uri: str, run_id: str, spark: SparkSession) -> None:
    from delta.tables import DeltaTable

    writer = df.write.format("delta")
    if DeltaTable.isDeltaTable(spark, uri):
        writer.mode("overwrite").option("replaceWhere", f"run_id = '{run_id}'").save(uri)
    else:
        writer.mode("append").save(uri)


def read_results(spark: SparkSession, settings: Settings) -> DataFrame | None:
    """All stored results (for the trend over runs), or None before the first run."""
    from delta.tables import DeltaTable

    uri = settings.table_uri("governance", RESULTS_TABLE)
    if not DeltaTable.isDeltaTable(spark, uri):
        return None
    return spark.read.format("delta").load(uri)


def history(spark: SparkSession, settings: Settings, runs: int = 30) -> list:
    """The last ``runs`` runs' pass rates, oldest first (the report's trend)."""
    from pyspark.sql import functions as F

    from governance.dq.report import RunPoint

    df = read_results(spark, settings)
    if df is None:
        return []
    rows = (
        df.groupBy("run_id")
        .agg(
            F.max("run_at").alias("run_at"),
            F.avg((F.col("status") == "pass").cast("double")).alias("pass_rate"),
            F.sum("rows_failed").alias("rows_failed"),
        )
        .orderBy(F.desc("run_at"))
        .limit(runs)
        .collect()
    )
    return [
        RunPoint(r.run_id, str(r.run_at), float(r.pass_rate), int(r.rows_failed or 0))
        for r in reversed(rows)
    ]
