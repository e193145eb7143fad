"""The table registry: every lake table, its zone, its schema and where it lives.

One place names every table so that jobs, contracts, lineage and tests agree. Bronze schemas
are written as Spark DDL so they can be read by a person and parsed by Spark
(``StructType.fromDDL``) and by our Arrow converter alike. Parsers emit dicts with exactly
these field names (see :mod:`lakehouse.formats.base`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Reusable struct shapes, kept as DDL fragments.
_TAX = (
    "struct<tax_type:string, tax_category:string, rate:decimal(38,18), base_amount:decimal(38,18),"
    " amount:decimal(38,18), currency:string>"
)
_PARTY = (
    "struct<role:string, id:string, id_scheme:string, name:string, country:string,"
    " street:string, city:string, postcode:string>"
)
_REF = "struct<qualifier:string, value:string>"
_DATE = "struct<qualifier:string, value:string, format:string>"

# A goods item of a declaration (CUSDEC SG30 / WCO GovernmentAgencyGoodsItem / JSON item).
_ITEM = (
    "struct<item_no:int, hs_code:string, hs_code_list:string, procedure_code:string,"
    " description:string, origin_country:string, customs_value:decimal(38,18),"
    " value_currency:string, statistical_value:decimal(38,18), gross_mass:decimal(38,18),"
    " net_mass:decimal(38,18), mass_unit:string, quantity:decimal(38,18), quantity_unit:string,"
    f" packages:int, taxes:array<{_TAX}>, references:array<{_REF}>>"
)

# Columns shared by every message-derived record: where it came from inside the message.
_ENVELOPE = (
    "syntax string, message_type string, directory_version string, interchange_ref string,"
    " message_ref string, sender_id string, recipient_id string, control_issues array<string>,"
    " unknown_segments array<string>"
)

# Every bronze table ends with these two columns (before ``_ingest``): what was merely unusual
# about the record (a value rounded to fit its column, a message type inferred, ...) and the
# literal text a sender sent wherever the stored value differs from it, keyed by field path
# (``items[0].customs_value``). Bronze keeps every valid value: nothing a sender sent is lost
# to a cast. Parsers may fill both; the bronze worker adds what it has to change to fit.
QUALITY_COLUMNS = "flags array<string>, source_literals map<string,string>"

# Amounts, masses, quantities and rates are decimal(38,18): 20 integer digits and 18 decimals
# hold what real senders send (floats written out as text carry up to 17 significant digits);
# a value beyond that is rounded to fit, flagged, and its literal text kept (QUALITY_COLUMNS).

INGEST_STRUCT = (
    "struct<source_uri:string, file_sha256:string, message_index:int, system:string,"
    " feed:string, received_at:timestamp, ingested_at:timestamp, parser_version:string,"
    " batch_id:bigint>"
)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A lake table: its zone, its name within the zone and its schema (DDL, without _ingest).

    ``system`` and ``entity`` follow the bronze naming ``<system>_<entity>``.
    """

    zone: str
    name: str
    ddl: str
    description: str
    system: str = ""

    @property
    def columns_ddl(self) -> str:
        """The stored columns (without ``_ingest``): bronze tables add :data:`QUALITY_COLUMNS`."""
        if self.zone == "bronze" and self.name in BRONZE:
            return f"{self.ddl}, {QUALITY_COLUMNS}"
        return self.ddl

    @property
    def full_name(self) -> str:
        """``zone.name``: the key used by lineage, contracts and the CLI."""
        return f"{self.zone}.{self.name}"


