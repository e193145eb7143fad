"""Parser for WCO Data Model 3.x declarations (DEC-DMS profile), one declaration per file.

Why it looks the way it does:

* **Match by local name.** National systems and middleware re-prefix freely (``<dec:TypeCode>``,
  a default namespace, a prefix re-declared on every element, or no namespace at all). The
  meaning of an element is its local name and position, so namespaces are ignored for mapping.
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
* **Nothing is dropped silently.** Every element the mapping does not read is listed in
  ``unknown_segments`` as ``<local-name path>=<text>`` (one entry per unread leaf), so a
  producer's extension shows up in bronze instead of vanishing.
* **Optional XSD.** With ``xsd_path`` the document is validated against our own small XSD of the
  profile (``schemas/wco_dec_dms.xsd``). Elements are first moved into the profile namespace, so
  the XSD checks structure and values with the same namespace tolerance as the mapping.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
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
    "TABLE",
    "bundled_xsd_path",
    "parse_wco_datetime",
    "parse_wco_xml_file",
    "parse_wco_xml_file_validated",
]

TABLE = "cms_declarations"
MESSAGE_TYPE = "WCO_DEC"
DEC_DMS_NAMESPACE = "urn:wco:datamodel:WCO:DEC-DMS:2"

# Party elements and the role codes (UN/EDIFACT 3035 style, as CUSDEC uses) they map to.
_HEADER_PARTIES = {"Declarant": "DT", "Exporter": "EX", "Agent": "AE"}
_SHIPMENT_PARTIES = {
    "Importer": "IM",
    "Consignee": "CN",
    "Consignor": "CZ",
    "Buyer": "BY",
    "Seller": "SE",
}

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
_INT_RE = re.compile(r"^[+-]?\d+$")
_ZONE = r"(Z|[+-]\d{2}(?::?\d{2})?)?"
_WCO_304_RE = re.compile(r"^(\d{14})" + _ZONE + "$")
_WCO_102_RE = re.compile(r"^(\d{8})$")
_ISO_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?" + _ZONE + "$"
)


class _MappingError(ValueError):
    """A well-formed document whose business content cannot be mapped (becomes E_MAPPING)."""


def bundled_xsd_path() -> str:
    """Filesystem path of the profile XSD shipped with the package (for ``xsd_path=``)."""
    return str(resources.files("lakehouse.formats").joinpath("schemas", "wco_dec_dms.xsd"))


def parse_wco_xml_file_validated(data: bytes, source: str) -> Iterator[Outcome]:
    """:func:`parse_wco_xml_file` with the bundled XSD: a ``FileParser`` for strict feeds."""
    return parse_wco_xml_file(data, source, xsd_path=bundled_xsd_path())


def parse_wco_xml_file(
    data: bytes, source: str, *, xsd_path: str | None = None
) -> Iterator[Outcome]:
    """Parse one landed WCO DEC-DMS file into one ``cms_declarations`` record or a rejection.

    ``source`` names the file in messages only. With ``xsd_path`` the document must also
    validate against that XSD (failures are ``E_SCHEMA``). Never raises on bad input; a missing
    or broken XSD file is a configuration error and does raise.
    """
    yield _parse(data, source, xsd_path)


def _reject(raw: str, code: str, reason: str) -> Rejected:
    return Rejected(0, raw, code, reason, MESSAGE_TYPE)


def _parse(data: bytes, source: str, xsd_path: str | None) -> Outcome:
    encoding = _detect_encoding(data)
    try:
        text = data.decode(encoding)
    except LookupError:
        raw = data.decode("utf-8", errors="backslashreplace")
        return _reject(raw, E_ENCODING, f"{source}: unknown character set {encoding!r} declared")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raw = data.decode(encoding, errors="backslashreplace")
        return _reject(
            raw,
            E_ENCODING,
            f"{source}: bytes are not valid {encoding} at byte offset {exc.start} "
            f"(line {line}): {exc.reason}",
        )
    raw = text = text.removeprefix("\ufeff")
    # lxml refuses str input that carries an encoding declaration; we have decoded already.
    # Replace the declaration (and any whitespace before it) by as many newlines as it held.
    text = _DECL_RE.sub(lambda m: "\n" * m.group(0).count("\n"), raw, count=1)
    if not text.strip():
        return _reject(raw, E_EMPTY, f"{source}: the file holds no XML document")

    try:
        root = etree.fromstring(text, _secure_parser())
    except etree.XMLSyntaxError as exc:
        return _reject(raw, E_SYNTAX, f"{source}: XML is not well-formed: {exc.msg}")
    except ValueError as exc:  # e.g. a second XML declaration lxml refuses on str input
        return _reject(raw, E_SYNTAX, f"{source}: XML is not well-formed: {exc}")

    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        return _reject(
            raw,
            E_UNSUPPORTED,
            f"{source}: documents with a DOCTYPE/DTD are not accepted "
            "(entity and DTD processing are disabled for security)",
        )

    reader = _Reader()
    declaration, envelope = _find_declaration(reader, root)
    if declaration is None:
        return _reject(
            raw,
            E_UNSUPPORTED,
            f"{source}: root element is {_local(root.tag)!r}, not a WCO 'Declaration'",
        )

    if xsd_path is not None:
        problem = _xsd_problem(declaration, xsd_path)
        if problem is not None:
            return _reject(raw, E_SCHEMA, f"{source}: XSD validation failed: {problem}")

    try:
        record = _map_declaration(reader, declaration, envelope)
    except _MappingError as exc:
        return _reject(raw, E_MAPPING, f"{source}: {exc}")
    record["unknown_segments"] = reader.unread(root)
    return ParsedRecord(TABLE, 0, record)


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


def _find_declaration(reader: _Reader, root: Any) -> tuple[Any | None, dict[str, str | None]]:
    """The Declaration element: the root itself, or inside a WCO ``MetaData`` wrapper."""
    envelope: dict[str, str | None] = {"directory_version": None}
    name = _local(root.tag)
    reader.used.add(root)
    if name == "Declaration":
        return root, envelope
    if name == "MetaData":
        envelope["directory_version"] = reader.text(root, "WCODataModelVersionCode")
        return reader.child(root, "Declaration"), envelope
    return None, envelope


@lru_cache(maxsize=8)
def _load_xsd(path: str) -> tuple[etree.XMLSchema, str]:
    """The compiled XSD and its target namespace (compiled once per path and process)."""
    document = etree.parse(path, _secure_parser())
    namespace = document.getroot().get("targetNamespace") or DEC_DMS_NAMESPACE
    return etree.XMLSchema(document), namespace


def _xsd_problem(declaration: Any, xsd_path: str) -> str | None:
    schema, namespace = _load_xsd(xsd_path)
    normalized = copy.deepcopy(declaration)
    for element in normalized.iter():
        if isinstance(element.tag, str):
            element.tag = f"{{{namespace}}}{_local(element.tag)}"
    etree.cleanup_namespaces(normalized)
    if schema.validate(normalized):
        return None
    errors = list(schema.error_log)
    first = errors[0]
    message = first.message.replace(f"{{{namespace}}}", "")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"line {first.line}: {message}{more}"


class _Reader:
    """Reads elements by local name and remembers which ones the mapping consumed."""

    def __init__(self) -> None:
        # lxml hands out the same proxy for a node while one is alive, so holding the proxies
        # here makes identity-based membership reliable.
        self.used: set[Any] = set()
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

    def unread(self, root: Any) -> list[str]:
        out = []
        for node in root.iter():
            if not isinstance(node.tag, str) or node in self.used:
                continue
            if any(isinstance(c.tag, str) for c in node):
                continue  # its leaves are reported
            text = (node.text or "").strip()
            out.append(f"{_path(node)}={text}" if text else _path(node))
        return out


def _path(node: Any) -> str:
    names = [_local(node.tag)]
    names.extend(_local(a.tag) for a in node.iterancestors())
    return "/".join(reversed(names))


def _where(node: Any) -> str:
    return f"{_path(node)} (line {node.sourceline})"


def _decimal(node: Any | None) -> Decimal | None:
    if node is None:
        return None
    text = (node.text or "").strip()
    if not text:
        return None
    if not _DECIMAL_RE.match(text):
        raise _MappingError(f"{_where(node)}: {text!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise _MappingError(f"{_where(node)}: {text!r} is not a decimal number") from exc


def _integer(node: Any | None) -> int | None:
    if node is None:
        return None
    text = (node.text or "").strip()
    if not text:
        return None
    if not _INT_RE.match(text):
        raise _MappingError(f"{_where(node)}: {text!r} is not an integer")
    return int(text)


def _attr(node: Any | None, name: str) -> str | None:
    if node is None:
        return None
    value = node.get(name)
    return value.strip() or None if value is not None else None


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


def _issue_datetime(reader: _Reader, declaration: Any) -> tuple[datetime | None, list[dict]]:
    holder = reader.child(declaration, "IssueDateTime")
    if holder is None:
        return None, []
    node = reader.child(holder, "DateTimeString")
    if node is None:
        node = holder
    text = (node.text or "").strip()
    if not text:
        return None, []
    format_code = _attr(node, "formatCode")
    try:
        value = parse_wco_datetime(text, format_code)
    except ValueError as exc:
        raise _MappingError(f"{_where(node)}: {exc}") from exc
    return value, [{"qualifier": "IssueDateTime", "value": text, "format": format_code}]


def _party(reader: _Reader, node: Any, role: str) -> dict[str, Any]:
    id_node = reader.child(node, "ID")
    return {
        "role": role,
        "id": reader.text(node, "ID"),
        "id_scheme": _attr(id_node, "schemeID"),
        "name": reader.text(node, "Name"),
        "country": reader.text(node, "Address", "CountryCode"),
        "street": reader.text(node, "Address", "Line"),
        "city": reader.text(node, "Address", "CityName"),
        "postcode": reader.text(node, "Address", "PostcodeID"),
    }


def _map_declaration(
    reader: _Reader, declaration: Any, envelope: dict[str, str | None]
) -> dict[str, Any]:
    reader.used.add(declaration)
    lrn = reader.text(declaration, "FunctionalReferenceID")
    if not lrn:
        raise _MappingError("mandatory LRN (Declaration/FunctionalReferenceID) is missing or empty")
    type_code = reader.text(declaration, "TypeCode")
    issue_datetime, dates = _issue_datetime(reader, declaration)
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

    items = [
        _map_item(reader, node) for node in reader.children(shipment, "GovernmentAgencyGoodsItem")
    ]
    procedures = {item["procedure_code"] for item in items}
    return {
        "syntax": "xml",
        "message_type": MESSAGE_TYPE,
        "directory_version": envelope["directory_version"],
        "interchange_ref": None,
        "message_ref": None,
        "sender_id": None,
        "recipient_id": None,
        "control_issues": [],
        "unknown_segments": [],
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
        "transport_mode": reader.text(
            shipment, "Consignment", "DepartureTransportMeans", "ModeCode"
        ),
        "transport_id": reader.text(shipment, "Consignment", "DepartureTransportMeans", "ID"),
        "delivery_terms": reader.text(shipment, "TradeTerms", "ConditionCode"),
        "invoice_amount": _decimal(invoice),
        "invoice_currency": _attr(invoice, "currencyID"),
        "exchange_rate": _decimal(reader.child(shipment, "CurrencyExchange", "RateNumeric")),
        "total_duty": None,
        "total_duty_currency": None,
        "parties": parties,
        "references": references,
        "dates": dates,
        "declaration_taxes": [],
        "items": items,
    }


def _map_item(reader: _Reader, item: Any) -> dict[str, Any]:
    commodity = reader.child(item, "Commodity")
    references: list[dict[str, str | None]] = []

    # The tariff code is the TSP classification (UK CDS); other schemes go to references.
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

    procedures = reader.children(item, "GovernmentProcedure")
    procedure_code = None
    for index, node in enumerate(procedures):
        current = reader.text(node, "CurrentCode")
        previous = reader.text(node, "PreviousCode")
        if index == 0:
            procedure_code = f"{current or ''}{previous or ''}" or None
        elif current:
            references.append({"qualifier": "AdditionalProcedure", "value": current})

    # Non-preferential origin (TypeCode 1, or untyped) wins over a preferential one.
    origins = [(node, reader.text(node, "TypeCode")) for node in reader.children(item, "Origin")]
    origin = next((node for node, kind in origins if kind in (None, "1")), None)
    if origin is None and origins:
        origin = origins[0][0]
    for node, kind in origins:
        country = reader.text(node, "CountryCode")
        if node is not origin and country:
            references.append({"qualifier": f"Origin/{kind or ''}".rstrip("/"), "value": country})

    customs_value = reader.child(commodity, "InvoiceLine", "ItemChargeAmount")
    gross = reader.child(commodity, "GoodsMeasure", "GrossMassMeasure")
    net = reader.child(commodity, "GoodsMeasure", "NetNetWeightMeasure")
    tariff_quantity = reader.child(commodity, "GoodsMeasure", "TariffQuantity")
    package_counts = [
        _integer(reader.child(node, "QuantityQuantity"))
        for node in reader.children(item, "Packaging")
    ]
    counted = [count for count in package_counts if count is not None]

    return {
        "item_no": _integer(reader.child(item, "SequenceNumeric")),
        "hs_code": chosen[0] if chosen else None,
        "hs_code_list": chosen[1] if chosen else None,
        "procedure_code": procedure_code,
        "description": reader.text(commodity, "Description"),
        "origin_country": reader.text(origin, "CountryCode"),
        "customs_value": _decimal(customs_value),
        "value_currency": _attr(customs_value, "currencyID"),
        "statistical_value": _decimal(reader.child(item, "StatisticalValueAmount")),
        "gross_mass": _decimal(gross),
        "net_mass": _decimal(net),
        "mass_unit": _attr(gross, "unitCode") or _attr(net, "unitCode"),
        "quantity": _decimal(tariff_quantity),
        "quantity_unit": _attr(tariff_quantity, "unitCode"),
        "packages": sum(counted) if counted else None,
        "taxes": [_map_tax(reader, n) for n in reader.children(commodity, "DutyTaxFee")],
        "references": references,
    }


def _map_tax(reader: _Reader, fee: Any) -> dict[str, Any]:
    assessed = reader.child(fee, "Payment", "TaxAssessedAmount")
    ad_valorem_base = reader.child(fee, "AdValoremTaxBaseAmount")
    specific_base = reader.child(fee, "SpecificTaxBaseQuantity")
    base = ad_valorem_base if _decimal(ad_valorem_base) is not None else specific_base
    return {
        "tax_type": reader.text(fee, "TypeCode"),
        "tax_category": reader.text(fee, "DutyRegimeCode"),
        "rate": _decimal(reader.child(fee, "RateNumeric")),
        "base_amount": _decimal(base),
        "amount": _decimal(assessed),
        "currency": _attr(assessed, "currencyID") or _attr(ad_valorem_base, "currencyID"),
    }
