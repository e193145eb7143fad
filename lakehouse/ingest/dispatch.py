"""Which parser reads which landed file: the feed in the path decides (see lakehouse.landing).

Kept apart from the Spark code so it runs, and is tested, without a JVM: the bronze job ships
:func:`parse_landed_file` to Python workers, and unit tests call it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from lakehouse.formats.base import E_UNSUPPORTED, Outcome, Rejected
from lakehouse.landing import FEEDS, Feed

PARSER_VERSION = "lakehouse-parsers/1"


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Parser switches that come from settings (and must reach the Spark workers)."""

    strict_control_counts: bool = False
    xsd_path: str | None = None
    # JSON feeds of one table come back as column batches (ParsedColumns); the bronze worker
    # wants that, callers that want one ParsedRecord per line turn it off.
    columnar: bool = True


def parser_for(feed: Feed, options: ParseOptions) -> Callable[[bytes, str], Iterator[Outcome]]:
    """The parser function of a feed, configured with the options."""
    if feed.format == "edifact":
        from lakehouse.formats.customs_edifact import parse_edifact_file

        return partial(parse_edifact_file, strict=options.strict_control_counts)
    if feed.format == "xml":
        from lakehouse.formats.wco_xml import parse_wco_xml_file

        return partial(parse_wco_xml_file, xsd_path=options.xsd_path)
    if feed.format == "json":
        from lakehouse.formats.json_columnar import columnar_feeds, parse_columnar
        from lakehouse.formats.json_feeds import JSON_PARSERS

        if options.columnar and feed.key in columnar_feeds():
            return partial(parse_columnar, feed.key)
        return JSON_PARSERS[feed.key]
    raise ValueError(f"feed {feed.key!r} has format {feed.format!r}, which no parser reads")


def parse_landed_file(
    data: bytes, source: str, feed_key: str | None, options: ParseOptions
) -> Iterator[Outcome]:
    """Parse one landed file; a file outside the landing convention is itself quarantined."""
    feed = FEEDS.get(feed_key or "")
    if feed is None:
        yield Rejected(
            0,
            raw_text(data),
            E_UNSUPPORTED,
            f"file is outside the landing-zone convention (feed {feed_key!r}); move it to "
            f"landing/<system>/<feed>/<yyyy-mm-dd>/ with one of the feeds {', '.join(FEEDS)}",
        )
        return
    yield from parser_for(feed, options)(data, source)


def raw_text(data: bytes) -> str:
    """Bytes as text for quarantine: UTF-8 when valid, else Latin-1 (which maps every byte)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
