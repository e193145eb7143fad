"""Regressions found by running the parser over the simulator's planted defects."""

from __future__ import annotations

import pytest

from lakehouse.formats.base import ParsedRecord, Rejected
from lakehouse.formats.customs_edifact import parse_edifact_file

pytestmark = pytest.mark.unit


def cusdec(ref: str, lrn: str, name: str = "ACME") -> str:
    body = [
        f"UNH+{ref}+CUSDEC:D:96B:UN",
        f"BGM+929+{lrn}+9",
        f"NAD+IM+IMP1::ZZZ++{name}",
        "UNS+D",
        "CST+1+85171300:122:155+4000",
        "UNS+S",
    ]
    body.append(f"UNT+{len(body) + 1}+{ref}")
    return "'".join(body) + "'"


def interchange(*messages: str, count: int | None = None) -> str:
    n = len(messages) if count is None else count
    return "UNA:+.? 'UNB+UNOC:3+S:ZZZ+R:ZZZ+261124:1000+IC1'" + "".join(messages) + f"UNZ+{n}+IC1'"


def test_a_rejected_message_still_counts_for_unz_so_its_neighbours_are_not_flagged() -> None:
    broken = cusdec("2", "LRN2").replace("ACME", "Côte d'Ivoire Branch")  # unreleased '
    text = interchange(cusdec("1", "LRN1"), broken, cusdec("3", "LRN3"))
    outcomes = list(parse_edifact_file(text.encode("latin-1"), "x.edi"))
    assert [type(o) for o in outcomes] == [ParsedRecord, Rejected, ParsedRecord]
    assert outcomes[1].error_code == "SYNTAX"
    assert all(o.record["control_issues"] == [] for o in outcomes if isinstance(o, ParsedRecord))


def test_utf8_bytes_inside_a_latin1_interchange_reject_only_that_message() -> None:
    good = cusdec("1", "LRN1", "Société Générale").encode("latin-1")
    bad = cusdec("2", "LRN2", "O’Brien").encode("utf-8")  # curly quote: E2 80 99
    data = b"UNA:+.? 'UNB+UNOC:3+S:ZZZ+R:ZZZ+261124:1000+IC1'" + good + bad + b"UNZ+2+IC1'"
    first, second = parse_edifact_file(data, "x.edi")
    assert isinstance(first, ParsedRecord)
    assert first.record["parties"][0]["name"] == "Société Générale"
    assert isinstance(second, Rejected) and second.error_code == "ENCODING"
    assert "U+0080" in second.reason or "U+0099" in second.reason
