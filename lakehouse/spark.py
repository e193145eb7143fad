"""The one Spark session factory: Delta enabled, ``s3a://`` configured from settings, offline.

Why one factory: Spark reads jars, extensions and catalog settings only when the JVM starts
(a second ``builder.getOrCreate()`` silently keeps the first session's JVM settings), so every
entry point must build its session here, first. The jars come from the local cache filled by
``scripts/bootstrap.sh`` and are passed as ``spark.jars`` so nothing is resolved over the
network at run time.

Why secrets never go through the builder: PySpark starts the JVM with ``spark-submit --conf
key=value`` for every builder option, so any value set there is readable by every local user in
``/proc/<pid>/cmdline``. The S3 keys are therefore written into the running JVM's Hadoop
configuration over the (authenticated, loopback) Py4J gateway right after the session starts,
before anything opens an ``s3a://`` path (docs/security.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.errors import SetupError
from lakehouse.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Jars the session cannot work without; checked up front so the error names the fix.
REQUIRED_JAR_PREFIXES = ("delta-spark_", "delta-storage-", "hadoop-aws-", "bundle-")


def spark_jars(settings: Settings) -> list[Path]:
    """The resolved jars to put on the session's classpath, or a SetupError naming the fix."""
    jar_dir = settings.spark_jars_dir
    jars = sorted(jar_dir.glob("*.jar")) if jar_dir.is_dir() else []
    missing = [p for p in REQUIRED_JAR_PREFIXES if not any(j.name.startswith(p) for j in jars)]
    if missing:
        raise SetupError(
            f"Spark jars missing in {jar_dir} ({', '.join(missing)}*): run scripts/bootstrap.sh "
            "(or set LAKEHOUSE_CACHE_DIR to where it put them)"
        )
    return jars


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop S3A options for the configured S3-compatible endpoint.

    Third-party stores need path-style access, an explicit region name and no TLS on http
    endpoints; change detection and multi-object delete are off because S3-compatible stores
    (S3Proxy among them) do not all implement them. Checksum options keep Hadoop's defaults,
    which already send checksums only when required.
    """
    s3 = settings.s3
    conf = {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.path.style.access": str(s3.path_style).lower(),
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(s3.ssl).lower(),
        "spark.hadoop.fs.s3a.endpoint.region": s3.region,
        "spark.hadoop.fs.s3a.change.detection.mode": "none",
        "spark.hadoop.fs.s3a.multiobjectdelete.enable": "false",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "false",
        # Bounded retries and connect timeouts: with the defaults an unreachable endpoint
        # keeps a command busy for ~50 s before it fails; these make it fail in seconds and
        # still ride out a single dropped connection.
        "spark.hadoop.fs.s3a.attempts.maximum": "2",
        "spark.hadoop.fs.s3a.retry.limit": "2",
        "spark.hadoop.fs.s3a.retry.interval": "250ms",
        "spark.hadoop.fs.s3a.retry.throttle.limit": "3",
        "spark.hadoop.fs.s3a.connection.establish.timeout": "5s",
        "spark.hadoop.fs.s3a.retry.http.5xx.errors": "false",
    }
    if s3.endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = s3.endpoint
    if s3.access_key and s3.secret_key:
        # Only the provider class goes on the command line; the keys follow at run time.
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
    return conf


def s3a_secrets(settings: Settings) -> dict[str, str]:
    """The Hadoop options that carry S3 credentials; empty means the default AWS chain.

    Kept apart from :func:`s3a_conf` so they can never end up in ``spark-submit --conf``.
    """
    s3 = settings.s3
    if not (s3.access_key and s3.secret_key):
        return {}
    return {"fs.s3a.access.key": s3.access_key, "fs.s3a.secret.key": s3.secret_key}


def apply_secrets(spark: SparkSession, settings: Settings) -> None:
    """Write the S3 credentials into the running JVM's Hadoop configuration.

    Must run before the first ``s3a://`` access: Hadoop caches one S3AFileSystem per bucket
    and user, and an instance created earlier would keep the default credential chain. Spark
    copies this configuration into every job's Hadoop conf (Delta's log store included), so
    executors and Delta see the keys without them ever being a Spark option.
    """
    secrets = s3a_secrets(settings)
    if not secrets:
        return
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    for key, value in secrets.items():
        hadoop_conf.set(key, value)


def session_conf(
    settings: Settings,
    *,
    app_name: str,
    warehouse_dir: str | None = None,
    java_options: str = "",
) -> dict[str, str]:
    """Every Spark option the lakehouse sets, as a plain dict (testable without a JVM).

    It holds no secret: these values end up on the JVM's command line (see the module doc).
    ``java_options``: more options for the driver JVM (a job that knows its own profile, e.g.
    training's collector choice), after the ones every session needs.
    """
    jars = ",".join(str(j) for j in spark_jars(settings))
    conf = {
        "spark.app.name": app_name,
        "spark.master": settings.spark_master,
        "spark.jars": jars,
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.default.parallelism": "2",
        # Delta rebuilds table state with its own shuffle (50 partitions by default): on a
        # small machine that dominates every read of a small table.
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false" if settings.env == "test" else "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.databricks.delta.retentionDurationCheck.enabled": "true",
        "spark.driver.extraJavaOptions": (
            "-Daws.requestChecksumCalculation=when_required "
            "-Daws.responseChecksumValidation=when_required "
            f"-Dlog4j2.configurationFile={log4j2_properties(settings).as_uri()} "
            f"-Dderby.system.home={state_dir(settings)} {java_options}"
        ).strip(),
        "spark.sql.warehouse.dir": warehouse_dir or default_warehouse_dir(settings),
        # dbt runs several models (and their tests) at once on this one session. Under FIFO
        # the first job holds every task slot until it ends and a small node's query waits
        # behind a large one's; FAIR (default pool FAIR too: see write_fair_scheduler) hands
        # each free slot to the job with the fewest running tasks, so small nodes overlap.
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": fair_scheduler_file(settings).as_uri(),
    }
    conf.update(_catalog_conf(settings))
    conf.update(s3a_conf(settings))
    return conf


def get_spark(
    settings: Settings | None = None,
    *,
    app_name: str = "customs-lakehouse",
    warehouse_dir: str | None = None,
    overrides: dict[str, str] | None = None,
    java_options: str = "",
) -> SparkSession:
    """Build (or return) the process's Spark session with Delta and S3A configured.

    ``overrides`` replace options of :func:`session_conf` (no secrets: they go on the JVM's
    command line too); ``lakehouse serve --role`` uses it for its private in-memory catalog.
    ``java_options``: see :func:`session_conf` (read only when this starts the JVM)."""
    from pyspark.sql import SparkSession

    settings = settings or get_settings()
    active = SparkSession.getActiveSession()
    if active is not None:
        apply_secrets(active, settings)
        return active
    os.environ.setdefault("PYSPARK_PYTHON", _python())
    if settings.spark_master.startswith("local"):
        # One machine: bind the driver to loopback instead of whatever the hostname resolves to.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    write_log4j2(settings)
    write_fair_scheduler(settings)
    builder = SparkSession.builder
    conf = session_conf(
        settings, app_name=app_name, warehouse_dir=warehouse_dir, java_options=java_options
    )
    for key, value in {**conf, **(overrides or {})}.items():
        builder = builder.config(key, value)
    with _jvm_output_to(None if _engine_logs_on_console else log_file(settings)):
        spark = builder.getOrCreate()
    apply_secrets(spark, settings)
    spark.sparkContext.setLogLevel("WARN")
    return spark


# -- where the engine's own output goes ---------------------------------------------------------
#
# Spark and the JVM talk a lot (log4j WARN lines, the JVM's own stderr). An operator wants one
# line per step, so by default all of it goes to a log file under the lake's local state and
# the console shows it only with ``--verbose`` (the CLI calls :func:`show_engine_logs`).

_engine_logs_on_console = False

_LOG4J2 = """\
# Written by lakehouse.spark: Spark's and the JVM's log lines go to a file, not the console.
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{ISO8601}} %p %c{{1}}: %m%n%ex
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{HH:mm:ss}} %p %c{{1}}: %m%n%ex
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
{console}
"""


def show_engine_logs(on: bool) -> None:
    """Send Spark's log lines to the console too (``--verbose``); set before the session."""
    global _engine_logs_on_console
    _engine_logs_on_console = on


