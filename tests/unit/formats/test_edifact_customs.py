"""Mapping-layer tests: CUSDEC (D96B, D01B, D13B layouts), CUSRES, CUSCAR -> bronze records."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from lakehouse.formats.base import (
    E_ENVELOPE,
    E_MAPPING,
    E_UNSUPPORTED,
    Outcome,
    ParsedRecord,
    Rejected,
)
from lakehouse.formats.customs_edifact import parse_edifact_date, parse_edifact_file
from lakehouse.tables import BRONZE

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ schema conformance helpers


def _split_top(ddl: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in ddl:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _fields(ddl: str) -> dict[str, str]:
    out = {}
    for part in _split_top(ddl):
        name, _, typ = part.replace(":", " ", 1).partition(" ")
        out[name] = typ.strip()
    return out


_PY = {
    "string": str,
    "int": int,
    "bigint": int,
    "timestamp": datetime,
    "double": float,
    "boolean": bool,
}


def assert_conforms(value: Any, typ: str, where: str) -> None:
    """Check a record value against a Spark DDL type, recursively."""
    if value is None:
        return
    if typ.startswith("array<"):
        assert isinstance(value, list), where
        for i, v in enumerate(value):
            assert_conforms(v, typ[6:-1], f"{where}[{i}]")
    elif typ.startswith("struct<"):
        assert isinstance(value, dict), where
        fields = _fields(typ[7:-1])
        assert list(value) == list(fields), f"{where}: {list(value)} != {list(fields)}"
        for k, t in fields.items():
            assert_conforms(value[k], t, f"{where}.{k}")
    elif typ.startswith("decimal"):
        assert isinstance(value, Decimal), f"{where}: {value!r}"
    elif typ.startswith("map<"):
        assert isinstance(value, dict), where
        assert all(type(k) is str and type(v) is str for k, v in value.items()), where
    else:
        assert type(value) is _PY[typ], f"{where}: {value!r} is not {typ}"
        if typ == "timestamp":
            assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0


def assert_record(out: Outcome, table: str) -> dict[str, Any]:
    assert isinstance(out, ParsedRecord), out
    assert out.table == table
    fields = _fields(BRONZE[table].columns_ddl)
    assert list(out.record) == list(fields)
    for k, t in fields.items():
        assert_conforms(out.record[k], t, k)
    return out.record


# ------------------------------------------------------------------ a CUSDEC writer (profile)


def cusdec_segments(
    lrn: str = "LRN-0001",
    items: int = 2,
    version: str = "D:96B:UN",
    gis: str = "GIS",
) -> list[str]:
    segs = [
        f"UNH+M1+CUSDEC:{version}",
        f"BGM+929:::IM4+{lrn}+9",
        "CST++4000:111:155",
        "LOC+22+KE001:113:155",
        "LOC+35+CN",
        "LOC+28+KE",
        "DTM+137:202401021530:203",
        "RFF+ABQ:IMP-REF-9",
        "DTM+171:20240101:102",
        "TDT+11+MSC ANNA+1",
        "NAD+DT+DECL01::ZZZ++Clearing Agents Ltd",
        "NAD+IM+IMP01::ZZZ++Importer Co+++++KE",
        "NAD+EX+EXP01::ZZZ++Shenzhen Export+++++CN",
        "TOD+++FOB",
        "MOA+39:15000.50:USD",
        "CUX+2:USD:4+3:KES:5+129.5",
        "UNS+D",
    ]
    for n in range(1, items + 1):
        segs += [
            f"CST+{n}+847130{n:04d}:122:155+4000",
            f"FTX+AAA+++LAPTOP COMPUTERS MODEL {n}",
            "LOC+27+CN",
            "MEA+WT+AAB+KGM:120.5",
            "MEA+WT+AAC+KGM:100",
            "MEA+AAE+AAD+NAR:40",
            "MOA+40:7500.25:USD",
            "TAX+5+CUD+++:::25",
            "MOA+161:1875.06:USD",
            "TAX+5+VAT+++:::16",
            "MOA+161:1500:USD",
            f"{gis}+1",
            "PAC+4",
        ]
    segs += [
        "UNS+S",
        f"CNT+5:{items}",
        "TAX+5+CUD",
        f"MOA+176:{Decimal('1875.06') * items}:USD",
        "TAX+5+VAT",
        f"MOA+176:{1500 * items}:USD",
    ]
    segs.append(f"UNT+{len(segs) + 1}+M1")
    return segs


def wrap(*messages: list[str], ref: str = "IC-7", charset: str = "UNOC:3") -> bytes:
    body = "\n".join("\n".join(s + "'" for s in m) for m in messages)
    text = (
        f"UNA:+.? '\nUNB+{charset}+SENDER1:ZZZ+KRA:ZZZ+240102:1530+{ref}'\n"
        f"{body}\nUNZ+{len(messages)}+{ref}'\n"
    )
    return text.encode("utf-8")


def parse(data: bytes, **kw: bool) -> list[Outcome]:
    return list(parse_edifact_file(data, "mem://test.edi", **kw))


# ------------------------------------------------------------------ CUSDEC


def test_cusdec_d96b_profile() -> None:
    (out,) = parse(wrap(cusdec_segments()))
    rec = assert_record(out, "cms_declarations")
    assert out.message_index == 0
    assert rec["syntax"] == "edifact" and rec["message_type"] == "CUSDEC"
    assert rec["directory_version"] == "D96B"
    assert (rec["interchange_ref"], rec["message_ref"]) == ("IC-7", "M1")
    assert (rec["sender_id"], rec["recipient_id"]) == ("SENDER1", "KRA")
    assert rec["control_issues"] == []
    assert rec["lrn"] == "LRN-0001"
    assert (rec["declaration_type"], rec["declaration_type_ext"]) == ("929", "IM4")
    assert rec["message_function"] == "9"
    assert rec["issue_datetime"] == datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
    assert rec["procedure_code"] == "4000" and rec["office_code"] == "KE001"
    assert (rec["country_of_dispatch"], rec["country_of_destination"]) == ("CN", "KE")
    assert (rec["transport_mode"], rec["transport_id"]) == ("1", "MSC ANNA")
    assert rec["delivery_terms"] == "FOB"
    assert rec["invoice_amount"] == Decimal("15000.50") and rec["invoice_currency"] == "USD"
    assert rec["exchange_rate"] == Decimal("129.5")
    assert rec["total_duty"] == Decimal("6750.12") and rec["total_duty_currency"] == "USD"
    assert [p["role"] for p in rec["parties"]] == ["DT", "IM", "EX"]
    assert rec["parties"][1] == {
        "role": "IM",
        "id": "IMP01",
        "id_scheme": "ZZZ",
        "name": "Importer Co",
        "country": "KE",
        "street": None,
        "city": None,
        "postcode": None,
    }
    assert rec["references"] == [{"qualifier": "ABQ", "value": "IMP-REF-9"}]
    assert [d["qualifier"] for d in rec["dates"]] == ["137", "171"]
    assert [t["tax_type"] for t in rec["declaration_taxes"]] == ["CUD", "VAT"]
    assert rec["declaration_taxes"][0]["amount"] == Decimal("3750.12")
    item = rec["items"][1]
    assert item["item_no"] == 2
    assert (item["hs_code"], item["hs_code_list"], item["procedure_code"]) == (
        "8471300002",
        "122",
        "4000",
    )
    assert item["description"] == "LAPTOP COMPUTERS MODEL 2"
    assert item["origin_country"] == "CN"
    assert item["gross_mass"] == Decimal("120.5") and item["net_mass"] == Decimal(100)
    assert item["mass_unit"] == "KGM"
    assert item["quantity"] == Decimal(40) and item["quantity_unit"] == "NAR"
    assert item["customs_value"] == Decimal("7500.25") and item["value_currency"] == "USD"
    assert item["packages"] == 4
    assert item["taxes"] == [
        {
            "tax_type": "CUD",
            "tax_category": None,
            "rate": Decimal(25),
            "base_amount": None,
            "amount": Decimal("1875.06"),
            "currency": "USD",
        },
        {
            "tax_type": "VAT",
            "tax_category": None,
            "rate": Decimal(16),
            "base_amount": None,
            "amount": Decimal(1500),
            "currency": "USD",
        },
    ]
    # The GIS inside each tax group is not mapped: kept, never dropped. So is every segment
    # holding a value no column takes: code-list agencies (155), the TAX function (5), the
    # TDT stage (11), the CUX qualifiers.
    item_extra = ["TAX+5+CUD+++:::25", "TAX+5+VAT+++:::16", "GIS+1"]
    assert rec["unknown_segments"] == [
        "CST++4000:111:155",
        "LOC+22+KE001:113:155",
        "TDT+11+MSC ANNA+1",
        "CUX+2:USD:4+3:KES:5+129.5",
        "CST+1+8471300001:122:155+4000",
        *item_extra,
        "CST+2+8471300002:122:155+4000",
        *item_extra,
        "TAX+5+CUD",
        "TAX+5+VAT",
    ]


def test_cusdec_d01b_layout() -> None:
    segs = cusdec_segments(version="D:01B:UN", items=1)
    # D01B: BGM C106 carries version/revision components; a DMS/LIN commercial group precedes
    # the goods item in the detail section and must not be taken as an item.
    segs[1] = "BGM+929:::IM4+LRN-D01:2:1+9"
    at = segs.index("UNS+D") + 1
    segs[at:at] = ["DMS+INV-1+380", "LIN+1++8471:HS", "QTY+47:5:NAR"]
    segs[-1] = f"UNT+{len(segs)}+M1"
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_declarations")
    assert rec["directory_version"] == "D01B" and rec["lrn"] == "LRN-D01"
    assert len(rec["items"]) == 1 and rec["items"][0]["hs_code"] == "8471300001"
    detail = [u for u in rec["unknown_segments"] if u.startswith(("DMS", "LIN", "QTY"))]
    assert detail == ["DMS+INV-1+380", "LIN+1++8471:HS", "QTY+47:5:NAR"]


def test_cusdec_d13b_layout_gei_efi_pyt() -> None:
    segs = cusdec_segments(version="D:13B:UN", items=1, gis="GEI")
    at = segs.index("UNS+D")
    segs[at:at] = ["EFI+DOC1:PDF+INVOICE.PDF", "CED+2:PDF", "PYT+1"]
    segs[-1] = f"UNT+{len(segs)}+M1"
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_declarations")
    assert rec["directory_version"] == "D13B"
    item = rec["items"][0]
    assert [t["tax_type"] for t in item["taxes"]] == ["CUD", "VAT"]
    assert item["taxes"][1]["amount"] == Decimal(1500)
    assert "EFI+DOC1:PDF+INVOICE.PDF" in rec["unknown_segments"]
    assert "GEI+1" in rec["unknown_segments"] and "PYT+1" in rec["unknown_segments"]


def test_cusdec_standard_variants() -> None:
    segs = [
        "UNH+9+CUSDEC:D:96B:UN",
        "BGM+929+L-VAR+4",
        "CST++4000:111:155",
        "LOC+41+KE002",
        "DTM+137:20240103:102",
        "MOA+39:100,5:EUR",
        "UNS+D",
        "CST+1+610910:122:155+4000",
        "FTX+AAA+++T-SHIRTS:COTTON",
        "MEA+WT+AAB+GRM:500",
        "MEA+WT+AAC+KGM:,4",
        "QTY+47:12:PCE",
        "MOA+40:50:EUR",
        "MOA+123:55:EUR",
        "TAX+5+CUD+++:::10",
        "MOA+125:50:EUR",
        "MOA+161:5:EUR",
        "RFF+ABT:PREV-1",
        "UNS+S",
        "CNT+5:3",
        "UNT+21+9",
    ]
    data = "UNA:+,? 'UNB+UNOC:3+S+R+240103:0101+X'" + "".join(s + "'" for s in segs) + "UNZ+1+X'"
    (out,) = parse(data.encode())
    rec = assert_record(out, "cms_declarations")
    assert rec["office_code"] == "KE002" and rec["message_function"] == "4"
    assert rec["issue_datetime"] == datetime(2024, 1, 3, tzinfo=UTC)
    assert rec["invoice_amount"] == Decimal("100.5")
    item = rec["items"][0]
    assert item["description"] == "T-SHIRTS COTTON"
    assert item["mass_unit"] == "GRM" and item["net_mass"] == Decimal(400)  # 0,4 kg in grams
    assert (item["quantity"], item["quantity_unit"]) == (Decimal(12), "PCE")
    assert item["statistical_value"] == Decimal(55)
    assert item["taxes"][0]["base_amount"] == Decimal(50)
    assert item["references"] == [{"qualifier": "ABT", "value": "PREV-1"}]
    assert rec["total_duty"] == Decimal(5)  # no MOA+176: sum of the item duties
    assert any("CNT+5 declares 3" in i for i in rec["control_issues"])


def test_cusdec_missing_lrn_rejected() -> None:
    segs = cusdec_segments()
    segs[1] = "BGM+929:::IM4++9"
    (out,) = parse(wrap(segs))
    assert isinstance(out, Rejected) and out.error_code == E_MAPPING
    assert "BGM" in out.reason and out.message_type == "CUSDEC"
    assert "BGM+929:::IM4++9" in out.raw


def test_unsupported_message_type_keeps_raw() -> None:
    other = ["UNH+5+INVOIC:D:96A:UN", "BGM+380+INV1", "UNT+3+5"]
    a, b = parse(wrap(cusdec_segments(), other))
    assert isinstance(a, ParsedRecord)
    assert isinstance(b, Rejected) and b.error_code == E_UNSUPPORTED and b.message_index == 1
    assert b.message_type == "INVOIC" and "BGM+380+INV1" in b.raw


def test_message_index_across_interchanges_and_failures() -> None:
    first = wrap(cusdec_segments("A"), cusdec_segments("B"), ref="I1")
    truncated = b"UNB+UNOC:3+S+R+240102:1530+I2'" + "'".join(cusdec_segments("C")[:5]).encode()
    third = wrap(cusdec_segments("D"), ref="I3")
    outs = parse(first + truncated + b"'\n" + third)
    assert [o.message_index for o in outs] == [0, 1, 2, 3]
    assert isinstance(outs[2], Rejected) and outs[2].error_code == E_ENVELOPE
    assert isinstance(outs[3], ParsedRecord) and outs[3].record["lrn"] == "D"


def test_control_issue_on_record_and_strict() -> None:
    segs = cusdec_segments()
    segs[-1] = "UNT+3+M1"
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_declarations")
    assert any("UNT segment count" in i for i in rec["control_issues"])
    (strict,) = parse(wrap(segs), strict=True)
    assert isinstance(strict, Rejected) and strict.error_code == "CONTROL_COUNT"


def test_utf8_in_unoc_policy_on_record() -> None:
    segs = cusdec_segments()
    segs[10] = "NAD+DT+DECL01::ZZZ++Société Générale"
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_declarations")
    assert rec["parties"][0]["name"] == "Société Générale"
    assert any("UTF-8" in i for i in rec["control_issues"])


# ------------------------------------------------------------------ CUSRES


def test_cusres_mapping() -> None:
    segs = [
        "UNH+R1+CUSRES:D:96B:UN",
        "BGM+962+RES-77+9+RE",
        "DTM+137:202401021600:203",
        "GIS+RJ:109:5",
        "NAD+DT+DECL01::ZZZ",
        "RFF+ABT:LRN-0001",
        "DTM+171:20240102:102",
        "ERP+1:15",
        "RFF+AFM:CST?+2",
        "ERC+E123:25:155",
        "FTX+AAO+++INVALID HS CODE:FOR ITEM 2",
        "ERC+E200",
        "TAX+5+CUD",
        "MOA+161:1875.06:USD",
        "CNT+5:2",
        "UNT+16+R1",
    ]
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_responses")
    assert (rec["document_number"], rec["response_type"]) == ("RES-77", "962")
    assert rec["message_function"] == "9" and rec["status"] == "RJ"
    assert rec["issue_datetime"] == datetime(2024, 1, 2, 16, 0, tzinfo=UTC)
    assert rec["declaration_ref"] == "LRN-0001"
    assert rec["errors"] == [
        {"code": "E123", "reference": "CST+2", "text": "INVALID HS CODE FOR ITEM 2"},
        {"code": "E200", "reference": "CST+2", "text": None},
    ]
    assert rec["taxes"][0]["amount"] == Decimal("1875.06")
    assert rec["parties"][0]["role"] == "DT"
    # Every segment with a value no column holds is kept whole (qualifiers, code lists, the
    # BGM response type that the GIS status superseded).
    assert rec["unknown_segments"] == [
        "BGM+962+RES-77+9+RE",
        "GIS+RJ:109:5",
        "ERP+1:15",  # the error point: the RFF gave the errors their reference
        "RFF+AFM:CST?+2",
        "ERC+E123:25:155",
        "TAX+5+CUD",
        "CNT+5:2",
    ]


def test_cusres_status_falls_back_to_bgm() -> None:
    segs = ["UNH+R2+CUSRES:D:01B:UN", "BGM+961+RES-78+9+AP", "RFF+ABT:L2", "UNT+4+R2"]
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_responses")
    assert rec["status"] == "AP" and rec["declaration_ref"] == "L2"


# ------------------------------------------------------------------ CUSCAR


def test_cuscar_mapping() -> None:
    segs = [
        "UNH+C1+CUSCAR:D:96B:UN",
        "BGM+85+MANIFEST-5+9",
        "DTM+137:202401020800:203",
        "NAD+CA+MSCU::160",
        "TDT+20+VOY12+1++MSC:172:20+++9301234:146::MSC ANNA",
        "LOC+9+CNSHA",
        "LOC+11+KEMBA",
        "DTM+132:202401200800:203",
        "EQD+CN+MSCU1234567+22G1",
        "SEL+SEAL001",
        "SEL+SEAL002",
        "EQD+CN+MSCU7654321",
        "CNI+1+BL-REF-0",
        "RFF+BM:MSCUBL001",
        "NAD+CZ+SHIP01",
        "NAD+CN+CONS01",
        "GID+1+10:CT",
        "FTX+AAA+++LAPTOPS",
        "MEA+WT+AAB+KGM:1200",
        "PIA+5+847130:HS",
        "GID+2",
        "PAC+3",
        "CST++610910:122",
        "CNI+2",
        "RFF+BM:MSCUBL002",
        "UNT+26+C1",
    ]
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_cargo_reports")
    assert rec["document_number"] == "MANIFEST-5"
    assert rec["issue_datetime"] == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    assert (rec["transport_mode"], rec["conveyance_id"], rec["carrier_id"]) == (
        "1",
        "9301234",
        "MSC",
    )
    assert (rec["place_of_loading"], rec["place_of_discharge"]) == ("CNSHA", "KEMBA")
    assert rec["equipment"] == [
        {"container_id": "MSCU1234567", "seal_ids": ["SEAL001", "SEAL002"]},
        {"container_id": "MSCU7654321", "seal_ids": []},
    ]
    c1, c2 = rec["consignments"]
    assert (c1["transport_document"], c1["consignor_id"], c1["consignee_id"]) == (
        "MSCUBL001",
        "SHIP01",
        "CONS01",
    )
    assert c1["goods"][0] == {
        "item_no": 1,
        "description": "LAPTOPS",
        "hs_code": "847130",
        "packages": 10,
        "gross_mass": Decimal(1200),
        "mass_unit": "KGM",
    }
    assert c1["goods"][1]["packages"] == 3 and c1["goods"][1]["hs_code"] == "610910"
    assert c2["consignment_no"] == 2 and c2["transport_document"] == "MSCUBL002"
    assert (rec["document_type"], rec["voyage_number"]) == ("85", "VOY12")
    assert rec["conveyance_name"] == "MSC ANNA"
    assert [p["role"] for p in c1["parties"]] == ["CZ", "CN"]
    assert rec["unknown_segments"] == [
        "TDT+20+VOY12+1++MSC:172:20+++9301234:146::MSC ANNA",  # stage 20, code lists
        "DTM+132:202401200800:203",
        "EQD+CN+MSCU1234567+22G1",  # size and type
        "GID+1+10:CT",  # package type
    ]


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("20240102", "102", datetime(2024, 1, 2, tzinfo=UTC)),
        ("202401021530", "203", datetime(2024, 1, 2, 15, 30, tzinfo=UTC)),
        ("20240102153045", "204", datetime(2024, 1, 2, 15, 30, 45, tzinfo=UTC)),
        ("2401021530", "201", datetime(2024, 1, 2, 15, 30, tzinfo=UTC)),
        ("202401021530+03", "303", datetime(2024, 1, 2, 12, 30, tzinfo=UTC)),
        ("20240102153045UTC", "304", datetime(2024, 1, 2, 15, 30, 45, tzinfo=UTC)),
        ("20240102", "", datetime(2024, 1, 2, tzinfo=UTC)),
        ("20241302", "102", None),
        ("202401021530+9992", "303", None),  # no zone is 99 hours off UTC
        ("", "102", None),
    ],
)
def test_parse_edifact_date(value: str, fmt: str, expected: datetime | None) -> None:
    assert parse_edifact_date(value, fmt) == expected


def test_unknown_segments_are_source_text() -> None:
    segs = cusdec_segments(items=1)
    segs.insert(2, "FTX+AAI+++NOTE WITH ?+ PLUS")
    segs[-1] = f"UNT+{len(segs)}+M1"
    (out,) = parse(wrap(segs))
    assert isinstance(out, ParsedRecord)
    assert "FTX+AAI+++NOTE WITH ?+ PLUS" in out.record["unknown_segments"]
    assert all(not re.search(r"'$", s) for s in out.record["unknown_segments"])


def test_never_raises_on_mutated_input() -> None:
    """Random byte mutations of valid files: always outcomes, never an exception."""
    import random

    rng = random.Random(20240102)
    base = wrap(cusdec_segments("A", items=3), cusdec_segments("B", items=1)) + wrap(
        cusdec_segments("C", items=2), ref="IC-8", charset="UNOY:4"
    )
    alphabet = b"'+:?*\n\r UNHUNTUNZUNBUNAUNGUNE\xef\xbb\xbf\xff\xc3\xa9E9.,"
    for _ in range(300):
        data = bytearray(base)
        for _ in range(rng.randint(1, 12)):
            pos = rng.randint(0, len(data))
            if rng.random() < 0.5:
                data[pos:pos] = bytes([rng.choice(alphabet)])
            else:
                del data[pos : pos + rng.randint(1, 25)]
        for strict in (False, True):
            outs = parse(bytes(data), strict=strict)
            assert outs
            indices = [o.message_index for o in outs]
            assert len(indices) == len(set(indices))


def test_exponent_is_not_an_edifact_number() -> None:
    segs = cusdec_segments(items=1)
    i = segs.index("MOA+40:7500.25:USD")
    segs[i] = "MOA+40:1E999999999:USD"
    segs[segs.index("PAC+4")] = "PAC+9E99999999"
    (out,) = parse(wrap(segs))
    rec = assert_record(out, "cms_declarations")
    assert rec["items"][0]["customs_value"] is None and rec["items"][0]["packages"] is None
    assert "MOA+40:1E999999999:USD" in rec["unknown_segments"]
    assert "PAC+9E99999999" in rec["unknown_segments"]
