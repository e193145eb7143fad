"""The contracts on the dbt-built lake: the dbt tables' columns and types are the contracts'
(the registry test cannot see a model's columns without building it), and the contracts of the
intermediate models and seeds hold on correctly built data, within ``thresholds.yml``."""

from __future__ import annotations

import pytest

from governance.contracts import contracts, intermediate, seeds
from governance.dq.results import FAIL
from governance.dq.run import validate_and_report

pytestmark = [pytest.mark.integration, pytest.mark.dbt]

DBT_ZONES = ("silver", "gold")


def test_every_dbt_table_has_exactly_its_contracts_columns_and_types(spark, built_lake) -> None:
    from pandera.engines.pyspark_engine import Engine

    settings = built_lake[0]
    wrong = []
    for name, contract in sorted(contracts().items()):
        if contract.zone not in DBT_ZONES:
            continue
        df = spark.read.format("delta").load(settings.table_uri(contract.zone, name.split(".")[1]))
        if set(df.columns) != set(contract.pii):
            wrong.append(f"{name}: table {sorted(df.columns)} != contract {sorted(contract.pii)}")
        typed = contract.model.to_schema().columns
        wrong += [
            f"{name}.{f.name}: table {f.dataType.simpleString()}, contract {typed[f.name].dtype}"
            for f in df.schema.fields
            if f.name in typed and not typed[f.name].dtype.check(Engine.dtype(f.dataType))
        ]
    assert wrong == []


def test_intermediate_and_seed_contracts_pass_on_the_built_lake(
    spark, built_lake, tmp_path
) -> None:
    settings = built_lake[0]
    outcome = validate_and_report(spark, settings, zone="silver", report_dir=tmp_path)
    ours = {c.table for c in (*intermediate.CONTRACTS, *seeds.CONTRACTS)}
    results = [r for r in outcome.run.results if r.table in ours]
    checked = {r.table: r.rows_checked for r in results}
    assert set(checked) == ours, f"not checked: {sorted(ours - set(checked))}"
    # A lake whose bronze lacks no required field rejects nothing: rejected_rows may be empty.
    assert all(rows > 0 for table, rows in checked.items() if table != "silver.rejected_rows")
    assert [r.describe() for r in results if r.status == FAIL] == []
