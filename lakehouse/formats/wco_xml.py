"""Parser for WCO Data Model 3.x XML: declarations (DEC-DMS) and customs responses (DMS
notifications), one or more per file.

Why it looks the way it does:

* **Match by local name.** National systems and middleware re-prefix freely (``<dec:TypeCode>``,
  a default namespace, a prefix re-declared on every element, or no namespace at all). The
  meaning of an element is its local name and position, so namespaces are ignored for mapping.
* **Any wrapper.** A file holds a ``Declaration`` or a ``Response`` as its root, or inside
  whatever a sender wraps it in (the WCO ``MetaData``, a SOAP ``Envelope``/``Body``,
  ``submitDeclarationRequest``, ...). The messages are the top-most ``Declaration`` and
  ``Response`` elements at any depth; each is one outcome (``message_index`` in document
  order). A ``Response`` (acceptance, rejection, tax assessment, clearance...) goes to
  ``cms_responses``, mapped like a CUSRES; a ``Declaration`` to ``cms_declarations``.
* **Secure by construction.** The files come from outside. The lxml parser never touches the
  network, never loads or expands a DTD or an entity, and keeps libxml2's size limits
  (``huge_tree`` off). A document that carries a DOCTYPE is rejected (``E_UNSUPPORTED``)
  rather than parsed with half-resolved entity references.
* **We decode, not lxml.** The character set is detected (BOM, then the XML declaration, then
  UTF-8) and decoded strictly in Python, so undecodable bytes are an ``E_ENCODING`` outcome with
  a byte offset, distinct from ``E_SYNTAX``. Leading whitespace before ``<?xml`` is tolerated
  (common with hand-edited and concatenated files) while line numbers stay true.
* **Timestamps end up UTC.** ``Z``, ``+01``, ``+0100`` and ``+01:00`` are honoured; a time with
  no zone is taken as UTC (the profile's producers send UTC; guessing a local zone would be
  worse). WCO ``DateTimeString`` with ``formatCode`` 102 (``CCYYMMDD``, midnight UTC) and 304
  (``CCYYMMDDHHMMSS[zone]``) is understood, as is plain ISO-8601 text.
* **Only a missing business key rejects.** A declaration without its LRN
  (``FunctionalReferenceID``), or a response without any reference, is quarantined with the
  message element as sent. A value that cannot be read (``12,5`` where a decimal belongs, a date
  in no known form) is flagged in ``flags`` and its text kept in ``source_literals`` under the
  column path (``items[0].gross_mass``): a decimal comma is read as a decimal point, anything
  else is stored as null. Decimals keep every digit sent.
* **Nothing is dropped silently.** Every element and attribute the mapping does not read is
  listed in ``unknown_segments``, one entry per unread leaf: ``<path>=<text>`` where the path
  is local names from the message element (or from the root, for wrapper elements outside
  every message), a repeated element carries its 1-based position (``Item[2]``), and an
  attribute is ``<element path>/@<name>``. So a producer's extension shows up in bronze.
* **Transport mode as statistics count it.** The border transport means' ``ModeCode``
  (``Declaration/BorderTransportMeans`` or ``Consignment/BorderTransportMeans``) comes first,
  the departure transport means' as fallback; both modes and identities are also kept in
  ``references``.
* **Optional XSD.** With ``xsd_path`` each declaration is validated against our own small XSD
  (``schemas/wco_dec_dms.xsd``). It checks the elements and attributes the mapping reads: their
  place, order where the profile fixes it, and the shape of their values. Elements the mapping
  does not read (any other valid DMS 3.6 element, such as ``GoodsItemQuantity``) are left out of
  the validated copy and kept in ``unknown_segments``. Elements are first moved into the profile
  namespace, so the XSD has the same namespace tolerance as the mapping. Responses are not
  validated.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from lxml import etree

from lakehouse.formats.base import (
    E_EMPTY,
    E_ENCODING,
    E_MAPPING,
    E_SCHEMA,
    E_SYNTAX,
    E_UNSUPPORTED,
    Outcome,
    ParsedRecord,
    Rejected,
)

__all__ = [
    "DEC_DMS_NAMESPACE",
    "MESSAGE_TYPE",
    "RESPONSE_MESSAGE_TYPE",
    "RESPONSE_TABLE",
    "TABLE",
    "bundled_xsd_path",
    "parse_wco_datetime",
    "parse_wco_xml_file",
    "parse_wco_xml_file_validated",
]

TABLE = "cms_declarations"
MESSAGE_TYPE = "WCO_DEC"
RESPONSE_TABLE = "cms_responses"
RESPONSE_MESSAGE_TYPE = "WCO_RES"
DEC_DMS_NAMESPACE = "urn:wco:datamodel:WCO:DEC-DMS:2"
_MESSAGES = {"Declaration": MESSAGE_TYPE, "Response": RESPONSE_MESSAGE_TYPE}
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Party elements and the role codes (UN/EDIFACT 3035 style, as CUSDEC uses) they map to.
_HEADER_PARTIES = {"Declarant": "DT", "Exporter": "EX", "Agent": "AE"}
_SHIPMENT_PARTIES = {
    "Importer": "IM",
    "Consignee": "CN",
    "Consignor": "CZ",
    "Buyer": "BY",
    "Seller": "SE",
}
# Offices and parties a response names; no code list covers them, so the element name is the role.
_RESPONSE_PARTIES = ("AppealOffice", "Bank", "ContactOffice", "Declarant", "Agent", "Importer")

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_DECL_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECL_RE = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_DECIMAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_ZONE = r"(Z|[+-]\d{2}(?::?\d{2})?)?"
_WCO_304_RE = re.compile(r"^(\d{14})" + _ZONE + "$")
_WCO_102_RE = re.compile(r"^(\d{8})$")
_ISO_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?" + _ZONE + "$"
)


class _MappingError(ValueError):
    """A message without its business key (becomes E_MAPPING); names field, value and rule."""

    def __init__(self, message: str, field: str, value: str | None, rule: str) -> None:
        super().__init__(message)
        self.field, self.value, self.rule = field, value, rule


def bundled_xsd_path() -> str:
    """Filesystem path of the profile XSD shipped with the package (for ``xsd_path=``)."""
    return str(resources.files("lakehouse.formats").joinpath("schemas", "wco_dec_dms.xsd"))


def parse_wco_xml_file_validated(data: bytes, source: str) -> Iterator[Outcome]:
    """:func:`parse_wco_xml_file` with the bundled XSD: a ``FileParser`` for strict feeds."""
    return parse_wco_xml_file(data, source, xsd_path=bundled_xsd_path())


def parse_wco_xml_file(
    data: bytes, source: str, *, xsd_path: str | None = None
) -> Iterator[Outcome]:
    """Parse one landed WCO XML file: a record or a rejection per Declaration/Response in it.

    ``source`` names the file in messages only. With ``xsd_path`` declarations must also
    validate against that XSD (failures are ``E_SCHEMA``). Never raises on bad input; a missing
    or broken XSD file is a configuration error and does raise.
    """
    document = _document(data, source)
    if isinstance(document, Rejected):
        yield document
        return
    text, root = document
    messages = _top_messages(root)
    if not messages:
        yield _reject(
            text,
            E_UNSUPPORTED,
            f"{source}: root element is {_local(root.tag)!r}, and it holds no WCO "
            "'Declaration' or 'Response'",
        )
        return
    wrapper = _Wrapper.of(root, messages)
    for index, element in enumerate(messages):
        yield _message(index, element, text, source, xsd_path, wrapper)


def _reject(raw: str, code: str, reason: str, **named: Any) -> Rejected:
    return Rejected(0, raw, code, reason, named.pop("message_type", MESSAGE_TYPE), **named)


def _document(data: bytes, source: str) -> tuple[str, Any] | Rejected:
    """The decoded text (declaration blanked, lines kept) and the root, or the file's rejection."""
    encoding = _detect_encoding(data)
    try:
        text = data.decode(encoding)
    except LookupError:
        raw = data.decode("utf-8", errors="backslashreplace")
        return _reject(
            raw,
            E_ENCODING,
            f"{source}: unknown character set {encoding!r} declared",
            rule="charset",
        )
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raw = data.decode(encoding, errors="backslashreplace")
        return _reject(
            raw,
            E_ENCODING,
            f"{source}: bytes are not valid {encoding} at byte offset {exc.start} "
            f"(line {line}): {exc.reason}",
            rule=encoding,
        )
    raw = text.removeprefix("\ufeff")
    # lxml refuses str input that carries an encoding declaration; we have decoded already.
    # Replace the declaration (and any whitespace before it) by as many newlines as it held.
    text = _DECL_RE.sub(lambda m: "\n" * m.group(0).count("\n"), raw, count=1)
    if not text.strip():
        return _reject(raw, E_EMPTY, f"{source}: the file holds no XML document")
    try:
        root = etree.fromstring(text, _secure_parser())
    except etree.XMLSyntaxError as exc:
        return _reject(raw, E_SYNTAX, f"{source}: XML is not well-formed: {exc.msg}", rule="xml")
    except ValueError as exc:  # e.g. a second XML declaration lxml refuses on str input
        return _reject(raw, E_SYNTAX, f"{source}: XML is not well-formed: {exc}", rule="xml")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        return _reject(
            raw,
            E_UNSUPPORTED,
            f"{source}: documents with a DOCTYPE/DTD are not accepted "
            "(entity and DTD processing are disabled for security)",
            rule="doctype",
        )
    return text, root


