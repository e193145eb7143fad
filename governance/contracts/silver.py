"""Contracts of the silver tables built by dbt (``dbt/models/staging``), named as the models.

Silver codes are already trimmed and upper-cased by the staging models, so allowed values
are plain pandera ``isin`` checks here. Personal data is pseudonymized before silver: no
column may be ``personal`` (a unit test enforces it); values that may name a natural person
are ``pseudonymized`` (keyed hashes, or company identifiers kept in clear beside them).
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.
# pandera models declare ``Config.unique`` and ``Config.metadata`` as plain class attributes.
# ruff: noqa: RUF012

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel

from governance.contracts import reference
from governance.contracts import rules as r
from governance.contracts.base import Contract, column
from governance.contracts.shared import (
    EctsEventColumns,
    HrPostingColumns,
    HrShiftColumns,
    InspectionOutcomeColumns,
)

S, TS, D, DEC = T.StringType(), T.TimestampType(), T.DateType(), T.DecimalType(38, 18)
DBL, INT, BIG, BOOL = T.DoubleType(), T.IntegerType(), T.LongType(), T.BooleanType()
ARR_S = T.ArrayType(S, True)
OWNER = "customs-data-engineering"
HEX64 = r"^[0-9a-f]{64}$"
COUNTRIES = sorted(reference.countries())
CURRENCIES = sorted(reference.currencies())


class _Provenance(DataFrameModel):
    """Every staging row keeps its bronze batch, file and flags."""

    record_id: S = column(nullable=False, str_matches=HEX64)
    batch_id: BIG = column(nullable=False)
    source_uri: S = column(nullable=False)
    received_at: TS = column(nullable=False)
    bronze_flags: ARR_S = column()


class CmsDeclarationHeader(DataFrameModel):
    """A declaration's header as staged: kept by the current-declaration model as it is."""

    lrn: S = column(nullable=False)
    declaration_type: S = column()
    declaration_type_ext: S = column()
    message_function: S = column(nullable=False, str_matches=r"^[0-9]{1,3}$")
    issue_datetime: TS = column(nullable=False)
    procedure_code: S = column(str_matches=r"^[0-9A-Z]{4}$")
    office_code: S = column(nullable=False)
    country_of_dispatch: S = column(isin=COUNTRIES)
    country_of_destination: S = column(isin=COUNTRIES)
    transport_mode: S = column(str_matches=r"^[0-9]$")
    transport_id: S = column()
    delivery_terms: S = column()
    invoice_amount: DEC = column(ge=0)
    invoice_currency: S = column(isin=CURRENCIES)
    exchange_rate: DEC = column(gt=0)
    importer_id: S = column("pseudonymized")
    importer_name: S = column("pseudonymized")
    importer_is_natural_person: BOOL = column()
    declarant_id: S = column("pseudonymized")
    declarant_name: S = column("pseudonymized")
    exporter_id: S = column("pseudonymized")
    exporter_name: S = column("pseudonymized")
    exporter_country: S = column(isin=COUNTRIES)
    n_items: INT = column(ge=0)


