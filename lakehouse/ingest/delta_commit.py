"""Bronze's Delta writes without a JVM: workers' Parquet files committed with delta-rs.

Why: re-appending a batch's parsed rows through Spark reads and rewrites every row (about 45
CPU-s for a simulated day) only to produce files the workers had already written. Instead the
workers write each table's rows as final Parquet data files inside the table's folder, with
the Delta statistics read from their own footers, and the driver commits them with one delta-rs
transaction per table: a commit of a day's tables takes a fraction of a second.

Rules that keep delta-rs and delta-spark compatible on the same tables (bronze is written by
the ingestion alone; Spark writes silver and gold):

- Every commit carries the batch as an application transaction (``txnAppId``/``txnVersion``,
  the same actions delta-spark writes). delta-rs does not skip a commit whose version the table
  already recorded, so :func:`commit_parts` and :func:`append_rows` check it first, the way
  delta-spark does, and a resumed batch is recognised from the log alone.
- No checkpoint and no log clean-up after a commit (:func:`without_checkpoint`): a delta-rs
  checkpoint leaves the stale Hadoop ``._last_checkpoint.crc`` a Spark checkpoint wrote beside
  ``_last_checkpoint`` on local disks, which costs every later Spark load a checksum failure
  and a ~3 s retry. Nightly compaction (:mod:`lakehouse.ingest.compact`) checkpoints and
  trims the logs, and removes that checksum.
- No deletion vectors on bronze: delta-rs counts and Arrow reads are wrong with them.
- Statistics are what delta-spark would accept as bounds: strings cut to 32 characters for
  the minimum and left out of the maximum when longer (a cut maximum would be too small, and
  readers would skip rows silently); timestamps in milliseconds, the minimum rounded down and
  the maximum up. Only the table's ``delta.dataSkippingStatsColumns`` get statistics.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.settings import Settings
from lakehouse.tables import INGEST_STRUCT, STATS_COLUMNS, TableSpec, split_ddl

if TYPE_CHECKING:
    from deltalake import DeltaTable

# Delta's default string prefix for statistics (``delta.dataSkippingStringPrefixLength``).
STRING_PREFIX = 32
# Data files of a batch are named ``part-b<batch, 12 digits>-<uuid>.parquet``: the batch in the
# name is how a resumed run finds the files a killed run wrote but never committed.
_PART_RE = re.compile(r"^part-b(\d{12})-[0-9a-f]{32}\.parquet$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- schemas ---------------------------------------------------------------------------------


def arrow_schema(spec: TableSpec, with_ingest: bool) -> pa.Schema:
    """The Arrow schema Spark gives the table (``to_arrow_schema``), built without a JVM."""
    ddl = spec.columns_ddl + (f", _ingest {INGEST_STRUCT}" if with_ingest else "")
    fields = []
    for column in split_ddl(ddl):
        name, kind = column.split(None, 1)
        fields.append(pa.field(name, arrow_type(kind)))
    return pa.schema(fields)


def arrow_type(ddl: str) -> pa.DataType:
    """One Spark DDL type as Arrow: lists of ``element``, maps of string keys, UTC micros."""
    text = ddl.strip()
    lower = text.lower()
    if lower.startswith("array<"):
        return pa.list_(pa.field("element", arrow_type(text[6:-1])))
    if lower.startswith("map<"):
        key, value = split_ddl(text[4:-1])
        return pa.map_(arrow_type(key), arrow_type(value))
    if lower.startswith("struct<"):
        parts = [part.split(":", 1) for part in split_ddl(text[7:-1])]
        return pa.struct([pa.field(name.strip(), arrow_type(kind)) for name, kind in parts])
    if lower.startswith("decimal"):
        precision, _, scale = lower[lower.index("(") + 1 : -1].partition(",")
        return pa.decimal128(int(precision), int(scale or 0))
    simple = {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if lower not in simple:
        raise ValueError(f"no Arrow type for DDL type {ddl!r}")
    return simple[lower]


# -- data files and their statistics ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartFile:
    """A data file written into a table's folder, not yet committed: what its add action says."""

    table: str
    uri: str  # full URI (file:/... or s3a://...)
    size: int
    rows: int
    stats: str  # Delta statistics JSON
    modified_ms: int

    @property
    def name(self) -> str:
        """The path relative to the table folder (data files sit at its top level)."""
        return self.uri.rsplit("/", 1)[1]


