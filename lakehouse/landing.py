"""The landing-zone convention shared by NiFi flows, the simulator and bronze ingestion.

A landed file lives at ``<lake>/landing/<system>/<feed>/<yyyy-mm-dd>/<name>``. The feed says
which parser reads it; the date is the day the file was received. File names are free but
NiFi and the simulator use ``<system>_<feed>_<received utc yyyymmddThhmmss>_<sha256[:12]>.<ext>``
so that a name alone tells where a file came from. Files are immutable once landed: a
correction arrives as a new file (an amendment message), never as an overwrite.

A writer lands a file by writing it under a temporary name (starting with ``.`` or ending in
``.part`` or ``.tmp``) and renaming it when complete. Ingestion skips temporary names (and
reports them), and takes a file only once its modification time is older than
``LAKEHOUSE_LANDING_SETTLE_SECONDS``, for writers that cannot rename.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Feed:
    """A kind of landed file: which system sends it, in what format, and its extension."""

    system: str
    name: str
    format: str  # edifact | xml | json (newline-delimited)
    extension: str
    description: str

    @property
    def key(self) -> str:
        """``system/feed``: the folder below ``landing/``."""
        return f"{self.system}/{self.name}"


FEEDS: dict[str, Feed] = {
    f.key: f
    for f in (
        Feed(
            "cms",
            "edifact",
            "edifact",
            "edi",
            "UN/EDIFACT interchanges: CUSDEC declarations and amendments, CUSRES, CUSCAR",
        ),
        Feed("cms", "xml", "xml", "xml", "WCO Data Model 3.x declarations, one per file"),
        Feed("cms", "json", "json", "ndjson", "declarations as JSON, one per line"),
        Feed("cms", "inspections", "json", "ndjson", "inspection outcomes, one per line"),
        Feed("ects", "events", "json", "ndjson", "GPS positions and e-seal events, one per line"),
        Feed("erp", "payments", "json", "ndjson", "duty payments, receipts and refunds"),
        Feed("hr", "records", "json", "ndjson", "officers, postings and shifts (daily sync)"),
    )
}

_PATH_RE = re.compile(
    r"/landing/(?P<system>[a-z]+)/(?P<feed>[a-z_-]+)/(?P<day>\d{4}-\d{2}-\d{2})/[^/]+$"
)


def landed_name(feed: Feed, received: datetime, sha256_hex: str) -> str:
    """The conventional file name for a landed file (see the module docstring)."""
    stamp = received.strftime("%Y%m%dT%H%M%S")
    return f"{feed.system}_{feed.name}_{stamp}_{sha256_hex[:12]}.{feed.extension}"


def landed_path(lake_root: str, feed: Feed, received: datetime, name: str) -> str:
    """``<lake>/landing/<system>/<feed>/<yyyy-mm-dd>/<name>``."""
    return f"{lake_root.rstrip('/')}/landing/{feed.key}/{received:%Y-%m-%d}/{name}"


# Names a writer uses while a file is in flight: the file is complete only once renamed.
TEMPORARY_PREFIXES = (".",)
TEMPORARY_SUFFIXES = (".part", ".tmp", "._COPYING_")


def is_temporary_name(name: str) -> bool:
    """True for a name a writer uses before its final rename (see the module docstring)."""
    return name.startswith(TEMPORARY_PREFIXES) or name.endswith(TEMPORARY_SUFFIXES)


def _real_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def feed_key_of(path: str) -> str | None:
    """``system/feed`` of a path in the landing layout (known feed or not), else None.

    The day folder must be a real date: ``2026-13-45`` is outside the convention.
    """
    match = _PATH_RE.search(path)
    if match is None or not _real_day(match["day"]):
        return None
    return f"{match['system']}/{match['feed']}"


def day_folder_problem(path: str) -> str | None:
    """Why the day folder of a landing path is wrong (not a real date), else None."""
    match = _PATH_RE.search(path)
    if match is None or _real_day(match["day"]):
        return None
    return f"day folder {match['day']!r} is not a real date (expected yyyy-mm-dd)"


def feed_of(path: str) -> Feed:
    """The feed a landed path belongs to; rejects paths outside the convention by name."""
    key = feed_key_of(path)
    if key is None:
        raise ValueError(
            f"not a landing-zone path: {path!r}; expected "
            "<lake>/landing/<system>/<feed>/<yyyy-mm-dd>/<file>"
        )
    if key not in FEEDS:
        raise ValueError(f"unknown feed {key!r} in {path!r}; known feeds: {', '.join(FEEDS)}")
    return FEEDS[key]
