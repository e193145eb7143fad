"""The Python side of bronze ingestion: landed files in, Arrow record batches out.

Runs inside Spark's Python workers (``DataFrame.mapInArrow``), so parsing scales with the
cluster and reads the same way from ``file://`` and ``s3a://``. One output row is one parsed
record or one quarantine entry; the row's ``_table`` column says where it goes and exactly
one of the per-table struct columns is filled. A record that parses but cannot be stored in
its column types (a value out of range) is not dropped: it is quarantined with the reason.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from lakehouse.formats.base import E_EMPTY, E_MAPPING, ParsedColumns, ParsedRecord, Rejected
from lakehouse.ingest.dispatch import PARSER_VERSION, ParseOptions, parse_landed_file, raw_text
from lakehouse.landing import feed_key_of
from lakehouse.settings import Settings
from lakehouse.storage import LakeReader

QUARANTINE_TABLE = "quarantine"
E_PARSER_BUG = "PARSER_ERROR"  # the parser raised: a defect on our side, the file is kept whole

_STAMP_RE = re.compile(r"_(\d{8}T\d{6})_[0-9a-f]{6,}\.[A-Za-z0-9]+$")
_FLUSH_ROWS = 4096


def column_name(table: str) -> str:
    """The struct column that carries a table's records in the worker output."""
    return f"t_{table}"


def received_at_of(path: str, modified: datetime | None) -> datetime | None:
    """Receipt time from the conventional file name (set by NiFi), else the file's mtime."""
    match = _STAMP_RE.search(path)
    if match:
        return datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return modified


@dataclass(frozen=True)
class WorkerContext:
    """What every worker needs: the output schema, parser options and the batch identity."""

    schema: pa.Schema
    tables: tuple[str, ...]
    options: ParseOptions
    batch_id: int
    ingested_at: datetime
    settings: Settings  # how workers reach the lake's storage (S3 endpoint and keys)


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

    Each worker reads its files straight from storage: the bytes never pass through the JVM.
    """

    def parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        buffers: dict[str, _Buffer] = {}
        reader = LakeReader(ctx.settings)
        for batch in batches:
            paths = batch.column("path").to_pylist()
            mtimes = batch.column("modificationTime").to_pylist()
            for i, path in enumerate(paths):
                data = reader.read(path)
                ready: list[pa.RecordBatch] = []
                with _no_gc():
                    _parse_one(ctx, path, data, mtimes[i], buffers, ready)
                yield from ready
                for table, buf in list(buffers.items()):
                    if len(buf.rows) >= _FLUSH_ROWS:
                        yield from _flush(ctx, table, buf)
                        buffers[table] = _Buffer()
        for table, buf in buffers.items():
            if buf.rows:
                yield from _flush(ctx, table, buf)

    return parse_batches


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while one file is parsed.

    Parsing allocates hundreds of thousands of dicts and lists that stay alive until the
    batch is flushed; each automatic collection walks all of them again, which cost ~20% of
    parse time. The parsers build few reference cycles, and the collector resumes after each
    file, so memory is bounded by one file's garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_one(
    ctx: WorkerContext,
    path: str,
    data: bytes,
    mtime: datetime | None,
    buffers: dict[str, _Buffer],
    ready: list[pa.RecordBatch],
) -> None:
    """Parse one file into ``buffers`` (row outcomes) and ``ready`` (column batches)."""
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
    seen = 0
    try:
        for outcome in parse_landed_file(data, path, feed_key, ctx.options):
            if isinstance(outcome, ParsedColumns):
                seen += len(outcome.message_indexes)
                ready.append(_columns_batch(ctx, base, outcome))
                continue
            seen += 1
            if isinstance(outcome, ParsedRecord):
                buffers.setdefault(outcome.table, _Buffer()).add(
                    base, outcome.message_index, outcome.record
                )
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
        return
    if seen == 0:
        _add_rejected(
            buffers, base, Rejected(0, raw_text(data), E_EMPTY, "the file holds no message")
        )


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
            "raw_payload": rej.raw,
            "parser_version": PARSER_VERSION,
            "batch_id": base["batch_id"],
            "quarantined_at": base["ingested_at"],
        },
    )


def _columns_batch(ctx: WorkerContext, base: dict[str, Any], out: ParsedColumns) -> pa.RecordBatch:
    typ = ctx.schema.field(column_name(out.table)).type
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
    typ = ctx.schema.field("_ingest").type
    per_file = pa.array(bases, type=typ)
    take = pa.array(base_of, type=pa.int32())
    children = [
        pa.array(message_index, type=f.type)
        if f.name == "message_index"
        else per_file.field(j).take(take)
        for j, f in enumerate(typ)
    ]
    return pa.StructArray.from_arrays(children, fields=list(typ))


def _flush(ctx: WorkerContext, table: str, buf: _Buffer) -> Iterator[pa.RecordBatch]:
    col = column_name(table)
    typ = ctx.schema.field(col).type
    try:
        values = pa.array(buf.rows, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
        yield from _flush_one_by_one(ctx, table, buf)
        return
    yield _batch(ctx, table, _ingest_array(ctx, buf.bases, buf.base_of, buf.message_index), values)


def _flush_one_by_one(ctx: WorkerContext, table: str, buf: _Buffer) -> Iterator[pa.RecordBatch]:
    """Slow path after a conversion error: keep the good rows, quarantine the bad ones."""
    typ = ctx.schema.field(column_name(table)).type
    good = _Buffer()
    rejected: dict[str, _Buffer] = {}
    for i, row in enumerate(buf.rows):
        base, message_index = buf.bases[buf.base_of[i]], buf.message_index[i]
        try:
            pa.array([row], type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError) as exc:
            _add_rejected(
                rejected,
                base,
                Rejected(
                    message_index,
                    json.dumps(row, default=str, ensure_ascii=False),
                    E_MAPPING,
                    f"a value does not fit bronze table {table!r}: {exc}",
                    row.get("message_type"),
                ),
            )
            continue
        good.add(base, message_index, row)
    if good.rows:
        ingest = _ingest_array(ctx, good.bases, good.base_of, good.message_index)
        yield _batch(ctx, table, ingest, pa.array(good.rows, type=typ))
    for qtable, qbuf in rejected.items():
        yield from _flush(ctx, qtable, qbuf)


def _batch(
    ctx: WorkerContext, table: str, ingest: pa.StructArray, values: pa.Array
) -> pa.RecordBatch:
    n = len(values)
    target = column_name(table)
    arrays = []
    for field in ctx.schema:
        if field.name == "_table":
            arrays.append(pa.array([table] * n, type=field.type))
        elif field.name == "_ingest":
            arrays.append(ingest)
        elif field.name == target:
            arrays.append(values)
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=ctx.schema)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
