"""End to end on the shared lake: simulated days with planted defects -> bronze -> silver ->
gold, checked against the simulator's ground truth (HS 2017 codes, foreign currencies,
amendments, resent duplicates, natural persons) and an exact reconciliation."""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import reduce
from operator import or_
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.dbt]


@pytest.fixture(scope="module")
def lake(built_lake):
    """The shared two-day lake (conftest) with the simulator's ground truth of both days."""
    settings, result, _summaries = built_lake
    root = Path(settings.lake_root.removeprefix("file://"))
    days = sorted(p.name for p in (root / "simulator" / "ground_truth").iterdir())
    truth = pq.read_table(
        [str(root / f"simulator/ground_truth/{d}/declarations.parquet") for d in days]
    ).to_pandas()
    return settings, result, truth[truth["malformed"].isna()]


@pytest.fixture(autouse=True)
def _catalog_on_this_lake(spark, lake) -> None:
    """Names resolve to this module's lake (another test may have re-pointed the catalog)."""
    from lakehouse.catalog import sync_catalog

    sync_catalog(spark, lake[0])


def _rows(spark, sql: str) -> dict:
    return {r[0]: r for r in spark.sql(sql).collect()}


def test_reconciliation_is_exact(lake) -> None:
    _settings, result, _truth = lake
    assert result.reconciled, result.reconciliation


def test_every_valid_declaration_is_in_gold_once_with_its_mrn(spark, lake) -> None:
    _settings, _result, truth = lake
    gold = _rows(spark, "SELECT lrn, mrn, status FROM gold.fct_declarations")
    missing = set(truth["lrn"]) - set(gold)
    assert not missing
    assert all(gold[r.lrn].mrn == r.mrn for r in truth.itertuples())


def test_hs2017_codes_are_mapped_or_flagged(spark, lake) -> None:
    _settings, _result, truth = lake
    old = truth[truth["older_hs_version"]]
    assert len(old) > 0
    items = spark.sql(
        "SELECT lrn, hs_version_declared, hs_code, flags FROM gold.fct_declaration_items"
        " WHERE hs_version_declared = 'HS2017'"
    ).collect()
    mapped = {r.lrn for r in items}
    assert set(old["lrn"]) <= mapped
    assert all(any(f.startswith("hs2017_mapped") for f in r.flags) for r in items)


def test_foreign_currency_amounts_are_in_national_currency(spark, lake) -> None:
    rows = spark.sql(
        "SELECT lrn, invoice_currency, invoice_amount, exchange_rate, invoice_amount_national"
        " FROM gold.fct_declarations WHERE invoice_currency <> 'KES'"
    ).collect()
    assert rows
    for r in rows:
        assert r.invoice_amount_national is not None
        assert (
            abs(float(r.invoice_amount_national) - float(r.invoice_amount * r.exchange_rate)) < 0.01
        )


def test_amendments_make_the_current_version(spark, lake) -> None:
    _settings, _result, truth = lake
    amended = truth[truth["amendment_function"].notna()]
    assert len(amended) > 0
    gold = _rows(spark, "SELECT lrn, message_function, n_versions FROM gold.fct_declarations")
    for r in amended.itertuples():
        assert gold[r.lrn].n_versions == 2
        assert gold[r.lrn].message_function == r.amendment_function


def test_resent_duplicates_leave_silver(spark, lake) -> None:
    _settings, _result, truth = lake
    # A resent XML file has the same bytes as the first one: ingestion already keeps it once
    # (file log status duplicate), so only EDIFACT and JSON copies reach bronze.
    resent = truth[truth["duplicated"] & (truth["format"] != "xml")]
    assert len(resent) > 0
    gold = _rows(spark, "SELECT lrn, n_resent FROM gold.fct_declarations")
    assert all(gold[lrn].n_resent >= 1 for lrn in resent["lrn"])
    dup = spark.sql(
        "SELECT count(*) FROM silver.record_dispositions"
        " WHERE source_table = 'cms_declarations' AND disposition = 'duplicate'"
    ).first()[0]
    assert dup >= len(resent)


def test_no_clear_personal_identifier_in_silver_or_gold(spark, lake) -> None:
    _settings, _result, truth = lake
    persons = set(truth.loc[truth["importer_id"].str.startswith("A"), "importer_id"])
    assert persons, "the simulated days hold natural persons"
    officers = {
        r.national_id
        for r in spark.sql("SELECT national_id FROM bronze.hr_officers").collect()
        if r.national_id
    }
    clear = persons | officers
    for zone in ("silver", "gold"):
        for table in spark.catalog.listTables(zone):
            if table.isTemporary:  # dbt's merge leaves session temp views (__dbt_tmp)
                continue
            df = spark.table(f"{zone}.{table.name}")
            strings = [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]
            if not strings:
                continue
            holds = reduce(or_, [df[c].isin(list(clear)) for c in strings])
            assert df.where(holds).limit(1).count() == 0, f"{zone}.{table.name}: clear identifier"
    some = sorted(persons)[0]
    key = os.environ["LAKEHOUSE_PSEUDONYM_KEY"].encode()
    expected = hmac.new(key, some.encode(), hashlib.sha256).hexdigest()
    found = spark.sql(
        f"SELECT count(*) FROM gold.dim_traders WHERE trader_id = '{expected}'"
    ).first()[0]
    assert found == 1
