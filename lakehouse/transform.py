"""Bronze -> silver -> gold: the dbt project run in-process on the project's Spark session.

Why in-process (dbt's ``dbtRunner``, profile method ``session``): Spark reads jars, Delta's
extension, ``s3a://`` options and the catalog only when its JVM starts, and dbt-spark's session
method just asks for the active session. So the session :func:`lakehouse.spark.get_spark` built
is the one dbt uses, and one command serves ``file://`` and ``s3a://`` lakes alike. One
``dbt build`` per run (models, seeds and tests together): a command per model would pay dbt's
start-up and catalog scan each time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.catalog import local_state_dir, sync_catalog
from lakehouse.errors import LakehouseError, SettingsError
from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
PSEUDONYM_KEY_ENV = "LAKEHOUSE_PSEUDONYM_KEY"
NATIONAL_CURRENCY_ENV = "LAKEHOUSE_NATIONAL_CURRENCY"
# dbt events worth a progress line: one per node started/finished and the run's summary.
_PROGRESS_EVENTS = frozenset(
    {"LogModelResult", "LogTestResult", "LogSeedResult", "LogStartLine", "EndOfRunSummary"}
)


class TransformError(LakehouseError):
    """dbt failed: the message is dbt's own (the failing nodes and why)."""


@dataclass
class TransformResult:
    """What a transform run did: dbt's node results and the reconciliation per bronze table."""

    nodes: dict[str, str] = field(default_factory=dict)
    # None when the run did not rebuild silver.record_dispositions (a --select without it).
    reconciliation: list[dict[str, Any]] | None = None

    @property
    def reconciled(self) -> bool:
        """True unless a reconciliation was made and some bronze row is not accounted for."""
        return all(row["difference"] == 0 for row in self.reconciliation or [])


def national_currency(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The administration's currency (ISO 4217): every amount is also given in it.

    Required in prod; local and test default to KES, the simulated administration's currency.
    """
    env = os.environ if env is None else env
    value = (env.get(NATIONAL_CURRENCY_ENV) or "").strip().upper()
    if not value:
        if settings.env == "prod":
            raise SettingsError(f"{NATIONAL_CURRENCY_ENV} is required in prod (e.g. KES)")
        return "KES"
    if len(value) != 3 or not value.isalpha():
        raise SettingsError(f"{NATIONAL_CURRENCY_ENV}={value!r} is not an ISO 4217 code")
    return value


def pseudonym_key(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key for personal data: from the environment, or (local/test) generated once.

    In prod a missing key is an error: a generated one would change every pseudonym on the
    next machine and break joins across runs. Locally the key is kept in the lake's local
    state directory (never in the repository, never in the lake's object store).
    """
    env = os.environ if env is None else env
    value = env.get(PSEUDONYM_KEY_ENV, "")
    if value:
        return value.encode()
    if settings.env == "prod":
        raise SettingsError(
            f"{PSEUDONYM_KEY_ENV} is required in prod: the key that pseudonymizes personal data"
        )
    path = local_state_dir(settings, env) / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def make_pseudonym(key: bytes) -> Callable[[str | None], str | None]:
    """HMAC-SHA256 of a value under the key, as hex; None stays None."""

    def pseudonym(value: str | None) -> str | None:
        if value is None:
            return None
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    return pseudonym


# A public key for dbt unit tests only: their expected rows are literal HMACs under it.
UNIT_TEST_KEY = b"dbt-unit-test"


def register_functions(spark: SparkSession, settings: Settings) -> None:
    """Register ``lakehouse_pseudonym(string)`` on the session (the key stays in this process),
    and ``lakehouse_pseudonym_test`` (same HMAC, public key) for the dbt unit tests."""
    spark.udf.register("lakehouse_pseudonym", make_pseudonym(pseudonym_key(settings)), "string")
    spark.udf.register("lakehouse_pseudonym_test", make_pseudonym(UNIT_TEST_KEY), "string")


def dbt_vars(settings: Settings, tested_through: int | None = None) -> dict[str, Any]:
    """The settings the dbt project reads as vars, and the bronze batch through which the
    staging tables were already tested (their data tests then check only later batches)."""
    out: dict[str, Any] = {
        "lake_root": settings.lake_root.rstrip("/"),
        "national_currency": national_currency(settings),
    }
    if tested_through is not None:
        out["tested_through_batch"] = tested_through
    return out


def dbt_args(
    settings: Settings,
    command: str = "build",
    *,
    select: list[str] | None = None,
    full_refresh: bool = False,
    unit_tests: bool = True,
    extra: list[str] | None = None,
    tested_through: int | None = None,
) -> list[str]:
    """The argument list for dbtRunner (testable without running dbt)."""
    state = local_state_dir(settings) / "dbt"
    args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(state / "target"),
        "--log-path",
        str(state / "logs"),
        "--vars",
        json.dumps(dbt_vars(settings, tested_through)),
    ]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args + list(extra or [])


