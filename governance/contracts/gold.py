"""Contracts of the gold marts built by dbt (``dbt/models/marts``), named as the models.

A mart's column types follow from its SQL (sums widen decimals, casts fix them), so a model
states the types the SQL fixes (codes, dates, counts, flags) and checks amounts with rules
whatever their decimal scale. Columns the model does not type still carry a PII class, in
``Config.metadata["pii"]``. Grain keys are ``Config.unique``, as the marts' YAML states.
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.
# pandera models declare ``Config.unique`` and ``Config.metadata`` as plain class attributes.
# ruff: noqa: RUF012

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel
from pyspark.sql import functions as F

from governance.contracts import reference
from governance.contracts import rules as r
from governance.contracts.base import Contract, Rule, column
from governance.contracts.shared import HsClassification, TariffLineColumns, TransitTripColumns

S, D, TS, BIG, BOOL = T.StringType(), T.DateType(), T.TimestampType(), T.LongType(), T.BooleanType()
ARR_S = T.ArrayType(S, True)
COUNTRIES = sorted(reference.countries())
CURRENCIES = sorted(reference.currencies())
OWNER = "customs-analytics"


def _pii(*pseudonymized: str, none: tuple[str, ...] = ()) -> dict[str, str]:
    return {c: "pseudonymized" for c in pseudonymized} | {c: "none" for c in none}


class FctDeclarations(DataFrameModel):
    """One row per current declaration (lrn)."""

    lrn: S = column(nullable=False)
    mrn: S = column()
    status: S = column(nullable=False, isin=reference.declaration_statuses())
    issue_datetime: TS = column(nullable=False)
    issue_date: D = column()
    office_code: S = column(nullable=False)
    country_of_dispatch: S = column(isin=COUNTRIES)
    country_of_destination: S = column(isin=COUNTRIES)
    invoice_currency: S = column(isin=CURRENCIES)
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")
    exporter_id: S = column("pseudonymized")
    flags: ARR_S = column()

    class Config:
        unique = ["lrn"]
        metadata = {
            "owner": OWNER,
            "source_system": "cms",
            "pii": _pii(
                none=(
                    "status_at",
                    "released_at",
                    "selected_for_inspection",
                    "declaration_type",
                    "declaration_type_ext",
                    "procedure_code",
                    "transport_mode",
                    "delivery_terms",
                    "invoice_amount",
                    "exchange_rate",
                    "invoice_amount_national",
                    "importer_is_natural_person",
                    "exporter_country",
                    "n_items",
                    "message_function",
                    "n_versions",
                    "n_resent",
                    "declared_taxes",
                    "assessed",
                    "collected",
                    "gap",
                    "underpaid",
                    "overpaid",
                )
            ),
        }


class FctDeclarationItems(HsClassification):
    """One row per goods item of a current declaration."""

    item_record_id: S = column(nullable=False)
    lrn: S = column(nullable=False)
    origin_country: S = column(isin=COUNTRIES)
    value_currency: S = column(isin=CURRENCIES)
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")
    issue_date: D = column()
    flags: ARR_S = column()

    class Config:
        unique = ["item_record_id"]
        metadata = {
            "owner": OWNER,
            "source_system": "cms",
            "pii": _pii(
                none=(
                    "item_no",
                    "hs_code_declared",
                    "description",
                    "procedure_code",
                    "customs_value",
                    "customs_value_national",
                    "exchange_rate_used",
                    "gross_mass_kg",
                    "net_mass_kg",
                    "quantity",
                    "quantity_unit",
                    "quantity_tariff_unit",
                    "tariff_unit",
                    "packages",
                    "office_code",
                    "unit_value_national",
                )
            ),
        }


class FctRevenueDaily(DataFrameModel):
    """One row per office and day: assessed against collected revenue."""

    office_code: S = column(nullable=False)
    issue_date: D = column(nullable=False)
    n_declarations: BIG = column(ge=0)
    n_underpaid: BIG = column(ge=0)
    n_overpaid: BIG = column(ge=0)

    class Config:
        unique = ["office_code", "issue_date"]
        metadata = {
            "owner": "customs-revenue",
            "source_system": "cms+erp",
            "pii": _pii(none=("assessed", "collected", "gap")),
        }


class FctInspections(DataFrameModel):
    """One row per inspection outcome."""

    inspection_id: S = column(nullable=False)
    lrn: S = column(nullable=False)
    officer_id: S = column("pseudonymized")
    inspected_at: TS = column(nullable=False)
    result: S = column(nullable=False)
    currency: S = column(isin=CURRENCIES)
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")
    declaration_found: BOOL = column()

    class Config:
        unique = ["inspection_id"]
        metadata = {
            "owner": "customs-risk-management",
            "source_system": "cms",
            "pii": _pii(
                none=(
                    "mrn",
                    "office_code",
                    "channel",
                    "findings",
                    "n_findings",
                    "additional_duty",
                    "declared_at",
                )
            ),
        }


class FctTransitTrips(TransitTripColumns):
    """One row per transit trip, with its declaration's parties."""

    lrn: S = column()
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")

    class Config:
        metadata = {"owner": "customs-transit", "source_system": "ects+cms"}


