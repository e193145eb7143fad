"""Contracts of the silver tables built by ``dbt/models/intermediate``, named as the models.

Most intermediate models are staged rows with a disposition (``with_dispositions``: kept,
duplicate or superseded, rejected) or a staged table carried on with the rules' columns, so
their models inherit the staging model or its column group and add what the rule adds. The
staging contract's row rules hold on the same rows and are reused, not restated.

Scope: a table whose rows carry their bronze ``batch_id`` is validated on its newest batch,
as staging is; the others (one row per declaration, trip or tariff line, the dispositions)
are rebuilt whole on every run and validated whole.
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.
# pandera models declare ``Config.unique`` and ``Config.metadata`` as plain class attributes.
# ruff: noqa: RUF012

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel
from pyspark.sql import functions as F

from governance.contracts import reference, silver
from governance.contracts import rules as r
from governance.contracts.base import Contract, Rule, column
from governance.contracts.shared import HsClassification, TariffLineColumns, TransitTripColumns
from governance.contracts.silver import (
    HEX64,
    OWNER,
    CmsDeclarationHeader,
    CmsItemColumns,
    StgCmsCargoReports,
    StgCmsDeclarationItems,
    StgCmsInspectionOutcomes,
    StgCmsResponses,
    StgEctsEvents,
    StgErpPayments,
    StgHrOfficers,
    StgHrPostings,
    StgHrShifts,
)

S, TS, D, BOOL = T.StringType(), T.TimestampType(), T.DateType(), T.BooleanType()
INT, BIG, ARR_S = T.IntegerType(), T.LongType(), T.ArrayType(T.StringType(), True)
DEC, DEC6, DEC2 = T.DecimalType(38, 18), T.DecimalType(38, 6), T.DecimalType(38, 2)
# Where each staged source's rows end up: the bronze tables record_dispositions names.
SOURCE_TABLES = [
    "cms_declarations",
    "cms_responses",
    "cms_cargo_reports",
    "cms_inspection_outcomes",
    "ects_events",
    "erp_payments",
    "hr_officers",
    "hr_postings",
    "hr_shifts",
]


class _Deduplicated(DataFrameModel):
    """``with_dispositions``: a later copy of a key is a duplicate (events, payments, ...)."""

    reject_field: S = column()
    copy_no: INT = column(ge=1)
    # The newest batch among the rows sharing this row's key: record_dispositions' watermark.
    key_batch_id: BIG = column(nullable=False)
    disposition: S = column(nullable=False, isin=["kept", "duplicate", "rejected"])
    disposition_rule: S = column()


class _LaterSupersedes(_Deduplicated):
    """``with_dispositions(later_supersedes=true)``: the latest HR sync's row is kept."""

    disposition: S = column(nullable=False, isin=["kept", "superseded", "rejected"])


class IntCmsResponses(StgCmsResponses, _Deduplicated):
    """Every staged response with its disposition (a repeated response is a duplicate)."""


class IntCmsCargoReports(StgCmsCargoReports, _Deduplicated):
    """Every staged cargo report with its disposition."""


class IntCmsInspectionOutcomes(StgCmsInspectionOutcomes, _Deduplicated):
    """Every staged inspection outcome with its disposition."""


class IntEctsEvents(StgEctsEvents, _Deduplicated):
    """Every staged tracking event with its disposition (devices resend)."""


class IntErpPayments(StgErpPayments, _Deduplicated):
    """Every staged ERP money movement with its disposition."""


class IntHrOfficers(StgHrOfficers, _LaterSupersedes):
    """Every staged officer record; the latest sync's is kept."""


class IntHrPostings(StgHrPostings, _LaterSupersedes):
    """Every staged posting record; the latest sync's is kept."""


class IntHrShifts(StgHrShifts, _LaterSupersedes):
    """Every staged shift record; the latest sync's is kept."""


