"""Run the contracts on lake tables, store the results, copy failing silver/gold rows.

How a table is checked, and why this way:

1. Read one Delta version (recorded in the results), and only the new batch of an incremental
   table (the newest batch id, or the batches received on ``--date``).
2. pandera checks the table's shape: every column of the model present, with its type (no
   Spark job: nullability and keys are left to step 3).
3. The data checks the model declares (pandera ``Field`` checks, nullability, ``Config.unique``)
   and the contract's rules are compiled into Spark predicates and counted in one aggregation
   pass, plus one grouping per key (by the key's hash; exactly, by the key, only where a hash
   repeats). Why not pandera's own data validation: its pyspark backend
   runs one Spark action per check and says only pass or fail (STACK_NOTES 4.2, 4.3); run that
   way, 599 checks at 100,000 declarations took 1,084 s. The compiled checks give the same
   per-check counts as pandera's own validation (``test_compiled_checks_count_what_pandera_
   validation_finds`` in tests/integration/governance/test_validate.py).
4. Only a table with failures is read once more: its failing rows are flagged in one pass, a
   few per check become examples, and silver and gold rows are copied.
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
from typing import TYPE_CHECKING, TypeVar

from governance.contracts import Contract, contracts
from governance.contracts.base import CheckSpec
from governance.contracts.config import load_thresholds, thresholds_path
from governance.dq.results import FAILED_ROWS_DDL, RESULTS_DDL, CheckResult
from governance.dq.scan import TableVersion, newest_value, open_version, query, read_version
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings

if TYPE_CHECKING:
    import pandera.pyspark as pa
    from pyspark.sql import Column, DataFrame, Observation, SparkSession

log = logging.getLogger(__name__)
RESULTS_TABLE, FAILED_ROWS_TABLE = "dq_results", "dq_failed_rows"
EXAMPLES = 3
# Tables checked at once. Why more than one: a table's Spark jobs leave the cores idle while
# the driver plans the next query and pandera checks the next shape; a second table's jobs
# fill them. Why not more: on two cores a third only adds memory and task switching.
TABLE_WORKERS = 2

T = TypeVar("T")
R = TypeVar("R")


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
    workers: int = TABLE_WORKERS,
) -> ValidationRun:
    """Validate the chosen tables, store results and failing rows, return the run.

    ``workers`` tables are checked at once (Spark's FAIR scheduler shares the cores between
    their jobs); results keep the contracts' order whatever finishes first.
    """
    say = progress or log.info
    load_thresholds()  # a missing or malformed thresholds file stops here, before any scan
    plans = []
    for contract in select_contracts(zone, table):
        uri = settings.table_uri(contract.zone, contract.table.split(".", 1)[1])
        plans.append((contract, open_version(settings, uri)))
    run = ValidationRun(_run_id(plans, day), datetime.now(UTC))
    present: list[tuple[Contract, TableVersion]] = []
    for contract, opened in plans:
        if opened is None:
            run.skipped[contract.table] = "table does not exist yet"
        else:
            contract.model.to_schema()  # pandera builds (and caches) schemas in one thread
            present.append((contract, opened))

    def check(
        plan: tuple[Contract, TableVersion],
    ) -> tuple[list[CheckResult], dict, DataFrame | None]:
        contract, opened = plan
        say(f"checking {contract.table} (version {opened.version})")
        df, scope = scoped_rows(spark, contract, opened, day)
        return check_table(df, contract, version=opened.version, scope=scope)

    failed_frames = []
    for (contract, _opened), (results, errors, failed) in zip(
        present, _each(spark, check, present, workers), strict=True
    ):
        run.results += results
        if errors:
            run.pandera_errors[contract.table] = errors
        if failed is not None:
            failed_frames.append(failed.withColumn("run_id", _lit(run.run_id)))
    _store(spark, settings, run, failed_frames)
    return run


def _each(spark: SparkSession, work: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """``work`` on every item, ``workers`` at once, results in the items' order.

    Each thread runs with the caller's Spark local properties and tags (job group,
    scheduler pool), as ``inheritable_thread_target`` hands them on.
    """
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    from pyspark import inheritable_thread_target

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="validate") as pool:
        futures = [pool.submit(inheritable_thread_target(spark)(work), item) for item in items]
        return [f.result() for f in futures]


def check_table(
    df: DataFrame, contract: Contract, *, version: int = -1, scope: str = "all"
) -> tuple[list[CheckResult], dict, DataFrame | None]:
    """Every check of ``contract`` on ``df``: results, pandera's errors, failing rows.

    Spark actions per table: one pass that groups the key's hashes and counts every
    row-level check on the way (a second, exact grouping only when some hash repeats), and,
    only when something failed, one pass that flags the failing rows (copied for silver and
    gold) and one that picks a few examples per check from them.
    """
    errors = pandera_schema_errors(df, contract)
    present = set(df.columns)
    specs = [s for s in contract.checks() if _columns_of(s) <= present]
    total, failed_counts, repeated = count_failures(df, specs)
    failed = [s for s in specs if failed_counts[s.name]]
    flagged = _flagged_rows(df, contract, failed, repeated)
    if flagged is not None and contract.copies_failed_rows:
        flagged = flagged.localCheckpoint()  # examples and the copy read the same rows
    examples = _examples(flagged) if flagged is not None else {}
    limits = load_thresholds()
    results = _schema_results(errors, contract, total, version, scope) + [
        CheckResult(
            contract.table,
            spec.name,
            spec.column,
            spec.family,
            total,
            failed_counts[spec.name],
            limits.max_rate(contract.table, spec.name),
            version,
            scope,
            examples.get(spec.name, ()),
        )
        for spec in specs
    ]
    return results, errors, flagged if contract.copies_failed_rows else None


def pandera_schema_errors(df: DataFrame, contract: Contract) -> dict:
    """pandera's verdict on the table's shape: every column present, with its type.

    Run on the DataFrame's schema alone (``limit(0)``): the data checks the model declares are
    counted by :func:`count_failures` in one pass, where pandera would run one Spark action
    per check and say only whether it passed (STACK_NOTES 4.2, 4.3).
    """
    from pandera.config import ValidationDepth, config_context

    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        out = shape_schema(contract).validate(check_obj=df.limit(0))
    return dict(out.pandera.errors or {})


def shape_schema(contract: Contract) -> pa.DataFrameSchema:
    """The contract's pandera schema with only what the shape check needs: columns and types.

    Why: pandera's schema-level pass still runs one Spark job per non-nullable column (on
    ``limit(0)`` too: planned, compiled and scheduled like any other), hundreds a night, to
    answer what :func:`count_failures` counts anyway.
    """
    schema = contract.model.to_schema()
    shape = schema.update_columns({name: {"nullable": True} for name in schema.columns})
    shape.unique = None
    return shape


def _schema_results(
    errors: dict, contract: Contract, rows: int, version: int, scope: str
) -> list[CheckResult]:
    """pandera's schema-level errors (a column missing, a wrong type) fail the whole table."""
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


