"""Read lake tables without a JVM: delta-rs (``deltalake``) plus its DataFusion SQL engine.

Why not Spark: a look at a table (``lakehouse show``, ``lakehouse tables``, the quarantine
list) should answer in well under a second, and a Spark session takes ~20 s to start here.
delta-rs reads the same Delta log and Parquet files on ``file://`` and on S3.

Reads only. Bronze is written by the ingestion (Spark) alone (docs: one writing engine per
zone). Tables with deletion vectors are read through SQL, whose counts are right, not through
``DeltaTable.count()`` (which over-counts them).

Predicates (``where``) are SQL expressions parsed by DataFusion (``QueryBuilder``), not by
hand-written code; column names are checked against the table's schema first so a typo gets
the list of real columns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakehouse.errors import (
    LakehouseError,
    QueryError,
    TableNotFoundError,
    UnknownTableError,
    storage_context,
    translate,
)
from lakehouse.settings import Settings
from lakehouse.tables import BRONZE, FILE_LOG, QUARANTINE

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

ZONES = ("bronze", "silver", "gold")
REGISTERED = [f"{spec.zone}.{spec.name}" for spec in (*BRONZE.values(), QUARANTINE, FILE_LOG)]


@dataclass(frozen=True, slots=True)
class TableInfo:
    """What ``lakehouse tables`` shows of one table (``rows`` etc. are None if not written)."""

    table: str
    uri: str
    exists: bool
    rows: int | None = None
    size_bytes: int | None = None
    files: int | None = None
    last_write: datetime | None = None
    version: int | None = None


class LakeReader:
    """Tables of one lake by ``zone.name``, opened with delta-rs (no JVM)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = storage_context(settings.lake_root, settings.s3.endpoint)

    # -- naming -----------------------------------------------------------------------------

    def uri(self, table: str) -> str:
        """The table's URI as delta-rs spells it (``s3://`` for ``s3a://``)."""
        zone, name = self.split(table)
        uri = self.settings.table_uri(zone, name)
        return "s3://" + uri[len("s3a://") :] if uri.startswith("s3a://") else uri

    def split(self, table: str) -> tuple[str, str]:
        """``bronze.x`` -> (``bronze``, ``x``); a bare bronze name is accepted too."""
        zone, dot, name = table.partition(".")
        if not dot:
            zone, name = "bronze", table
        if zone not in ZONES or not name or "/" in name or name.startswith(("_", ".")):
            raise UnknownTableError(table=table, known=", ".join(REGISTERED))
        return zone, name

    def tables(self) -> list[str]:
        """Every table of the lake: the registry's, and any other Delta table in a zone."""
        found = set(REGISTERED)
        for zone in ZONES:
            found.update(f"{zone}.{name}" for name in self._delta_folders(zone))
        return sorted(found, key=lambda t: (ZONES.index(t.split(".")[0]), t))

    def _delta_folders(self, zone: str) -> list[str]:
        """Sub-folders of a zone that hold a ``_delta_log`` (one listing call per zone)."""
        zone_uri = self.settings.zone(zone)
        try:
            if self.settings.is_s3:
                return _s3_delta_folders(self.settings, zone_uri)
            return _local_delta_folders(zone_uri)
        except Exception as exc:
            raise self._translated(exc) from exc

    # -- reading ----------------------------------------------------------------------------

    def open(self, table: str) -> DeltaTable:
        """The table's latest snapshot; a clear error when it does not exist (yet)."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError as DeltaTableMissing

        uri = self.uri(table)
        try:
            return DeltaTable(uri, storage_options=self.storage_options())
        except DeltaTableMissing as exc:
            if table in REGISTERED or table in self.tables():
                raise TableNotFoundError(table=table, uri=uri) from exc
            raise UnknownTableError(table=table, known=", ".join(self.tables())) from exc
        except Exception as exc:
            raise self._translated(exc) from exc

    def info(self, table: str) -> TableInfo:
        """Rows, size, files, last write and version, from the Delta log alone."""
        try:
            dt = self.open(table)
        except TableNotFoundError:
            return TableInfo(table, self.uri(table), exists=False)
        adds = dt.get_add_actions(flatten=True)
        sizes: list[int] = list(adds.column("size_bytes").to_pylist()) if adds.num_rows else []
        history = dt.history(1)
        stamp = history[0].get("timestamp") if history else None
        return TableInfo(
            table=table,
            uri=self.uri(table),
            exists=True,
            rows=self.count(table, dt),
            size_bytes=int(sum(sizes)),
            files=adds.num_rows,
            last_write=datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None,
            version=dt.version(),
        )

    def count(self, table: str, dt: DeltaTable | None = None) -> int:
        """Rows in the table: from the log's statistics, or by SQL with deletion vectors."""
        dt = dt or self.open(table)
        if "deletionVectors" in (dt.protocol().reader_features or []):
            result = self._sql(table, dt, "SELECT count(*) AS n FROM t")
            return int(result.column("n")[0].as_py())
        return int(dt.count())

    def schema(self, table: str) -> pa.Schema:
        """The table's columns as an Arrow schema."""
        import pyarrow as pa

        return pa.schema(self.open(table).schema())

    def scan(
        self,
        table: str,
        *,
        where: str | None = None,
        columns: list[str] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """Rows of the table, filtered by a SQL predicate, projected and limited.

        The predicate goes to DataFusion whole, inside parentheses; it can only read the one
        table registered for this query, so a hostile string reads no more than a plain one.
        """
        dt = self.open(table)
        names = [field.name for field in dt.schema().fields]
        unknown = [c for c in columns or [] if c not in names]
        if unknown:
            raise QueryError(
                what="--columns",
                text=",".join(unknown),
                table=table,
                detail=f"no such column; columns are: {', '.join(names)}",
            )
        select = ", ".join(_quote(c) for c in columns) if columns else "*"
        sql = f"SELECT {select} FROM t"
        if where and where.strip():
            sql += f" WHERE ({where})"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            return self._sql(table, dt, sql)
        except LakehouseError:
            raise
        except Exception as exc:
            raise QueryError(
                what="--where", text=where or "", table=table, detail=_first_line(exc)
            ) from exc

    def _sql(self, table: str, dt: DeltaTable, sql: str) -> pa.Table:
        import pyarrow as pa
        from deltalake import QueryBuilder

        try:
            batches = QueryBuilder().register("t", dt).execute(sql)
            # delta-rs answers in arro3; the Arrow C stream hands it to pyarrow without a copy.
            return _without_views(pa.RecordBatchReader.from_stream(batches).read_all())
        except Exception as exc:
            translated = translate(exc, self._context)
            if translated is not None:
                raise translated from exc
            raise

    def storage_options(self) -> dict[str, str]:
        """delta-rs options for the configured S3-compatible store (empty for local lakes).

        Short timeouts so an unreachable endpoint fails in seconds, like the Spark path.
        """
        if not self.settings.is_s3:
            return {}
        s3 = self.settings.s3
        options = {
            "AWS_REGION": s3.region,
            "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false" if s3.path_style else "true",
            "connect_timeout": "3s",
            "timeout": "30s",
        }
        if s3.endpoint:
            options["AWS_ENDPOINT_URL"] = s3.endpoint
            options["AWS_ALLOW_HTTP"] = "true" if s3.endpoint.startswith("http:") else "false"
        if s3.access_key and s3.secret_key:
            options["AWS_ACCESS_KEY_ID"] = s3.access_key
            options["AWS_SECRET_ACCESS_KEY"] = s3.secret_key
        return options

    def _translated(self, exc: Exception) -> Exception:
        return translate(exc, self._context) or exc


def _without_views(table: pa.Table) -> pa.Table:
    """DataFusion answers strings as ``string_view``; plain ``string`` for the callers.

    Why: pyarrow's compute (``group_by``, joins) and many writers do not take view types yet
    (pyarrow 25: "Keys of type string_view" not implemented), so the reader's answers stay in
    the types every Arrow consumer reads.
    """
    import pyarrow as pa

    plain = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}
    if not any(field.type in plain for field in table.schema):
        return table
    fields = [field.with_type(plain.get(field.type, field.type)) for field in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _local_delta_folders(zone_uri: str) -> list[str]:
    from lakehouse.storage import local_path

    folder = local_path(zone_uri)
    if not os.path.isdir(folder):
        return []
    with os.scandir(folder) as entries:
        return [
            e.name
            for e in entries
            if e.is_dir() and os.path.isdir(os.path.join(e.path, "_delta_log"))
        ]


def _s3_delta_folders(settings: Settings, zone_uri: str) -> list[str]:
    from lakehouse.storage import s3_client

    bucket, _, key = zone_uri.split("://", 1)[1].partition("/")
    prefix = key.strip("/") + "/" if key.strip("/") else ""
    client: Any = s3_client(settings)
    names = []
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(prefix) :].strip("/")
            marker = client.list_objects_v2(
                Bucket=bucket, Prefix=f"{prefix}{name}/_delta_log/", MaxKeys=1
            )
            if marker.get("KeyCount", 0) and not name.startswith(("_", ".")):
                names.append(name)
    return names
