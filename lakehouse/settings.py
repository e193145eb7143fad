"""One typed settings object, built once from the environment, local by default.

Environment variables (all optional; ``LAKEHOUSE_ENV`` picks the defaults):

==================================  ==========================================================
``LAKEHOUSE_ENV``                   ``local`` (default), ``test`` or ``prod``.
``LAKEHOUSE_LAKE_ROOT``             Lake root URI: ``file:///abs/path`` or ``s3a://bucket/prefix``.
                                    Default (local/test): ``file://<cwd>/lake``; required in prod.
``LAKEHOUSE_CACHE_DIR``             Jar cache (default ``~/.cache/customs-lakehouse``).
``LAKEHOUSE_SPARK_MASTER``          Spark master (default ``local[2]``; prod: set by spark-submit).
``LAKEHOUSE_SPARK_DRIVER_MEMORY``   Driver heap (default ``4g``).
``LAKEHOUSE_SHUFFLE_PARTITIONS``    ``spark.sql.shuffle.partitions`` (default 4: 2 cores here).
``LAKEHOUSE_S3_ENDPOINT``           S3-compatible endpoint URL, e.g. ``http://127.0.0.1:9000``.
``LAKEHOUSE_S3_REGION``             Region (default ``us-east-1``).
``LAKEHOUSE_S3_ACCESS_KEY``         Access key id (secret: environment only).
``LAKEHOUSE_S3_SECRET_KEY``         Secret access key (secret: environment only).
``LAKEHOUSE_S3_PATH_STYLE``         ``true``/``false``: path-style addressing (default true).
``LAKEHOUSE_S3_SSL``                ``true``/``false``: TLS to the endpoint (default: from the
                                    endpoint's scheme, else true).
``LAKEHOUSE_STRICT_CONTROL_COUNTS`` ``true`` quarantines EDIFACT messages whose UNT/UNZ counts are
                                    wrong instead of flagging them (default false).
``LAKEHOUSE_XSD_PATH``              XSD to validate WCO XML declarations against (default none).
``LAKEHOUSE_PG_DSN``                PostgreSQL DSN of the CMS score table (secret: env only).
                                    In prod it must set ``sslmode`` to ``require``,
                                    ``verify-ca`` or ``verify-full`` (TLS to the database).
``LAKEHOUSE_LANDING_SETTLE_SECONDS`` A landed file younger than this (by mtime) is left for the
                                    next run: it may still be written (default 30; test 0).
``LAKEHOUSE_INSPECTION_CAPACITY``   Share of a night's declarations officers can inspect: the
                                    top-risk share flagged ``in_capacity`` (default 0.05).
``LAKEHOUSE_CONTROL_RATE``          Share marked for inspection at random whatever the score,
                                    to measure models on unbiased outcomes (default 0.01).
``LAKEHOUSE_CONTROL_SEED``          Seed of that random draw (default 20261124; recorded).
``LAKEHOUSE_MLFLOW_URI``            MLflow tracking server (default: SQLite under the lake's
                                    local state; read by ``spark_jobs.train.tracking``).
==================================  ==========================================================

Secrets (the S3 keys, the DSN) are never passed on to a command line: ``lakehouse/spark.py``
sets the S3 keys in the running JVM (docs/security.md).

Nothing reads the environment at import time: :func:`get_settings` builds the object on first
use, and tests swap it with :func:`override_settings`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from lakehouse.errors import SettingsError

ENVIRONMENTS = ("local", "test", "prod")
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "customs-lakehouse"


@dataclass(frozen=True, slots=True)
class S3Settings:
    """How to reach S3-compatible storage. Empty credentials mean the default AWS chain."""

    endpoint: str | None = None
    region: str = "us-east-1"
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    path_style: bool = True
    ssl: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a job needs to know about where it runs. Build with :func:`get_settings`."""

    env: str = "local"
    lake_root: str = "file:///tmp/lake"
    cache_dir: Path = DEFAULT_CACHE_DIR
    spark_master: str = "local[2]"
    spark_driver_memory: str = "4g"
    shuffle_partitions: int = 4
    s3: S3Settings = field(default_factory=S3Settings)
    strict_control_counts: bool = False
    xsd_path: str | None = None
    pg_dsn: str | None = field(default=None, repr=False)
    landing_settle_seconds: float = 30.0
    inspection_capacity: float = 0.05
    control_rate: float = 0.01
    control_seed: int = 20261124
    # A batch with at most this many new files and MB is parsed in local processes and
    # committed with delta-rs, with no JVM; a larger one (a backfill) is parsed by Spark.
    ingest_local_max_files: int = 1000
    ingest_local_max_mb: float = 256.0

    @property
    def spark_jars_dir(self) -> Path:
        """Where ``scripts/bootstrap.sh`` resolved the Spark jars."""
        return self.cache_dir / "jars" / "spark"

    @property
    def is_s3(self) -> bool:
        """True when the lake lives on S3-compatible storage."""
        return self.lake_root.startswith("s3a://")

    def zone(self, name: str) -> str:
        """URI of a zone folder (``landing``, ``bronze``, ``silver``, ``gold``, ``outbound``)."""
        return f"{self.lake_root.rstrip('/')}/{name}"

    def table_uri(self, zone: str, table: str) -> str:
        """URI of a Delta table inside a zone."""
        return f"{self.zone(zone)}/{table}"


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean: use true or false")


def _lake_root(env: Mapping[str, str], name: str) -> str:
    raw = env.get("LAKEHOUSE_LAKE_ROOT", "").strip()
    if not raw:
        if name == "prod":
            raise SettingsError(
                "the lake root is required in prod: set LAKEHOUSE_LAKE_ROOT "
                "(e.g. s3a://customs-lake/prod)"
            )
        return (Path.cwd() / "lake").resolve().as_uri()
    return normalize_lake_root(raw)


