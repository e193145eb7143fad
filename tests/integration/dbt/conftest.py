"""A small simulated lake, ingested into bronze and transformed once, shared by the dbt tests.

One Spark session serves the whole run (tests/conftest.py); dbt runs inside it. The lake is
tiny (a few hundred declarations) so a build stays within a few minutes on two cores.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from lakehouse.settings import Settings, override_settings

DAY_1 = date(2026, 11, 24)
DAY_2 = date(2026, 11, 25)


def simulate_and_ingest(spark, settings: Settings, day: date, declarations: int, seed: int):
    """Land one simulated day and ingest it into bronze (catalog registered)."""
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate

    summary = generate(
        settings.lake_root.removeprefix("file://"),
        declarations=declarations,
        seed=seed,
        day=day,
        malformed_rate=0.02,
    )
    init_lake(spark, settings)  # idempotent: a lake is created explicitly
    # The simulator lands files whole: nothing to let settle.
    ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))
    return summary


@pytest.fixture(scope="session")
def pseudonym_key() -> Iterator[str]:
    """A fixed key for the run, so tests can compute expected pseudonyms."""
    key = "test-pseudonym-key"
    old = os.environ.get("LAKEHOUSE_PSEUDONYM_KEY")
    os.environ["LAKEHOUSE_PSEUDONYM_KEY"] = key
    yield key
    if old is None:
        os.environ.pop("LAKEHOUSE_PSEUDONYM_KEY", None)
    else:
        os.environ["LAKEHOUSE_PSEUDONYM_KEY"] = old


@pytest.fixture(scope="session")
def built_lake(spark, run_dir: Path, pseudonym_key: str):
    """Two simulated days: day 1 ingested and its incremental models built (staging, the
    per-key and per-LRN rule models, with the seeds those read), day 2 ingested and everything
    built incrementally on top, so every incremental model's merge branch runs here."""
    from lakehouse.transform import transform

    root = (run_dir / "dbt-lake").resolve()
    with override_settings(lake_root=root.as_uri()) as settings:
        first = simulate_and_ingest(spark, settings, DAY_1, 200, seed=11)
        # `+`: an incremental model's table parents too (int_tariff_lines for the items).
        day_one = ["resource_type:seed", "+config.materialized:incremental"]
        transform(spark, settings, select=day_one)
        second = simulate_and_ingest(spark, settings, DAY_2, 200, seed=12)
        result = transform(spark, settings)
        yield settings, result, [first, second]
