"""Contracts of the bronze tables: parsed records as received, one pandera model per table.

Bronze keeps what the sender wrote, so code checks here compare trimmed, upper-cased values
(silver normalises them) and nothing is rejected for a case or padding difference. Nested
columns take their types from the registry (:mod:`lakehouse.tables`); their elements are
checked by rules (every item's masses, codes, units).
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.
# pandera models declare ``Config.unique`` and ``Config.metadata`` as plain class attributes.
# ruff: noqa: RUF012

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel

from governance.contracts import dtypes as _dtypes  # noqa: F401  (struct columns)
from governance.contracts import reference
from governance.contracts import rules as r
from governance.contracts.base import Contract, column
from governance.contracts.ddl import parse_columns
from governance.contracts.shared import (
    EctsEventColumns,
    HrPostingColumns,
    HrShiftColumns,
    InspectionOutcomeColumns,
)
from lakehouse.tables import BRONZE, FILE_LOG, INGEST_STRUCT, QUARANTINE

S, TS, D, DEC = T.StringType(), T.TimestampType(), T.DateType(), T.DecimalType(38, 18)
DBL, INT, BIG = T.DoubleType(), T.IntegerType(), T.LongType()
ARR_S = T.ArrayType(S, True)


def _nested(table: str) -> dict[str, T.DataType]:
    return parse_columns(BRONZE[table].columns_ddl)


DECL, RESP, CARGO = (
    _nested("cms_declarations"),
    _nested("cms_responses"),
    _nested("cms_cargo_reports"),
)
INGEST = parse_columns(f"_ingest {INGEST_STRUCT}")["_ingest"]
RECEIVED = "_ingest.received_at"
BATCH = "_ingest.batch_id"


class _Record(DataFrameModel):
    """What every bronze record table ends with: quality columns, then provenance."""

    flags: ARR_S = column()
    source_literals: T.MapType(S, S, True) = column()
    ingest: INGEST = column(alias="_ingest", nullable=False)


class _Envelope(_Record):
    """Where a record sat in its message (EDIFACT/XML/JSON envelope)."""

    syntax: S = column()
    message_type: S = column()
    directory_version: S = column()
    interchange_ref: S = column()
    message_ref: S = column()
    sender_id: S = column()
    recipient_id: S = column()
    control_issues: ARR_S = column()
    unknown_segments: ARR_S = column()


class CmsDeclarations(_Envelope):
    """One row per declaration message; parties hold personal data (natural persons)."""

    lrn: S = column(nullable=False, str_length={"min_value": 1, "max_value": 70})
    declaration_type: S = column()
    declaration_type_ext: S = column()
    message_function: S = column(str_matches=r"^\s*[0-9]{1,3}\s*$")
    issue_datetime: TS = column(nullable=False)
    procedure_code: S = column(str_matches=r"^\s*[0-9A-Za-z]{4}\s*$")
    office_code: S = column(nullable=False)
    country_of_dispatch: S = column()
    country_of_destination: S = column()
    transport_mode: S = column(str_matches=r"^\s*[0-9]\s*$")
    transport_id: S = column()
    delivery_terms: S = column()
    invoice_amount: DEC = column(ge=0)
    invoice_currency: S = column()
    exchange_rate: DEC = column(gt=0)
    total_duty: DEC = column(ge=0)
    total_duty_currency: S = column()
    parties: DECL["parties"] = column("personal")
    references: DECL["references"] = column()
    dates: DECL["dates"] = column()
    declaration_taxes: DECL["declaration_taxes"] = column()
    items: DECL["items"] = column()

    class Config:
        unique = ["lrn", "message_function", "issue_datetime"]
        metadata = {"owner": "customs-data-engineering", "source_system": "cms"}


class CmsResponses(_Envelope):
    """One row per customs response (CUSRES)."""

    document_number: S = column()
    response_type: S = column()
    message_function: S = column(str_matches=r"^\s*[0-9]{1,3}\s*$")
    issue_datetime: TS = column(nullable=False)
    declaration_ref: S = column(nullable=False)
    status: S = column(nullable=False, str_matches=r"^\s*[0-9A-Za-z]{1,3}\s*$")
    errors: RESP["errors"] = column()
    taxes: RESP["taxes"] = column()
    references: RESP["references"] = column()
    dates: RESP["dates"] = column()
    parties: RESP["parties"] = column("personal")

    class Config:
        metadata = {"owner": "customs-data-engineering", "source_system": "cms"}


class CmsCargoReports(_Envelope):
    """One row per cargo report (CUSCAR)."""

    document_number: S = column(nullable=False)
    message_function: S = column()
    issue_datetime: TS = column()
    transport_mode: S = column(str_matches=r"^\s*[0-9]\s*$")
    conveyance_id: S = column()
    carrier_id: S = column()
    place_of_loading: S = column()
    place_of_discharge: S = column()
    parties: CARGO["parties"] = column("personal")
    references: CARGO["references"] = column()
    equipment: CARGO["equipment"] = column()
    consignments: CARGO["consignments"] = column("personal")
    document_type: S = column()
    voyage_number: S = column()
    conveyance_name: S = column()

    class Config:
        metadata = {"owner": "customs-data-engineering", "source_system": "cms"}


class CmsInspectionOutcomes(_Record, InspectionOutcomeColumns):
    """One row per inspection outcome (the models' labels)."""

    currency: S = column()
    notes: S = column("personal")

    class Config:
        unique = ["inspection_id"]
        metadata = {"owner": "customs-risk-management", "source_system": "cms"}


class EctsEvents(_Record, EctsEventColumns):
    """One row per tracking event of a transit trip."""

    heading: DBL = column(in_range={"min_value": 0, "max_value": 360})

    class Config:
        metadata = {"owner": "customs-transit", "source_system": "ects"}


class ErpPayments(_Record):
    """One row per ERP money movement."""

    payment_id: S = column(nullable=False)
    kind: S = column(nullable=False)
    declaration_ref: S = column()
    tax_type: S = column()
    amount: DEC = column(nullable=False, ge=0)
    currency: S = column(nullable=False)
    method: S = column()
    payment_reference: S = column()
    value_date: D = column()
    recorded_at: TS = column()

    class Config:
        metadata = {"owner": "customs-revenue", "source_system": "erp"}


class HrOfficers(_Record):
    """One row per officer per HR sync: the personal data silver pseudonymizes."""

    officer_id: S = column("pseudonymized", nullable=False)
    national_id: S = column("personal")
    full_name: S = column("personal")
    grade: S = column()
    email: S = column("personal")
    date_of_birth: D = column("personal")
    hired_on: D = column()
    active: T.BooleanType() = column()

    class Config:
        metadata = {"owner": "customs-hr", "source_system": "hr"}


class HrPostings(_Record, HrPostingColumns):
    """One row per posting per HR sync."""

    class Config:
        metadata = {"owner": "customs-hr", "source_system": "hr"}


class HrShifts(_Record, HrShiftColumns):
    """One row per scheduled shift per HR sync."""

    class Config:
        metadata = {"owner": "customs-hr", "source_system": "hr"}


class Quarantine(DataFrameModel):
    """What could not be parsed: the raw payload as sent may hold personal data."""

    source_uri: S = column(nullable=False)
    file_sha256: S = column(str_matches=r"^[0-9a-f]{64}$")
    system: S = column()
    feed: S = column()
    message_index: INT = column()
    message_type: S = column()
    error_code: S = column(
        nullable=False,
        isin=[
            "SYNTAX",
            "ENVELOPE",
            "ENCODING",
            "CONTROL_COUNT",
            "SCHEMA",
            "MAPPING",
            "UNSUPPORTED",
            "EMPTY",
            "PARSER_ERROR",
        ],
    )
    reason: S = column(nullable=False)
    field: S = column()
    value: S = column("personal")
    rule: S = column()
    raw_payload: S = column("personal")
    parser_version: S = column()
    batch_id: BIG = column(nullable=False)
    quarantined_at: TS = column(nullable=False)
    replayed_at: TS = column()
    replay_batch_id: BIG = column()

    class Config:
        metadata = {"owner": "customs-data-engineering", "source_system": "lakehouse"}


class IngestFileLog(DataFrameModel):
    """Every landed file the ingestion took."""

    batch_id: BIG = column(nullable=False)
    source_uri: S = column(nullable=False)
    file_sha256: S = column(str_matches=r"^[0-9a-f]{64}$")
    size_bytes: BIG = column(ge=0)
    modified_at: TS = column()
    system: S = column()
    feed: S = column()
    status: S = column(nullable=False)
    duplicate_of: S = column()
    records: BIG = column(ge=0)
    rejected: BIG = column(ge=0)
    committed_at: TS = column()

    class Config:
        # An append-only log: a file has a "planned" then a "committed" row in its batch.
        unique = ["batch_id", "source_uri", "status"]
        metadata = {"owner": "customs-data-engineering", "source_system": "lakehouse"}


def _items() -> tuple[r.Rule, ...]:
    return (
        r.item_non_negative("items", "customs_value"),
        r.item_non_negative("items", "statistical_value"),
        r.item_non_negative("items", "gross_mass"),
        r.item_non_negative("items", "net_mass"),
        r.item_non_negative("items", "quantity"),
        r.net_le_gross("items"),
        r.item_matches("items", "hs_code", r"^[0-9]{6,10}$"),
        r.hs_not_withdrawn("items", "hs_code"),
        r.item_code_in("items", "origin_country", reference.countries, "iso3166"),
        r.item_code_in("items", "value_currency", reference.currencies, "iso4217"),
        r.item_code_in("items", "mass_unit", reference.units, "unece_rec20"),
        r.item_code_in("items", "quantity_unit", reference.units, "unece_rec20"),
    )


def _taxes(array: str) -> tuple[r.Rule, ...]:
    return (
        r.item_non_negative(array, "amount"),
        r.item_non_negative(array, "rate"),
        r.item_code_in(array, "currency", reference.currencies, "iso4217"),
    )


def _bronze(name: str, model: type[DataFrameModel], *rules: r.Rule) -> Contract:
    return Contract(f"bronze.{name}", model, rules, batch_column=BATCH, received_column=RECEIVED)


CONTRACTS: tuple[Contract, ...] = (
    _bronze(
        "cms_declarations",
        CmsDeclarations,
        r.code_in("invoice_currency", reference.currencies, "iso4217"),
        r.code_in("total_duty_currency", reference.currencies, "iso4217"),
        r.code_in("country_of_dispatch", reference.countries, "iso3166"),
        r.code_in("country_of_destination", reference.countries, "iso3166"),
        r.within_window("issue_datetime", RECEIVED),
        r.invoice_matches_items(),
        r.array_empty("control_issues"),
        *_items(),
        *_taxes("declaration_taxes"),
    ),
    _bronze(
        "cms_responses",
        CmsResponses,
        r.within_window("issue_datetime", RECEIVED),
        r.array_empty("control_issues"),
        *_taxes("taxes"),
    ),
    _bronze(
        "cms_cargo_reports",
        CmsCargoReports,
        r.within_window("issue_datetime", RECEIVED),
        r.array_empty("control_issues"),
    ),
    _bronze(
        "cms_inspection_outcomes",
        CmsInspectionOutcomes,
        r.code_in("currency", reference.currencies, "iso4217"),
        r.within_window("inspected_at", RECEIVED),
    ),
    _bronze("ects_events", EctsEvents, r.within_window("event_time", RECEIVED)),
    _bronze(
        "erp_payments",
        ErpPayments,
        r.code_in("currency", reference.currencies, "iso4217"),
        r.within_window("recorded_at", RECEIVED),
    ),
    _bronze("hr_officers", HrOfficers, r.ordered("date_of_birth", "hired_on", strict=True)),
    _bronze("hr_postings", HrPostings, r.ordered("start_date", "end_date")),
    _bronze("hr_shifts", HrShifts, r.ordered("shift_start", "shift_end", strict=True)),
    Contract(
        QUARANTINE.full_name, Quarantine, batch_column="batch_id", received_column="quarantined_at"
    ),
    Contract(
        FILE_LOG.full_name, IngestFileLog, batch_column="batch_id", received_column="committed_at"
    ),
)
