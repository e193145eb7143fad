"""Read one version of a lake table for validation, with as few Spark jobs as exactness allows.

Why not always ``spark.read.format("delta").option("versionAsOf", v)``: before its first
scan, Spark's Delta reader rebuilds the table's snapshot (protocol, metadata, file list,
statistics) in about five Spark jobs, and filters the file list in one more per query. At
100,000 declarations that was most of validation's Spark jobs (8 to 12 a table, 41 tables),
and each job costs the driver planning, code generation and scheduling, whatever its rows.

delta-rs reads the same log without a JVM: which files make up the version, their schema, the
protocol. When the protocol is the plain one (reader version 1: no deletion vectors, no
column mapping) and the table is not partitioned, the version's rows are exactly the rows of
its Parquet files, read with the table's schema, so Spark reads those files as Parquet and
rebuilds no snapshot. Any other table (deletion vectors, column mapping, partition values kept
in the log) is read through Spark's Delta reader, as before. The newest batch of an
incremental table is found the same way: its maximum from the version's files, read by
delta-rs (Arrow), instead of a Spark query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakehouse.ingest.delta_commit import delta_uri
from lakehouse.settings import Settings

if TYPE_CHECKING:
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True, slots=True)
class TableVersion:
    """One Delta version of a table, opened with delta-rs (its log only, no Spark)."""

    uri: str
    version: int
    table: DeltaTable

    @property
    def plain(self) -> bool:
        """True when the version's rows are exactly its Parquet files' rows.

        Reader version 1 has neither deletion vectors nor column mapping; without partition
        columns every column is stored in the files.
        """
        return (
            self.table.protocol().min_reader_version == 1
            and not self.table.metadata().partition_columns
        )

    def spark_files(self) -> list[str]:
        """The version's data files as Spark (Hadoop) names them."""
        return [_spark_uri(f) for f in self.table.file_uris()]


def _spark_uri(path: str) -> str:
    """A delta-rs file URI as Spark spells it (``s3a://``, ``file://`` for local paths)."""
    if path.startswith("s3://"):
        return "s3a://" + path[len("s3://") :]
    return "file://" + path if path.startswith("/") else path


def storage_options(settings: Settings) -> dict[str, str] | None:
    """delta-rs options for the lake's store (None for a local lake)."""
    from lakehouse.reader import LakeReader

    return LakeReader(settings).storage_options() or None


def open_version(settings: Settings, uri: str, version: int | None = None) -> TableVersion | None:
    """The table at ``version`` (its newest when None), or None when ``uri`` holds no table."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(
            delta_uri(uri), version=version, storage_options=storage_options(settings)
        )
    except TableNotFoundError:
        return None
    return TableVersion(uri, int(table.version()), table)


def read_version(spark: SparkSession, opened: TableVersion) -> DataFrame:
    """The version's rows as a Spark DataFrame (Parquet files when plain, else Delta)."""
    if not opened.plain:
        return spark.read.format("delta").option("versionAsOf", opened.version).load(opened.uri)
    from pyspark.sql.types import StructType, _parse_datatype_json_string

    schema = _parse_datatype_json_string(opened.table.schema().to_json())
    assert isinstance(schema, StructType)
    files = opened.spark_files()
    if not files:  # a table with no rows yet
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).parquet(*files)


def newest_value(opened: TableVersion, column: str) -> Any:
    """The largest non-null value of ``column`` (a dotted path) in the version, or None.

    Read with delta-rs and Arrow from the version's files (plain tables only): the same
    maximum Spark's ``max`` finds (nulls ignored, strings by their UTF-8 bytes), without a
    Spark job.
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    assert opened.plain
    field = ds.field(*column.split("."))
    values = opened.table.to_pyarrow_dataset().to_table(columns={"v": field}).column("v")
    return pc.max(values).as_py() if len(values) else None


def query(opened: TableVersion, sql: str) -> list[dict[str, Any]]:
    """Rows of a DataFusion SQL query on the version (table name ``t``), without a JVM.

    Through SQL rather than Arrow reads of the files: delta-rs's SQL honours deletion
    vectors, so this is right for any table delta-rs can open.
    """
    import pyarrow as pa
    from deltalake import QueryBuilder

    batches = QueryBuilder().register("t", opened.table).execute(sql)
    return pa.RecordBatchReader.from_stream(batches).read_all().to_pylist()
