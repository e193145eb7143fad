"""UN/EDIFACT syntax layer (ISO 9735): bytes in, envelope-checked messages out.

Why our own parser rather than pydifact: the lakehouse needs (1) speed (hundreds of MB of
CUSDEC per day on a single core: the fast path below is >10x pydifact, see
``benchmarks/bench_edifact_vs_pydifact.py``), (2) per-message failure isolation (a broken
message is an outcome, the messages beside it still load) and (3) explicit, documented policies
for the deviations real files carry (see ``/work/shared/FORMATS.md`` §1.1, reference only).

This module knows nothing about customs: :mod:`lakehouse.formats.customs_edifact` maps the
messages it yields to bronze records.

Representation (cheap on purpose)
    A *segment* is a tuple: ``seg[0]`` is the tag, ``seg[i]`` is data element *i* (1-based, as
    in the directories). An element is a ``str`` (simple, or a composite with one component) or
    a ``tuple`` of component strings (composite). In syntax version >= 4 a repeated element is a
    :class:`Repetition` (a tuple subclass) of such elements. Trailing elements/components the
    sender omitted are simply absent; interior empties are ``""``. Use :func:`element` and
    :func:`component` to read them without index errors.

Syntax policies (the standard leaves these open or real files break it)
    * UNA is optional; without it the ISO 9735 level-A defaults ``:`` ``+`` ``.`` ``?`` ``*``
      ``'`` apply (the repetition separator only matters in syntax version >= 4). A file whose
      UNB starts ``UNB<IS3>`` uses the level-B information separators (IS1/IS3/IS4, no
      release character). A UNA release (or repetition) position holding a space means
      "not used".
    * Several interchanges may be concatenated in one file, each with its own UNA; a UTF-8
      byte-order mark before any UNA/UNB is skipped.
    * Line breaks (CR, LF) are never data unless declared as a service character: they are
      removed before tokenising (this also re-joins lines wrapped at a fixed width). Hence a
      release character right before a line break releases the first character after the
      break. Spaces/tabs before a segment tag are not data either.
    * The release character makes the next character literal: ``??'`` is a literal ``?`` and a
      segment end, ``???'`` is a literal ``?'``. A release before an ordinary character is
      tolerated: the ``?`` is dropped and the character kept. A release character as the very
      last character of the input is kept as a literal.
    * The repetition separator splits only when UNB declares syntax version >= 4 (files that
      declare ``*`` in a v3 UNA and use it as data stay intact); ``?*`` is a literal ``*``.
    * A final segment without its terminator at end of input is accepted.
    * Character sets: the interchange is decoded after reading UNB S001 (see
      :data:`CHARSETS`). An interchange declared with a single-byte charset (UNOA..UNOK) whose
      bytes are valid UTF-8 containing non-ASCII is decoded as UTF-8 and a control issue says
      so. When the interchange's bytes are invalid for the declared charset it is framed as
      ISO 8859-1 (one byte, one character) and each message is decoded alone: only a message
      holding a bad byte is rejected (``E_ENCODING``, raw = its bytes as ISO 8859-1, the reason
      names the file offset and the charset); the UNZ count still counts it. An unknown
      charset, or no UNB at all, is decoded as UTF-8, else ISO 8859-1, with an issue.
    * A UNA that declares one character for two roles (ISO 9735: the service characters are
      distinct; the decimal mark may not be a separator either), a letter or digit, or that is
      cut short rejects its whole interchange as one ``E_SYNTAX`` piece (raw = the
      interchange): nothing in it can be split reliably, and nothing of it is loaded with
      other separators. The piece consumes one index per UNH in it.
    * Control counts/references (UNT, UNE, UNZ) that do not match are recorded on the message
      (``control_issues``) and are not fatal; with ``strict=True`` such messages are rejected
      (``E_CONTROL_COUNT``). A missing UNE/UNZ is recorded likewise (``E_ENVELOPE`` when
      strict). Encoding notes are never fatal.
    * A message without UNT (truncated, or followed by UNH/UNE/UNZ/next UNB) is rejected
      ``E_ENVELOPE``; a message containing an invalid segment tag is rejected ``E_SYNTAX``;
      content after UNZ, or segments outside any message, is rejected as one piece.
    * ``message_index`` counts every UNH in the file, across interchanges. A rejected piece that
      is not a message (junk, a whole undecodable interchange) takes the next index; an
      undecodable interchange consumes as many indices as it has UNH segments (at least one),
      so later messages keep stable indices.
    * ``raw`` of a message (and of any rejected piece) is the original text from its UNH to
      its UNT terminator: the sender's separators, release characters and line breaks. The
      fast path keeps no offsets; :class:`SourceText` computes them once per interchange when
      a rejection asks for one (:func:`segment_spans` mirrors the tokenizer's rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate, compress, repeat
from operator import contains

from lakehouse.formats.base import (
    E_CONTROL_COUNT,
    E_EMPTY,
    E_ENCODING,
    E_ENVELOPE,
    E_SYNTAX,
)

__all__ = [
    "CHARSETS",
    "DEFAULT_DELIMITERS",
    "LEVEL_B_DELIMITERS",
    "Delimiters",
    "EdifactError",
    "Element",
    "Interchange",
    "Message",
    "Repetition",
    "Segment",
    "SourceText",
    "SyntaxProblem",
    "component",
    "components",
    "element",
    "iter_messages",
    "segment_spans",
    "to_decimal",
    "tokenize",
]


class EdifactError(ValueError):
    """Invalid EDIFACT service data handed to a helper (e.g. a malformed UNA).

    Defined here rather than in :mod:`lakehouse.errors` (owned elsewhere); :func:`iter_messages`
    never lets it escape: bad input becomes a :class:`SyntaxProblem`. ``rule`` is the short
    stable name of the rule broken (written to the quarantine ``rule`` column).
    """

    def __init__(self, message: str, rule: str = "syntax") -> None:
        super().__init__(message)
        self.rule = rule


class Repetition(tuple):
    """The repetitions of one data element (syntax version >= 4 only)."""

    __slots__ = ()


Element = str | tuple[str, ...] | Repetition
Segment = tuple[Element, ...]

# ISO 9735 S001/0001 syntax identifier -> Python codec.
CHARSETS: dict[str, str] = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "latin-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOG": "iso8859-3",
    "UNOH": "iso8859-4",
    "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8",
    "UNOK": "iso8859-9",
    "UNOY": "utf-8",
    "UNOW": "utf-8",
    "KECA": "euc-kr",
}
_UTF8_CHARSETS = frozenset({"utf-8"})

_BOM = "\xef\xbb\xbf"  # the UTF-8 BOM as seen through a latin-1 decode
_WS = " \t\r\n\f\v"
_TAG_RE = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
# Private-use code points standing for released service characters while splitting.
_S_COMP, _S_ELEM, _S_REL, _S_REP, _S_TERM = "\ue000", "\ue001", "\ue002", "\ue003", "\ue004"
_SENTINEL_RE = re.compile("[\ue000-\ue004]")


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The six service characters (UNA). ``release``/``repetition`` are ``""`` when unused."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = "*"
    terminator: str = "'"

    @classmethod
    def from_una(cls, una: str) -> Delimiters:
        """Build from the 6 characters after ``UNA`` (or the 9-char UNA itself)."""
        if una.startswith("UNA"):
            una = una[3:]
        if len(una) < 6:
            raise EdifactError(f"UNA service string advice too short: {una!r}", "una-length")
        comp, elem, dec, rel, rep, term = una[0], una[1], una[2], una[3], una[4], una[5]
        d = cls(
            comp,
            elem,
            dec,
            "" if rel == " " else rel,
            "" if rep == " " else rep,
            term,
        )
        used = [c for c in (comp, elem, d.release, d.repetition, term) if c]
        if len(set(used)) != len(used) or dec in (comp, elem, term):
            # ISO 9735 §7: the service characters must be distinct; a repeated one makes every
            # split ambiguous, so no reading of the interchange can be trusted.
            raise EdifactError(
                f"UNA declares the same character for two roles: {una[:6]!r} (ISO 9735 requires "
                "distinct service characters)",
                "distinct-service-characters",
            )
        if any(c.isalnum() for c in used):
            raise EdifactError(
                f"UNA declares a letter or digit as separator: {una[:6]!r}",
                "separator-not-alphanumeric",
            )
        return d

    def una(self) -> str:
        """The UNA segment text for these delimiters."""
        return (
            f"UNA{self.component}{self.element}{self.decimal}{self.release or ' '}"
            f"{self.repetition or ' '}{self.terminator}"
        )


DEFAULT_DELIMITERS = Delimiters()
# ISO 9735 level B defaults: IS1 component, IS3 element, IS4 terminator, IS2 repetition.
LEVEL_B_DELIMITERS = Delimiters("\x1f", "\x1d", ".", "", "\x1e", "\x1c")


# --------------------------------------------------------------------------- small helpers


def element(seg: Segment, index: int) -> Element:
    """Data element ``index`` (1-based) of ``seg``; ``""`` when omitted.

    Repeated elements (v4) return their first repetition.
    """
    if index >= len(seg):
        return ""
    value = seg[index]
    if type(value) is Repetition:
        return value[0] if value else ""
    return value


def component(seg: Segment, index: int, comp: int = 0) -> str:
    """Component ``comp`` (0-based) of data element ``index`` (1-based); ``""`` when omitted."""
    # element() inlined: the mappers call this about 120 times per declaration.
    if index >= len(seg):
        return ""
    value = seg[index]
    if type(value) is str:
        return value if comp == 0 else ""
    if type(value) is Repetition:
        if not value:
            return ""
        value = value[0]
        if type(value) is str:
            return value if comp == 0 else ""
    return value[comp] if comp < len(value) else ""


def components(seg: Segment, index: int) -> tuple[str, ...]:
    """All components of data element ``index`` as a tuple (a simple element gives 1-tuple)."""
    value = element(seg, index)
    if type(value) is str:
        return (value,) if value else ()
    return value  # type: ignore[return-value]


def to_decimal(value: str, decimal_mark: str = ".") -> Decimal | None:
    """Parse an EDIFACT numeric value; ``None`` when empty or not an EDIFACT number.

    Both the UNA decimal mark and the full stop are accepted (ISO 9735 allows either mark);
    a leading mark (``.5``, ``,5``) and a leading sign are fine. Exponents, ``NaN``,
    ``Infinity``, thousands separators and non-ASCII digits are not EDIFACT numbers.
    """
    value = value.strip()
    if not value:
        return None
    if decimal_mark != "." and decimal_mark in value:
        value = value.replace(decimal_mark, ".")
    elif "," in value:
        value = value.replace(",", ".")
    if not _NUMBER_RE.match(value):
        return None
    return Decimal(value)


# --------------------------------------------------------------------------- tokenizer


def _protect_table(d: Delimiters) -> dict[str, str]:
    table = {d.component: _S_COMP, d.element: _S_ELEM, d.terminator: _S_TERM}
    if d.release:
        table[d.release] = _S_REL
    if d.repetition:
        table[d.repetition] = _S_REP
    return table


def _restore_tables(d: Delimiters) -> tuple[dict[int, str], dict[int, str]]:
    """(sentinel -> literal char, sentinel -> released char as written) translate tables."""
    literal = {
        ord(_S_COMP): d.component,
        ord(_S_ELEM): d.element,
        ord(_S_TERM): d.terminator,
        ord(_S_REL): d.release,
        ord(_S_REP): d.repetition,
    }
    rel = d.release
    written = {k: rel + v for k, v in literal.items()}
    return literal, written


def _split_repeated(seg: Segment, rep: str, comp: str) -> Segment:
    out: list[Element] = [seg[0]]
    for value in seg[1:]:
        text = value if type(value) is str else comp.join(value)
        if rep in text:
            out.append(
                Repetition(tuple(x.split(comp)) if comp in x else x for x in text.split(rep))
            )
        else:
            out.append(value)
    return tuple(out)


def _translate(seg: Segment, table: dict[int, str]) -> Segment:
    out: list[Element] = []
    for value in seg:
        if type(value) is str:
            out.append(value.translate(table))
        elif type(value) is Repetition:
            out.append(
                Repetition(
                    v.translate(table) if type(v) is str else tuple(c.translate(table) for c in v)
                    for v in value
                )
            )
        else:
            out.append(tuple(c.translate(table) for c in value))
    return tuple(out)


def tokenize(
    text: str, delimiters: Delimiters = DEFAULT_DELIMITERS, *, repetition: bool = False
) -> tuple[list[Segment], list[str]]:
    """Split EDIFACT text (without its UNA) into segments and their source texts.

    Returns ``(segments, raws)``, parallel lists; ``raws[i]`` is segment *i* as written (without
    terminator and leading whitespace). ``repetition=True`` splits repeated elements (only for
    syntax version >= 4). Tags are not validated here (see :func:`iter_messages`).

    Fast path: when the release character does not occur, plain ``str.split`` does all the
    work. Otherwise one regex pass swaps each released character for a private-use sentinel,
    the same splits run, and only segments holding a sentinel are translated back.
    """
    d = delimiters
    service = (d.component, d.element, d.terminator, d.release, d.repetition)
    if ("\n" in text and "\n" not in service) or ("\r" in text and "\r" not in service):
        if "\n" not in service:
            text = text.replace("\n", "")
        if "\r" not in service:
            text = text.replace("\r", "")
    rel = d.release
    released = bool(rel) and rel in text
    if released:
        table = _protect_table(d)
        text = re.sub(
            re.escape(rel) + "(.)",
            lambda m: table.get(m.group(1), m.group(1)),
            text,
            flags=re.S,
        )
    comp, elem, term = d.component, d.element, d.terminator
    rep = d.repetition if repetition else ""
    segments: list[Segment] = []
    raws: list[str] = []
    seg_append = segments.append
    raw_append = raws.append
    if not released and not rep:
        # The common case, in bulk: blank pieces dropped in C, one comprehension builds all.
        raws = list(filter(None, map(str.lstrip, text.split(term))))
        segments = [
            tuple([tuple(x.split(comp)) if comp in x else x for x in s.split(elem)])
            if comp in s
            else tuple(s.split(elem))
            for s in raws
        ]
        return segments, raws

    literal, written = _restore_tables(d) if released else ({}, {})
    search = _SENTINEL_RE.search
    for piece in text.split(term):
        s = piece.lstrip()
        if not s:
            continue
        if comp in s:
            seg = tuple([tuple(x.split(comp)) if comp in x else x for x in s.split(elem)])
        else:
            seg = tuple(s.split(elem))
        if rep and rep in s:
            seg = _split_repeated(seg, rep, comp)
        # str.isascii() is O(1) in CPython: sentinels are non-ASCII, so most segments skip
        # the regex search entirely.
        if released and not s.isascii() and search(s):
            seg = _translate(seg, literal)
            s = s.translate(written)
        raw_append(s)
        seg_append(seg)
    return segments, raws


# --------------------------------------------------------------------------- envelope model


@dataclass(slots=True)
class Interchange:
    """What UNB says about an interchange (all raw strings, ``""`` when absent)."""

    syntax_id: str = ""
    syntax_version: str = ""
    sender_id: str = ""
    sender_qualifier: str = ""
    recipient_id: str = ""
    recipient_qualifier: str = ""
    date: str = ""
    time: str = ""
    reference: str = ""
    test_indicator: str = ""
    encoding: str = ""
    delimiters: Delimiters = DEFAULT_DELIMITERS
    has_una: bool = False


@dataclass(slots=True)
class Message:
    """One UNH...UNT message that is well-formed at syntax level.

    ``segments`` and ``raws`` include UNH and UNT. ``interchange`` is ``None`` for a message
    without UNB envelope; ``group_ref`` is set when the message sits in a UNG...UNE group.
    """

    index: int
    reference: str
    message_type: str
    version: str
    release: str
    agency: str
    association: str
    segments: list[Segment]
    raws: list[str]
    delimiters: Delimiters
    interchange: Interchange | None = None
    group_ref: str | None = None
    control_issues: list[str] = field(default_factory=list)
    # Issues that make the message fail in strict mode, with the code it fails with.
    strict_failures: list[tuple[str, str]] = field(default_factory=list)
    # Where the message's own text lives: segment ``first`` of ``source`` is its UNH.
    source: SourceText | None = None
    first: int = 0

    @property
    def directory_version(self) -> str:
        """``D96B`` from UNH S009 0052 ``D`` + 0054 ``96B`` (``""`` when absent)."""
        return f"{self.version}{self.release}"

    @property
    def raw(self) -> str:
        """The message exactly as the sender wrote it, from its UNH to its UNT terminator.

        Computed on demand (only rejected messages need it), so the fast path keeps no offsets.
        """
        if self.source is None:
            term = self.delimiters.terminator
            return "".join(f"{r}{term}" for r in self.raws)
        return self.source.text_of(self.first, self.first + len(self.segments) - 1)


class SourceText:
    """The decoded text one list of segments was tokenised from, with lazy segment offsets.

    Why lazy: the tokenizer's fast path (``str.split``) keeps no positions; only a rejected
    message needs its original text, so offsets are computed once per interchange, and only
    when something asks for them.
    """

    __slots__ = ("_spans", "delimiters", "text")

    def __init__(self, text: str, delimiters: Delimiters) -> None:
        self.text = text
        self.delimiters = delimiters
        self._spans: list[tuple[int, int]] | None = None

    def spans(self) -> list[tuple[int, int]]:
        """(start of tag, end after terminator) of every segment, as :func:`tokenize` sees them."""
        if self._spans is None:
            self._spans = segment_spans(self.text, self.delimiters)
        return self._spans

    def text_of(self, first: int, last: int) -> str:
        """The original text of segments ``first``..``last`` (inclusive), separators and all."""
        spans = self.spans()
        return self.text[spans[first][0] : spans[last][1]]


def segment_spans(text: str, d: Delimiters) -> list[tuple[int, int]]:
    """Offsets of the segments :func:`tokenize` would return for ``text``, in ``text``.

    Mirrors the tokenizer's rules (line breaks are not data, a release character applies to the
    next character after any line break, empty pieces are skipped) on the unmodified text.

    Why in bulk: a rejected message asks for the spans of its whole interchange. The text is
    split on the terminator and the offsets summed in C; only pieces holding a release
    character are walked with the regex (which pairs each release with the character it
    releases) to learn whether their terminator is released, i.e. not a segment end.
    """
    pieces = text.split(d.terminator)
    ends = list(accumulate(map(len, pieces)))  # piece k's terminator is at ends[k] + k
    released = _released_pieces(text, d, pieces, ends) if d.release in text else set()
    if not released:
        spans = [
            (end + k - len(kept), end + k + 1)
            for k, (end, kept) in enumerate(zip(ends, map(str.lstrip, pieces), strict=True))
            if kept
        ]
    else:
        spans = []
        start = 0
        for k in range(len(pieces)):
            if k in released:
                continue
            stop = ends[k] + k
            piece = text[start:stop]
            if piece.strip():
                spans.append((stop - len(piece.lstrip()), stop + 1))
            start = stop + 1
    if spans and spans[-1][1] > len(text):  # the last segment has no terminator
        spans[-1] = (spans[-1][0], len(text))
    return spans


def _released_pieces(text: str, d: Delimiters, pieces: list[str], ends: list[int]) -> set[int]:
    """Indices of the pieces whose terminator is released (part of the segment's data).

    Each piece starts a fresh scan: a released terminator is consumed by its release pair,
    so the scan of the next piece begins at its first character either way.
    """
    if not d.release:
        return set()
    service = (d.component, d.element, d.terminator, d.release, d.repetition)
    breaks = "".join(c for c in "\r\n" if c not in service)
    skip = f"[{re.escape(breaks)}]*" if breaks else ""
    pattern = f"{re.escape(d.release)}{skip}.|{re.escape(d.terminator)}"
    finditer = re.compile(pattern, re.S).finditer
    released = set()
    for k in compress(range(len(pieces) - 1), map(contains, pieces, repeat(d.release))):
        at = ends[k] + k
        found = next((m for m in finditer(text, at - len(pieces[k])) if m.end() > at), None)
        if found is not None and found.group() != d.terminator:
            released.add(k)
    return released


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A piece of the file the syntax layer rejects (becomes a ``Rejected`` outcome).

    ``field``/``value``/``rule`` name the one thing at fault when there is one (see
    :class:`lakehouse.formats.base.Rejected`).
    """

    index: int
    raw: str
    error_code: str
    reason: str
    message_type: str | None = None
    field: str | None = None
    value: str | None = None
    rule: str | None = None


# --------------------------------------------------------------------------- framing


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n:
        if text[pos] in _WS:
            pos += 1
        elif text.startswith(_BOM, pos):
            pos += 3
        else:
            break
    return pos


def _boundary_re(d: Delimiters) -> re.Pattern[str]:
    """Matches a terminator followed by the start of a new interchange (UNA / UNB)."""
    return re.compile(
        re.escape(d.terminator) + r"(?:[\s]|" + re.escape(_BOM) + ")*(?=UNA|UNB[^A-Z0-9])"
    )


def _is_released(text: str, pos: int, release: str) -> bool:
    if not release:
        return False
    count = 0
    while pos - 1 - count >= 0 and text[pos - 1 - count] == release:
        count += 1
    return count % 2 == 1


def _find_end(text: str, start: int, d: Delimiters) -> int:
    """Index where the next interchange header starts (after an unreleased terminator)."""
    pattern = _boundary_re(d)
    pos = start
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return len(text)
        if not _is_released(text, m.start(), d.release):
            return m.end()
        pos = m.start() + 1


_NEXT_UNA = re.compile(r"UNA[^A-Za-z0-9\s]{2}")


def _bad_una_end(text: str, pos: int) -> int:
    """Where an interchange whose UNA (at ``pos``) is invalid ends.

    Its own terminator (UNA position 6) followed by a new UNA/UNB, when that character can be
    a terminator at all; else the next thing that looks like a UNA, else the end of the file.
    """
    term = text[pos + 8 : pos + 9]
    if not term or term.isalnum() or term.isspace():
        nxt = _NEXT_UNA.search(text, pos + 3)
        return nxt.start() if nxt else len(text)
    rel = text[pos + 6 : pos + 7]
    d = Delimiters(release="" if rel in (" ", term) else rel, terminator=term)
    return _find_end(text, pos + 9, d)


def _count_unh(text: str, terminator: str) -> int:
    """UNH segments in ``text``: an interchange rejected whole consumes one index per message."""
    found = len(re.findall(re.escape(terminator) + r"\s*UNH", text))
    return found + int(text.lstrip(_WS).startswith("UNH"))


def _read_unb_header(text: str, pos: int, d: Delimiters) -> tuple[str, str]:
    """(syntax identifier, syntax version) from the UNB at ``pos``; ``("", "")`` if none."""
    if not text.startswith("UNB", pos):
        return "", ""
    end = text.find(d.terminator, pos)
    head = text[pos : end if end >= 0 else len(text)]
    parts = head.split(d.element)
    if len(parts) < 2:
        return "", ""
    s001 = parts[1].split(d.component)
    return s001[0].strip().upper(), (s001[1].strip() if len(s001) > 1 else "")


_C1 = re.compile("[\x80-\x9f]")


def _decode(chunk: bytes, syntax_id: str) -> tuple[str | None, str, list[str]]:
    """Decode one interchange. Returns (text or None when invalid, codec used, issues)."""
    if chunk.isascii():
        return chunk.decode("ascii"), CHARSETS.get(syntax_id, "ascii"), []
    codec = CHARSETS.get(syntax_id)
    if codec is None:
        what = f"unknown character set {syntax_id!r}" if syntax_id else "no UNB character set"
        try:
            return chunk.decode("utf-8"), "utf-8", [f"{what}: decoded as UTF-8"]
        except UnicodeDecodeError:
            return chunk.decode("latin-1"), "latin-1", [f"{what}: decoded as ISO 8859-1"]
    if codec in _UTF8_CHARSETS:
        try:
            return chunk.decode("utf-8"), codec, []
        except UnicodeDecodeError:
            return None, codec, []
    if codec != "euc-kr":
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            note = f"declared {syntax_id} ({codec}) but the bytes are UTF-8: decoded as UTF-8"
            return text, "utf-8", [note]
    try:
        return chunk.decode(codec), codec, []
    except UnicodeDecodeError:
        return None, codec, []


def _decode_loose(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --------------------------------------------------------------------------- envelope


_VALID_TAGS: set[str] = set()
_SERVICE_TAGS = frozenset({"UNA", "UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
# Valid tags that are not service segments: inside a message such a segment needs no
# envelope step at all, so the envelope loop passes it with one set look-up.
_BODY_TAGS: set[str] = set()


def _valid_tag(tag: object) -> bool:
    if tag in _VALID_TAGS:
        return True
    if type(tag) is str and _TAG_RE.match(tag):
        _VALID_TAGS.add(tag)
        if tag not in _SERVICE_TAGS:
            _BODY_TAGS.add(tag)
        return True
    return False


def _interchange_from_unb(seg: Segment, d: Delimiters, has_una: bool) -> Interchange:
    return Interchange(
        syntax_id=component(seg, 1, 0).upper(),
        syntax_version=component(seg, 1, 1),
        sender_id=component(seg, 2, 0),
        sender_qualifier=component(seg, 2, 1),
        recipient_id=component(seg, 3, 0),
        recipient_qualifier=component(seg, 3, 1),
        date=component(seg, 4, 0),
        time=component(seg, 4, 1),
        reference=component(seg, 5, 0),
        test_indicator=component(seg, 11, 0),
        delimiters=d,
        has_una=has_una,
    )


class _Chunk:
    """Envelope state machine over the segments of one interchange-sized piece of text."""

    def __init__(
        self,
        source: SourceText,
        has_una: bool,
        encoding: str,
        issues: list[str],
        recode: _Recode | None = None,
    ) -> None:
        self.d = source.delimiters
        self.source = source
        self.has_una = has_una
        self.encoding = encoding
        self.decode_issues = issues
        self.recode = recode
        self.out: list[Message | SyntaxProblem] = []
        self.msg_index = 0

    def run(self, segments: list[Segment], raws: list[str], next_index: int) -> int:
        d = self.d
        out = self.out
        inter: Interchange | None = None
        inter_msgs: list[Message] = []
        inter_groups = 0
        inter_closed = False
        group_ref: str | None = None
        group_msgs: list[Message] = []
        msg_start = -1
        msg_bad: str | None = None
        stray: list[int] = []  # indices of the segments outside any message, not yet flushed
        stray_code = E_ENVELOPE
        stray_reason = ""
        saw_unh = False
        # Messages sent, counted by UNH: a message we reject still counts for UNE/UNZ.
        inter_unh = 0
        group_unh = 0

        def flush_stray() -> None:
            nonlocal next_index, stray
            if stray:
                out.append(
                    SyntaxProblem(
                        next_index,
                        self.source.text_of(stray[0], stray[-1]),
                        stray_code,
                        stray_reason,
                        field=str(segments[stray[0]][0])[:20],
                        rule="segment-outside-message",
                    )
                )
                next_index += 1
                stray = []

        # No inner function calls another: compiled (Cython), a function that one closure
        # calls lives in the scope it closes over, and that cycle would keep every segment
        # and message of the interchange for the cyclic collector (which a parse pauses).
        def truncated(end: int, why: str) -> None:
            nonlocal msg_start
            unh = segments[msg_start]
            ref, mtype = component(unh, 1, 0), component(unh, 2, 0)
            out.append(
                SyntaxProblem(
                    self.msg_index,
                    self.source.text_of(msg_start, end - 1),
                    E_ENVELOPE,
                    f"message {ref!r} ({mtype or 'unknown type'}) is not closed by UNT: {why}",
                    mtype or None,
                    field="UNT",
                    rule="message-closed-by-unt",
                )
            )
            msg_start = -1

        body = _BODY_TAGS
        for i, seg in enumerate(segments):
            tag = seg[0]
            if msg_start >= 0 and tag in body:
                continue
            if tag not in _VALID_TAGS and not _valid_tag(tag):
                if msg_start >= 0:
                    if msg_bad is None:
                        msg_bad = (
                            f"invalid segment tag {str(tag)[:20]!r} at segment "
                            f"{i - msg_start + 1} of the message"
                        )
                    continue
                if not stray:
                    stray_code = E_SYNTAX
                    stray_reason = (
                        "content after UNZ is not EDIFACT"
                        if inter_closed
                        else f"invalid segment tag {str(tag)[:20]!r} outside any message"
                    )
                stray.append(i)
                continue

            if msg_start >= 0:
                if tag == "UNT":
                    self._close_message(
                        segments,
                        raws,
                        msg_start,
                        i,
                        msg_bad,
                        inter,
                        group_ref,
                    )
                    msg = out[-1]
                    if isinstance(msg, Message):
                        inter_msgs.append(msg)
                        if group_ref is not None:
                            group_msgs.append(msg)
                    msg_start = -1
                    msg_bad = None
                    continue
                if tag not in ("UNH", "UNZ", "UNE", "UNG", "UNB"):
                    continue
                truncated(i, f"{tag} found before UNT")
                msg_bad = None

            # outside a message
            if tag == "UNH":
                flush_stray()
                inter_unh += 1
                group_unh += 1
                msg_start = i
                msg_bad = None
                saw_unh = True
                self.msg_index = next_index
                next_index += 1
                if inter_closed:
                    inter = None  # a bare message after the interchange
                continue
            if tag == "UNB" and i == 0:
                inter = _interchange_from_unb(seg, d, self.has_una)
                inter.encoding = self.encoding
                continue
            if tag == "UNG" and inter is not None and not inter_closed:
                flush_stray()
                if group_ref is not None:
                    self._issue(group_msgs, f"group {group_ref!r} not closed by UNE", E_ENVELOPE)
                group_ref = component(seg, 5, 0)
                group_msgs = []
                group_unh = 0
                inter_groups += 1
                continue
            if tag == "UNE" and group_ref is not None:
                flush_stray()
                count, ref = component(seg, 1, 0), component(seg, 2, 0)
                if count != str(group_unh):
                    self._issue(
                        group_msgs,
                        f"UNE message count {count!r} but group {group_ref!r} holds {group_unh}",
                        E_CONTROL_COUNT,
                    )
                if ref != group_ref:
                    self._issue(
                        group_msgs,
                        f"UNE reference {ref!r} does not match UNG reference {group_ref!r}",
                        E_CONTROL_COUNT,
                    )
                group_ref = None
                group_msgs = []
                continue
            if tag == "UNZ" and inter is not None and not inter_closed:
                flush_stray()
                if group_ref is not None:
                    self._issue(group_msgs, f"group {group_ref!r} not closed by UNE", E_ENVELOPE)
                    group_ref = None
                count, ref = component(seg, 1, 0), component(seg, 2, 0)
                expected = inter_groups if inter_groups else inter_unh
                what = "groups" if inter_groups else "messages"
                if count != str(expected):
                    self._issue(
                        inter_msgs,
                        f"UNZ count {count!r} but interchange {inter.reference!r} holds "
                        f"{expected} {what}",
                        E_CONTROL_COUNT,
                    )
                if ref != inter.reference:
                    self._issue(
                        inter_msgs,
                        f"UNZ reference {ref!r} does not match UNB reference {inter.reference!r}",
                        E_CONTROL_COUNT,
                    )
                inter_closed = True
                continue
            # any other segment outside a message
            if not stray:
                stray_code = E_SYNTAX if inter_closed else E_ENVELOPE
                stray_reason = (
                    "content after UNZ"
                    if inter_closed
                    else f"segment {tag} outside any UNH...UNT message"
                )
            stray.append(i)

        if msg_start >= 0:
            truncated(len(segments), "the input ends first (truncated)")
        flush_stray()
        if group_ref is not None:
            self._issue(group_msgs, f"group {group_ref!r} not closed by UNE", E_ENVELOPE)
        if inter is not None and not inter_closed:
            self._issue(
                inter_msgs,
                f"interchange {inter.reference!r} not closed by UNZ",
                E_ENVELOPE,
            )
        if not saw_unh and not inter_closed and segments:
            raw = self.source.text
            if "UNH" in raw or "UNZ" in raw:
                # UNH/UNZ present but not as segments: the separators are not the declared ones.
                code, reason = (
                    E_SYNTAX,
                    (
                        "no UNH or UNZ segment found with the declared separators "
                        f"({d.una()!r}): wrong separators or not EDIFACT"
                    ),
                )
            else:
                code, reason = E_ENVELOPE, "interchange holds no message and is not closed by UNZ"
            self.out = [SyntaxProblem(next_index, raw, code, reason)]
            next_index += 1
        return next_index

    def _issue(self, msgs: list[Message], text: str, strict_code: str) -> None:
        for m in msgs:
            m.control_issues.append(text)
            m.strict_failures.append((strict_code, text))

    def _close_message(
        self,
        segments: list[Segment],
        raws: list[str],
        start: int,
        end: int,
        bad: str | None,
        inter: Interchange | None,
        group_ref: str | None,
    ) -> None:
        unh = segments[start]
        unt = segments[end]
        ref = component(unh, 1, 0)
        mtype = component(unh, 2, 0)
        source, first = self.source, start
        if self.recode is not None:
            decoded = self._recoded(start, end, ref, mtype)
            if decoded is None:
                return
            source, first = decoded, 0
            segments, raws = tokenize(source.text, self.d, repetition=self.recode.repetition)
            start, end = 0, len(segments) - 1
        code, rule, value = E_SYNTAX, "segment-tag", None
        if bad is None and not source.text.isascii():  # isascii is O(1): no C1 in ASCII text
            # One search over the joined segments finds the same first C1 character as a
            # search per segment, without a Python step per segment.
            c1 = _C1.search("".join(raws[start : end + 1]))
            if c1 is not None:
                # C1 control codes are in no EDIFACT repertoire: typically UTF-8 bytes sent
                # inside an ISO 8859 interchange. Only this message is affected.
                code, rule, value = E_ENCODING, self.encoding, c1.group()
                bad = (
                    f"control character U+{ord(c1.group()):04X} is not a character of the "
                    f"declared character set ({self.encoding}); the sender's encoding is wrong"
                )
        if bad is not None:
            self.out.append(
                SyntaxProblem(
                    self.msg_index,
                    source.text_of(first, first + end - start),
                    code,
                    f"message {ref!r}: {bad}",
                    mtype or None,
                    field="UNB/S001/0001" if code == E_ENCODING else "segment tag",
                    value=value,
                    rule=rule,
                )
            )
            return
        msg = Message(
            index=self.msg_index,
            reference=ref,
            message_type=mtype,
            version=component(unh, 2, 1),
            release=component(unh, 2, 2),
            agency=component(unh, 2, 3),
            association=component(unh, 2, 4),
            segments=segments[start : end + 1],
            raws=raws[start : end + 1],
            delimiters=self.d,
            interchange=inter,
            group_ref=group_ref,
            control_issues=list(self.decode_issues),
            source=source,
            first=first,
        )
        count = component(unt, 1, 0)
        actual = end - start + 1
        if count != str(actual):
            text = f"UNT segment count {count!r} but the message has {actual} segments"
            msg.control_issues.append(text)
            msg.strict_failures.append((E_CONTROL_COUNT, text))
        unt_ref = component(unt, 2, 0)
        if unt_ref != ref:
            text = f"UNT reference {unt_ref!r} does not match UNH reference {ref!r}"
            msg.control_issues.append(text)
            msg.strict_failures.append((E_CONTROL_COUNT, text))
        self.out.append(msg)

    def _recoded(self, start: int, end: int, ref: str, mtype: str) -> SourceText | None:
        """The message's own bytes decoded in the declared charset, or None (problem added).

        Only used when the interchange as a whole does not decode: one bad byte then costs
        the message holding it, not its neighbours.
        """
        assert self.recode is not None
        spans = self.source.spans()
        lo, hi = spans[start][0], spans[end][1]
        latin = self.source.text[lo:hi]
        data = latin.encode("latin-1")
        codec = self.recode.codec
        try:
            return SourceText(data.decode(codec), self.d)
        except UnicodeDecodeError as exc:
            offset = self.recode.offset + lo + exc.start
            bad = data[exc.start : exc.end]
            self.out.append(
                SyntaxProblem(
                    self.msg_index,
                    latin,
                    E_ENCODING,
                    f"message {ref!r}: byte 0x{bad.hex().upper()} at file offset {offset} is not "
                    f"valid {codec} (declared {self.recode.declared or 'nothing'}); the message "
                    "is kept as ISO 8859-1 text",
                    mtype or None,
                    field="UNB/S001/0001",
                    value=self.recode.declared,
                    rule=codec,
                )
            )
            return None


@dataclass(frozen=True, slots=True)
class _Recode:
    """An interchange read as ISO 8859-1 whose messages are decoded one by one in ``codec``."""

    codec: str
    declared: str
    offset: int  # file byte offset of the interchange text (after its UNA)
    repetition: bool


# --------------------------------------------------------------------------- entry point


def iter_messages(data: bytes, *, strict: bool = False) -> Iterator[Message | SyntaxProblem]:
    """Split a landed EDIFACT file into messages (or problems), in file order.

    Never raises on bad input. ``strict=True`` turns messages with control-count/reference
    mismatches into ``E_CONTROL_COUNT`` problems and with a missing UNE/UNZ into
    ``E_ENVELOPE`` problems. Messages are yielded once their interchange is complete (the UNZ
    counts concern all of them).
    """
    text = data.decode("latin-1")  # 1 byte = 1 char: offsets in ``text`` are byte offsets
    n = len(text)
    pos = _skip_ws(text, 0)
    if pos >= n:
        yield SyntaxProblem(0, _decode_loose(data), E_EMPTY, "the file holds no EDIFACT data")
        return
    if not text.startswith(("UNA", "UNB", "UNH"), pos):
        yield SyntaxProblem(
            0,
            _decode_loose(data),
            E_SYNTAX,
            f"the file does not start with UNA, UNB or UNH (starts {text[pos : pos + 20]!r})",
        )
        return
    index = 0
    produced = False
    while pos < n:
        start = pos
        has_una = text.startswith("UNA", pos)
        if has_una:
            try:
                d = Delimiters.from_una(text[pos + 3 : pos + 9])
            except EdifactError as exc:
                end = _bad_una_end(text, pos)
                yield SyntaxProblem(
                    index,
                    _decode_loose(data[start:end]),
                    E_SYNTAX,
                    f"interchange rejected: {exc}",
                    field="UNA",
                    value=text[pos + 3 : pos + 9],
                    rule=exc.rule,
                )
                index += max(_count_unh(text[pos:end], "'"), 1)
                produced = True
                pos = _skip_ws(text, end)
                continue
            pos = _skip_ws(text, pos + 9)
        elif text.startswith("UNB\x1d", pos):
            d = LEVEL_B_DELIMITERS
        else:
            d = DEFAULT_DELIMITERS
        end = _find_end(text, pos, d)
        syntax_id, version = _read_unb_header(text, pos, d)
        try:
            v4 = int(version or "0") >= 4
        except ValueError:
            v4 = False
        repetition = v4 and bool(d.repetition)
        chunk_text, codec, issues = _decode(data[pos:end], syntax_id)
        recode = None
        if chunk_text is None:
            # Read the interchange as ISO 8859-1 (every byte a character, offsets = bytes) to
            # find its messages, then decode each message alone in the declared charset.
            chunk_text = text[pos:end]
            recode = _Recode(codec, syntax_id, pos, repetition)
        segments, raws = tokenize(chunk_text, d, repetition=repetition)
        chunk = _Chunk(SourceText(chunk_text, d), has_una, codec, issues, recode)
        index = chunk.run(segments, raws, index)
        for item in chunk.out:
            produced = True
            if strict and isinstance(item, Message) and item.strict_failures:
                code, _ = item.strict_failures[0]
                yield SyntaxProblem(
                    item.index,
                    item.raw,
                    code,
                    "strict mode: " + "; ".join(t for _, t in item.strict_failures),
                    item.message_type or None,
                    field="UNT" if code == E_CONTROL_COUNT else "UNZ",
                    rule="control-count" if code == E_CONTROL_COUNT else "envelope-closed",
                )
            else:
                yield item
        pos = _skip_ws(text, end)
    if not produced:
        yield SyntaxProblem(0, _decode_loose(data), E_EMPTY, "the file holds no message")