def normalize_lake_root(raw: str) -> str:
    """Turn a path or URI into a lake-root URI; reject schemes Spark cannot write Delta to here."""
    parsed = urlparse(raw)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme else raw).expanduser().resolve()
        return path.as_uri()
    if parsed.scheme in ("s3", "s3a"):
        if not parsed.netloc:
            raise SettingsError(f"lake root {raw!r} has no bucket: use s3a://bucket/prefix")
        return "s3a://" + parsed.netloc + parsed.path.rstrip("/")
    raise SettingsError(
        f"lake root {raw!r} has unsupported scheme {parsed.scheme!r}: use file:// or s3a://"
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (``os.environ`` by default)."""
    env = os.environ if env is None else env
    name = env.get("LAKEHOUSE_ENV", "local").strip() or "local"
    if name not in ENVIRONMENTS:
        raise SettingsError(f"LAKEHOUSE_ENV={name!r} is not one of {', '.join(ENVIRONMENTS)}")
    endpoint = env.get("LAKEHOUSE_S3_ENDPOINT") or None
    default_ssl = urlparse(endpoint).scheme != "http" if endpoint else True
    try:
        partitions = int(env.get("LAKEHOUSE_SHUFFLE_PARTITIONS", "4"))
    except ValueError as exc:
        raise SettingsError(
            f"LAKEHOUSE_SHUFFLE_PARTITIONS={env['LAKEHOUSE_SHUFFLE_PARTITIONS']!r} is no integer"
        ) from exc
    cache = env.get("LAKEHOUSE_CACHE_DIR")
    settle = _seconds(env, "LAKEHOUSE_LANDING_SETTLE_SECONDS", 0.0 if name == "test" else 30.0)
    return Settings(
        env=name,
        lake_root=_lake_root(env, name),
        cache_dir=Path(cache).expanduser() if cache else DEFAULT_CACHE_DIR,
        spark_master=env.get("LAKEHOUSE_SPARK_MASTER", "local[2]"),
        spark_driver_memory=env.get("LAKEHOUSE_SPARK_DRIVER_MEMORY", "4g"),
        shuffle_partitions=partitions,
        s3=S3Settings(
            endpoint=endpoint,
            region=env.get("LAKEHOUSE_S3_REGION", "us-east-1"),
            access_key=env.get("LAKEHOUSE_S3_ACCESS_KEY") or None,
            secret_key=env.get("LAKEHOUSE_S3_SECRET_KEY") or None,
            path_style=_bool(env, "LAKEHOUSE_S3_PATH_STYLE", True),
            ssl=_bool(env, "LAKEHOUSE_S3_SSL", default_ssl),
        ),
        strict_control_counts=_bool(env, "LAKEHOUSE_STRICT_CONTROL_COUNTS", False),
        xsd_path=env.get("LAKEHOUSE_XSD_PATH") or None,
        pg_dsn=_pg_dsn(env, name),
        landing_settle_seconds=settle,
        inspection_capacity=_share(env, "LAKEHOUSE_INSPECTION_CAPACITY", 0.05),
        control_rate=_share(env, "LAKEHOUSE_CONTROL_RATE", 0.01),
        control_seed=_integer(env, "LAKEHOUSE_CONTROL_SEED", 20261124),
        ingest_local_max_files=int(
            _seconds(env, "LAKEHOUSE_INGEST_LOCAL_MAX_FILES", 1000, unit="files")
        ),
        ingest_local_max_mb=_seconds(env, "LAKEHOUSE_INGEST_LOCAL_MAX_MB", 256.0, unit="MB"),
    )


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    """A share between 0 and 1 (capacity, control sample)."""
    return _number(
        env, name, default, lambda v: 0.0 <= v <= 1.0, "a share between 0 and 1 (e.g. 0.05)"
    )


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not an integer") from exc


def _seconds(env: Mapping[str, str], name: str, default: float, *, unit: str = "seconds") -> float:
    return _number(env, name, default, lambda v: v >= 0, f"a number of {unit} >= 0")


def _number(
    env: Mapping[str, str], name: str, default: float, valid: Callable[[float], bool], what: str
) -> float:
    """A float setting: the default when unset, a one-line SettingsError when not ``valid``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")  # fails every comparison, so ``valid`` refuses it
    if not valid(value):
        raise SettingsError(f"{name}={raw!r} is not {what}")
    return value


PG_TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})


def _pg_dsn(env: Mapping[str, str], name: str) -> str | None:
    """The CMS database DSN; in prod only with an sslmode that encrypts.

    Messages never echo the DSN: it usually carries the password.
    """
    dsn = env.get("LAKEHOUSE_PG_DSN") or None
    if dsn is None or name != "prod":
        return dsn
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        sslmode = str(conninfo_to_dict(dsn).get("sslmode") or "")
    except ProgrammingError as exc:  # its text may quote the DSN: not repeated here
        raise SettingsError(
            "LAKEHOUSE_PG_DSN is not a valid PostgreSQL DSN (URI or key=value form)"
        ) from exc
    if sslmode.lower() not in PG_TLS_SSLMODES:
        raise SettingsError(
            f"LAKEHOUSE_PG_DSN has sslmode={sslmode or '(unset)'}: prod needs TLS to the "
            "database; add sslmode=verify-full and sslrootcert=<CA file of the server>"
        )
    return dsn


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, built from the environment on first call."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


@contextlib.contextmanager
def override_settings(**changes: object) -> Iterator[Settings]:
    """Temporarily replace fields of the process-wide settings (tests, CLI flags)."""
    global _current
    previous = get_settings()
    _current = dataclasses.replace(previous, **changes)  # type: ignore[arg-type]
    try:
        yield _current
    finally:
        _current = previous