def _top_messages(root: Any) -> list[Any]:
    """The top-most Declaration/Response elements, in document order."""
    found: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if _local(node.tag) in _MESSAGES:
            found.append(node)
        else:
            stack.extend(reversed([c for c in node if isinstance(c.tag, str)]))
    return found


@dataclass(frozen=True)
class _Wrapper:
    """What the elements around the messages say: the directory version, and their leaves."""

    directory_version: str | None
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, root: Any, messages: list[Any]) -> _Wrapper:
        inside = set(messages)
        version: str | None = None
        unknown: list[str] = []
        paths = _Paths(root)
        stack = [root]
        while stack:
            node = stack.pop()
            if node in inside:
                continue
            children = [c for c in node if isinstance(c.tag, str)]
            stack.extend(reversed(children))
            if _local(node.tag) == "WCODataModelVersionCode" and version is None:
                version = (node.text or "").strip() or None
                continue
            unknown.extend(_unread_attributes(node, set(), paths))
            if not children:
                unknown.append(_leaf(node, paths))
        return cls(version, unknown)


def _message(
    index: int, element: Any, text: str, source: str, xsd_path: str | None, wrapper: _Wrapper
) -> Outcome:
    kind = _local(element.tag)
    message_type = _MESSAGES[kind]
    reader = _Reader(element)
    where = f"{source}: message {index} ({kind}, line {element.sourceline})"
    try:
        if kind == "Declaration":
            table, record = TABLE, _map_declaration(reader, element, wrapper.directory_version)
        else:
            table, record = (
                RESPONSE_TABLE,
                _map_response(reader, element, wrapper.directory_version),
            )
    except _MappingError as exc:
        return Rejected(
            index,
            _source_of(text, element),
            E_MAPPING,
            f"{where}: {exc}",
            message_type,
            exc.field,
            exc.value,
            exc.rule,
        )
    if xsd_path is not None and kind == "Declaration":
        problem = _xsd_problem(reader, element, xsd_path)
        if problem is not None:
            return Rejected(
                index,
                _source_of(text, element),
                E_SCHEMA,
                f"{where}: XSD validation failed: {problem}",
                message_type,
                rule="xsd",
            )
    record["unknown_segments"] = [*wrapper.unknown, *reader.unread()]
    record["flags"] = reader.flags or None
    record["source_literals"] = reader.literals or None
    return ParsedRecord(table, index, record)


