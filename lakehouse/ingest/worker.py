"""The Python side of bronze ingestion: landed files in, staged Parquet parts out.

Runs inside Spark's Python workers (``DataFrame.mapInArrow``), or in a local process pool for
small increments (:func:`parse_group`), and reads the same way from ``file://`` and ``s3a://``.
Each task writes, per target table, Parquet parts with exactly the table's schema and returns
only a small summary: per file its sha256 and rows per table, and per part its size and Delta
statistics. For ingestion the parts are final data files inside the table's folder, which the
driver commits as they are (:mod:`lakehouse.ingest.delta_commit`); a replay stages them below
its batch's staging folder instead. The records never cross into the JVM as rows of a wide
all-tables schema (which cost ~2.5 GB of mostly null columns for a simulated day). A record
that parses but cannot be stored in its column types (a value out
of range) is not dropped: it is quarantined with the reason.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.abc
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.formats.base import E_EMPTY, E_UNSUPPORTED, ParsedColumns, ParsedRecord, Rejected
from lakehouse.ingest.conform import conform
from lakehouse.ingest.delta_commit import PartFile, describe_part, encode_part, part_uri
from lakehouse.ingest.dispatch import PARSER_VERSION, ParseOptions, parse_landed_file, raw_text
from lakehouse.landing import day_folder_problem, feed_key_of
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles

QUARANTINE_TABLE = "quarantine"
E_PARSER_BUG = "PARSER_ERROR"  # the parser raised: a defect on our side, the file is kept whole
E_CHANGED = "CHANGED"  # a path already ingested came back with other content: not re-ingested

_STAMP_RE = re.compile(r"_(\d{8}T\d{6})_[0-9a-f]{6,}\.[A-Za-z0-9]+$")
_FLUSH_ROWS = 4096
_PART_BYTES = 128 * 2**20


def received_at_of(path: str, modified: datetime | None) -> datetime | None:
    """Receipt time from the conventional file name (set by NiFi), else the file's mtime."""
    match = _STAMP_RE.search(path)
    if match:
        return datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return modified


@dataclass(frozen=True)
class WorkerContext:
    """What every worker needs: table schemas, parser options, the batch and where to stage.

    ``schemas`` holds each target table's Arrow schema, the same columns as its Delta table
    (bronze tables end with ``_ingest``; the quarantine has none).
    """

    schemas: dict[str, pa.Schema]
    options: ParseOptions
    batch_id: int
    ingested_at: datetime
    settings: Settings  # how workers reach the lake's storage (S3 endpoint and keys)
    staging_uri: str  # the batch's staging folder: parts go to <staging_uri>/<table>/
    part_bytes: int = _PART_BYTES  # a part is stored once its rows' Arrow bytes pass this
    # Paths already ingested that came back with another size or time -> their logged sha256:
    # new content under an ingested name is quarantined (CHANGED), never loaded a second time.
    changed: dict[str, str] = field(default_factory=dict)
    # True: parts are final data files in the table folders, named after the batch, for the
    # driver to commit as they are (delta-rs); False: parts go below ``staging_uri``.
    direct: bool = False

    def part_uri(self, table: str) -> str:
        """Where the next part of ``table`` goes."""
        if self.direct:
            return part_uri(self.settings.table_uri("bronze", table), self.batch_id)
        return f"{self.staging_uri}/{table}/part-{uuid.uuid4().hex}.parquet"

    def record_type(self, table: str) -> pa.StructType:
        """The struct type of one record of ``table`` (its columns without ``_ingest``)."""
        return pa.struct([f for f in self.schemas[table] if f.name != "_ingest"])

    @property
    def ingest_type(self) -> pa.StructType:
        """The ``_ingest`` struct type (the same in every bronze table)."""
        for table, schema in self.schemas.items():
            if table != QUARANTINE_TABLE:
                return schema.field("_ingest").type
        raise ValueError("no bronze table in the worker context")