class IntCmsDeclarationVersions(DataFrameModel):
    """Rule 1: every staged declaration message with its disposition."""

    record_id: S = column(nullable=False, str_matches=HEX64)
    lrn: S = column()
    message_function: S = column()
    issue_datetime: TS = column()
    received_at: TS = column(nullable=False)
    batch_id: BIG = column(nullable=False)
    # The newest batch among the LRN's messages and accepting responses: the watermark of
    # record_dispositions' incremental run.
    key_batch_id: BIG = column(nullable=False)
    disposition: S = column(nullable=False, isin=["current", "superseded", "duplicate", "rejected"])
    rule: S = column()
    field: S = column()
    value: S = column()

    class Config:
        unique = ["record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class DeclarationStatusColumns(DataFrameModel):
    """Rule 1: a declaration's MRN and latest status from Customs' responses."""

    lrn: S = column(nullable=False)
    mrn: S = column()
    status: S = column(isin=list(reference.response_statuses()))
    status_at: TS = column()
    selected_for_inspection: BOOL = column()
    released_at: TS = column()


class IntCmsDeclarationStatus(DeclarationStatusColumns):
    """One row per LRN Customs answered."""

    # The LRN's latest response batch: the watermark of the per-LRN incremental run.
    batch_id: BIG = column(nullable=False)

    class Config:
        unique = ["lrn"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class IntCmsDeclarations(CmsDeclarationHeader, DeclarationStatusColumns):
    """One row per current declaration: header, status, invoice in the national currency."""

    status: S = column(nullable=False, isin=reference.declaration_statuses())
    selected_for_inspection: BOOL = column(nullable=False)
    record_id: S = column(nullable=False, str_matches=HEX64)
    issue_date: D = column(nullable=False)
    invoice_amount_national: DEC6 = column(ge=0)
    exchange_rate_used: DEC = column(gt=0)
    reference_rate: DEC = column(gt=0)
    rate_out_of_tolerance: BOOL = column(nullable=False)
    no_reference_rate: BOOL = column(nullable=False)
    n_versions: BIG = column(nullable=False, ge=1)
    n_resent: BIG = column(nullable=False, ge=0)
    flags: ARR_S = column(nullable=False)
    batch_id: BIG = column(nullable=False)

    class Config:
        unique = ["lrn"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class IntCmsItemsClassified(StgCmsDeclarationItems, HsClassification):
    """Rule 2: the current versions' items with the HS code normalized and mapped to 2022."""

    hs_digits: S = column(nullable=False, str_matches=r"^[0-9]*$")
    hs_valid: BOOL = column(nullable=False)
    hs_flags: ARR_S = column(nullable=False)


class IntCmsDeclarationItems(CmsItemColumns, HsClassification):
    """Rules 3 and 4: the current items' values in the national currency, masses in kg."""

    record_id: S = column(nullable=False, str_matches=HEX64)
    customs_value_national: DEC6 = column(ge=0)
    exchange_rate_used: DEC = column(gt=0)
    gross_mass_kg: DEC6 = column(ge=0)
    net_mass_kg: DEC6 = column(ge=0)
    tariff_unit: S = column()
    quantity_tariff_unit: DEC6 = column(ge=0)
    office_code: S = column(nullable=False)
    importer_id: S = column("pseudonymized")
    declarant_id: S = column("pseudonymized")
    issue_datetime: TS = column(nullable=False)
    rate_out_of_tolerance: BOOL = column(nullable=False)
    unit_unknown: BOOL = column(nullable=False)
    unit_incompatible: BOOL = column(nullable=False)
    flags: ARR_S = column(nullable=False)
    batch_id: BIG = column(nullable=False)

    class Config:
        unique = ["item_record_id"]
        metadata = {"owner": OWNER, "source_system": "cms"}


class IntTariffLines(TariffLineColumns):
    """One row per HS 2022 tariff line seen in declarations."""

    class Config:
        metadata = {"owner": OWNER, "source_system": "cms"}


class IntEctsTrips(TransitTripColumns):
    """Rule 6: one row per transit trip."""

    # The trip's newest event batch: the watermark of the incremental run.
    batch_id: BIG = column(nullable=False)

    class Config:
        metadata = {"owner": "customs-transit", "source_system": "ects"}


class IntRevenueDeclarations(DataFrameModel):
    """Rule 7: per current declaration, revenue assessed against collected (national currency)."""

    lrn: S = column(nullable=False)
    mrn: S = column()
    office_code: S = column(nullable=False)
    issue_date: D = column(nullable=False)
    declared_taxes: DEC2 = column(nullable=False, ge=0)
    assessed_by_customs: DEC2 = column(ge=0)
    assessed: DEC2 = column(nullable=False, ge=0)
    paid: DEC2 = column(nullable=False, ge=0)
    refunded: DEC2 = column(nullable=False, ge=0)
    # Collected and the gap are signed: refunds may exceed payments, payments the assessment.
    collected: DEC2 = column(nullable=False)
    gap: DEC2 = column(nullable=False)
    underpaid: BOOL = column(nullable=False)
    overpaid: BOOL = column(nullable=False)
    last_value_date: D = column()
    # Tax lines no exchange rate converts: named here, left out of the sums.
    revenue_flags: ARR_S = column(nullable=False)
    # The current declaration version's batch: the watermark of the per-LRN incremental run.
    batch_id: BIG = column(nullable=False)

    class Config:
        unique = ["lrn"]
        metadata = {"owner": "customs-revenue", "source_system": "cms+erp"}


class RecordDispositions(DataFrameModel):
    """What became of every bronze record (reconciled against bronze after each run)."""

    record_id: S = column(nullable=False, str_matches=HEX64)
    source_table: S = column(nullable=False, isin=SOURCE_TABLES)
    disposition: S = column(
        nullable=False, isin=["current", "kept", "superseded", "duplicate", "rejected"]
    )
    rule: S = column()
    field: S = column()
    # A duplicate's key: an officer's staff number for HR records.
    value: S = column("pseudonymized")
    # The record's bronze batch: the watermark of the incremental run.
    batch_id: BIG = column(nullable=False)

    class Config:
        unique = ["source_table", "record_id"]
        metadata = {"owner": OWNER, "source_system": "cms+ects+erp+hr"}


class RejectedRows(RecordDispositions):
    """Every bronze record silver rejected, with the rule and field that rejected it."""

    disposition: S = column(nullable=False, isin=["rejected"])
    rule: S = column(nullable=False)
    field: S = column(nullable=False)


def _staged_rules(staging: str) -> tuple[Rule, ...]:
    """The row rules of a staging model's contract (same rows, same rules)."""
    return next(c.rules for c in silver.CONTRACTS if c.table == f"silver.{staging}")


def _int(
    name: str,
    model: type[DataFrameModel],
    *rules: Rule,
    batched: bool = True,
    received: bool = False,
) -> Contract:
    return Contract(
        f"silver.{name}",
        model,
        rules,
        batch_column="batch_id" if batched else None,
        received_column="received_at" if received else None,
    )


def _with_dispositions(name: str, staging: str, model: type[DataFrameModel]) -> Contract:
    """A staged table with dispositions: staging's rules, a reason for every row not kept."""
    return _int(
        name,
        model,
        *_staged_rules(staging),
        r.null_exactly_when("disposition_rule", "disposition = 'kept'", "explained"),
        r.null_exactly_when("reject_field", "disposition <> 'rejected'", "names_field"),
        received=True,
    )


def _revenue_rules() -> tuple[Rule, ...]:
    """Collected is paid less refunded, the gap is assessed less collected (each rounded to
    cents, hence the tolerance), and no declaration is both under- and overpaid."""

    return (
        r.agrees("collected", "paid - refunded", "paid_less_refunded"),
        r.agrees("gap", "assessed - collected", "assessed_less_collected"),
        Rule(
            "underpaid:not_also_overpaid",
            "underpaid",
            "cross_column",
            lambda: ~(F.col("underpaid") & F.col("overpaid")),
            "a declaration cannot be both underpaid and overpaid",
        ),
    )


_ITEM_RULES = (
    r.net_le_gross(None),
    r.hs_not_withdrawn(None, "hs_code"),
    r.code_in("mass_unit", reference.units, "unece_rec20"),
    r.code_in("quantity_unit", reference.units, "unece_rec20"),
)

CONTRACTS: tuple[Contract, ...] = (
    _with_dispositions("int_cms__responses", "stg_cms__responses", IntCmsResponses),
    _with_dispositions("int_cms__cargo_reports", "stg_cms__cargo_reports", IntCmsCargoReports),
    _with_dispositions(
        "int_cms__inspection_outcomes", "stg_cms__inspection_outcomes", IntCmsInspectionOutcomes
    ),
    _with_dispositions("int_ects__events", "stg_ects__events", IntEctsEvents),
    _with_dispositions("int_erp__payments", "stg_erp__payments", IntErpPayments),
    _with_dispositions("int_hr__officers", "stg_hr__officers", IntHrOfficers),
    _with_dispositions("int_hr__postings", "stg_hr__postings", IntHrPostings),
    _with_dispositions("int_hr__shifts", "stg_hr__shifts", IntHrShifts),
    _int(
        "int_cms__declaration_versions",
        IntCmsDeclarationVersions,
        r.null_exactly_when("rule", "disposition = 'current'", "explained"),
        r.null_exactly_when("field", "disposition in ('current', 'superseded')", "names_field"),
        received=True,
    ),
    _int("int_cms__declaration_status", IntCmsDeclarationStatus, batched=False),
    _int(
        "int_cms__declarations",
        IntCmsDeclarations,
        r.null_exactly_when("status_at", "status = 'lodged'", "answered"),
    ),
    _int(
        "int_cms__items_classified",
        IntCmsItemsClassified,
        *_ITEM_RULES,
        r.null_exactly_when("hs_code", "not hs_valid", "valid"),
        received=True,
    ),
    _int(
        "int_cms__declaration_items",
        IntCmsDeclarationItems,
        *_ITEM_RULES,
        r.net_le_gross(None, "net_mass_kg", "gross_mass_kg"),
    ),
    _int("int_tariff_lines", IntTariffLines, batched=False),
    _int("int_ects__trips", IntEctsTrips, r.ordered("started_at", "ended_at"), batched=False),
    _int("int_revenue__declarations", IntRevenueDeclarations, *_revenue_rules(), batched=False),
    _int(
        "record_dispositions",
        RecordDispositions,
        r.null_exactly_when("rule", "disposition in ('current', 'kept')", "explained"),
        batched=False,
    ),
    _int("rejected_rows", RejectedRows, batched=False),
)