def _fails(spec: CheckSpec) -> Column:
    """True when the row fails ``spec`` (null means "not applicable", as in pandera)."""
    from pyspark.sql import functions as F

    assert spec.predicate is not None
    return ~F.coalesce(spec.predicate(), F.lit(True))


def count_failures(
    df: DataFrame, specs: list[CheckSpec]
) -> tuple[int, dict[str, int], dict[str, DataFrame | None]]:
    """Rows in ``df``, the rows failing each check, and each key's repeated values.

    Row-level checks are counted in one aggregation (Spark reads only the columns they use).
    A key counts the rows whose key value occurs more than once (:func:`repeated_keys`).
    Why together: when the table has a key, the row-level counts are observed
    (``DataFrame.observe``) on the rows the key's hash grouping reads anyway, so the table is
    scanned, and its Delta file list filtered, once instead of twice.
    """
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    rows_specs = [s for s in specs if not s.is_key]
    keys = [s for s in specs if s.is_key]
    aggs = [F.count(F.lit(1)).alias("_n")] + [
        F.count_if(_fails(s)).alias(f"_c{i}") for i, s in enumerate(rows_specs)
    ]
    repeated: dict[str, DataFrame | None] = {}
    counts: dict = {}
    if keys:
        observation = Observation()
        repeated[keys[0].name] = repeated_keys(df, keys[0].key, df.observe(observation, *aggs))
        counts = _observed(observation)
    if "_n" not in counts:  # an aggregate without grouping: exactly one row
        counts = df.agg(*aggs).collect()[0].asDict()
    for spec in keys[1:]:
        repeated[spec.name] = repeated_keys(df, spec.key)
    failed = {s.name: int(counts[f"_c{i}"] or 0) for i, s in enumerate(rows_specs)}
    failed.update({s.name: _rows_in(repeated[s.name]) for s in keys})
    return int(counts["_n"] or 0), failed, repeated


