"""Regressions from real customs messages (issue 9): one test (or more) per class of problem.

Each input is small and our own; each stands for a rule documented in docs/edifact.md.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lakehouse.formats.base import ParsedRecord, Rejected
from lakehouse.formats.customs_edifact import parse_edifact_file

pytestmark = pytest.mark.unit

UNB = "UNB+UNOC:3+SENDER:ZZZ+KRA:ZZZ+240102:1530+IC1'"


def message(ref: str, mtype: str, *segments: str) -> str:
    body = [f"UNH+{ref}+{mtype}", *segments]
    body.append(f"UNT+{len(body) + 1}+{ref}")
    return "".join(s + "'" for s in body)


def interchange(*messages: str, una: str = "UNA:+.? '", unb: str = UNB) -> str:
    return f"{una}{unb}{''.join(messages)}UNZ+{len(messages)}+IC1'"


def parse(text: str | bytes) -> list[ParsedRecord | Rejected]:
    data = text.encode("latin-1") if isinstance(text, str) else text
    return list(parse_edifact_file(data, "mem://real.edi"))  # type: ignore[arg-type]


def one_record(text: str | bytes) -> dict:
    (out,) = parse(text)
    assert isinstance(out, ParsedRecord), out
    return out.record


CUSDEC = "CUSDEC:D:96B:UN"


# ------------------------------------------------------------------ 1. numbers are never lost


def test_long_decimals_load_exactly() -> None:
    rec = one_record(
        interchange(
            message(
                "1",
                CUSDEC,
                "BGM+929+LRN1+9",
                "UNS+D",
                "CST+1+85171300:122",
                "MOA+40:2359189.8000000003:KRW",
                "MEA+WT+AAB+KGM:0.000000000000000000001",
            )
        )
    )
    item = rec["items"][0]
    assert item["customs_value"] == Decimal("2359189.8000000003")
    assert item["gross_mass"] == Decimal("1E-21")  # exact: the worker rounds and flags later


def test_huge_amount_is_kept_not_dropped() -> None:
    big = "123456789012345678901234567890.5"
    rec = one_record(interchange(message("1", CUSDEC, "BGM+929+LRN1+9", f"MOA+39:{big}:USD")))
    assert rec["invoice_amount"] == Decimal(big)
    assert rec["unknown_segments"] == []


def test_decimal_comma_keeps_the_literal() -> None:
    rec = one_record(
        interchange(message("1", CUSDEC, "BGM+929+LRN1+9", "MOA+39:1500,75:EUR"), una="UNA:+,? '")
    )
    assert rec["invoice_amount"] == Decimal("1500.75")
    assert rec["source_literals"] == {"invoice_amount": "1500,75"}


def test_mass_unit_conversion_is_exact_and_keeps_the_literal() -> None:
    rec = one_record(
        interchange(
            message(
                "1",
                CUSDEC,
                "BGM+929+LRN1+9",
                "UNS+D",
                "CST+1+85171300:122",
                "MEA+WT+AAB+KGM:10",
                "MEA+WT+AAC+LBR:3.3",
            )
        )
    )
    item = rec["items"][0]
    assert item["net_mass"] == Decimal("3.3") * Decimal("0.45359237")
    assert rec["source_literals"]["items[0].net_mass"] == "LBR:3.3"
    assert any(f.startswith("unit-converted items[0].net_mass:") for f in rec["flags"])


def test_unusual_values_are_flagged_and_kept_not_rejected() -> None:
    rec = one_record(
        interchange(
            message(
                "1",
                CUSDEC,
                "BGM+929+LRN1+9",
                "DTM+137:2024-13-45:ZZZ",  # unparseable optional date
                "LOC+99+XYZ",  # unknown qualifier
                "UNS+D",
                "CST+1+85171300:122",
                "MOA+40:12.5O:USD",  # a letter O: not a number
                "MEA+WT+AAB+XXX:5",  # odd unit: kept with its unit
            )
        )
    )
    assert rec["issue_datetime"] is None
    assert rec["dates"][0]["value"] == "2024-13-45"
    assert "LOC+99+XYZ" in rec["unknown_segments"]
    assert "MOA+40:12.5O:USD" in rec["unknown_segments"]
    assert rec["items"][0]["customs_value"] is None
    assert (rec["items"][0]["gross_mass"], rec["items"][0]["mass_unit"]) == (Decimal(5), "XXX")
    rules = sorted(f.split(" ", 1)[0] for f in rec["flags"])
    assert rules == ["not-a-number", "unparseable-date"]


# ------------------------------------------------------------------ 2. quarantine rows


def test_missing_lrn_names_field_value_rule_and_raw_is_as_sent() -> None:
    sent = "UNH+7+CUSDEC:D:96B:UN'\r\n  BGM+929++9'\r\n  FTX+AAI+++A ?'quoted?' note'\r\nUNT+4+7'"
    text = f"UNA:+.? '{UNB}\r\n{sent}\r\nUNZ+1+IC1'"
    (out,) = parse(text)
    assert isinstance(out, Rejected) and out.error_code == "MAPPING"
    assert (out.field, out.value, out.rule) == ("BGM/C106/1004", "", "required")
    assert out.raw == sent


def test_syntax_rejection_raw_keeps_custom_separators() -> None:
    sent = "UNH|1|CUSDEC^D^96B^UN~BGM|929|LRN1~B@D|x~UNT|4|1~"
    text = f"UNA^|.! ~UNB|UNOC^3|S|R|240102^1530|IC1~{sent}UNZ|1|IC1~"
    (out,) = parse(text)
    assert isinstance(out, Rejected) and out.error_code == "SYNTAX"
    assert out.raw == sent[:-1] + "~"
    assert out.field == "segment tag" and out.rule == "segment-tag"


# ------------------------------------------------------------------ 3. CUSCAR keeps everything


def test_cuscar_later_tdt_without_carrier_keeps_the_carrier_party() -> None:
    rec = one_record(
        interchange(
            message(
                "1",
                "CUSCAR:D:95B:UN",
                "BGM+785+MAN1+9",
                "NAD+CA+CARRIER9::ZZZ",
                "TDT+20+V042E+1+++++9876543::11:NORDIC STAR:NO",
                "TDT+30++3",
                "CNI+1+BL1",
                "NAD+CZ+SHIP1::ZZZ+Line 1:Line 2+Shipper AS+Kai 4:Bygg 2+Bergen++5003+NO",
                "NAD+CN+CONS1::ZZZ++Consignee Ltd+Moi Avenue 1+Nairobi++00100+KE",
            )
        )
    )
    assert rec["carrier_id"] == "CARRIER9"
    assert (rec["voyage_number"], rec["conveyance_id"]) == ("V042E", "9876543")
    assert rec["conveyance_name"] == "NORDIC STAR"
    assert rec["transport_mode"] == "1"
    assert "TDT+30++3" in rec["unknown_segments"]  # a second mode does not overwrite the first
    shipper, consignee = rec["consignments"][0]["parties"]
    assert shipper == {
        "role": "CZ",
        "id": "SHIP1",
        "id_scheme": "ZZZ",
        "name": "Shipper AS",
        "country": "NO",
        "street": "Kai 4 Bygg 2",
        "city": "Bergen",
        "postcode": "5003",
    }
    assert rec["source_literals"]["consignments[0].parties[0].street"] == "Kai 4:Bygg 2"
    # the C058 name-and-address lines were not used (C080 gave the name): kept whole
    assert any(u.startswith("NAD+CZ+SHIP1") for u in rec["unknown_segments"])
    assert (consignee["name"], consignee["city"], consignee["country"]) == (
        "Consignee Ltd",
        "Nairobi",
        "KE",
    )
    assert rec["consignments"][0]["consignor_id"] == "SHIP1"


# ------------------------------------------------------------------ 4. empty message type


@pytest.mark.parametrize(
    ("segments", "table", "evidence"),
    [
        (("BGM+785+MAN1+9", "CNI+1+BL1"), "cms_cargo_reports", "CUSCAR from BGM 785"),
        (("BGM+85+MAN1+9",), "cms_cargo_reports", "CUSCAR from BGM 85"),
        (("BGM+929+LRN1+9",), "cms_declarations", "CUSDEC from BGM 929"),
        (("BGM+962+R1+9",), "cms_responses", "CUSRES from BGM 962"),
        (("BGM+ZZZ+MAN1+9", "CNI+1+BL1"), "cms_cargo_reports", "CUSCAR from segment CNI"),
        (("BGM++R1+9", "ERP+1", "ERC+E1"), "cms_responses", "CUSRES from segment ERC"),
    ],
)
def test_empty_message_type_is_inferred_and_flagged(
    segments: tuple[str, ...], table: str, evidence: str
) -> None:
    (out,) = parse(interchange(message("1", ":D:95B:UN", *segments)))
    assert isinstance(out, ParsedRecord) and out.table == table, out
    assert out.record["message_type"] == evidence.split()[0]
    assert out.record["flags"] == [f"inferred-message-type UNH/S009/0065: '' inferred {evidence}"]
    assert out.record["source_literals"]["message_type"] == ""


def test_empty_message_type_without_evidence_is_unsupported() -> None:
    (out,) = parse(interchange(message("1", ":D:95B:UN", "BGM+1+X+9", "FTX+AAI+++hello")))
    assert isinstance(out, Rejected) and out.error_code == "UNSUPPORTED"
    assert (out.field, out.value) == ("UNH/S009/0065", "")


# ------------------------------------------------------------------ 5. invalid UNA


GOOD = interchange(message("9", CUSDEC, "BGM+929+LRN9+9"))


@pytest.mark.parametrize(
    ("una", "rule"),
    [
        ("UNA::.? '", "distinct-service-characters"),  # one char, two roles
        ("UNA:+.?''", "distinct-service-characters"),
        ("UNA:+:? '", "distinct-service-characters"),  # decimal mark = component separator
        ("UNA:+.??'", "distinct-service-characters"),
        ("UNAA+.? '", "separator-not-alphanumeric"),
        ("UNA:+UNB", "distinct-service-characters"),  # a UNA cut short
    ],
)
def test_invalid_una_gives_exactly_one_outcome_for_its_interchange(una: str, rule: str) -> None:
    bad = interchange(
        message("1", CUSDEC, "BGM+929+LRN1+9"), message("2", CUSDEC, "BGM+929+LRN2+9"), una=una
    )
    outcomes = parse(bad + "\n" + GOOD)
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    records = [o for o in outcomes if isinstance(o, ParsedRecord)]
    assert len(rejected) == 1
    assert (rejected[0].field, rejected[0].rule) == ("UNA", rule)
    assert rejected[0].raw.startswith(una)
    assert [r.record["lrn"] for r in records] == ["LRN9"]
    indexes = [o.message_index for o in outcomes]
    assert indexes == [0, 2]  # the rejected interchange consumed one index per UNH


def test_una_at_end_of_file_is_one_rejection() -> None:
    (out,) = parse("UNA:+.")
    assert isinstance(out, Rejected) and (out.field, out.rule) == ("UNA", "una-length")


# ------------------------------------------------------------------ 6. one bad byte


def test_bad_byte_quarantines_only_its_message_and_unz_still_counts_it() -> None:
    head = b"UNA:+.? 'UNB+UNOY:3+S:ZZZ+R:ZZZ+240102:1530+IC1'"
    first = message("1", CUSDEC, "BGM+929+LRN1+9").encode()
    second = message("2", CUSDEC, "BGM+929+LRN\xe9+9").encode("latin-1")  # not UTF-8
    third = message("3", CUSDEC, "BGM+929+LRNÉ+9").encode()
    data = head + first + second + third + b"UNZ+3+IC1'"
    a, b, c = parse(data)
    assert isinstance(a, ParsedRecord) and isinstance(c, ParsedRecord)
    assert c.record["lrn"] == "LRNÉ"
    assert a.record["control_issues"] == [] and c.record["control_issues"] == []
    assert isinstance(b, Rejected) and b.error_code == "ENCODING"
    assert b.raw == second.decode("latin-1")
    offset = data.index(b"\xe9")
    assert f"file offset {offset}" in b.reason and "utf-8" in b.reason
    assert (b.field, b.value, b.rule) == ("UNB/S001/0001", "UNOY", "utf-8")
