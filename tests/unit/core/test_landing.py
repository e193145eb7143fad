"""The landing-zone convention and feed dispatch, without a JVM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakehouse.ingest.dispatch import ParseOptions, parse_landed_file, raw_text
from lakehouse.ingest.worker import received_at_of
from lakehouse.landing import FEEDS, feed_key_of, feed_of, landed_name, landed_path

pytestmark = pytest.mark.unit


def test_landed_names_and_paths_follow_the_convention() -> None:
    feed = FEEDS["cms/edifact"]
    received = datetime(2026, 11, 24, 10, 15, 0, tzinfo=UTC)
    name = landed_name(feed, received, "ab" * 32)
    assert name == "cms_edifact_20261124T101500_abababababab.edi"
    path = landed_path("s3a://lake/prod", feed, received, name)
    assert path == f"s3a://lake/prod/landing/cms/edifact/2026-11-24/{name}"
    assert feed_of(path) is feed
    assert feed_key_of(path) == "cms/edifact"
    assert received_at_of(path, None) == received


def test_paths_outside_the_convention_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="not a landing-zone path"):
        feed_of("/lake/landing/cms/edifact/file.edi")
    with pytest.raises(ValueError, match="unknown feed 'cms/pdf'"):
        feed_of("/lake/landing/cms/pdf/2026-11-24/x.pdf")


def test_received_time_falls_back_to_the_file_time_for_free_names() -> None:
    mtime = datetime(2026, 1, 1, tzinfo=UTC)
    assert received_at_of("/lake/landing/erp/payments/2026-01-01/manual.ndjson", mtime) == mtime


def test_a_file_in_an_unknown_feed_is_quarantined_not_dropped() -> None:
    (outcome,) = parse_landed_file(b"\xffdata", "/x", "erp/unknown", ParseOptions())
    assert outcome.error_code == "UNSUPPORTED"
    assert outcome.raw == raw_text(b"\xffdata") == "\xffdata"