def run_dbt(
    spark: SparkSession,
    settings: Settings,
    command: str = "build",
    *,
    select: list[str] | None = None,
    full_refresh: bool = False,
    unit_tests: bool = True,
    extra: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    tested_through: int | None = None,
) -> dict[str, str]:
    """Run one dbt command in this process on ``spark``; node -> status, or TransformError."""
    from dbt.cli.main import dbtRunner

    register_functions(spark, settings)
    sync_catalog(spark, settings)
    say = progress or (lambda _m: None)

    def on_event(event: Any) -> None:
        if event.info.name in _PROGRESS_EVENTS:
            say(event.info.msg)

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = dbt_args(
        settings,
        command,
        select=select,
        full_refresh=full_refresh,
        unit_tests=unit_tests,
        extra=extra,
        tested_through=tested_through,
    )
    result = dbtRunner(callbacks=[on_event]).invoke([*args, "--quiet", "--no-use-colors"])
    if result.exception is not None:
        raise TransformError(f"dbt {command}: {_one_line(str(result.exception))}")
    nodes = _node_statuses(result.result)
    if not result.success:
        failed = [f"{n}: {m}" for n, (s, m) in nodes.items() if s in {"error", "fail"}]
        raise TransformError(f"dbt {command} failed: " + "; ".join(failed[:5]))
    return {name: status for name, (status, _msg) in nodes.items()}


def _node_statuses(results: Any) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for res in getattr(results, "results", None) or []:
        out[res.node.unique_id] = (str(res.status), _one_line(res.message or ""))
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def transform(
    spark: SparkSession,
    settings: Settings,
    *,
    select: list[str] | None = None,
    full_refresh: bool = False,
    unit_tests: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TransformResult:
    """Build (and test) the selected models, then reconcile bronze against silver.

    ``unit_tests=False`` leaves dbt's unit tests out (the nightly run): they test the SQL on
    literal rows, so they belong to development and CI, and a production run would only pay
    their planning and per-input catalog lookups again. Data tests always run; the staging
    tables' ones on the batches after the last complete, successful run (see
    :func:`last_tested_batch`), which is recorded only then.
    """
    from lakehouse.ingest.bronze import committed_through

    bronze_through = committed_through(settings)
    nodes = run_dbt(
        spark,
        settings,
        "build",
        select=select,
        full_refresh=full_refresh,
        unit_tests=unit_tests,
        progress=progress,
        tested_through=None if full_refresh else last_tested_batch(settings, bronze_through),
    )
    if not select:
        marker = _tested_marker(settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{bronze_through}\n")
    rebuilt = any(n.endswith(".record_dispositions") for n in nodes)
    return TransformResult(nodes=nodes, reconciliation=reconcile(spark) if rebuilt else None)


def _tested_marker(settings: Settings) -> Path:
    return local_state_dir(settings) / "dbt" / "tested_through_batch"


def last_tested_batch(settings: Settings, bronze_through: int) -> int | None:
    """The bronze batch through which staging was built and tested by a complete run that
    succeeded, or None (test everything): no such run yet, or a marker beyond bronze's own
    batches (the lake was re-created under the same state directory).

    Why the staging tables' data tests may skip earlier batches: each staging table is a
    merge on its key, so a new row either updates the row of its key or is inserted; the key
    stays unique and non-null over the whole table when it is so among the new rows (two new
    rows matching one old row make Delta's MERGE fail). A failed run records nothing, so its
    rows are tested again by the next run.
    """
    try:
        recorded = int(_tested_marker(settings).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return recorded if recorded <= bronze_through else None


def reconcile(spark: SparkSession) -> list[dict[str, Any]]:
    """Per bronze table: bronze rows against silver's dispositions of them (kept, superseded,
    duplicate, rejected). Nothing vanishes when ``difference`` is 0 everywhere."""
    rows = spark.sql(
        "SELECT source_table, disposition, count(*) AS n FROM silver.record_dispositions"
        " GROUP BY source_table, disposition"
    ).collect()
    by_table: dict[str, dict[str, int]] = {}
    for row in rows:
        by_table.setdefault(row.source_table, {})[row.disposition] = int(row.n)
    out = []
    for table in sorted(by_table):
        bronze = spark.table(f"bronze.{table}").count()
        counts = by_table[table]
        kept = counts.get("current", 0) + counts.get("kept", 0)
        entry: dict[str, Any] = {
            "table": table,
            "bronze": bronze,
            "silver": kept,
            "superseded": counts.get("superseded", 0),
            "duplicates": counts.get("duplicate", 0),
            "rejected": counts.get("rejected", 0),
        }
        accounted = kept + entry["superseded"] + entry["duplicates"] + entry["rejected"]
        entry["difference"] = bronze - accounted
        out.append(entry)
    return out


def print_reconciliation(rows: list[dict[str, Any]] | None) -> None:
    """The reconciliation as a fixed-width table on stdout."""
    if rows is None:
        print("reconciliation: not made (silver.record_dispositions was not in the selection)")
        return
    cols = ("table", "bronze", "silver", "superseded", "duplicates", "rejected", "difference")
    print("reconciliation: bronze = silver + superseded + duplicates + rejected")
    print(f"  {cols[0]:<26}" + "".join(f"{c:>12}" for c in cols[1:]))
    for row in rows:
        print(f"  {row['table']:<26}" + "".join(f"{row[c]:>12,}" for c in cols[1:]))
