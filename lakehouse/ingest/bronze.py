"""Bronze ingestion: new landed files into Delta bronze tables, exactly once, nothing lost.

How exactly-once holds, even when a run is killed at any point:

1. **Plan.** New files are found by listing the landing zone and dropping those already in
   the file log with the same path, size and modification time (so only new files are read).
   Each candidate is hashed (SHA-256); a hash already in the log, or seen twice in the batch,
   marks a duplicate (the same content under a new name), which is logged and not parsed. The
   plan, every file with its batch id, is appended to the file log *before* any data is written.
2. **Write.** The planned files are parsed once (in Spark's Python workers) and each bronze
   table, and the quarantine, gets one append tagged with Delta's idempotent-write options
   ``txnAppId``/``txnVersion`` = (this job, batch id). Delta skips an append whose version it
   has already committed for the app id, so re-writing a batch adds nothing.
3. **Commit.** The file log gets one ``committed`` row per file with its record counts.

A run that finds a planned batch without its commit resumes that batch with exactly the
planned files (new arrivals wait for the next batch), so step 2's skip is always correct.
Each append is atomic, so a crash never leaves part of a table's batch visible; a reader
that needs whole batches across tables joins on the file log's committed rows.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lakehouse.errors import IngestError
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import (
    QUARANTINE_TABLE,
    WorkerContext,
    column_name,
    feed_key_of,
    make_parser,
)
from lakehouse.settings import Settings
from lakehouse.tables import BRONZE, FILE_LOG, INGEST_STRUCT, QUARANTINE, TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

APP_ID = "customs-lakehouse/bronze-ingest"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_MAX_FILES = 5000

Progress = Callable[[str], None]


@dataclass
class IngestReport:
    """What one ``ingest_landing`` call did; ``records``/``rejected`` are per table."""

    batches: list[int] = field(default_factory=list)
    files_listed: int = 0
    files_ingested: int = 0
    files_duplicate: int = 0
    bytes_read: int = 0
    records: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    seconds: float = 0.0

    @property
    def total_records(self) -> int:
        """Records written to bronze tables (quarantine excluded)."""
        return sum(self.records.values())


@dataclass(frozen=True)
class _Planned:
    path: str
    sha: str
    size: int
    modified: datetime
    duplicate_of: str | None


def table_specs() -> list[TableSpec]:
    """Every table this job writes: the bronze tables, the quarantine and the file log."""
    return [*BRONZE.values(), QUARANTINE, FILE_LOG]


def _struct(spec: TableSpec, with_ingest: bool):
    from pyspark.sql.types import _parse_datatype_string

    ddl = spec.ddl + (f", _ingest {INGEST_STRUCT}" if with_ingest else "")
    return _parse_datatype_string(ddl)


def ensure_tables(spark: SparkSession, settings: Settings) -> None:
    """Create every bronze table (empty, with its schema) if it does not exist yet.

    The builder only commits a Delta log entry (no Spark job), so this is cheap after the
    first run and not much more on it.
    """
    from delta.tables import DeltaTable

    for spec in table_specs():
        uri = settings.table_uri("bronze", spec.name)
        if DeltaTable.isDeltaTable(spark, uri):
            continue
        (
            DeltaTable.create(spark)
            # Delta compares the location with Hadoop's form of the path (file:/x, not file:///x).
            .location(uri.replace("file:///", "file:/", 1))
            .addColumns(_struct(spec, with_ingest=spec.name in BRONZE))
            .comment(spec.description)
            .execute()
        )


def ingest_landing(
    spark: SparkSession,
    settings: Settings,
    *,
    progress: Progress | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    fail_at: str | None = None,
) -> IngestReport:
    """Take every new landed file into bronze; safe to re-run and to kill at any point.

    ``fail_at`` names a step at which to stop as if killed (``after_plan``,
    ``after_table:<name>``, ``before_commit``): the tests use it to prove recovery.
    """
    if max_files < 1:
        raise ValueError(f"max_files must be at least 1, got {max_files}")
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    report = IngestReport()
    ensure_tables(spark, settings)
    options = ParseOptions(settings.strict_control_counts, settings.xsd_path)

    last_batch, open_batch = _log_state(spark, settings)
    if open_batch is not None:
        planned = _planned_files(spark, settings, open_batch)
        say(f"resuming batch {open_batch}: {len(planned)} planned files")
        _run_batch(spark, settings, open_batch, planned, options, report, say, fail_at)
    listed = _list_landing(spark, settings)
    report.files_listed = len(listed)
    batch_id = last_batch
    tried: set[str] = set()
    while True:
        candidates = [c for c in _new_files(spark, settings, listed) if c[0] not in tried]
        if not candidates:
            break
        tried.update(c[0] for c in candidates[:max_files])
        planned = _plan(spark, settings, candidates[:max_files])
        if not planned:  # every candidate vanished before it could be read: nothing to do
            continue
        batch_id += 1
        _append_log(spark, settings, batch_id, planned, status="planned", app_suffix="plan")
        say(
            f"batch {batch_id}: {len(planned)} files planned "
            f"({sum(p.duplicate_of is not None for p in planned)} duplicates)"
        )
        _maybe_fail(fail_at, "after_plan")
        _run_batch(spark, settings, batch_id, planned, options, report, say, fail_at)
    report.seconds = time.monotonic() - started
    return report


def _maybe_fail(fail_at: str | None, step: str) -> None:
    if fail_at == step:
        raise IngestError(f"stopped at {step} (fail_at was set)")


def _delta(spark: SparkSession, settings: Settings, spec: TableSpec) -> DataFrame:
    return spark.read.format("delta").load(settings.table_uri("bronze", spec.name))


def _list_landing(spark: SparkSession, settings: Settings) -> list[tuple[str, int, datetime]]:
    """Every file under landing/ with size and mtime, through Hadoop's FileSystem API.

    Hadoop's listing sees empty files (Spark's file scans skip them, which would lose them
    silently) and works the same on file:// and s3a://. Names starting with ``.`` or ``_`` are
    writers' temporary files and are left for a later run.
    """
    landing = settings.zone("landing")
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(landing)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        return []
    found = []
    it = fs.listFiles(hpath, True)
    while it.hasNext():
        status = it.next()
        path = status.getPath()
        name = path.getName()
        if name.startswith((".", "_")):
            continue
        modified = datetime.fromtimestamp(status.getModificationTime() / 1000, tz=UTC)
        found.append((path.toString(), int(status.getLen()), modified))
    return found


def _new_files(
    spark: SparkSession, settings: Settings, listed: list[tuple[str, int, datetime]]
) -> list[tuple[str, int, datetime]]:
    """Listed files the log has not seen (same path, size and mtime means seen)."""
    if not listed:
        return []
    from pyspark.sql import functions as F

    seen = _delta(spark, settings, FILE_LOG).select(
        F.col("source_uri").alias("path"),
        F.col("size_bytes").alias("length"),
        F.col("modified_at").alias("modificationTime"),
    )
    listed_df = spark.createDataFrame(
        listed, "path string, length bigint, modificationTime timestamp"
    )
    new = listed_df.join(seen, ["path", "length", "modificationTime"], "left_anti").orderBy("path")
    return [(r.path, int(r.length), r.modificationTime) for r in new.collect()]


def _plan(
    spark: SparkSession, settings: Settings, candidates: list[tuple[str, int, datetime]]
) -> list[_Planned]:
    """Hash the candidates and mark content already ingested (or repeated) as duplicates."""
    from pyspark.sql import functions as F

    paths = [c[0] for c in candidates if c[1] > 0]
    # Spark's file scan skips empty files, so their (well-known) hash is set here.
    hashed = {c[0]: _EMPTY_SHA256 for c in candidates if c[1] == 0}
    if paths:
        files = spark.read.format("binaryFile").load(paths)
        hashed |= {
            r.path: r.sha
            for r in files.select("path", F.sha2("content", 256).alias("sha")).collect()
        }
    log = _delta(spark, settings, FILE_LOG).where(F.col("duplicate_of").isNull())
    known = {
        r.file_sha256: r.source_uri
        for r in log.where(F.col("file_sha256").isin(list(set(hashed.values()))))
        .groupBy("file_sha256")
        .agg(F.min("source_uri").alias("source_uri"))
        .collect()
    }
    planned: list[_Planned] = []
    for path, size, modified in candidates:
        if path not in hashed:  # vanished between listing and reading: next run sees it again
            continue
        sha = hashed[path]
        original = known.get(sha)
        planned.append(_Planned(path, sha, size, modified, original))
        if original is None:
            known[sha] = path
    return planned


def _append_log(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    planned: list[_Planned],
    *,
    status: str,
    app_suffix: str,
    counts: dict[str, tuple[int, int]] | None = None,
) -> None:
    now = datetime.now(UTC)
    rows = []
    for p in planned:
        feed_key = feed_key_of(p.path)
        system, feed = feed_key.split("/", 1) if feed_key else (None, None)
        records, rejected = (counts or {}).get(p.sha, (0, 0)) if p.duplicate_of is None else (0, 0)
        row_status = "duplicate" if (p.duplicate_of and status == "committed") else status
        rows.append(
            (
                batch_id,
                p.path,
                p.sha,
                p.size,
                p.modified,
                system,
                feed,
                row_status,
                p.duplicate_of,
                records,
                rejected,
                now if status == "committed" else None,
            )
        )
    df = spark.createDataFrame(rows, _struct(FILE_LOG, with_ingest=False))
    _append(df, settings.table_uri("bronze", FILE_LOG.name), batch_id, app_suffix)


def _append(df: DataFrame, uri: str, batch_id: int, app_suffix: str) -> None:
    """An idempotent append: Delta skips it if (app id, batch id) was already committed."""
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", f"{APP_ID}/{app_suffix}")
        .option("txnVersion", batch_id)
        .save(uri)
    )


def _log_state(spark: SparkSession, settings: Settings) -> tuple[int, int | None]:
    """(highest batch id, oldest batch planned but never committed) in one pass over the log."""
    from pyspark.sql import functions as F

    done = F.col("status").isin("committed", "duplicate").cast("int")
    per_batch = _delta(spark, settings, FILE_LOG).groupBy("batch_id").agg(F.max(done).alias("done"))
    row = per_batch.agg(
        F.max("batch_id").alias("top"),
        F.min(F.when(F.col("done") == 0, F.col("batch_id"))).alias("open"),
    ).first()
    top = int(row.top) if row and row.top is not None else 0
    return top, (int(row.open) if row and row.open is not None else None)


def _planned_files(spark: SparkSession, settings: Settings, batch_id: int) -> list[_Planned]:
    """The files a batch planned, in path order."""
    from pyspark.sql import functions as F

    log = _delta(spark, settings, FILE_LOG)
    rows = log.where((F.col("batch_id") == batch_id) & (F.col("status") == "planned")).collect()
    return [
        _Planned(r.source_uri, r.file_sha256, int(r.size_bytes), r.modified_at, r.duplicate_of)
        for r in sorted(rows, key=lambda r: r.source_uri)
    ]


def _output_schema(spark: SparkSession):
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StringType, StructField, StructType

    fields = [
        StructField("_table", StringType(), False),
        StructField("_ingest", _struct_of(INGEST_STRUCT), True),
        StructField(column_name(QUARANTINE_TABLE), _struct(QUARANTINE, with_ingest=False), True),
    ]
    fields += [
        StructField(column_name(name), _struct(spec, with_ingest=False), True)
        for name, spec in BRONZE.items()
    ]
    spark_schema = StructType(fields)
    return spark_schema, to_arrow_schema(spark_schema, timezone="UTC")


def _struct_of(ddl: str):
    from pyspark.sql.types import _parse_datatype_string

    return _parse_datatype_string(ddl)


def _empty_file_rejections(
    spark: SparkSession, ctx: WorkerContext, empty: list[_Planned]
) -> DataFrame:
    """Quarantine rows for empty files, which Spark's file scan skips (so no worker sees them)."""
    import pyarrow as pa

    listing = pa.RecordBatch.from_pydict(
        {
            "path": [p.path for p in empty],
            "content": pa.array([b""] * len(empty), type=pa.binary()),
            "modificationTime": pa.array(
                [p.modified for p in empty], type=pa.timestamp("us", tz="UTC")
            ),
        }
    )
    col = column_name(QUARANTINE_TABLE)
    rows = [
        row
        for batch in make_parser(ctx)(iter([listing]))
        for row in batch.column(col).to_pylist()
        if row is not None
    ]
    return spark.createDataFrame(rows, _struct(QUARANTINE, with_ingest=False))


