"""The demo's summary: read back with the JVM-free reader and printed for people."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakehouse.cli.demo import DemoResult, _bronze_summary
from lakehouse.settings import load_settings
from lakehouse.tables import BRONZE

pytestmark = pytest.mark.unit


def test_summary_counts_tables_and_quarantine_reasons(tmp_path) -> None:
    for i, name in enumerate(BRONZE):
        write_deltalake(str(tmp_path / "bronze" / name), pa.table({"x": list(range(i))}))
    quarantine = pa.table(
        {"feed": ["edifact", "edifact", "events", None], "error_code": ["SYNTAX"] * 3 + ["EMPTY"]}
    )
    write_deltalake(str(tmp_path / "bronze" / "quarantine"), quarantine)
    tables, by_reason = _bronze_summary(load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path)}))
    assert list(tables.values()) == [*range(len(BRONZE)), 4]
    assert by_reason[0] == ("edifact", "SYNTAX", 2)
    assert sorted(by_reason[1:]) == [("?", "EMPTY", 1), ("events", "SYNTAX", 1)]


def _result(rerun: int) -> DemoResult:
    return DemoResult("file:///l", 10, 7, 7, 100, 3, rerun, {"bronze.x": 100}, [("f", "E", 3)])


def test_the_text_is_a_short_summary_with_a_verdict() -> None:
    ok, failed = _result(0), _result(5)
    assert ok.exit_code == 0 and failed.exit_code == 1
    assert ok.text().splitlines()[-1].startswith("DEMO OK: 10 declarations simulated in 7 files")
    assert failed.text().splitlines()[-1] == "DEMO FAILED: the re-run ingested 5 records again"
    assert "DemoResult(" not in ok.text()


def test_the_night_and_its_top_five_come_before_the_verdict() -> None:
    top = [f"{i}. LRN{i}  risk 9{i}%  revenue 1,000  unit value far below" for i in range(5)]
    result = dataclasses.replace(_result(0), nightly=["scored 10 declarations"], top=top)
    lines = result.text().splitlines()
    header = lines.index("The 5 riskiest declarations tonight, with their reasons:")
    assert lines[header + 1 : header + 6] == [f"  {t}" for t in top]
    assert lines[-1].startswith("DEMO OK") and "  scored 10 declarations" in lines