def _source_of(text: str, element: Any) -> str:
    """The element's own text as the sender wrote it: from its start tag to its end tag.

    lxml keeps no offsets, only the start line; the element's qualified name is found from
    that line, and nesting of the same name is counted to find its end. The document is
    well-formed (lxml parsed it), so the tags balance.
    """
    qname = f"{element.prefix}:{_local(element.tag)}" if element.prefix else _local(element.tag)
    line_start = 0
    for _ in range((element.sourceline or 1) - 1):
        line_start = text.index("\n", line_start) + 1
    tag = re.compile(rf"<(/?){re.escape(qname)}(?=[\s/>])")
    first = tag.search(text, line_start)
    if first is None:  # pragma: no cover - lxml reported the element on this line
        return text
    depth, pos = 0, first.start()
    for match in tag.finditer(text, first.start()):
        close = text.index(">", match.end())
        if match.group(1):
            depth -= 1
        elif text[close - 1] != "/":
            depth += 1
        pos = close + 1
        if depth == 0:
            break
    return text[first.start() : pos]


def _detect_encoding(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return "utf-8-sig" if name == "utf-8" else name
    if data.startswith(b"<\x00"):
        return "utf-16-le"
    if data.startswith(b"\x00<"):
        return "utf-16-be"
    match = _DECL_ENCODING_RE.match(data[:1024])
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def _secure_parser() -> etree.XMLParser:
    # A fresh parser per file: lxml parsers are not meant to be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


@lru_cache(maxsize=8)
def _load_xsd(path: str) -> tuple[etree.XMLSchema, str]:
    """The compiled XSD and its target namespace (compiled once per path and process)."""
    document = etree.parse(path, _secure_parser())
    namespace = document.getroot().get("targetNamespace") or DEC_DMS_NAMESPACE
    return etree.XMLSchema(document), namespace


def _xsd_problem(reader: _Reader, declaration: Any, xsd_path: str) -> str | None:
    """Validate the elements and attributes the mapping read (see the module docstring)."""
    schema, namespace = _load_xsd(xsd_path)
    normalized = copy.deepcopy(declaration)
    unread: list[Any] = []
    for original, element in zip(declaration.iter(), normalized.iter(), strict=True):
        if not isinstance(element.tag, str):
            continue
        if original is not declaration and original not in reader.used:
            unread.append(element)
            continue
        element.tag = f"{{{namespace}}}{_local(element.tag)}"
        for name in list(element.attrib):
            if (original, name) not in reader.used_attributes:
                del element.attrib[name]
    for element in unread:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    etree.cleanup_namespaces(normalized)
    if schema.validate(normalized):
        return None
    errors = list(schema.error_log)
    first = errors[0]
    message = first.message.replace(f"{{{namespace}}}", "")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"line {first.line}: {message}{more}"


class _Reader:
    """Reads one message by local names; remembers what the mapping consumed and what was odd.

    ``used``/``used_attributes`` make the unread rest (``unknown_segments``) exact; ``flags``
    and ``literals`` are the record's quality columns.
    """

    def __init__(self, message: Any) -> None:
        self.message = message
        # lxml hands out the same proxy for a node while one is alive, so holding the proxies
        # here makes identity-based membership reliable.
        self.used: set[Any] = {message}
        self.used_attributes: set[tuple[Any, str]] = set()
        self.flags: list[str] = []
        self.literals: dict[str, str] = {}
        # Children of each element read so far, by local name: one pass per parent instead
        # of one scan per lookup (a declaration is looked up ~100 times).
        self._index: dict[Any, dict[str, list[Any]]] = {}

    def _by_name(self, parent: Any) -> dict[str, list[Any]]:
        index = self._index.get(parent)
        if index is None:
            index = self._index[parent] = {}
            for c in parent:
                tag = c.tag
                if type(tag) is str:
                    index.setdefault(tag.rpartition("}")[2], []).append(c)
        return index

    def children(self, parent: Any | None, name: str) -> list[Any]:
        if parent is None:
            return []
        found = self._by_name(parent).get(name, [])
        self.used.update(found)
        return list(found)

    def child(self, parent: Any | None, *path: str) -> Any | None:
        node = parent
        for name in path:
            if node is None:
                return None
            found = self._by_name(node).get(name)
            node = found[0] if found else None
            if node is not None:
                self.used.add(node)
        return node

    def text(self, parent: Any | None, *path: str) -> str | None:
        node = self.child(parent, *path)
        if node is None or node.text is None:
            return None
        return node.text.strip() or None

    def attr(self, node: Any | None, name: str) -> str | None:
        if node is None:
            return None
        value = node.get(name)
        if value is None:
            return None
        self.used_attributes.add((node, name))
        return value.strip() or None

    def note(self, rule: str, column: str, node: Any, literal: str, what: str) -> None:
        """Flag a value that could not be stored as sent, and keep its literal text."""
        self.flags.append(f"{rule} {column}: {literal!r} {what} ({_where(node, self.message)})")
        self.literals[column] = literal

    def decimal(self, node: Any | None, column: str) -> Decimal | None:
        text = (node.text or "").strip() if node is not None else ""
        if not text:
            return None
        if _DECIMAL_RE.match(text):
            return Decimal(text)
        if _DECIMAL_COMMA_RE.match(text):
            self.note("decimal-comma", column, node, text, "read with a decimal comma")
            return Decimal(text.replace(",", "."))
        self.note("not-a-decimal", column, node, text, "is not a decimal number; stored null")
        return None

    def integer(self, node: Any | None, column: str) -> int | None:
        text = (node.text or "").strip() if node is not None else ""
        if not text:
            return None
        if _INT_RE.match(text):
            return int(text)
        self.note("not-an-integer", column, node, text, "is not an integer; stored null")
        return None

    def timestamp(self, holder: Any | None, column: str) -> tuple[datetime | None, dict | None]:
        """A WCO date/time element (with or without DateTimeString) and its ``dates`` entry."""
        if holder is None:
            return None, None
        node = self.child(holder, "DateTimeString")
        node = holder if node is None else node
        text = (node.text or "").strip()
        if not text:
            return None, None
        format_code = self.attr(node, "formatCode")
        entry = {"qualifier": _local(holder.tag), "value": text, "format": format_code}
        try:
            return parse_wco_datetime(text, format_code), entry
        except ValueError as exc:
            self.note("not-a-timestamp", column, node, text, f"{exc}; stored null")
            return None, entry

    def unread(self) -> list[str]:
        """``unknown_segments``: unread attributes of every element, then unread leaves."""
        out: list[str] = []
        paths = _Paths(self.message)
        for node in self.message.iter():
            if not isinstance(node.tag, str):
                continue
            if node.items():  # (most elements have no attribute: no call for them)
                out.extend(_unread_attributes(node, self.used_attributes, paths))
            if node not in self.used and not any(isinstance(c.tag, str) for c in node):
                out.append(_leaf(node, paths))
        return out


class _Paths:
    """:func:`_path` below one top element, each element's path and step computed once.

    Why: the paths of a message's unread values share their ancestors, and :func:`_step`
    scans an element's siblings; a message's unread part used to cost a third of its parse.
    Holding the elements here also keeps lxml's proxies (and so their identity) alive.
    """

    def __init__(self, top: Any) -> None:
        self.top = top
        self.known: dict[Any, str] = {top: _local(top.tag)}
        self.steps: dict[Any, str] = {}

    def of(self, node: Any) -> str:
        """``_path(node, top)``: the parent's path and the node's step."""
        known = self.known.get(node)
        if known is not None:
            return known
        parent = node.getparent()
        if parent is None:  # not below top (a caller's mistake): the plain walk
            return _path(node, self.top)
        step = self.steps.get(node)
        if step is None:
            self._steps_of(parent)
            step = self.steps[node]
        path = self.known[node] = f"{self.of(parent)}/{step}"
        return path

    def _steps_of(self, parent: Any) -> None:
        """``_step`` of every element child of ``parent``, in one pass over them."""
        named = [(c, _local(c.tag)) for c in parent if isinstance(c.tag, str)]
        total: dict[str, int] = {}
        for _, name in named:
            total[name] = total.get(name, 0) + 1
        seen: dict[str, int] = {}
        for child, name in named:
            if total[name] == 1:
                self.steps[child] = name
            else:
                seen[name] = seen.get(name, 0) + 1
                self.steps[child] = f"{name}[{seen[name]}]"


def _unread_attributes(node: Any, used: set[tuple[Any, str]], paths: _Paths) -> list[str]:
    return [
        f"{paths.of(node)}/@{_local(name)}={value}"
        for name, value in node.attrib.items()
        if (node, name) not in used and not name.startswith(f"{{{_XSI}}}")
    ]


def _leaf(node: Any, paths: _Paths) -> str:
    text = (node.text or "").strip()
    path = paths.of(node)
    return f"{path}={text}" if text else path


def _step(node: Any) -> str:
    """The local name, with the 1-based position among same-named siblings when repeated."""
    name = _local(node.tag)
    parent = node.getparent()
    if parent is None:
        return name
    same = [c for c in parent if isinstance(c.tag, str) and _local(c.tag) == name]
    return name if len(same) == 1 else f"{name}[{same.index(node) + 1}]"


def _path(node: Any, top: Any) -> str:
    """Path of local names from ``top`` (included) down to ``node``."""
    steps = [_step(node)] if node is not top else [_local(node.tag)]
    if node is not top:
        for ancestor in node.iterancestors():
            if ancestor is top:
                steps.append(_local(top.tag))
                break
            steps.append(_step(ancestor))
    return "/".join(reversed(steps))


def _where(node: Any, top: Any) -> str:
    return f"{_path(node, top)}, line {node.sourceline}"


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"zone offset {text!r} out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_wco_datetime(text: str, format_code: str | None = None) -> datetime:
    """A WCO DateTimeString (formatCode 102/304) or ISO-8601 text as a tz-aware UTC datetime.

    A value without a zone is taken as UTC. Raises ``ValueError`` when the text does not fit.
    """
    value = text.strip()
    if format_code in (None, "304") and (m := _WCO_304_RE.match(value)):
        d = m.group(1)
        naive = datetime(
            int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[8:10]), int(d[10:12]), int(d[12:14])
        )
        return naive.replace(tzinfo=_zone(m.group(2))).astimezone(UTC)
    if format_code in (None, "102") and (m := _WCO_102_RE.match(value)):
        d = m.group(1)
        return datetime(int(d[0:4]), int(d[4:6]), int(d[6:8]), tzinfo=UTC)
    if format_code == "304":
        raise ValueError(f"{value!r} does not match formatCode 304 (CCYYMMDDHHMMSS[zone])")
    if format_code == "102":
        raise ValueError(f"{value!r} does not match formatCode 102 (CCYYMMDD)")
    if m := _ISO_RE.match(value):
        naive = datetime.fromisoformat(f"{m.group(1)}T{m.group(2) or '00:00'}")
        return naive.replace(tzinfo=_zone(m.group(3))).astimezone(UTC)
    raise ValueError(f"{value!r} is not a WCO DateTimeString or an ISO-8601 timestamp")


