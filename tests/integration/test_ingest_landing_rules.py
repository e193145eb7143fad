"""No landed file can stop the lake, each is accounted for, and the quarantine replays.

Real Spark + Delta on a local lake: a poison name, a vanished planned file, a growing file,
a symlink, empty files, and a replay after a relaxed setting.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from lakehouse.errors import IngestError
from lakehouse.ingest.bronze import ingest_landing
from lakehouse.ingest.lease import hold_lease
from lakehouse.ingest.replay import ReplayFilter, replay_quarantine
from tests.integration.test_bronze_ingest import DAY, land, local_settings, ndjson, payment

pytestmark = pytest.mark.integration


def table(spark, settings, name: str):
    return spark.read.format("delta").load(settings.table_uri("bronze", name))


def payment_ids(spark, settings) -> list[str]:
    return sorted(r.payment_id for r in table(spark, settings, "erp_payments").collect())


def test_a_file_name_that_is_not_utf8_does_not_block_the_lake(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    good = land(tmp_path / "lake", "erp/payments", "good.ndjson", ndjson([payment(1)]))
    with open(os.fsencode(good.parent) + b"/poison-\xff.ndjson", "wb") as f:
        f.write(ndjson([payment(2)]))
    bad_day = tmp_path / "lake" / "landing" / "erp" / "payments" / "2026-13-45" / "x.ndjson"
    bad_day.parent.mkdir(parents=True)
    bad_day.write_bytes(ndjson([payment(3)]))
    report = ingest_landing(spark, settings)
    assert payment_ids(spark, settings) == ["PAY00001"]
    (skipped,) = report.skipped
    assert skipped.path.endswith("poison-\\xff.ndjson") and "not valid UTF-8" in skipped.reason
    (q,) = table(spark, settings, "quarantine").collect()
    assert q.error_code == "UNSUPPORTED" and q.rule == "landing-day-folder"
    assert "'2026-13-45' is not a real date" in q.reason
    again = ingest_landing(spark, settings)  # the poison name is reported again, nothing fails
    assert len(again.skipped) == 1 and again.files_ingested == 0


def test_a_planned_file_that_vanished_before_the_resume_does_not_block_the_lake(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    land(root, "erp/payments", "a.ndjson", ndjson([payment(1)]))
    gone = land(root, "erp/payments", "b.ndjson", ndjson([payment(2)]))
    with pytest.raises(IngestError, match="stopped at after_plan"):
        ingest_landing(spark, settings, fail_at="after_plan")
    gone.unlink()
    report = ingest_landing(spark, settings)
    assert report.files_missing == 1 and report.files_ingested == 1
    assert payment_ids(spark, settings) == ["PAY00001"]
    log = table(spark, settings, "ingest_file_log").where("status != 'planned'").collect()
    assert sorted((Path(r.source_uri).name, r.status) for r in log) == [
        ("a.ndjson", "committed"),
        ("b.ndjson", "missing"),
    ]
    # Landed again, it loads: a missing file was never taken.
    land(root, "erp/payments", "b.ndjson", ndjson([payment(2)]))
    ingest_landing(spark, settings)
    assert payment_ids(spark, settings) == ["PAY00001", "PAY00002"]


def test_a_growing_file_is_taken_once_complete_and_changed_content_is_quarantined(
    spark, base_settings, tmp_path
) -> None:
    settings = dataclasses.replace(
        local_settings(spark, base_settings, tmp_path), landing_settle_seconds=30
    )
    path = land(tmp_path / "lake", "erp/payments", "grow.ndjson", ndjson([payment(1)]))
    first = ingest_landing(spark, settings)  # written just now: it may still grow
    assert first.files_ingested == 0 and payment_ids(spark, settings) == []
    assert [s.in_flight for s in first.skipped] == [True]
    path.write_bytes(ndjson([payment(1), payment(2)]))
    old = time.time() - 60
    os.utime(path, (old, old))
    second = ingest_landing(spark, settings)
    assert second.files_ingested == 1 and payment_ids(spark, settings) == ["PAY00001", "PAY00002"]
    path.write_bytes(ndjson([payment(1), payment(2), payment(3)]))  # rewritten in place
    os.utime(path, (old + 1, old + 1))
    third = ingest_landing(spark, settings)
    assert third.files_changed == 1 and payment_ids(spark, settings) == ["PAY00001", "PAY00002"]
    (q,) = table(spark, settings, "quarantine").collect()
    assert q.error_code == "CHANGED" and q.rule == "immutable-landed-file"
    assert q.raw_payload == ndjson([payment(1), payment(2), payment(3)]).decode()
    assert ingest_landing(spark, settings).files_ingested == 0  # reported once, not every run


def test_a_symlink_is_skipped_and_its_target_never_read(spark, base_settings, tmp_path) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    secret = tmp_path / "secret.ndjson"
    secret.write_bytes(b"root:x:0:0:secret\n")
    link = tmp_path / "lake" / "landing" / "erp" / "payments" / DAY / "passwd.ndjson"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    land(tmp_path / "lake", "erp/payments", "ok.ndjson", ndjson([payment(1)]))
    report = ingest_landing(spark, settings)
    assert report.files_ingested == 1 and payment_ids(spark, settings) == ["PAY00001"]
    (skipped,) = report.skipped
    assert skipped.path.endswith("passwd.ndjson") and "symbolic link" in skipped.reason
    raws = [r.raw_payload for r in table(spark, settings, "quarantine").collect()]
    assert not any("secret" in (raw or "") for raw in raws)


def test_each_empty_file_gets_its_own_quarantine_row(spark, base_settings, tmp_path) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    for name in ("e1.ndjson", "e2.ndjson"):
        land(root, "erp/payments", name, b"")
    ingest_landing(spark, settings)
    land(root, "erp/payments", "e3.ndjson", b"")  # a later empty file too
    report = ingest_landing(spark, settings)
    assert report.files_duplicate == 0
    q = table(spark, settings, "quarantine").collect()
    assert sorted((Path(r.source_uri).name, r.error_code) for r in q) == [
        ("e1.ndjson", "EMPTY"),
        ("e2.ndjson", "EMPTY"),
        ("e3.ndjson", "EMPTY"),
    ]


_CUSDEC = [
    "UNH+M1+CUSDEC:D:96B:UN",
    "BGM+929:::IM4+LRN-REPLAY-1+9",
    "CST++4000:111:155",
    "LOC+22+KE001:113:155",
    "DTM+137:202401021530:203",
    "NAD+IM+IMP01::ZZZ++Importer Co+++++KE",
    "UNS+D",
    "CST+1+8471300000:122:155+4000",
    "MOA+40:7500.25:USD",
    "UNS+S",
    "UNT+3+M1",  # wrong: the message has 11 segments
]


def _quarantined_cusdec(spark, base_settings, tmp_path):
    """A lake whose one CUSDEC was quarantined for its control count (strict settings)."""
    strict = dataclasses.replace(
        local_settings(spark, base_settings, tmp_path), strict_control_counts=True
    )
    body = "\n".join(s + "'" for s in _CUSDEC)
    data = f"UNA:+.? '\nUNB+UNOC:3+SENDER1:ZZZ+KRA:ZZZ+240102:1530+IC-9'\n{body}\nUNZ+1+IC-9'\n"
    land(tmp_path / "lake", "cms/edifact", "strict.edi", data.encode())
    return strict


def test_replay_loads_what_now_passes_exactly_once(spark, base_settings, tmp_path) -> None:
    strict = _quarantined_cusdec(spark, base_settings, tmp_path)
    first = ingest_landing(spark, strict)
    assert first.rejected == 1 and first.total_records == 0
    (q,) = table(spark, strict, "quarantine").collect()
    assert q.error_code == "CONTROL_COUNT" and q.replayed_at is None

    relaxed = dataclasses.replace(strict, strict_control_counts=False)
    which = ReplayFilter(feed="cms/edifact", code="control_count")
    with hold_lease(relaxed, "test replay") as lease:
        replay = replay_quarantine(spark, relaxed, lease, which)
        assert replay.records == {"cms_declarations": 1} and replay.marked == 1
        declarations = table(spark, relaxed, "cms_declarations").collect()
        assert [(d.lrn, d._ingest.batch_id) for d in declarations] == [
            ("LRN-REPLAY-1", replay.batch_id)
        ]
        assert any("UNT segment count" in i for i in declarations[0].control_issues)
        (q,) = table(spark, relaxed, "quarantine").collect()
        assert q.replayed_at is not None and q.replay_batch_id == replay.batch_id
        again = replay_quarantine(spark, relaxed, lease, which)
        assert again.pending == 0 and again.total_records == 0
    assert table(spark, relaxed, "cms_declarations").count() == 1
    later = ingest_landing(spark, relaxed)  # the replay's batch id is taken; nothing re-read
    assert later.files_ingested == 0 and later.batches == []


def test_a_replay_killed_after_its_commit_is_finished_by_the_next_and_an_ingest_keeps_it(
    spark, base_settings, tmp_path, monkeypatch
) -> None:
    from lakehouse.ingest import bronze

    strict = _quarantined_cusdec(spark, base_settings, tmp_path)
    ingest_landing(None, strict, engine="local")
    relaxed = dataclasses.replace(strict, strict_control_counts=False)
    which = ReplayFilter(code="CONTROL_COUNT")

    def killed(*_args, **_kwargs):
        raise IngestError("killed before the replay was logged")

    with monkeypatch.context() as patch, hold_lease(relaxed, "test replay") as lease:
        patch.setattr(bronze, "_append_log", killed)
        with pytest.raises(IngestError, match="killed"):
            replay_quarantine(None, relaxed, lease, which)
    # The declaration is committed; its replay batch id was never logged, so the next ingest
    # takes the same id: its clean-up of unlogged batches must keep the committed file.
    assert ingest_landing(None, relaxed, engine="local").batches == []
    assert [d.lrn for d in table(spark, relaxed, "cms_declarations").collect()] == ["LRN-REPLAY-1"]
    with hold_lease(relaxed, "test replay") as lease:
        again = replay_quarantine(None, relaxed, lease, which)
    assert again.total_records == 0 and again.marked == 1
    assert table(spark, relaxed, "cms_declarations").count() == 1
    (q,) = table(spark, relaxed, "quarantine").collect()
    assert q.replayed_at is not None
