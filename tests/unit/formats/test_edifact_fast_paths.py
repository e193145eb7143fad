"""The CUSDEC/CUSRES mapper's shortcuts must give what the general path gives (issue 15).

Why: the mapper skips work where it can prove the answer (a canonical number, a segment whose
every value went to a column) and remembers what TAX, NAD and item-opening CST segments map to
by their text. The golden digest (``test_parse_golden.py``) covers a simulated corpus; these
tests pin the cases a shortcut could get wrong: a remembered segment met again in another
record, under other separators, with notes that name a record's own field path.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from lakehouse.formats import customs_edifact
from lakehouse.formats.base import ParsedRecord
from lakehouse.formats.customs_edifact import _CANONICAL, parse_edifact_file
from lakehouse.formats.edifact import to_decimal

pytestmark = pytest.mark.unit


def test_canonical_numbers_read_as_the_general_path_reads_them() -> None:
    """A text the shortcut takes gives the Decimal ``to_decimal`` gives, with no literal."""
    rng = random.Random(15)
    texts = ["0", "-0", "0.00", "0.000001", "0.0000001", "00.5", "0.", ".5", "1E5", "12.30"]
    texts += ["".join(rng.choice("0123456789.-+, e") for _ in range(8)) for _ in range(20_000)]
    taken = [t for t in texts if _CANONICAL(t)]
    assert "0.00" in taken and "0.0000001" not in taken and "00.5" not in taken
    for text in taken:
        number = to_decimal(text)
        assert number is not None and str(number) == text, text
        assert repr(number) == repr(Decimal(text))


def _cusdec(lrn: str, item_no: str, tax: str, nad: str, una: str = "UNA:+.? '") -> str:
    return (
        f"{una}UNB+UNOC:3+S+R+261101:1200+REF1'UNH+1+CUSDEC:D:96B:UN'"
        f"BGM+929+{lrn}+9'{nad}'UNS+D'CST+{item_no}+85044090:122:155+4000'"
        f"MOA+40:100.00:EUR'{tax}'MOA+161:0.00:KES'UNS+S'UNT+10+1'UNZ+1+REF1'"
    )


def _records(text: str) -> list[dict]:
    out = list(parse_edifact_file(text.encode("latin-1"), "t.edi"))
    assert all(isinstance(o, ParsedRecord) for o in out), out
    return [o.record for o in out if isinstance(o, ParsedRecord)]


def _fresh(text: str) -> list[dict]:
    """The records with nothing remembered from before (the general path everywhere)."""
    customs_edifact._SEEN.clear()
    return _records(text)


@pytest.mark.parametrize(
    ("tax", "nad"),
    [
        ("TAX+5+CUD+++:::10", "NAD+IM+P04::ZZZ++Highland Ltd+++++KE"),
        ("TAX+5+CUD+++:::1,5", "NAD+IM+P04::ZZZ++Highland:Supplies+++++KE"),  # notes: a literal
        ("TAX+5+CUD+++:::ten", "NAD+IM+P04::ZZZ++  +++++KE"),  # a flag; a blank name
        ("TAX+5+CUD+X++:::10+S+extra", "NAD+IM+P04:AB:ZZZ++Highland Ltd+Main St:2+Town"),
    ],
)
def test_remembered_segments_map_as_when_first_met(tax: str, nad: str) -> None:
    first = _fresh(_cusdec("LRN1", "1", tax, nad))
    again = _records(_cusdec("LRN1", "1", tax, nad))  # TAX, NAD, CST now remembered
    assert again == first
    twice = _records(_cusdec("LRN1", "1", tax, nad) + _cusdec("LRN1", "1", tax, nad))
    assert twice == first + first
    # a remembered record part is never shared: filling one record leaves the next alone
    assert twice[0]["items"][0]["taxes"][0] is not twice[1]["items"][0]["taxes"][0]
    assert twice[0]["parties"][0] is not twice[1]["parties"][0]


def test_item_number_from_position_is_not_remembered() -> None:
    """``CST++...`` numbers its item by position: the same text opens item 1, then item 2."""
    text = (
        "UNH+1+CUSDEC:D:96B:UN'BGM+929+L+9'UNS+D'CST++85044090:122:155+4000'"
        "CST++85044090:122:155+4000'UNS+S'UNT+6+1'"
    )
    records = _records(text)
    assert [i["item_no"] for i in records[0]["items"]] == [1, 2]
    assert records == _fresh(text)


def test_other_separators_are_remembered_apart() -> None:
    """The same text under another UNA is another segment: never answered from the first."""
    tax, nad = "TAX+5+CUD+++:::10", "NAD+IM+P04::ZZZ++Highland Ltd"
    plain = _fresh(_cusdec("L", "1", tax, nad))
    # ``;`` separates components here: the TAX rate and the NAD scheme are not where they were
    other = _cusdec("L", "1", "@TAX", "@NAD", una="UNA;+.? '").replace(":", ";")
    other = other.replace("@TAX", tax).replace("@NAD", nad)
    semi = _records(other)
    assert plain[0]["items"][0]["taxes"][0]["rate"] == Decimal("10")
    assert plain[0]["parties"][0]["id_scheme"] == "ZZZ"
    assert semi[0]["items"][0]["taxes"][0]["rate"] is None
    assert semi[0]["parties"][0]["id"] == "P04::ZZZ"
    assert tax in semi[0]["unknown_segments"]
    assert semi == _fresh(other)