def _party(reader: _Reader, node: Any, role: str) -> dict[str, Any]:
    id_node = reader.child(node, "ID")
    return {
        "role": role,
        "id": reader.text(node, "ID"),
        "id_scheme": reader.attr(id_node, "schemeID"),
        "name": reader.text(node, "Name"),
        "country": reader.text(node, "Address", "CountryCode"),
        "street": reader.text(node, "Address", "Line"),
        "city": reader.text(node, "Address", "CityName"),
        "postcode": reader.text(node, "Address", "PostcodeID"),
    }


def _envelope(message_type: str, directory_version: str | None) -> dict[str, Any]:
    return {
        "syntax": "xml",
        "message_type": message_type,
        "directory_version": directory_version,
        "interchange_ref": None,
        "message_ref": None,
        "sender_id": None,
        "recipient_id": None,
        "control_issues": [],
        "unknown_segments": [],
    }


def _transport(reader: _Reader, declaration: Any, shipment: Any) -> dict[str, Any]:
    """Border transport means first (what customs statistics count), departure as fallback;
    every mode and identity sent is also kept in ``references``."""
    consignment = reader.child(shipment, "Consignment")
    means = [
        ("BorderTransportMeans", reader.child(declaration, "BorderTransportMeans")),
        ("BorderTransportMeans", reader.child(consignment, "BorderTransportMeans")),
        ("DepartureTransportMeans", reader.child(consignment, "DepartureTransportMeans")),
    ]
    sent = [(name, reader.text(n, "ModeCode"), reader.text(n, "ID")) for name, n in means]
    references = [
        {"qualifier": f"{name}/{part}", "value": value}
        for name, mode, ident in sent
        for part, value in (("ModeCode", mode), ("ID", ident))
        if value
    ]
    return {
        "transport_mode": next((mode for _, mode, _ in sent if mode), None),
        "transport_id": next((ident for _, _, ident in sent if ident), None),
        "references": references,
    }


