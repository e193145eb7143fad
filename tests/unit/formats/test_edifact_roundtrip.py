"""Round trip as a property: render a message, parse it back, every field comes back equal.

Hypothesis generates declarations, cargo reports and responses with long decimals, the
service characters in free text (``?``, ``'``, ``+``, ``:``, released on the way out),
accents (UNOC: Latin-1; UNOY: any Unicode), empty optional fields and the line-break layouts
senders use. The renderer here is deliberately small and independent of the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakehouse.formats.base import ParsedRecord
from lakehouse.formats.customs_edifact import parse_edifact_file

pytestmark = pytest.mark.unit

LATIN1 = "ABCXYZabcxyz0189 .,-/&()?'+:éÉüÜñÑçøÅß"
UNICODE = LATIN1 + "ŁőŠ中文ありがとうΩ€"


def release(text: str) -> str:
    return "".join(f"?{c}" if c in "?'+:" else c for c in text)


def texts(alphabet: str, max_size: int = 35) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=max_size).filter(
        lambda t: t == t.strip() and bool(t)
    )


decimals = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(-(10**30), 10**30),
    st.integers(0, 18),
)
codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=17)


@dataclass
class Case:
    charset: str
    newline: str
    segments: list[str]
    expected: dict[str, Any]
    mtype: str

    def render(self) -> bytes:
        body = [f"UNH+1+{self.mtype}:D:96B:UN", *self.segments]
        body.append(f"UNT+{len(body) + 1}+1")
        nl = self.newline
        head = f"UNA:+.? '{nl}UNB+{self.charset}:3+S:ZZZ+R:ZZZ+240102:1530+IC1'{nl}"
        text = head + "".join(f"{s}'{nl}" for s in body) + f"UNZ+1+IC1'{nl}"
        return text.encode("latin-1" if self.charset == "UNOC" else "utf-8")


@st.composite
def parties(draw: st.DrawFn, alphabet: str, roles: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for role in draw(st.lists(st.sampled_from(roles), max_size=3)):
        out.append(
            {
                "role": role,
                "id": draw(codes),
                "id_scheme": None,
                "name": draw(st.none() | texts(alphabet)),
                "country": draw(st.none() | st.sampled_from(["KE", "NO", "CI", "KR"])),
                "street": draw(st.none() | texts(alphabet)),
                "city": draw(st.none() | texts(alphabet)),
                "postcode": draw(st.none() | codes),
            }
        )
    return out


def nad(p: dict[str, Any]) -> str:
    def r(v: str | None) -> str:
        return release(v) if v else ""

    return (
        f"NAD+{p['role']}+{p['id']}++{r(p['name'])}+{r(p['street'])}+{r(p['city'])}++"
        f"{r(p['postcode'])}+{p['country'] or ''}"
    )


@st.composite
def declarations(draw: st.DrawFn) -> Case:
    charset = draw(st.sampled_from(["UNOC", "UNOY"]))
    alphabet = LATIN1 if charset == "UNOC" else UNICODE
    lrn = draw(texts(alphabet))
    invoice = draw(st.none() | decimals)
    people = draw(parties(alphabet, ("IM", "EX", "DT")))
    segs = [f"BGM+929+{release(lrn)}+9", *(nad(p) for p in people)]
    if invoice is not None:
        segs.append(f"MOA+39:{invoice:f}:USD")
    segs.append("UNS+D")
    items = []
    for n in range(1, draw(st.integers(1, 4)) + 1):
        item = {
            "item_no": n,
            "hs_code": draw(st.text("0123456789", min_size=6, max_size=10)),
            "description": draw(st.none() | texts(alphabet, 70)),
            "customs_value": draw(st.none() | decimals),
            "gross_mass": draw(st.none() | decimals),
            "packages": draw(st.none() | st.integers(0, 10**6)),
        }
        items.append(item)
        segs.append(f"CST+{n}+{item['hs_code']}:122")
        if item["description"] is not None:
            segs.append(f"FTX+AAA+++{release(item['description'])}")
        if item["gross_mass"] is not None:
            segs.append(f"MEA+WT+AAB+KGM:{item['gross_mass']:f}")
        if item["packages"] is not None:
            segs.append(f"PAC+{item['packages']}")
        if item["customs_value"] is not None:
            segs.append(f"MOA+40:{item['customs_value']:f}:EUR")
    expected = {"lrn": lrn, "invoice_amount": invoice, "parties": people, "items": items}
    newline = draw(st.sampled_from(["", "\n", "\r\n"]))
    return Case(charset, newline, segs, expected, "CUSDEC")


@st.composite
def cargo_reports(draw: st.DrawFn) -> Case:
    charset = draw(st.sampled_from(["UNOC", "UNOY"]))
    alphabet = LATIN1 if charset == "UNOC" else UNICODE
    doc = draw(texts(alphabet))
    voyage = draw(st.none() | codes)
    vessel = draw(st.none() | texts(alphabet))
    segs = [f"BGM+785+{release(doc)}+9"]
    if voyage or vessel:
        segs.append(f"TDT++{voyage or ''}++++++:::{release(vessel or '')}")
    consignments = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        people = draw(parties(alphabet, ("CZ", "CN")))
        goods = [
            {"description": draw(texts(alphabet, 70)), "gross_mass": draw(decimals)}
            for _ in range(draw(st.integers(0, 3)))
        ]
        consignments.append({"parties": people, "goods": goods})
        segs.append(f"CNI+{n}")
        segs.extend(nad(p) for p in people)
        for k, g in enumerate(goods, start=1):
            segs.append(f"GID+{k}")
            segs.append(f"FTX+AAA+++{release(g['description'])}")
            segs.append(f"MEA+WT+AAB+KGM:{g['gross_mass']:f}")
    expected = {
        "document_number": doc,
        "voyage_number": voyage,
        "conveyance_name": vessel,
        "consignments": consignments,
    }
    newline = draw(st.sampled_from(["", "\n", "\r\n"]))
    return Case(charset, newline, segs, expected, "CUSCAR")


@st.composite
def responses(draw: st.DrawFn) -> Case:
    charset = draw(st.sampled_from(["UNOC", "UNOY"]))
    alphabet = LATIN1 if charset == "UNOC" else UNICODE
    doc = draw(texts(alphabet))
    errors = [
        {"code": draw(codes), "reference": None, "text": draw(st.none() | texts(alphabet))}
        for _ in range(draw(st.integers(0, 3)))
    ]
    amounts = draw(st.lists(decimals, max_size=3))
    segs = [f"BGM+962+{release(doc)}+9"]
    if errors:
        segs.append("ERP")
        for e in errors:
            segs.append(f"ERC+{e['code']}")
            if e["text"] is not None:
                segs.append(f"FTX+AAO+++{release(e['text'])}")
    for amount in amounts:
        segs += ["TAX++CUD", f"MOA+161:{amount:f}:KES"]
    expected = {"document_number": doc, "errors": errors, "amounts": amounts}
    newline = draw(st.sampled_from(["", "\n", "\r\n"]))
    return Case(charset, newline, segs, expected, "CUSRES")


def parsed(case: Case) -> dict[str, Any]:
    (out,) = parse_edifact_file(case.render(), "mem://roundtrip.edi")
    assert isinstance(out, ParsedRecord), out
    assert out.record["control_issues"] == []
    return out.record


@settings(max_examples=150, deadline=None)
@given(declarations())
def test_declaration_round_trip(case: Case) -> None:
    rec = parsed(case)
    exp = case.expected
    assert rec["lrn"] == exp["lrn"]
    assert rec["invoice_amount"] == exp["invoice_amount"]
    assert rec["parties"] == exp["parties"]
    got = [{k: it[k] for k in exp["items"][0]} for it in rec["items"]]
    assert got == exp["items"]
    mass_units = {
        it["mass_unit"]
        for it, e in zip(rec["items"], exp["items"], strict=True)
        if e["gross_mass"] is not None
    }
    assert mass_units <= {"KGM"}


@settings(max_examples=100, deadline=None)
@given(cargo_reports())
def test_cargo_report_round_trip(case: Case) -> None:
    rec = parsed(case)
    exp = case.expected
    assert rec["document_number"] == exp["document_number"]
    assert (rec["voyage_number"], rec["conveyance_name"]) == (
        exp["voyage_number"],
        exp["conveyance_name"],
    )
    got = [
        {
            "parties": c["parties"],
            "goods": [
                {"description": g["description"], "gross_mass": g["gross_mass"]} for g in c["goods"]
            ],
        }
        for c in rec["consignments"]
    ]
    assert got == exp["consignments"]


@settings(max_examples=100, deadline=None)
@given(responses())
def test_response_round_trip(case: Case) -> None:
    rec = parsed(case)
    exp = case.expected
    assert rec["document_number"] == exp["document_number"]
    assert rec["errors"] == exp["errors"]
    assert [t["amount"] for t in rec["taxes"]] == exp["amounts"]
    assert rec["unknown_segments"] == []


@settings(max_examples=100, deadline=None)
@given(declarations())
def test_a_rejected_message_raw_is_the_text_as_sent(case: Case) -> None:
    case.segments[0] = "BGM+929++9"  # no LRN: the one reason a declaration is rejected
    data = case.render()
    text = data.decode("latin-1" if case.charset == "UNOC" else "utf-8")
    (out,) = parse_edifact_file(data, "mem://roundtrip.edi")
    assert not isinstance(out, ParsedRecord)
    start, end = text.index("UNH+"), text.index("'", text.index("UNT+")) + 1
    assert out.raw == text[start:end]
    assert (out.field, out.rule) == ("BGM/C106/1004", "required")
