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
holds all of a batch's rows or none, and every append carries its batch as a Delta
application transaction (``txnAppId``/``txnVersion``): Delta itself skips a second append
of a batch to a table, whoever sends it (a resume, or a second run that took the same
batch id). A reader that needs whole batches across tables joins on the file log's
committed rows.

One writer at a time: a run holds the lake's lease (:mod:`lakehouse.ingest.lease`) from its
first read of the log to its commit, so two runs never share a batch id or each other's
staging folder. The lake must exist (``lakehouse init``): a run never creates tables, so a
mistyped lake root fails instead of growing an empty lake.

Every entry of the landing zone is accounted for: ingested, quarantined (a file outside the
convention, an empty file, new content under an already ingested name: ``CHANGED``), or
skipped with a reason in the report (temporary names and files younger than the settle
time, which a later run takes; links, which are never followed; undecodable names).
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

from lakehouse.errors import IngestError, LakeNotFoundError
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import (
    QUARANTINE_TABLE,
    SUMMARY_DDL,
    WorkerContext,
    make_parser,
)
from lakehouse.landing import feed_key_of
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles, SkippedFile, scan
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

    from lakehouse.ingest.lease import Lease

DEFAULT_MAX_FILES = 20000

# Delta application-transaction ids: one per kind of append, the batch id as the version.
TXN_DATA = "lakehouse.bronze.ingest"
TXN_PLAN = "lakehouse.bronze.plan"
TXN_COMMIT = "lakehouse.bronze.commit"
# File-log statuses that close a batch, and those that mean a file's content was taken.
DONE_STATUSES = ("committed", "duplicate", "missing", "replayed")
SEEN_STATUSES = ("committed", "duplicate")

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
    skipped: list[SkippedFile] = field(default_factory=list)
    files_changed: int = 0
    files_missing: int = 0

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
    for spec in table_specs():
        _add_missing_columns(spark, settings, spec)


def _add_missing_columns(spark: SparkSession, settings: Settings, spec: TableSpec) -> None:
    """Columns the registry added since the table was made (e.g. the quarantine's replay)."""
    uri = settings.table_uri("bronze", spec.name)
    have = set(spark.read.format("delta").load(uri).columns)
    wanted = _struct(spec, with_ingest=spec.name in BRONZE)
    new = [f"`{f.name}` {f.dataType.simpleString()}" for f in wanted.fields if f.name not in have]
    if new:
        spark.sql(f"ALTER TABLE delta.`{uri}` ADD COLUMNS ({', '.join(new)})")


def missing_tables(settings: Settings) -> list[str]:
    """The tables of the lake that do not exist yet (no Delta log), without starting Spark."""
    files = LakeFiles(settings)
    return [
        spec.name
        for spec in table_specs()
        if not files.exists(f"{settings.table_uri('bronze', spec.name)}/_delta_log/")
    ]


def require_lake(settings: Settings) -> None:
    """Fail with the path and the fix when the lake root holds no (complete) lake."""
    missing = missing_tables(settings)
    if not missing:
        return
    root = settings.lake_root
    path = root.removeprefix("file://") if root.startswith("file://") else root
    what = "no lake" if len(missing) == len(table_specs()) else f"tables {missing} missing"
    raise LakeNotFoundError(f"{what} at {root}: run `lakehouse init --lake-root {path}` first")


def init_lake(
    spark: SparkSession, settings: Settings, *, lease: Lease | None = None, wait: float = 0.0
) -> None:
    """Create the lake's tables, or complete them; idempotent, under the lake's lease."""
    from lakehouse.ingest.lease import hold_lease

    if lease is not None:
        lease.check()
        ensure_tables(spark, settings)
        return
    with hold_lease(settings, "lakehouse init", wait=wait):
        ensure_tables(spark, settings)