def _map_declaration(
    reader: _Reader, declaration: Any, directory_version: str | None
) -> dict[str, Any]:
    lrn = reader.text(declaration, "FunctionalReferenceID")
    if not lrn:
        raise _MappingError(
            "mandatory LRN (Declaration/FunctionalReferenceID) is missing or empty",
            "Declaration/FunctionalReferenceID",
            None,
            "required",
        )
    type_code = reader.text(declaration, "TypeCode")
    issue_datetime, issued = reader.timestamp(
        reader.child(declaration, "IssueDateTime"), "issue_datetime"
    )
    invoice = reader.child(declaration, "InvoiceAmount")

    parties: list[dict[str, Any]] = []
    for name, role in _HEADER_PARTIES.items():
        parties.extend(_party(reader, n, role) for n in reader.children(declaration, name))

    shipment = reader.child(declaration, "GoodsShipment")
    for name, role in _SHIPMENT_PARTIES.items():
        parties.extend(_party(reader, n, role) for n in reader.children(shipment, name))

    references: list[dict[str, str | None]] = []
    rate_currency = reader.text(shipment, "CurrencyExchange", "CurrencyTypeCode")
    if rate_currency:
        references.append(
            {"qualifier": "CurrencyExchange/CurrencyTypeCode", "value": rate_currency}
        )
    transport = _transport(reader, declaration, shipment)
    references.extend(transport.pop("references"))

    items = [
        _map_item(reader, node, i)
        for i, node in enumerate(reader.children(shipment, "GovernmentAgencyGoodsItem"))
    ]
    procedures = {item["procedure_code"] for item in items}
    return {
        **_envelope(MESSAGE_TYPE, directory_version),
        "lrn": lrn,
        "declaration_type": type_code[:2] if type_code else None,
        "declaration_type_ext": (type_code[2:] or None) if type_code else None,
        "message_function": reader.text(declaration, "FunctionCode"),
        "issue_datetime": issue_datetime,
        # The profile carries the procedure per item; the header gets it when all items agree.
        "procedure_code": procedures.pop() if len(procedures) == 1 else None,
        "office_code": reader.text(declaration, "DeclarationOfficeID"),
        "country_of_dispatch": reader.text(shipment, "ExportCountry", "ID"),
        "country_of_destination": reader.text(shipment, "Destination", "CountryCode"),
        **transport,
        "delivery_terms": reader.text(shipment, "TradeTerms", "ConditionCode"),
        "invoice_amount": reader.decimal(invoice, "invoice_amount"),
        "invoice_currency": reader.attr(invoice, "currencyID"),
        "exchange_rate": reader.decimal(
            reader.child(shipment, "CurrencyExchange", "RateNumeric"), "exchange_rate"
        ),
        "total_duty": None,
        "total_duty_currency": None,
        "parties": parties,
        "references": references,
        "dates": [issued] if issued else [],
        "declaration_taxes": [],
        "items": items,
    }


