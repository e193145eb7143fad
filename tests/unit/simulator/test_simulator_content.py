"""What the simulated day contains: formats, shares, planted fraud, defects and the profile.

A small independent checker (EDIFACT splitter, XML parser, JSON loader) re-finds the planted
defects in the landed bytes and compares them with the summary, so ingestion tests can trust
``summary.malformed`` / ``expected_quarantine``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakehouse.landing import FEEDS, feed_of, landed_name
from lakehouse.simulator import SimulationSummary, generate
from lakehouse.simulator import cli as sim_cli
from lakehouse.simulator.engine import UTF8_IN_UNOC
from lakehouse.tables import BRONZE

pytestmark = pytest.mark.unit

N = 1500
_TAG = re.compile(r"[A-Z]{3}")
_C1 = re.compile("[\x80-\x9f]")


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    root = tmp_path_factory.mktemp("lake")
    summary = generate(
        str(root), declarations=N, seed=11, malformed_rate=0.03, messages_per_interchange=60
    )
    return root, summary


def _landed(root: Path, feed_key: str) -> list[Path]:
    return sorted((root / "landing" / feed_key).rglob("*.*"))


def _segments(text: str) -> tuple[list[str], str]:
    """Split EDIFACT text (after UNA) into segments honouring the ``?`` release character."""
    out, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "?":
            cur.append(text[i : i + 2])
            i += 2
        elif ch == "'":
            out.append("".join(cur).strip())
            cur = []
            i += 1
        else:
            cur.append(ch)
            i += 1
    return out, "".join(cur).strip()


def _check_interchange(data: bytes) -> tuple[Counter, Counter]:
    """(message types, defects) found in one interchange."""
    text = data.decode("latin-1")
    assert text.startswith("UNA:+.? '\n")
    segs, rest = _segments(text[9:])
    assert rest == ""
    assert segs[0].startswith("UNB+UNOC:3+")
    types: Counter = Counter()
    defects: Counter = Counter()
    msg: list[str] = []
    n_messages = 0
    for seg in segs[1:]:
        tag = seg[:3]
        if tag == "UNH":
            msg = [seg]
            types[seg.split("+")[2].split(":")[0]] += 1
            n_messages += 1
        elif tag == "UNT":
            msg.append(seg)
            body = "'".join(msg)
            count, ref = seg.split("+")[1:3]
            if not all(_TAG.fullmatch(s[:3]) and (len(s) == 3 or s[3] == "+") for s in msg):
                defects["unreleased_character"] += 1
            elif _C1.search(body):
                defects["bad_charset_bytes"] += 1
            elif int(count) != len(msg):
                defects["wrong_unt_count"] += 1
            assert ref == msg[0].split("+")[1]
            msg = []
        elif tag == "UNZ":
            assert int(seg.split("+")[1]) == n_messages
            assert seg.split("+")[2] == segs[0].split("+")[5]
            return types, defects
        else:
            msg.append(seg)
    defects["truncated_interchange"] += 1  # no UNZ: the last message was cut short
    assert msg and msg[0].startswith("UNH")
    return types, defects


def test_every_file_lands_at_a_convention_path(day: tuple[Path, SimulationSummary]) -> None:
    root, summary = day
    files = [p for p in (root / "landing").rglob("*") if p.is_file()]
    assert len(files) == sum(summary.files.values())
    for path in files:
        feed = feed_of(str(path))
        stamp = re.search(r"_(\d{8}T\d{6})_", path.name)
        assert stamp, path
        assert path.parent.name == f"{stamp[1][:4]}-{stamp[1][4:6]}-{stamp[1][6:8]}"
        received = datetime.strptime(stamp[1], "%Y%m%dT%H%M%S")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert path.name == landed_name(feed, received, sha)
    assert {feed_of(str(p)).key for p in files} == set(FEEDS)


def test_format_shares_and_counts(day: tuple[Path, SimulationSummary]) -> None:
    _, s = day
    assert sum(s.formats.values()) == N
    assert 0.74 < s.formats["edifact"] / N < 0.86
    assert 0.06 < s.formats["xml"] / N < 0.14
    assert 0.06 < s.formats["json"] / N < 0.14
    assert s.files["cms/xml"] == s.records["cms/xml"]["declaration"]
    assert s.records["cms/edifact"]["CUSRES"] >= N
    assert s.records["cms/edifact"]["CUSCAR"] >= 1
    assert s.files["hr/records"] == 1
    assert s.records["hr/records"]["officer"] == 200


def test_edifact_envelopes_counts_and_defects(day: tuple[Path, SimulationSummary]) -> None:
    root, s = day
    types: Counter = Counter()
    defects: Counter = Counter()
    for path in _landed(root, "cms/edifact"):
        t, d = _check_interchange(path.read_bytes())
        types += t
        defects += d
    assert types == Counter(s.records["cms/edifact"])
    planted = Counter(s.malformed["cms/edifact"])
    # Plants the parser reads as UTF-8 (their interchange is UTF-8 as a whole) are still plants.
    planted["bad_charset_bytes"] += planted.pop(UTF8_IN_UNOC, 0)
    assert defects == +planted
    assert sum(defects.values()) > 0
    read_as_utf8 = s.malformed["cms/edifact"].get(UTF8_IN_UNOC, 0)
    assert s.expected_control_issues["cms/edifact"] == defects["wrong_unt_count"] + read_as_utf8
    read_as_utf8 = s.malformed["cms/edifact"].get(UTF8_IN_UNOC, 0)
    assert s.expected_quarantine["cms/edifact"] == (
        sum(defects.values()) - defects["wrong_unt_count"] - read_as_utf8
    )


def test_released_characters_and_latin1_names(day: tuple[Path, SimulationSummary]) -> None:
    root, _ = day
    text = b"".join(p.read_bytes() for p in _landed(root, "cms/edifact")).decode("latin-1")
    assert "?'" in text or "?+" in text or "?:" in text


def test_xml_documents_and_defects(day: tuple[Path, SimulationSummary]) -> None:
    root, s = day
    broken = 0
    prefixed = 0
    for path in _landed(root, "cms/xml"):
        data = path.read_bytes()
        try:
            doc = ET.fromstring(data)
        except ET.ParseError:
            broken += 1
            continue
        assert doc.tag == "{urn:wco:datamodel:WCO:DEC-DMS:2}Declaration"
        prefixed += data.count(b"<dec:Declaration") > 0
        ns = {"w": "urn:wco:datamodel:WCO:DEC-DMS:2"}
        assert doc.find("w:FunctionalReferenceID", ns) is not None
        assert doc.findall("w:GoodsShipment/w:GovernmentAgencyGoodsItem", ns)
    assert broken == sum(s.malformed.get("cms/xml", {}).values())
    assert prefixed > 0


_KEYS = {
    "cms/json": ("lrn", "invoice_amount"),
    "cms/inspections": ("inspection_id", "additional_duty"),
    "erp/payments": ("payment_id", "amount"),
    "ects/events": ("event_id", "latitude"),
    "hr/records": ("officer_id", None),
}


@pytest.mark.parametrize("feed_key", sorted(_KEYS))
def test_ndjson_records_and_defects(day: tuple[Path, SimulationSummary], feed_key: str) -> None:
    root, s = day
    key, typed = _KEYS[feed_key]
    found: Counter = Counter()
    good = 0
    for path in _landed(root, feed_key):
        for line in path.read_text("utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                found["invalid_json"] += 1
                continue
            if key not in record:
                found["schema_violation"] += 1
                continue
            if typed is not None:
                expected = float if feed_key == "ects/events" else str
                assert isinstance(record[typed], expected), line
            good += 1
    assert found == Counter(s.malformed.get(feed_key, {}))
    assert s.expected_quarantine[feed_key] == sum(found.values())
    assert good + sum(found.values()) == sum(s.records[feed_key].values())


@pytest.mark.parametrize(
    ("feed_key", "table"),
    [
        ("cms/json", "cms_declarations"),
        ("cms/inspections", "cms_inspection_outcomes"),
        ("erp/payments", "erp_payments"),
        ("ects/events", "ects_events"),
    ],
)
def test_json_field_names_are_bronze_columns(
    day: tuple[Path, SimulationSummary], feed_key: str, table: str
) -> None:
    root, _ = day
    ddl = BRONZE[table].ddl
    columns = set(re.findall(r"(?:^|, )\s*([a-z_]+) ", ddl))
    key = _KEYS[feed_key][0]
    checked = 0
    for line in _landed(root, feed_key)[0].read_text("utf-8").splitlines()[:50]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if key in record:  # a well-formed record
            assert set(record) <= columns
            checked += 1
    assert checked


def test_ground_truth_and_planted_fraud(day: tuple[Path, SimulationSummary]) -> None:
    root, s = day
    gt = pq.read_table(root / "simulator/ground_truth/2026-11-24/declarations.parquet")
    rows = gt.to_pylist()
    assert len(rows) == N
    assert len({r["lrn"] for r in rows}) == N
    for col in (
        "lrn",
        "channel",
        "is_fraud",
        "fraud_types",
        "true_hs_code",
        "declared_hs_code",
        "true_value",
        "declared_value",
        "true_origin",
        "declared_origin",
        "inspected",
        "inspection_result",
        "additional_duty",
    ):
        assert col in gt.column_names
    fraud = [r for r in rows if r["is_fraud"]]
    assert 0.04 < len(fraud) / N < 0.11
    assert s.fraud["declarations"] == len(fraud)
    under = [r for r in fraud if "undervaluation" in r["fraud_types"]]
    assert under and all(r["declared_value"] < r["true_value"] for r in under)
    mis = [r for r in fraud if "misclassification" in r["fraud_types"]]
    assert all(r["true_hs_code"][:2] == r["declared_hs_code"][:2] for r in mis)
    assert all(r["true_hs_code"] != r["declared_hs_code"] for r in mis)
    inspected = [r for r in rows if r["inspected"]]
    assert 0.08 < len(inspected) / N < 0.25
    assert all(r["channel"] in ("red", "yellow") for r in inspected)
    nc_fraud = [r["inspection_result"] == "non_compliant" for r in inspected if r["is_fraud"]]
    nc_clean = [r["inspection_result"] == "non_compliant" for r in inspected if not r["is_fraud"]]
    assert sum(nc_fraud) / len(nc_fraud) > 0.6
    assert sum(nc_clean) / len(nc_clean) < 0.1
    assert sum(r["older_hs_version"] for r in rows) > 0
    assert s.inspections == len(inspected)


def test_amendments_and_duplicates_are_later_files(day: tuple[Path, SimulationSummary]) -> None:
    root, s = day
    functions: dict[str, list[str]] = {}
    unh = Counter()
    for path in _landed(root, "cms/edifact"):
        text = path.read_bytes().decode("latin-1")
        for m in re.finditer(r"BGM\+929:::\w+\+(\w+)\+(\d)'", text):
            functions.setdefault(m[1], []).append(m[2])
        for m in re.finditer(r"UNH\+\d+\+CUSDEC.*?UNT\+\d+\+\d+'\n", text, re.S):
            unh[m[0]] += 1
    amended = [v for v in functions.values() if len(v) == 2 and set(v) & {"4", "5"}]
    assert amended
    assert all(v[0] == "9" or "9" in v for v in amended)
    assert any(n == 2 for n in unh.values())  # an exact resubmission
    assert s.amendments > 0
    assert s.duplicates > 0


def test_cli_prints_progress_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    sim_cli.add_arguments(parser)
    args = parser.parse_args(
        [
            "--lake-root",
            str(tmp_path),
            "--declarations",
            "50",
            "--seed",
            "3",
            "--day",
            "2026-12-01",
            "--malformed-rate",
            "0.02",
        ]
    )
    assert sim_cli.run(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["declarations"] == 50
    assert err.count("simulate: ") == 10
    assert "100%" in err
    with pytest.raises(SystemExit):
        parser.parse_args(["--lake-root", "x", "--day", "24/11/2026"])