def ingest_landing(
    spark: SparkSession,
    settings: Settings,
    *,
    progress: Progress | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    fail_at: str | None = None,
    lease: Lease | None = None,
) -> IngestReport:
    """Take every new landed file into bronze; safe to re-run and to kill at any point.

    ``lease``: the lake's lease, held by the caller (who may have waited for it); without
    one, the run takes it itself and fails at once if another run holds it.
    ``fail_at`` names a step at which to stop as if killed (``after_plan``,
    ``after_table:<name>``, ``before_commit``): the tests use it to prove recovery.
    """
    if max_files < 1:
        raise ValueError(f"max_files must be at least 1, got {max_files}")
    require_lake(settings)
    if lease is None:
        from lakehouse.ingest.lease import hold_lease

        with hold_lease(settings, "ingest", say=progress) as own:
            return ingest_landing(
                spark, settings, progress=progress, max_files=max_files, fail_at=fail_at, lease=own
            )
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    report = IngestReport()
    lease.check()
    # Parts a killed run staged are never read (each batch parses again): remove them.
    LakeFiles(settings).remove_tree(staging_root(settings))
    options = ParseOptions(settings.strict_control_counts, settings.xsd_path)

    last_batch, open_batch = _log_state(spark, settings)
    if open_batch is not None:
        planned = _planned_files(spark, settings, open_batch)
        say(f"resuming batch {open_batch}: {len(planned)} planned files")
        primaries = [p for p in planned if p.duplicate_of is None]
        parsed = _parse(spark, _context(spark, settings, open_batch, options), primaries, say)
        _run_batch(spark, settings, open_batch, planned, parsed, report, say, fail_at, lease)
    batch_id = last_batch
    listed, candidates, changed = _new_files(spark, settings, report, say)
    say(f"{listed:,} files in the landing zone, {len(candidates):,} new")
    for start in range(0, len(candidates), max_files):
        chunk = candidates[start : start + max_files]
        batch_id += 1
        say(f"batch {batch_id}: parsing {len(chunk)} new files")
        ctx = _context(spark, settings, batch_id, options, changed)
        parsed = _parse(spark, ctx, chunk, say)
        planned = _plan(spark, settings, chunk, parsed)
        report.files_changed += sum(p.sha != changed.get(p.path, p.sha) for p in planned)
        lease.check()
        _append_log(spark, settings, batch_id, planned, status="planned")
        dups = sum(p.duplicate_of is not None for p in planned)
        say(f"batch {batch_id}: {len(planned)} files planned ({dups} duplicates)")
        _maybe_fail(fail_at, "after_plan", parsed)
        _run_batch(spark, settings, batch_id, planned, parsed, report, say, fail_at, lease)
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


def _new_files(
    spark: SparkSession, settings: Settings, report: IngestReport, say: Progress
) -> tuple[int, list[_Planned], dict[str, str]]:
    """(files listed, files to parse, changed paths -> their logged sha256), in path order.

    A file is seen when the log took it (committed or duplicate) with the same path, size and
    modification time; a seen path with another size or time has changed: it is parsed only
    to hash it, and quarantined if its content differs. Only the log rows of the listed paths
    are read (a join), so the cost follows today's landing. Skipped entries go to the report.
    """
    from pyspark.sql import functions as F

    listing = scan(
        settings, settings.zone("landing"), settle_seconds=settings.landing_settle_seconds
    )
    report.skipped.extend(listing.skipped)
    for entry in listing.skipped:
        say(f"skipped {entry.path}: {entry.reason}")
    if not listing.files:
        return 0, [], {}
    # Times compared as epoch milliseconds: collected timestamps are naive local datetimes.
    seen = (
        _delta(spark, settings, FILE_LOG)
        .where(F.col("status").isin(*SEEN_STATUSES))
        .select(
            F.col("source_uri").alias("path"),
            "size_bytes",
            F.unix_millis("modified_at").alias("millis"),
            "file_sha256",
            "committed_at",
        )
    )
    paths = spark.createDataFrame([(f.path,) for f in listing.files], "path string")
    rows = sorted(seen.join(paths, "path").collect(), key=lambda r: r.committed_at or datetime.min)
    known = {(r.path, int(r.size_bytes), r.millis) for r in rows}
    logged_sha = {r.path: r.file_sha256 for r in rows}  # the latest per path
    found: list[_Planned] = []
    changed: dict[str, str] = {}
    for f in listing.files:
        if (f.path, f.size, round(f.modified.timestamp() * 1000)) in known:
            continue
        found.append(_Planned(f.path, "", f.size, f.modified, None))
        if f.path in logged_sha:
            changed[f.path] = logged_sha[f.path]
            say(f"changed {f.path}: already ingested with another size or time; checking its hash")
    return len(listing.files), found, changed