def _outputs(
    spark: SparkSession, ctx: WorkerContext, parsed: DataFrame | None, empty: list[_Planned]
) -> dict[str, tuple[DataFrame, dict[str, int]]]:
    """Per target table: the rows to append and the row count per file (by SHA-256)."""
    from pyspark.sql import functions as F

    outputs: dict[str, tuple[DataFrame, dict[str, int]]] = {}
    if parsed is not None:
        per_file = (
            parsed.groupBy("_table", F.col("_ingest.file_sha256").alias("sha")).count().collect()
        )
        for table in sorted({r["_table"] for r in per_file}):
            rows = parsed.where(F.col("_table") == table)
            col = column_name(table)
            out = (
                rows.select(f"{col}.*")
                if table == QUARANTINE_TABLE
                else rows.select(f"{col}.*", "_ingest")
            )
            by_file = {r.sha: int(r["count"]) for r in per_file if r["_table"] == table}
            outputs[table] = (out, by_file)
    if empty:
        rejected = _empty_file_rejections(spark, ctx, empty)
        by_file = {p.sha: 1 for p in empty}
        if QUARANTINE_TABLE in outputs:
            out, counts = outputs[QUARANTINE_TABLE]
            outputs[QUARANTINE_TABLE] = (out.unionByName(rejected), {**counts, **by_file})
        else:
            outputs[QUARANTINE_TABLE] = (rejected, by_file)
    return outputs