def part_uri(table_uri: str, batch_id: int) -> str:
    """A new data file's URI in the table folder, named after its batch."""
    return f"{table_uri}/part-b{batch_id:012d}-{uuid.uuid4().hex}.parquet"


def part_batch(name: str) -> int | None:
    """The batch a data file was written for (from its name), or None for other files."""
    match = _PART_RE.match(name)
    return int(match[1]) if match else None


def file_stats(metadata: pq.FileMetaData, columns: tuple[str, ...]) -> str:
    """Delta statistics JSON of one Parquet file, for the named (dotted) columns."""
    rows = metadata.num_rows
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    index = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    for column in columns:
        if column not in index:
            continue
        low, high, null_count = _column_bounds(metadata, index[column])
        if null_count is None:
            continue
        _put(nulls, column, null_count)
        if low is not None:
            _put(mins, column, low)
        if high is not None:
            _put(maxs, column, high)
    return json.dumps(
        {"numRecords": rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[leaf] = value


def _column_bounds(metadata: pq.FileMetaData, i: int) -> tuple[Any, Any, int | None]:
    """(min, max, null count) of column ``i`` over every row group, as Delta writes them.

    (None, None, None) when a row group has no statistics at all: nothing is claimed then.
    """
    column = metadata.schema.column(i)
    low = high = None
    nulls = 0
    bounded = True
    for g in range(metadata.num_row_groups):
        stats = metadata.row_group(g).column(i).statistics
        if stats is None or not stats.has_null_count:
            return None, None, None
        nulls += stats.null_count
        if stats.num_values == 0:  # only nulls in this row group
            continue
        if not stats.has_min_max:
            bounded = False
            continue
        lo, hi = stats.min_raw, stats.max_raw
        low = lo if low is None else min(low, lo)
        high = hi if high is None else max(high, hi)
    if not bounded or low is None:
        return None, None, nulls
    return _json_min(column, low), _json_max(column, high), nulls


def _json_min(column: pq.ColumnSchema, raw: Any) -> Any:
    logical = str(column.logical_type)
    if isinstance(raw, bytes):
        return raw.decode("utf-8")[:STRING_PREFIX]
    if logical.startswith("Timestamp"):
        return _timestamp_text(_micros(raw, logical) // 1000)
    if logical == "Date":
        return (_EPOCH.date() + timedelta(days=raw)).isoformat()
    return _number(raw)


def _json_max(column: pq.ColumnSchema, raw: Any) -> Any:
    logical = str(column.logical_type)
    if isinstance(raw, bytes):
        text = raw.decode("utf-8")
        return text if len(text) <= STRING_PREFIX else None
    if logical.startswith("Timestamp"):
        return _timestamp_text(-(-_micros(raw, logical) // 1000))
    if logical == "Date":
        return (_EPOCH.date() + timedelta(days=raw)).isoformat()
    return _number(raw)


def _micros(raw: int, logical: str) -> int:
    if "milliseconds" in logical:
        return raw * 1000
    if "nanoseconds" in logical:
        return raw // 1000
    return raw


def _timestamp_text(millis: int) -> str:
    value = _EPOCH + timedelta(milliseconds=millis)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _number(raw: Any) -> Any:
    if isinstance(raw, float) and not math.isfinite(raw):
        return None  # NaN or infinity: no bound JSON can carry
    return raw


def encode_part(rows: pa.Table | pa.RecordBatch, schema: pa.Schema) -> bytes:
    """Rows as one Parquet file's bytes (row groups of up to 128k rows, Snappy)."""
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, compression="snappy") as writer:
        if isinstance(rows, pa.RecordBatch):
            writer.write_batch(rows, row_group_size=128 * 1024)
        else:
            writer.write_table(rows, row_group_size=128 * 1024)
    return sink.getvalue().to_pybytes()


def describe_part(table: str, uri: str, data: bytes) -> PartFile:
    """The add-action facts of a data file from its bytes (its footer gives the statistics)."""
    metadata = pq.read_metadata(pa.BufferReader(data))
    return PartFile(
        table,
        uri,
        len(data),
        metadata.num_rows,
        file_stats(metadata, STATS_COLUMNS.get(table, ())),
        int(time.time() * 1000),
    )


# -- the Delta log ---------------------------------------------------------------------------


def delta_uri(uri: str) -> str:
    """A table URI as delta-rs spells it (``s3://`` for ``s3a://``, a path for ``file:``)."""
    if uri.startswith("s3a://"):
        return "s3://" + uri[len("s3a://") :]
    if uri.startswith("file:"):
        return "/" + uri[len("file:") :].lstrip("/")
    return uri


def storage_options(settings: Settings) -> dict[str, str]:
    """delta-rs options for the lake: the reader's, plus how commits are made safe on S3.

    delta-rs commits a new log entry with a conditional PUT (``If-None-Match``), which
    S3-compatible stores such as S3Proxy honour; the lake's lease keeps a single writer.
    """
    from lakehouse.reader import LakeReader

    options = LakeReader(settings).storage_options()
    if settings.is_s3:
        options["conditional_put"] = "etag"
    return options


def open_table(settings: Settings, name: str) -> DeltaTable:
    """The bronze table's latest snapshot."""
    from deltalake import DeltaTable

    return DeltaTable(
        delta_uri(settings.table_uri("bronze", name)), storage_options=storage_options(settings)
    )


def recorded(dt: DeltaTable, app_id: str, version: int) -> bool:
    """True when the table already holds ``app_id`` at ``version`` or later (delta-spark's rule)."""
    done = dt.transaction_version(app_id)
    return done is not None and done >= version


def without_checkpoint() -> dict[str, Any]:
    """Commit options of every bronze write: no checkpoint, no log clean-up after it.

    Both happen once a night in :mod:`lakehouse.ingest.compact`, where the stale Hadoop
    checksum they leave beside ``_last_checkpoint`` is removed.
    """
    from deltalake import PostCommitHookProperties

    return {
        "post_commithook_properties": PostCommitHookProperties(
            create_checkpoint=False, cleanup_expired_logs=False
        )
    }


def _commit_args(app_id: str, version: int) -> dict[str, Any]:
    from deltalake import CommitProperties, Transaction

    return {
        "commit_properties": CommitProperties(
            app_transactions=[Transaction(app_id, version)], max_commit_retries=10
        ),
        **without_checkpoint(),
    }


def commit_parts(
    settings: Settings, table: str, parts: list[PartFile], app_id: str, version: int
) -> bool:
    """Add the data files to the table in one transaction; False if it holds the version."""
    from deltalake.transaction import AddAction, RemoveAction

    dt = open_table(settings, table)
    if recorded(dt, app_id, version):
        return False
    adds: list[AddAction | RemoveAction] = [
        AddAction(p.name, p.size, {}, p.modified_ms, True, p.stats) for p in parts
    ]
    dt.create_write_transaction(adds, "append", dt.schema(), **_commit_args(app_id, version))
    return True


def append_rows(settings: Settings, table: str, rows: pa.Table, app_id: str, version: int) -> bool:
    """Append the rows as one transaction; False if the table already holds the version."""
    from deltalake import write_deltalake

    dt = open_table(settings, table)
    if recorded(dt, app_id, version):
        return False
    write_deltalake(dt, rows, mode="append", **_commit_args(app_id, version))
    return True


def read_rows(
    settings: Settings, table: str, columns: list[str], where: str | None = None
) -> pa.Table:
    """The table's rows (the named columns) as Arrow, through delta-rs's SQL engine.

    Not ``to_pyarrow_table``: it goes through ``pyarrow.dataset``, whose import (pandas with
    it) alone costs more than a run that finds nothing new may take. ``where`` is a
    DataFusion SQL condition over the table ``t``.
    """
    select = ", ".join(quote_name(c) for c in columns)
    return query(settings, table, f"SELECT {select} FROM t" + (f" WHERE {where}" if where else ""))


def query(settings: Settings, table: str, sql: str) -> pa.Table:
    """The answer of one DataFusion SQL query over the bronze table, registered as ``t``."""
    from deltalake import QueryBuilder

    batches = QueryBuilder().register("t", open_table(settings, table)).execute(sql)
    return pa.RecordBatchReader.from_stream(batches).read_all()


def quote_name(name: str) -> str:
    """A column name quoted for DataFusion SQL."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(text: str) -> str:
    """A string literal for DataFusion SQL (standard quoting: ``'`` doubled)."""
    return "'" + text.replace("'", "''") + "'"


def committed_names(dt: DeltaTable) -> set[str]:
    """Paths (relative to the table) of the data files in the table's snapshot."""
    adds = dt.get_add_actions(flatten=True)
    return set(adds.column("path").to_pylist()) if adds.num_rows else set()