def staging_root(settings: Settings) -> str:
    """Where workers stage parsed rows; ``_``-prefixed, so table readers never list it."""
    return f"{settings.zone('bronze')}/_staging"


def _context(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    options: ParseOptions,
    changed: dict[str, str] | None = None,
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
        changed=changed or {},
    )


@dataclass
class _Parsed:
    """A batch parsed once: its staged parts per table, and per file its hash and rows."""

    parts: dict[str, list[str]]  # table -> staged Parquet parts
    per_file: dict[str, tuple[str, dict[str, int]]]  # path -> (sha256, {table: rows})
    settings: Settings
    staging_uri: str
    vanished: set[str] = field(default_factory=set)  # files gone before a worker read them

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
        if r.file_sha256 is None:
            parsed.vanished.add(r.path)
            say(f"batch {ctx.batch_id}: {r.path} vanished before it was read; not ingested")
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
    log = _delta(spark, settings, FILE_LOG).where(
        F.col("duplicate_of").isNull() & (F.col("status") == "committed")
    )
    known = {
        r.file_sha256: r.source_uri
        for r in log.join(batch_hashes.distinct(), "file_sha256")
        .groupBy("file_sha256")
        .agg(F.min("source_uri").alias("source_uri"))
        .collect()
    }
    planned = []
    for f, sha in hashed:
        # Empty files all share one hash, but each is its own event: each is quarantined.
        original = known.get(sha) if f.size else None
        planned.append(_Planned(f.path, sha, f.size, f.modified, original))
        if original is None and f.size:
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
    missing: set[str] | None = None,
) -> None:
    """Append the batch's plan (``planned``) or its commit, as one Delta transaction."""
    now = datetime.now(UTC)
    rows = []
    for p in planned:
        feed_key = feed_key_of(p.path)
        system, feed = feed_key.split("/", 1) if feed_key else (None, None)
        records, rejected = (counts or {}).get(p.sha, (0, 0)) if p.duplicate_of is None else (0, 0)
        row_status = "duplicate" if (p.duplicate_of and status == "committed") else status
        if status == "committed" and p.path in (missing or set()):
            row_status = "missing"
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
    txn = TXN_PLAN if status == "planned" else TXN_COMMIT
    _append(df, settings.table_uri("bronze", FILE_LOG.name), txn, batch_id)


def _append(df: DataFrame, uri: str, app_id: str, version: int) -> None:
    """One Delta append: atomic, so a table shows all of a batch's rows or none of them.

    Tagged as application transaction (``app_id``, ``version``): Delta skips the append when
    the table already recorded that version (or a later one) for the app id.
    """
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", version)
        .save(uri)
    )


def _log_state(spark: SparkSession, settings: Settings) -> tuple[int, int | None]:
    """(highest batch id, oldest batch planned but never committed) in one pass over the log."""
    from pyspark.sql import functions as F

    done = F.col("status").isin(*DONE_STATUSES).cast("int")
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
    lease: Lease,
) -> None:
    """Write the batch's rows (one append per table), then commit it in the log.

    A resumed batch appends again to every table: Delta skips the tables that already
    recorded the batch's transaction.
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
            lease.check()
            _append(out, settings.table_uri("bronze", table), TXN_DATA, batch_id)
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
    lease.check()
    missing = parsed.vanished & {p.path for p in planned}
    _append_log(
        spark, settings, batch_id, planned, status="committed", counts=counts, missing=missing
    )
    report.files_missing += len(missing)
    report.files_ingested += len(primaries) - len(missing)
    report.bytes_read += sum(p.size for p in primaries)
    dups = len(planned) - len(primaries)
    say(f"batch {batch_id}: committed {len(primaries)} files, {dups} duplicates")
