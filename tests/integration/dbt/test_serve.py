"""lakehouse serve: the real command in its own process over the built lake, queried by a real
HiveServer2 client (PyHive).

Its own process because the listening address must be in the JVM's environment when the JVM
starts (lakehouse/cli/serve.py); the test session's JVM is already running. The served lake
has its own embedded metastore, rebuilt from the lake's Delta logs when the command starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.dbt]


def test_pyhive_client_runs_a_gold_query(spark, built_lake, tmp_path: Path) -> None:
    from pyhive import hive

    from lakehouse.cli.serve import wait_listening
    from tests.services import free_port

    settings, _result, _ = built_lake
    expected = spark.sql("SELECT count(*) FROM gold.fct_declarations").first()[0]
    port = free_port()
    env = {
        **os.environ,
        "LAKEHOUSE_STATE_DIR": str(tmp_path / "serve-state"),  # its own embedded metastore
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    command = [sys.executable, "-m", "lakehouse.cli.main", "serve"]
    command += ["--lake-root", settings.lake_root, "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening("127.0.0.1", port, timeout=600)
        conn = hive.connect(host="127.0.0.1", port=port, username="analyst")
        cursor = conn.cursor()
        cursor.execute(
            "SELECT office_code, count(*) AS n FROM gold.fct_declarations"
            " GROUP BY office_code ORDER BY n DESC"
        )
        rows = cursor.fetchall()
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=120)
    assert rows and sum(n for _office, n in rows) == expected
