"""Bronze ingestion: new landed files into Delta bronze tables, exactly once, nothing lost.

How exactly-once holds, even when a run is killed at any point:

1. **Parse.** New files are found by listing the landing zone and dropping those already in
   the file log with the same path, size and modification time (so only new files are read).
   Spark's Python workers read, hash (SHA-256) and parse them once, and stage each target
   table's rows as Parquet parts in a staging folder no reader looks at.
2. **Plan.** A hash already in the log, or seen twice in the batch, marks a duplicate (the
   same content under a new name): it is logged, and its staged rows are never appended. The
   plan, every file with its batch id, is appended to the file log *before* any data is written.
3. **Write.** Each bronze table, and the quarantine, gets one Delta append of its staged
   parts. Every row carries its batch id. The staging folder is then removed.
4. **Commit.** The file log gets one ``committed`` row per file with its record counts.

A run that finds a planned batch without its commit resumes that batch with exactly the
planned files (new arrivals wait for the next batch). Each append is atomic, so a table
holds all of a batch's rows or none: the resume appends only to the tables that hold no row
of the batch, and re-writing a batch adds nothing. A batch that was never planned cannot
have rows anywhere (the plan is written first), so a fresh batch needs no check. (Delta's
``txnAppId``/``txnVersion`` options would give the same skip, but each tagged append
rebuilds the table state to read them: ~0.6 s per table and run, for a check only a resume
needs.) A reader that needs whole batches across tables joins on the file log's committed
rows.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakehouse.errors import IngestError
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import (
    QUARANTINE_TABLE,
    SUMMARY_DDL,
    WorkerContext,
    make_parser,
)
from lakehouse.landing import feed_key_of
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles, list_files
from lakehouse.tables import (
    BRONZE,
    FILE_LOG,
    INGEST_STRUCT,
    QUARANTINE,
    STATS_COLUMNS,
    TableSpec,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MAX_FILES = 20000

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

    ddl = spec.columns_ddl + (f", _ingest {INGEST_STRUCT}" if with_ingest else "")
    return _parse_datatype_string(ddl)


def ensure_tables(spark: SparkSession, settings: Settings) -> None:
    """Create every bronze table (empty, with its schema) if it does not exist yet.

    The builder only commits a Delta log entry (no Spark job); the tables are independent, so
    the commits run side by side.
    """
    from delta.tables import DeltaTable

    def create(spec: TableSpec) -> None:
        uri = settings.table_uri("bronze", spec.name)
        if DeltaTable.isDeltaTable(spark, uri):
            return
        (
            DeltaTable.create(spark)
            # Delta compares the location with Hadoop's form of the path (file:/x, not file:///x).
            .location(uri.replace("file:///", "file:/", 1))
            .addColumns(_struct(spec, with_ingest=spec.name in BRONZE))
            .comment(spec.description)
            .property("delta.dataSkippingStatsColumns", ",".join(STATS_COLUMNS[spec.name]))
            .execute()
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, table_specs()))


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
    # Parts a killed run staged are never read (each batch parses again): remove them.
    LakeFiles(settings).remove_tree(staging_root(settings))
    options = ParseOptions(settings.strict_control_counts, settings.xsd_path)

    last_batch, open_batch = _log_state(spark, settings)
    if open_batch is not None:
        planned = _planned_files(spark, settings, open_batch)
        say(f"resuming batch {open_batch}: {len(planned)} planned files")
        primaries = [p for p in planned if p.duplicate_of is None]
        parsed = _parse(spark, _context(spark, settings, open_batch, options), primaries, say)
        _run_batch(spark, settings, open_batch, planned, parsed, report, say, fail_at, resume=True)
    batch_id = last_batch
    listed, candidates = _new_files(spark, settings)
    say(f"{listed:,} files in the landing zone, {len(candidates):,} new")
    for start in range(0, len(candidates), max_files):
        chunk = candidates[start : start + max_files]
        batch_id += 1
        say(f"batch {batch_id}: parsing {len(chunk)} new files")
        parsed = _parse(spark, _context(spark, settings, batch_id, options), chunk, say)
        planned = _plan(spark, settings, chunk, parsed)
        _append_log(spark, settings, batch_id, planned, status="planned")
        dups = sum(p.duplicate_of is not None for p in planned)
        say(f"batch {batch_id}: {len(planned)} files planned ({dups} duplicates)")
        _maybe_fail(fail_at, "after_plan", parsed)
        _run_batch(spark, settings, batch_id, planned, parsed, report, say, fail_at)
    report.files_listed = listed
    report.seconds = time.monotonic() - started
    return report


def _maybe_fail(fail_at: str | None, step: str, parsed: _Parsed | None = None) -> None:
    if fail_at == step:
        if parsed is not None:
            parsed.release()
        raise IngestError(f"stopped at {step} (fail_at was set)")


def _delta(spark: SparkSession, settings: Settings, spec: TableSpec) -> DataFrame:
    return spark.read.format("delta").load(settings.table_uri("bronze", spec.name))


def _new_files(spark: SparkSession, settings: Settings) -> tuple[int, list[_Planned]]:
    """(files listed, files the log has not seen) under landing/, in path order.

    A file is seen when the log has the same path, size and modification time; only the
    log rows of the listed paths are read (a join), so the cost follows today's landing.
    """
    from pyspark.sql import functions as F

    listing = list_files(settings, settings.zone("landing"))
    if not listing:
        return 0, []
    # Times compared as epoch milliseconds: collected timestamps are naive local datetimes.
    seen = _delta(spark, settings, FILE_LOG).select(
        F.col("source_uri").alias("path"),
        "size_bytes",
        F.unix_millis("modified_at").alias("millis"),
    )
    paths = spark.createDataFrame([(f.path,) for f in listing], "path string")
    known = {(r.path, int(r.size_bytes), r.millis) for r in seen.join(paths, "path").collect()}
    found = [
        _Planned(f.path, "", f.size, f.modified, None)
        for f in listing
        if (f.path, f.size, round(f.modified.timestamp() * 1000)) not in known
    ]
    return len(listing), found


def staging_root(settings: Settings) -> str:
    """Where workers stage parsed rows; ``_``-prefixed, so table readers never list it."""
    return f"{settings.zone('bronze')}/_staging"


def _context(
    spark: SparkSession, settings: Settings, batch_id: int, options: ParseOptions
) -> WorkerContext:
    from pyspark.sql.pandas.types import to_arrow_schema

    schemas = {
        spec.name: to_arrow_schema(_struct(spec, with_ingest=spec.name in BRONZE), timezone="UTC")
        for spec in [*BRONZE.values(), QUARANTINE]
    }
    return WorkerContext(
        schemas,
        options,
        batch_id,
        datetime.now(UTC),
        settings,
        f"{staging_root(settings)}/batch-{batch_id}",
    )


@dataclass
class _Parsed:
    """A batch parsed once: its staged parts per table, and per file its hash and rows."""

    parts: dict[str, list[str]]  # table -> staged Parquet parts
    per_file: dict[str, tuple[str, dict[str, int]]]  # path -> (sha256, {table: rows})
    settings: Settings
    staging_uri: str

    def release(self) -> None:
        """Remove the batch's staged parts (after its appends, or when it is abandoned)."""
        LakeFiles(self.settings).remove_tree(self.staging_uri)


