"""Bronze ingestion: new landed files into Delta bronze tables, exactly once, nothing lost.

How exactly-once holds, even when a run is killed at any point:

1. **Parse.** New files are found by listing the landing zone and dropping those already in
   the file log with the same path, size and modification time (so only new files are read).
   Workers (local processes for a small batch, Spark's Python workers for a large one) read,
   hash (SHA-256) and parse them once, and write each target table's rows as final Parquet
   data files inside the table's folder, named after the batch; no reader sees them until a
   commit names them.
2. **Plan.** A hash already in the log, or seen twice in the batch, marks a duplicate (the
   same content under a new name): it is logged, and the few files holding its rows are
   rewritten without them. The plan, every file with its batch id, is appended to the file
   log *before* any table is committed.
3. **Write.** Each bronze table, and the quarantine, gets one delta-rs commit adding its data
   files (:mod:`lakehouse.ingest.delta_commit`): no row is rewritten. Every row carries its
   batch id.
4. **Commit.** The file log gets one ``committed`` row per file with its record counts.

A run that finds a planned batch without its commit resumes that batch with exactly the
planned files (new arrivals wait for the next batch), after removing the data files no commit
took. Each commit is atomic, so a table holds all of a batch's rows or none, and every commit
carries its batch as a Delta application transaction (``txnAppId``/``txnVersion``): a second
commit of a batch to a table is skipped, whoever sends it (a resume, or a second run that took
the same batch id). A reader that needs whole batches across tables joins on the file log's
committed rows. The file log itself is read and appended with delta-rs, so a run that finds
nothing new, or only a few files, never starts a JVM.

One writer at a time: a run holds the lake's lease (:mod:`lakehouse.ingest.lease`) from its
first read of the log to its commit, so two runs never share a batch id or each other's
data files. The lake must exist (``lakehouse init``): a run never creates tables, so a
mistyped lake root fails instead of growing an empty lake.

Every entry of the landing zone is accounted for: ingested, quarantined (a file outside the
convention, an empty file, new content under an already ingested name: ``CHANGED``), or
skipped with a reason in the report (temporary names and files younger than the settle
time, which a later run takes; links, which are never followed; undecodable names).
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lakehouse.errors import IngestError, LakeNotFoundError
from lakehouse.formats import PARSER_IMPLEMENTATION
from lakehouse.ingest.delta_commit import (
    PartFile,
    append_rows,
    arrow_schema,
    commit_parts,
    committed_names,
    describe_part,
    encode_part,
    open_table,
    part_batch,
    read_rows,
)
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import (
    QUARANTINE_TABLE,
    SUMMARY_DDL,
    WorkerContext,
    make_parser,
    parse_group,
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

log = logging.getLogger(__name__)
DEFAULT_MAX_FILES = 20000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
    spark: SparkSession | None,
    settings: Settings,
    *,
    progress: Progress | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    fail_at: str | None = None,
    lease: Lease | None = None,
    engine: str = "auto",
    writer: str = "delta-rs",
) -> IngestReport:
    """Take every new landed file into bronze; safe to re-run and to kill at any point.

    ``spark``: a session to parse large batches with, or None to start one only when a batch
    needs it. ``engine`` (``auto``, ``local``, ``spark``) says who parses: ``auto`` parses a
    batch below the settings' thresholds (``LAKEHOUSE_INGEST_LOCAL_MAX_FILES``/``_MB``) in local
    processes, with no JVM, and larger ones (backfills) with Spark. ``writer`` is
    ``delta-rs`` (the workers' files committed as they are) or ``spark`` (re-appended through
    Spark: the former path, kept for comparison in benchmarks/bench_ingest.py).
    ``lease``: the lake's lease, held by the caller (who may have waited for it); without
    one, the run takes it itself and fails at once if another run holds it.
    ``fail_at`` names a step at which to stop as if killed (``after_plan``,
    ``after_table:<name>``, ``before_commit``): the tests use it to prove recovery.
    """
    if max_files < 1:
        raise ValueError(f"max_files must be at least 1, got {max_files}")
    if engine not in ENGINES or writer not in WRITERS:
        raise ValueError(f"engine must be one of {ENGINES} and writer one of {WRITERS}")
    require_lake(settings)
    if lease is None:
        from lakehouse.ingest.lease import hold_lease

        with hold_lease(settings, "ingest", say=progress) as own:
            return ingest_landing(
                spark,
                settings,
                progress=progress,
                max_files=max_files,
                fail_at=fail_at,
                lease=own,
                engine=engine,
                writer=writer,
            )
    started = time.monotonic()
    run = _Run(settings, _Session(spark, settings), engine, writer, progress, fail_at, lease)
    lease.check()
    # Parts a killed replay staged are never read (each replay parses again): remove them.
    LakeFiles(settings).remove_tree(staging_root(settings))
    log = _read_log(settings)
    last_batch, open_batch = _log_state(log)
    _remove_orphans(settings, open_batch or last_batch + 1, run.say)
    if open_batch is not None:
        planned = _planned_files(log, open_batch)
        run.say(f"resuming batch {open_batch}: {len(planned)} planned files")
        primaries = [p for p in planned if p.duplicate_of is None]
        parsed = run.parse(open_batch, primaries)
        run.batch(open_batch, planned, parsed)
        log = _read_log(settings)
    batch_id = last_batch
    listed, candidates, changed = _new_files(settings, log, run.report, run.say)
    run.say(f"{listed:,} files in the landing zone, {len(candidates):,} new")
    for start in range(0, len(candidates), max_files):
        chunk = candidates[start : start + max_files]
        batch_id += 1
        run.say(f"batch {batch_id}: parsing {len(chunk)} new files")
        parsed = run.parse(batch_id, chunk, changed)
        planned = _plan(settings, chunk, parsed)
        run.report.files_changed += sum(p.sha != changed.get(p.path, p.sha) for p in planned)
        lease.check()
        _append_log(settings, batch_id, planned, status="planned")
        dups = sum(p.duplicate_of is not None for p in planned)
        run.say(f"batch {batch_id}: {len(planned)} files planned ({dups} duplicates)")
        _maybe_fail(fail_at, "after_plan", parsed)
        run.batch(batch_id, planned, parsed)
    run.report.files_listed = listed
    run.report.seconds = time.monotonic() - started
    return run.report


ENGINES = ("auto", "local", "spark")
WRITERS = ("delta-rs", "spark")


class _Session:
    """The Spark session, started on first use: a small increment never needs one."""

    def __init__(self, spark: SparkSession | None, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings

    def get(self, say: Progress) -> SparkSession:
        if self.spark is None:
            from lakehouse.spark import get_spark

            say("starting Spark")
            self.spark = get_spark(self.settings, app_name="bronze-ingest")
        return self.spark


@dataclass
class _Run:
    """One ingestion run: its settings, engines, progress and report."""

    settings: Settings
    session: _Session
    engine: str
    writer: str
    progress: Progress | None
    fail_at: str | None
    lease: Lease
    report: IngestReport = field(default_factory=IngestReport)

    def say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def local(self, files: list[_Planned]) -> bool:
        """True when the batch is small enough to parse in local processes (no JVM)."""
        if self.engine != "auto":
            return self.engine == "local"
        return fits_local(self.settings, files)

    def parse(
        self, batch_id: int, files: list[_Planned], changed: dict[str, str] | None = None
    ) -> _Parsed:
        options = ParseOptions(self.settings.strict_control_counts, self.settings.xsd_path)
        ctx = _context(self.settings, batch_id, options, changed, direct=True)
        spark = None if self.local(files) else self.session.get(self.say)
        return _parse(ctx, files, self.say, spark)

    def batch(self, batch_id: int, planned: list[_Planned], parsed: _Parsed) -> None:
        spark = self.session.get(self.say) if self.writer == "spark" else None
        _run_batch(self, spark, batch_id, planned, parsed)


def fits_local(settings: Settings, files: list[_Planned]) -> bool:
    """True when the files are few and small enough to parse in local processes (no JVM)."""
    size = sum(f.size for f in files)
    return (
        len(files) <= settings.ingest_local_max_files and size <= settings.ingest_local_max_mb * 1e6
    )


def _maybe_fail(fail_at: str | None, step: str, parsed: _Parsed | None = None) -> None:
    if fail_at == step:
        if parsed is not None:
            parsed.release()
        raise IngestError(f"stopped at {step} (fail_at was set)")


def _delta(spark: SparkSession, settings: Settings, spec: TableSpec) -> DataFrame:
    return spark.read.format("delta").load(settings.table_uri("bronze", spec.name))


_LOG_COLUMNS = [
    "batch_id",
    "source_uri",
    "file_sha256",
    "size_bytes",
    "modified_at",
    "status",
    "duplicate_of",
    "committed_at",
]


def _read_log(settings: Settings) -> list[dict[str, Any]]:
    """The file log's rows (delta-rs, no JVM); a day holds ~12,000 of them.

    Times are read as integers and made datetimes here: pyarrow turns zoned timestamps into
    Python values through pandas, whose import alone costs a run with nothing new ~1 s.
    """
    import pyarrow as pa

    rows = read_rows(settings, FILE_LOG.name, _LOG_COLUMNS)
    times = [i for i, f in enumerate(rows.schema) if pa.types.is_timestamp(f.type)]
    for i in times:
        rows = rows.set_column(i, rows.schema[i].name, rows.column(i).cast(pa.int64()))
    out = rows.to_pylist()
    names = [rows.schema[i].name for i in times]
    for row in out:
        for name in names:
            if row[name] is not None:
                row[name] = _EPOCH + timedelta(microseconds=row[name])
    return out


def _millis(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def _new_files(
    settings: Settings, log: list[dict[str, Any]], report: IngestReport, say: Progress
) -> tuple[int, list[_Planned], dict[str, str]]:
    """(files listed, files to parse, changed paths -> their logged sha256), in path order.

    A file is seen when the log took it (committed or duplicate) with the same path, size and
    modification time; a seen path with another size or time has changed: it is parsed only
    to hash it, and quarantined if its content differs. Skipped entries go to the report.
    """
    listing = scan(
        settings, settings.zone("landing"), settle_seconds=settings.landing_settle_seconds
    )
    report.skipped.extend(listing.skipped)
    for entry in listing.skipped:
        say(f"skipped {entry.path}: {entry.reason}")
    if not listing.files:
        return 0, [], {}
    listed = {f.path for f in listing.files}
    rows = sorted(
        (r for r in log if r["status"] in SEEN_STATUSES and r["source_uri"] in listed),
        key=lambda r: r["committed_at"] or datetime.min.replace(tzinfo=UTC),
    )
    known = {(r["source_uri"], int(r["size_bytes"]), _millis(r["modified_at"])) for r in rows}
    logged_sha = {r["source_uri"]: r["file_sha256"] for r in rows}  # the latest per path
    found: list[_Planned] = []
    changed: dict[str, str] = {}
    for f in listing.files:
        if (f.path, f.size, _millis(f.modified)) in known:
            continue
        found.append(_Planned(f.path, "", f.size, f.modified, None))
        if f.path in logged_sha:
            changed[f.path] = logged_sha[f.path]
            say(f"changed {f.path}: already ingested with another size or time; checking its hash")
    return len(listing.files), found, changed


def staging_root(settings: Settings) -> str:
    """Where replays stage parsed rows; ``_``-prefixed, so table readers never list it."""
    return f"{settings.zone('bronze')}/_staging"


def _context(
    settings: Settings,
    batch_id: int,
    options: ParseOptions,
    changed: dict[str, str] | None = None,
    *,
    direct: bool = False,
) -> WorkerContext:
    schemas = {
        spec.name: arrow_schema(spec, with_ingest=spec.name in BRONZE)
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
        direct=direct,
    )


@dataclass
class _Parsed:
    """A batch parsed once: its parts per table, and per file its hash and rows."""

    parts: dict[str, list[PartFile]]  # table -> parts (data files not committed yet)
    per_file: dict[str, tuple[str, dict[str, int]]]  # path -> (sha256, {table: rows})
    ctx: WorkerContext
    vanished: set[str] = field(default_factory=set)  # files gone before a worker read them
    committed: set[str] = field(default_factory=set)  # tables whose parts are in the table now

    def release(self) -> None:
        """Remove the parts no commit took (all of them, when the batch is abandoned)."""
        files = LakeFiles(self.ctx.settings)
        if not self.ctx.direct:
            files.remove_tree(self.ctx.staging_uri)
            return
        for table, parts in self.parts.items():
            if table not in self.committed:
                for part in parts:
                    files.remove(part.uri)


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


# A batch below this many bytes is parsed in this process: starting worker processes costs
# more than parsing a few small files.
_IN_PROCESS_BYTES = 2 * 2**20


def local_processes() -> int:
    """Worker processes for a local parse: the cores this process may run on."""
    return max(len(os.sched_getaffinity(0)), 1)


def _parse_spark(spark: SparkSession, ctx: WorkerContext, files: list[_Planned], say: Progress):
    """The summary rows of the files parsed by Spark's Python workers (four tasks a core)."""
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
        return summary.toArrow().to_pylist()


