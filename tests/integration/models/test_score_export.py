"""Scoring's ranks and control sample, and the CMS export: files with the manifest last and the
PostgreSQL upsert, idempotent, and all-or-nothing when a step fails midway."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
import pytest
from pyspark.sql import functions as F

from lakehouse.catalog import register_table
from lakehouse.settings import override_settings
from spark_jobs.export import export_job
from spark_jobs.export.export_job import SCORE_TABLE, export_day
from spark_jobs.score.score_job import ScoreOptions, rank_and_mark

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 24)


def scored(spark, n: int, seed: int = 3):
    """A day of scored declarations (risk random), as the models would leave it."""
    return spark.range(n).select(
        F.format_string("LRN%06d", "id").alias("lrn"),
        F.format_string("MRN%06d", "id").alias("mrn"),
        F.rand(seed).alias("risk"),
        (F.rand(seed + 1) * 1000).alias("expected_revenue"),
    )


def test_control_sample_is_drawn_at_its_rate_seeded_and_blind_to_the_score(spark) -> None:
    options = ScoreOptions(capacity=0.05, control_rate=0.01, control_seed=7)
    marked = rank_and_mark(scored(spark, 20_000), DAY, options).cache()
    stats = marked.agg(
        F.avg(F.col("control_sample").cast("double")).alias("rate"),
        F.sum(F.col("in_capacity").cast("int")).alias("capacity"),
        F.avg(F.when(F.col("control_sample"), F.col("risk"))).alias("control_risk"),
        F.countDistinct("control_seed").alias("seeds"),
    ).first()
    # 20,000 draws at 1 %: 200 expected, sd 14; the sample ignores the score (mean risk 0.5).
    assert 0.0085 <= stats.rate <= 0.0115
    assert stats.capacity == 1000
    assert 0.42 <= stats.control_risk <= 0.58
    assert stats.seeds == 1
    again = rank_and_mark(scored(spark, 20_000), DAY, options)
    first = {r.lrn for r in marked.where("control_sample").select("lrn").collect()}
    assert {r.lrn for r in again.where("control_sample").select("lrn").collect()} == first
    other = rank_and_mark(scored(spark, 20_000), DAY, ScoreOptions(control_seed=8))
    assert {r.lrn for r in other.where("control_sample").select("lrn").collect()} != first
    marked.unpersist()


@pytest.fixture()
def scores_lake(spark, lake, postgres):
    """A lake whose gold.risk_scores holds one scored day; the CMS DSN set."""
    options = ScoreOptions(capacity=0.05, control_rate=0.05, control_seed=1)
    rows = rank_and_mark(scored(spark, 300), DAY, options).select(
        F.lit(DAY).alias("score_date"),
        "lrn",
        "mrn",
        F.lit(DAY).alias("issue_date"),
        "risk",
        "expected_revenue",
        F.col("expected_revenue").alias("amount_if_found"),
        F.col("risk_rank").cast("int").alias("risk_rank"),
        F.col("revenue_rank").cast("int").alias("revenue_rank"),
        "in_capacity",
        "control_sample",
        "selected",
        F.lit("unit value 78 % below the norm for 8517.13 from CN").alias("reason_1"),
        F.lit(None).cast("string").alias("reason_2"),
        F.lit(None).cast("string").alias("reason_3"),
        F.lit("3").alias("risk_model_version"),
        F.lit("3").alias("revenue_model_version"),
        "capacity",
        "control_rate",
        "control_seed",
    )
    uri = lake.table_uri("gold", "risk_scores")
    rows.write.format("delta").mode("overwrite").partitionBy("score_date").save(uri)
    register_table(spark, "gold", "risk_scores", uri)
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SCORE_TABLE}")
    with override_settings(lake_root=lake.lake_root, pg_dsn=postgres.dsn) as settings:
        yield settings


def database_rows(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            f"SELECT lrn, risk_rank, selected, reason_1 FROM {SCORE_TABLE} "
            "WHERE score_date = %s ORDER BY risk_rank",
            (DAY,),
        ).fetchall()


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.parent.rglob("*")) if p.is_file()}


def test_export_writes_files_and_manifest_and_a_rerun_changes_nothing(spark, scores_lake) -> None:
    settings = scores_lake
    result = export_day(spark, settings, DAY)
    folder = Path(result.folder.removeprefix("file://"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == 300 and result.rows == 300
    assert manifest["control_sample"]["seed"] == 1 and manifest["risk_model_version"] == "3"
    import hashlib

    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    lines = (folder / "scores.jsonl").read_text().splitlines()
    assert len(lines) == 300 and json.loads(lines[0])["risk_rank"] == 1
    first_db, first_files = database_rows(settings.pg_dsn), folder_state(folder)
    assert len(first_db) == 300 and first_db[0][3].startswith("unit value 78 %")

    export_day(spark, settings, DAY)  # the rerun replaces, never adds
    assert database_rows(settings.pg_dsn) == first_db
    assert folder_state(folder) == first_files


def test_a_failure_midway_leaves_the_previous_export_whole(spark, scores_lake, monkeypatch) -> None:
    settings = scores_lake
    result = export_day(spark, settings, DAY)
    folder = Path(result.folder.removeprefix("file://"))
    before_db, before_files = database_rows(settings.pg_dsn), folder_state(folder)
    # The next night's rescoring of the same day changes every row ...
    spark.sql("UPDATE gold.risk_scores SET reason_1 = 'rescored', risk_model_version = '4'")
    real_upsert = export_job.upsert

    def upsert_then_fail(conn, rows, day):
        real_upsert(conn, rows, day)  # ... the database has taken the rows, uncommitted ...
        raise RuntimeError("injected: connection lost after the upsert")

    monkeypatch.setattr(export_job, "upsert", upsert_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        export_day(spark, settings, DAY)
    assert database_rows(settings.pg_dsn) == before_db
    assert folder_state(folder) == before_files  # no staging left, old files untouched

    def publish_fails(*args, **kwargs):
        raise OSError("injected: disk full while moving the files into place")

    monkeypatch.setattr(export_job, "upsert", real_upsert)
    monkeypatch.setattr(export_job.os, "replace", publish_fails)
    with pytest.raises(OSError, match="injected"):
        export_day(spark, settings, DAY)
    monkeypatch.undo()
    assert database_rows(settings.pg_dsn) == before_db  # the upsert rolled back with it
    assert folder_state(folder) == before_files

    export_day(spark, settings, DAY)  # and once the fault is gone, the new export lands whole
    after = database_rows(settings.pg_dsn)
    assert len(after) == 300 and {r[3] for r in after} == {"rescored"}