# Parse CPU per byte relative to the one-table JSON feeds (measured on a simulated day: the
# columnar JSON path reads ~25 MB/s per core, EDIFACT and per-document XML ~6 MB/s, nested
# CMS JSON ~10 MB/s). Balancing tasks by bytes alone left one core idle for the last third.
_PARSE_COST = {"cms/edifact": 4.0, "cms/xml": 4.0, "cms/json": 2.5}


def _balanced_groups(files: list[_Planned], count: int) -> list[list[tuple]]:
    """Split the files into at most ``count`` groups of about equal parse cost, costliest first.

    One group is one parse task. Landed files range from a few KB (one XML declaration) to
    tens of MB (an ECTS hour), and a byte of EDIFACT costs four of JSON, so groups by count
    or by bytes would leave a core idle at the end.
    """

    def cost(f: _Planned) -> float:
        return max(f.size, 1) * _PARSE_COST.get(feed_key_of(f.path) or "", 1.0)

    loads = [(0.0, g) for g in range(min(count, len(files)))]
    groups: list[list[tuple]] = [[] for _ in loads]
    for f in sorted(files, key=lambda f: (-cost(f), f.path)):
        load, g = heapq.heappop(loads)
        groups[g].append((f.path, f.size, f.modified))
        heapq.heappush(loads, (load + cost(f), g))
    return groups


