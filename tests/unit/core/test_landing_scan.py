"""Every entry of the landing zone is taken or skipped with a reason (no JVM)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakehouse.cli.main import main
from lakehouse.landing import day_folder_problem, feed_key_of, is_temporary_name
from lakehouse.settings import load_settings
from lakehouse.storage import scan

pytestmark = pytest.mark.unit

DAY = "2026-11-24"


def day_dir(tmp_path: Path) -> Path:
    day = tmp_path / "landing" / "erp" / "payments" / DAY
    day.mkdir(parents=True)
    return day


def landing(tmp_path: Path) -> str:
    return f"file://{tmp_path}/landing"


def test_a_name_that_is_not_utf8_is_skipped_with_a_reason_and_the_rest_listed(
    tmp_path: Path,
) -> None:
    day = day_dir(tmp_path)
    (day / "good.ndjson").write_bytes(b"{}\n")
    with open(os.fsencode(day) + b"/bad-\xff\xfe.ndjson", "wb") as f:
        f.write(b"{}\n")
    listing = scan(load_settings({}), landing(tmp_path))
    assert [f.path for f in listing.files] == [f"file:{day}/good.ndjson"]
    (skipped,) = listing.skipped
    assert skipped.path == f"file:{day}/bad-\\xff\\xfe.ndjson"
    assert "not valid UTF-8" in skipped.reason and not skipped.in_flight


def test_links_are_never_followed(tmp_path: Path) -> None:
    day = day_dir(tmp_path)
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0")
    (day / "passwd.ndjson").symlink_to(secret)
    (day / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    listing = scan(load_settings({}), landing(tmp_path))
    assert listing.files == []
    assert sorted(s.path.rsplit("/", 1)[1] for s in listing.skipped) == [
        "linked-folder",
        "passwd.ndjson",
    ]
    assert all("symbolic link" in s.reason for s in listing.skipped)


def test_temporary_names_are_in_flight_and_underscore_names_are_taken(tmp_path: Path) -> None:
    day = day_dir(tmp_path)
    for name in (".a.ndjson", "b.ndjson.part", "c.ndjson.tmp", "d._COPYING_", "_e.ndjson"):
        (day / name).write_bytes(b"{}\n")
    listing = scan(load_settings({}), landing(tmp_path))
    assert [f.path.rsplit("/", 1)[1] for f in listing.files] == ["_e.ndjson"]
    assert len(listing.skipped) == 4 and all(s.in_flight for s in listing.skipped)
    assert all("temporary name" in s.reason for s in listing.skipped)


def test_a_file_younger_than_the_settle_time_waits(tmp_path: Path) -> None:
    day = day_dir(tmp_path)
    (day / "old.ndjson").write_bytes(b"{}\n")
    (day / "growing.ndjson").write_bytes(b"{}\n")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()
    os.utime(day / "old.ndjson", (now - 60, now - 60))
    os.utime(day / "growing.ndjson", (now - 5, now - 5))
    listing = scan(
        load_settings({}),
        landing(tmp_path),
        settle_seconds=30,
        now=datetime.fromtimestamp(now, UTC),
    )
    assert [f.path.rsplit("/", 1)[1] for f in listing.files] == ["old.ndjson"]
    (waiting,) = listing.skipped
    assert waiting.in_flight and "LAKEHOUSE_LANDING_SETTLE_SECONDS" in waiting.reason


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 30.0),
        ({"LAKEHOUSE_ENV": "test"}, 0.0),
        ({"LAKEHOUSE_LANDING_SETTLE_SECONDS": "2.5"}, 2.5),
    ],
)
def test_settle_time_setting(env: dict, expected: float) -> None:
    assert load_settings(env).landing_settle_seconds == expected


def test_a_negative_settle_time_is_refused() -> None:
    with pytest.raises(ValueError, match="LAKEHOUSE_LANDING_SETTLE_SECONDS='-1'"):
        load_settings({"LAKEHOUSE_LANDING_SETTLE_SECONDS": "-1"})


def test_a_day_folder_must_be_a_real_date() -> None:
    bad = "file:/l/landing/erp/payments/2026-13-45/x.ndjson"
    assert feed_key_of(bad) is None
    assert (
        day_folder_problem(bad)
        == "day folder '2026-13-45' is not a real date (expected yyyy-mm-dd)"
    )
    good = f"file:/l/landing/erp/payments/{DAY}/x.ndjson"
    assert feed_key_of(good) == "erp/payments" and day_folder_problem(good) is None


@pytest.mark.parametrize(
    ("name", "temporary"),
    [(".x", True), ("x.part", True), ("x.tmp", True), ("_x", False), ("x.edi", False)],
)
def test_temporary_names(name: str, temporary: bool) -> None:
    assert is_temporary_name(name) is temporary


@pytest.mark.parametrize("command", [["ingest"], ["quarantine", "list"], ["quarantine", "replay"]])
def test_a_missing_lake_fails_in_one_line_before_spark_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    root = tmp_path / "typo"
    code = main([*command, "--lake-root", str(root)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f"lakehouse {command[0]}: error: no lake at file://{root}: "
        f"run `lakehouse init --lake-root {root}` first"
    ]
    assert not root.exists()