class StgCmsDeclarations(_Provenance, CmsDeclarationHeader):
    """One row per bronze declaration message."""

    total_duty: DEC = column(ge=0)
    total_duty_currency: S = column(isin=CURRENCIES)
    content_hash: S = column(nullable=False, str_matches=HEX64)
    syntax: S = column()

    class Config:
        unique = ["record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class CmsItemColumns(DataFrameModel):
    """A goods item as declared: staged, then carried into the current items with rules 2-4."""

    item_record_id: S = column(nullable=False, str_matches=HEX64)
    lrn: S = column(nullable=False)
    item_no: INT = column(nullable=False, ge=1)
    hs_code_declared: S = column(str_matches=r"^[0-9]{6,10}$")
    procedure_code: S = column(str_matches=r"^[0-9A-Z]{4}$")
    description: S = column()
    origin_country: S = column(isin=COUNTRIES)
    customs_value: DEC = column(ge=0)
    value_currency: S = column(isin=CURRENCIES)
    gross_mass: DEC = column(ge=0)
    net_mass: DEC = column(ge=0)
    mass_unit: S = column()
    quantity: DEC = column(ge=0)
    quantity_unit: S = column()
    packages: INT = column(ge=0)


class StgCmsDeclarationItems(_Provenance, CmsItemColumns):
    """One row per goods item of every declaration message."""

    hs_code_list: S = column()
    statistical_value: DEC = column(ge=0)

    class Config:
        unique = ["item_record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class _TaxLine(DataFrameModel):
    tax_line_id: S = column(nullable=False, str_matches=HEX64)
    record_id: S = column(nullable=False, str_matches=HEX64)
    lrn: S = column()
    tax_type: S = column(nullable=False)
    amount: DEC = column(ge=0)
    currency: S = column(isin=CURRENCIES)
    batch_id: BIG = column(nullable=False)


class StgCmsDeclarationTaxLines(_TaxLine):
    """One row per tax line of every declaration message (item or declaration level)."""

    level: S = column(nullable=False, isin=["item", "declaration"])
    item_no: INT = column(ge=1)
    tax_category: S = column()
    rate: DEC = column(ge=0)
    base_amount: DEC = column(ge=0)

    class Config:
        unique = ["tax_line_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class StgCmsResponseTaxLines(_TaxLine):
    """One row per tax line a customs response assessed."""

    mrn: S = column()
    issue_datetime: TS = column()

    class Config:
        unique = ["tax_line_id"]
        metadata = {"owner": "customs-revenue", "source_system": "cms"}


class StgCmsResponses(_Provenance):
    """One row per customs response."""

    mrn: S = column()
    lrn: S = column(nullable=False)
    response_type: S = column()
    message_function: S = column()
    issue_datetime: TS = column(nullable=False)
    status_code: S = column(nullable=False, str_matches=r"^[0-9A-Z]{1,3}$")
    error_codes: ARR_S = column()

    class Config:
        unique = ["record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class StgCmsCargoReports(_Provenance):
    """One row per cargo report."""

    document_number: S = column(nullable=False)
    message_function: S = column()
    issue_datetime: TS = column()
    transport_mode: S = column(str_matches=r"^[0-9]$")
    conveyance_id: S = column()
    carrier_id: S = column()
    place_of_loading: S = column()
    place_of_discharge: S = column()
    n_consignments: INT = column(ge=0)
    n_containers: INT = column(ge=0)

    class Config:
        unique = ["record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class StgCmsInspectionOutcomes(_Provenance, InspectionOutcomeColumns):
    """One row per inspection outcome."""

    currency: S = column(isin=CURRENCIES)

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-risk-management", "source_system": "cms"}


class StgEctsEvents(_Provenance, EctsEventColumns):
    """One row per tracking event as received."""

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-transit", "source_system": "ects"}


class StgErpPayments(_Provenance):
    """One row per ERP money movement."""

    payment_id: S = column(nullable=False)
    kind: S = column(nullable=False)
    lrn: S = column()
    tax_type: S = column()
    amount: DEC = column(nullable=False, ge=0)
    currency: S = column(nullable=False, isin=CURRENCIES)
    method: S = column()
    value_date: D = column()
    recorded_at: TS = column()

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-revenue", "source_system": "erp"}


class StgHrOfficers(_Provenance):
    """One row per officer per HR sync, personal columns as keyed hashes."""

    officer_id: S = column("pseudonymized", nullable=False)
    national_id_pseudonym: S = column("pseudonymized", str_matches=HEX64)
    full_name_pseudonym: S = column("pseudonymized", str_matches=HEX64)
    email_pseudonym: S = column("pseudonymized", str_matches=HEX64)
    date_of_birth_pseudonym: S = column("pseudonymized", str_matches=HEX64)
    grade: S = column()
    hired_on: D = column()
    active: BOOL = column()

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-hr", "source_system": "hr"}


class StgHrPostings(_Provenance, HrPostingColumns):
    """One row per posting per HR sync."""

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-hr", "source_system": "hr"}


class StgHrShifts(_Provenance, HrShiftColumns):
    """One row per scheduled shift per HR sync."""

    class Config:
        unique = ["record_id"]
        metadata = {"owner": "customs-hr", "source_system": "hr"}


def _silver(
    name: str, model: type[DataFrameModel], *rules: r.Rule, received: bool = True
) -> Contract:
    return Contract(
        f"silver.{name}",
        model,
        rules,
        batch_column="batch_id",
        received_column="received_at" if received else None,
    )


CONTRACTS: tuple[Contract, ...] = (
    _silver(
        "stg_cms__declarations",
        StgCmsDeclarations,
        r.within_window("issue_datetime", "received_at"),
    ),
    _silver(
        "stg_cms__declaration_items",
        StgCmsDeclarationItems,
        r.net_le_gross(None),
        r.hs_not_withdrawn(None, "hs_code_declared"),
        r.code_in("mass_unit", reference.units, "unece_rec20"),
        r.code_in("quantity_unit", reference.units, "unece_rec20"),
    ),
    _silver("stg_cms__declaration_tax_lines", StgCmsDeclarationTaxLines, received=False),
    _silver("stg_cms__response_tax_lines", StgCmsResponseTaxLines, received=False),
    _silver(
        "stg_cms__responses", StgCmsResponses, r.within_window("issue_datetime", "received_at")
    ),
    _silver("stg_cms__cargo_reports", StgCmsCargoReports),
    _silver(
        "stg_cms__inspection_outcomes",
        StgCmsInspectionOutcomes,
        r.within_window("inspected_at", "received_at"),
    ),
    _silver("stg_ects__events", StgEctsEvents, r.within_window("event_time", "received_at")),
    _silver("stg_erp__payments", StgErpPayments),
    _silver("stg_hr__officers", StgHrOfficers),
    _silver("stg_hr__postings", StgHrPostings, r.ordered("start_date", "end_date")),
    _silver("stg_hr__shifts", StgHrShifts, r.ordered("shift_start", "shift_end", strict=True)),
)
