"""Unit tests of the newline-delimited JSON feed parsers: records, schema rules and rejections."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from lakehouse.formats import json_feeds
from lakehouse.formats.base import (
    E_EMPTY,
    E_ENCODING,
    E_MAPPING,
    E_SCHEMA,
    E_SYNTAX,
    Outcome,
    ParsedRecord,
    Rejected,
)
from lakehouse.formats.json_feeds import (
    JSON_PARSERS,
    bronze_columns,
    parse_cms_json_declarations,
    parse_ects_events,
    parse_erp_payments,
    parse_hr_records,
    parse_inspection_outcomes,
)
from lakehouse.landing import FEEDS
from tests.samples import HR_RECORDS

pytestmark = pytest.mark.unit

Parser = Callable[[bytes, str], Iterator[Outcome]]
# The quality columns of a record that broke no rule.
CLEAN = {"flags": None, "source_literals": None}


def lines(*objects: Any) -> bytes:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects).encode()


def run(parser: Parser, data: bytes) -> list[Outcome]:
    return list(parser(data, "feed.ndjson"))


def only_record(parser: Parser, obj: dict[str, Any]) -> ParsedRecord:
    (outcome,) = run(parser, lines(obj))
    assert isinstance(outcome, ParsedRecord), outcome
    return outcome


def only_rejection(parser: Parser, data: bytes | dict[str, Any]) -> Rejected:
    (outcome,) = run(parser, data if isinstance(data, bytes) else lines(data))
    assert isinstance(outcome, Rejected), outcome
    return outcome


PAYMENT = {
    "payment_id": "PAY-1",
    "kind": "payment",
    "declaration_ref": "LRN-1",
    "tax_type": "A00",
    "amount": "1234.50",
    "currency": "KES",
    "method": "EFT",
    "payment_reference": "BANK-77",
    "value_date": "2026-11-25",
    "recorded_at": "2026-11-25T10:15:00+03:00",
}

EVENT = {
    "event_id": "EV-1",
    "trip_id": "TRIP-9",
    "device_id": "DEV-3",
    "vehicle_id": "KBC 123A",
    "seal_id": "SEAL-5",
    "event_type": "position",
    "event_time": "2026-11-25T10:15:00+03:00",
    "latitude": -1.2921,
    "longitude": 36.8219,
    "speed_kmh": 62.5,
    "heading": 270,
    "battery_pct": 81.0,
    "mrn": "26KE000123",
    "office_of_departure": "KEMBA",
    "office_of_destination": "UGKLA",
}

INSPECTION = {
    "inspection_id": "INS-1",
    "lrn": "LRN-1",
    "office_code": "KE001",
    "officer_id": "OFF-4",
    "inspected_at": "2026-11-25T12:00:00Z",
    "channel": "red",
    "result": "discrepancy",
    "findings": ["undervaluation", "misdeclared_origin"],
    "additional_duty": "15000.00",
    "currency": "KES",
    "notes": "invoice altered",
}

DECLARATION = {
    "lrn": "LRN-2026-0001",
    "declaration_type": "IM",
    "declaration_type_ext": "A",
    "message_function": "9",
    "issue_datetime": "2026-11-25T10:15:00+01:00",
    "procedure_code": "4000",
    "office_code": "KE001",
    "country_of_dispatch": "CN",
    "country_of_destination": "KE",
    "transport_mode": "1",
    "transport_id": "MSC ANNA",
    "delivery_terms": "FOB",
    "invoice_amount": "1234.50",
    "invoice_currency": "USD",
    "exchange_rate": "129.5",
    "parties": [
        {"role": "IM", "id": "KE-IM-4", "name": "Nairobi Imports", "country": "KE"},
        {"role": "EX", "id": "CN-EX-9", "id_scheme": "EORI", "name": "Shenzhen", "country": "CN"},
    ],
    "items": [
        {
            "item_no": 1,
            "hs_code": "85171300",
            "description": "Mobile phones",
            "origin_country": "CN",
            "customs_value": "1234.50",
            "value_currency": "USD",
            "gross_mass": "12.5",
            "net_mass": 10,
            "mass_unit": "KGM",
            "quantity": 50,
            "quantity_unit": "NAR",
            "packages": 3,
            "procedure_code": "4000",
            "taxes": [{"tax_type": "A00", "rate": 25, "amount": "39966.94", "currency": "KES"}],
        }
    ],
}


# --- records ---------------------------------------------------------------------------------


def test_cms_declaration_record() -> None:
    outcome = only_record(parse_cms_json_declarations, DECLARATION)
    assert outcome.table == "cms_declarations"
    assert outcome.message_index == 0
    assert outcome.record == {
        "syntax": "json",
        "message_type": "JSON_DEC",
        "directory_version": None,
        "interchange_ref": None,
        "message_ref": None,
        "sender_id": None,
        "recipient_id": None,
        "control_issues": [],
        "unknown_segments": [],
        "lrn": "LRN-2026-0001",
        "declaration_type": "IM",
        "declaration_type_ext": "A",
        "message_function": "9",
        "issue_datetime": datetime(2026, 11, 25, 9, 15, tzinfo=UTC),
        "procedure_code": "4000",
        "office_code": "KE001",
        "country_of_dispatch": "CN",
        "country_of_destination": "KE",
        "transport_mode": "1",
        "transport_id": "MSC ANNA",
        "delivery_terms": "FOB",
        "invoice_amount": Decimal("1234.50"),
        "invoice_currency": "USD",
        "exchange_rate": Decimal("129.5"),
        "total_duty": None,
        "total_duty_currency": None,
        "parties": [
            {
                "role": "IM",
                "id": "KE-IM-4",
                "id_scheme": None,
                "name": "Nairobi Imports",
                "country": "KE",
                "street": None,
                "city": None,
                "postcode": None,
            },
            {
                "role": "EX",
                "id": "CN-EX-9",
                "id_scheme": "EORI",
                "name": "Shenzhen",
                "country": "CN",
                "street": None,
                "city": None,
                "postcode": None,
            },
        ],
        "references": [],
        "dates": [],
        "declaration_taxes": [],
        "items": [
            {
                "item_no": 1,
                "hs_code": "85171300",
                "hs_code_list": None,
                "procedure_code": "4000",
                "description": "Mobile phones",
                "origin_country": "CN",
                "customs_value": Decimal("1234.50"),
                "value_currency": "USD",
                "statistical_value": None,
                "gross_mass": Decimal("12.5"),
                "net_mass": Decimal("10"),
                "mass_unit": "KGM",
                "quantity": Decimal("50"),
                "quantity_unit": "NAR",
                "packages": 3,
                "taxes": [
                    {
                        "tax_type": "A00",
                        "tax_category": None,
                        "rate": Decimal("25"),
                        "base_amount": None,
                        "amount": Decimal("39966.94"),
                        "currency": "KES",
                    }
                ],
                "references": [],
            }
        ],
        **CLEAN,
    }
    assert tuple(outcome.record) == bronze_columns("cms_declarations")


def test_cms_declaration_keeps_unknown_keys_and_ignores_envelope_from_json() -> None:
    obj = copy.deepcopy(DECLARATION)
    obj["broker_note"] = "x"
    obj["syntax"] = "edifact"
    obj["items"][0]["colour"] = "red"
    obj["items"][0]["taxes"][0]["waived"] = False
    record = only_record(parse_cms_json_declarations, obj).record
    assert record["syntax"] == "json"
    assert record["unknown_segments"] == [
        "$.items[0].taxes[0].waived",
        "$.items[0].colour",
        "$.broker_note",
        "$.syntax",
    ]


def test_erp_payment_record() -> None:
    outcome = only_record(parse_erp_payments, PAYMENT)
    assert outcome.table == "erp_payments"
    assert outcome.record == {
        "payment_id": "PAY-1",
        "kind": "payment",
        "declaration_ref": "LRN-1",
        "tax_type": "A00",
        "amount": Decimal("1234.50"),
        "currency": "KES",
        "method": "EFT",
        "payment_reference": "BANK-77",
        "value_date": date(2026, 11, 25),
        "recorded_at": datetime(2026, 11, 25, 7, 15, tzinfo=UTC),
        **CLEAN,
    }


def test_missing_optional_fields_are_none() -> None:
    minimal = {k: PAYMENT[k] for k in ("payment_id", "kind", "amount", "currency", "value_date")}
    record = only_record(parse_erp_payments, minimal).record
    assert tuple(record) == bronze_columns("erp_payments")
    assert record["declaration_ref"] is None
    assert record["recorded_at"] is None
    assert record["amount"] == Decimal("1234.50")


def test_refund_amount_may_be_negative() -> None:
    record = only_record(parse_erp_payments, {**PAYMENT, "kind": "refund", "amount": "-10.5"})
    assert record.record["amount"] == Decimal("-10.5")


def test_ects_event_record_in_utc() -> None:
    outcome = only_record(parse_ects_events, EVENT)
    assert outcome.table == "ects_events"
    assert outcome.record == {
        **EVENT,
        "event_time": datetime(2026, 11, 25, 7, 15, tzinfo=UTC),
        "heading": 270.0,
        **CLEAN,
    }
    assert isinstance(outcome.record["heading"], float)


@pytest.mark.parametrize("event_type", ["sealed", "opened", "tamper", "low_battery"])
def test_ects_non_position_events_need_no_coordinates(event_type: str) -> None:
    obj = {k: v for k, v in EVENT.items() if k not in ("latitude", "longitude")}
    record = only_record(parse_ects_events, {**obj, "event_type": event_type}).record
    assert (record["event_type"], record["latitude"], record["longitude"]) == (
        event_type,
        None,
        None,
    )


def test_inspection_outcome_record() -> None:
    outcome = only_record(parse_inspection_outcomes, INSPECTION)
    assert outcome.table == "cms_inspection_outcomes"
    assert outcome.record == {
        **INSPECTION,
        "inspected_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "additional_duty": Decimal("15000.00"),
        **CLEAN,
    }


def test_inspection_without_findings_gets_an_empty_list() -> None:
    obj = {k: v for k, v in INSPECTION.items() if k != "findings"}
    assert only_record(parse_inspection_outcomes, obj).record["findings"] == []


def test_naive_timestamps_outside_ects_are_read_as_utc() -> None:
    record = only_record(
        parse_inspection_outcomes, {**INSPECTION, "inspected_at": "2026-11-25T12:00:00"}
    )
    assert record.record["inspected_at"] == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_hr_records_go_to_their_tables() -> None:
    data = lines(
        *HR_RECORDS,
    )
    officer, posting, shift = run(parse_hr_records, data)
    assert isinstance(officer, ParsedRecord)
    assert isinstance(posting, ParsedRecord)
    assert isinstance(shift, ParsedRecord)
    assert (officer.table, posting.table, shift.table) == (
        "hr_officers",
        "hr_postings",
        "hr_shifts",
    )
    assert [o.message_index for o in (officer, posting, shift)] == [0, 1, 2]
    assert officer.record == {
        "officer_id": "OFF-4",
        "national_id": "12345678",
        "full_name": "A. Officer",
        "grade": "CO2",
        "email": "a.officer@kra.example",
        "date_of_birth": date(1985, 4, 2),
        "hired_on": date(2010, 1, 4),
        "active": True,
        **CLEAN,
    }
    assert posting.record == {
        "posting_id": "P-1",
        "officer_id": "OFF-4",
        "office_code": "KE001",
        "role": "examiner",
        "start_date": date(2025, 1, 1),
        "end_date": None,
        **CLEAN,
    }
    assert shift.record == {
        "shift_id": "S-1",
        "officer_id": "OFF-4",
        "office_code": "KE001",
        "shift_start": datetime(2026, 11, 25, 19, 0, tzinfo=UTC),
        "shift_end": datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
        **CLEAN,
    }
    for outcome in (officer, posting, shift):
        assert tuple(outcome.record) == bronze_columns(outcome.table)


def test_json_parsers_cover_every_json_feed() -> None:
    json_feeds_keys = {key for key, feed in FEEDS.items() if feed.format == "json"}
    assert set(JSON_PARSERS) == json_feeds_keys
    assert JSON_PARSERS["erp/payments"] is parse_erp_payments


# --- file-level rules ------------------------------------------------------------------------


def test_blank_lines_do_not_count_and_bom_is_tolerated() -> None:
    data = (
        b"\xef\xbb\xbf" + lines(PAYMENT, "", "   ", {**PAYMENT, "payment_id": "PAY-2"}) + b"\r\n\n"
    )
    first, second = run(parse_erp_payments, data)
    assert isinstance(first, ParsedRecord)
    assert isinstance(second, ParsedRecord)
    assert (first.message_index, second.message_index) == (0, 1)
    assert second.record["payment_id"] == "PAY-2"


def test_crlf_line_endings() -> None:
    data = lines(PAYMENT, PAYMENT).replace(b"\n", b"\r\n")
    assert [type(o) for o in run(parse_erp_payments, data)] == [ParsedRecord, ParsedRecord]


def test_bad_lines_do_not_stop_good_ones() -> None:
    data = lines(
        PAYMENT, "{not json", {**PAYMENT, "amount": "n/a"}, "", {**PAYMENT, "payment_id": "PAY-3"}
    )
    good1, bad_syntax, bad_schema, good2 = run(parse_erp_payments, data)
    assert isinstance(good1, ParsedRecord)
    assert isinstance(good2, ParsedRecord)
    assert good2.message_index == 3
    assert isinstance(bad_syntax, Rejected)
    assert (bad_syntax.message_index, bad_syntax.error_code, bad_syntax.raw) == (
        1,
        E_SYNTAX,
        "{not json",
    )
    assert re.fullmatch(
        r"line 2: invalid JSON at column 2: Expecting property name enclosed in double quotes",
        bad_syntax.reason,
    )
    assert isinstance(bad_schema, Rejected)
    assert (bad_schema.message_index, bad_schema.error_code) == (2, E_SCHEMA)
    assert bad_schema.reason.startswith("line 3: $.amount: 'n/a' does not match")
    assert bad_schema.raw == json.dumps({**PAYMENT, "amount": "n/a"})
    assert (bad_schema.field, bad_schema.value, bad_schema.rule) == ("amount", "n/a", "pattern")


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_file(data: bytes) -> None:
    rejected = only_rejection(parse_erp_payments, data)
    assert (rejected.error_code, rejected.message_index) == (E_EMPTY, 0)
    assert rejected.reason == "feed.ndjson: the file holds no JSON line"


def test_undecodable_bytes_reject_the_whole_file() -> None:
    data = lines(PAYMENT) + b'\n{"payment_id": "caf\xe9"}\n' + lines(PAYMENT)
    rejected = only_rejection(parse_erp_payments, data)
    assert rejected.error_code == E_ENCODING
    assert re.search(
        r"not valid UTF-8 at byte offset \d+ \(line 2\): invalid continuation byte", rejected.reason
    )
    assert "caf\\xe9" in rejected.raw


def test_lone_surrogate_escape_is_an_encoding_error() -> None:
    data = lines(PAYMENT).replace(b"BANK-77", b"BANK\\ud800")
    rejected = only_rejection(parse_erp_payments, data)
    assert rejected.error_code == E_ENCODING
    assert "lone UTF-16 surrogate" in rejected.reason


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_syntax_errors(constant: str) -> None:
    rejected = only_rejection(parse_ects_events, f'{{"speed_kmh": {constant}}}'.encode())
    assert rejected.error_code == E_SYNTAX
    assert rejected.reason == f"line 1: invalid JSON: {constant} is not valid JSON"


def test_trailing_garbage_is_a_syntax_error() -> None:
    rejected = only_rejection(parse_erp_payments, lines(PAYMENT) + b" x")
    assert rejected.error_code == E_SYNTAX
    assert "Extra data" in rejected.reason


# --- schema rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parser", "obj", "reason", "field", "value", "rule"),
    [
        (
            parse_erp_payments,
            {k: v for k, v in PAYMENT.items() if k != "currency"},
            r"\$: 'currency' is a required property",
            "currency",
            None,
            "required",
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "amount": "twelve"},
            r"\$\.amount: 'twelve' does not match",
            "amount",
            "twelve",
            "pattern",
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "amount": ""},
            r"\$\.amount: '' does not match",
            "amount",
            "",
            "pattern",
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "value_date": "2026-02-30"},
            r"\$\.value_date: '2026-02-30' is not a 'date' \(day is out of range for month\)",
            "value_date",
            "2026-02-30",
            "format",
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "value_date": "20261125"},
            r"\$\.value_date: '20261125' is not a 'date' \(expected ISO-8601 YYYY-MM-DD\)",
            "value_date",
            "20261125",
            "format",
        ),
        (
            parse_erp_payments,
            ["not", "an", "object"],
            r"\$: \['not', 'an', 'object'\] is not of type 'object'",
            "$",
            None,
            "type",
        ),
        (
            parse_ects_events,
            {**EVENT, "event_time": "2026-11-25T10:15:00"},
            r"\$\.event_time: '2026-11-25T10:15:00' is not a 'date-time' "
            r"\(a zone \(Z or ±hh:mm\) is required\)",
            "event_time",
            "2026-11-25T10:15:00",
            "format",
        ),
        (
            parse_ects_events,
            {k: v for k, v in EVENT.items() if k != "longitude"},
            r"\$: 'longitude' is a required property",
            "longitude",
            None,
            "required",
        ),
        (
            parse_ects_events,
            {**EVENT, "latitude": "north"},
            r"\$\.latitude: 'north' is not of type 'number'",
            "latitude",
            "north",
            "type",
        ),
        (
            parse_inspection_outcomes,
            {k: v for k, v in INSPECTION.items() if k != "result"},
            r"\$: 'result' is a required property",
            "result",
            None,
            "required",
        ),
        (
            parse_hr_records,
            {"record_type": "posting", "posting_id": "P", "officer_id": "O", "office_code": "K"},
            r"\$: 'start_date' is a required property",
            "start_date",
            None,
            "required",
        ),
        (
            parse_cms_json_declarations,
            {**DECLARATION, "items": []},
            r"\$\.items: \[\] should be non-empty",
            "items",
            None,
            "minItems",
        ),
        (
            parse_cms_json_declarations,
            {k: v for k, v in DECLARATION.items() if k != "lrn"},
            r"\$: 'lrn' is a required property",
            "lrn",
            None,
            "required",
        ),
        (
            parse_cms_json_declarations,
            {**DECLARATION, "items": ["item"]},
            r"\$\.items\[0\]: 'item' is not of type 'object'",
            "items[0]",
            "item",
            "type",
        ),
    ],
)
def test_schema_failures_name_path_and_rule(
    parser: Parser, obj: Any, reason: str, field: str, value: str | None, rule: str
) -> None:
    data = b"\n" + lines(obj)  # the offending line is the file's second physical line
    rejected = only_rejection(parser, data)
    assert rejected.error_code == E_SCHEMA
    assert rejected.message_index == 0
    assert rejected.reason.startswith("line 2: ")
    assert re.search(reason, rejected.reason), rejected.reason
    assert (rejected.field, rejected.value, rejected.rule) == (field, value, rule)
    assert rejected.raw == lines(obj).decode()


# A broken rule on an optional field, or a merely unusual mandatory value (an unknown code, a
# number out of the usual range, a decimal comma), is flagged and the record loads.
@pytest.mark.parametrize(
    ("parser", "obj", "column", "stored", "flag", "literal"),
    [
        (
            parse_erp_payments,
            {**PAYMENT, "amount": 12.5},
            "amount",
            Decimal("12.5"),
            r"^type amount: 12\.5 is not of type 'string'$",
            None,
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "amount": "12,50"},
            "amount",
            Decimal("12.50"),
            r"^pattern amount: '12,50' does not match",
            "12,50",
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "amount": "2359189.8000000003"},
            "amount",
            Decimal("2359189.8000000003"),
            None,
            None,
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "currency": "ksh"},
            "currency",
            "ksh",
            r"^pattern currency: 'ksh' does not match",
            None,
        ),
        (
            parse_erp_payments,
            {**PAYMENT, "recorded_at": "yesterday"},
            "recorded_at",
            None,
            r"^format recorded_at: 'yesterday' is not a 'iso-date-time'.*; stored null$",
            "yesterday",
        ),
        (
            parse_ects_events,
            {**EVENT, "latitude": 91.5},
            "latitude",
            91.5,
            r"^maximum latitude: 91\.5 is greater than the maximum of 90$",
            None,
        ),
        (
            parse_ects_events,
            {**EVENT, "event_type": "parked"},
            "event_type",
            "parked",
            r"^enum event_type: 'parked' is not one of \['position'",
            None,
        ),
        (
            parse_ects_events,
            {**EVENT, "latitude": "1.5"},
            "latitude",
            1.5,
            r"^type latitude: '1\.5' is not of type 'number'",
            None,  # the text sent is the number stored: nothing to keep
        ),
        (
            parse_ects_events,
            {**EVENT, "speed_kmh": True},
            "speed_kmh",
            None,
            r"^type speed_kmh: True is not of type 'number', 'null'; stored null$",
            "true",
        ),
        (
            parse_inspection_outcomes,
            {**INSPECTION, "findings": "undervaluation"},
            "findings",
            [],
            r"^type findings: 'undervaluation' is not of type 'array', 'null'; stored null$",
            "undervaluation",
        ),
        (
            parse_hr_records,
            {"record_type": "officer", "officer_id": "O", "active": "yes"},
            "active",
            None,
            r"^type active: 'yes' is not of type 'boolean', 'null'; stored null$",
            "yes",
        ),
        (
            parse_cms_json_declarations,
            {**DECLARATION, "invoice_amount": 1234.5},
            "invoice_amount",
            Decimal("1234.5"),
            r"^type invoice_amount: 1234\.5 is not of type 'string', 'null'$",
            None,
        ),
        (
            parse_cms_json_declarations,
            {**DECLARATION, "country_of_dispatch": "CHN"},
            "country_of_dispatch",
            "CHN",
            r"^pattern country_of_dispatch: 'CHN' does not match",
            None,
        ),
    ],
)
def test_unusual_values_are_flagged_and_load(
    parser: Parser,
    obj: dict[str, Any],
    column: str,
    stored: Any,
    flag: str | None,
    literal: str | None,
) -> None:
    record = only_record(parser, obj).record
    assert record[column] == stored
    flags = record["flags"] or []
    if flag is None:
        assert flags == []
    else:
        assert len(flags) == 1
        assert re.search(flag, flags[0]), flags
    literals = record["source_literals"] or {}
    assert literals == ({column: literal} if literal is not None else {})


def test_an_unusual_item_value_is_flagged_with_its_path() -> None:
    item = {**DECLARATION["items"][0], "customs_value": 10, "hs_code": "8517.13", "item_no": 0}
    item["taxes"] = [{**item["taxes"][0], "currency": "", "amount": "1 234,5"}]
    record = only_record(parse_cms_json_declarations, {**DECLARATION, "items": [item]}).record
    got = record["items"][0]
    assert (got["customs_value"], got["hs_code"], got["item_no"]) == (Decimal(10), "8517.13", 0)
    assert got["taxes"][0]["currency"] is None  # an empty optional field: null, no flag
    assert got["taxes"][0]["amount"] is None  # not a number: null and its literal kept
    assert sorted(f.split(":")[0] for f in record["flags"]) == [
        "minimum items[0].item_no",
        "pattern items[0].hs_code",
        "pattern items[0].taxes[0].amount",
        "type items[0].customs_value",
    ]
    assert record["source_literals"] == {"items[0].taxes[0].amount": "1 234,5"}


@pytest.mark.parametrize("empty", ["", None, "missing"])
def test_empty_optional_fields_never_reject(empty: str | None) -> None:
    optional = ("invoice_amount", "country_of_dispatch", "exchange_rate", "transport_mode")
    obj = {k: v for k, v in DECLARATION.items() if empty != "missing" or k not in optional}
    if empty != "missing":
        obj.update(dict.fromkeys(optional, empty))
    record = only_record(parse_cms_json_declarations, obj).record
    assert record["invoice_amount"] is None
    assert record["exchange_rate"] is None
    assert record["country_of_dispatch"] in (None, "")
    assert record["flags"] is None


def test_accents_and_any_unicode_load_as_sent() -> None:
    names = "Société Générale d'Import — Ñandú Ltd. 株式会社 🚚"
    parties = [{"role": "IM", "id": "É-1", "name": names, "country": "CI"}]
    record = only_record(parse_cms_json_declarations, {**DECLARATION, "parties": parties}).record
    assert record["parties"][0]["name"] == names
    assert record["parties"][0]["id"] == "É-1"
    assert record["flags"] is None


def test_long_json_numbers_are_exact_decimals() -> None:
    line = json.dumps({**INSPECTION, "additional_duty": 1.5}).replace("1.5", "2359189.8000000003")
    (outcome,) = run(parse_inspection_outcomes, line.encode())
    assert isinstance(outcome, ParsedRecord)
    assert outcome.record["additional_duty"] == Decimal("2359189.8000000003")


def test_unknown_hr_record_type_has_no_table() -> None:
    rejected = only_rejection(parse_hr_records, {"record_type": "contractor", "officer_id": "O"})
    assert rejected.error_code == E_SCHEMA
    assert re.search(r"\$\.record_type: 'contractor' is not one of", rejected.reason)
    assert (rejected.field, rejected.value, rejected.rule) == ("record_type", "contractor", "enum")


# --- pretty-printed documents in a line feed -------------------------------------------------


def test_a_pretty_printed_object_is_one_flagged_record() -> None:
    data = json.dumps(PAYMENT, indent=2).encode()
    record = only_record(parse_erp_payments, PAYMENT)  # noqa: F841 - the same record, unflagged
    (outcome,) = run(parse_erp_payments, data)
    assert isinstance(outcome, ParsedRecord)
    assert outcome.record["payment_id"] == "PAY-1"
    assert outcome.record["flags"] == [
        "pretty-printed-json $: one JSON document spanning lines (line 1)"
    ]


def test_a_pretty_printed_array_gives_one_record_per_element() -> None:
    bad = {k: v for k, v in PAYMENT.items() if k != "currency"}
    elements = [PAYMENT, {**PAYMENT, "payment_id": "PAY-2"}, bad]
    data = ("\n" + json.dumps(elements, indent=4) + "\n").encode()
    first, second, third = run(parse_erp_payments, data)
    assert isinstance(first, ParsedRecord)
    assert isinstance(second, ParsedRecord)
    assert [first.message_index, second.message_index] == [0, 1]
    assert second.record["payment_id"] == "PAY-2"
    assert second.record["flags"][0].startswith("pretty-printed-json $:")
    assert isinstance(third, Rejected)
    assert third.message_index == 2
    assert third.raw == json.dumps(bad, indent=4).replace("\n", "\n    ")
    assert third.field == "currency"


def test_a_broken_pretty_printed_document_is_quarantined_once() -> None:
    text = json.dumps([PAYMENT, PAYMENT], indent=2)
    text = text.replace('"kind": "payment",', '"kind": "payment"', 1)  # a missing comma
    rejected = only_rejection(parse_erp_payments, text.encode())
    assert rejected.error_code == E_SYNTAX
    assert rejected.raw == text
    assert re.search(r"not valid JSON at line 5 column 5: Expecting ',' delimiter", rejected.reason)
    assert rejected.rule == "json"


def test_json_lines_with_a_broken_first_line_stay_line_by_line() -> None:
    data = lines('{"payment_id": ', PAYMENT, {**PAYMENT, "payment_id": "PAY-2"})
    outcomes = run(parse_erp_payments, data)
    assert [type(o) for o in outcomes] == [Rejected, ParsedRecord, ParsedRecord]


def test_cms_rejections_carry_the_message_type() -> None:
    rejected = only_rejection(parse_cms_json_declarations, {**DECLARATION, "lrn": ""})
    assert rejected.message_type == "JSON_DEC"
    assert rejected.error_code == E_SCHEMA
    assert (rejected.field, rejected.value, rejected.rule) == ("lrn", "", "minLength")


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (
            {
                "record_type": "shift",
                "shift_id": "S-9",
                "officer_id": "O",
                "shift_start": "2026-11-25T08:00:00Z",
                "shift_end": "2026-11-25T10:00:00+03:00",
            },
            r"shift S-9: shift_end 2026-11-25T07:00:00\+00:00 is before "
            r"shift_start 2026-11-25T08:00:00",
        ),
        (
            {
                "record_type": "posting",
                "posting_id": "P-9",
                "officer_id": "O",
                "office_code": "K",
                "start_date": "2026-01-02",
                "end_date": "2026-01-01",
            },
            r"posting P-9: end_date 2026-01-01 is before start_date 2026-01-02",
        ),
    ],
)
def test_inconsistent_hr_records_are_mapping_errors(obj: dict[str, Any], reason: str) -> None:
    rejected = only_rejection(parse_hr_records, obj)
    assert rejected.error_code == E_MAPPING
    assert re.search(reason, rejected.reason), rejected.reason


# --- the fast validity check agrees with jsonschema ------------------------------------------


def _variants(obj: dict[str, Any]) -> Iterator[Any]:
    """The object, and for each key: dropped, nulled and replaced by odd values."""
    yield obj
    odd: list[Any] = [None, "", "x", 0, -1, 1.5, 1e20, True, [], {}, "2026-11-25", "9" * 20]
    for key in obj:
        yield {k: v for k, v in obj.items() if k != key}
        for value in odd:
            yield {**obj, key: value}


@pytest.mark.parametrize(
    ("schema", "sample"),
    [
        ("erp_payment.json", PAYMENT),
        ("ects_event.json", EVENT),
        ("inspection_outcome.json", INSPECTION),
        ("cms_declaration.json", DECLARATION),
        ("cms_declaration.json", DECLARATION["items"][0]),
        (
            "hr_record.json",
            {
                "record_type": "shift",
                "shift_id": "S",
                "officer_id": "O",
                "shift_start": "2026-11-25T08:00:00Z",
                "shift_end": "2026-11-25T09:00Z",
            },
        ),
    ],
)
def test_fast_check_agrees_with_jsonschema(schema: str, sample: dict[str, Any]) -> None:
    fast = json_feeds._fast_check(schema)
    assert fast is not None, f"{schema} fell off the fast path"
    validator = json_feeds._validator(schema)
    for variant in _variants(sample):
        assert fast(variant) == validator.is_valid(variant), variant


def test_validators_are_compiled_once() -> None:
    assert json_feeds._validator("erp_payment.json") is json_feeds._validator("erp_payment.json")
    run(parse_erp_payments, lines(PAYMENT))
    before = json_feeds._validator.cache_info().misses
    run(parse_erp_payments, lines(PAYMENT, PAYMENT, PAYMENT))
    assert json_feeds._validator.cache_info().misses == before
