"""The contract every format parser honours.

A parser turns the bytes of one landed file into a stream of outcomes: a parsed record bound
for a bronze table, or a rejection bound for quarantine. Parsers never raise on bad *input*
(only on programming errors): a malformed message is an outcome like any other, so the valid
messages beside it in the same file still load and nothing is lost.

Record dicts use exactly the field names of the target table's schema in
:mod:`lakehouse.tables`; values are plain Python types (``str``, ``int``, ``float``,
``decimal.Decimal``, ``datetime.date``, ``datetime.datetime`` (UTC, tz-aware), ``list``,
``dict``) or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

# Error codes written to quarantine. Stable strings: analysts filter and count on them.
E_ENCODING = "ENCODING"  # bytes cannot be decoded in the declared/detected character set
E_SYNTAX = "SYNTAX"  # the message is not well-formed (EDIFACT syntax, broken XML, bad JSON)
E_ENVELOPE = "ENVELOPE"  # interchange/group/message envelope broken (truncated, unclosed)
E_CONTROL_COUNT = "CONTROL_COUNT"  # UNT/UNE/UNZ count or reference mismatch (strict mode only)
E_SCHEMA = "SCHEMA"  # JSON Schema / XSD validation failed
E_MAPPING = "MAPPING"  # well-formed but a mandatory business field is missing or invalid
E_UNSUPPORTED = "UNSUPPORTED"  # message type / document type this lakehouse does not map
E_EMPTY = "EMPTY"  # the file holds no message at all


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One record for a bronze table.

    ``message_index`` is the 0-based position of the message (EDIFACT message, XML document,
    JSON line) inside the file; with the file's sha256 it is the record's idempotency key.
    """

    table: str
    message_index: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A piece of a file that could not be turned into a record: it goes to quarantine.

    ``raw`` is the exact offending payload as the sender sent it (the EDIFACT message's
    segments, the XML element, the JSON line; the whole file when it could not be split at
    all). ``reason`` is written for a person: what is wrong and where. ``field``, ``value``
    and ``rule`` name the same thing for a machine: the field path (``items[2].customs_value``,
    ``UNH/S009/0065``), the offending value as sent, and the rule it broke (a short stable
    name such as ``required``, ``decimal``, ``utf-8``, ``xsd``); ``None`` where the whole
    payload, not one field, is at fault.
    """

    message_index: int
    raw: str
    error_code: str
    reason: str
    message_type: str | None = None
    field: str | None = None
    value: str | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedColumns:
    """Many records of one bronze table at once, already columnar (a parser's fast path).

    ``records`` is a struct array whose fields are the table's columns (without ``_ingest``);
    ``message_indexes[i]`` is the message index of ``records[i]``. A parser yields this only
    for records it would have yielded one by one as :class:`ParsedRecord` with equal values.
    """

    table: str
    message_indexes: list[int]
    records: pa.StructArray


Outcome = ParsedRecord | Rejected | ParsedColumns


@dataclass(slots=True)
class ParseStats:
    """Counters a parser may fill while parsing (segments seen, bytes decoded)."""

    segments: int = 0
    messages: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class FileParser(Protocol):
    """Parses one landed file; see the module docstring for the rules."""

    def __call__(self, data: bytes, source: str) -> Iterator[Outcome]: ...
