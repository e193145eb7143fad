"""Customs EDIFACT messages (CUSDEC, CUSRES, CUSCAR) -> bronze records.

Why a mapping layer of its own: the syntax layer (:mod:`lakehouse.formats.edifact`) is
message-agnostic; this module knows where the customs business fields live. It keys on
segment tags, qualifiers and *nesting* (which trigger segment opened the current group), never
on segment-group numbers, because those shift between directories (D96B/D01B goods item is
SG30, D13B and later SG32 after GIS->GEI, PAT->PYT and the new EFI groups). The same code
therefore reads D96B, D01B and D13B+ layouts, national variants included.

Rules every mapper follows
    * Record dicts carry exactly the fields of the target table in :mod:`lakehouse.tables`.
    * Raw codes are kept (document type 929, function 9, procedure 4000, tax type CUD...);
      amounts are :class:`~decimal.Decimal`; timestamps are tz-aware UTC ``datetime``. EDIFACT
      times without a zone (formats 102/203/204...) are taken as UTC; 303/304 zones are applied.
    * Nothing is dropped silently: every segment the mapper did not store (or that repeats a
      field already filled) goes, as its source text without terminator, to
      ``unknown_segments``. A number that does not parse leaves the field ``None`` and keeps its
      segment in ``unknown_segments``.
    * A declaration without LRN (BGM document number) is rejected ``E_MAPPING``; message types
      other than the three mapped ones are rejected ``E_UNSUPPORTED`` with the message as raw.

CUSDEC reading order: header until ``UNS+D``; in the detail section a goods item starts at each
``CST`` (a CST with an item number also starts an item when a sender omits ``UNS``); commercial
document groups before the first CST (DMS/LIN...) are kept as unknown; ``UNS+S`` starts the
summary whose ``TAX``/``MOA`` groups are the declaration totals. ``total_duty`` is the sum of the
``MOA+176`` amounts, else of the summary tax amounts, else of the item tax amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lakehouse.formats.base import (
    E_MAPPING,
    E_UNSUPPORTED,
    Outcome,
    ParsedRecord,
    Rejected,
)
from lakehouse.formats.edifact import (
    Message,
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
    """A mandatory business field is missing or invalid (becomes ``E_MAPPING``)."""


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
        tz = _zone(value[cut:])
        value, fmt = value[:cut], ("203" if fmt == "303" else "204")
    if not fmt:
        fmt = _BY_LENGTH.get(len(value), "")
    pattern = _FORMATS.get(fmt)
    if pattern is None or not value.isdigit():
        return None
    try:
        parsed = datetime.strptime(value, pattern)
    except ValueError:
        return None
    return parsed.replace(tzinfo=tz).astimezone(UTC)


def _s(value: str) -> str | None:
    value = value.strip()
    return value or None


_INT_MAX = 2**31 - 1


def _int(value: str) -> int | None:
    """An ``int`` column value (Spark int); ``None`` when not an integer or out of range."""
    dec = to_decimal(value)
    if dec is None or dec != dec.to_integral_value() or abs(dec) > _INT_MAX:
        return None
    return int(dec)


def _num(value: str, dec: str, int_digits: int = 14) -> Decimal | None:
    """A decimal column value; ``None`` when not a number or too large for the column.

    ``int_digits`` is precision minus scale of the target (decimal(18,4) -> 14).
    """
    number = to_decimal(value, dec)
    if number is None or abs(number) >= Decimal(10) ** int_digits:
        return None
    return number


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


def _party(seg: Segment) -> dict[str, Any]:
    """NAD: 3035 role, C082 id (3039:1131:3055), C058/C080 name, 3207 country (element 9)."""
    name_parts = [p for p in components(seg, 4) if p] or [p for p in components(seg, 3) if p]
    return {
        "role": _s(component(seg, 1)),
        "id": _s(component(seg, 2, 0)),
        "id_scheme": _s(component(seg, 2, 2)) or _s(component(seg, 2, 1)),
        "name": " ".join(name_parts) or None,
        "country": _s(component(seg, 9)),
    }


def _ref(seg: Segment) -> dict[str, Any]:
    return {"qualifier": _s(component(seg, 1, 0)), "value": _s(component(seg, 1, 1))}


def _date(seg: Segment) -> dict[str, Any]:
    return {
        "qualifier": _s(component(seg, 1, 0)),
        "value": _s(component(seg, 1, 1)),
        "format": _s(component(seg, 1, 2)),
    }


def _tax(seg: Segment, dec: str) -> dict[str, Any]:
    """TAX: 5283 function, C241 type (5153), C533, 5286 basis, C243 rate (5278 = comp 3), 5305."""
    return {
        "tax_type": _s(component(seg, 2, 0)) or _s(component(seg, 1)),
        "tax_category": _s(component(seg, 6)),
        "rate": _num(component(seg, 5, 3), dec, 12),
        "base_amount": _num(component(seg, 4, 0), dec),
        "amount": None,
        "currency": None,
    }


def _tax_complete(seg: Segment, tax: dict[str, Any]) -> bool:
    """False when a rate/basis was written but did not parse (keep the segment raw)."""
    return (tax["rate"] is not None or not component(seg, 5, 3).strip()) and (
        tax["base_amount"] is not None or not component(seg, 4, 0).strip()
    )


_TAX_AMOUNT = frozenset({"161", "176", "55", "9", "124", "150"})
_TAX_BASE = frozenset({"125", "56"})


def _tax_moa(tax: dict[str, Any], seg: Segment, dec: str) -> bool:
    """Apply a MOA inside a TAX group; False when it does not belong there."""
    qual = component(seg, 1, 0)
    amount = _num(component(seg, 1, 1), dec)
    if amount is None:
        return False
    if qual in _TAX_AMOUNT and tax["amount"] is None:
        tax["amount"] = amount
    elif qual in _TAX_BASE and tax["base_amount"] is None:
        tax["base_amount"] = amount
    else:
        return False
    tax["currency"] = tax["currency"] or _s(component(seg, 1, 2))
    return True


def _issue_datetime(dates: list[tuple[str, str, str]]) -> datetime | None:
    for wanted in ("137", "182"):
        for qual, value, fmt in dates:
            if qual == wanted:
                parsed = parse_edifact_date(value, fmt)
                if parsed is not None:
                    return parsed
    return None


_GROSS = frozenset({"AAB", "AAD", "G", "ADX"})
_NET = frozenset({"AAC", "AAF", "N"})
_MASS_UNITS: dict[str, Decimal] = {
    "KGM": Decimal(1),
    "GRM": Decimal("0.001"),
    "TNE": Decimal(1000),
    "LBR": Decimal("0.45359237"),
    "MGM": Decimal("0.000001"),
}


def _convert_mass(value: Decimal, unit: str, target: str) -> Decimal | None:
    if unit == target:
        return value
    if unit in _MASS_UNITS and target in _MASS_UNITS:
        # Rounded to the bronze column's scale (0.1 g for kilograms).
        return (value * _MASS_UNITS[unit] / _MASS_UNITS[target]).quantize(Decimal("0.0001"))
    return None


def _item_mea(item: dict[str, Any], seg: Segment, dec: str) -> bool:
    """MEA: 6311 purpose (WT / AAE), C502 6313 dimension, C174 unit:value. True when stored."""
    purpose, dim = component(seg, 1), component(seg, 2, 0)
    unit, value = component(seg, 3, 0), _num(component(seg, 3, 1), dec)
    if value is None:
        return False
    # AAE is a supplementary measurement (a quantity), even when its unit is a mass unit:
    # it must never fill a gross or net mass that the declarant left empty.
    is_mass = purpose == "WT" or (unit in _MASS_UNITS and purpose != "AAE")
    if is_mass and dim in _GROSS | _NET:
        key = "gross_mass" if dim in _GROSS else "net_mass"
        if item[key] is not None:
            return False
        if item["mass_unit"] is None:
            item["mass_unit"] = _s(unit)
        elif unit and unit != item["mass_unit"]:
            converted = _convert_mass(value, unit, item["mass_unit"])
            if converted is None:
                return False
            value = converted
        item[key] = value
        return True
    if purpose in ("AAE", "CT", "SQ", "") and item["quantity"] is None:
        item["quantity"], item["quantity_unit"] = value, _s(unit)
        return True
    return False


# --------------------------------------------------------------------------- CUSDEC


_HS_LISTS = frozenset({"122", "HS", "105", "130"})
_PROCEDURE_LISTS = frozenset({"111", "108"})


def _cst_codes(seg: Segment) -> tuple[str | None, str | None, str | None]:
    """(hs_code, hs_code_list, procedure_code) from the C246 elements 2..6 of a CST."""
    hs = hs_list = proc = None
    unlisted: list[str] = []
    for i in range(2, min(len(seg), 7)):
        code, lst = component(seg, i, 0).strip(), component(seg, i, 1).strip()
        if not code:
            continue
        if lst in _HS_LISTS and hs is None:
            hs, hs_list = code, lst
        elif lst in _PROCEDURE_LISTS and proc is None:
            proc = code
        elif not lst:
            unlisted.append(code)
    for code in unlisted:
        if hs is None and code.isdigit() and len(code) >= 6:
            hs = code
        elif proc is None:
            proc = code
    return hs, hs_list, proc


def _new_item(seg: Segment, position: int) -> dict[str, Any]:
    hs, hs_list, proc = _cst_codes(seg)
    return {
        "item_no": _int(component(seg, 1)) or position,
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


def _item_segment(item: dict[str, Any], seg: Segment, dec: str) -> bool:
    """Store one segment of a goods item; False when it is not mapped."""
    tag = str(seg[0])
    if tag == "FTX":
        if component(seg, 1) != "AAA":
            return False
        text = " ".join(p for p in components(seg, 4) if p)
        if not text:
            return False
        item["description"] = f"{item['description']} {text}" if item["description"] else text
        return True
    if tag == "LOC":
        if component(seg, 1) == "27" and item["origin_country"] is None:
            item["origin_country"] = _s(component(seg, 2, 0))
            return True
        return False
    if tag == "MEA":
        return _item_mea(item, seg, dec)
    if tag == "QTY":
        value = _num(component(seg, 1, 1), dec)
        if value is None or item["quantity"] is not None:
            return False
        item["quantity"], item["quantity_unit"] = value, _s(component(seg, 1, 2))
        return True
    if tag == "MOA":
        qual = component(seg, 1, 0)
        amount = _num(component(seg, 1, 1), dec)
        if amount is None:
            return False
        if qual == "40" or (qual == "41" and item["customs_value"] is None):
            if item["customs_value"] is not None:
                return False
            item["customs_value"] = amount
            item["value_currency"] = _s(component(seg, 1, 2)) or item["value_currency"]
            return True
        if qual == "123" and item["statistical_value"] is None:
            item["statistical_value"] = amount
            return True
        return False
    if tag == "PAC":
        count = _int(component(seg, 1))
        if count is None:
            return False
        item["packages"] = (item["packages"] or 0) + count
        return True
    if tag == "RFF":
        ref = _ref(seg)
        item["references"].append(ref)
        if ref["qualifier"] == "HS" and item["hs_code"] is None:
            item["hs_code"] = ref["value"]
        return True
    return False


def map_cusdec(msg: Message) -> dict[str, Any]:
    """CUSDEC (D96B, D01B, D13B+) -> ``cms_declarations`` record; raises :class:`MappingError`."""
    dec = msg.delimiters.decimal
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
    unknown: list[str] = rec["unknown_segments"]
    items: list[dict[str, Any]] = rec["items"]
    top_dates: list[tuple[str, str, str]] = []
    totals: list[tuple[Decimal, str | None]] = []
    phase = "H"  # H header, D detail, S summary
    ctx = ""  # trigger tag of the current header group ("" = top level)
    item: dict[str, Any] | None = None
    tax: dict[str, Any] | None = None
    bgm_seen = False
    office_from_22 = False
    tdt_seen = False
    cnt_items: int | None = None
    segs, raws = msg.segments, msg.raws
    for k in range(1, len(segs) - 1):
        seg = segs[k]
        tag = str(seg[0])
        if tax is not None:
            if tag == "MOA":
                if _tax_moa(tax, seg, dec):
                    if component(seg, 1, 0) == "176":
                        totals.append((tax["amount"], tax["currency"]))
                    continue
            elif tag not in ("GIS", "GEI"):
                tax = None
        ok = True
        if tag == "UNS":
            phase = "D" if component(seg, 1) == "D" else "S"
            item = None
        elif tag == "TAX":
            tax = _tax(seg, dec)
            (item["taxes"] if item is not None else rec["declaration_taxes"]).append(tax)
            ok = _tax_complete(seg, tax)
        elif tag == "CST" and phase != "S" and (phase == "D" or component(seg, 1)):
            item = _new_item(seg, len(items) + 1)
            items.append(item)
            ok = _int(component(seg, 1)) is not None or not component(seg, 1).strip()
        elif item is not None:
            ok = _item_segment(item, seg, dec)
        elif phase == "S":
            if tag == "CNT" and component(seg, 1, 0) == "5":
                cnt_items = _int(component(seg, 1, 1))
            else:
                ok = False
        elif phase == "D":
            ok = False  # commercial document groups (DMS/LIN...) before the first goods item
        elif tag == "BGM" and not bgm_seen:
            bgm_seen = True
            rec["declaration_type"] = _s(component(seg, 1, 0))
            rec["declaration_type_ext"] = _s(component(seg, 1, 3))
            rec["lrn"] = _s(component(seg, 2, 0))
            rec["message_function"] = _s(component(seg, 3))
        elif tag == "CST" and rec["procedure_code"] is None:
            rec["procedure_code"] = _cst_codes(seg)[2] or _cst_codes(seg)[0]
            ok = rec["procedure_code"] is not None
        elif tag == "LOC":
            qual, place = component(seg, 1), _s(component(seg, 2, 0))
            if qual == "22" and not office_from_22:
                rec["office_code"], office_from_22 = place, True
            elif qual == "41" and rec["office_code"] is None:
                rec["office_code"] = place
            elif qual == "35" and rec["country_of_dispatch"] is None:
                rec["country_of_dispatch"] = place
            elif qual == "28" and rec["country_of_destination"] is None:
                rec["country_of_destination"] = place
            else:
                ok = False
        elif tag == "DTM":
            rec["dates"].append(_date(seg))
            if ctx == "":
                top_dates.append((component(seg, 1, 0), component(seg, 1, 1), component(seg, 1, 2)))
        elif tag == "RFF":
            ctx = tag
            rec["references"].append(_ref(seg))
        elif tag == "NAD":
            ctx = tag
            rec["parties"].append(_party(seg))
        elif tag == "TDT":
            ctx = tag
            if not tdt_seen:  # the first TDT is the declared means; later ones are kept raw
                tdt_seen = True
                rec["transport_id"] = _s(component(seg, 2)) or _s(component(seg, 8, 0))
                rec["transport_mode"] = _s(component(seg, 3, 0))
            else:
                ok = False
        elif tag == "TOD":
            ctx = tag
            terms = _s(component(seg, 3, 0))
            ok = terms is not None and rec["delivery_terms"] is None
            if ok:
                rec["delivery_terms"] = terms
        elif tag == "MOA":
            ctx = tag
            amount = _num(component(seg, 1, 1), dec)
            ok = component(seg, 1, 0) == "39" and amount is not None
            ok = ok and rec["invoice_amount"] is None
            if ok:
                rec["invoice_amount"] = amount
                rec["invoice_currency"] = _s(component(seg, 1, 2)) or rec["invoice_currency"]
        elif tag == "CUX":
            ctx = tag
            rate = _num(component(seg, 3), dec, 10)
            ok = rate is not None and rec["exchange_rate"] is None
            if ok:
                rec["exchange_rate"] = rate
            if rec["invoice_currency"] is None and component(seg, 1, 1):
                rec["invoice_currency"] = component(seg, 1, 1)
                ok = True
        else:
            if tag in ("PAC", "PCI", "DOC", "EFI"):  # other header group triggers
                ctx = tag
            ok = False
        if not ok:
            unknown.append(raws[k])

    if not bgm_seen:
        raise MappingError("CUSDEC has no BGM segment: the LRN (BGM C106/1004) is missing")
    if rec["lrn"] is None:
        raise MappingError("BGM document number (C106/1004, the LRN) is missing or empty")
    rec["issue_datetime"] = _issue_datetime(top_dates)
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


def map_cusres(msg: Message) -> dict[str, Any]:
    """CUSRES -> ``cms_responses`` record (errors from ERP/ERC/FTX, taxes from TAX/MOA)."""
    dec = msg.delimiters.decimal
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
    unknown: list[str] = rec["unknown_segments"]
    top_dates: list[tuple[str, str, str]] = []
    bgm: Segment | None = None
    in_error = False
    error_ref: str | None = None
    pending: list[dict[str, Any]] = []  # errors of the current ERP group
    tax: dict[str, Any] | None = None
    ctx = ""
    segs, raws = msg.segments, msg.raws
    for k in range(1, len(segs) - 1):
        seg = segs[k]
        tag = str(seg[0])
        if tax is not None:
            if tag == "MOA" and _tax_moa(tax, seg, dec):
                continue
            if tag not in ("MOA", "GIS", "GEI"):
                tax = None
        if in_error and tag not in ("RFF", "ERC", "FTX"):
            in_error, error_ref, pending = False, None, []
        ok = True
        if tag == "BGM" and bgm is None:
            bgm = seg
            rec["response_type"] = _s(component(seg, 1, 0))
            rec["document_number"] = _s(component(seg, 2, 0))
            rec["message_function"] = _s(component(seg, 3))
        elif tag == "ERP":
            in_error, error_ref, pending = True, _s(":".join(components(seg, 1))), []
        elif in_error and tag == "RFF":
            error_ref = _s(component(seg, 1, 1)) or error_ref
            for err in pending:
                err["reference"] = err["reference"] or error_ref
        elif tag == "ERC":
            err = {"code": _s(component(seg, 1, 0)), "reference": error_ref, "text": None}
            rec["errors"].append(err)
            pending.append(err)
        elif in_error and tag == "FTX":
            text = " ".join(p for p in components(seg, 4) if p) or None
            target = pending[-1] if pending else None
            if target is None:
                target = {"code": None, "reference": error_ref, "text": None}
                rec["errors"].append(target)
                pending.append(target)
            target["text"] = f"{target['text']} {text}" if target["text"] and text else text
        elif tag == "TAX":
            tax = _tax(seg, dec)
            rec["taxes"].append(tax)
            ok = _tax_complete(seg, tax)
        elif tag in ("GIS", "GEI") and rec["status"] is None and tax is None:
            rec["status"] = _s(component(seg, 1, 0))
            ok = rec["status"] is not None
        elif tag == "RFF":
            ctx = tag
            ref = _ref(seg)
            rec["references"].append(ref)
            if ref["qualifier"] == "ABT" and rec["declaration_ref"] is None:
                rec["declaration_ref"] = ref["value"]
        elif tag == "DTM":
            rec["dates"].append(_date(seg))
            if ctx == "":
                top_dates.append((component(seg, 1, 0), component(seg, 1, 1), component(seg, 1, 2)))
        elif tag == "NAD":
            ctx = tag
            rec["parties"].append(_party(seg))
        else:
            if tag in ("DOC", "CST", "AUT"):
                ctx = tag
            ok = False
        if not ok:
            unknown.append(raws[k])
    if bgm is None:
        raise MappingError("CUSRES has no BGM segment")
    if rec["status"] is None:
        rec["status"] = _s(component(bgm, 4)) or rec["message_function"]
    rec["issue_datetime"] = _issue_datetime(top_dates)
    return rec


# --------------------------------------------------------------------------- CUSCAR


def map_cuscar(msg: Message) -> dict[str, Any]:
    """CUSCAR -> ``cms_cargo_reports`` record (equipment, consignments, goods)."""
    dec = msg.delimiters.decimal
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
    )
    unknown: list[str] = rec["unknown_segments"]
    top_dates: list[tuple[str, str, str]] = []
    bgm_seen = tdt_seen = False
    ctx = ""
    equipment: dict[str, Any] | None = None
    consignment: dict[str, Any] | None = None
    goods: dict[str, Any] | None = None
    segs, raws = msg.segments, msg.raws
    for k in range(1, len(segs) - 1):
        seg = segs[k]
        tag = str(seg[0])
        ok = True
        if tag == "BGM" and not bgm_seen:
            bgm_seen = True
            rec["document_number"] = _s(component(seg, 2, 0))
            rec["message_function"] = _s(component(seg, 3))
        elif tag == "CNI":
            ctx, goods = "CNI", None
            consignment = {
                "consignment_no": _int(component(seg, 1)) or len(rec["consignments"]) + 1,
                "transport_document": _s(component(seg, 2, 0)),
                "consignor_id": None,
                "consignee_id": None,
                "goods": [],
            }
            rec["consignments"].append(consignment)
        elif tag == "GID" and consignment is not None:
            ctx = "GID"
            goods = {
                "item_no": _int(component(seg, 1)) or len(consignment["goods"]) + 1,
                "description": None,
                "hs_code": None,
                "packages": _int(component(seg, 2, 0)),
                "gross_mass": None,
                "mass_unit": None,
            }
            consignment["goods"].append(goods)
            ok = (goods["packages"] is not None or not component(seg, 2, 0).strip()) and (
                _int(component(seg, 1)) is not None or not component(seg, 1).strip()
            )
        elif ctx == "GID" and goods is not None and tag in ("FTX", "MEA", "PAC", "CST", "PIA"):
            ok = _cuscar_goods(goods, seg, dec)
        elif consignment is not None and tag == "NAD" and component(seg, 1) in ("CZ", "CN"):
            key = "consignor_id" if component(seg, 1) == "CZ" else "consignee_id"
            ok = consignment[key] is None
            if ok:
                consignment[key] = _s(component(seg, 2, 0))
        elif consignment is not None and tag == "RFF":
            ref = _ref(seg)
            if ref["qualifier"] == "BM" and (
                consignment["transport_document"] is None or ctx == "CNI"
            ):
                consignment["transport_document"] = ref["value"]
            else:
                rec["references"].append(ref)
        elif consignment is not None:
            ok = False
        elif tag == "EQD":
            ctx = "EQD"
            equipment = None
            if component(seg, 1) == "CN" and component(seg, 2, 0):
                equipment = {"container_id": component(seg, 2, 0).strip(), "seal_ids": []}
                rec["equipment"].append(equipment)
            else:
                ok = False
        elif tag == "SEL" and ctx == "EQD" and equipment is not None:
            seal = _s(component(seg, 1, 0))
            ok = seal is not None
            if seal:
                equipment["seal_ids"].append(seal)
        elif tag == "TDT" and not tdt_seen:
            ctx, tdt_seen = "TDT", True
            rec["transport_mode"] = _s(component(seg, 3, 0))
            rec["conveyance_id"] = _s(component(seg, 8, 0)) or _s(component(seg, 2))
            rec["carrier_id"] = _s(component(seg, 5, 0))
        elif tag == "LOC" and ctx in ("", "TDT"):
            qual, place = component(seg, 1), _s(component(seg, 2, 0))
            if qual == "9" and rec["place_of_loading"] is None:
                rec["place_of_loading"] = place
            elif qual in ("11", "12") and rec["place_of_discharge"] is None:
                rec["place_of_discharge"] = place
            else:
                ok = False
        elif tag == "DTM" and ctx in ("", "TDT"):
            top_dates.append((component(seg, 1, 0), component(seg, 1, 1), component(seg, 1, 2)))
            ok = component(seg, 1, 0) in ("137", "182")
        elif tag == "NAD" and ctx != "EQD":
            party = _party(seg)
            rec["parties"].append(party)
            if party["role"] == "CA" and rec["carrier_id"] is None:
                rec["carrier_id"] = party["id"]
        elif tag == "RFF":
            rec["references"].append(_ref(seg))
        else:
            ok = False
        if not ok:
            unknown.append(raws[k])
    if not bgm_seen:
        raise MappingError("CUSCAR has no BGM segment")
    rec["issue_datetime"] = _issue_datetime(top_dates)
    return rec


def _cuscar_goods(goods: dict[str, Any], seg: Segment, dec: str) -> bool:
    tag = str(seg[0])
    if tag == "FTX":
        text = " ".join(p for p in components(seg, 4) if p)
        if not text or component(seg, 1) not in ("AAA", ""):
            return False
        goods["description"] = f"{goods['description']} {text}" if goods["description"] else text
        return True
    if tag == "MEA":
        value = _num(component(seg, 3, 1), dec)
        if value is None or goods["gross_mass"] is not None:
            return False
        if component(seg, 2, 0) not in _GROSS:
            return False
        goods["gross_mass"], goods["mass_unit"] = value, _s(component(seg, 3, 0))
        return True
    if tag == "PAC":
        count = _int(component(seg, 1))
        if count is None or goods["packages"] is not None:
            return False
        goods["packages"] = count
        return True
    if goods["hs_code"] is not None:
        return False
    if tag == "CST":
        goods["hs_code"] = _cst_codes(seg)[0]
    else:  # PIA: 4347 function + C212 (7140 item number : 7143 type, HS)
        for i in range(2, min(len(seg), 7)):
            if component(seg, i, 1) in ("HS", "") and component(seg, i, 0):
                goods["hs_code"] = component(seg, i, 0)
                break
    return goods["hs_code"] is not None


# --------------------------------------------------------------------------- entry points

_MAPPERS: dict[str, Callable[[Message], dict[str, Any]]] = {
    "CUSDEC": map_cusdec,
    "CUSRES": map_cusres,
    "CUSCAR": map_cuscar,
}


def map_message(msg: Message) -> Outcome:
    """Map one syntax-level message to its bronze record (or a rejection)."""
    mapper = _MAPPERS.get(msg.message_type)
    if mapper is None:
        known = ", ".join(sorted(_MAPPERS))
        return Rejected(
            msg.index,
            msg.raw,
            E_UNSUPPORTED,
            f"message type {msg.message_type or '(none)'} ({msg.directory_version or '?'}) "
            f"in message {msg.reference!r} is not mapped; mapped types: {known}",
            msg.message_type or None,
        )
    try:
        record = mapper(msg)
    except MappingError as exc:
        return Rejected(
            msg.index,
            msg.raw,
            E_MAPPING,
            f"{msg.message_type} message {msg.reference!r}: {exc}",
            msg.message_type,
        )
    return ParsedRecord(TABLE_BY_MESSAGE_TYPE[msg.message_type], msg.index, record)


def parse_edifact_file(data: bytes, source: str, *, strict: bool = False) -> Iterator[Outcome]:
    """Parse one landed EDIFACT file into outcomes, one per message (``FileParser``).

    ``source`` is only used by callers for context (reasons are self-contained); ``strict``
    rejects messages whose UNT/UNE/UNZ counts or references do not match.
    """
    for item in iter_messages(data, strict=strict):
        if isinstance(item, SyntaxProblem):
            yield Rejected(item.index, item.raw, item.error_code, item.reason, item.message_type)
        else:
            yield map_message(item)
