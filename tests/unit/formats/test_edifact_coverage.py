"""Every value a sender puts in a segment the mappings read lands in a column or is kept.

Each mapping (CUSDEC, CUSRES, CUSCAR) is walked with a message whose segments fill EVERY data
element and component (as many as the D96B directory defines) with distinct marker values.
Codes that route a value to its column (qualifiers such as ``MOA+40``, ``LOC+27``) are real
codes, not markers: the column name records them. Every marker must then be found in the
record's columns (``source_literals`` included) or in ``unknown_segments``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from lakehouse.formats.base import ParsedRecord
from lakehouse.formats.customs_edifact import parse_edifact_file

pytestmark = pytest.mark.unit


class Markers:
    """Hands out distinct markers: ``@`` text, ``#`` decimal, ``%`` integer, ``$`` date."""

    def __init__(self) -> None:
        self.counter = itertools.count(101)
        self.issued: list[str] = []

    def render(self, template: str) -> str:
        out = []
        for ch in template:
            if ch in "@#%$":
                n = next(self.counter)
                value = {
                    "@": f"M{n}X",
                    "#": f"{n}.25",
                    "%": f"{n}",
                    "$": f"20240{n % 9 + 1}021530",
                }[ch]
                self.issued.append(value)
                out.append(value)
            else:
                out.append(ch)
        return "".join(out)


# D96B layouts, every element and component filled; real codes only where they route.
CUSDEC = [
    "BGM+@:@:@:@+@:@:@+@+@",
    "CST+%+@:111:@+@:@:@+@:@:@+@:@:@+@:@:@",
    "LOC+22+@:@:@:@+@:@:@:@+@:@:@:@+@",
    "LOC+35+@:@:@:@",
    "LOC+28+@:@:@:@",
    "DTM+@:@:@",
    "RFF+@:@:@:@",
    "TDT+@+@+@:@+@:@+@:@:@:@+@+@:@:@+@:@:@:@:@+@",
    "NAD+@+@:@:@+@:@:@:@:@+@:@:@:@:@:@+@:@:@:@+@+@:@:@:@+@+@",
    "TOD+@+@+@:@:@:@:@",
    "MOA+39:#:@:@:@",
    "CUX+@:@:@:@+@:@:@:@+#+@",
    "UNS+D",
    "CST+%+@:122:@+@:111:@+@:@:@+@:@:@+@:@:@",
    "FTX+AAA+@+@:@:@+@:@:@:@:@+@",
    "LOC+27+@:@:@:@+@:@:@:@+@:@:@:@+@",
    "MEA+WT+AAB:@:@:@+KGM:#:@:@:@+@",
    "MEA+WT+AAC:@:@:@+LBR:#:@:@:@+@",
    "MEA+AAE+AAD+@:#:@:@:@",
    "QTY+@:#:@",
    "MOA+40:#:@:@:@",
    "MOA+123:#:@:@:@",
    "PAC+%+@:@:@+@:@:@:@:@+@:@:@:@:@+@:@",
    "RFF+@:@:@:@",
    "TAX+@+@:@:@:@+@:@:@+#+@:@:@:#:@:@+@+@+@",
    "MOA+161:#:@:@:@",
    "MOA+125:#:@:@:@",
    "UNS+S",
    "CNT+5:%:@",
    "TAX+@+@:@:@:@+@:@:@+#+@:@:@:#:@:@+@+@+@",
    "MOA+176:#:@:@:@",
]
CUSRES = [
    "BGM+@:@:@:@+@:@:@+@+@",
    "DTM+@:@:@",
    "GIS+@:@:@:@",
    "NAD+@+@:@:@+@:@:@:@:@+@:@:@:@:@:@+@:@:@:@+@+@:@:@:@+@+@",
    "RFF+@:@:@:@",
    "ERP+@:@:@",
    "RFF+@:@:@:@",
    "ERC+@:@:@",
    "FTX+@+@+@:@:@+@:@:@:@:@+@",
    "TAX+@+@:@:@:@+@:@:@+#+@:@:@:#:@:@+@+@+@",
    "MOA+161:#:@:@:@",
    "MOA+125:#:@:@:@",
]
CUSCAR = [
    "BGM+@:@:@:@+@:@:@+@+@",
    "DTM+137:$:203",
    "NAD+@+@:@:@+@:@:@:@:@+@:@:@:@:@:@+@:@:@:@+@+@:@:@:@+@+@",
    "RFF+@:@:@:@",
    "TDT+@+@+@:@+@:@+@:@:@:@+@+@:@:@+@:@:@:@:@+@",
    "LOC+9+@:@:@:@+@:@:@:@+@:@:@:@+@",
    "LOC+11+@:@:@:@+@:@:@:@+@:@:@:@+@",
    "EQD+CN+@:@:@:@+@:@:@+@+@+@",
    "SEL+@:@:@+@:@",
    "CNI+%+@:@+@",
    "RFF+BM:@:@:@",
    "NAD+CZ+@:@:@+@:@:@:@:@+@:@:@:@:@:@+@:@:@:@+@+@:@:@:@+@+@",
    "NAD+CN+@:@:@+@:@:@:@:@+@:@:@:@:@:@+@:@:@:@+@+@:@:@:@+@+@",
    "GID+%+%:@:@:@:@+%:@:@:@:@",
    "FTX+AAA+@+@:@:@+@:@:@:@:@+@",
    "MEA+WT+AAB:@:@:@+KGM:#:@:@:@+@",
    "PIA+5+@:HS:@:@+@:@:@:@",
    "PAC+%+@:@:@+@:@:@:@:@",
]


def build(mtype: str, templates: list[str]) -> tuple[bytes, list[str]]:
    markers = Markers()
    body = [f"UNH+1+{mtype}:D:96B:UN", *(markers.render(t) for t in templates)]
    body.append(f"UNT+{len(body) + 1}+1")
    text = "UNA:+.? 'UNB+UNOC:3+S:ZZZ+R:ZZZ+240102:1530+IC1'" + "'".join(body) + "'UNZ+1+IC1'"
    return text.encode("latin-1"), markers.issued


def flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from flatten(v)
    elif isinstance(value, datetime):
        yield value.strftime("%Y%m%d%H%M")
    elif isinstance(value, Decimal):
        yield format(value, "f")
    elif value is not None:
        yield str(value)


@pytest.mark.parametrize(
    ("mtype", "templates"),
    [("CUSDEC", CUSDEC), ("CUSRES", CUSRES), ("CUSCAR", CUSCAR)],
)
def test_every_value_lands_in_a_column_or_in_unknown_segments(
    mtype: str, templates: list[str]
) -> None:
    data, markers = build(mtype, templates)
    (out,) = parse_edifact_file(data, "mem://markers.edi")
    assert isinstance(out, ParsedRecord), out
    record = dict(out.record)
    unknown = "\n".join(record.pop("unknown_segments"))
    record.pop("flags")
    columns = "\n".join(flatten(record))
    lost = [m for m in markers if m not in columns and m not in unknown]
    assert lost == [], f"{mtype}: values in no column and not in unknown_segments: {lost}"
    # and the mapping did read values into columns (the test is not passing on unknowns only)
    stored = [m for m in markers if m in columns]
    assert len(stored) >= 25, stored


def test_a_segment_fully_read_is_not_kept_in_unknown_segments() -> None:
    data, _ = build("CUSDEC", ["BGM+929+LRN1+9", "UNS+D", "CST+1+85171300:122", "MOA+40:5:USD"])
    (out,) = parse_edifact_file(data, "mem://markers.edi")
    assert isinstance(out, ParsedRecord)
    assert out.record["unknown_segments"] == []