PROGRESS_SECONDS = 15.0


def running_tasks(tracker: Any) -> tuple[int, int] | None:
    """(completed, total) tasks of the stages running now, or None when none runs."""
    done = total = 0
    for stage_id in tracker.getActiveStageIds():
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            done += info.numCompletedTasks
            total += info.numTasks
    return (done, total) if total else None


@contextmanager
def _task_progress(
    spark: SparkSession, report: Callable[[int, int], None], every: float = PROGRESS_SECONDS
) -> Iterator[None]:
    """Report the running stages' task counts every ``every`` seconds while the body runs.

    The parse of a day is one Spark job of a few minutes on a small machine; without this a
    long run is silent between "parsing" and "parsed".
    """
    stop = threading.Event()
    tracker = spark.sparkContext.statusTracker()

    def poll() -> None:
        while not stop.wait(every):
            counts = running_tasks(tracker)
            if counts is not None:
                report(*counts)

    thread = threading.Thread(target=poll, name="ingest-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _parse(
    spark: SparkSession, ctx: WorkerContext, files: list[_Planned], say: Progress
) -> _Parsed:
    """Parse the files once in Spark's Python workers, which stage the rows as Parquet.

    The workers get only the file list (paths, sizes, times), split into cost-balanced
    groups, four per core, read the files themselves and return a summary: per file its
    hash and rows per table, and the parts they wrote. Only parts a summary names are ever
    read, so the leftovers of a failed task attempt are ignored (and removed with the rest).
    """
    per_file: dict[str, tuple[str, dict[str, int]]] = {}
    parts: dict[str, list[str]] = {}
    parsed = _Parsed(parts, per_file, ctx.settings, ctx.staging_uri)
    if not files:
        return parsed
    cores = max(spark.sparkContext.defaultParallelism, 1)
    groups = _balanced_groups(files, 4 * cores)
    listing = spark.createDataFrame(
        spark.sparkContext.parallelize(groups, len(groups)).flatMap(lambda group: group),
        "path string, size bigint, modificationTime timestamp",
    )
    summary = listing.mapInArrow(make_parser(ctx), SUMMARY_DDL)
    with _task_progress(
        spark, lambda done, total: say(f"batch {ctx.batch_id}: parsing, {done}/{total} tasks done")
    ):
        rows = summary.collect()
    total_rows = 0
    for r in rows:
        if r.part is not None:
            parts.setdefault(r.table, []).append(r.part)
            continue
        _, tables = per_file.setdefault(r.path, (r.file_sha256, {}))
        if r.table is not None:
            tables[r.table] = tables.get(r.table, 0) + int(r.rows)
            total_rows += int(r.rows)
    say(f"batch {ctx.batch_id}: parsed {len(files):,} files into {total_rows:,} rows")
    return parsed


def _plan(
    spark: SparkSession, settings: Settings, files: list[_Planned], parsed: _Parsed
) -> list[_Planned]:
    """Give each file its hash and mark content already ingested (or repeated) as duplicate."""
    from pyspark.sql import functions as F

    hashed = [(f, parsed.per_file[f.path][0]) for f in files if f.path in parsed.per_file]
    batch_hashes = spark.createDataFrame([(sha,) for _, sha in hashed], "file_sha256 string")
    log = _delta(spark, settings, FILE_LOG).where(F.col("duplicate_of").isNull())
    known = {
        r.file_sha256: r.source_uri
        for r in log.join(batch_hashes.distinct(), "file_sha256")
        .groupBy("file_sha256")
        .agg(F.min("source_uri").alias("source_uri"))
        .collect()
    }
    planned = []
    for f, sha in hashed:
        original = known.get(sha)
        planned.append(_Planned(f.path, sha, f.size, f.modified, original))
        if original is None:
            known[sha] = f.path
    return planned