def _classification(
    reader: _Reader, commodity: Any, references: list[dict[str, str | None]]
) -> tuple[str | None, str | None]:
    """The tariff code: the TSP classification (UK CDS) or the first; the others to references."""
    classifications = [
        (reader.text(node, "ID"), reader.text(node, "IdentificationTypeCode"))
        for node in reader.children(commodity, "Classification")
    ]
    chosen = next((c for c in classifications if c[1] == "TSP"), None)
    if chosen is None and classifications:
        chosen = classifications[0]
    for classification in classifications:
        if classification is not chosen and classification[0]:
            qualifier = f"Classification/{classification[1] or ''}".rstrip("/")
            references.append({"qualifier": qualifier, "value": classification[0]})
    return chosen if chosen else (None, None)


def _procedure(reader: _Reader, item: Any, references: list[dict[str, str | None]]) -> str | None:
    procedure_code = None
    for index, node in enumerate(reader.children(item, "GovernmentProcedure")):
        current = reader.text(node, "CurrentCode")
        previous = reader.text(node, "PreviousCode")
        if index == 0:
            procedure_code = f"{current or ''}{previous or ''}" or None
            continue
        if current:
            references.append({"qualifier": "AdditionalProcedure", "value": current})
        if previous:
            references.append({"qualifier": "AdditionalProcedure/PreviousCode", "value": previous})
    return procedure_code


