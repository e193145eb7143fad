"""``lakehouse quarantine list`` reads the quarantine without a JVM (deltalake)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakehouse.cli.main import main
from lakehouse.ingest.bronze import table_specs

pytestmark = pytest.mark.unit

TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("source_uri", pa.string()),
        ("system", pa.string()),
        ("feed", pa.string()),
        ("message_index", pa.int32()),
        ("error_code", pa.string()),
        ("reason", pa.string()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("rule", pa.string()),
        ("raw_payload", pa.string()),
        ("batch_id", pa.int64()),
        ("quarantined_at", TS),
        ("replayed_at", TS),
        ("replay_batch_id", pa.int64()),
    ]
)


def row(i: int, feed: str, code: str, day: int, replayed: bool = False) -> dict:
    system, name = feed.split("/")
    return {
        "source_uri": f"file:/l/landing/{feed}/2026-11-{day:02d}/f{i}.x",
        "system": system,
        "feed": name,
        "message_index": i,
        "error_code": code,
        "reason": f"reason {i}: naïve value",
        "field": "amount",
        "value": "12.5x",
        "rule": "decimal",
        "raw_payload": f'{{"n": {i}}}',
        "batch_id": day,
        "quarantined_at": datetime(2026, 11, day, 12, tzinfo=UTC),
        "replayed_at": datetime(2026, 11, 30, tzinfo=UTC) if replayed else None,
        "replay_batch_id": 9 if replayed else None,
    }


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    for spec in table_specs():  # the lake check looks for each table's log
        (root / "bronze" / spec.name / "_delta_log").mkdir(parents=True, exist_ok=True)
    rows = [
        row(0, "cms/edifact", "CONTROL_COUNT", 23),
        row(1, "cms/edifact", "SYNTAX", 24),
        row(2, "erp/payments", "SCHEMA", 24, replayed=True),
        row(3, "cms/edifact", "CONTROL_COUNT", 25),
    ]
    write_deltalake(str(root / "bronze" / "quarantine"), pa.Table.from_pylist(rows, SCHEMA))
    return root


def run_json(lake: Path, capsys, *flags: str) -> list[dict]:
    assert main(["quarantine", "list", "--lake-root", str(lake), "--format", "json", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_filters_and_newest_first(lake: Path, capsys) -> None:
    rows = run_json(lake, capsys, "--feed", "cms/edifact", "--code", "control_count")
    assert [r["message_index"] for r in rows] == [3, 0]
    assert rows[0]["raw_payload"] == '{"n": 3}' and rows[0]["quarantined_at"].startswith(
        "2026-11-25"
    )
    assert [r["message_index"] for r in run_json(lake, capsys, "--since", "2026-11-24")] == [
        3,
        1,
        2,
    ]
    assert [r["message_index"] for r in run_json(lake, capsys, "--pending", "--limit", "2")] == [
        3,
        1,
    ]
    assert [r["message_index"] for r in run_json(lake, capsys, "--feed", "payments")] == [2]


def test_table_and_csv(lake: Path, capsys) -> None:
    assert main(["quarantine", "list", "--lake-root", str(lake)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["quarantined_at", "batch_id", "feed", "error_code"]
    assert "batch 9" in next(line for line in out if "erp/payments" in line)
    assert out[-1] == "(4 rows)"
    assert main(["quarantine", "list", "--lake-root", str(lake), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("source_uri,system,feed") and len(lines) == 5
    assert "naïve" in lines[1]
