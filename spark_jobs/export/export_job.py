"""The CMS score export of one date: ``outbound/scores/<date>/`` and the database upsert.

Files: ``scores.csv`` and ``scores.jsonl`` (the same rows, best risk first), a ``.sha256``
beside each (the ``scores_export`` NiFi flow ships them byte for byte) and ``manifest.json``
(row count, checksums, model versions, control sample), written last: a reader that waits for
the manifest never sees a partial export. Locally the folder is built under a hidden staging
name and renamed into place; on S3 the old folder goes first and the manifest comes last.

Database: the rows are upserted into the CMS score table in one transaction per date (rows of
that date that are no longer scored are deleted in the same transaction), and the transaction
commits only after the files are in place. A failure anywhere leaves the previous export in
both places. A rerun replaces the date's rows, never adds to them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import ExportError
from lakehouse.settings import Settings

SCORE_TABLE = "cms_risk_scores"
COLUMNS = (
    "score_date",
    "lrn",
    "mrn",
    "risk",
    "expected_revenue",
    "risk_rank",
    "revenue_rank",
    "in_capacity",
    "control_sample",
    "selected",
    "reason_1",
    "reason_2",
    "reason_3",
    "risk_model_version",
    "revenue_model_version",
)
_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCORE_TABLE} (
    score_date date NOT NULL,
    lrn text NOT NULL,
    mrn text,
    risk double precision NOT NULL,
    expected_revenue double precision,
    risk_rank integer NOT NULL,
    revenue_rank integer NOT NULL,
    in_capacity boolean NOT NULL,
    control_sample boolean NOT NULL,
    selected boolean NOT NULL,
    reason_1 text,
    reason_2 text,
    reason_3 text,
    risk_model_version text NOT NULL,
    revenue_model_version text NOT NULL,
    PRIMARY KEY (score_date, lrn)
)"""


@dataclass
class ExportResult:
    """What ``lakehouse export`` reports."""

    day: date
    rows: int
    folder: str
    database: str

    def text(self) -> str:
        """Human summary."""
        return (
            f"exported {self.rows:,} scores of {self.day}: {self.folder}; database: {self.database}"
        )


def read_scores(spark: SparkSession, day: date) -> pd.DataFrame:
    """The date's rows of ``gold.risk_scores``, best risk first."""
    if not spark.catalog.tableExists("gold.risk_scores"):
        raise ExportError(f"gold.risk_scores does not exist: run `lakehouse score --date {day}`")
    rows: pd.DataFrame = (
        spark.table("gold.risk_scores")
        .where(F.col("score_date") == F.lit(day))
        .select(*COLUMNS, "control_rate", "control_seed", "capacity")
        .orderBy("risk_rank")
        .toPandas()
    )
    if rows.empty:
        raise ExportError(
            f"no scores for {day} in gold.risk_scores: run `lakehouse score --date {day}`"
        )
    return rows