def _parse_local(ctx: WorkerContext, files: list[_Planned]) -> list[dict[str, Any]]:
    """The summary rows of the files parsed in local processes (no JVM), two tasks a core.

    Worker processes come from a fork server that has the parsers imported already, so a
    small increment pays a fraction of a second for them, not a JVM start.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from itertools import repeat

    processes = local_processes()
    groups = _balanced_groups(files, 2 * processes)
    if processes == 1 or len(groups) == 1 or sum(f.size for f in files) < _IN_PROCESS_BYTES:
        tables = [parse_group(ctx, group) for group in groups]
    else:
        mp = multiprocessing.get_context("forkserver")
        mp.set_forkserver_preload(["lakehouse.ingest.worker"])
        with ProcessPoolExecutor(min(processes, len(groups)), mp_context=mp) as pool:
            tables = list(pool.map(parse_group, repeat(ctx), groups))
    return [row for table in tables for row in table.to_pylist()]


def _parse(
    ctx: WorkerContext, files: list[_Planned], say: Progress, spark: SparkSession | None = None
) -> _Parsed:
    """Parse the files once, with Spark's Python workers or (``spark`` None) local processes.

    The workers get only the file list (paths, sizes, times), split into cost-balanced
    groups, read the files themselves and return a summary: per file its hash and rows per
    table, and the parts they wrote. Only parts a summary names are ever committed, so the
    leftovers of a failed task attempt are never read (a later run removes them).
    """
    parsed = _Parsed({}, {}, ctx)
    if not files:
        return parsed
    rows = _parse_spark(spark, ctx, files, say) if spark is not None else _parse_local(ctx, files)
    total_rows = 0
    now_ms = int(time.time() * 1000)
    for r in rows:
        if r["part"] is not None:
            part = PartFile(
                r["table"], r["part"], r["part_size"], r["rows"], r["part_stats"], now_ms
            )
            parsed.parts.setdefault(part.table, []).append(part)
            continue
        if r["file_sha256"] is None:
            parsed.vanished.add(r["path"])
            say(f"batch {ctx.batch_id}: {r['path']} vanished before it was read; not ingested")
            continue
        _, tables = parsed.per_file.setdefault(r["path"], (r["file_sha256"], {}))
        if r["table"] is not None:
            tables[r["table"]] = tables.get(r["table"], 0) + int(r["rows"])
            total_rows += int(r["rows"])
    how = "Spark" if spark is not None else "local processes"
    if spark is None:  # the parse processes import the parsers as this one did
        compiled = PARSER_IMPLEMENTATION.startswith("compiled")
        how += ", compiled parser" if compiled else ", pure-Python parser"
        log.info("bronze parse: %s", PARSER_IMPLEMENTATION)
    say(f"batch {ctx.batch_id}: parsed {len(files):,} files into {total_rows:,} rows ({how})")
    return parsed


def _plan(settings: Settings, files: list[_Planned], parsed: _Parsed) -> list[_Planned]:
    """Give each file its hash and mark content already ingested (or repeated) as duplicate."""
    hashed = [(f, parsed.per_file[f.path][0]) for f in files if f.path in parsed.per_file]
    hashes = {sha for _, sha in hashed}
    known: dict[str, str] = {}
    for r in _read_log(settings):
        sha = r["file_sha256"]
        if r["status"] == "committed" and r["duplicate_of"] is None and sha in hashes:
            known[sha] = min(known.get(sha, r["source_uri"]), r["source_uri"])
    planned = []
    for f, sha in hashed:
        # Empty files all share one hash, but each is its own event: each is quarantined.
        original = known.get(sha) if f.size else None
        planned.append(_Planned(f.path, sha, f.size, f.modified, original))
        if original is None and f.size:
            known[sha] = f.path
    return planned


def _append_log(
    settings: Settings,
    batch_id: int,
    planned: list[_Planned],
    *,
    status: str,
    counts: dict[str, tuple[int, int]] | None = None,
    missing: set[str] | None = None,
    txn: str | None = None,
) -> None:
    """Append the batch's plan (``planned``), its commit or its replay, as one transaction.

    The transaction's app id is ``txn``, by default the plan's or the commit's. A replay's
    rows (status ``replayed``) carry no record counts: the quarantine says what it loaded.
    """
    import pyarrow as pa

    now = datetime.now(UTC)
    rows = []
    for p in planned:
        feed_key = feed_key_of(p.path)
        system, feed = feed_key.split("/", 1) if feed_key else (None, None)
        records: int | None = 0
        rejected: int | None = 0
        if status == "replayed":
            records = rejected = None
        elif p.duplicate_of is None:
            records, rejected = (counts or {}).get(p.sha, (0, 0))
        row_status = "duplicate" if (p.duplicate_of and status == "committed") else status
        if status == "committed" and p.path in (missing or set()):
            row_status = "missing"
        rows.append(
            {
                "batch_id": batch_id,
                "source_uri": p.path,
                "file_sha256": p.sha,
                "size_bytes": p.size,
                "modified_at": p.modified,
                "system": system,
                "feed": feed,
                "status": row_status,
                "duplicate_of": p.duplicate_of,
                "records": records,
                "rejected": rejected,
                "committed_at": now if status == "committed" else None,
            }
        )
    table = pa.Table.from_pylist(rows, schema=arrow_schema(FILE_LOG, with_ingest=False))
    txn = txn or (TXN_PLAN if status == "planned" else TXN_COMMIT)
    append_rows(settings, FILE_LOG.name, table, txn, batch_id)


def _append(df: DataFrame, uri: str, app_id: str, version: int) -> None:
    """One Delta append through Spark (replays, and the former ingestion writer).

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


