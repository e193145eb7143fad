"""The PostgreSQL-backed metastore: two Spark processes use the catalog at the same time.

Each process is its own JVM (the test session's embedded catalog is not involved): one
registers a table and keeps its session open, the other queries it by name meanwhile, which
the embedded Derby metastore cannot allow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.dbt]

HOLDER = """
import sys, time
from lakehouse.settings import get_settings
from lakehouse.spark import get_spark
from lakehouse.catalog import register_table
settings = get_settings()
spark = get_spark(settings, app_name="holder")
uri = settings.table_uri("bronze", "probe_table")
spark.range(7).write.format("delta").mode("overwrite").save(uri)
register_table(spark, "bronze", "probe_table", uri)
print("REGISTERED", flush=True)
time.sleep(float(sys.argv[1]))
print(spark.table("bronze.probe_table").count(), flush=True)
"""


def test_two_processes_share_the_postgres_catalog(postgres, run_dir: Path) -> None:
    lake = (run_dir / "pg-catalog-lake").resolve()
    env = {
        **os.environ,
        "LAKEHOUSE_ENV": "test",
        "LAKEHOUSE_LAKE_ROOT": lake.as_uri(),
        "LAKEHOUSE_METASTORE_URL": f"jdbc:postgresql://127.0.0.1:{postgres.port}/lakehouse",
        "LAKEHOUSE_METASTORE_USER": postgres.user,
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        "LAKEHOUSE_PSEUDONYM_KEY": "k",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        line = ""
        while "REGISTERED" not in line and time.monotonic() < deadline:
            line = holder.stdout.readline()
            assert line or holder.poll() is None, "holder process ended early"
        reader = subprocess.run(
            [
                sys.executable,
                "-m",
                "lakehouse.cli.main",
                "sql",
                "--format",
                "csv",
                "SELECT count(*) AS n FROM bronze.probe_table",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert holder.poll() is None, "the first process still holds its session"
    finally:
        holder.terminate()
        holder.wait(timeout=60)
    assert reader.returncode == 0, reader.stderr[-2000:]
    assert reader.stdout.splitlines() == ["n", "7"]
