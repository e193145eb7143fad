"""``lakehouse serve --role``: the real command in its own process, queried with PyHive.

The analyst's denials and masks through the Thrift endpoint: a denied table and column name
the table and the role, masks hold through a join and ``SELECT *``, a path read or a command
cannot go around the role's views, and every statement has its own audit row.

Its own process because the listening address must be in the JVM's environment when the JVM
starts (lakehouse/cli/serve.py). The lake is three gold tables and a silver one (no dbt).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

JOIN = (
    "SELECT d.*, t.* FROM gold.fct_declarations d"
    " JOIN gold.dim_traders t ON t.trader_id = d.importer_id ORDER BY d.lrn"
)


@pytest.fixture(scope="module")
def served_lake(spark, tmp_path_factory):
    """The lake, and `lakehouse serve --role analyst` on it (stopped after the module)."""
    from lakehouse.cli.serve import wait_listening
    from tests.services import free_port

    root = (tmp_path_factory.mktemp("serve-role") / "lake").resolve()
    tables = {
        "gold/fct_declarations": (
            [("L1", "IMP-1"), ("L2", "IMP-2")],
            "lrn string, importer_id string",
        ),
        "gold/dim_traders": (
            [("IMP-1", "Wanjiru Kamau"), ("IMP-2", "Otieno Ltd")],
            "trader_id string, name string",
        ),
        "gold/fct_inspections": (
            [("I1", "L1", "OFF-9")],
            "inspection_id string, lrn string, officer_id string",
        ),
        "silver/int_cms__declarations": ([("L1", "x")], "lrn string, raw string"),
    }
    for path, (rows, ddl) in tables.items():
        spark.createDataFrame(rows, ddl).write.format("delta").save(f"{root.as_uri()}/{path}")
    port = free_port()
    env = {
        **os.environ,
        "LAKEHOUSE_STATE_DIR": str(root.parent / "serve-state"),
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    command = [sys.executable, "-m", "lakehouse.cli.main", "serve", "--role", "analyst"]
    command += ["--lake-root", root.as_uri(), "--port", str(port)]
    log = root.parent / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_listening("127.0.0.1", port, timeout=600)
        yield root, port
    finally:
        server.terminate()
        server.wait(timeout=120)


def _run(port: int, statement: str) -> list[tuple]:
    from pyhive import hive

    conn = hive.connect(host="127.0.0.1", port=port, username="ana")
    try:
        cursor = conn.cursor()
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def _refused(port: int, statement: str) -> str:
    with pytest.raises(Exception) as caught:  # PyHive's OperationalError carries the message
        _run(port, statement)
    return str(caught.value)


def test_masks_hold_through_a_join_and_select_star(served_lake) -> None:
    _root, port = served_lake
    rows = _run(port, JOIN)
    digest = hashlib.sha256(b"IMP-1").hexdigest()
    assert len(rows) == 2  # hashed on both sides: the join still matches
    assert rows[0] == ("L1", digest, digest, "Wa***")
    assert "IMP-1" not in repr(rows) and "Wanjiru" not in repr(rows)
    assert _run(port, "SELECT * FROM gold.dim_traders ORDER BY name") == [
        (hashlib.sha256(b"IMP-2").hexdigest(), "Ot***"),
        (digest, "Wa***"),
    ]
    assert _run(port, "SELECT inspection_id, lrn FROM gold.fct_inspections") == [("I1", "L1")]


def test_denied_table_and_column_name_the_table_and_the_role(served_lake) -> None:
    _root, port = served_lake
    assert "role analyst may not read table silver.int_cms__declarations" in _refused(
        port, "SELECT lrn FROM silver.int_cms__declarations"
    )
    column = "role analyst may not read column gold.fct_inspections.officer_id"
    assert column in _refused(port, "SELECT lrn, officer_id FROM gold.fct_inspections")
    assert column in _refused(port, "SELECT * FROM gold.fct_inspections")


def test_paths_and_commands_cannot_go_around_the_views(served_lake) -> None:
    root, port = served_lake
    path = f"{root.as_uri()}/gold/dim_traders"
    message = _refused(port, f"SELECT * FROM delta.`{path}`")
    assert "role analyst may not read table gold.dim_traders" in message
    _run(port, "SET spark.sql.runSQLOnFiles=true")  # a client may turn path SQL on...
    assert "may not read" in _refused(port, f"SELECT name FROM parquet.`{path}`")  # ...no use
    assert "may only run queries" in _refused(port, "DROP VIEW gold.dim_traders")
    assert "may only run queries" in _refused(
        port, f"CREATE TEMPORARY VIEW t USING delta OPTIONS (path '{path}')"
    )


def test_one_audit_row_per_statement(served_lake) -> None:
    from deltalake import DeltaTable

    root, port = served_lake
    marker = f"SELECT count(*) AS n FROM gold.dim_traders WHERE name <> '{time.time()}'"
    assert _run(port, marker) == [(2,)]
    denied = "SELECT raw FROM silver.int_cms__declarations -- audit"
    _refused(port, denied)
    rows: list[dict] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(rows) < 2:
        time.sleep(1)
        table = DeltaTable(f"{root.as_uri()}/governance/audit_log").to_pyarrow_table()
        rows = [r for r in table.to_pylist() if r["sql_text"] in (marker, denied)]
    ok, refused = sorted(rows, key=lambda r: r["started_at"])
    assert (ok["command"], ok["role"], ok["user"], ok["outcome"]) == (
        "serve",
        "analyst",
        "ana",
        "ok",
    )
    assert ok["tables_read"] == ["gold.dim_traders@v0"]
    assert refused["outcome"] == "denied"
    assert "silver.int_cms__declarations" in refused["message"]
    assert ok["finished_at"] >= ok["started_at"]