def committed_through(settings: Settings) -> int:
    """The highest batch id up to which every bronze batch is committed (0 on a new lake).

    A batch still open (planned, not committed: an interrupted ingest resumes it) and every
    later one are above it, so whatever reads "batches above N" later still finds them. A lake
    without a file log has no batch: 0, and the caller's own checks name what is missing.
    """
    from deltalake.exceptions import TableNotFoundError as DeltaTableMissing

    try:
        log = read_rows(settings, FILE_LOG.name, ["batch_id", "status"]).to_pylist()
    except DeltaTableMissing:
        return 0
    last, open_batch = _log_state(log)
    return last if open_batch is None else open_batch - 1


def _log_state(log: list[dict[str, Any]]) -> tuple[int, int | None]:
    """(highest batch id, oldest batch planned but never committed) of the file log's rows."""
    done: dict[int, bool] = {}
    for r in log:
        batch = int(r["batch_id"])
        done[batch] = done.get(batch, False) or r["status"] in DONE_STATUSES
    open_batches = [b for b, closed in done.items() if not closed]
    return max(done, default=0), min(open_batches, default=None)


def _planned_files(log: list[dict[str, Any]], batch_id: int) -> list[_Planned]:
    """The files a batch planned, in path order."""
    rows = [r for r in log if r["batch_id"] == batch_id and r["status"] == "planned"]
    return [
        _Planned(
            r["source_uri"],
            r["file_sha256"],
            int(r["size_bytes"]),
            r["modified_at"],
            r["duplicate_of"],
        )
        for r in sorted(rows, key=lambda r: r["source_uri"])
    ]


