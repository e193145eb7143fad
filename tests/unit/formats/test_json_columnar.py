"""The columnar JSON path must give exactly the row path's outcomes, line for line.

Each case feeds the same bytes to both paths and compares what the bronze worker would store:
the accepted records as Arrow values (after the row path's dicts go through the same Arrow
conversion) and every quarantine entry with its index, code and reason.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse.formats.base import Outcome, ParsedColumns, ParsedRecord, Rejected
from lakehouse.formats.json_columnar import (
    _column_array,
    _strict_datetimes,
    arrow_type,
    columnar_feeds,
    parse_columnar,
    record_type,
)
from lakehouse.formats.json_feeds import JSON_PARSERS, _converter, _parse_datetime, _table_type
from lakehouse.ingest import bronze
from lakehouse.ingest.conform import conform
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import parse_group
from lakehouse.settings import load_settings
from lakehouse.simulator import generate
from lakehouse.storage import local_path

pytestmark = pytest.mark.unit

ECTS = {
    "event_id": "TRP1-0001",
    "trip_id": "TRP1",
    "device_id": "ECTS-1",
    "vehicle_id": "KDE 791M",
    "seal_id": "S-1",
    "event_type": "position",
    "event_time": "2026-11-25T00:01:49Z",
    "latitude": -3.6,
    "longitude": 38.8,
    "speed_kmh": 46.8,
    "heading": 304.9,
    "battery_pct": 55,
    "mrn": "26KE001T000093827",
    "office_of_departure": "KE001",
    "office_of_destination": "KE009",
}
ERP = {
    "payment_id": "PAY1",
    "kind": "payment",
    "declaration_ref": "26CB1",
    "tax_type": "CUD",
    "amount": "522515.96",
    "currency": "KES",
    "method": "PREPAYMENT",
    "payment_reference": "PREP1",
    "value_date": "2026-11-24",
    "recorded_at": "2026-11-24T15:06:10Z",
}
INSPECTION = {
    "inspection_id": "INS1",
    "lrn": "LRN1",
    "office_code": "KE001",
    "officer_id": "OFF1",
    "inspected_at": "2026-11-24T10:00:00",
    "channel": "RED",
    "result": "discrepancy",
    "findings": ["undervaluation"],
    "additional_duty": 1234.5,
    "currency": "KES",
    "notes": None,
}
BASES = {"ects/events": ECTS, "erp/payments": ERP, "cms/inspections": INSPECTION}

# Values that test type, range, format, enum and length rules and Python's 1 == 1.0 == True.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    2**63,
    10**30,
    1e308,
    -91.5,
    361,
    "",
    " ",
    "x" * 200,
    "KES",
    "kes",
    "KES\n",
    "position",
    "opened",
    "2026-11-25T00:01:49Z",
    "2026-11-25T00:01:49+03:00",
    "2026-11-25T00:01:49",
    "2026-02-30T00:00:00Z",
    "2026-11-24",
    "2026-13-01",
    "12.34567",
    "-0.5",
    "١٢٣",
    [],
    ["a", 1],
    {"nested": 1},
]


def outcomes_as_stored(outcomes: list[Outcome], table: str) -> tuple[list, list]:
    """(records as Arrow gives them back, rejections), both sorted by message index."""
    typ = record_type(table)
    records: list[tuple[int, dict[str, Any]]] = []
    rejected = []
    for out in outcomes:
        if isinstance(out, ParsedColumns):
            assert out.table == table
            records.extend(zip(out.message_indexes, out.records.to_pylist(), strict=True))
        elif isinstance(out, ParsedRecord):
            assert out.table == table
            try:
                (value,) = pa.array([out.record], type=typ).to_pylist()
            except pa.ArrowInvalid:  # the worker fits it (lakehouse.ingest.conform)
                (value,) = pa.array([conform(out.record, typ)], type=typ).to_pylist()
            records.append((out.message_index, value))
        else:
            assert isinstance(out, Rejected)
            rejected.append(out)
    return sorted(records, key=lambda r: r[0]), sorted(rejected, key=lambda r: r.message_index)


def assert_same(feed: str, data: bytes) -> tuple[list, list]:
    table = _table_type_name(feed)
    fast = outcomes_as_stored(list(parse_columnar(feed, data, "f.json")), table)
    rows = outcomes_as_stored(list(JSON_PARSERS[feed](data, "f.json")), table)
    assert fast == rows
    return fast


def _table_type_name(feed: str) -> str:
    return {
        "ects/events": "ects_events",
        "erp/payments": "erp_payments",
        "cms/inspections": "cms_inspection_outcomes",
    }[feed]


def mutations(base: dict[str, Any], rng: random.Random, count: int) -> list[str]:
    """JSON lines: the base, and copies with keys dropped, set to odd values or added."""
    lines = [json.dumps(base)]
    keys = list(base)
    for _ in range(count):
        obj = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            key = rng.choice(keys)
            if action < 0.2:
                obj.pop(key, None)
            elif action < 0.9:
                obj[key] = rng.choice(ODD_VALUES)
            else:
                obj[f"extra_{rng.randint(0, 3)}"] = rng.choice(ODD_VALUES)
        lines.append(json.dumps(obj))
    return lines


def test_the_one_table_feeds_take_the_columnar_path() -> None:
    assert columnar_feeds() == {"ects/events", "erp/payments", "cms/inspections"}


@pytest.mark.parametrize("feed", sorted(BASES))
def test_mutated_lines_give_the_row_paths_outcomes(feed: str) -> None:
    rng = random.Random(feed)
    lines = mutations(BASES[feed], rng, 400)
    # Broken lines between the objects: syntax errors, non-objects, blank lines, NaN.
    lines[5:5] = ['{"event_id": ', "[1, 2]", "", "   ", '"text"', '{"a": NaN}', "null"]
    data = "\r\n".join(lines).encode()
    records, rejected = assert_same(feed, data)
    assert records and rejected  # both kinds happened


@pytest.mark.parametrize("feed", sorted(BASES))
def test_a_file_without_bad_lines_is_one_column_batch(feed: str) -> None:
    data = b"\n".join(json.dumps(BASES[feed]).encode() for _ in range(5))
    (out,) = list(parse_columnar(feed, data, "f.json"))
    assert isinstance(out, ParsedColumns)
    assert out.message_indexes == [0, 1, 2, 3, 4]
    assert_same(feed, data)


@pytest.mark.parametrize("feed", sorted(BASES))
def test_lines_the_fast_decoder_refuses_get_the_row_paths_outcome(feed: str) -> None:
    """msgspec refuses more than the standard library (numbers beyond a double, lone
    surrogates); such lines go to the row path, whose decoder still decides."""
    key = next(iter(BASES[feed]))
    base = json.dumps(BASES[feed])
    odd = [
        base.replace("{", '{"x": 1e400, ', 1),
        base.replace("{", '{"x": -1E+999, ', 1),
        base.replace("{", '{"x": "tab\there", ', 1),
        base.replace("{", '{"x": "\\udc00", ', 1).replace("\\\\", "\\"),
        base.replace("{", '{"x": ' + "[" * 2000 + "]" * 2000 + ", ", 1),
        json.dumps({**BASES[feed], key: 123456789012345678901234567890}),
        base,
    ]
    assert_same(feed, "\n".join(odd).encode())


def test_whole_file_cases_go_to_the_row_path() -> None:
    for data in (b"", b"\n \n", b"\xef\xbb\xbf" + json.dumps(ECTS).encode(), b"\xff{}"):
        assert_same("ects/events", data)


def test_a_lone_surrogate_escape_is_quarantined_like_the_row_path() -> None:
    line = json.dumps({**ECTS, "vehicle_id": "\\ud800"}).replace("\\\\", "\\")
    _, rejected = assert_same("ects/events", line.encode())
    assert len(rejected) == 1


def test_a_decimal_with_too_many_places_is_left_to_the_row_path() -> None:
    """25 places do not fit decimal(38,18): the columnar path defers the file to the row path,
    which emits the exact Decimal; the worker rounds it to 18 places, flags it and keeps the
    literal, so the inspection loads (nothing rejected, nothing lost)."""
    line = json.dumps({**INSPECTION, "additional_duty": 1.5})
    literal = "1." + "3" * 25
    data = line.replace("1.5", literal).encode()
    outcomes = list(parse_columnar("cms/inspections", data, "f.json"))
    assert [type(o) for o in outcomes] == [ParsedRecord]
    assert outcomes[0].record["additional_duty"] == Decimal(literal)
    records, rejected = assert_same("cms/inspections", data)
    assert rejected == []
    ((index, value),) = records
    assert index == 0
    assert value["additional_duty"] == Decimal("1." + "3" * 18)
    assert value["flags"] == [
        f"decimal-rounded additional_duty: '{literal}' rounded to 18 decimals"
    ]
    assert value["source_literals"] == [("additional_duty", literal)]


def test_columnar_records_carry_the_quality_columns() -> None:
    data = json.dumps(ERP).encode()
    (out,) = list(parse_columnar("erp/payments", data, "f.json"))
    assert isinstance(out, ParsedColumns)
    assert out.records.type == record_type("erp_payments")
    assert out.records.type.field("flags").type == pa.list_(pa.string())
    assert out.records.field("flags").null_count == 1
    assert out.records.field("source_literals").null_count == 1


def test_a_flagged_line_goes_to_the_row_path_and_keeps_its_flags() -> None:
    data = lines_of({**ERP, "currency": "kes"}, ERP)
    outcomes = list(parse_columnar("erp/payments", data, "f.json"))
    assert [type(o) for o in outcomes] == [ParsedColumns, ParsedRecord]
    assert outcomes[1].record["currency"] == "kes"
    assert outcomes[1].record["flags"][0].startswith("pattern currency: 'kes' does not match")
    assert_same("erp/payments", data)


def test_a_pretty_printed_array_goes_to_the_row_path() -> None:
    data = json.dumps([ECTS, {**ECTS, "event_id": "TRP1-0002"}], indent=2).encode()
    records, rejected = assert_same("ects/events", data)
    assert rejected == []
    assert [r[1]["flags"][0].split(" ")[0] for r in records] == ["pretty-printed-json"] * 2


def lines_of(*objs: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(o) for o in objs).encode()


def test_simulated_feeds_give_the_same_outcomes(tmp_path: Path) -> None:
    generate(str(tmp_path), declarations=300, seed=7, malformed_rate=0.05)
    for feed in sorted(BASES):
        files = sorted((tmp_path / "landing" / feed).rglob("*.*"))
        assert files, feed
        for path in files:
            assert_same(feed, path.read_bytes())


def test_arrow_types_follow_the_ddl() -> None:
    typ = arrow_type(_table_type("erp_payments"))
    assert typ.field("amount").type == pa.decimal128(38, 18)
    assert typ.field("value_date").type == pa.date32()
    assert typ.field("recorded_at").type == pa.timestamp("us", tz="UTC")


def _strict_text(rng: random.Random) -> str:
    """A timestamp in the strict form (impossible calendar dates included on purpose)."""
    day = rng.choice([1, 28, 29, 30, 31, rng.randint(1, 31)])
    stamp = (
        f"{rng.randint(1900, 2099):04d}-{rng.randint(1, 12):02d}-{day:02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    )
    if rng.random() < 0.5:
        stamp += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))
    sign = rng.choice("+-")
    return stamp + rng.choice(["Z", f"{sign}{rng.randint(0, 13):02d}:{rng.randint(0, 59):02d}"])


def test_strict_timestamps_are_read_as_the_projects_rule_reads_them() -> None:
    """Arrow converts the strict form only where the rule (regex + fromisoformat) agrees:
    the same instant, and a refusal of the same impossible dates."""
    rng = random.Random(15)
    for _ in range(3000):
        text = _strict_text(rng)
        try:
            want = _parse_datetime(text, require_zone=True)
        except ValueError:
            want = None
        got = _strict_datetimes([text])
        assert (None if got is None else got[0].as_py()) == want, text


def test_timestamp_columns_give_the_row_converters_values() -> None:
    """A column all in the strict form goes through Arrow; any other text (no zone, a space,
    seven decimals, Unicode digits) sends the column to the row converter: same values."""
    rng = random.Random(16)
    typ = pa.timestamp("us", tz="UTC")
    kind = ("prim", "timestamp", "")
    strict = [t for t in (_strict_text(rng) for _ in range(300)) if _strict_datetimes([t])]
    odd = [
        "2026-11-25 00:01:49Z",
        "2026-11-25T00:01:49",
        "2026-11-25T00:01:49.1234567Z",
        "2026-11-25T00:01Z",
        "2026-11-25T00:01:49+0300",
        "٢٠٢٦-11-25T00:01:49Z",
    ]
    for values in (strict, [*strict, None], [*strict, odd[0]], *([*strict, o] for o in odd)):
        convert = _converter(kind)
        try:
            want = pa.array([convert(v) for v in values], type=typ)
        except ValueError:
            continue  # the rule refuses the text: the check never lets such a row reach here
        assert _column_array(values, kind, typ).equals(want)


def test_a_lone_surrogate_in_a_key_no_column_reads_is_quarantined_like_the_row_path() -> None:
    line = json.dumps({**ECTS, "extra_note": "\\udc00"}).replace("\\\\", "\\")
    _, rejected = assert_same("ects/events", (json.dumps(ECTS) + "\n" + line).encode())
    assert [r.error_code for r in rejected] == ["ENCODING"]


def test_escaped_keys_and_repeated_keys_read_as_the_row_path_reads_them() -> None:
    escaped = json.dumps(ECTS).replace('"vehicle_id"', '"vehicle\\u005fid"')
    repeated = json.dumps(ECTS)[:-1] + ', "vehicle_id": "KDE 000A"}'
    records, rejected = assert_same("ects/events", f"{escaped}\n{repeated}".encode())
    assert rejected == []
    assert [r[1]["vehicle_id"] for r in records] == ["KDE 791M", "KDE 000A"]


@pytest.mark.parametrize("feed", sorted(BASES))
def test_the_worker_stores_the_row_paths_parquet_rows(feed: str, tmp_path: Path) -> None:
    """End to end through the bronze worker: the Parquet rows the columnar path writes are
    the rows the row path writes (read back, ordered by message index), quarantine included."""
    rng = random.Random(f"parquet {feed}")
    lines = mutations(BASES[feed], rng, 300)
    lines[7:7] = ['{"event_id": ', "[1]", "", '{"a": NaN}']
    landed = tmp_path / "landing" / feed / "2026-11-25" / "f_20261125T000000_abcdef.ndjson"
    landed.parent.mkdir(parents=True)
    landed.write_bytes("\n".join(lines).encode())
    stored = [
        _worker_rows(tmp_path / name, landed, columnar)
        for name, columnar in (("columnar", True), ("rows", False))
    ]
    assert stored[0] == stored[1]
    assert stored[0][_table_type_name(feed)] and stored[0]["quarantine"]


def _worker_rows(lake: Path, landed: Path, columnar: bool) -> dict[str, list[dict[str, Any]]]:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(lake)})
    ctx = replace(
        bronze._context(settings, 3, ParseOptions(columnar=columnar)),
        ingested_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    modified = datetime(2026, 11, 25, tzinfo=UTC)
    summary = parse_group(ctx, [(landed.as_uri(), landed.stat().st_size, modified)])
    out: dict[str, list[dict[str, Any]]] = {}
    for table, part in zip(
        summary.column("table").to_pylist(), summary.column("part").to_pylist(), strict=True
    ):
        if part:
            out.setdefault(table, []).extend(pq.read_table(local_path(part)).to_pylist())
    for rows in out.values():
        rows.sort(
            key=lambda r: r["_ingest"]["message_index"] if "_ingest" in r else r["message_index"]
        )
    return out