def _run_batch(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    planned: list[_Planned],
    options: ParseOptions,
    report: IngestReport,
    say: Progress,
    fail_at: str | None,
) -> None:
    from pyspark import StorageLevel

    primaries = [p for p in planned if p.duplicate_of is None]
    report.batches.append(batch_id)
    report.files_duplicate += len(planned) - len(primaries)
    counts: dict[str, tuple[int, int]] = {}
    if primaries:
        spark_schema, arrow_schema = _output_schema(spark)
        ctx = WorkerContext(arrow_schema, tuple(BRONZE), options, batch_id, datetime.now(UTC))
        readable = [p.path for p in primaries if p.size > 0]
        empty = [p for p in primaries if p.size == 0]
        parsed = None
        if readable:
            files = spark.read.format("binaryFile").load(readable)
            parsed = files.mapInArrow(make_parser(ctx), spark_schema)
            parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            outputs = _outputs(spark, ctx, parsed, empty)
            for table in sorted(outputs):
                out, by_file = outputs[table]
                for sha, n in by_file.items():
                    rec, rej = counts.get(sha, (0, 0))
                    counts[sha] = (rec, rej + n) if table == QUARANTINE_TABLE else (rec + n, rej)
                total = sum(by_file.values())
                _append(out, settings.table_uri("bronze", table), batch_id, "data")
                say(f"batch {batch_id}: {total:>9,} rows -> bronze.{table}")
                _maybe_fail(fail_at, f"after_table:{table}")
                if table == QUARANTINE_TABLE:
                    report.rejected += total
                else:
                    report.records[table] = report.records.get(table, 0) + total
        finally:
            if parsed is not None:
                parsed.unpersist()
    _maybe_fail(fail_at, "before_commit")
    _append_log(
        spark, settings, batch_id, planned, status="committed", app_suffix="commit", counts=counts
    )
    report.files_ingested += len(primaries)
    report.bytes_read += sum(p.size for p in primaries)
    dups = len(planned) - len(primaries)
    say(f"batch {batch_id}: committed {len(primaries)} files, {dups} duplicates")