BRONZE: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "bronze",
            "cms_declarations",
            f"{_ENVELOPE}, lrn string, declaration_type string, declaration_type_ext string,"
            " message_function string, issue_datetime timestamp, procedure_code string,"
            " office_code string, country_of_dispatch string, country_of_destination string,"
            " transport_mode string, transport_id string, delivery_terms string,"
            " invoice_amount decimal(38,18), invoice_currency string,"
            " exchange_rate decimal(38,18), total_duty decimal(38,18), total_duty_currency string,"
            f" parties array<{_PARTY}>, references array<{_REF}>, dates array<{_DATE}>,"
            f" declaration_taxes array<{_TAX}>, items array<{_ITEM}>",
            "One row per declaration message (CUSDEC, WCO XML or JSON), amendments included.",
            "cms",
        ),
        TableSpec(
            "bronze",
            "cms_responses",
            f"{_ENVELOPE}, document_number string, response_type string, message_function string,"
            " issue_datetime timestamp, declaration_ref string, status string,"
            " errors array<struct<code:string, reference:string, text:string>>,"
            f" taxes array<{_TAX}>, references array<{_REF}>, dates array<{_DATE}>,"
            f" parties array<{_PARTY}>",
            "One row per customs response message (CUSRES).",
            "cms",
        ),
        TableSpec(
            "bronze",
            "cms_cargo_reports",
            f"{_ENVELOPE}, document_number string, message_function string,"
            " issue_datetime timestamp, transport_mode string, conveyance_id string,"
            " carrier_id string, place_of_loading string, place_of_discharge string,"
            f" parties array<{_PARTY}>, references array<{_REF}>,"
            " equipment array<struct<container_id:string, seal_ids:array<string>>>,"
            " consignments array<struct<consignment_no:int, transport_document:string,"
            " consignor_id:string, consignee_id:string, goods:array<struct<item_no:int,"
            " description:string, hs_code:string, packages:int, gross_mass:decimal(38,18),"
            f" mass_unit:string>>, parties:array<{_PARTY}>>>, document_type string,"
            " voyage_number string, conveyance_name string",
            "One row per cargo report message (CUSCAR).",
            "cms",
        ),
        TableSpec(
            "bronze",
            "cms_inspection_outcomes",
            "inspection_id string, lrn string, office_code string, officer_id string,"
            " inspected_at timestamp, channel string, result string, findings array<string>,"
            " additional_duty decimal(38,18), currency string, notes string",
            "One row per inspection outcome reported by an officer (the models' labels).",
            "cms",
        ),
        TableSpec(
            "bronze",
            "ects_events",
            "event_id string, trip_id string, device_id string, vehicle_id string,"
            " seal_id string, event_type string, event_time timestamp, latitude double,"
            " longitude double, speed_kmh double, heading double, battery_pct double,"
            " mrn string, office_of_departure string, office_of_destination string",
            "One row per tracking event (GPS position or e-seal event) of a transit trip.",
            "ects",
        ),
        TableSpec(
            "bronze",
            "erp_payments",
            "payment_id string, kind string, declaration_ref string, tax_type string,"
            " amount decimal(38,18), currency string, method string, payment_reference string,"
            " value_date date, recorded_at timestamp",
            "One row per ERP money movement: duty payment, receipt or refund.",
            "erp",
        ),
        TableSpec(
            "bronze",
            "hr_officers",
            "officer_id string, national_id string, full_name string, grade string,"
            " email string, date_of_birth date, hired_on date, active boolean",
            "One row per officer per HR sync (personal data: pseudonymized before silver).",
            "hr",
        ),
        TableSpec(
            "bronze",
            "hr_postings",
            "posting_id string, officer_id string, office_code string, role string,"
            " start_date date, end_date date",
            "One row per posting of an officer to an office per HR sync.",
            "hr",
        ),
        TableSpec(
            "bronze",
            "hr_shifts",
            "shift_id string, officer_id string, office_code string, shift_start timestamp,"
            " shift_end timestamp",
            "One row per scheduled shift per HR sync.",
            "hr",
        ),
    )
}

QUARANTINE = TableSpec(
    "bronze",
    "quarantine",
    "source_uri string, file_sha256 string, system string, feed string, message_index int,"
    " message_type string, error_code string, reason string, field string, value string,"
    " rule string, raw_payload string, parser_version string, batch_id bigint,"
    " quarantined_at timestamp, replayed_at timestamp, replay_batch_id bigint",
    "One row per file, message or record that could not be parsed or validated; replayed_at"
    " and replay_batch_id are set once a replay loaded it (lakehouse quarantine replay).",
)

FILE_LOG = TableSpec(
    "bronze",
    "ingest_file_log",
    "batch_id bigint, source_uri string, file_sha256 string, size_bytes bigint,"
    " modified_at timestamp, system string, feed string, status string,"
    " duplicate_of string, records bigint, rejected bigint, committed_at timestamp",
    "One row per landed file the ingestion has taken (or recognised as a duplicate).",
)


# Columns Delta keeps min/max statistics for (``delta.dataSkippingStatsColumns``): what readers
# filter on (business keys and times, the batch), not every column. By default Delta indexes
# the first 32 leaf columns, which costs ~40% of a bronze append and skips nothing useful on
# free text and raw segments.
_INGEST_STATS = ("_ingest.batch_id", "_ingest.received_at")
STATS_COLUMNS: dict[str, tuple[str, ...]] = {
    "cms_declarations": ("lrn", "issue_datetime", "office_code", *_INGEST_STATS),
    "cms_responses": ("declaration_ref", "issue_datetime", "status", *_INGEST_STATS),
    "cms_cargo_reports": ("document_number", "issue_datetime", *_INGEST_STATS),
    "cms_inspection_outcomes": ("lrn", "inspected_at", *_INGEST_STATS),
    "ects_events": ("trip_id", "event_time", "event_type", *_INGEST_STATS),
    "erp_payments": ("payment_id", "declaration_ref", "value_date", *_INGEST_STATS),
    "hr_officers": ("officer_id", *_INGEST_STATS),
    "hr_postings": ("officer_id", "start_date", *_INGEST_STATS),
    "hr_shifts": ("officer_id", "shift_start", *_INGEST_STATS),
    "quarantine": ("feed", "error_code", "batch_id", "quarantined_at"),
    "ingest_file_log": ("batch_id", "source_uri", "file_sha256", "status"),
}


def split_ddl(text: str, sep: str = ",") -> list[str]:
    """Split DDL on ``sep`` outside ``<...>`` and ``(...)``: a table's columns, a struct's fields.

    Without a JVM (``StructType.fromDDL`` needs one), so parsers and contracts read the
    registry's schemas the same way.
    """
    parts, depth, start = [], 0, 0
    for pos, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:pos].strip())
            start = pos + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def bronze_table(name: str) -> TableSpec:
    """Look up a bronze table by name, with a message that lists the known ones."""
    try:
        return BRONZE[name]
    except KeyError:
        known = ", ".join(sorted(BRONZE))
        raise KeyError(f"unknown bronze table {name!r}; known tables: {known}") from None
