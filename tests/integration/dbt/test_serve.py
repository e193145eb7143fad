"""lakehouse serve: HiveServer2 in-process over the catalog, queried by a real client (PyHive)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.dbt]


def test_pyhive_client_runs_a_gold_query(spark, built_lake) -> None:
    from pyhive import hive

    from lakehouse.cli.serve import start_thrift_server
    from tests.services import free_port

    settings, _result, _ = built_lake
    port = free_port()
    server = start_thrift_server(spark, settings, "127.0.0.1", port)
    try:
        _wait(port)
        conn = hive.connect(host="127.0.0.1", port=port, username="analyst")
        cursor = conn.cursor()
        cursor.execute(
            "SELECT office_code, count(*) AS n FROM gold.fct_declarations"
            " GROUP BY office_code ORDER BY n DESC"
        )
        rows = cursor.fetchall()
        conn.close()
    finally:
        server.stop()
    expected = spark.sql("SELECT count(*) FROM gold.fct_declarations").first()[0]
    assert rows and sum(n for _office, n in rows) == expected


def _wait(port: int) -> None:
    import socket
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"HiveServer2 did not listen on {port}")
