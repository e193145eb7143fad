"""``lakehouse validate``: over threshold is one line and exit 1; under it, warnings and 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.dq.results import CheckResult, gate
from governance.dq.run import Outcome
from governance.dq.validate import ValidationRun
from lakehouse.cli import main as cli

pytestmark = pytest.mark.unit


def outcome_of(results: list[CheckResult]) -> Outcome:
    run = ValidationRun("abc", None, results)  # type: ignore[arg-type]
    return Outcome(run, gate(results), Path("/r/dq_report.html"), Path("/r/dq_report.json"))


@pytest.fixture()
def fake_run(monkeypatch):
    """Replace the Spark part; the command's own logic (verdict, exit code, output) runs."""
    chosen: dict[str, list[CheckResult]] = {}
    monkeypatch.setattr("lakehouse.spark.get_spark", lambda *a, **k: object())
    monkeypatch.setattr(
        "governance.dq.run.validate_and_report", lambda *a, **k: outcome_of(chosen["results"])
    )
    return chosen


def test_over_threshold_is_one_line_and_exit_1(fake_run, capsys) -> None:
    fake_run["results"] = [
        CheckResult(
            "silver.stg_erp__payments", "currency:isin", "currency", "allowed_values", 200, 10, 0.01
        )
    ]
    assert cli.main(["validate", "--zone", "silver", "--lake-root", "/tmp/lake"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "lakehouse validate: data quality failed: silver.stg_erp__payments currency:isin:"
        " 10 of 200 rows failed (5.000%), threshold 1.000%"
    ]


def test_under_threshold_warns_and_exits_0(fake_run, capsys) -> None:
    fake_run["results"] = [
        CheckResult(
            "bronze.cms_declarations",
            "items.hs_code:not_withdrawn",
            "items[].hs_code",
            "allowed_values",
            200,
            2,
            0.1,
        )
    ]
    assert cli.main(["validate", "--lake-root", "/tmp/lake"]) == 0
    out = capsys.readouterr().out
    assert "bronze: WARN" in out and "warning: bronze.cms_declarations" in out
    assert "report: /r/dq_report.html" in out


def test_a_missing_thresholds_file_is_one_line_and_exit_2(fake_run, monkeypatch, capsys) -> None:
    fake_run["results"] = []
    monkeypatch.setenv("LAKEHOUSE_DQ_THRESHOLDS", "/nonexistent/limits.yml")
    assert cli.main(["validate", "--lake-root", "/tmp/lake"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read thresholds /nonexistent/limits.yml" in err[0], err