def state_dir(settings: Settings) -> Path:
    """This machine's working state of the lake: logs, the Spark warehouse, Derby's home.

    Under ``<lake>/_state`` for a local lake (Delta, the ingestion and listing all skip
    names starting with ``_``); under the cache directory for a lake on S3, because logs and
    the warehouse are local files.
    """
    if settings.is_s3:
        return settings.cache_dir
    from lakehouse.storage import local_path

    return Path(local_path(settings.lake_root)) / "_state"


def default_warehouse_dir(settings: Settings) -> str:
    """The one place that decides ``spark.sql.warehouse.dir`` (never ``./spark-warehouse``)."""
    return str(state_dir(settings) / "warehouse")


def log_file(settings: Settings) -> Path:
    """Today's engine log (one file a day, appended to by every run)."""
    from datetime import date

    return state_dir(settings) / "logs" / f"lakehouse-{date.today().isoformat()}.log"


def log4j2_properties(settings: Settings) -> Path:
    """Where the log4j2 configuration the JVM starts with lives (see :func:`write_log4j2`)."""
    name = "log4j2-verbose.properties" if _engine_logs_on_console else "log4j2.properties"
    return log_file(settings).parent / name


def write_log4j2(settings: Settings) -> Path:
    """Write (idempotently) today's log4j2 configuration; returns its path."""
    log = log_file(settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    console = "rootLogger.appenderRef.console.ref = console" if _engine_logs_on_console else ""
    text = _LOG4J2.format(log=log, level="warn", console=console)
    path = log4j2_properties(settings)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


_FAIR_SCHEDULER = """\
<?xml version="1.0"?>
<!-- Written by lakehouse.spark. Jobs without a pool go to "default", whose own mode is FIFO
     unless declared here: FAIR lets concurrent dbt nodes share the task slots. -->
<allocations>
  <pool name="default">
    <schedulingMode>FAIR</schedulingMode>
    <weight>1</weight>
    <minShare>0</minShare>
  </pool>
</allocations>
"""


def fair_scheduler_file(settings: Settings) -> Path:
    """Where Spark's fair-scheduler pools are declared (see :func:`write_fair_scheduler`)."""
    return log_file(settings).parent / "fairscheduler.xml"


def write_fair_scheduler(settings: Settings) -> Path:
    """Write (idempotently) the fair-scheduler pools file the JVM starts with; its path."""
    path = fair_scheduler_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != _FAIR_SCHEDULER:
        path.write_text(_FAIR_SCHEDULER)
    return path


@contextmanager
def _jvm_output_to(log: Path | None) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``log`` while the JVM starts, so the JVM inherits
    the file: what it writes outside log4j (stack traces of dying threads, JVM warnings)
    lands there too. This process's own output is restored right after."""
    if log is None:
        yield
        return
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def _catalog_conf(settings: Settings) -> dict[str, str]:
    """The shared catalog's options (Hive metastore: embedded Derby or PostgreSQL)."""
    from lakehouse.catalog import catalog_conf

    return catalog_conf(settings)


def _python() -> str:
    import sys

    return sys.executable