def _observed(observation: Observation) -> dict:
    """The observed counts, or ``{}`` when Spark dropped the observer.

    The observation is complete once the grouping's action has returned (Spark completes it
    as the query ends). When the plan no longer held the observer (an empty table, whose
    shuffle Spark's adaptive execution replaces by an empty relation), Spark completes it
    with an empty row, which PySpark cannot convert: the caller counts with an aggregation
    instead.
    """
    from py4j.protocol import Py4JJavaError

    try:
        return observation.get
    except Py4JJavaError:
        return {}


# Above this many repeated key hashes, the exact grouping reads the whole table again.
MAX_CANDIDATE_HASHES = 100_000


def repeated_keys(
    df: DataFrame, key: tuple[str, ...], hashed_rows: DataFrame | None = None
) -> DataFrame | None:
    """The key values occurring more than once, with their row counts; None when none do.

    ``hashed_rows`` (``df`` by default) is what the hash grouping reads: ``df`` with an
    observer attached, when the row-level checks are counted in the same pass.

    Why hashes first: grouping every row by a 64-bit hash of its key shuffles eight bytes a
    row instead of the key (64-character record ids), and on a sound table no hash repeats,
    so that one grouping is the whole check. Rows whose hash repeats (true duplicates, or a
    rare hash collision) are then grouped by the key itself, so the result is exact.
    """
    from pyspark.sql import functions as F

    hashed = F.xxhash64(*[F.col(f"`{c}`") for c in key])
    candidates = [
        row[0]
        for row in (df if hashed_rows is None else hashed_rows)
        .groupBy(hashed.alias("_h"))
        .count()
        .filter("count > 1")
        .select("_h")
        .limit(MAX_CANDIDATE_HASHES + 1)
        .collect()
    ]
    if not candidates:
        return None
    rows = df.filter(hashed.isin(candidates)) if len(candidates) <= MAX_CANDIDATE_HASHES else df
    # Kept: the count and the failing-row copy both read it (and it is small).
    return rows.groupBy(*key).count().filter("count > 1").localCheckpoint()


def _rows_in(dupes: DataFrame | None) -> int:
    """Rows that carry a repeated key value (the sum of the repeated values' counts)."""
    from pyspark.sql import functions as F

    if dupes is None:
        return 0
    return int(dupes.agg(F.sum("count")).collect()[0][0] or 0)