def _origin(reader: _Reader, item: Any, references: list[dict[str, str | None]]) -> str | None:
    """Non-preferential origin (TypeCode 1, or untyped) wins over a preferential one."""
    origins = [(node, reader.text(node, "TypeCode")) for node in reader.children(item, "Origin")]
    origin = next((node for node, kind in origins if kind in (None, "1")), None)
    if origin is None and origins:
        origin = origins[0][0]
    for node, kind in origins:
        country = reader.text(node, "CountryCode")
        if node is not origin and country:
            references.append({"qualifier": f"Origin/{kind or ''}".rstrip("/"), "value": country})
        elif node is origin and kind:
            references.append({"qualifier": "Origin/TypeCode", "value": kind})
    return reader.text(origin, "CountryCode")


def _map_item(reader: _Reader, item: Any, i: int) -> dict[str, Any]:
    at = f"items[{i}]"
    commodity = reader.child(item, "Commodity")
    references: list[dict[str, str | None]] = []
    hs_code, hs_code_list = _classification(reader, commodity, references)
    procedure_code = _procedure(reader, item, references)
    origin_country = _origin(reader, item, references)
    customs_value = reader.child(commodity, "InvoiceLine", "ItemChargeAmount")
    gross = reader.child(commodity, "GoodsMeasure", "GrossMassMeasure")
    net = reader.child(commodity, "GoodsMeasure", "NetNetWeightMeasure")
    tariff_quantity = reader.child(commodity, "GoodsMeasure", "TariffQuantity")
    package_counts = [
        reader.integer(reader.child(node, "QuantityQuantity"), f"{at}.packages")
        for node in reader.children(item, "Packaging")
    ]
    counted = [count for count in package_counts if count is not None]
    if len(counted) > 1:  # the column holds the sum: keep each count sent
        references.extend(
            {"qualifier": "Packaging/QuantityQuantity", "value": str(c)} for c in counted
        )
    taxes = reader.children(commodity, "DutyTaxFee")
    return {
        "item_no": reader.integer(reader.child(item, "SequenceNumeric"), f"{at}.item_no"),
        "hs_code": hs_code,
        "hs_code_list": hs_code_list,
        "procedure_code": procedure_code,
        "description": reader.text(commodity, "Description"),
        "origin_country": origin_country,
        "customs_value": reader.decimal(customs_value, f"{at}.customs_value"),
        "value_currency": reader.attr(customs_value, "currencyID"),
        "statistical_value": reader.decimal(
            reader.child(item, "StatisticalValueAmount"), f"{at}.statistical_value"
        ),
        "gross_mass": reader.decimal(gross, f"{at}.gross_mass"),
        "net_mass": reader.decimal(net, f"{at}.net_mass"),
        "mass_unit": reader.attr(gross, "unitCode") or reader.attr(net, "unitCode"),
        "quantity": reader.decimal(tariff_quantity, f"{at}.quantity"),
        "quantity_unit": reader.attr(tariff_quantity, "unitCode"),
        "packages": sum(counted) if counted else None,
        "taxes": [_map_tax(reader, n, f"{at}.taxes[{j}]") for j, n in enumerate(taxes)],
        "references": references,
    }


