"""The simulator plants real senders' quirks on request, and only then."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from lakehouse.simulator import generate

pytestmark = pytest.mark.unit


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_no_quirks_by_default_and_a_zero_rate_changes_no_byte(tmp_path: Path) -> None:
    plain = generate(str(tmp_path / "a"), declarations=60, seed=3)
    zero = generate(str(tmp_path / "b"), declarations=60, seed=3, quirk_rate=0.0)
    assert plain.quirks == zero.quirks == {}
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_every_quirk_is_planted_and_counted(tmp_path: Path) -> None:
    summary = generate(str(tmp_path), declarations=300, seed=5, quirk_rate=1.0, malformed_rate=0.0)
    q = summary.quirks
    assert q["cms/edifact"]["long_decimals"] > 0
    assert q["cms/edifact"]["empty_message_type"] > 0
    assert q["cms/xml"]["long_decimals"] > 0
    assert q["cms/xml"]["wrapped"] > 0
    assert q["cms/xml"]["xml_notification"] > 0
    assert q["cms/json"]["long_decimals"] > 0
    assert summary.records["cms/xml"]["notification"] == q["cms/xml"]["xml_notification"]
    landing = tmp_path / "landing"
    edi = b"".join(p.read_bytes() for p in (landing / "cms" / "edifact").rglob("*.*"))
    assert edi.count(b"+:D:95B:UN'") == q["cms/edifact"]["empty_message_type"]
    long_edi = re.findall(rb"MOA\+39:\d+\.\d+00000003:", edi)
    assert len(long_edi) == q["cms/edifact"]["long_decimals"]
    xml = [p.read_bytes() for p in (landing / "cms" / "xml").rglob("*.*")]
    assert sum(b"submitDeclarationRequest" in x for x in xml) == q["cms/xml"]["wrapped"]
    assert sum(b"<res:Response>" in x for x in xml) == q["cms/xml"]["xml_notification"]
    long_xml = [re.search(rb"InvoiceAmount[^>]*>\d+\.\d+00000003<", x) for x in xml]
    assert sum(m is not None for m in long_xml) == q["cms/xml"]["long_decimals"]
    json_lines = b"".join(p.read_bytes() for p in (landing / "cms" / "json").rglob("*.*"))
    long_json = re.findall(rb'"invoice_amount":"\d+\.\d+00000003"', json_lines)
    assert len(long_json) == q["cms/json"]["long_decimals"]


def test_a_quirk_rate_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quirk_rate must be between 0 and 1"):
        generate(str(tmp_path), declarations=1, quirk_rate=1.5)
