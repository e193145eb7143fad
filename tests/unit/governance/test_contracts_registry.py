"""Every registry table has a contract that names only its columns; PII rules hold."""

from __future__ import annotations

from pathlib import Path

import pytest

import lakehouse.tables as tables
from governance.contracts import PII_CLASSES, contracts
from governance.contracts.ddl import parse_columns
from lakehouse.tables import TableSpec

pytestmark = pytest.mark.unit


def registry() -> dict[str, TableSpec]:
    """Every TableSpec the registry module defines, alone or in a dict (whatever zone)."""
    found: dict[str, TableSpec] = {}
    for value in vars(tables).values():
        specs = value.values() if isinstance(value, dict) else [value]
        for spec in specs:
            if isinstance(spec, TableSpec):
                found[spec.full_name] = spec
    return found


def stored_columns(spec: TableSpec) -> set[str]:
    extra = {"_ingest"} if spec.zone == "bronze" and spec.name in tables.BRONZE else set()
    return set(parse_columns(spec.columns_ddl)) | extra


def test_registry_is_found() -> None:
    assert {"bronze.cms_declarations", "bronze.quarantine", "bronze.ingest_file_log"} <= set(
        registry()
    )


@pytest.mark.parametrize("table", sorted(registry()))
def test_every_registry_table_has_a_contract_naming_only_its_columns(table: str) -> None:
    spec = registry()[table]
    assert table in contracts(), f"{table} has no contract in governance/contracts"
    contract = contracts()[table]
    named = set(contract.model.to_schema().columns)
    assert named - stored_columns(spec) == set(), f"{table}: contract names missing columns"
    assert stored_columns(spec) - named == set(), f"{table}: columns without a contract field"


@pytest.mark.parametrize("table", sorted(registry()))
def test_contract_types_match_the_registry(table: str) -> None:
    spec = registry()[table]
    columns = parse_columns(spec.columns_ddl)
    schema = contracts()[table].model.to_schema()
    for name, kind in columns.items():
        assert schema.columns[name].dtype.check(kind_of(kind)), f"{table}.{name}: {kind}"


def kind_of(kind):
    from pandera.engines.pyspark_engine import Engine

    return Engine.dtype(kind)


@pytest.mark.parametrize("table", sorted(contracts()))
def test_every_column_has_a_pii_class_and_metadata(table: str) -> None:
    contract = contracts()[table]
    assert contract.owner and contract.source_system
    for column, pii in contract.pii.items():
        assert pii in PII_CLASSES, f"{table}.{column} has PII class {pii!r}"


@pytest.mark.parametrize("table", sorted(t for t in contracts() if not t.startswith("bronze.")))
def test_no_silver_or_gold_column_is_personal(table: str) -> None:
    personal = [c for c, pii in contracts()[table].pii.items() if pii == "personal"]
    assert personal == [], f"{table} keeps personal data in {personal}: pseudonymize before silver"


def test_personal_bronze_columns_are_declared() -> None:
    officers = contracts()["bronze.hr_officers"].pii
    assert {c for c, p in officers.items() if p == "personal"} == {
        "national_id",
        "full_name",
        "email",
        "date_of_birth",
    }


@pytest.mark.parametrize("table", sorted(contracts()))
def test_every_check_has_a_predicate_or_key(table: str) -> None:
    checks = contracts()[table].checks()
    names = [c.name for c in checks]
    assert len(names) == len(set(names)), f"{table}: duplicate check names"
    assert all(c.predicate is not None or c.key for c in checks)


DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt"
ZONE_OF_FOLDER = {"staging": "silver", "intermediate": "silver", "marts": "gold"}


def dbt_tables() -> list[str]:
    """``zone.name`` of every model (each folder's zone) and seed of this checkout's dbt project."""
    found = []
    for folder, zone in ZONE_OF_FOLDER.items():
        found += [
            f"{zone}.{p.stem}" for p in sorted((DBT_PROJECT / "models" / folder).rglob("*.sql"))
        ]
    return found + [f"silver.{p.stem}" for p in sorted((DBT_PROJECT / "seeds").glob("*.csv"))]


def test_every_dbt_model_and_seed_has_a_contract() -> None:
    tables = dbt_tables()
    assert {
        "silver.stg_cms__declarations",
        "silver.int_ects__trips",
        "silver.exchange_rates",
        "gold.fct_declarations",
    } <= set(tables), "the dbt project's folders moved"
    missing = [t for t in tables if t not in contracts()]
    assert missing == [], f"dbt models without a contract in governance/contracts: {missing}"


def test_every_silver_and_gold_contract_names_a_dbt_model_or_seed() -> None:
    stale = sorted(
        t for t in contracts() if t.split(".")[0] in {"silver", "gold"} and t not in dbt_tables()
    )
    assert stale == [], f"contracts for tables the dbt project no longer builds: {stale}"
