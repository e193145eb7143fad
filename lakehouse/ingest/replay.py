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
   (source file, message index): the kept rows are written as data files in the table's
   folder and committed with delta-rs, one transaction per table tagged with the replay's
   batch as an application transaction (like the ingestion's commits).
4. **Record** the replay in the file log (status ``replayed``, which also reserves its batch
   id), then **mark** every pending row whose message is now in bronze with ``replayed_at``
   and the batch that loaded it: a delta-rs MERGE into the quarantine.

Bronze has one writer, the ingestion, and a replay is part of it: it holds the lake's lease,
writes with delta-rs and starts no JVM unless the files to re-parse pass the local-parse
thresholds (then Spark's Python workers parse them, as for a backfill).

Re-running adds nothing: loaded messages are filtered out in step 3, and a run killed
between steps 3 and 4 is finished by the next one, which marks what the first loaded. A run
killed after writing a table's data files and before committing them leaves files no
snapshot names; the next replay or ingestion removes them. Messages that still fail stay
pending with their original reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakehouse.errors import IngestError
from lakehouse.ingest import bronze
from lakehouse.ingest.delta_commit import (
    PartFile,
    commit_parts,
    describe_part,
    encode_part,
    open_table,
    part_uri,
    query,
    read_rows,
    sql_text,
    without_checkpoint,
)
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import E_CHANGED, E_PARSER_BUG, QUARANTINE_TABLE
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles
from lakehouse.tables import BRONZE, QUARANTINE

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

    from lakehouse.ingest.lease import Lease

TXN_REPLAY = "lakehouse.bronze.replay"
# Codes a re-parse cannot clear: new content under an ingested name must be landed anew.
NOT_REPLAYABLE = (E_CHANGED,)
# Source files per ``IN (...)`` list when looking up which messages a table holds.
_URIS_PER_QUERY = 500

Key = tuple[str, int]  # (source file, message index)


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
        """The filter as a SQL condition over the quarantine table (DataFusion SQL)."""
        conds = ["replayed_at IS NULL"]
        if self.feed:
            system, _, name = self.feed.rpartition("/")
            conds.append(
                f"feed = {sql_text(name)}" + (f" AND system = {sql_text(system)}" if system else "")
            )
        if self.code:
            conds.append(f"error_code = {sql_text(self.code.upper())}")
        if self.batch is not None:
            conds.append(f"batch_id = {int(self.batch)}")
        return " AND ".join(conds)


@dataclass(frozen=True)
class _Pending:
    """One pending quarantine row: what the replay needs of it."""

    source_uri: str
    file_sha256: str
    message_index: int
    error_code: str


def replay_quarantine(
    spark: SparkSession | None,
    settings: Settings,
    lease: Lease,
    which: ReplayFilter = ReplayFilter(),
    say: bronze.Progress | None = None,
) -> ReplayReport:
    """Re-parse the selected quarantined originals and load what now passes (module doc).

    ``spark``: a session for a replay too large to parse locally, or None to start one only
    then; a replay of a few files never starts a JVM.
    """
    say = say or (lambda _msg: None)
    bronze.require_lake(settings)
    lease.check()
    report = ReplayReport()
    log = bronze._read_log(settings)
    last_batch, open_batch = bronze._log_state(log)
    if open_batch is not None:
        raise IngestError(
            f"ingest batch {open_batch} is not committed yet: run `lakehouse ingest` first"
        )
    pending = _pending(settings, which)
    report.pending = len(pending)
    say(f"{len(pending):,} pending quarantine rows match")
    if not pending:
        return report
    batch_id = last_batch + 1
    bronze._remove_orphans(settings, batch_id, say)  # files a killed replay never committed
    files = _files_to_reparse(settings, log, pending, report, say)
    ctx = bronze._context(settings, batch_id, _options(settings))
    engine = None if bronze.fits_local(settings, files) else bronze._Session(spark, settings)
    parsed = bronze._parse(ctx, files, say, engine.get(say) if engine else None)
    try:
        _load(settings, parsed, _wanted(pending, files), batch_id, lease, report, say)
        report.files = len(files)
        if files:
            report.batch_id = batch_id
            lease.check()
            bronze._append_log(settings, batch_id, files, status="replayed", txn=TXN_REPLAY)
        report.marked = _mark(settings, pending, parsed, batch_id, lease)
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


def _pending(settings: Settings, which: ReplayFilter) -> list[_Pending]:
    columns = ["source_uri", "file_sha256", "message_index", "error_code"]
    rows = read_rows(settings, QUARANTINE.name, columns, which.where()).to_pylist()
    return [_Pending(**r) for r in rows]


def _files_to_reparse(
    settings: Settings,
    log: list[dict[str, Any]],
    pending: list[_Pending],
    report: ReplayReport,
    say: bronze.Progress,
) -> list[bronze._Planned]:
    """The landed files to parse again: present, unchanged since quarantined, replayable.

    Each keeps the modification time the file log recorded, so a replayed record gets the
    same ``received_at`` as the original ingestion would have given it.
    """
    uris = {r.source_uri for r in pending}
    modified = {r["source_uri"]: r["modified_at"] for r in log if r["source_uri"] in uris}
    reader = LakeFiles(settings)
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


def _unreplayable(reader: LakeFiles, row: _Pending) -> tuple[str | None, int]:
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


@dataclass(frozen=True)
class _Wanted:
    """The messages that may load now: whole files (after a parser error), or single ones."""

    whole: frozenset[str]
    some: frozenset[Key]

    def __contains__(self, key: Key) -> bool:
        return key[0] in self.whole or key in self.some


def _wanted(pending: list[_Pending], files: list[bronze._Planned]) -> _Wanted:
    taken = {f.path for f in files}
    rows = [r for r in pending if r.source_uri in taken]
    return _Wanted(
        frozenset(r.source_uri for r in rows if r.error_code == E_PARSER_BUG),
        frozenset((r.source_uri, r.message_index) for r in rows if r.error_code != E_PARSER_BUG),
    )


def _loaded(settings: Settings, table: str, uris: Iterable[str]) -> Iterator[dict[str, Any]]:
    """(source_uri, message_index, batch_id) of the table's records from these source files."""
    ordered = sorted(set(uris))
    field_of = {name: f"\"_ingest\"['{name}']" for name in ("source_uri", "message_index")}
    for start in range(0, len(ordered), _URIS_PER_QUERY):
        chosen = ", ".join(sql_text(u) for u in ordered[start : start + _URIS_PER_QUERY])
        sql = (
            f"SELECT {field_of['source_uri']} AS source_uri,"
            f" {field_of['message_index']} AS message_index,"
            " \"_ingest\"['batch_id'] AS batch_id"
            f" FROM t WHERE {field_of['source_uri']} IN ({chosen})"
        )
        yield from query(settings, table, sql).to_pylist()


def _load(
    settings: Settings,
    parsed: bronze._Parsed,
    wanted: _Wanted,
    batch_id: int,
    lease: Lease,
    report: ReplayReport,
    say: bronze.Progress,
) -> None:
    """Commit, per bronze table, the re-parsed records wanted and not loaded yet."""
    uris = wanted.whole | {uri for uri, _ in wanted.some}
    for table, parts in sorted(parsed.parts.items()):
        if table == QUARANTINE_TABLE:
            continue
        taken = {(r["source_uri"], r["message_index"]) for r in _loaded(settings, table, uris)}
        written = [
            p
            for p in (_kept_part(parsed, table, part, wanted, taken, batch_id) for part in parts)
            if p is not None
        ]
        if not written:
            continue
        lease.check()
        if commit_parts(settings, table, written, TXN_REPLAY, batch_id):
            report.records[table] = sum(p.rows for p in written)
            say(f"replay {batch_id}: {report.records[table]:,} records -> bronze.{table}")
        else:  # a replay killed before logging its batch committed this table already
            files = LakeFiles(settings)
            for part in written:
                files.remove(part.uri)


def _kept_part(
    parsed: bronze._Parsed,
    table: str,
    part: PartFile,
    wanted: _Wanted,
    taken: set[Key],
    batch_id: int,
) -> PartFile | None:
    """The staged part's wanted, new rows written as a data file in the table's folder.

    ``taken`` grows by the rows kept, so a message found twice is loaded once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = LakeFiles(parsed.ctx.settings)
    rows = pq.read_table(pa.BufferReader(files.read(part.uri)))
    ingest = rows.column("_ingest")
    keys = zip(
        pc.struct_field(ingest, "source_uri").to_pylist(),
        pc.struct_field(ingest, "message_index").to_pylist(),
        strict=True,
    )
    keep = []
    for key in keys:
        fresh = key in wanted and key not in taken
        if fresh:
            taken.add(key)
        keep.append(fresh)
    chosen: pa.Table = rows.filter(pa.array(keep, pa.bool_()))
    if not chosen.num_rows:
        return None
    data = encode_part(chosen, parsed.ctx.schemas[table])
    uri = part_uri(parsed.ctx.settings.table_uri("bronze", table), batch_id)
    files.write(uri, data)
    return describe_part(table, uri, data)


def _mark(
    settings: Settings,
    pending: list[_Pending],
    parsed: bronze._Parsed,
    batch_id: int,
    lease: Lease,
) -> int:
    """Mark the selected pending rows whose message is in bronze now; how many were marked.

    A whole-file ``PARSER_ERROR`` row is marked once its file parses without one. One
    delta-rs MERGE into the quarantine; a row already marked is never matched again, so a
    second run marks nothing twice.
    """
    source = _marks(settings, pending, parsed, batch_id)
    if not source.num_rows:
        return 0
    lease.check()
    cond = (
        "q.source_uri = s.source_uri AND q.message_index = s.message_index"
        " AND q.replayed_at IS NULL AND ((s.error_code IS NULL AND q.error_code <> "
        f"'{E_PARSER_BUG}') OR q.error_code = s.error_code)"
    )
    metrics = (
        open_table(settings, QUARANTINE.name)
        .merge(source, cond, source_alias="s", target_alias="q", **without_checkpoint())
        .when_matched_update(
            updates={"replayed_at": "s.replayed_at", "replay_batch_id": "s.replay_batch_id"}
        )
        .execute()
    )
    return int(metrics["num_target_rows_updated"])


def _marks(
    settings: Settings, pending: list[_Pending], parsed: bronze._Parsed, batch_id: int
) -> pa.Table:
    """The MERGE's source: (source_uri, message_index, replay_batch_id, error_code, when)."""
    import pyarrow as pa

    messages = [r for r in pending if r.error_code != E_PARSER_BUG]
    first: dict[Key, int] = {}
    for table in BRONZE:
        for hit in _loaded(settings, table, {m.source_uri for m in messages}):
            key = (hit["source_uri"], hit["message_index"])
            first[key] = min(first.get(key, hit["batch_id"]), hit["batch_id"])
    # (source file, message index, code: None for "any but PARSER_ERROR") -> replay batch
    rows: dict[tuple[str, int, str | None], int] = {
        (*key, None): first[key]
        for m in messages
        if (key := (m.source_uri, m.message_index)) in first
    }
    fixed = _files_without_parser_error(parsed)
    for r in pending:
        if r.error_code == E_PARSER_BUG and r.source_uri in fixed:
            rows[(r.source_uri, r.message_index, E_PARSER_BUG)] = batch_id
    now = datetime.now(UTC)
    ordered = sorted(rows.items(), key=lambda item: (item[0][:2], item[0][2] or ""))
    return pa.table(
        {
            "source_uri": pa.array([k[0] for k, _ in ordered], pa.string()),
            "message_index": pa.array([k[1] for k, _ in ordered], pa.int32()),
            "replay_batch_id": pa.array([v for _, v in ordered], pa.int64()),
            "error_code": pa.array([k[2] for k, _ in ordered], pa.string()),
            "replayed_at": pa.array([now] * len(ordered), pa.timestamp("us", tz="UTC")),
        }
    )


def _files_without_parser_error(parsed: bronze._Parsed) -> set[str]:
    """The re-parsed files whose new parse raised no parser error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = LakeFiles(parsed.ctx.settings)
    failing: set[str] = set()
    for part in parsed.parts.get(QUARANTINE_TABLE, []):
        rows = pq.read_table(
            pa.BufferReader(files.read(part.uri)), columns=["source_uri", "error_code"]
        )
        failing |= {r["source_uri"] for r in rows.to_pylist() if r["error_code"] == E_PARSER_BUG}
    return set(parsed.per_file) - failing
