"""lakehouse transform on real Spark + Delta: every model and dbt test, reconciliation, CLI."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.dbt]


@pytest.fixture(autouse=True)
def _catalog_on_this_lake(spark, built_lake) -> None:
    """Names resolve to this module's lake (another test may have re-pointed the catalog)."""
    from lakehouse.catalog import sync_catalog

    sync_catalog(spark, built_lake[0])


GOLD = (
    "fct_declarations",
    "fct_declaration_items",
    "dim_traders",
    "dim_tariff_lines",
    "fct_revenue_daily",
    "fct_inspections",
    "fct_transit_trips",
    "ml_declaration_features",
)


def test_every_model_and_test_passes_and_gold_is_filled(spark, built_lake) -> None:
    _settings, result, _ = built_lake
    failed = {n: s for n, s in result.nodes.items() if s not in {"success", "pass", "warn"}}
    assert not failed
    assert any(n.startswith("unit_test.") for n in result.nodes), "unit tests ran in the build"
    for table in GOLD:
        assert spark.table(f"gold.{table}").count() > 0, table


def test_reconciliation_is_exact_and_rejections_name_their_rule(spark, built_lake) -> None:
    _settings, result, _ = built_lake
    assert result.reconciled, result.reconciliation
    by_table = {row["table"]: row for row in result.reconciliation}
    decl = by_table["cms_declarations"]
    assert decl["bronze"] == spark.table("bronze.cms_declarations").count()
    assert decl["silver"] == spark.table("gold.fct_declarations").count()
    assert decl["duplicates"] > 0 and decl["superseded"] > 0
    assert by_table["ects_events"]["duplicates"] >= 0
    bad = spark.sql("SELECT * FROM silver.rejected_rows WHERE rule IS NULL OR field IS NULL")
    assert bad.count() == 0


def test_incremental_runs_equal_a_full_refresh(spark, built_lake) -> None:
    """The lake built by a sequence of runs (day 1 staged, then day 2 merged on top) holds
    exactly the tables a full refresh from all of bronze gives: staging (incremental), the
    rule models and every gold mart."""
    from lakehouse.transform import transform

    settings, _result, _ = built_lake
    tables = [
        f"{zone}.{t.name}"
        for zone in ("silver", "gold")
        for t in spark.catalog.listTables(zone)
        if not t.isTemporary  # dbt's merge leaves temp views
    ]
    assert sum(t.startswith("silver.stg_") for t in tables) == 12
    assert sum(t.startswith("gold.") for t in tables) == len(GOLD)
    before = {t: spark.table(t).localCheckpoint() for t in tables}
    transform(spark, settings, full_refresh=True, unit_tests=False)
    for table, old in before.items():
        new = spark.table(table)
        assert old.exceptAll(new).count() == 0, table
        assert new.exceptAll(old).count() == 0, table


def test_rerun_without_new_bronze_changes_nothing(spark, built_lake) -> None:
    from lakehouse.transform import transform

    settings, _result, _ = built_lake
    before = spark.table("silver.stg_ects__events").count()
    result = transform(spark, settings, select=["stg_ects__events"])
    assert spark.table("silver.stg_ects__events").count() == before
    assert result.reconciled


def test_sql_command_prints_rows_and_one_line_on_a_bad_query(spark, built_lake, capsys) -> None:
    from lakehouse.cli.main import main

    settings, _result, _ = built_lake
    root = settings.lake_root
    code = main(
        [
            "sql",
            "--lake-root",
            root,
            "--format",
            "csv",
            "SELECT office_code, count(*) AS n FROM gold.fct_declarations GROUP BY 1 ORDER BY 1",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[0] == "office_code,n" and len(out) > 1
    code = main(["sql", "--lake-root", root, "SELECT nope FROM gold.fct_declarations"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "nope" in err[0] and "Traceback" not in err[0]


def test_transform_failure_is_one_line_and_exit_2(spark, tmp_path, capsys) -> None:
    from lakehouse.cli.main import main

    empty = (tmp_path / "empty-lake").resolve()
    code = main(["transform", "--lake-root", str(empty), "--select", "stg_hr__officers"])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 2
    assert err and "Traceback" not in "\n".join(err)
