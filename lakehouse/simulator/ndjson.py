"""Newline-delimited JSON records for the CMS, inspections, ERP and HR feeds.

Field names are the bronze column names of :mod:`lakehouse.tables`; decimals are strings
(``"1234.50"``) so no float rounding happens between the source and the lake, timestamps are
ISO 8601 with a zone. Keys are emitted in a fixed order (dict insertion order) and with fixed
separators so the bytes are reproducible.

Broken lines are made here too: ``invalid_json`` cuts a line short, ``schema_violation``
keeps valid JSON but drops the record's key and turns a decimal string into a number.
"""

from __future__ import annotations

import json
import random
from typing import Any

from lakehouse.simulator.model import Clock, Declaration, num, rate_text
from lakehouse.simulator.reference import Officer

JSON_MALFORMATIONS = (("invalid_json", 0.5), ("schema_violation", 0.5))

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(obj: dict[str, Any]) -> str:
    """Compact, UTF-8-friendly JSON for one record."""
    return _dumps(obj)


def broken_line(
    obj: dict[str, Any], kind: str, key: str, decimal_key: str | None, rnd: random.Random
) -> str:
    """A record made malformed on purpose (see the module docstring)."""
    if kind == "invalid_json":
        line = _dumps(obj)
        return line[: rnd.randrange(max(2, len(line) // 3), len(line) - 1)]
    bad = dict(obj)
    bad.pop(key, None)
    if decimal_key and isinstance(bad.get(decimal_key), str):
        try:
            bad[decimal_key] = float(bad[decimal_key])
        except ValueError:
            bad[decimal_key] = 0
    else:
        bad["unexpected_field"] = True
    return _dumps(bad)


def declaration_record(d: Declaration, clock: Clock, function: str) -> dict[str, Any]:
    """The cms/json record of declaration ``d``."""
    cur = d.currency
    unit, factor = d.mass_unit, d.mass_factor
    items = []
    for it in d.items:
        value = f"{it.value:.2f}"
        items.append(
            {
                "item_no": it.no,
                "hs_code": it.code,
                "hs_code_list": "122",
                "procedure_code": d.procedure,
                "description": it.tariff.description if it.desc else None,
                "origin_country": it.origin,
                "customs_value": value,
                "value_currency": cur,
                "statistical_value": value,
                "gross_mass": f"{it.gross * factor:.3f}" if it.gross is not None else None,
                "net_mass": f"{it.net * factor:.3f}",
                "mass_unit": unit,
                "quantity": num(it.qty),
                "quantity_unit": it.tariff.qty_unit,
                "packages": it.packages,
                "taxes": [
                    {
                        "tax_type": "CUD",
                        "tax_category": "S" if it.duty_rate else "E",
                        "rate": str(it.duty_rate),
                        "base_amount": f"{it.base:.2f}",
                        "amount": f"{it.duty:.2f}",
                        "currency": "KES",
                    },
                    {
                        "tax_type": "VAT",
                        "tax_category": "S",
                        "rate": "16",
                        "base_amount": f"{it.base + it.duty:.2f}",
                        "amount": f"{it.vat:.2f}",
                        "currency": "KES",
                    },
                ],
            }
        )
    return {
        "lrn": d.lrn,
        "declaration_type": "IM",
        "declaration_type_ext": d.ext,
        "message_function": function,
        "issue_datetime": clock.iso(d.t),
        "procedure_code": d.procedure,
        "office_code": d.office,
        "country_of_dispatch": d.dispatch,
        "country_of_destination": d.destination,
        "transport_mode": d.mode,
        "transport_id": d.transport_id or None,
        "delivery_terms": d.incoterm,
        "invoice_amount": f"{d.invoice_total:.2f}",
        "invoice_currency": cur,
        "exchange_rate": rate_text(d.rate),
        "parties": [
            {
                "role": "DT",
                "id": d.declarant.id,
                "id_scheme": "ZZZ",
                "name": d.declarant.name,
                "country": "KE",
            },
            {
                "role": "IM",
                "id": d.importer.id,
                "id_scheme": "ZZZ",
                "name": d.importer.name,
                "country": "KE",
            },
            {
                "role": "EX",
                "id": d.exporter.id,
                "id_scheme": "ZZZ",
                "name": d.exporter.name,
                "country": d.exporter_country,
            },
        ],
        "items": items,
    }


def inspection_record(d: Declaration, clock: Clock) -> dict[str, Any]:
    """The cms/inspections record (the risk models' label) of an inspected declaration."""
    assert d.officer is not None
    return {
        "inspection_id": f"INS{d.mrn}",
        "lrn": d.lrn,
        "office_code": d.office,
        "officer_id": d.officer.id,
        "inspected_at": clock.iso_eat(d.t_inspect),
        "channel": d.channel,
        "result": d.result,
        "findings": d.findings,
        "additional_duty": f"{d.additional:.2f}",
        "currency": "KES",
        "notes": d.notes,
    }


def payment_record(
    payment_id: str,
    kind: str,
    lrn: str,
    tax_type: str,
    amount: float,
    method: str,
    reference: str | None,
    value_date: str,
    recorded_at: str,
) -> dict[str, Any]:
    """One erp/payments record (payment, receipt or refund), amount as a decimal string."""
    return {
        "payment_id": payment_id,
        "kind": kind,
        "declaration_ref": lrn,
        "tax_type": tax_type,
        "amount": f"{amount:.2f}",
        "currency": "KES",
        "method": method,
        "payment_reference": reference,
        "value_date": value_date,
        "recorded_at": recorded_at,
    }


def officer_records(officer: Officer) -> list[dict[str, Any]]:
    """The officer record and their postings (previous one closed, current one open)."""
    out: list[dict[str, Any]] = [
        {
            "record_type": "officer",
            "officer_id": officer.id,
            "national_id": officer.national_id,
            "full_name": officer.full_name,
            "grade": officer.grade,
            "email": officer.email,
            "date_of_birth": officer.date_of_birth,
            "hired_on": officer.hired_on,
            "active": officer.active,
        }
    ]
    if officer.previous is not None:
        office, start, end = officer.previous
        out.append(
            {
                "record_type": "posting",
                "posting_id": f"PST-{officer.id}-1",
                "officer_id": officer.id,
                "office_code": office,
                "role": officer.role,
                "start_date": start,
                "end_date": end,
            }
        )
    out.append(
        {
            "record_type": "posting",
            "posting_id": f"PST-{officer.id}-2",
            "officer_id": officer.id,
            "office_code": officer.office,
            "role": officer.role,
            "start_date": officer.posted_on,
            "end_date": None,
        }
    )
    return out