def _remove_orphans(settings: Settings, from_batch: int, say: Progress) -> None:
    """Remove data files of batches from ``from_batch`` on that no commit took.

    A run killed after its workers wrote a batch's files and before the batch's commit leaves
    them in the table folders, invisible to readers (they are in no add action). The batch
    that was open (planned, not committed) may have committed some tables, and so may a
    replay killed before it logged its batch: only the files the table's snapshot does not
    name are removed. The snapshot is read only for a table that has candidates.
    """
    files = LakeFiles(settings)
    for table in [*BRONZE, QUARANTINE.name]:
        uri = settings.table_uri("bronze", table)
        names = [
            n for n in files.names(uri, prefix="part-b") if (part_batch(n) or -1) >= from_batch
        ]
        if not names:
            continue
        keep = committed_names(open_table(settings, table))
        for name in names:
            if name not in keep:
                files.remove(f"{uri}/{name}")
        say(f"bronze.{table}: removed {len(set(names) - keep)} files no commit took")


def _totals(parsed: _Parsed, skip_paths: set[str]) -> dict[str, int]:
    """Rows per target table, the files in ``skip_paths`` left out."""
    totals: dict[str, int] = {}
    for path, (_, tables) in parsed.per_file.items():
        if path not in skip_paths:
            for table, n in tables.items():
                totals[table] = totals.get(table, 0) + n
    return totals


