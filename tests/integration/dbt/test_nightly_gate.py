"""The data-quality gate in ``lakehouse nightly``: a night over a threshold stops before scoring.

The night runs on the dbt tier's built lake (nothing new lands, so ingest adds nothing and
transform rebuilds the same tables) with every threshold tightened to zero through
``LAKEHOUSE_DQ_THRESHOLDS``: the known defects a sound simulated night carries (bronze
resends, office-days whose payments arrive late) are then over their threshold, as a broken
feed's would be.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse.cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.dbt]

DAY = "2026-11-25"
# One line naming table, check, rate and threshold (governance.dq.results.CheckResult.describe).
REASON = re.compile(
    r"lakehouse nightly: stopped before scoring: data quality failed: "
    r"(?P<table>\w+\.\w+) (?P<check>\S+): [\d,]+ of [\d,]+ rows failed "
    r"\((?P<rate>[\d.]+)%\), threshold (?P<threshold>0\.000)%"
)


def test_a_night_over_a_threshold_stops_before_scoring(
    spark, built_lake, tmp_path, monkeypatch, capsys
) -> None:
    settings, _result, _ = built_lake
    strict = tmp_path / "strict.yml"
    strict.write_text("# every failing row fails the night\ndefault: 0.0\n")
    monkeypatch.setenv("LAKEHOUSE_DQ_THRESHOLDS", str(strict))
    root = settings.lake_root
    code = main(["nightly", "--lake-root", root, "--date", DAY, "--report-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1, err
    stops = [line for line in err.splitlines() if "stopped before scoring" in line]
    assert len(stops) == 1, err
    reason = REASON.match(stops[0])
    assert reason, stops[0]
    assert float(reason["rate"]) > 0
    # Nothing was scored or exported for the night.
    scores = settings.table_uri("gold", "risk_scores")
    assert not spark.catalog.tableExists("gold.risk_scores") or (
        spark.read.format("delta").load(scores).filter(f"score_date = DATE'{DAY}'").count() == 0
    )
    outbound = Path(settings.zone("outbound").removeprefix("file://"))
    assert not (outbound / "scores" / DAY).exists()
