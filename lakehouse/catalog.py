"""The shared catalog: every lake table by name (``bronze.cms_declarations``, ``silver.…``).

Why a Hive-compatible metastore through Spark's own catalog: analysts, dbt and the Thrift
endpoint all resolve ``zone.table`` names there, and Spark ships the Hive client, so no extra
service is needed on one machine. Two back ends, one setting (``LAKEHOUSE_METASTORE_URL``):

* empty (default): an embedded Derby database in the lake's *local state* directory (beside a
  ``file://`` lake, or under ``~/.local/state`` for an ``s3a://`` one). Derby admits one JVM.
* ``jdbc:postgresql://host:port/db``: Spark's built-in Hive client stores the metastore in
  PostgreSQL over JDBC, so a job, dbt and the SQL endpoint can use it at the same time.
  User and password come from ``LAKEHOUSE_METASTORE_USER`` / ``LAKEHOUSE_METASTORE_PASSWORD``
  (the password is set on the running JVM, never on its command line).

Every table is *external* (its location is a path in the lake), so the metastore is only an
index of names over the lake: dropping an entry never deletes data, and :func:`sync_catalog`
rebuilds the whole index from the lake's ``_delta_log`` folders at any time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from lakehouse.errors import LakehouseError, SettingsError
from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ZONES = ("bronze", "silver", "gold")
METASTORE_URL_ENV = "LAKEHOUSE_METASTORE_URL"
STATE_DIR_ENV = "LAKEHOUSE_STATE_DIR"


def local_state_dir(settings: Settings, env: Mapping[str, str] | None = None) -> Path:
    """Where this machine keeps the lake's local state (embedded metastore, local key, dbt logs).

    Beside a ``file://`` lake (the lake's ``_state``, :func:`lakehouse.spark.state_dir`) so a
    lake directory carries its own catalog; for an ``s3a://`` lake, a per-lake folder under
    ``~/.local/state`` (state never goes to S3).
    """
    env = os.environ if env is None else env
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser().resolve()
    parsed = urlparse(settings.lake_root)
    if parsed.scheme == "file":
        from lakehouse.spark import state_dir

        return state_dir(settings)
    digest = hashlib.sha256(settings.lake_root.encode()).hexdigest()[:12]
    return Path.home() / ".local" / "state" / "customs-lakehouse" / f"{parsed.netloc}-{digest}"


def catalog_conf(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Spark options for the Hive-compatible catalog (read at JVM start, so set up front)."""
    env = os.environ if env is None else env
    url = (env.get(METASTORE_URL_ENV) or "").strip()
    state = local_state_dir(settings, env)
    conf = {
        "spark.sql.catalogImplementation": "hive",
        # Hive's own scratch space, kept out of the working directory.
        "spark.hadoop.hive.exec.scratchdir": str(state / "hive-scratch"),
        "spark.hadoop.hive.metastore.schema.verification": "false",
        # Tables and columns are created on first use (no schema tool needed), constraints
        # not: DataNucleus creates tables on a second connection while the first still holds
        # an open insert into TBLS, and adding a foreign key to TBLS then waits for it forever
        # (seen on PostgreSQL: ALTER TABLE "TBL_PRIVS" ADD CONSTRAINT blocked by a session
        # "idle in transaction"). autoCreateAll would switch constraints on: set one by one.
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
    }
    if not url:
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={state / 'metastore_db'};create=true"
        )
        return conf
    if not url.startswith("jdbc:postgresql://"):
        raise SettingsError(
            f"{METASTORE_URL_ENV}={url!r}: use jdbc:postgresql://host:port/database "
            "(or leave it empty for the embedded metastore)"
        )
    # DataNucleus loads the JDBC driver from the JVM's class path, not from spark.jars.
    driver = sorted(settings.spark_jars_dir.glob("postgresql-*.jar"))
    if driver:
        conf["spark.driver.extraClassPath"] = str(driver[-1])
    conf.update(
        {
            "spark.hadoop.javax.jdo.option.ConnectionURL": url,
            "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
            "spark.hadoop.javax.jdo.option.ConnectionUserName": env.get(
                "LAKEHOUSE_METASTORE_USER", "postgres"
            ),
        }
    )
    return conf