def _append_log(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    planned: list[_Planned],
    *,
    status: str,
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
    _append(df, settings.table_uri("bronze", FILE_LOG.name))


def _append(df: DataFrame, uri: str) -> None:
    """One Delta append: atomic, so a table shows all of a batch's rows or none of them."""
    df.write.format("delta").mode("append").save(uri)


def _batch_written(spark: SparkSession, uri: str, table: str, batch_id: int) -> bool:
    """True when the table already holds rows of the batch (a killed run wrote it).

    Appends are atomic, so one row means all of them. Delta keeps statistics on the batch
    column (STATS_COLUMNS), so the check reads only the files that can hold the batch.
    """
    from pyspark.sql import functions as F

    column = "batch_id" if table == QUARANTINE_TABLE else "_ingest.batch_id"
    rows = spark.read.format("delta").load(uri).where(F.col(column) == batch_id).limit(1)
    return bool(rows.collect())


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


def _outputs(
    spark: SparkSession, parsed: _Parsed, skip_paths: set[str]
) -> dict[str, tuple[DataFrame, int]]:
    """Per target table: its staged rows to append (duplicates left out) and how many."""
    from pyspark.sql import functions as F

    totals: dict[str, int] = {}
    for path, (_, tables) in parsed.per_file.items():
        if path in skip_paths:
            continue
        for table, n in tables.items():
            totals[table] = totals.get(table, 0) + n
    specs = {spec.name: spec for spec in [*BRONZE.values(), QUARANTINE]}
    outputs: dict[str, tuple[DataFrame, int]] = {}
    for table in sorted(totals):
        spec = specs[table]
        rows = spark.read.schema(_struct(spec, with_ingest=table in BRONZE)).parquet(
            *parsed.parts[table]
        )
        if skip_paths:
            source = "source_uri" if table == QUARANTINE_TABLE else "_ingest.source_uri"
            rows = rows.where(~F.col(source).isin(sorted(skip_paths)))
        outputs[table] = (rows, totals[table])
    return outputs


def _run_batch(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    planned: list[_Planned],
    parsed: _Parsed,
    report: IngestReport,
    say: Progress,
    fail_at: str | None,
    *,
    resume: bool = False,
) -> None:
    """Write the batch's rows (one append per table), then commit it in the log.

    ``resume`` (a batch a killed run planned): tables that already hold the batch's rows
    are not appended again.
    """
    primaries = [p for p in planned if p.duplicate_of is None]
    skip = {p.path for p in planned if p.duplicate_of is not None} | (
        set(parsed.per_file) - {p.path for p in planned}
    )
    report.batches.append(batch_id)
    report.files_duplicate += len(planned) - len(primaries)
    try:
        outputs = _outputs(spark, parsed, skip)
        first = fail_at.split(":", 1)[1] if fail_at and fail_at.startswith("after_table:") else None
        # Largest first, so the long appends overlap the many short ones.
        order = sorted(outputs, key=lambda t: (t != first, -outputs[t][1], t))

        def write(table: str) -> None:
            out, total = outputs[table]
            uri = settings.table_uri("bronze", table)
            if resume and _batch_written(spark, uri, table, batch_id):
                say(f"batch {batch_id}: bronze.{table} already holds its {total:,} rows")
                return
            _append(out, uri)
            say(f"batch {batch_id}: {total:>9,} rows -> bronze.{table}")

        if first in outputs:  # a simulated crash right after this one table was written
            write(first)
            _maybe_fail(fail_at, f"after_table:{first}")
        # Appends to different tables are independent commits: run them side by side so the
        # fixed cost of each (job start, Delta commit) overlaps.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write, [t for t in order if t != first]))
        for table, (_, total) in outputs.items():
            if table == QUARANTINE_TABLE:
                report.rejected += total
            else:
                report.records[table] = report.records.get(table, 0) + total
    finally:
        parsed.release()
    _maybe_fail(fail_at, "before_commit")
    counts = {}
    for p in primaries:
        tables = parsed.per_file.get(p.path, ("", {}))[1]
        rejected = tables.get(QUARANTINE_TABLE, 0)
        counts[p.sha] = (sum(tables.values()) - rejected, rejected)
    _append_log(spark, settings, batch_id, planned, status="committed", counts=counts)
    report.files_ingested += len(primaries)
    report.bytes_read += sum(p.size for p in primaries)
    dups = len(planned) - len(primaries)
    say(f"batch {batch_id}: committed {len(primaries)} files, {dups} duplicates")
