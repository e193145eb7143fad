"""Training, the registry's champion rule and scoring into gold.risk_scores, on a five-day
simulated history built by dbt for this file alone (the ``history`` tier: ``pytest -m history``;
three windows need three dates, which the dbt tier's two-day lake does not have).

The issue's required tests run in the default suite instead: no leakage on the dbt tier's lake
(tests/integration/dbt/test_model_no_leakage.py), the control sample, the idempotent export and
the failure midway (tests/integration/models/test_score_export.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

from spark_jobs.score.score_job import ScoreOptions, score_day
from spark_jobs.train import tracking
from spark_jobs.train.dataset import load_declarations
from spark_jobs.train.job import run_training
from tests.integration.models.conftest import WINDOWS

pytestmark = [pytest.mark.integration, pytest.mark.dbt, pytest.mark.history]


def test_train_promote_score_and_rescore(spark, model_lake, tmp_path: Path) -> None:
    first = run_training(spark, model_lake, WINDOWS, report_root=tmp_path)
    assert first.promoted and "first model" in first.promotion
    assert Path(first.report).exists() and (Path(first.report).parent / "evaluation.json").exists()
    assert tracking.champion(model_lake).risk_version == first.risk_version
    head = first.headline
    assert head["population"] == "all"  # the simulator's truth is in the lake: bias measured
    assert "risk_model_precision_on_inspected" in head

    second = run_training(spark, model_lake, WINDOWS, report_root=tmp_path)
    # The same data and seeds give the same model: it cannot beat the champion, so it stays.
    assert not second.promoted and "kept champion" in second.promotion
    assert tracking.champion(model_lake).risk_version == first.risk_version
    versions = tracking.list_versions(model_lake)
    assert [v["champion"] for v in versions] == [False, True]

    day = WINDOWS.test_to
    options = ScoreOptions(capacity=0.05, control_rate=0.10, control_seed=11)
    result = score_day(spark, model_lake, day, options)
    expected = load_declarations(spark, model_lake).where(F.col("issue_date") == day).count()
    assert result.rows == expected
    assert result.in_capacity == math.ceil(0.05 * expected)
    table = spark.table("gold.risk_scores").where(F.col("score_date") == day)
    rows = table.orderBy("risk_rank").collect()
    assert [r.risk_rank for r in rows] == list(range(1, expected + 1))
    assert all(r.risk_model_version == first.risk_version for r in rows)
    assert np.all(np.diff([r.risk for r in rows]) <= 1e-12)
    top = rows[0]
    assert top.reason_1, "the riskiest declaration has no reason"
    assert {r.control_seed for r in rows} == {11}

    again = score_day(spark, model_lake, day, options)  # replaceWhere: the day replaced
    assert again.rows == result.rows
    assert table.count() == expected