def apply_catalog_secrets(spark: SparkSession, env: Mapping[str, str] | None = None) -> None:
    """Put the metastore password into the running JVM's Hadoop configuration.

    Not a builder option: those end up on the JVM's command line (see lakehouse.spark). The
    Hive client reads this configuration when the catalog is first used, which is after this.
    """
    env = os.environ if env is None else env
    password = env.get("LAKEHOUSE_METASTORE_PASSWORD")
    if password:
        hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
        hadoop_conf.set("javax.jdo.option.ConnectionPassword", password)


def _hadoop_uri(uri: str) -> str:
    """Hadoop's spelling of a location (``file:/x``): what the metastore stores and returns."""
    return uri.replace("file:///", "file:/", 1)


def register_table(spark: SparkSession, zone: str, name: str, uri: str) -> bool:
    """Register one Delta table by name at its lake location; True when the entry changed.

    An entry pointing elsewhere (another lake root) is dropped first: entries are external, so
    dropping one never touches data.
    """
    full = f"{zone}.{name}"
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {zone}")  # a fresh metastore has no zone schemas
    if spark.catalog.tableExists(full):
        current = _location(spark, full)
        if current and current.rstrip("/") == _hadoop_uri(uri).rstrip("/"):
            return False
        spark.sql(f"DROP TABLE {full}")
    spark.sql(f"CREATE TABLE {full} USING delta LOCATION '{_hadoop_uri(uri)}'")
    return True


def _location(spark: SparkSession, full_name: str) -> str | None:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {full_name}").collect()
    for row in rows:
        if row[0] == "Location":
            return str(row[1])
    return None


def sync_catalog(spark: SparkSession, settings: Settings) -> int:
    """Make the ``bronze``, ``silver`` and ``gold`` names point at exactly this lake's tables.

    The index is rebuilt from the lake itself: every Delta table found in a zone folder is
    registered (so an incremental run keeps its state even after the metastore was lost or
    the lake moved), and an entry whose table is not in this lake is dropped (entries are
    external: no data is touched). Returns how many entries changed.
    """
    from pyspark.errors import PySparkException

    apply_catalog_secrets(spark)
    try:
        return _sync(spark, settings)
    except PySparkException as exc:
        raise CatalogError(f"catalog sync failed: {' '.join(str(exc).split())[:500]}") from None


class CatalogError(LakehouseError):
    """The metastore refused an operation (its message, on one line)."""


def _sync(spark: SparkSession, settings: Settings) -> int:
    changed = 0
    for zone in ZONES:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {zone}")
        found = set(_delta_tables_in(spark, settings.zone(zone), clean=zone != "bronze"))
        for stale in {t.name for t in spark.catalog.listTables(zone)} - found:
            spark.sql(f"DROP TABLE IF EXISTS {zone}.{stale}")
            changed += 1
        for name in sorted(found):
            changed += register_table(spark, zone, name, f"{settings.zone(zone)}/{name}")
    return changed


def _delta_tables_in(spark: SparkSession, zone_uri: str, *, clean: bool = False) -> list[str]:
    """Names of the folders under a zone that hold a Delta table (through Hadoop: file or s3a).

    A folder without a committed Delta log is what a run killed before its first commit left:
    no reader ever saw it. With ``clean`` (the dbt zones, which only dbt writes) it is removed,
    so the next build can create the table there; bronze is never touched.
    """
    from delta.tables import DeltaTable

    jvm = spark.sparkContext._jvm
    assert jvm is not None, "a live Spark session always has its JVM gateway"
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(zone_uri)
    fs = path.getFileSystem(conf)
    if not fs.exists(path):
        return []
    names = []
    for status in fs.listStatus(path):
        child = status.getPath()
        if not status.isDirectory():
            continue
        if DeltaTable.isDeltaTable(spark, child.toString()):
            names.append(child.getName())
        elif clean:
            fs.delete(child, True)
    return sorted(names)