class DimTraders(DataFrameModel):
    """One row per trader and role; natural persons' ids and names are keyed hashes."""

    trader_id: S = column("pseudonymized", nullable=False)
    role: S = column(nullable=False, isin=["importer", "declarant"])
    name: S = column("pseudonymized")
    is_natural_person: BOOL = column()
    n_declarations: BIG = column(ge=0)
    first_seen_at: TS = column()
    last_seen_at: TS = column()

    class Config:
        unique = ["trader_id", "role"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class DimTariffLines(TariffLineColumns):
    """One row per HS 2022 tariff line seen in declarations."""

    class Config:
        metadata = {"owner": OWNER, "source_system": "cms"}


class MlDeclarationFeatures(DataFrameModel):
    """One row per current declaration: the risk model's features and label."""

    lrn: S = column(nullable=False)
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")
    has_label: BOOL = column()

    class Config:
        unique = ["lrn"]
        metadata = {
            "owner": "customs-risk-management",
            "source_system": "lakehouse",
            # The features a model reads: codes, counts, amounts and flags, no party names.
            "pii": _pii(
                none=(
                    "additional_duty",
                    "assessed",
                    "collected",
                    "country_of_dispatch",
                    "declared_taxes",
                    "exporter_country",
                    "gap",
                    "has_hs2017_code",
                    "importer_declarations",
                    "importer_is_natural_person",
                    "inspection_channel",
                    "inspection_result",
                    "issue_date",
                    "label_non_compliant",
                    "max_item_flags",
                    "min_unit_value_national",
                    "mrn",
                    "n_hs6",
                    "n_items",
                    "n_origins",
                    "n_resent",
                    "n_versions",
                    "net_mass_kg",
                    "office_code",
                    "overpaid",
                    "procedure_code",
                    "route_key",
                    "transport_mode",
                    "trip_device_silent",
                    "trip_distance_km",
                    "trip_long_stop",
                    "trip_route_deviation",
                    "trip_seal_anomaly",
                    "underpaid",
                    "value_national",
                )
            ),
        }


def non_negative(col: str) -> Rule:
    """An amount or mass of any decimal scale is >= 0."""
    return Rule(f"{col}:ge_0", col, "range", lambda: F.col(col) >= 0, f"{col} must be >= 0")


def assessed_matches_collected() -> Rule:
    """Per office and day, revenue collected agrees with revenue assessed, within tolerance."""
    return r.agrees("collected", "assessed", "assessed_matches_collected")


def _gold(name: str, model: type[DataFrameModel], *rules: Rule) -> Contract:
    return Contract(f"gold.{name}", model, rules)


CONTRACTS: tuple[Contract, ...] = (
    _gold(
        "fct_declarations",
        FctDeclarations,
        *(non_negative(c) for c in ("invoice_amount", "invoice_amount_national", "assessed")),
    ),
    _gold(
        "fct_declaration_items",
        FctDeclarationItems,
        *(
            non_negative(c)
            for c in (
                "customs_value",
                "customs_value_national",
                "gross_mass_kg",
                "net_mass_kg",
                "quantity",
            )
        ),
        r.net_le_gross(None, "net_mass_kg", "gross_mass_kg"),
        r.hs_not_withdrawn(None, "hs_code"),
    ),
    _gold(
        "fct_revenue_daily",
        FctRevenueDaily,
        *(non_negative(c) for c in ("assessed",)),
        assessed_matches_collected(),
    ),
    _gold("fct_inspections", FctInspections, non_negative("additional_duty")),
    _gold("fct_transit_trips", FctTransitTrips, r.ordered("started_at", "ended_at")),
    _gold("dim_traders", DimTraders, r.ordered("first_seen_at", "last_seen_at")),
    _gold("dim_tariff_lines", DimTariffLines),
    _gold("ml_declaration_features", MlDeclarationFeatures),
)
