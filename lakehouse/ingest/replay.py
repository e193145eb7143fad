"""Replay the quarantine: after a fix, load what now passes, exactly once, and mark it.

A record is quarantined because of a setting (strict control counts, an XSD) or a parser
defect. Once the setting is relaxed or the parser fixed, ``lakehouse quarantine replay``
re-parses the originals and loads the messages that now pass:

1. **Select** the pending quarantine rows (``replayed_at`` null) by feed, code or batch.
2. **Parse** their landed files again, with the bronze workers and today's settings (the
   landed file is the original as sent; it is read only if its hash is still the one the
   quarantine recorded). Files are not checked against the file log's hashes: a file's own
   content must not block its replay.
3. **Load** into each bronze table the records of the quarantined messages (all of a file's
   messages after a whole-file ``PARSER_ERROR``) that the table does not hold yet, keyed by
   (source file, message index): one Delta append per table, tagged with the replay's batch
   as an application transaction.
4. **Record** the replay in the file log (status ``replayed``, which also reserves its batch
   id), then **mark** every pending row whose message is now in bronze with ``replayed_at``
   and the batch that loaded it (a Delta MERGE).

Re-running adds nothing: loaded messages are filtered out in step 3, and a run killed
between steps 3 and 4 is finished by the next one, which marks what the first loaded.
Messages that still fail stay pending with their original reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lakehouse.errors import IngestError
from lakehouse.ingest import bronze
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import E_CHANGED, E_PARSER_BUG, QUARANTINE_TABLE
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles
from lakehouse.tables import BRONZE, FILE_LOG, QUARANTINE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse.ingest.lease import Lease

TXN_REPLAY = "lakehouse.bronze.replay"
# Codes a re-parse cannot clear: new content under an ingested name must be landed anew.
NOT_REPLAYABLE = (E_CHANGED,)


@dataclass
class ReplayReport:
    """What one replay did."""

    batch_id: int | None = None
    pending: int = 0
    files: int = 0
    records: dict[str, int] = field(default_factory=dict)
    marked: int = 0
    still_rejected: int = 0
    skipped: list[str] = field(default_factory=list)  # files not re-read, with the reason

    @property
    def total_records(self) -> int:
        """Records loaded into bronze tables by this replay."""
        return sum(self.records.values())


@dataclass(frozen=True)
class ReplayFilter:
    """Which pending quarantine rows to replay; ``feed`` is ``system/feed`` or a feed name."""

    feed: str | None = None
    code: str | None = None
    batch: int | None = None

    def where(self) -> str:
        """The filter as a Spark SQL condition over the quarantine table."""
        conds = ["replayed_at IS NULL"]
        if self.feed:
            system, _, name = self.feed.rpartition("/")
            conds.append(
                f"feed = {_sql(name)}" + (f" AND system = {_sql(system)}" if system else "")
            )
        if self.code:
            conds.append(f"error_code = {_sql(self.code.upper())}")
        if self.batch is not None:
            conds.append(f"batch_id = {int(self.batch)}")
        return " AND ".join(conds)


def _sql(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def replay_quarantine(
    spark: SparkSession,
    settings: Settings,
    lease: Lease,
    which: ReplayFilter = ReplayFilter(),
    say: bronze.Progress | None = None,
) -> ReplayReport:
    """Re-parse the selected quarantined originals and load what now passes (module doc)."""
    say = say or (lambda _msg: None)
    bronze.require_lake(settings)
    lease.check()
    report = ReplayReport()
    last_batch, open_batch = bronze._log_state(bronze._read_log(settings))
    if open_batch is not None:
        raise IngestError(
            f"ingest batch {open_batch} is not committed yet: run `lakehouse ingest` first"
        )
    pending = _pending(spark, settings, which)
    report.pending = len(pending)
    say(f"{len(pending):,} pending quarantine rows match")
    if not pending:
        return report
    files = _files_to_reparse(spark, settings, pending, report, say)
    batch_id = last_batch + 1
    ctx = bronze._context(settings, batch_id, _options(settings))
    parsed = bronze._parse(ctx, files, say, spark)
    try:
        _load(spark, settings, parsed, _wanted(spark, pending, files), batch_id, lease, report, say)
        report.files = len(files)
        if files:
            report.batch_id = batch_id
            _log_replay(spark, settings, batch_id, files, lease)
        report.marked = _mark(spark, settings, which, parsed, batch_id, lease)
    finally:
        parsed.release()
    report.still_rejected = report.pending - report.marked
    say(
        f"replay {batch_id}: {report.marked:,} quarantine rows replayed, "
        f"{report.still_rejected:,} still rejected"
    )
    return report


def _options(settings: Settings) -> ParseOptions:
    return ParseOptions(settings.strict_control_counts, settings.xsd_path)


def _pending(spark: SparkSession, settings: Settings, which: ReplayFilter) -> list:
    q = bronze._delta(spark, settings, QUARANTINE).where(which.where())
    return q.select("source_uri", "file_sha256", "message_index", "error_code").collect()


def _files_to_reparse(
    spark: SparkSession,
    settings: Settings,
    pending: list,
    report: ReplayReport,
    say: bronze.Progress,
) -> list[bronze._Planned]:
    """The landed files to parse again: present, unchanged since quarantined, replayable.

    Each keeps the modification time the file log recorded, so a replayed record gets the
    same ``received_at`` as the original ingestion would have given it.
    """
    from pyspark.sql import functions as F

    reader = LakeFiles(settings)
    modified = {
        r.source_uri: r.modified_at
        for r in bronze._delta(spark, settings, FILE_LOG)
        .where(F.col("source_uri").isin(sorted({r.source_uri for r in pending})))
        .select("source_uri", "modified_at")
        .collect()
    }
    files: dict[str, bronze._Planned] = {}
    decided: set[str] = set()
    for row in pending:
        uri = row.source_uri
        if uri in decided:
            continue
        decided.add(uri)
        why, size = _unreplayable(reader, row)
        if why:
            report.skipped.append(f"{uri}: {why}")
            say(f"not replayed {uri}: {why}")
            continue
        when = modified.get(uri) or datetime.now(UTC)
        files[uri] = bronze._Planned(uri, row.file_sha256, size, when, None)
    return sorted(files.values(), key=lambda f: f.path)


def _unreplayable(reader: LakeFiles, row) -> tuple[str | None, int]:
    """(why the row's file cannot be re-parsed, or None; the file's size)."""
    if row.error_code in NOT_REPLAYABLE:
        return f"{row.error_code} rows are not replayed: land the new content under a new name", 0
    try:
        data = reader.read(row.source_uri)
    except FileNotFoundError:
        return "the landed file is gone", 0
    if hashlib.sha256(data).hexdigest() != row.file_sha256:
        return "the landed file changed since it was quarantined", 0
    return None, len(data)


def _wanted(spark: SparkSession, pending: list, files: list[bronze._Planned]) -> DataFrame:
    """(source_uri, message_index or null = every message of the file) that may load now."""
    taken = {f.path for f in files}
    rows = {
        (r.source_uri, None if r.error_code == E_PARSER_BUG else r.message_index)
        for r in pending
        if r.source_uri in taken
    }
    return spark.createDataFrame(sorted(rows, key=str), "source_uri string, message_index int")


def _loaded(spark: SparkSession, settings: Settings, table: str) -> DataFrame:
    """(source_uri, message_index, batch_id) of every record the bronze table holds."""
    return bronze._delta(spark, settings, BRONZE[table]).select(
        "_ingest.source_uri", "_ingest.message_index", "_ingest.batch_id"
    )


def _load(
    spark: SparkSession,
    settings: Settings,
    parsed: bronze._Parsed,
    wanted: DataFrame,
    batch_id: int,
    lease: Lease,
    report: ReplayReport,
    say: bronze.Progress,
) -> None:
    """Append, per bronze table, the re-parsed records wanted and not loaded yet."""
    from pyspark.sql import functions as F

    for table, parts in sorted(parsed.parts.items()):
        if table == QUARANTINE_TABLE:
            continue
        spec = BRONZE[table]
        rows = spark.read.schema(bronze._struct(spec, with_ingest=True)).parquet(
            *[p.uri for p in parts]
        )
        keyed = rows.withColumn("_uri", F.col("_ingest.source_uri")).withColumn(
            "_idx", F.col("_ingest.message_index")
        )
        whole = wanted.where(F.col("message_index").isNull()).select(
            F.col("source_uri").alias("_uri")
        )
        some = wanted.where(F.col("message_index").isNotNull()).select(
            F.col("source_uri").alias("_uri"), F.col("message_index").alias("_idx")
        )
        chosen = keyed.join(some, ["_uri", "_idx"], "left_semi").unionByName(
            keyed.join(whole, ["_uri"], "left_semi")
        )
        loaded = _loaded(spark, settings, table).select(
            F.col("source_uri").alias("_uri"), F.col("message_index").alias("_idx")
        )
        fresh = chosen.join(loaded, ["_uri", "_idx"], "left_anti").dropDuplicates(["_uri", "_idx"])
        out = fresh.drop("_uri", "_idx").cache()
        n = out.count()
        if n:
            lease.check()
            bronze._append(out, settings.table_uri("bronze", table), TXN_REPLAY, batch_id)
            report.records[table] = n
            say(f"replay {batch_id}: {n:,} records -> bronze.{table}")
        out.unpersist()


def _log_replay(
    spark: SparkSession,
    settings: Settings,
    batch_id: int,
    files: list[bronze._Planned],
    lease: Lease,
) -> None:
    """One ``replayed`` file-log row per re-parsed file; it also reserves the batch id."""
    now = datetime.now(UTC)
    rows = []
    for f in files:
        system, _, feed = (bronze.feed_key_of(f.path) or "/").partition("/")
        where = (f.path, f.sha, f.size, f.modified, system or None, feed or None)
        rows.append((batch_id, *where, "replayed", None, None, None, now))
    df = spark.createDataFrame(rows, bronze._struct(FILE_LOG, with_ingest=False))
    lease.check()
    bronze._append(df, settings.table_uri("bronze", FILE_LOG.name), TXN_REPLAY, batch_id)


def _mark(
    spark: SparkSession,
    settings: Settings,
    which: ReplayFilter,
    parsed: bronze._Parsed,
    batch_id: int,
    lease: Lease,
) -> int:
    """Mark the selected pending rows whose message is in bronze now; how many were marked.

    A whole-file ``PARSER_ERROR`` row is marked once its file parses without one.
    """
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    loaded = None
    for table in BRONZE:
        part = _loaded(spark, settings, table)
        loaded = part if loaded is None else loaded.unionByName(part)
    pending = bronze._delta(spark, settings, QUARANTINE).where(which.where())
    by_message = (
        pending.where(F.col("error_code") != E_PARSER_BUG)
        .select("source_uri", "message_index")
        .join(loaded, ["source_uri", "message_index"])
        .groupBy("source_uri", "message_index")
        .agg(F.min("batch_id").alias("replay_batch_id"))
        .withColumn("error_code", F.lit(None).cast("string"))
    )
    fixed_files = _files_without_parser_error(spark, parsed)
    by_file = (
        pending.where(F.col("error_code") == E_PARSER_BUG)
        .select("source_uri", "message_index")
        .join(fixed_files, "source_uri", "left_semi")
        .distinct()
        .withColumn("replay_batch_id", F.lit(batch_id).cast("bigint"))
        .withColumn("error_code", F.lit(E_PARSER_BUG))
    )
    source = by_message.unionByName(by_file).cache()
    count = source.count()
    if count:
        lease.check()
        target = DeltaTable.forPath(spark, settings.table_uri("bronze", QUARANTINE.name))
        cond = (
            "q.source_uri = s.source_uri AND q.message_index = s.message_index"
            " AND q.replayed_at IS NULL AND (s.error_code IS NULL AND q.error_code != '"
            f"{E_PARSER_BUG}' OR q.error_code = s.error_code)"
        )
        (
            target.alias("q")
            .merge(source.alias("s"), cond)
            .whenMatchedUpdate(
                set={"replayed_at": "current_timestamp()", "replay_batch_id": "s.replay_batch_id"}
            )
            .execute()
        )
    source.unpersist()
    return int(count)


def _files_without_parser_error(spark: SparkSession, parsed: bronze._Parsed) -> DataFrame:
    """The re-parsed files whose new parse raised no parser error."""
    from pyspark.sql import functions as F

    files = spark.createDataFrame([(p,) for p in sorted(parsed.per_file)], "source_uri string")
    parts = parsed.parts.get(QUARANTINE_TABLE)
    if not parts:
        return files
    failing = (
        spark.read.schema(bronze._struct(QUARANTINE, with_ingest=False))
        .parquet(*[p.uri for p in parts])
        .where(F.col("error_code") == E_PARSER_BUG)
        .select("source_uri")
    )
    return files.join(failing, "source_uri", "left_anti")