# What each task returns: one row per (file, table) with the file's row count there (a file
# with no rows at all has one row with table null), and one row per staged part. A file that
# vanished before its worker read it has one row with a null file_sha256.
# A part's row also carries its size and Delta statistics, for the add action that commits it.
SUMMARY_DDL = (
    "path string, file_sha256 string, table string, rows bigint, part string,"
    " part_size bigint, part_stats string"
)
SUMMARY_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("file_sha256", pa.string()),
        ("table", pa.string()),
        ("rows", pa.int64()),
        ("part", pa.string()),
        ("part_size", pa.int64()),
        ("part_stats", pa.string()),
    ]
)


class _Buffer:
    """Rows of one output table, flushed as a record batch when large enough.

    The ``_ingest`` values are the same for every row of a file but the message index, so
    the buffer keeps each file's base once and per row only its file and message index.
    """

    def __init__(self) -> None:
        self.bases: list[dict[str, Any]] = []
        self.base_of: list[int] = []
        self.message_index: list[int] = []
        self.rows: list[dict[str, Any]] = []

    def add(self, base: dict[str, Any], message_index: int, row: dict[str, Any]) -> None:
        if not self.bases or self.bases[-1] is not base:
            self.bases.append(base)
        self.base_of.append(len(self.bases) - 1)
        self.message_index.append(message_index)
        self.rows.append(row)