def render(rows: pd.DataFrame, day: date) -> dict[str, bytes]:
    """Every file of the export, the manifest last (dicts keep insertion order)."""
    data = rows.loc[:, list(COLUMNS)].copy()
    data["score_date"] = data["score_date"].astype(str)
    csv = data.to_csv(index=False, lineterminator="\n").encode("utf-8")
    jsonl = "".join(
        json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        for record in json.loads(data.to_json(orient="records", double_precision=15))
    ).encode("utf-8")
    files = {"scores.csv": csv, "scores.jsonl": jsonl}
    digests = {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}
    for name in list(files):
        files[f"{name}.sha256"] = f"{digests[name]}  {name}\n".encode()
    first = rows.iloc[0]
    manifest = {
        "score_date": day.isoformat(),
        "rows": len(rows),
        "files": {n: {"sha256": digests[n], "bytes": len(files[n])} for n in digests},
        "risk_model_version": str(first["risk_model_version"]),
        "revenue_model_version": str(first["revenue_model_version"]),
        "capacity": float(first["capacity"]),
        "selected": int(rows["selected"].sum()),
        "control_sample": {
            "rate": float(first["control_rate"]),
            "seed": int(first["control_seed"]),
            "rows": int(rows["control_sample"].sum()),
        },
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    return files


def upsert(conn: Any, rows: pd.DataFrame, day: date) -> None:
    """Replace the date's rows in the CMS score table (inside the caller's transaction)."""
    conn.execute(_DDL)
    conn.execute(
        f"CREATE TEMP TABLE incoming (LIKE {SCORE_TABLE} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    columns = ", ".join(COLUMNS)
    with conn.cursor().copy(f"COPY incoming ({columns}) FROM STDIN") as copy:
        for record in rows.loc[:, list(COLUMNS)].itertuples(index=False):
            copy.write_row([_plain(v) for v in record])
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("score_date", "lrn"))
    conn.execute(
        f"INSERT INTO {SCORE_TABLE} ({columns}) SELECT {columns} FROM incoming "
        f"ON CONFLICT (score_date, lrn) DO UPDATE SET {updates}"
    )
    conn.execute(
        f"DELETE FROM {SCORE_TABLE} t WHERE t.score_date = %s "
        "AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.lrn = t.lrn)",
        (day,),
    )


def _plain(value: Any) -> Any:
    """numpy and pandas scalars as Python values; NaN/NA as NULL."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


class Outbound:
    """The outbound folder of a lake: publishes a date's files whole."""

    def __init__(self, settings: Settings) -> None:
        from lakehouse.storage import LakeFiles

        self.settings = settings
        self.files = LakeFiles(settings)
        self.root = f"{settings.zone('outbound')}/scores"

    def folder(self, day: date) -> str:
        """URI of the date's folder."""
        return f"{self.root}/{day.isoformat()}"

    @contextlib.contextmanager
    def staged(self, day: date, files: dict[str, bytes]) -> Iterator[Callable[[], None]]:
        """Stage the files; yields ``publish`` (moves them into place). Staging is removed
        whatever happens, so a failure leaves only the previous export."""
        if self.settings.is_s3:
            yield lambda: self._publish_s3(day, files)
            return
        from lakehouse.storage import local_path

        target = Path(local_path(self.folder(day)))
        staging = target.with_name(f".{target.name}.staging-{os.getpid()}")
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir(parents=True)
            for name, body in files.items():  # the manifest is the last key
                (staging / name).write_bytes(body)

            def publish() -> None:
                moved = target.exists()
                if moved:
                    os.replace(target, old)
                try:
                    os.replace(staging, target)
                except BaseException:
                    if moved:  # put the previous export back before giving up
                        os.replace(old, target)
                    raise
                shutil.rmtree(old, ignore_errors=True)

            yield publish
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _publish_s3(self, day: date, files: dict[str, bytes]) -> None:
        folder = self.folder(day)
        self.files.remove_tree(folder)
        for name, body in files.items():  # manifest last: readers wait for it
            self.files.write(f"{folder}/{name}", body)


def export_day(
    spark: SparkSession,
    settings: Settings,
    day: date,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> ExportResult:
    """Export ``day``'s scores to the outbound folder and, when a DSN is set, the database."""
    rows = read_scores(spark, day)
    files = render(rows, day)
    outbound = Outbound(settings)
    with outbound.staged(day, files) as publish:
        if settings.pg_dsn is None:
            publish()
            database = "skipped (LAKEHOUSE_PG_DSN is not set)"
        else:
            database = _with_database(settings.pg_dsn, rows, day, publish)
    progress(f"{len(rows):,} rows to {outbound.folder(day)}")
    return ExportResult(day, len(rows), outbound.folder(day), database)


def _with_database(dsn: str, rows: pd.DataFrame, day: date, publish: Callable[[], None]) -> str:
    """Upsert, publish the files, then commit: the files never outlive a rolled-back upsert."""
    import psycopg

    try:
        with psycopg.connect(dsn) as conn, conn.transaction():
            upsert(conn, rows, day)
            publish()
    except psycopg.OperationalError as exc:
        raise ExportError(
            f"the CMS score database refused the export ({type(exc).__name__}): check "
            "LAKEHOUSE_PG_DSN and that the database is up"
        ) from exc
    return f"{len(rows):,} rows upserted into {SCORE_TABLE}"


def bytes_of(files: dict[str, bytes]) -> int:
    """Total size of an export (benchmarks)."""
    return sum(len(b) for b in files.values())
