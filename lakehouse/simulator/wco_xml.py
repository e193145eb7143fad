"""WCO Data Model (DEC-DMS) XML rendering: one declaration per file, UTF-8.

Written with string templates, not an XML library, because the simulator must produce
*specific* bytes (a default namespace or a ``dec:`` prefix, omitted optional elements, and on
purpose broken documents) and must do it fast; names are XML-escaped once in the reference
data. Element order follows the profile in docs/simulator.md.
"""

from __future__ import annotations

import random

from lakehouse.simulator.model import Clock, Declaration, num, rate_text

NAMESPACE = "urn:wco:datamodel:WCO:DEC-DMS:2"
XML_MALFORMATIONS = (("truncated_document", 0.5), ("unescaped_ampersand", 0.5))


def declaration_xml(
    d: Declaration,
    clock: Clock,
    function: str,
    malformed: str | None = None,
    rnd: random.Random | None = None,
) -> bytes:
    """The WCO XML document for ``d`` (or a deliberately broken one)."""
    p = "dec:" if d.xml_prefix else ""
    root = (
        f'<dec:Declaration xmlns:dec="{NAMESPACE}">' if p else f'<Declaration xmlns="{NAMESPACE}">'
    )
    cur = d.currency
    exp, imp, dec = d.exporter, d.importer, d.declarant
    declarant_name = dec.name_xml
    if malformed == "unescaped_ampersand":
        declarant_name = f"{dec.name} & Partners"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        root,
        f"<{p}FunctionCode>{function}</{p}FunctionCode>",
        f"<{p}FunctionalReferenceID>{d.lrn}</{p}FunctionalReferenceID>",
        f"<{p}TypeCode>IMA</{p}TypeCode>",
        f'<{p}IssueDateTime><{p}DateTimeString formatCode="304">{clock.xml(d.t)}'
        f"</{p}DateTimeString></{p}IssueDateTime>",
        f"<{p}DeclarationOfficeID>{d.office}</{p}DeclarationOfficeID>",
        f'<{p}InvoiceAmount currencyID="{cur}">{d.invoice_total:.2f}</{p}InvoiceAmount>',
        f"<{p}Declarant><{p}ID>{dec.id}</{p}ID><{p}Name>{declarant_name}</{p}Name></{p}Declarant>",
        f"<{p}Exporter><{p}Name>{exp.name_xml}</{p}Name><{p}ID>{exp.id}</{p}ID>",
    ]
    if d.exporter_country:
        parts.append(
            f"<{p}Address><{p}CountryCode>{d.exporter_country}</{p}CountryCode></{p}Address>"
        )
    parts.append(f"</{p}Exporter><{p}GoodsShipment>")
    parts.append(
        f"<{p}Importer><{p}ID>{imp.id}</{p}ID><{p}Name>{imp.name_xml}</{p}Name>"
        f"<{p}Address><{p}CountryCode>KE</{p}CountryCode></{p}Address></{p}Importer>"
    )
    parts.append(f"<{p}ExportCountry><{p}ID>{d.dispatch}</{p}ID></{p}ExportCountry>")
    parts.append(
        f"<{p}Destination><{p}CountryCode>{d.destination}</{p}CountryCode></{p}Destination>"
    )
    transport_id = f"<{p}ID>{d.transport_id}</{p}ID>" if d.transport_id else ""
    parts.append(
        f"<{p}Consignment><{p}DepartureTransportMeans><{p}ModeCode>{d.mode}"
        f"</{p}ModeCode>{transport_id}</{p}DepartureTransportMeans></{p}Consignment>"
    )
    if d.incoterm:
        parts.append(
            f"<{p}TradeTerms><{p}ConditionCode>{d.incoterm}</{p}ConditionCode></{p}TradeTerms>"
        )
    parts.append(
        f"<{p}CurrencyExchange><{p}CurrencyTypeCode>{cur}</{p}CurrencyTypeCode>"
        f"<{p}RateNumeric>{rate_text(d.rate)}</{p}RateNumeric></{p}CurrencyExchange>"
    )
    unit, factor = d.mass_unit, d.mass_factor
    current, previous = d.procedure[:2], d.procedure[2:4]
    for it in d.items:
        value = f"{it.value:.2f}"
        desc = f"<{p}Description>{it.tariff.description_xml}</{p}Description>" if it.desc else ""
        gross = (
            f'<{p}GrossMassMeasure unitCode="{unit}">{it.gross * factor:.3f}</{p}GrossMassMeasure>'
            if it.gross is not None
            else ""
        )
        packaging = (
            f"<{p}Packaging><{p}QuantityQuantity>{it.packages}</{p}QuantityQuantity></{p}Packaging>"
            if it.packages is not None
            else ""
        )
        parts.append(
            f"\n <{p}GovernmentAgencyGoodsItem><{p}SequenceNumeric>{it.no}</{p}SequenceNumeric>"
            f'<{p}StatisticalValueAmount currencyID="{cur}">{value}</{p}StatisticalValueAmount>'
            f"<{p}Commodity>{desc}<{p}Classification><{p}ID>{it.code}</{p}ID>"
            f"<{p}IdentificationTypeCode>TSP</{p}IdentificationTypeCode></{p}Classification>"
            f'<{p}InvoiceLine><{p}ItemChargeAmount currencyID="{cur}">{value}'
            f"</{p}ItemChargeAmount></{p}InvoiceLine><{p}GoodsMeasure>{gross}"
            f'<{p}NetNetWeightMeasure unitCode="{unit}">{it.net * factor:.3f}'
            f"</{p}NetNetWeightMeasure>"
            f'<{p}TariffQuantity unitCode="{it.tariff.qty_unit}">{num(it.qty)}'
            f"</{p}TariffQuantity></{p}GoodsMeasure>"
            f"<{p}DutyTaxFee><{p}TypeCode>CUD</{p}TypeCode><{p}RateNumeric>{it.duty_rate}"
            f'</{p}RateNumeric><{p}Payment><{p}TaxAssessedAmount currencyID="KES">'
            f"{it.duty:.2f}</{p}TaxAssessedAmount></{p}Payment></{p}DutyTaxFee>"
            f"<{p}DutyTaxFee><{p}TypeCode>VAT</{p}TypeCode><{p}RateNumeric>16</{p}RateNumeric>"
            f'<{p}Payment><{p}TaxAssessedAmount currencyID="KES">{it.vat:.2f}'
            f"</{p}TaxAssessedAmount></{p}Payment></{p}DutyTaxFee></{p}Commodity>"
            f"<{p}Origin><{p}CountryCode>{it.origin}</{p}CountryCode></{p}Origin>"
            f"<{p}GovernmentProcedure><{p}CurrentCode>{current}</{p}CurrentCode>"
            f"<{p}PreviousCode>{previous}</{p}PreviousCode></{p}GovernmentProcedure>"
            f"{packaging}</{p}GovernmentAgencyGoodsItem>"
        )
    parts.append(f"</{p}GoodsShipment></{p}Declaration>\n")
    data = "".join(parts).encode("utf-8")
    if malformed == "truncated_document":
        assert rnd is not None
        data = data[: rnd.randrange(len(data) // 3, len(data) - 20)]
    return data
