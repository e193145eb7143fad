"""Customs EDIFACT messages (CUSDEC, CUSRES, CUSCAR) -> bronze records.

Why a mapping layer of its own: the syntax layer (:mod:`lakehouse.formats.edifact`) is
message-agnostic; this module knows where the customs business fields live. It keys on
segment tags, qualifiers and *nesting* (which trigger segment opened the current group), never
on segment-group numbers, because those shift between directories (D96B/D01B goods item is
SG30, D13B and later SG32 after GIS->GEI, PAT->PYT and the new EFI groups). The same code
therefore reads D96B, D01B and D13B+ layouts, national variants included.

Rules every mapper follows
    * Record dicts carry exactly the columns of the target table in :mod:`lakehouse.tables`,
      the quality columns ``flags`` and ``source_literals`` included.
    * Raw codes are kept (document type 929, function 9, procedure 4000, tax type CUD...);
      amounts are the exact :class:`~decimal.Decimal` the sender wrote (never rounded, never
      dropped as too large: the bronze worker fits what a column cannot hold, and flags it);
      timestamps are tz-aware UTC ``datetime``. EDIFACT times without a zone (formats
      102/203/204...) are taken as UTC; 303/304 zones are applied.
    * Every handler returns the (element, component) positions it stored in columns. A
      segment holding any non-blank value at a position no column took is kept whole, as its
      source text without terminator, in ``unknown_segments`` (so is a segment that repeats a
      field already filled). A qualifier that only routes a value to its column (``MOA+40``,
      ``LOC+27``, ``FTX+AAA``) counts as stored: the column name says it.
    * Where the stored value differs from the text sent (decimal comma, a mass converted to
      the item's unit, free-text components joined) the literal goes to ``source_literals``
      under the field path (``items[0].net_mass``). What is merely unusual (not a number,
      an unparseable date, a unit that cannot be converted) is flagged in ``flags`` as
      ``"<rule> <path>: <detail>"`` and the record loads.
    * Only a missing mandatory business key rejects (``E_MAPPING``, with ``field``, ``value``
      and ``rule``): a declaration without LRN, a message without BGM. A message whose UNH
      leaves the type empty gets it from BGM's document name code or from the segments that
      only one type uses, with a flag; message types other than the three mapped ones, or
      an empty type nothing allows to infer, are rejected ``E_UNSUPPORTED``.

CUSDEC reading order: header until ``UNS+D``; in the detail section a goods item starts at each
``CST`` (a CST with an item number also starts an item when a sender omits ``UNS``); commercial
document groups before the first CST (DMS/LIN...) are kept as unknown; ``UNS+S`` starts the
summary whose ``TAX``/``MOA`` groups are the declaration totals. ``total_duty`` is the sum of the
``MOA+176`` amounts, else of the summary tax amounts, else of the item tax amounts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta, timezone
from decimal import Context, Decimal
from typing import Any

from lakehouse.formats.base import (
    E_MAPPING,
    E_UNSUPPORTED,
    Outcome,
    ParsedRecord,
    Rejected,
)
from lakehouse.formats.edifact import (
    Delimiters,
    Element,
    Message,
    Repetition,
    Segment,
    SyntaxProblem,
    component,
    components,
    iter_messages,
    to_decimal,
)

__all__ = [
    "TABLE_BY_MESSAGE_TYPE",
    "MappingError",
    "infer_message_type",
    "map_cuscar",
    "map_cusdec",
    "map_cusres",
    "map_message",
    "parse_edifact_date",
    "parse_edifact_file",
]

TABLE_BY_MESSAGE_TYPE: dict[str, str] = {
    "CUSDEC": "cms_declarations",
    "CUSRES": "cms_responses",
    "CUSCAR": "cms_cargo_reports",
}


class MappingError(ValueError):
    """A mandatory business field is missing or invalid (becomes ``E_MAPPING``).

    ``field``/``value``/``rule`` name the business key at fault for the quarantine row.
    """

    def __init__(
        self, message: str, *, field: str, value: str | None = None, rule: str = "required"
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.rule = rule


# --------------------------------------------------------------------------- helpers

_FORMATS: dict[str, str] = {
    "102": "%Y%m%d",
    "203": "%Y%m%d%H%M",
    "204": "%Y%m%d%H%M%S",
    "101": "%y%m%d",
    "201": "%y%m%d%H%M",
    "202": "%y%m%d%H%M%S",
}
_BY_LENGTH = {8: "102", 12: "203", 14: "204", 6: "101", 10: "201"}
# Digits each format takes when every field is written with its full width.
_WIDTH = {"102": 8, "203": 12, "204": 14, "101": 6, "201": 10, "202": 12}
_SHORT_YEAR = frozenset({"101", "201", "202"})


def _zone(text: str) -> timezone:
    text = text.strip().upper()
    if text in ("", "Z", "UTC", "GMT", "UT"):
        return UTC
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.isdigit() and len(digits) in (2, 4):
        minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) == 4 else 0)
        return timezone(sign * timedelta(minutes=minutes))
    return UTC


def parse_edifact_date(value: str, fmt: str = "") -> datetime | None:
    """DTM C507 value + 2379 format -> tz-aware UTC datetime; ``None`` when unparseable.

    Formats 102, 203, 204, 101, 201, 202, 303 (CCYYMMDDHHMMZZZ) and 304 (CCYYMMDDHHMMSSZZZ);
    without a format code the length decides. No zone means UTC.
    """
    value = value.strip()
    if not value:
        return None
    tz: timezone = UTC
    if fmt in ("303", "304"):
        cut = 12 if fmt == "303" else 14
        try:
            tz = _zone(value[cut:])
        except ValueError:  # an offset of a day or more names no zone: the date is unparseable,
            return None  # and the caller flags it and keeps its text (the file still loads)
        value, fmt = value[:cut], ("203" if fmt == "303" else "204")
    if not fmt:
        fmt = _BY_LENGTH.get(len(value), "")
    pattern = _FORMATS.get(fmt)
    if pattern is None or not value.isdigit():
        return None
    try:
        if value.isascii() and len(value) == _WIDTH[fmt]:
            return _full_width(value, fmt in _SHORT_YEAR, tz)
        parsed = datetime.strptime(value, pattern)
    except ValueError:
        return None
    return parsed.replace(tzinfo=tz).astimezone(UTC)


def _full_width(value: str, short_year: bool, tz: timezone) -> datetime:
    """What ``strptime`` gives for a value whose every field has its full width, sliced.

    Why: ``strptime`` costs ~40x more. For ASCII digits of exactly the format's width its
    match is the fixed slicing (each field's two-digit alternatives come first, and a field
    read shorter leaves unconverted data), so the result, and the ValueError of an
    impossible date, are the same; other lengths still go through ``strptime``.
    """
    if short_year:
        year = int(value[0:2])
        year += 2000 if year <= 68 else 1900  # strptime's %y pivot
        rest = value[2:]
    else:
        year, rest = int(value[0:4]), value[4:]
    hour = int(rest[4:6]) if len(rest) > 4 else 0
    minute = int(rest[6:8]) if len(rest) > 6 else 0
    second = int(rest[8:10]) if len(rest) > 8 else 0
    parsed = datetime(year, int(rest[0:2]), int(rest[2:4]), hour, minute, second, tzinfo=tz)
    return parsed.astimezone(UTC)


def _s(value: str) -> str | None:
    value = value.strip()
    return value or None


# A handler's stored positions: a frozenset constant, or a set built for one segment (not
# frozen: the copy would only cost time, nobody keeps it).
Used = AbstractSet[tuple[int, int]]


def _used(spec: str) -> Used:
    """``"1 2.0 2.2"`` -> the (element, component) positions a handler stores in columns.

    Elements are 1-based as in the directories, components 0-based; ``"3"`` means ``"3.0"``.
    """
    out = set()
    for part in spec.split():
        elem, _, comp = part.partition(".")
        out.add((int(elem), int(comp or 0)))
    return frozenset(out)


NOTHING: Used = frozenset()
# What a handler returns when it has checked its segment's shape and stored every value in
# it: the caller skips ``_leftover`` (one Python walk over the segment, ~a fifth of the
# mapping CPU when run for every segment). Only the CUSDEC loop and ``_Ctx.keep`` understand
# it: it must never reach ``_leftover``, whose answer for it would be wrong.
STORED: Used = frozenset({(0, 0)})
# Its counterpart: the handler knows that the segment holds a value no column took (the
# segment goes to ``unknown_segments``). Likewise never handed to ``_leftover``.
KEPT: Used = frozenset({(0, 1)})
# A number whose ``str(Decimal(text))`` is ``text`` itself: no sign +, no leading zero, no
# bare or leading decimal mark, no blank (a leading nonzero digit keeps the exponent >= -6,
# so Decimal never switches to scientific notation; so do at most six decimals after a
# single ``0``, as in the frequent ``0.00``).
_CANONICAL = re.compile(r"-?(?:[1-9][0-9]*(?:\.[0-9]+)?|0(?:\.[0-9]{1,6})?)\Z").match


def _leftover(seg: Segment, used: Used) -> bool:
    """True when ``seg`` holds a non-blank value at a position no column took.

    Repetitions after the first (syntax version 4) are never read, so they always count.
    Runs for every segment, so it is cheap where it can be: for a handler's constant
    positions an element whose components all fall in the used prefix is passed without
    looking at its values; empty values are skipped before the position look-up, and
    ``isspace`` tells blank from non-blank without building a stripped copy.
    """
    widths: tuple[int, ...] = ()
    if type(used) is frozenset:
        widths = _WIDTHS.get(used) or _WIDTHS.setdefault(used, _prefix_widths(used))
    covered = len(widths)
    for i in range(1, len(seg)):
        value = seg[i]
        if i < covered:
            if type(value) is str:
                if widths[i]:
                    continue
            elif type(value) is tuple and len(value) <= widths[i]:
                continue
        if type(value) is Repetition:
            if any(_blank_free(v) for v in value[1:]):
                return True
            value = value[0] if value else ""
        if type(value) is str:
            if value and (i, 0) not in used and not value.isspace():
                return True
        else:
            for j, comp in enumerate(value):
                if comp and (i, j) not in used and not comp.isspace():
                    return True
    return False


_WIDTHS: dict[AbstractSet[tuple[int, int]], tuple[int, ...]] = {}


def _prefix_widths(used: Used) -> tuple[int, ...]:
    """Per element index, how many leading components are all in ``used`` (for _leftover)."""
    top = max((i for i, _ in used), default=0)
    widths = []
    for i in range(top + 1):
        k = 0
        while (i, k) in used:
            k += 1
        widths.append(k)
    return tuple(widths)


def _blank_free(value: Element) -> bool:
    if type(value) is str:
        return bool(value.strip())
    return any(c.strip() for c in value)


# Results of the segment handlers that depend on nothing but the segment (TAX, NAD, the CST
# that opens a goods item), per delimiter set, by the segment's source text. Why: the same
# tax line, trader or tariff line recurs in message after message (on a simulated day 90-100
# % of these segments repeat one seen before in the same process), and a dictionary look-up
# of the text costs a fraction of reading the segment again. The cached record parts hold
# only immutable values (fresh containers are made on every use), so a hit gives the same
# record. Bounded: cleared when full.
_SEEN: dict[Delimiters, dict[str, tuple[Any, ...]]] = {}
_SEEN_MAX = 50_000


def _seen_for(delimiters: Delimiters) -> dict[str, tuple[Any, ...]]:
    seen = _SEEN.get(delimiters)
    if seen is None:
        if len(_SEEN) >= 64:  # senders with many distinct UNAs: keep the memory bounded
            _SEEN.clear()
        seen = _SEEN[delimiters] = {}
    return seen


class _Ctx:
    """What every handler of one message shares: the decimal mark and the quality notes.

    ``flags`` and ``literals`` are the record's ``flags`` and ``source_literals``; handlers
    note there what was merely unusual, so the record still loads with nothing lost.
    """

    __slots__ = ("canonical", "comp", "dec", "delimiters", "flags", "literals", "seen", "unknown")

    def __init__(self, msg: Message, rec: dict[str, Any]) -> None:
        self.delimiters = msg.delimiters
        self.seen = _seen_for(msg.delimiters)
        self.dec = msg.delimiters.decimal
        # A UNA may declare a digit or a minus as decimal mark: then a canonical-looking
        # text is not what it seems, and only to_decimal reads it right.
        self.canonical = self.dec == "." or self.dec not in "-0123456789."
        self.comp = msg.delimiters.component
        self.flags: list[str] = rec["flags"]
        self.literals: dict[str, str] = rec["source_literals"]
        self.unknown: list[str] = rec["unknown_segments"]

    def flag(self, rule: str, path: str, detail: str) -> None:
        """Add a flag ``"<rule> <path>: <detail>"``."""
        self.flags.append(f"{rule} {path}: {detail}")

    def remember(self, raw: str, result: tuple[Any, ...], flags: int, literals: int) -> None:
        """Keep a segment handler's result under the segment's source text (see ``_SEEN``).

        Only when the handler added no flag and no source literal since the counts
        ``flags``/``literals`` (those name the record's field path, which differs from record
        to record; each handler's notes go under new keys, so the counts tell), and only when
        the text holds no release or repetition character (the text then reads the same
        whatever the interchange's syntax version).
        """
        if len(self.flags) != flags or len(self.literals) != literals:
            return
        d = self.delimiters
        if (d.release and d.release in raw) or (d.repetition and d.repetition in raw):
            return
        seen = self.seen
        if len(seen) >= _SEEN_MAX:
            seen.clear()
        seen[raw] = result

    def keep(self, seg: Segment, raw: str, used: Used) -> None:
        """Keep the segment's source text unless every value in it went to a column."""
        if used is KEPT or (used is not STORED and _leftover(seg, used)):
            self.unknown.append(raw)

    def num(self, text: str, path: str, leaf: str = "") -> Decimal | None:
        """The exact number the sender wrote (never rounded, never too large).

        ``None`` for an empty value; a value that is not a number is flagged (its segment is
        then kept in ``unknown_segments`` because the position is not consumed). The field
        path is ``path + leaf``, joined only when a note needs it (most numbers need none).
        """
        if self.canonical and _CANONICAL(text):  # most amounts: to_decimal's answer, no note
            return Decimal(text)
        if not text:  # an omitted value: to_decimal's None, without its steps
            return None
        path += leaf
        number = to_decimal(text, self.dec)
        if number is None:
            if text.strip():
                self.flag("not-a-number", path, f"{text!r} kept in unknown_segments")
            return None
        if str(number) != text.strip():
            self.literals[path] = text
        return number

    def integer(self, text: str, path: str) -> int | None:
        """A whole number (any size: the bronze worker fits and flags what a column refuses)."""
        if text.isdigit() and text.isascii():  # plain digits: to_decimal's answer, directly
            return int(text)
        number = to_decimal(text)
        if number is None or number != number.to_integral_value():
            if text.strip():
                self.flag("not-an-integer", path, f"{text!r} kept in unknown_segments")
            return None
        return int(number)

    def joined(self, parts: tuple[str, ...], path: str, leaf: str = "") -> str | None:
        """Free-text components joined by a space; the composite as sent kept when split.

        The literal's field path is ``path + leaf``, joined only when a literal is kept.
        """
        filled = [p for p in parts if p.strip()]
        if len(filled) > 1:
            sent = list(parts)
            while not sent[-1]:
                sent.pop()
            self.literals[path + leaf] = self.comp.join(sent)
        return " ".join(filled) or None


def _one_composite(seg: Segment, width: int) -> bool:
    """True when ``seg`` is its tag and one element of at most ``width`` components.

    For a handler that stored components 0..``width - 1`` of element 1: then nothing is left
    (what ``_leftover`` would find, without its walk), and it may return ``STORED``.
    """
    if len(seg) != 2:
        return False
    value = seg[1]
    return type(value) is str or (type(value) is tuple and len(value) <= width)


def _plain(seg: Segment, count: int) -> bool:
    """True when ``seg`` is its tag and ``count`` elements of one component each.

    For a handler that stored every one of those elements (``LOC+27+CN``, ``PAC+3``): then
    nothing is left (what ``_leftover`` would find, without its walk), and it may return
    ``STORED``.
    """
    return len(seg) == count + 1 and all(type(value) is str for value in seg[1:])


def _padded(seg: Segment, index: int, width: int) -> tuple[str, ...]:
    """Components 0..``width - 1`` of element ``index``, ``""`` for those omitted.

    The same strings as ``component(seg, index, j)`` for each ``j``, with one element look-up
    instead of ``width`` (NAD and FTX read five components each).
    """
    if index >= len(seg):
        return ("",) * width
    value = seg[index]
    if type(value) is Repetition:
        value = value[0] if value else ""
    if type(value) is str:
        return (value,) + ("",) * (width - 1)
    parts: tuple[str, ...] = value  # type: ignore[assignment]  # a composite: its components
    size = len(parts)
    if size >= width:
        return parts[:width]
    return parts + ("",) * (width - size)


def _composite(seg: Segment, index: int, first: int, last: int) -> tuple[str, ...]:
    """Components ``first``..``last`` of element ``index`` (fewer when the sender omitted some)."""
    return _padded(seg, index, last + 1)[first:]


def _consumed(seg: Segment, index: int, first: int, last: int) -> set[tuple[int, int]]:
    """The positions of the non-blank components ``first``..``last`` of element ``index``."""
    parts = _padded(seg, index, last + 1)
    return {(index, j) for j in range(first, last + 1) if parts[j].strip()}


def _envelope(msg: Message) -> dict[str, Any]:
    inter = msg.interchange
    return {
        "syntax": "edifact",
        "message_type": msg.message_type,
        "directory_version": _s(msg.directory_version),
        "interchange_ref": _s(inter.reference) if inter else None,
        "message_ref": _s(msg.reference),
        "sender_id": _s(inter.sender_id) if inter else None,
        "recipient_id": _s(inter.recipient_id) if inter else None,
        "control_issues": list(msg.control_issues),
        "unknown_segments": [],
    }


def _quality(rec: dict[str, Any]) -> dict[str, Any]:
    """Append the two quality columns last (after the table's own columns), as the DDL has them."""
    rec["flags"] = []
    rec["source_literals"] = {}
    return rec


def _party(seg: Segment, ctx: _Ctx, path: str) -> tuple[dict[str, Any], Used]:
    """NAD: 3035 role, C082 id (3039:1131:3055), C058 name and address lines, C080 party name
    (3036 x5 : 3045 format), C059 street (3042 x4), 3164 city, C819 subdivision, 3251
    postcode, 3207 country."""
    ident = _padded(seg, 2, 3)
    scheme_at = 2 if ident[2].strip() else 1
    name_elem, name = 4, _padded(seg, 4, 5)
    if not "".join(name).strip():  # no component but blanks (one C-level pass)
        name_elem, name = 3, _padded(seg, 3, 5)
    street = _padded(seg, 5, 4)
    used = {(1, 0), (2, 0), (6, 0), (8, 0), (9, 0), (2, scheme_at)}
    # A name or street is mostly one component: the other positions are looked at only when
    # one of them holds more than blanks.
    if name[0].strip():
        used.add((name_elem, 0))
    if "".join(name[1:]).strip():
        used.update([(name_elem, j) for j in range(1, 5) if name[j].strip()])
    if "".join(street).strip():
        used.update([(5, j) for j in range(4) if street[j].strip()])
    party = {
        # ``x.strip() or None`` is _s inlined: a NAD is the most frequent party of a message
        "role": component(seg, 1).strip() or None,
        "id": ident[0].strip() or None,
        "id_scheme": ident[scheme_at].strip() or None,
        "name": ctx.joined(name, path, ".name"),
        "country": component(seg, 9).strip() or None,
        "street": ctx.joined(street, path, ".street"),
        "city": component(seg, 6).strip() or None,
        "postcode": component(seg, 8).strip() or None,
    }
    return party, used


def _party_kept(
    seg: Segment, raw: str, ctx: _Ctx, parties: list[dict[str, Any]], prefix: str = ""
) -> bool:
    """Append the NAD's party to ``parties``: True when the segment goes to
    ``unknown_segments``. Remembered by text (the path, ``prefix + parties[i]``, only names
    source literals, and a NAD that has any is not remembered)."""
    hit = ctx.seen.get(raw)
    if hit is not None:
        parties.append(hit[0].copy())
        return hit[1]
    flags, literals = len(ctx.flags), len(ctx.literals)
    party, used = _party(seg, ctx, f"{prefix}parties[{len(parties)}]")
    parties.append(party)
    kept = _leftover(seg, used)
    ctx.remember(raw, (party.copy(), kept), flags, literals)
    return kept


REF_USED = _used("1.0 1.1")
DATE_USED = _used("1.0 1.1 1.2")


def _ref(seg: Segment) -> dict[str, Any]:
    """RFF C506: 1153 qualifier : 1154 reference."""
    qualifier, value = _padded(seg, 1, 2)
    return {"qualifier": qualifier.strip() or None, "value": value.strip() or None}


def _date(seg: Segment) -> dict[str, Any]:
    """DTM C507: 2005 qualifier : 2380 value : 2379 format (the value is kept as written)."""
    qualifier, value, fmt = _padded(seg, 1, 3)
    return {
        "qualifier": qualifier.strip() or None,
        "value": value.strip() or None,
        "format": fmt.strip() or None,
    }


def _tax(seg: Segment, ctx: _Ctx, path: str) -> tuple[dict[str, Any], Used]:
    """TAX: 5283 function, C241 type (5153), C533, 5286 basis, C243 rate (5278 = comp 3), 5305."""
    kind, type_at = component(seg, 2, 0), (2, 0)
    if not kind.strip():
        kind, type_at = component(seg, 1, 0), (1, 0)
    tax = {
        "tax_type": kind.strip() or None,
        "tax_category": component(seg, 6).strip() or None,
        "rate": ctx.num(component(seg, 5, 3), path, ".rate"),
        "base_amount": ctx.num(component(seg, 4, 0), path, ".base_amount"),
        "amount": None,
        "currency": None,
    }
    return tax, _TAX_USED[type_at[0] == 2, tax["rate"] is not None, tax["base_amount"] is not None]


def _tax_kept(seg: Segment, raw: str, ctx: _Ctx, path: str) -> tuple[dict[str, Any], bool]:
    """:func:`_tax`, and whether the segment goes to ``unknown_segments``; remembered by text."""
    hit = ctx.seen.get(raw)
    if hit is not None:
        return hit[0].copy(), hit[1]
    flags, literals = len(ctx.flags), len(ctx.literals)
    tax, used = _tax(seg, ctx, path)
    kept = _leftover(seg, used)
    ctx.remember(raw, (tax.copy(), kept), flags, literals)
    return tax, kept


def _tax_used(type_at: str, rate: bool, base: bool) -> Used:
    return _used(f"{type_at} 6.0" + " 5.3" * rate + " 4.0" * base)


# (type in C241 rather than 5283, rate stored, base stored) -> the positions a TAX stored:
# constants, so ``_leftover`` finds their widths instead of walking a set built per TAX.
_TAX_USED = {
    (t == "2.0", r, b): _tax_used(t, r, b)
    for t in ("1.0", "2.0")
    for r in (False, True)
    for b in (False, True)
}


_TAX_AMOUNT = frozenset({"161", "176", "55", "9", "124", "150"})
_TAX_BASE = frozenset({"125", "56"})
MOA_USED = _used("1.0 1.1 1.2")
MOA_NO_CURRENCY = _used("1.0 1.1")


def _tax_moa(tax: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    """Apply a MOA inside a TAX group; nothing consumed when it does not belong there."""
    qual, text, code = _padded(seg, 1, 3)
    if qual in _TAX_AMOUNT and tax["amount"] is None:
        key, leaf = "amount", ".amount"
    elif qual in _TAX_BASE and tax["base_amount"] is None:
        key, leaf = "base_amount", ".base_amount"
    else:
        return NOTHING
    amount = ctx.num(text, path, leaf)
    if amount is None:
        return NOTHING
    tax[key] = amount
    currency = _s(code)
    if tax["currency"] is None:
        tax["currency"] = currency
    return MOA_USED if currency in (None, tax["currency"]) else MOA_NO_CURRENCY


def _tax_moa_plain(
    tax: dict[str, Any], value: tuple[str, ...], raw: str, unknown: list[str]
) -> bool:
    """:func:`_tax_moa` for ``MOA+<qualifier>:<canonical amount>:<currency>`` alone in its
    segment (the caller checked that shape): True when the amount went to the TAX group.

    The same values as ``_tax_moa`` and the ``_leftover`` walk after it: with that shape the
    only position left unstored is a currency that differs from the group's, so the segment
    is kept in ``unknown_segments`` exactly then.
    """
    qual, text, code = value
    if qual in _TAX_AMOUNT and tax["amount"] is None:
        tax["amount"] = Decimal(text)
    elif qual in _TAX_BASE and tax["base_amount"] is None:
        tax["base_amount"] = Decimal(text)
    else:
        return False
    currency = code.strip() or None
    if tax["currency"] is None:
        tax["currency"] = currency
    if currency not in (None, tax["currency"]):
        unknown.append(raw)
    return True


# parse_edifact_date's answers for the issue dates met so far (a pure function of its text).
_ISSUE_DATES: dict[tuple[str, str], datetime | None] = {}
_UNSEEN = object()


def _issue_datetime(dates: list[tuple[int, dict[str, Any]]], ctx: _Ctx) -> datetime | None:
    """DTM 137 (document issue), else 182 (issue) among ``(index in dates, date)`` pairs.

    An unparseable one is flagged, not fatal: its text stays in ``dates``.
    """
    for wanted in ("137", "182"):
        for k, date in dates:
            if date["qualifier"] != wanted or date["value"] is None:
                continue
            key = (date["value"], date["format"] or "")
            parsed = _ISSUE_DATES.get(key, _UNSEEN)
            if parsed is _UNSEEN:  # issue times recur (a file's messages share the minute)
                if len(_ISSUE_DATES) >= _SEEN_MAX:
                    _ISSUE_DATES.clear()
                parsed = _ISSUE_DATES[key] = parse_edifact_date(*key)
            if parsed is not None:
                return parsed  # type: ignore[return-value]
            ctx.flag("unparseable-date", f"dates[{k}].value", f"{date['value']!r} kept as text")
    return None


_GROSS = frozenset({"AAB", "AAD", "G", "ADX"})
_NET = frozenset({"AAC", "AAF", "N"})
_MASS_DIMS = _GROSS | _NET  # once, not per MEA
_LEAF = {"gross_mass": ".gross_mass", "net_mass": ".net_mass"}
_MASS_UNITS: dict[str, Decimal] = {
    "KGM": Decimal(1),
    "GRM": Decimal("0.001"),
    "TNE": Decimal(1000),
    "LBR": Decimal("0.45359237"),
    "MGM": Decimal("0.000001"),
}
_EXACT = Context(prec=60)


def _convert_mass(value: Decimal, unit: str, target: str) -> Decimal | None:
    """``value`` in ``unit`` expressed in ``target``; None when either is not a mass unit.

    Computed with 60 significant digits: exact for metric units; the bronze worker rounds
    what its column cannot hold (and flags it), the mapper never does.
    """
    if unit in _MASS_UNITS and target in _MASS_UNITS:
        return _EXACT.divide(_EXACT.multiply(value, _MASS_UNITS[unit]), _MASS_UNITS[target])
    return None


MEA_USED = _used("1.0 2.0 3.0 3.1")


def _item_mea(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    """MEA: 6311 purpose (WT / AAE), C502 6313 dimension, C174 unit:value."""
    fits = len(seg) == 4 and type(seg[1]) is str and type(seg[2]) is str
    value3 = seg[3] if fits else None
    if type(value3) is tuple and len(value3) == 2:  # ``MEA+WT+AAB+KGM:147.084``: all stored
        purpose, dim = seg[1], seg[2]
        unit, text = value3
        done = STORED
    else:
        purpose, dim = component(seg, 1), component(seg, 2, 0)
        unit, text = _padded(seg, 3, 2)
        done = MEA_USED
    unit = unit.strip()
    # AAE is a supplementary measurement (a quantity), even when its unit is a mass unit:
    # it must never fill a gross or net mass that the declarant left empty.
    is_mass = purpose == "WT" or (unit in _MASS_UNITS and purpose != "AAE")
    if is_mass and dim in _MASS_DIMS:
        key = "gross_mass" if dim in _GROSS else "net_mass"
        if item[key] is not None:
            return NOTHING
        # ctx.num's first step inlined: most masses are canonical numbers
        canonical = ctx.canonical and _CANONICAL(text)
        value = Decimal(text) if canonical else ctx.num(text, path, _LEAF[key])
        if value is None:
            return NOTHING
        if item["mass_unit"] is None:
            item["mass_unit"] = unit or None
        elif unit and unit != item["mass_unit"]:
            converted = _convert_mass(value, unit, item["mass_unit"])
            target = item["mass_unit"]
            if converted is None:
                ctx.flag("unit-not-convertible", f"{path}.{key}", f"{unit!r} to {target!r}")
                return NOTHING
            ctx.literals[f"{path}.{key}"] = f"{unit}{ctx.comp}{text}"
            ctx.flag("unit-converted", f"{path}.{key}", f"{text} {unit} stored in {target}")
            value = converted
        item[key] = value
        return done
    if purpose in ("AAE", "CT", "SQ", "") and item["quantity"] is None:
        value = ctx.num(text, path, ".quantity")
        if value is None:
            return NOTHING
        item["quantity"], item["quantity_unit"] = value, unit or None
        return done
    return NOTHING


# --------------------------------------------------------------------------- CUSDEC


_HS_LISTS = frozenset({"122", "HS", "105", "130"})
_PROCEDURE_LISTS = frozenset({"111", "108"})


def _cst_codes(seg: Segment) -> tuple[str | None, str | None, str | None, Used, Used]:
    """(hs_code, hs_code_list, procedure_code, HS positions, procedure positions) of a CST.

    Reads the C246 customs identity codes in elements 2..6: a code whose list (1131) says
    tariff is the HS code, one that says procedure is the procedure; unlisted codes are told
    apart by shape (six digits or more is a tariff code).
    """
    hs = hs_list = proc = None
    hs_used: set[tuple[int, int]] = set()
    proc_used: set[tuple[int, int]] = set()
    unlisted: list[tuple[int, str]] = []
    for i in range(2, min(len(seg), 7)):
        code, lst = component(seg, i, 0).strip(), component(seg, i, 1).strip()
        if not code:
            continue
        if lst in _HS_LISTS and hs is None:
            hs, hs_list = code, lst
            hs_used |= {(i, 0), (i, 1)}
        elif lst in _PROCEDURE_LISTS and proc is None:
            proc = code
            proc_used |= {(i, 0), (i, 1)}  # the list only says "procedure", as the column does
        elif not lst:
            unlisted.append((i, code))
    for i, code in unlisted:
        if hs is None and code.isdigit() and len(code) >= 6:
            hs = code
            hs_used.add((i, 0))
        elif proc is None:
            proc = code
            proc_used.add((i, 0))
    return hs, hs_list, proc, frozenset(hs_used), frozenset(proc_used)


def _new_item(seg: Segment, position: int, ctx: _Ctx) -> tuple[dict[str, Any], Used, bool]:
    """The goods item a CST opens, its stored positions, and whether the CST numbers it."""
    hs, hs_list, proc, hs_used, proc_used = _cst_codes(seg)
    used = hs_used | proc_used
    number = ctx.integer(component(seg, 1), f"items[{position - 1}].item_no")
    item: dict[str, Any] = {
        "item_no": number or position,
        "hs_code": hs,
        "hs_code_list": hs_list,
        "procedure_code": proc,
        "description": None,
        "origin_country": None,
        "customs_value": None,
        "value_currency": None,
        "statistical_value": None,
        "gross_mass": None,
        "net_mass": None,
        "mass_unit": None,
        "quantity": None,
        "quantity_unit": None,
        "packages": None,
        "taxes": [],
        "references": [],
    }
    return item, used | {(1, 0)} if number is not None else used, bool(number)


def _new_item_kept(seg: Segment, raw: str, position: int, ctx: _Ctx) -> tuple[dict[str, Any], bool]:
    """:func:`_new_item`, and whether the CST goes to ``unknown_segments``; remembered by
    text when the CST numbers its item (else the item number is its position)."""
    hit = ctx.seen.get(raw)
    if hit is not None:
        item = hit[0].copy()
        item["taxes"], item["references"] = [], []
        return item, hit[1]
    flags, literals = len(ctx.flags), len(ctx.literals)
    item, used, numbered = _new_item(seg, position, ctx)
    kept = _leftover(seg, used)
    if numbered:  # else the item number is its position: not the segment's alone
        ctx.remember(raw, (item.copy(), kept), flags, literals)
    return item, kept


FTX_USED = _used("1 4.0 4.1 4.2 4.3 4.4")
LOC_USED = _used("1 2.0")
QTY_USED = _used("1.0 1.1 1.2")
ONE = _used("1")


def _item_ftx(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    if component(seg, 1) != "AAA":
        return NOTHING
    text = ctx.joined(_composite(seg, 4, 0, 4), f"{path}.description")
    if text is None:
        return NOTHING
    if item["description"] is not None:
        ctx.literals.pop(f"{path}.description", None)
        text = f"{item['description']} {text}"
    item["description"] = text
    # ``FTX+AAA+++text``: the subject and the text stored, the two elements between empty
    fits = len(seg) == 5 and seg[2] == "" and seg[3] == "" and type(seg[1]) is str
    text_at = seg[4] if fits else None
    if type(text_at) is str or (type(text_at) is tuple and len(text_at) <= 5):
        return STORED
    return FTX_USED


def _item_loc(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    if component(seg, 1) == "27" and item["origin_country"] is None:
        item["origin_country"] = _s(component(seg, 2, 0))
        return STORED if _plain(seg, 2) else LOC_USED  # ``LOC+27+CN``
    return NOTHING


def _item_qty(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    if item["quantity"] is not None:
        return NOTHING
    value = ctx.num(component(seg, 1, 1), path, ".quantity")
    if value is None:
        return NOTHING
    item["quantity"], item["quantity_unit"] = value, _s(component(seg, 1, 2))
    return QTY_USED


def _item_moa(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    qual = component(seg, 1, 0)
    if qual == "40" or (qual == "41" and item["customs_value"] is None):
        if item["customs_value"] is not None:
            return NOTHING
        amount = ctx.num(component(seg, 1, 1), path, ".customs_value")
        if amount is None:
            return NOTHING
        item["customs_value"] = amount
        item["value_currency"] = _s(component(seg, 1, 2)) or item["value_currency"]
        return STORED if _one_composite(seg, 3) else MOA_USED  # ``MOA+40:6855.15:EUR``
    if qual == "123" and item["statistical_value"] is None:
        amount = ctx.num(component(seg, 1, 1), path, ".statistical_value")
        if amount is None:
            return NOTHING
        item["statistical_value"] = amount
        return MOA_NO_CURRENCY
    return NOTHING


def _item_pac(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    text = component(seg, 1)
    plain = text.isdigit() and text.isascii()  # ctx.integer's first step, without the call
    count = int(text) if plain else ctx.integer(text, f"{path}.packages")
    if count is None:
        return NOTHING
    item["packages"] = (item["packages"] or 0) + count
    return STORED if _plain(seg, 1) else ONE


def _item_rff(item: dict[str, Any], seg: Segment, ctx: _Ctx, path: str) -> Used:
    ref = _ref(seg)
    item["references"].append(ref)
    if ref["qualifier"] == "HS" and item["hs_code"] is None:
        item["hs_code"] = ref["value"]
    return REF_USED


_ITEM_HANDLERS: dict[str, Callable[[dict[str, Any], Segment, _Ctx, str], Used]] = {
    "FTX": _item_ftx,
    "LOC": _item_loc,
    "MEA": _item_mea,
    "QTY": _item_qty,
    "MOA": _item_moa,
    "PAC": _item_pac,
    "RFF": _item_rff,
}

BGM_DECL_USED = _used("1.0 1.3 2.0 3")
TOD_USED = _used("3.0")
CNT_USED = _used("1.0 1.1")


class _Cusdec:
    """The state of one CUSDEC being read, with one small handler per header segment tag."""

    def __init__(self, msg: Message) -> None:
        rec = _envelope(msg)
        rec.update(
            lrn=None,
            declaration_type=None,
            declaration_type_ext=None,
            message_function=None,
            issue_datetime=None,
            procedure_code=None,
            office_code=None,
            country_of_dispatch=None,
            country_of_destination=None,
            transport_mode=None,
            transport_id=None,
            delivery_terms=None,
            invoice_amount=None,
            invoice_currency=None,
            exchange_rate=None,
            total_duty=None,
            total_duty_currency=None,
            parties=[],
            references=[],
            dates=[],
            declaration_taxes=[],
            items=[],
        )
        self.rec = _quality(rec)
        self.ctx = _Ctx(msg, rec)
        self.ctx_tag = ""  # trigger tag of the current header group ("" = top level)
        self.top_dates: list[tuple[int, dict[str, Any]]] = []
        self.bgm_seen = self.office_from_22 = self.tdt_seen = False

    def bgm(self, seg: Segment) -> Used:
        if self.bgm_seen:
            return NOTHING
        self.bgm_seen = True
        rec = self.rec
        rec["declaration_type"] = _s(component(seg, 1, 0))
        rec["declaration_type_ext"] = _s(component(seg, 1, 3))
        rec["lrn"] = _s(component(seg, 2, 0))
        rec["message_function"] = _s(component(seg, 3))
        return BGM_DECL_USED

    def cst(self, seg: Segment) -> Used:
        if self.rec["procedure_code"] is not None:
            return NOTHING
        hs, _, proc, hs_used, proc_used = _cst_codes(seg)
        self.rec["procedure_code"] = proc or hs
        return proc_used if proc else hs_used

    def loc(self, seg: Segment) -> Used:
        rec = self.rec
        qual, place = component(seg, 1), _s(component(seg, 2, 0))
        if qual == "22" and not self.office_from_22:
            rec["office_code"], self.office_from_22 = place, True
        elif qual == "41" and rec["office_code"] is None:
            rec["office_code"] = place
        elif qual == "35" and rec["country_of_dispatch"] is None:
            rec["country_of_dispatch"] = place
        elif qual == "28" and rec["country_of_destination"] is None:
            rec["country_of_destination"] = place
        else:
            return NOTHING
        return STORED if _plain(seg, 2) else LOC_USED  # ``LOC+35+CN``

    def dtm(self, seg: Segment) -> Used:
        date = _date(seg)
        if self.ctx_tag == "":
            self.top_dates.append((len(self.rec["dates"]), date))
        self.rec["dates"].append(date)
        return STORED if _one_composite(seg, 3) else DATE_USED

    def rff(self, seg: Segment) -> Used:
        self.ctx_tag = "RFF"
        self.rec["references"].append(_ref(seg))
        return STORED if _one_composite(seg, 2) else REF_USED

    def tdt(self, seg: Segment) -> Used:
        self.ctx_tag = "TDT"
        if self.tdt_seen:  # the first TDT is the declared means; later ones are kept raw
            return NOTHING
        self.tdt_seen = True
        id_at = (2, 0) if component(seg, 2).strip() else (8, 0)
        self.rec["transport_id"] = _s(component(seg, *id_at))
        self.rec["transport_mode"] = _s(component(seg, 3, 0))
        return {id_at, (3, 0)}

    def tod(self, seg: Segment) -> Used:
        self.ctx_tag = "TOD"
        terms = _s(component(seg, 3, 0))
        if terms is None or self.rec["delivery_terms"] is not None:
            return NOTHING
        self.rec["delivery_terms"] = terms
        return TOD_USED

    def moa(self, seg: Segment) -> Used:
        self.ctx_tag = "MOA"
        rec = self.rec
        if component(seg, 1, 0) != "39" or rec["invoice_amount"] is not None:
            return NOTHING
        amount = self.ctx.num(component(seg, 1, 1), "invoice_amount")
        if amount is None:
            return NOTHING
        rec["invoice_amount"] = amount
        rec["invoice_currency"] = _s(component(seg, 1, 2)) or rec["invoice_currency"]
        return MOA_USED

    def cux(self, seg: Segment) -> Used:
        self.ctx_tag = "CUX"
        rec = self.rec
        used: set[tuple[int, int]] = set()
        if rec["exchange_rate"] is None:
            rate = self.ctx.num(component(seg, 3), "exchange_rate")
            if rate is not None:
                rec["exchange_rate"] = rate
                used.add((3, 0))
        if rec["invoice_currency"] is None and component(seg, 1, 1).strip():
            rec["invoice_currency"] = component(seg, 1, 1).strip()
            used.add((1, 1))
        return frozenset(used)

    def other(self, seg: Segment) -> Used:
        if seg[0] in ("PAC", "PCI", "DOC", "EFI"):  # other header group triggers
            self.ctx_tag = str(seg[0])
        return NOTHING


_CUSDEC_HEADER: dict[str, Callable[[_Cusdec, Segment], Used]] = {
    "BGM": _Cusdec.bgm,
    "CST": _Cusdec.cst,
    "LOC": _Cusdec.loc,
    "DTM": _Cusdec.dtm,
    "RFF": _Cusdec.rff,
    "TDT": _Cusdec.tdt,
    "TOD": _Cusdec.tod,
    "MOA": _Cusdec.moa,
    "CUX": _Cusdec.cux,
}


def map_cusdec(msg: Message) -> dict[str, Any]:
    """CUSDEC (D96B, D01B, D13B+) -> ``cms_declarations`` record; raises :class:`MappingError`.

    The loop keeps the group state (header / detail / summary, current item, current TAX);
    each segment goes to a small handler that returns the positions it stored.
    """
    state = _Cusdec(msg)
    rec, ctx = state.rec, state.ctx
    items: list[dict[str, Any]] = rec["items"]
    totals: list[tuple[Decimal, str | None]] = []
    phase = "H"  # H header, D detail, S summary
    item: dict[str, Any] | None = None
    item_path = ""
    tax: dict[str, Any] | None = None
    tax_path = ""
    cnt_items: int | None = None
    segs, raws = msg.segments, msg.raws
    unknown = ctx.unknown
    canonical = ctx.canonical
    for k in range(1, len(segs) - 1):
        seg = segs[k]
        tag: str = seg[0]  # type: ignore[assignment]  # a message's tags are valid strings
        if tax is not None:
            if tag == "MOA":
                value = seg[1] if len(seg) == 2 else None
                if type(value) is tuple and len(value) == 3 and canonical and _CANONICAL(value[1]):
                    # ``MOA+161:96888.22:KES``, the most frequent segment: _tax_moa inlined
                    if _tax_moa_plain(tax, value, raws[k], unknown):
                        if value[0] == "176":
                            totals.append((tax["amount"], tax["currency"]))
                        continue
                else:
                    used = _tax_moa(tax, seg, ctx, tax_path)
                    if used:
                        if component(seg, 1, 0) == "176":
                            totals.append((tax["amount"], tax["currency"]))
                        if _leftover(seg, used):
                            unknown.append(raws[k])
                        continue
            elif tag not in ("GIS", "GEI"):
                tax = None
        if tag == "UNS":
            phase = "D" if component(seg, 1) == "D" else "S"
            item = None
            used = STORED if _plain(seg, 1) else ONE
        elif tag == "TAX":
            owner = item["taxes"] if item is not None else rec["declaration_taxes"]
            tax_path = (
                f"{item_path}.taxes[{len(owner)}]"
                if item is not None
                else f"declaration_taxes[{len(owner)}]"
            )
            tax, kept = _tax_kept(seg, raws[k], ctx, tax_path)
            owner.append(tax)
            used = KEPT if kept else STORED
        elif tag == "CST" and phase != "S" and (phase == "D" or component(seg, 1)):
            item_path = f"items[{len(items)}]"
            item, kept = _new_item_kept(seg, raws[k], len(items) + 1, ctx)
            items.append(item)
            used = KEPT if kept else STORED
        elif item is not None:
            handler = _ITEM_HANDLERS.get(tag)
            used = handler(item, seg, ctx, item_path) if handler else NOTHING
        elif phase == "S":
            used = NOTHING
            if tag == "CNT" and component(seg, 1, 0) == "5":
                cnt_items = ctx.integer(component(seg, 1, 1), "CNT+5")
                used = CNT_USED if cnt_items is not None else NOTHING
        elif phase == "D":
            used = NOTHING  # commercial document groups (DMS/LIN...) before the first goods item
        elif tag == "NAD":
            state.ctx_tag = "NAD"
            used = KEPT if _party_kept(seg, raws[k], ctx, rec["parties"]) else STORED
        else:
            used = _CUSDEC_HEADER.get(tag, _Cusdec.other)(state, seg)
        # ctx.keep inlined: this runs for every segment
        if used is KEPT or (used is not STORED and _leftover(seg, used)):
            unknown.append(raws[k])

    if not state.bgm_seen:
        raise MappingError(
            "CUSDEC has no BGM segment: the LRN (BGM C106/1004) is missing",
            field="BGM/C106/1004",
            rule="required",
        )
    if rec["lrn"] is None:
        raise MappingError(
            "BGM document number (C106/1004, the LRN) is missing or empty",
            field="BGM/C106/1004",
            value="",
            rule="required",
        )
    rec["issue_datetime"] = _issue_datetime(state.top_dates, ctx)
    rec["total_duty"], rec["total_duty_currency"] = _total_duty(
        totals, rec["declaration_taxes"], items
    )
    if cnt_items is not None and cnt_items != len(items):
        rec["control_issues"].append(
            f"CNT+5 declares {cnt_items} goods items but the message holds {len(items)}"
        )
    return rec


def _total_duty(
    totals: list[tuple[Decimal, str | None]],
    decl_taxes: list[dict[str, Any]],
    items: list[dict[str, Any]],
) -> tuple[Decimal | None, str | None]:
    if not totals:
        totals = [(t["amount"], t["currency"]) for t in decl_taxes if t["amount"] is not None]
    if not totals:
        totals = [
            (t["amount"], t["currency"])
            for it in items
            for t in it["taxes"]
            if t["amount"] is not None
        ]
    if not totals:
        return None, None
    currency = next((c for _, c in totals if c), None)
    return sum((a for a, _ in totals), Decimal(0)), currency


# --------------------------------------------------------------------------- CUSRES

BGM_RES_USED = _used("1.0 2.0 3")
ERC_USED = _used("1.0")
ERROR_FTX_USED = _used("4.0 4.1 4.2 4.3 4.4")
STATUS_USED = _used("1.0")


def map_cusres(msg: Message) -> dict[str, Any]:
    """CUSRES -> ``cms_responses`` record (errors from ERP/ERC/FTX, taxes from TAX/MOA)."""
    rec = _envelope(msg)
    rec.update(
        document_number=None,
        response_type=None,
        message_function=None,
        issue_datetime=None,
        declaration_ref=None,
        status=None,
        errors=[],
        taxes=[],
        references=[],
        dates=[],
        parties=[],
    )
    ctx = _Ctx(msg, _quality(rec))
    top_dates: list[tuple[int, dict[str, Any]]] = []
    bgm: int | None = None
    bgm_slot = 0
    group_err: _ErrorGroup | None = None
    tax: dict[str, Any] | None = None
    tax_path = ""
    group = ""
    segs, raws = msg.segments, msg.raws
    for k in range(1, len(segs) - 1):
        seg = segs[k]
        tag = str(seg[0])
        if tax is not None:
            if tag == "MOA":
                used = _tax_moa(tax, seg, ctx, tax_path)
                if used:
                    ctx.keep(seg, raws[k], used)
                    continue
            if tag not in ("MOA", "GIS", "GEI"):
                tax = None
        if group_err is not None and tag not in ("RFF", "ERC", "FTX"):
            group_err.close(ctx)
            group_err = None
        used = NOTHING
        if tag == "BGM" and bgm is None:
            bgm, bgm_slot = k, len(ctx.unknown)  # its 4343 may become the status: see below
            rec["response_type"] = _s(component(seg, 1, 0))
            rec["document_number"] = _s(component(seg, 2, 0))
            rec["message_function"] = _s(component(seg, 3))
            continue
        if tag == "ERP":
            group_err = _ErrorGroup(rec["errors"], seg, raws[k], len(ctx.unknown))
            continue  # kept or not once the group is read (see _ErrorGroup.close)
        if group_err is not None and tag == "RFF":
            used = group_err.rff(seg)
        elif tag == "ERC":
            used = (group_err or _ErrorGroup(rec["errors"])).erc(seg)
        elif group_err is not None and tag == "FTX":
            used = group_err.ftx(seg)
        elif tag == "TAX":
            tax_path = f"taxes[{len(rec['taxes'])}]"
            tax, kept = _tax_kept(seg, raws[k], ctx, tax_path)
            rec["taxes"].append(tax)
            used = KEPT if kept else STORED
        elif tag in ("GIS", "GEI") and rec["status"] is None and tax is None:
            rec["status"] = _s(component(seg, 1, 0))
            used = STATUS_USED
        elif tag == "RFF":
            group = tag
            ref = _ref(seg)
            rec["references"].append(ref)
            if ref["qualifier"] == "ABT" and rec["declaration_ref"] is None:
                rec["declaration_ref"] = ref["value"]
            used = REF_USED
        elif tag == "DTM":
            date = _date(seg)
            if group == "":
                top_dates.append((len(rec["dates"]), date))
            rec["dates"].append(date)
            used = DATE_USED
        elif tag == "NAD":
            group = tag
            used = KEPT if _party_kept(seg, raws[k], ctx, rec["parties"]) else STORED
        elif tag in ("DOC", "CST", "AUT"):
            group = tag
        ctx.keep(seg, raws[k], used)
    if group_err is not None:
        group_err.close(ctx)
    if bgm is None:
        raise MappingError("CUSRES has no BGM segment", field="BGM", rule="required")
    bgm_used = BGM_RES_USED
    if rec["status"] is None and component(segs[bgm], 4).strip():
        rec["status"] = _s(component(segs[bgm], 4))
        bgm_used = bgm_used | {(4, 0)}
    if _leftover(segs[bgm], bgm_used):
        ctx.unknown.insert(bgm_slot, raws[bgm])
    if rec["status"] is None:
        rec["status"] = rec["message_function"]
    rec["issue_datetime"] = _issue_datetime(top_dates, ctx)
    return rec


class _ErrorGroup:
    """One ERP group of a CUSRES: ERP (error point) - RFF (error reference) - ERC - FTX.

    The reference of its errors is the RFF's, else the ERP's error point. The ERP is kept in
    ``unknown_segments`` (where it stood) when no error took its text as reference.
    """

    def __init__(
        self,
        errors: list[dict[str, Any]],
        erp: Segment | None = None,
        raw: str = "",
        slot: int = 0,
    ) -> None:
        self.errors = errors
        self.point = _s(":".join(components(erp, 1))) if erp is not None else None
        self.raw, self.slot = raw, slot
        self.erp = erp
        self.ref = self.point
        self.pending: list[dict[str, Any]] = []

    def rff(self, seg: Segment) -> Used:
        self.ref = _s(component(seg, 1, 1)) or self.ref
        for err in self.pending:
            err["reference"] = err["reference"] or self.ref
        return _used("1.1")

    def erc(self, seg: Segment) -> Used:
        err = {"code": _s(component(seg, 1, 0)), "reference": self.ref, "text": None}
        self.errors.append(err)
        self.pending.append(err)
        return ERC_USED

    def ftx(self, seg: Segment) -> Used:
        """The text of the last ERC (or an error of its own)."""
        text = " ".join(p for p in components(seg, 4) if p) or None
        if not self.pending:
            err = {"code": None, "reference": self.ref, "text": None}
            self.errors.append(err)
            self.pending.append(err)
        target = self.pending[-1]
        if text:
            target["text"] = f"{target['text']} {text}" if target["text"] else text
        # AAO (error description) says what the column says; another subject is kept.
        return ERROR_FTX_USED | {(1, 0)} if component(seg, 1) == "AAO" else ERROR_FTX_USED

    def close(self, ctx: _Ctx) -> None:
        if self.erp is None:
            return
        used = self.point is not None and any(e["reference"] == self.point for e in self.pending)
        if _leftover(self.erp, _consumed(self.erp, 1, 0, 9) if used else NOTHING):
            ctx.unknown.insert(self.slot, self.raw)


# --------------------------------------------------------------------------- CUSCAR

BGM_CAR_USED = _used("1.0 2.0 3")
CNI_USED = _used("1 2.0")
EQD_USED = _used("1 2.0")
SEL_USED = _used("1.0")
GOODS_MEA_USED = _used("1 2.0 3.0 3.1")


class _Cuscar:
    """The state of one CUSCAR being read, with one small handler per segment tag.

    Groups are told apart by their trigger: before the first ``CNI`` a segment belongs to the
    header (``TDT`` transport, ``EQD`` equipment), after it to the current consignment, and
    after a ``GID`` to the current goods item.
    """

    def __init__(self, msg: Message) -> None:
        rec = _envelope(msg)
        rec.update(
            document_number=None,
            message_function=None,
            issue_datetime=None,
            transport_mode=None,
            conveyance_id=None,
            carrier_id=None,
            place_of_loading=None,
            place_of_discharge=None,
            parties=[],
            references=[],
            equipment=[],
            consignments=[],
            document_type=None,
            voyage_number=None,
            conveyance_name=None,
        )
        self.rec = _quality(rec)
        self.ctx = _Ctx(msg, rec)
        self.group = ""
        self.bgm_seen = False
        self.equipment: dict[str, Any] | None = None
        self.consignment: dict[str, Any] | None = None
        self.goods: dict[str, Any] | None = None
        self.path = ""  # field path of the current consignment / goods item

    def handle(self, seg: Segment) -> Used:
        tag = str(seg[0])
        if self.goods is not None and tag in _GOODS_HANDLERS:
            return _GOODS_HANDLERS[tag](self, seg)
        if self.consignment is not None:
            return _CONSIGNMENT_HANDLERS.get(tag, _Cuscar.nothing)(self, seg)
        return _HEADER_HANDLERS.get(tag, _Cuscar.nothing)(self, seg)

    def nothing(self, seg: Segment) -> Used:
        return NOTHING

    # header --------------------------------------------------------------------------
    def bgm(self, seg: Segment) -> Used:
        if self.bgm_seen:
            return NOTHING
        self.bgm_seen = True
        self.rec["document_type"] = _s(component(seg, 1, 0))
        self.rec["document_number"] = _s(component(seg, 2, 0))
        self.rec["message_function"] = _s(component(seg, 3))
        return BGM_CAR_USED

    def tdt(self, seg: Segment) -> Used:
        """TDT: 8051 stage, 8028 voyage, C220 mode, C228, C040 carrier, ..., C222 conveyance.

        A field already filled is never overwritten (a later TDT without a carrier must not
        erase one); a differing value then stays in ``unknown_segments``.
        """
        self.group = "TDT"
        used: set[tuple[int, int]] = set()
        for column, at in _TDT_FIELDS:
            value = _s(component(seg, *at))
            if value is None:
                continue
            if self.rec[column] is None:
                self.rec[column] = value
            if self.rec[column] == value:
                used.add(at)
        return frozenset(used)

    def loc(self, seg: Segment) -> Used:
        if self.group not in ("", "TDT"):
            return NOTHING
        qual, place = component(seg, 1), _s(component(seg, 2, 0))
        if qual == "9" and self.rec["place_of_loading"] is None:
            self.rec["place_of_loading"] = place
        elif qual in ("11", "12") and self.rec["place_of_discharge"] is None:
            self.rec["place_of_discharge"] = place
        else:
            return NOTHING
        return LOC_USED

    def dtm(self, seg: Segment) -> Used:
        """DTM 137/182 at the top: the issue date (the table has no other date column)."""
        qual, value, fmt = component(seg, 1, 0), component(seg, 1, 1), component(seg, 1, 2)
        if self.group not in ("", "TDT") or qual not in ("137", "182"):
            return NOTHING
        if self.rec["issue_datetime"] is not None:
            return NOTHING
        parsed = parse_edifact_date(value, fmt)
        if parsed is None:
            self.ctx.flag("unparseable-date", "issue_datetime", f"{value!r} kept in unknown")
            return NOTHING
        if fmt in ("303", "304"):  # the zone is folded into UTC: keep what was written
            self.ctx.literals["issue_datetime"] = value
        self.rec["issue_datetime"] = parsed
        return DATE_USED

    def nad(self, seg: Segment) -> Used:
        if self.group == "EQD":
            return NOTHING
        parties = self.rec["parties"]
        party, used = _party(seg, self.ctx, f"parties[{len(parties)}]")
        parties.append(party)
        return used

    def rff(self, seg: Segment) -> Used:
        self.rec["references"].append(_ref(seg))
        return REF_USED

    def eqd(self, seg: Segment) -> Used:
        self.group = "EQD"
        self.equipment = None
        if component(seg, 1) != "CN" or not component(seg, 2, 0).strip():
            return NOTHING
        self.equipment = {"container_id": component(seg, 2, 0).strip(), "seal_ids": []}
        self.rec["equipment"].append(self.equipment)
        return EQD_USED

    def sel(self, seg: Segment) -> Used:
        seal = _s(component(seg, 1, 0))
        if self.group != "EQD" or self.equipment is None or seal is None:
            return NOTHING
        self.equipment["seal_ids"].append(seal)
        return SEL_USED

    # consignment ---------------------------------------------------------------------
    def cni(self, seg: Segment) -> Used:
        consignments = self.rec["consignments"]
        self.path = f"consignments[{len(consignments)}]"
        number = self.ctx.integer(component(seg, 1), f"{self.path}.consignment_no")
        self.consignment = {
            "consignment_no": number or len(consignments) + 1,
            "transport_document": _s(component(seg, 2, 0)),
            "consignor_id": None,
            "consignee_id": None,
            "goods": [],
            "parties": [],
        }
        consignments.append(self.consignment)
        self.group, self.goods = "CNI", None
        return CNI_USED if number is not None else _used("2.0")

    def consignment_nad(self, seg: Segment) -> Used:
        """Every NAD of a consignment is kept whole; CZ/CN also fill consignor/consignee."""
        assert self.consignment is not None
        parties = self.consignment["parties"]
        party, used = _party(seg, self.ctx, f"{self.path}.parties[{len(parties)}]")
        parties.append(party)
        key = {"CZ": "consignor_id", "CN": "consignee_id"}.get(party["role"] or "")
        if key is not None and self.consignment[key] is None:
            self.consignment[key] = party["id"]
        return used

    def consignment_rff(self, seg: Segment) -> Used:
        assert self.consignment is not None
        ref = _ref(seg)
        if ref["qualifier"] == "BM" and (
            self.consignment["transport_document"] is None or self.group == "CNI"
        ):
            if self.consignment["transport_document"] is not None:
                # CNI 1188 and RFF+BM both given: the B/L wins, the CNI document stays a ref
                self.rec["references"].append(
                    {"qualifier": None, "value": self.consignment["transport_document"]}
                )
            self.consignment["transport_document"] = ref["value"]
        else:
            self.rec["references"].append(ref)
        return REF_USED

    def gid(self, seg: Segment) -> Used:
        assert self.consignment is not None
        goods_list = self.consignment["goods"]
        path = f"{self.path}.goods[{len(goods_list)}]"
        number = self.ctx.integer(component(seg, 1), f"{path}.item_no")
        packages = self.ctx.integer(component(seg, 2, 0), f"{path}.packages")
        self.goods = {
            "item_no": number or len(goods_list) + 1,
            "description": None,
            "hs_code": None,
            "packages": packages,
            "gross_mass": None,
            "mass_unit": None,
        }
        goods_list.append(self.goods)
        self.group = "GID"
        used = set()
        if number is not None:
            used.add((1, 0))
        if packages is not None:
            used.add((2, 0))
        return frozenset(used)

    # goods item ----------------------------------------------------------------------
    def goods_ftx(self, seg: Segment) -> Used:
        assert self.goods is not None
        if component(seg, 1) not in ("AAA", ""):
            return NOTHING
        path = f"{self._goods_path()}.description"
        text = self.ctx.joined(_composite(seg, 4, 0, 4), path)
        if text is None:
            return NOTHING
        if self.goods["description"] is not None:
            self.ctx.literals.pop(path, None)
            text = f"{self.goods['description']} {text}"
        self.goods["description"] = text
        return FTX_USED

    def goods_mea(self, seg: Segment) -> Used:
        assert self.goods is not None
        purpose, dim = component(seg, 1), component(seg, 2, 0)
        if self.goods["gross_mass"] is not None or dim not in _GROSS:
            return NOTHING
        if purpose not in ("WT", "AAE", ""):
            return NOTHING
        value = self.ctx.num(component(seg, 3, 1), f"{self._goods_path()}.gross_mass")
        if value is None:
            return NOTHING
        self.goods["gross_mass"], self.goods["mass_unit"] = value, _s(component(seg, 3, 0))
        return GOODS_MEA_USED

    def goods_pac(self, seg: Segment) -> Used:
        assert self.goods is not None
        if self.goods["packages"] is not None:
            return NOTHING
        count = self.ctx.integer(component(seg, 1), f"{self._goods_path()}.packages")
        if count is None:
            return NOTHING
        self.goods["packages"] = count
        return ONE

    def goods_cst(self, seg: Segment) -> Used:
        assert self.goods is not None
        hs, _, _, hs_used, _ = _cst_codes(seg)
        if self.goods["hs_code"] is not None or hs is None:
            return NOTHING
        self.goods["hs_code"] = hs
        return hs_used

    def goods_pia(self, seg: Segment) -> Used:
        """PIA: 4347 function (1 additional / 5 product id) + C212 (7140 number : 7143 type)."""
        assert self.goods is not None
        if self.goods["hs_code"] is not None:
            return NOTHING
        for i in range(2, min(len(seg), 7)):
            kind = component(seg, i, 1)
            if kind in ("HS", "") and component(seg, i, 0).strip():
                self.goods["hs_code"] = component(seg, i, 0).strip()
                used = {(i, 0), (i, 1)}
                if component(seg, 1) in ("1", "5"):  # only says "this is a product id"
                    used.add((1, 0))
                return frozenset(used)
        return NOTHING

    def _goods_path(self) -> str:
        assert self.consignment is not None
        return f"{self.path}.goods[{len(self.consignment['goods']) - 1}]"


# (column, (element, component)) read from a TDT, in order.
_TDT_FIELDS = (
    ("voyage_number", (2, 0)),
    ("transport_mode", (3, 0)),
    ("carrier_id", (5, 0)),
    ("conveyance_id", (8, 0)),
    ("conveyance_name", (8, 3)),
)

_HEADER_HANDLERS: dict[str, Callable[[_Cuscar, Segment], Used]] = {
    "BGM": _Cuscar.bgm,
    "TDT": _Cuscar.tdt,
    "LOC": _Cuscar.loc,
    "DTM": _Cuscar.dtm,
    "NAD": _Cuscar.nad,
    "RFF": _Cuscar.rff,
    "EQD": _Cuscar.eqd,
    "SEL": _Cuscar.sel,
    "CNI": _Cuscar.cni,
}
_CONSIGNMENT_HANDLERS: dict[str, Callable[[_Cuscar, Segment], Used]] = {
    "CNI": _Cuscar.cni,
    "GID": _Cuscar.gid,
    "NAD": _Cuscar.consignment_nad,
    "RFF": _Cuscar.consignment_rff,
}
_GOODS_HANDLERS: dict[str, Callable[[_Cuscar, Segment], Used]] = {
    "FTX": _Cuscar.goods_ftx,
    "MEA": _Cuscar.goods_mea,
    "PAC": _Cuscar.goods_pac,
    "CST": _Cuscar.goods_cst,
    "PIA": _Cuscar.goods_pia,
}


def map_cuscar(msg: Message) -> dict[str, Any]:
    """CUSCAR -> ``cms_cargo_reports`` record (transport, equipment, consignments, goods)."""
    state = _Cuscar(msg)
    segs, raws = msg.segments, msg.raws
    for k in range(1, len(segs) - 1):
        state.ctx.keep(segs[k], raws[k], state.handle(segs[k]))
    rec = state.rec
    if not state.bgm_seen:
        raise MappingError("CUSCAR has no BGM segment", field="BGM", rule="required")
    if rec["carrier_id"] is None:  # no carrier in TDT: the carrier party, if any
        rec["carrier_id"] = next((p["id"] for p in rec["parties"] if p["role"] == "CA"), None)
    return rec


# --------------------------------------------------------------------------- entry points

_MAPPERS: dict[str, Callable[[Message], dict[str, Any]]] = {
    "CUSDEC": map_cusdec,
    "CUSRES": map_cusres,
    "CUSCAR": map_cuscar,
}

# UNCL 1001 document name codes (BGM C002) that name each mapped message's document.
_TYPE_BY_DOCUMENT: dict[str, str] = {
    **dict.fromkeys(("85", "785", "786", "788", "833", "933"), "CUSCAR"),
    **dict.fromkeys(
        ("830", "913", "914", "915", "929", "930", "931", "936", "950", "960"), "CUSDEC"
    ),
    **dict.fromkeys(("961", "962", "963", "964", "965"), "CUSRES"),
}
# Segments only one of the mapped messages uses, in the order they are trusted.
_TYPE_BY_SEGMENT = (
    (("ERP", "ERC"), "CUSRES"),
    (("CNI", "GID"), "CUSCAR"),
    (("CST", "TAX"), "CUSDEC"),
)


def infer_message_type(msg: Message) -> tuple[str, str] | None:
    """(type, evidence) for a message whose UNH leaves the type out; None when nothing says.

    BGM's document name code decides first (it names the document); otherwise segments that
    only one mapped message type carries.
    """
    bgm = next((s for s in msg.segments if s[0] == "BGM"), None)
    if bgm is not None:
        code = component(bgm, 1, 0).strip()
        if code in _TYPE_BY_DOCUMENT:
            return _TYPE_BY_DOCUMENT[code], f"BGM {code}"
    tags = {s[0] for s in msg.segments}
    for wanted, mtype in _TYPE_BY_SEGMENT:
        found = sorted(t for t in wanted if t in tags)
        if found:
            return mtype, f"segment {found[0]}"
    return None


def map_message(msg: Message) -> Outcome:
    """Map one syntax-level message to its bronze record (or a rejection)."""
    mtype, inferred = msg.message_type.strip(), None
    if not mtype:
        inferred = infer_message_type(msg)
        if inferred is not None:
            mtype = inferred[0]
    mapper = _MAPPERS.get(mtype)
    if mapper is None:
        known = ", ".join(sorted(_MAPPERS))
        what = msg.message_type or "(none, and neither BGM nor the segments tell)"
        return Rejected(
            msg.index,
            msg.raw,
            E_UNSUPPORTED,
            f"message type {what} ({msg.directory_version or '?'}) in message "
            f"{msg.reference!r} is not mapped; mapped types: {known}",
            msg.message_type or None,
            field="UNH/S009/0065",
            value=msg.message_type,
            rule="mapped-message-type",
        )
    try:
        record = mapper(msg)
    except MappingError as exc:
        return Rejected(
            msg.index,
            msg.raw,
            E_MAPPING,
            f"{mtype} message {msg.reference!r}: {exc}",
            mtype,
            field=exc.field,
            value=exc.value,
            rule=exc.rule,
        )
    if inferred is not None:
        record["message_type"] = mtype
        record["source_literals"]["message_type"] = msg.message_type
        record["flags"].append(
            f"inferred-message-type UNH/S009/0065: {msg.message_type!r} inferred {mtype} "
            f"from {inferred[1]}"
        )
    return ParsedRecord(TABLE_BY_MESSAGE_TYPE[mtype], msg.index, record)


def parse_edifact_file(data: bytes, source: str, *, strict: bool = False) -> Iterator[Outcome]:
    """Parse one landed EDIFACT file into outcomes, one per message (``FileParser``).

    ``source`` is only used by callers for context (reasons are self-contained); ``strict``
    rejects messages whose UNT/UNE/UNZ counts or references do not match.
    """
    for item in iter_messages(data, strict=strict):
        if isinstance(item, SyntaxProblem):
            yield Rejected(
                item.index,
                item.raw,
                item.error_code,
                item.reason,
                item.message_type,
                field=item.field,
                value=item.value,
                rule=item.rule,
            )
        else:
            yield map_message(item)