def make_parser(
    ctx: WorkerContext,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function handed to ``mapInArrow`` over a listing (``path``, ``modificationTime``).

    Each worker reads its files straight from storage and writes its staged parts back to
    it: neither the landed bytes nor the parsed records pass through the JVM. What it
    returns is the summary (``SUMMARY_SCHEMA``).
    """

    def parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        files = LakeFiles(ctx.settings)
        parts = _Parts(ctx, files)
        buffers: dict[str, _Buffer] = {}
        hashes: dict[str, str] = {}
        with _collector_paused() as collector:
            for batch in batches:
                paths = batch.column("path").to_pylist()
                mtimes = batch.column("modificationTime").to_pylist()
                for i, path in enumerate(paths):
                    try:
                        data = files.read(path)
                    except FileNotFoundError:  # removed since the listing: the driver says so
                        parts.vanished.append(path)
                        continue
                    ready: list[tuple[str, pa.RecordBatch]] = []
                    hashes[path] = _parse_one(ctx, path, data, mtimes[i], buffers, ready)
                    for table, rows in ready:
                        parts.add(table, rows)
                    for table, buf in list(buffers.items()):
                        if len(buf.rows) >= _FLUSH_ROWS:
                            parts.add_rows(table, buf)
                            buffers[table] = _Buffer()
                    collector.parsed(len(data))
            for table, buf in buffers.items():
                if buf.rows:
                    parts.add_rows(table, buf)
            summary = parts.finish(hashes)
        yield summary

    return parse_batches


class _Parts:
    """One task's output: Parquet parts per table, and rows per file and table.

    A table's rows are gathered as Arrow batches and written as one file (row groups of up
    to 128k rows) once they pass ``part_bytes``, which bounds a worker's memory however large
    the batch; the file is stored whole (an S3 PUT, or a local write and rename), so a reader
    never meets a partial part. Its footer gives the statistics of its add action.
    """

    def __init__(self, ctx: WorkerContext, files: LakeFiles) -> None:
        self.ctx = ctx
        self.files = files
        self.pending: dict[str, list[pa.RecordBatch]] = {}
        self.pending_bytes: dict[str, int] = {}
        self.stored: list[PartFile] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.vanished: list[str] = []

    def add(self, table: str, rows: pa.RecordBatch) -> None:
        """Keep the rows (in the table's schema) and count them per source file."""
        if rows.num_rows == 0:
            return
        self.pending.setdefault(table, []).append(rows)
        self.pending_bytes[table] = self.pending_bytes.get(table, 0) + rows.nbytes
        source = (
            rows.column("source_uri")
            if table == QUARANTINE_TABLE
            else rows.column("_ingest").field("source_uri")
        )
        for entry in pc.value_counts(source).to_pylist():
            key = (entry["values"], table)
            self.counts[key] = self.counts.get(key, 0) + entry["counts"]
        if self.pending_bytes[table] >= self.ctx.part_bytes:
            self._store(table)

    def add_rows(self, table: str, buf: _Buffer) -> None:
        """Stage a buffer's row outcomes (rows that do not fit go to the quarantine)."""
        for out_table, rows in _flush(self.ctx, table, buf):
            self.add(out_table, rows)

    def _store(self, table: str) -> None:
        batches = self.pending.pop(table)
        self.pending_bytes.pop(table)
        schema = self.ctx.schemas[table]
        data = encode_part(pa.Table.from_batches(batches, schema=schema), schema)
        uri = self.ctx.part_uri(table)
        self.files.write(uri, data)
        self.stored.append(describe_part(table, uri, data))

    def finish(self, hashes: dict[str, str]) -> pa.RecordBatch:
        """Store the open parts; the summary of this task's files and parts."""
        for table in list(self.pending):
            self._store(table)
        rows: list[dict[str, Any]] = [
            {
                "table": p.table,
                "rows": p.rows,
                "part": p.uri,
                "part_size": p.size,
                "part_stats": p.stats,
            }
            for p in self.stored
        ]
        rows += [
            {"path": path, "file_sha256": hashes[path], "table": table, "rows": n}
            for (path, table), n in self.counts.items()
        ]
        with_rows = {path for path, _ in self.counts}
        rows += [
            {"path": path, "file_sha256": sha, "rows": 0}
            for path, sha in hashes.items()
            if path not in with_rows
        ]
        rows += [{"path": path, "rows": 0} for path in self.vanished]
        return pa.RecordBatch.from_pylist(rows, schema=SUMMARY_SCHEMA)


def parse_group(ctx: WorkerContext, group: list[tuple[str, int, datetime]]) -> pa.Table:
    """Parse one group of files (path, size, modified) in this process: the summary rows.

    The local twin of a Spark task: a process pool runs it when a batch is small enough to
    need no JVM.
    """
    with _pandas_held_back():
        listing = pa.RecordBatch.from_pydict(
            {
                "path": [path for path, _, _ in group],
                "modificationTime": pa.array(
                    [modified for _, _, modified in group], pa.timestamp("us", tz="UTC")
                ),
            }
        )
        return pa.Table.from_batches(list(make_parser(ctx)(iter([listing]))), SUMMARY_SCHEMA)


class _HoldBackPandas(importlib.abc.MetaPathFinder):
    """An import finder that answers "not installed" for pandas."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError("pandas is held back while parsing", name=fullname)


@contextmanager
def _pandas_held_back() -> Iterator[None]:
    """Keep pyarrow from importing pandas while a local parse runs.

    ``pa.array`` of a Python list first asks whether the list is a pandas object, and that
    question imports pandas when it is installed: 0.57 CPU-s, a fifth of a 100-file
    increment's parse, for a library the parse never uses. While held back, pyarrow takes
    pandas as absent; afterwards it imports it again for whoever asks for it explicitly
    (``to_pandas``, ``Table.from_pandas``). Nothing changes once pandas is imported.
    """
    if "pandas" in sys.modules:
        yield
        return
    finder = _HoldBackPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


# Bytes of landed input parsed between two runs of the cyclic garbage collector in a task.
_GC_EVERY_BYTES = 64 * 2**20


class _Collector:
    """Runs the cyclic garbage collector once per ``every`` bytes of parsed input."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.since = 0

    def parsed(self, size: int) -> None:
        """Count a parsed file's bytes; collect cycles once the budget is spent."""
        self.since += size
        if self.since >= self.every:
            self.since = 0
            gc.collect()


@contextmanager
def _collector_paused(every: int = _GC_EVERY_BYTES) -> Iterator[_Collector]:
    """Pause the automatic cyclic garbage collector for a whole parse task.

    Why: parsing allocates hundreds of thousands of dicts and lists that stay alive until the
    rows are flushed, and every automatic collection walks all of them (and every object the
    imports made) again. Pausing it only while each file was parsed still let a collection
    run after every file: about a fifth of the worker CPU for the 10,000 one-declaration XML
    files of a simulated day. The parsers make next to no reference cycles (whole tasks of a
    simulated day left 6-10 cyclic objects each; reference counting frees everything else), so
    the collector runs once per ``every`` bytes of input instead, which still bounds what a
    cycle-making input could hold, and is switched back on as it was when the task ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield _Collector(every)
    finally:
        if enabled:
            gc.enable()


def _parse_one(
    ctx: WorkerContext,
    path: str,
    data: bytes,
    mtime: datetime | None,
    buffers: dict[str, _Buffer],
    ready: list[tuple[str, pa.RecordBatch]],
) -> str:
    """Parse one file into ``buffers`` (row outcomes) and ``ready`` (column batches).

    Returns the file's sha256.
    """
    sha = hashlib.sha256(data).hexdigest()
    feed_key = feed_key_of(path)
    system, feed = feed_key.split("/", 1) if feed_key else (None, None)
    base = {
        "source_uri": path,
        "file_sha256": sha,
        "system": system,
        "feed": feed,
        "received_at": received_at_of(path, _utc(mtime)),
        "ingested_at": ctx.ingested_at,
        "parser_version": PARSER_VERSION,
        "batch_id": ctx.batch_id,
    }
    refused = _refusal(ctx, path, sha, data)
    if refused is not None:
        _add_rejected(buffers, base, refused)
        return sha
    seen = 0
    try:
        for outcome in parse_landed_file(data, path, feed_key, ctx.options):
            if isinstance(outcome, ParsedColumns):
                seen += len(outcome.message_indexes)
                ready.append((outcome.table, _columns_batch(ctx, base, outcome)))
                continue
            seen += 1
            if isinstance(outcome, ParsedRecord):
                buf = buffers.get(outcome.table)
                if buf is None:  # (setdefault would build a buffer per record to drop it)
                    buf = buffers[outcome.table] = _Buffer()
                buf.add(base, outcome.message_index, outcome.record)
            else:
                _add_rejected(buffers, base, outcome)
    except Exception as exc:  # a parser defect must not lose the file: quarantine it whole
        _add_rejected(
            buffers,
            base,
            Rejected(
                0,
                raw_text(data),
                E_PARSER_BUG,
                f"the parser failed on this file ({type(exc).__name__}: {exc}); "
                f"{seen} outcomes came before the failure and are kept",
            ),
        )
        return sha
    if seen == 0:
        _add_rejected(
            buffers, base, Rejected(0, raw_text(data), E_EMPTY, "the file holds no message")
        )
    return sha


def _refusal(ctx: WorkerContext, path: str, sha: str, data: bytes) -> Rejected | None:
    """The whole file's rejection when it must not be parsed at all, else None."""
    previous = ctx.changed.get(path)
    if previous is not None and previous != sha:
        return Rejected(
            0,
            raw_text(data),
            E_CHANGED,
            f"this path was already ingested with content sha256 {previous}; it now holds "
            f"other content (sha256 {sha}). Landed files are immutable: land the new content "
            "under a new name (it is kept here, not loaded)",
            field="file_sha256",
            value=sha,
            rule="immutable-landed-file",
        )
    day = day_folder_problem(path)
    if day is not None:
        return Rejected(
            0,
            raw_text(data),
            E_UNSUPPORTED,
            f"file is outside the landing-zone convention: {day}; move it to "
            "landing/<system>/<feed>/<yyyy-mm-dd>/",
            field="path",
            value=path,
            rule="landing-day-folder",
        )
    return None


def _add_rejected(buffers: dict[str, _Buffer], base: dict[str, Any], rej: Rejected) -> None:
    buffers.setdefault(QUARANTINE_TABLE, _Buffer()).add(
        base,
        rej.message_index,
        {
            "source_uri": base["source_uri"],
            "file_sha256": base["file_sha256"],
            "system": base["system"],
            "feed": base["feed"],
            "message_index": rej.message_index,
            "message_type": rej.message_type,
            "error_code": rej.error_code,
            "reason": rej.reason,
            "field": rej.field,
            "value": rej.value,
            "rule": rej.rule,
            "raw_payload": rej.raw,
            "parser_version": PARSER_VERSION,
            "batch_id": base["batch_id"],
            "quarantined_at": base["ingested_at"],
        },
    )


def _columns_batch(ctx: WorkerContext, base: dict[str, Any], out: ParsedColumns) -> pa.RecordBatch:
    typ = ctx.record_type(out.table)
    values = out.records if out.records.type == typ else out.records.cast(typ)
    ingest = _ingest_array(ctx, [base], [0] * len(values), out.message_indexes)
    return _batch(ctx, out.table, ingest, values)


def _ingest_array(
    ctx: WorkerContext,
    bases: list[dict[str, Any]],
    base_of: list[int],
    message_index: list[int],
) -> pa.StructArray:
    """The ``_ingest`` column: per-file values repeated by index, plus the message index."""
    typ = ctx.ingest_type
    per_file = pa.array(bases, type=typ)
    take = pa.array(base_of, type=pa.int32())
    children = [
        pa.array(message_index, type=f.type)
        if f.name == "message_index"
        else per_file.field(j).take(take)
        for j, f in enumerate(typ)
    ]
    return pa.StructArray.from_arrays(children, fields=list(typ))


def _flush(ctx: WorkerContext, table: str, buf: _Buffer) -> Iterator[tuple[str, pa.RecordBatch]]:
    try:
        values = pa.array(buf.rows, type=ctx.record_type(table))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
        yield from _flush_one_by_one(ctx, table, buf)
        return
    ingest = _ingest_array(ctx, buf.bases, buf.base_of, buf.message_index)
    yield table, _batch(ctx, table, ingest, values)


def _flush_one_by_one(
    ctx: WorkerContext, table: str, buf: _Buffer
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Slow path after a conversion error: fit each row to its columns (see ``conform``).

    A value Arrow refuses (too many decimals, out of range) is fitted, flagged and its
    literal kept, so the record still loads; a row that cannot be stored even then (a parser
    defect) goes to the quarantine with the reason, and the rows beside it load.
    """
    typ = ctx.record_type(table)
    good = _Buffer()
    rejected: dict[str, _Buffer] = {}
    for i, row in enumerate(buf.rows):
        base, message_index = buf.bases[buf.base_of[i]], buf.message_index[i]
        fitted = conform(row, typ)
        try:
            pa.array([fitted], type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError) as exc:
            _add_rejected(
                rejected,
                base,
                Rejected(
                    message_index,
                    json.dumps(row, default=str, ensure_ascii=False),
                    E_PARSER_BUG,
                    f"the parsed record does not fit bronze table {table!r} even after "
                    f"fitting its values ({exc}); the landed file keeps the original",
                    row.get("message_type"),
                    rule="column-type",
                ),
            )
            continue
        good.add(base, message_index, fitted)
    if good.rows:
        ingest = _ingest_array(ctx, good.bases, good.base_of, good.message_index)
        yield table, _batch(ctx, table, ingest, pa.array(good.rows, type=typ))
    for qtable, qbuf in rejected.items():
        yield from _flush(ctx, qtable, qbuf)


def _batch(
    ctx: WorkerContext, table: str, ingest: pa.StructArray, values: pa.StructArray
) -> pa.RecordBatch:
    """The rows as the table stores them: the record's columns, then ``_ingest`` (bronze)."""
    columns = values.flatten()
    if table != QUARANTINE_TABLE:
        columns.append(ingest)
    return pa.RecordBatch.from_arrays(columns, schema=ctx.schemas[table])


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