def _source_column(table: str) -> str:
    return "source_uri" if table == QUARANTINE_TABLE else "_ingest.source_uri"


def _outputs(
    spark: SparkSession, parsed: _Parsed, skip_paths: set[str]
) -> dict[str, tuple[DataFrame, int]]:
    """Per target table: its parts' rows to re-append (duplicates left out) and how many."""
    from pyspark.sql import functions as F

    totals = _totals(parsed, skip_paths)
    outputs: dict[str, tuple[DataFrame, int]] = {}
    for table in sorted(totals):
        spec = BRONZE.get(table, QUARANTINE)
        rows = spark.read.schema(_struct(spec, with_ingest=table in BRONZE)).parquet(
            *[p.uri for p in parsed.parts[table]]
        )
        if skip_paths:
            rows = rows.where(~F.col(_source_column(table)).isin(sorted(skip_paths)))
        outputs[table] = (rows, totals[table])
    return outputs


def _without(parsed: _Parsed, skip_paths: set[str]) -> None:
    """Rewrite the parts that hold rows of skipped files (duplicates) without those rows.

    Duplicates are rare, and known only once every file is hashed; rewriting the few parts
    that hold their rows keeps them out of every committed file.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = {t for path in skip_paths for t in parsed.per_file.get(path, ("", {}))[1]}
    files = LakeFiles(parsed.ctx.settings)
    for table in tables:
        kept: list[PartFile] = []
        for part in parsed.parts.get(table, []):
            rows = pq.read_table(pa_buffer(files.read(part.uri)))
            source = (
                rows.column("source_uri")
                if table == QUARANTINE_TABLE
                else pc.struct_field(rows.column("_ingest"), "source_uri")
            )
            keep = pc.invert(pc.is_in(source, value_set=_string_array(sorted(skip_paths))))
            if pc.all(keep).as_py():
                kept.append(part)
                continue
            rest = rows.filter(keep)
            if rest.num_rows:
                data = encode_part(rest, parsed.ctx.schemas[table])
                uri = parsed.ctx.part_uri(table)
                files.write(uri, data)
                kept.append(describe_part(table, uri, data))
            files.remove(part.uri)
        parsed.parts[table] = kept


def pa_buffer(data: bytes) -> Any:
    """Bytes as an Arrow buffer reader (for Parquet reads of a part already in memory)."""
    import pyarrow as pa

    return pa.BufferReader(data)


def _string_array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())


def _write_tables(
    run: _Run, spark: SparkSession | None, batch_id: int, parsed: _Parsed, skip: set[str]
) -> dict[str, int]:
    """Commit (or, with the Spark writer, re-append) each table's rows; rows per table."""
    totals = _totals(parsed, skip)
    fail_at = run.fail_at
    first = fail_at.split(":", 1)[1] if fail_at and fail_at.startswith("after_table:") else None
    if spark is None:
        _without(parsed, skip)

        def write(table: str) -> None:
            run.lease.check()
            parts = parsed.parts.get(table, [])
            if commit_parts(run.settings, table, parts, TXN_DATA, batch_id):
                parsed.committed.add(table)
                run.say(f"batch {batch_id}: {totals[table]:>9,} rows -> bronze.{table}")
            else:
                run.say(f"batch {batch_id}: bronze.{table} holds this batch already")
    else:
        outputs = _outputs(spark, parsed, skip)

        def write(table: str) -> None:
            run.lease.check()
            _append(outputs[table][0], run.settings.table_uri("bronze", table), TXN_DATA, batch_id)
            run.say(f"batch {batch_id}: {totals[table]:>9,} rows -> bronze.{table} (Spark)")

    # Largest first, so the long writes overlap the many short ones.
    order = sorted(totals, key=lambda t: (t != first, -totals[t], t))
    if first in totals:  # a simulated crash right after this one table was written
        write(first)
        _maybe_fail(fail_at, f"after_table:{first}")
    # Writes to different tables are independent commits: run them side by side so the
    # fixed cost of each overlaps.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, [t for t in order if t != first]))
    return totals


