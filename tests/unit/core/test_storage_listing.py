"""Listing and reading landed files the way Spark spells them (local side; S3 runs in e2e)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakehouse.settings import load_settings
from lakehouse.storage import LakeFiles, list_files, local_path

pytestmark = pytest.mark.unit


def test_listing_skips_writer_temporaries_and_keeps_empty_files(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    (root / "cms" / "xml" / "2026-11-24").mkdir(parents=True)
    (root / "cms" / "_staging").mkdir(parents=True)
    day = root / "cms" / "xml" / "2026-11-24"
    (day / "a b.xml").write_bytes(b"<x/>")
    (day / "empty.xml").write_bytes(b"")
    (day / ".a.xml.tmp").write_bytes(b"partial")
    (day / "c.xml._COPYING_").write_bytes(b"partial")
    (root / "cms" / "_staging" / "d.xml").write_bytes(b"<d/>")
    os.utime(day / "a b.xml", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))

    listed = list_files(load_settings({}), f"file://{root}")

    # Only temporaries are left out: an ``_x`` name is a landed file like any other.
    assert [f.path for f in listed] == [
        f"file:{root}/cms/_staging/d.xml",
        f"file:{day}/a b.xml",
        f"file:{day}/empty.xml",
    ]
    first = listed[1]
    assert first.size == 4
    assert round(first.modified.timestamp() * 1000) == 1_700_000_000_123  # milliseconds
    assert listed[2].size == 0


def test_a_missing_folder_lists_nothing(tmp_path: Path) -> None:
    assert list_files(load_settings({}), f"file://{tmp_path}/nope") == []


@pytest.mark.parametrize("spelling", ["file:{p}", "file://{p}", "{p}"])
def test_reader_takes_every_local_spelling(tmp_path: Path, spelling: str) -> None:
    target = tmp_path / "f.edi"
    target.write_bytes(b"UNA:+.? '")
    path = spelling.format(p=target)
    assert local_path(path) == str(target)
    assert LakeFiles(load_settings({})).read(path) == b"UNA:+.? '"