def _flagged_rows(
    df: DataFrame,
    contract: Contract,
    failed: list[CheckSpec],
    repeated: dict[str, DataFrame | None],
) -> DataFrame | None:
    """Each failing row once per check it fails: table, check, column and the row as JSON.

    One pass for all row-level checks (an array of the checks a row fails, exploded), plus a
    semi join per failed key with its repeated values; ``None`` when nothing failed.
    """
    from pyspark.sql import functions as F

    def tagged(rows: DataFrame, check: Column, column: Column) -> DataFrame:
        return rows.select(
            F.lit(contract.table).alias("table"),
            check.alias("check"),
            column.alias("column"),
            F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns])).alias("record"),
        )

    frames = []
    row_specs = [s for s in failed if not s.is_key]
    if row_specs:
        marks = F.array(
            *[
                F.when(_fails(s), F.struct(F.lit(s.name).alias("c"), F.lit(s.column).alias("k")))
                for s in row_specs
            ]
        )
        marked = df.select("*", F.explode(F.filter(marks, lambda m: m.isNotNull())).alias("_dq"))
        frames.append(tagged(marked, F.col("_dq.c"), F.col("_dq.k")))
    for spec in (s for s in failed if s.is_key):
        dupes = repeated[spec.name]
        assert dupes is not None  # a key that failed has repeated values
        rows = df.join(dupes.drop("count"), list(spec.key), "left_semi")
        frames.append(tagged(rows, F.lit(spec.name), F.lit(spec.column)))
    if not frames:
        return None
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def _examples(flagged: DataFrame) -> dict[str, tuple[str, ...]]:
    """A few failing rows per check as JSON (cut to 500 characters), the same on a re-run."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    first = Window.partitionBy("check").orderBy("record")
    rows = (
        flagged.select("check", "record")
        .withColumn("_k", F.row_number().over(first))
        .filter(F.col("_k") <= EXAMPLES)
        .select("check", F.substring("record", 1, 500).alias("j"))
        .collect()
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.check, []).append(row.j)
    return {check: tuple(sorted(js)) for check, js in out.items()}


def scoped_rows(
    spark: SparkSession, contract: Contract, opened: TableVersion, day: date | None
) -> tuple[DataFrame, str]:
    """The rows to check: the day's batches, else the newest batch, else the whole table.

    The newest batch is found from the version's files with delta-rs when the table is plain
    (:mod:`governance.dq.scan`), by a Spark query otherwise.
    """
    from pyspark.sql import functions as F

    df = read_version(spark, opened)
    if day is not None and contract.received_column:
        return df.filter(F.to_date(F.col(contract.received_column)) == F.lit(day)), f"date={day}"
    if contract.batch_column:
        if opened.plain:
            newest = newest_value(opened, contract.batch_column)
        else:
            newest = df.agg(F.max(F.col(contract.batch_column))).collect()[0][0]
        if newest is not None:
            return df.filter(F.col(contract.batch_column) == F.lit(newest)), f"batch={newest}"
    return df, "all"


def _run_id(plans: list, day: date | None) -> str:
    """Same tables at the same versions, same scope and thresholds: same run id."""
    digest = hashlib.sha256(thresholds_path().read_bytes())
    for contract, opened in sorted(plans, key=lambda p: p[0].table):
        version = None if opened is None else opened.version
        digest.update(f"{contract.table}@{version};".encode())
    digest.update(f"day={day}".encode())
    return digest.hexdigest()[:16]


def _lit(value: str) -> Column:
    from pyspark.sql import functions as F

    return F.lit(value)


def _store(spark: SparkSession, settings: Settings, run: ValidationRun, failed: list) -> None:
    """Replace the run's rows in both tables (at most one atomic Delta commit each)."""
    rows = [r.as_row(run.run_id, run.run_at.replace(tzinfo=None)) for r in run.results]
    results = spark.createDataFrame(rows, RESULTS_DDL)
    _replace_run(results, settings, RESULTS_TABLE, run.run_id)
    frame = spark.createDataFrame([], FAILED_ROWS_DDL)
    for part in failed:
        frame = frame.unionByName(part.select(*frame.columns))
    _replace_run(frame, settings, FAILED_ROWS_TABLE, run.run_id, has_rows=bool(failed))


def _replace_run(
    df: DataFrame, settings: Settings, table: str, run_id: str, *, has_rows: bool = True
) -> None:
    """Write ``df`` as the run's rows of ``governance.<table>`` (``has_rows``: ``df`` has any).

    Why not always ``replaceWhere``: Delta then looks for the run's old rows with Spark jobs
    of its own (the table's snapshot, a file filter, a rewrite), but a run id is new unless
    the same data is validated again. delta-rs answers that from the log and the run ids
    without a JVM: a new run is appended, a repeated one replaces its rows, and a run with no
    failing rows leaves an existing table untouched when it holds none of the run's rows.
    """
    uri = settings.table_uri("governance", table)
    opened = open_version(settings, uri)
    held = opened is not None and bool(
        query(opened, f"SELECT 1 AS held FROM t WHERE run_id = '{run_id}' LIMIT 1")
    )
    if not has_rows and opened is not None and not held:
        return
    writer = df.write.format("delta")
    if held:
        writer.mode("overwrite").option("replaceWhere", f"run_id = '{run_id}'").save(uri)
    else:
        writer.mode("append").save(uri)


def history(spark: SparkSession, settings: Settings, runs: int = 30) -> list:
    """The last ``runs`` runs' pass rates, oldest first (the report's trend).

    Read with delta-rs's SQL (no JVM): a Spark query here cost the table's snapshot and a
    grouping job after every run, for a few dozen numbers.
    """
    from governance.dq.report import RunPoint

    opened = open_version(settings, settings.table_uri("governance", RESULTS_TABLE))
    if opened is None:
        return []
    rows = query(
        opened,
        "SELECT run_id, max(run_at) AS run_at, count(*) AS checks,"
        " sum(CASE WHEN status = 'pass' THEN 1 ELSE 0 END) AS passed,"
        " sum(rows_failed) AS rows_failed FROM t GROUP BY run_id"
        f" ORDER BY run_at DESC LIMIT {int(runs)}",
    )
    return [
        RunPoint(
            r["run_id"],
            str(r["run_at"].replace(tzinfo=None)),
            r["passed"] / r["checks"],
            int(r["rows_failed"] or 0),
        )
        for r in reversed(rows)
    ]
