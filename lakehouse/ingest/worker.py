"""The Python side of bronze ingestion: landed files in, Arrow record batches out.

Runs inside Spark's Python workers (``DataFrame.mapInArrow``), so parsing scales with the
cluster and reads the same way from ``file://`` and ``s3a://``. One output row is one parsed
record or one quarantine entry; the row's ``_table`` column says where it goes and exactly
one of the per-table struct columns is filled. A record that parses but cannot be stored in
its column types (a value out of range) is not dropped: it is quarantined with the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from lakehouse.formats.base import E_EMPTY, E_MAPPING, ParsedRecord, Rejected
from lakehouse.ingest.dispatch import PARSER_VERSION, ParseOptions, parse_landed_file, raw_text
from lakehouse.landing import feed_key_of

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


class _Buffer:
    """Rows of one output table, flushed as a record batch when large enough."""

    def __init__(self) -> None:
        self.ingest: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []


def make_parser(
    ctx: WorkerContext,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function handed to ``mapInArrow`` over a ``binaryFile`` DataFrame."""

    def parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        buffers: dict[str, _Buffer] = {}
        for batch in batches:
            paths = batch.column("path").to_pylist()
            contents = batch.column("content")
            mtimes = batch.column("modificationTime").to_pylist()
            for i, path in enumerate(paths):
                data = contents[i].as_py() or b""
                _parse_one(ctx, path, data, mtimes[i], buffers)
                for table, buf in list(buffers.items()):
                    if len(buf.rows) >= _FLUSH_ROWS:
                        yield from _flush(ctx, table, buf)
                        buffers[table] = _Buffer()
        for table, buf in buffers.items():
            if buf.rows:
                yield from _flush(ctx, table, buf)

    return parse_batches


def _parse_one(
    ctx: WorkerContext, path: str, data: bytes, mtime: datetime | None, buffers: dict[str, _Buffer]
) -> None:
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
            seen += 1
            if isinstance(outcome, ParsedRecord):
                _add(
                    buffers,
                    outcome.table,
                    {**base, "message_index": outcome.message_index},
                    outcome.record,
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


def _add(
    buffers: dict[str, _Buffer], table: str, ingest: dict[str, Any], row: dict[str, Any]
) -> None:
    buf = buffers.setdefault(table, _Buffer())
    buf.ingest.append(ingest)
    buf.rows.append(row)


def _add_rejected(buffers: dict[str, _Buffer], base: dict[str, Any], rej: Rejected) -> None:
    _add(
        buffers,
        QUARANTINE_TABLE,
        {**base, "message_index": rej.message_index},
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


def _flush(ctx: WorkerContext, table: str, buf: _Buffer) -> Iterator[pa.RecordBatch]:
    col = column_name(table)
    typ = ctx.schema.field(col).type
    try:
        values = pa.array(buf.rows, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
        yield from _flush_one_by_one(ctx, table, buf)
        return
    yield _batch(ctx, table, buf.ingest, values)


def _flush_one_by_one(ctx: WorkerContext, table: str, buf: _Buffer) -> Iterator[pa.RecordBatch]:
    """Slow path after a conversion error: keep the good rows, quarantine the bad ones."""
    typ = ctx.schema.field(column_name(table)).type
    good_ingest, good_rows = [], []
    rejected: dict[str, _Buffer] = {}
    for ingest, row in zip(buf.ingest, buf.rows, strict=True):
        try:
            pa.array([row], type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError) as exc:
            _add_rejected(
                rejected,
                ingest,
                Rejected(
                    ingest["message_index"],
                    json.dumps(row, default=str, ensure_ascii=False),
                    E_MAPPING,
                    f"a value does not fit bronze table {table!r}: {exc}",
                    row.get("message_type"),
                ),
            )
            continue
        good_ingest.append(ingest)
        good_rows.append(row)
    if good_rows:
        yield _batch(ctx, table, good_ingest, pa.array(good_rows, type=typ))
    for qtable, qbuf in rejected.items():
        yield from _flush(ctx, qtable, qbuf)


def _batch(
    ctx: WorkerContext, table: str, ingest: list[dict[str, Any]], values: pa.Array
) -> pa.RecordBatch:
    n = len(values)
    target = column_name(table)
    arrays = []
    for field in ctx.schema:
        if field.name == "_table":
            arrays.append(pa.array([table] * n, type=field.type))
        elif field.name == "_ingest":
            arrays.append(pa.array(ingest, type=field.type))
        elif field.name == target:
            arrays.append(values)
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=ctx.schema)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
