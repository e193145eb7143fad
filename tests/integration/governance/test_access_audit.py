"""Roles on real Spark: a denied table and column, masks through a join and SELECT *, one
append-only audit row per run, and no secret in what a run leaves behind.

The lake is three small gold tables and one silver table written here (no dbt build).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lakehouse.cli.main import main
from lakehouse.settings import override_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gov_lake(spark, tmp_path_factory):
    """Gold declarations, traders and inspections, and one silver table, as Delta."""
    root = (tmp_path_factory.mktemp("access") / "lake").resolve()
    tables = {
        "gold/fct_declarations": (
            [("L1", "IMP-1", "KEMBA"), ("L2", "IMP-2", "KEMSA")],
            "lrn string, importer_id string, office_code string",
        ),
        "gold/dim_traders": (
            [("IMP-1", "importer", "Wanjiru Kamau"), ("IMP-2", "importer", "Otieno Ltd")],
            "trader_id string, role string, name string",
        ),
        "gold/fct_inspections": (
            [("I1", "L1", "OFF-9")],
            "inspection_id string, lrn string, officer_id string",
        ),
        "silver/int_cms__declarations": ([("L1", "x")], "lrn string, raw string"),
    }
    for path, (rows, ddl) in tables.items():
        spark.createDataFrame(rows, ddl).write.format("delta").save(f"{root.as_uri()}/{path}")
    with override_settings(lake_root=root.as_uri()) as settings:
        yield settings


def _sql(settings, role: str, query: str, *extra: str) -> int:
    return main(
        [
            "sql",
            "--role",
            role,
            "--format",
            "json",
            "--lake-root",
            settings.lake_root,
            *extra,
            query,
        ]
    )


def _audit(settings) -> list[dict]:
    from deltalake import DeltaTable

    from governance.audit.log import table_uri

    if not Path(table_uri(settings).removeprefix("file://")).exists():
        return []
    rows = DeltaTable(table_uri(settings)).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: r["started_at"])


def test_denied_table_and_column_name_the_table_and_the_role(gov_lake, capsys) -> None:
    assert _sql(gov_lake, "analyst", "SELECT * FROM silver.int_cms__declarations") == 2
    assert _sql(gov_lake, "analyst", "SELECT lrn, officer_id FROM gold.fct_inspections") == 2
    assert _sql(gov_lake, "analyst", "DROP TABLE gold.fct_declarations") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[0]
        == "lakehouse sql: error: role analyst may not read table silver.int_cms__declarations"
    )
    assert (
        err[1]
        == "lakehouse sql: error: role analyst may not read column gold.fct_inspections.officer_id"
    )
    assert "may only run queries" in err[2]
    # The data engineer reads both.
    assert _sql(gov_lake, "data_engineer", "SELECT officer_id FROM gold.fct_inspections") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == {"officer_id": "OFF-9"}


def test_masked_columns_stay_masked_through_a_join_and_select_star(gov_lake, capsys) -> None:
    query = (
        "WITH d AS (SELECT * FROM gold.fct_declarations) "
        "SELECT d.*, t.* FROM d JOIN gold.dim_traders t ON t.trader_id = d.importer_id"
        " ORDER BY d.lrn"
    )
    assert _sql(gov_lake, "analyst", query) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    digest = hashlib.sha256(b"IMP-1").hexdigest()
    assert len(rows) == 2  # hashed on both sides: the join still matches
    assert rows[0]["importer_id"] == digest and rows[0]["trader_id"] == digest
    assert rows[0]["name"] == "Wa***" and rows[0]["lrn"] == "L1"
    assert "IMP-1" not in json.dumps(rows) and "Wanjiru" not in json.dumps(rows)
    # A subquery does not escape the mask either.
    sub = "SELECT max(name) AS n FROM (SELECT name FROM gold.dim_traders WHERE role = 'importer')"
    assert _sql(gov_lake, "analyst", sub) == 0
    assert json.loads(capsys.readouterr().out) == {"n": "Wa***"}


def test_one_append_only_audit_row_per_run(gov_lake, capsys) -> None:
    from deltalake import DeltaTable

    from governance.audit.log import table_uri

    before = len(_audit(gov_lake))
    assert _sql(gov_lake, "analyst", "SELECT count(*) AS n FROM gold.dim_traders") == 0
    assert _sql(gov_lake, "analyst", "SELECT * FROM silver.int_cms__declarations") == 2
    capsys.readouterr()
    rows = _audit(gov_lake)
    assert len(rows) == before + 2
    ok, denied = rows[-2:]
    assert (ok["command"], ok["role"], ok["outcome"], ok["rows"]) == ("sql", "analyst", "ok", 1)
    assert ok["sql_text"] == "SELECT count(*) AS n FROM gold.dim_traders"
    assert ok["tables_read"] == ["gold.dim_traders@v0"]
    assert ok["user"] and ok["finished_at"] >= ok["started_at"]
    assert denied["outcome"] == "denied" and "silver.int_cms__declarations" in denied["message"]
    # Append-only in the Delta protocol: no engine may delete from it.
    with pytest.raises(Exception, match=r"(?i)append"):
        DeltaTable(table_uri(gov_lake)).delete("outcome = 'denied'")
    assert len(_audit(gov_lake)) == before + 2


def test_no_secret_in_the_output_audit_or_logs_of_a_run(
    gov_lake, base_settings, capfd, monkeypatch
) -> None:
    from lakehouse.spark import log_file
    from tests.atlas_standin import serve

    password = "atlas-test-password-7f3a"
    monkeypatch.setenv("LAKEHOUSE_ATLAS_USER", "publisher")
    monkeypatch.setenv("LAKEHOUSE_ATLAS_PASSWORD", password)
    server, _ = serve()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert (
            main(["lineage", "publish", "--atlas-url", url, "--lake-root", gov_lake.lake_root]) == 0
        )
        assert _sql(gov_lake, "auditor", "SELECT command, outcome FROM governance.audit_log") == 0
    finally:
        server.shutdown()
    captured = capfd.readouterr()
    # The access key is an identifier, not a secret (and a substring of the run's temp paths).
    secrets = [password, base_settings.s3.secret_key]
    texts = {
        "stdout": captured.out,
        "stderr": captured.err,
        "audit": json.dumps(_audit(gov_lake), default=str),
        "engine log": Path(log_file(base_settings)).read_text(errors="replace"),
    }
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a test credential in the {where}"
    assert "lineage" in texts["audit"] and "publish" in texts["audit"]