def _map_tax(reader: _Reader, fee: Any, at: str) -> dict[str, Any]:
    payment = reader.child(fee, "Payment")
    assessed = reader.child(payment, "TaxAssessedAmount")
    ad_valorem_base = reader.child(fee, "AdValoremTaxBaseAmount")
    has_ad_valorem = ad_valorem_base is not None and (ad_valorem_base.text or "").strip()
    # The specific base is read only when it is the base; beside an ad valorem one it stays
    # unread, so it lands in unknown_segments instead of vanishing.
    base = ad_valorem_base if has_ad_valorem else reader.child(fee, "SpecificTaxBaseQuantity")
    rate = reader.child(fee, "RateNumeric")
    if rate is None:
        rate = reader.child(fee, "TaxRateNumeric")  # the name DMS responses use
    return {
        "tax_type": reader.text(fee, "TypeCode"),
        "tax_category": reader.text(fee, "DutyRegimeCode"),
        "rate": reader.decimal(rate, f"{at}.rate"),
        "base_amount": reader.decimal(base, f"{at}.base_amount"),
        "amount": reader.decimal(assessed, f"{at}.amount"),
        "currency": reader.attr(assessed, "currencyID")
        or reader.attr(ad_valorem_base, "currencyID"),
    }


# --- responses (DMS notifications) -----------------------------------------------------------


def _map_response(reader: _Reader, response: Any, directory_version: str | None) -> dict[str, Any]:
    """A DMS ``Response`` mapped like a CUSRES: what it answers, its status, errors and taxes."""
    declaration = reader.child(response, "Declaration")
    mrn = reader.text(declaration, "ID")
    lrn = reader.text(declaration, "FunctionalReferenceID")
    document_number = reader.text(response, "FunctionalReferenceID") or reader.text(response, "ID")
    if not (mrn or lrn or document_number):
        raise _MappingError(
            "a response names no declaration (Declaration/ID or Declaration/"
            "FunctionalReferenceID) and has no reference of its own (FunctionalReferenceID)",
            "Response/Declaration/ID",
            None,
            "required",
        )
    issue_datetime, issued = reader.timestamp(
        reader.child(response, "IssueDateTime"), "issue_datetime"
    )
    dates = [issued] if issued else []
    for holder in (reader.child(declaration, "AcceptanceDateTime"),):
        _, entry = reader.timestamp(holder, "dates")
        if entry:
            dates.append(entry)
    statuses = reader.children(response, "Status")
    for status in statuses:
        _, entry = reader.timestamp(reader.child(status, "EffectiveDateTime"), "dates")
        if entry:
            dates.append(entry)
    references = [
        {"qualifier": f"Declaration/{name}", "value": value}
        for name, value in (("ID", mrn), ("FunctionalReferenceID", lrn))
        if value
    ]
    references.extend(_additional_information(reader, response))
    return {
        **_envelope(RESPONSE_MESSAGE_TYPE, directory_version),
        "document_number": document_number,
        "response_type": reader.text(response, "FunctionCode"),
        "message_function": reader.text(response, "TypeCode"),
        "issue_datetime": issue_datetime,
        "declaration_ref": mrn or lrn,
        "status": next((s for s in (reader.text(n, "NameCode") for n in statuses) if s), None),
        "errors": [_map_error(reader, node) for node in reader.children(response, "Error")],
        "taxes": _response_taxes(reader, response),
        "references": references,
        "dates": dates,
        "parties": [
            _party(reader, node, name)
            for name in _RESPONSE_PARTIES
            for node in reader.children(response, name)
        ],
    }


def _map_error(reader: _Reader, error: Any) -> dict[str, str | None]:
    """An error: its validation code, where it points (section/tag/sequence...), its text."""
    pointers = []
    for pointer in reader.children(error, "Pointer"):
        parts = [
            reader.text(pointer, name)
            for name in ("DocumentSectionCode", "TagID", "SequenceNumeric")
        ]
        pointers.append("/".join(p for p in parts if p))
    return {
        "code": reader.text(error, "ValidationCode"),
        "reference": " > ".join(p for p in pointers if p) or None,
        "text": reader.text(error, "DescriptionText") or reader.text(error, "Description"),
    }


def _additional_information(reader: _Reader, response: Any) -> list[dict[str, str | None]]:
    out: list[dict[str, str | None]] = []
    for node in reader.children(response, "AdditionalInformation"):
        kind = reader.text(node, "StatementTypeCode") or reader.text(node, "StatementCode")
        value = reader.text(node, "StatementDescription") or reader.text(node, "StatementCode")
        if value:
            out.append(
                {"qualifier": f"AdditionalInformation/{kind or ''}".rstrip("/"), "value": value}
            )
    return out


def _response_taxes(reader: _Reader, response: Any) -> list[dict[str, Any]]:
    """Every duty/tax line of a tax assessment, wherever the sender put it: on the response,
    under its ``Declaration``, or per goods item (``GoodsShipment/.../Commodity``)."""
    fees = [node for node in response.iter() if _local(node.tag) == "DutyTaxFee"]
    fees = [
        fee for fee in fees if not any(_local(a.tag) == "DutyTaxFee" for a in fee.iterancestors())
    ]
    reader.used.update(fees)
    return [_map_tax(reader, fee, f"taxes[{j}]") for j, fee in enumerate(fees)]