def _run_batch(
    run: _Run, spark: SparkSession | None, batch_id: int, planned: list[_Planned], parsed: _Parsed
) -> None:
    """Write the batch's rows (one commit per table), then commit it in the log.

    A resumed batch commits again to every table: the tables that already recorded the
    batch's transaction are skipped, and the files parsed for them again removed.
    """
    report = run.report
    primaries = [p for p in planned if p.duplicate_of is None]
    skip = {p.path for p in planned if p.duplicate_of is not None} | (
        set(parsed.per_file) - {p.path for p in planned}
    )
    report.batches.append(batch_id)
    report.files_duplicate += len(planned) - len(primaries)
    try:
        totals = _write_tables(run, spark, batch_id, parsed, skip)
        for table, total in totals.items():
            if table == QUARANTINE_TABLE:
                report.rejected += total
            else:
                report.records[table] = report.records.get(table, 0) + total
    finally:
        parsed.release()
    _maybe_fail(run.fail_at, "before_commit")
    counts = {}
    for p in primaries:
        tables = parsed.per_file.get(p.path, ("", {}))[1]
        rejected = tables.get(QUARANTINE_TABLE, 0)
        counts[p.sha] = (sum(tables.values()) - rejected, rejected)
    run.lease.check()
    missing = parsed.vanished & {p.path for p in planned}
    _append_log(run.settings, batch_id, planned, status="committed", counts=counts, missing=missing)
    report.files_missing += len(missing)
    report.files_ingested += len(primaries) - len(missing)
    report.bytes_read += sum(p.size for p in primaries)
    dups = len(planned) - len(primaries)
    run.say(f"batch {batch_id}: committed {len(primaries)} files, {dups} duplicates")
