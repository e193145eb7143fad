"""A small simulated history (five days), ingested and transformed once per test run, for the
model tests: train on days 1-3, validate on day 4, test and score day 5.

The dbt build dominates (minutes on two cores), so the days are all landed first and ingested
in one pass, and the lake is built once for the session.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from lakehouse.settings import override_settings
from spark_jobs.train.model import Windows
from tests.integration.dbt.conftest import pseudonym_key  # noqa: F401 (the fixture, shared)

FIRST_DAY = date(2026, 11, 20)
DAYS = 5
PER_DAY = 150
WINDOWS = Windows(
    FIRST_DAY,
    FIRST_DAY + timedelta(days=2),
    FIRST_DAY + timedelta(days=3),
    FIRST_DAY + timedelta(days=4),
)


@pytest.fixture(scope="session")
def model_lake(spark, run_dir: Path, pseudonym_key: str):  # noqa: F811
    """Settings of the built lake (gold.ml_declaration_features and friends present)."""
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate
    from lakehouse.transform import transform

    root = (run_dir / "model-lake").resolve()
    with override_settings(lake_root=root.as_uri()) as settings:
        for offset in range(DAYS):
            generate(
                str(root),
                declarations=PER_DAY,
                seed=40 + offset,
                day=FIRST_DAY + timedelta(days=offset),
                malformed_rate=0.0,
            )
        init_lake(spark, settings)
        ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))
        transform(spark, settings)
        yield settings
