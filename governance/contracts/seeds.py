"""Contracts of the dbt seeds (``dbt/seeds``): reference data silver is built from.

The seeds are silver tables like the models (``silver.<seed>``), loaded from CSV files an
administration extends; a contract catches a bad edit (a duplicate key, a unit without a
factor, a rate of zero, an expired range) before the transformation uses it.
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.
# pandera models declare ``Config.unique`` and ``Config.metadata`` as plain class attributes.
# ruff: noqa: RUF012

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel

from governance.contracts import reference
from governance.contracts import rules as r
from governance.contracts.base import Contract, column

S, D, DEC = T.StringType(), T.DateType(), T.DecimalType(38, 18)
CURRENCIES = sorted(reference.currencies())
OWNER = "customs-data-engineering"
HS6 = r"^[0-9]{6}$"


class ExchangeRates(DataFrameModel):
    """Dated reference rates: quote currency per unit of currency."""

    currency: S = column(nullable=False, isin=CURRENCIES)
    quote_currency: S = column(nullable=False, isin=CURRENCIES)
    valid_from: D = column(nullable=False)
    valid_to: D = column(nullable=False)
    rate: DEC = column(nullable=False, gt=0)

    class Config:
        unique = ["currency", "quote_currency", "valid_from"]
        metadata = {"owner": "customs-revenue", "source_system": "central-bank"}


class HsCorrelation20172022(DataFrameModel):
    """WCO correlation of HS 2017 to HS 2022 subheadings, one row per pair."""

    hs2017: S = column(nullable=False, str_matches=HS6)
    hs2022: S = column(nullable=False, str_matches=HS6)

    class Config:
        unique = ["hs2017", "hs2022"]
        metadata = {"owner": OWNER, "source_system": "wco"}


class UneceRec20Units(DataFrameModel):
    """UN/ECE Recommendation 20 units with their kind and factor to the kind's base unit."""

    code: S = column(nullable=False, str_matches=r"^[0-9A-Z]{2,3}$")
    name: S = column(nullable=False)
    quantity_kind: S = column(nullable=False)
    factor_to_base: DEC = column(nullable=False, gt=0)

    class Config:
        unique = ["code"]
        metadata = {"owner": OWNER, "source_system": "unece"}


CONTRACTS: tuple[Contract, ...] = (
    Contract("silver.exchange_rates", ExchangeRates, (r.ordered("valid_from", "valid_to"),)),
    Contract("silver.hs_correlation_2017_2022", HsCorrelation20172022),
    Contract("silver.unece_rec20_units", UneceRec20Units),
)
