"""Round trip as a property: a declaration rendered as WCO XML or as a JSON line parses back.

Hypothesis generates declarations with what real senders send and parsers get wrong: amounts
with many decimals (floats written out as text), accents and XML/JSON special characters in
names and descriptions, any namespace prefix, and empty optional fields. Each is rendered the
way a sender would (a small renderer here, independent of the parser) and parsed back; every
field rendered must come back equal. (The EDIFACT round trip is in
``test_edifact_roundtrip.py``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lakehouse.formats.base import ParsedRecord, Rejected
from lakehouse.formats.json_feeds import parse_cms_json_declarations
from lakehouse.formats.wco_xml import parse_wco_xml_file

pytestmark = pytest.mark.unit

NS = "urn:wco:datamodel:WCO:DEC-DMS:2"

# Printable text a person may type, accents and symbols included (no control characters:
# XML 1.0 cannot carry most of them), trimmed as parsers trim free text.
_text = (
    st.text(
        st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
_code = st.from_regex(r"[A-Z0-9]{2,8}", fullmatch=True)
_country = st.from_regex(r"[A-Z]{2}", fullmatch=True)
_money = st.builds(
    lambda whole, frac: Decimal(f"{whole}.{frac}") if frac else Decimal(whole),
    st.integers(0, 10**14),
    st.from_regex(r"[0-9]{0,16}", fullmatch=True),
)


@dataclass
class Item:
    hs_code: str
    description: str | None
    origin: str | None
    value: Decimal
    net_mass: Decimal | None


@dataclass
class Decl:
    lrn: str
    office: str | None
    issued: datetime
    currency: str
    invoice: Decimal | None
    declarant: str
    declarant_name: str | None
    items: list[Item]


_items = st.lists(
    st.builds(
        Item,
        hs_code=st.from_regex(r"[0-9]{6,10}", fullmatch=True),
        description=st.none() | _text,
        origin=st.none() | _country,
        value=_money,
        net_mass=st.none() | _money,
    ),
    min_size=1,
    max_size=4,
)
_declarations = st.builds(
    Decl,
    lrn=st.from_regex(r"[A-Z0-9]{5,20}", fullmatch=True),
    office=st.none() | _code,
    issued=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ).map(lambda t: t.replace(microsecond=0)),
    currency=st.from_regex(r"[A-Z]{3}", fullmatch=True),
    invoice=st.none() | _money,
    declarant=_code,
    declarant_name=st.none() | _text,
    items=_items,
)


def _num(value: Decimal) -> str:
    """A decimal as senders write it: plain digits, never an exponent (``0E-7`` is not XML)."""
    return format(value, "f")


def _xml(d: Decl, prefix: str) -> bytes:
    """A WCO DMS declaration as a sender writes it (optional elements left out when empty)."""
    p = f"{prefix}:" if prefix else ""
    root = f'<{p}Declaration xmlns{":" + prefix if prefix else ""}="{NS}">'
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        root,
        f"<{p}FunctionCode>9</{p}FunctionCode>",
        f"<{p}FunctionalReferenceID>{d.lrn}</{p}FunctionalReferenceID>",
        f"<{p}TypeCode>IMA</{p}TypeCode>",
        f'<{p}IssueDateTime><{p}DateTimeString formatCode="304">'
        f"{d.issued:%Y%m%d%H%M%S}Z</{p}DateTimeString></{p}IssueDateTime>",
    ]
    if d.office:
        out.append(f"<{p}DeclarationOfficeID>{d.office}</{p}DeclarationOfficeID>")
    if d.invoice is not None:
        out.append(
            f"<{p}InvoiceAmount currencyID={quoteattr(d.currency)}>"
            f"{_num(d.invoice)}</{p}InvoiceAmount>"
        )
    name = f"<{p}Name>{escape(d.declarant_name)}</{p}Name>" if d.declarant_name else ""
    out.append(f"<{p}Declarant><{p}ID>{d.declarant}</{p}ID>{name}</{p}Declarant>")
    out.append(f"<{p}GoodsShipment>")
    for n, it in enumerate(d.items, start=1):
        desc = (
            f"<{p}Description>{escape(it.description)}</{p}Description>" if it.description else ""
        )
        net = (
            f'<{p}GoodsMeasure><{p}NetNetWeightMeasure unitCode="KGM">{_num(it.net_mass)}'
            f"</{p}NetNetWeightMeasure></{p}GoodsMeasure>"
            if it.net_mass is not None
            else ""
        )
        origin = (
            f"<{p}Origin><{p}CountryCode>{it.origin}</{p}CountryCode></{p}Origin>"
            if it.origin
            else ""
        )
        out.append(
            f"<{p}GovernmentAgencyGoodsItem><{p}SequenceNumeric>{n}</{p}SequenceNumeric>"
            f"<{p}Commodity>{desc}<{p}Classification><{p}ID>{it.hs_code}</{p}ID>"
            f"<{p}IdentificationTypeCode>TSP</{p}IdentificationTypeCode></{p}Classification>"
            f"<{p}InvoiceLine><{p}ItemChargeAmount currencyID={quoteattr(d.currency)}>"
            f"{_num(it.value)}</{p}ItemChargeAmount></{p}InvoiceLine>{net}</{p}Commodity>"
            f"{origin}</{p}GovernmentAgencyGoodsItem>"
        )
    out.append(f"</{p}GoodsShipment></{p}Declaration>")
    return "\n".join(out).encode("utf-8")


def _json(d: Decl) -> bytes:
    """The same declaration as one JSON line (amounts as decimal strings, empties as null)."""
    obj: dict[str, Any] = {
        "lrn": d.lrn,
        "declaration_type": "IM",
        "message_function": "9",
        "issue_datetime": d.issued.isoformat().replace("+00:00", "Z"),
        "office_code": d.office,
        "invoice_amount": None if d.invoice is None else _num(d.invoice),
        "invoice_currency": d.currency,
        "parties": [{"role": "DT", "id": d.declarant, "name": d.declarant_name}],
        "items": [
            {
                "item_no": n,
                "hs_code": it.hs_code,
                "description": it.description,
                "origin_country": it.origin,
                "customs_value": _num(it.value),
                "value_currency": d.currency,
                "net_mass": None if it.net_mass is None else _num(it.net_mass),
                "mass_unit": "KGM",
            }
            for n, it in enumerate(d.items, start=1)
        ],
    }
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


def _one_record(outcomes: list[Any]) -> dict[str, Any]:
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert not rejected, [(r.error_code, r.reason) for r in rejected]
    records = [o for o in outcomes if isinstance(o, ParsedRecord)]
    assert len(records) == 1
    return records[0].record


def _assert_same(d: Decl, rec: dict[str, Any]) -> None:
    assert rec["lrn"] == d.lrn
    assert rec["office_code"] == d.office
    assert rec["issue_datetime"] == d.issued
    assert rec["invoice_amount"] == d.invoice
    declarant = next(p for p in rec["parties"] if p["role"] == "DT")
    assert (declarant["id"], declarant["name"]) == (d.declarant, d.declarant_name)
    assert len(rec["items"]) == len(d.items)
    for got, it in zip(rec["items"], d.items, strict=True):
        assert got["hs_code"] == it.hs_code
        assert got["description"] == it.description
        assert got["origin_country"] == it.origin
        assert got["customs_value"] == it.value
        assert _num(got["customs_value"]) == _num(it.value)  # the very digits sent
        assert got["net_mass"] == it.net_mass


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@example(
    Decl(
        "LRN01",
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
        "EUR",
        Decimal("0.0000000"),
        "D1",
        None,
        [Item("010121", None, None, Decimal("2359189.8000000003"), None)],
    ),
    "",
)
@given(_declarations, st.sampled_from(["", "dec", "ns0"]))
def test_a_wco_xml_declaration_parses_back_to_what_was_rendered(d: Decl, prefix: str) -> None:
    outcomes = list(parse_wco_xml_file(_xml(d, prefix), "landing/cms/xml/x.xml"))
    _assert_same(d, _one_record(outcomes))


@_settings
@given(_declarations)
def test_a_json_declaration_parses_back_to_what_was_rendered(d: Decl) -> None:
    outcomes = list(parse_cms_json_declarations(_json(d), "landing/cms/json/x.json"))
    _assert_same(d, _one_record(outcomes))
