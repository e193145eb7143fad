"""Real senders' quirks the simulator can plant: valid input that looks unusual.

Each quirk here was seen in real customs traffic and once cost bronze a real message (see the
README's "what happens to bad input"): an amount written from a float with ten decimals, a
cargo manifest whose UNH leaves the message type empty, a declaration inside a SOAP submission
wrapper, and customs responses sent as DMS-style XML notifications instead of CUSRES. None of
them is a defect: ingestion must load every one (flagged where it had to infer something), so
the simulator counts them in ``SimulationSummary.quirks`` and never in ``malformed``.

They are applied to rendered messages (text in, text out) so the renderers' ordinary output
stays byte-for-byte what it was; a run with ``quirk_rate=0`` is unchanged.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from lakehouse.simulator.model import Clock, Declaration

# Digits a float-storing upstream system leaves after the cents (2359189.80 -> 2359189.8000000003).
FLOAT_TAIL = "00000003"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SUBMIT_NS = "urn:example:customs:dms:submission:1"
RESPONSE_NS = "urn:wco:datamodel:WCO:RES-DMS:2"
META_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"

EDIFACT_DECLARATION_QUIRKS = ("long_decimals",)
XML_DECLARATION_QUIRKS = ("long_decimals", "wrapped")
JSON_DECLARATION_QUIRKS = ("long_decimals",)

_EDI_INVOICE = re.compile(r"(MOA\+39:\d+\.\d+)(:)")
_EDI_UNH_CUSCAR = re.compile(r"^(UNH\+[^+']+\+)CUSCAR(:)")
_XML_INVOICE = re.compile(r"(InvoiceAmount currencyID=\"[A-Z]{3}\">\d+\.\d+)(<)")
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>\s*", re.DOTALL)


def edifact_long_decimals(message: str) -> str:
    """The CUSDEC message with its invoice total written as a float would print it."""
    return _EDI_INVOICE.sub(rf"\g<1>{FLOAT_TAIL}\g<2>", message, count=1)


def edifact_empty_message_type(message: str) -> str:
    """The CUSCAR message with an empty message type in UNH (``UNH+1+:D:95B:UN``)."""
    return _EDI_UNH_CUSCAR.sub(r"\g<1>\g<2>", message, count=1)


def xml_long_decimals(document: bytes) -> bytes:
    """The WCO XML declaration with its invoice amount written as a float would print it."""
    text = document.decode("utf-8")
    return _XML_INVOICE.sub(rf"\g<1>{FLOAT_TAIL}\g<2>", text, count=1).encode("utf-8")


def xml_wrapped(document: bytes) -> bytes:
    """The declaration inside a SOAP envelope and a submission request, as gateways send it."""
    body = _XML_DECLARATION.sub(b"", document).strip()
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Header/><soap:Body>'.encode()
        + f'<sub:submitDeclarationRequest xmlns:sub="{SUBMIT_NS}">'.encode()
        + b"<sub:Channel>API</sub:Channel>"
        + body
        + b"</sub:submitDeclarationRequest></soap:Body></soap:Envelope>\n"
    )


def json_long_decimals(record: dict) -> dict:
    """The JSON declaration with its invoice amount written as a float would print it."""
    return {**record, "invoice_amount": f"{record['invoice_amount']}{FLOAT_TAIL}"}


# What a CUSRES status (GIS 9015 as the simulator sends it) is called in a DMS notification's
# FunctionCode: 1 accepted, 2 rejected, 3 released (cleared), 4 selected for control.
_NOTIFICATION_FUNCTION = {"1": "01", "2": "03", "3": "02", "4": "13"}


def notification_xml(
    clock: Clock,
    d: Declaration,
    t: int,
    status: str,
    duty: float,
    vat: float,
    error: tuple[str, str] | None,
) -> bytes:
    """A DMS-style XML notification (WCO RES) answering ``d``, instead of a CUSRES message."""
    r = "res:"
    error_xml = (
        f"<{r}Error><{r}ValidationCode>{escape(error[0])}</{r}ValidationCode>"
        f"<{r}Description>{escape(error[1])}</{r}Description></{r}Error>"
        if error is not None
        else ""
    )
    taxes = "".join(
        f"<{r}DutyTaxFee><{r}TypeCode>{code}</{r}TypeCode><{r}Payment>"
        f'<{r}TaxAssessedAmount currencyID="KES">{amount:.2f}</{r}TaxAssessedAmount>'
        f"</{r}Payment></{r}DutyTaxFee>"
        for code, amount in (("CUD", duty), ("VAT", vat))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:MetaData xmlns:md="{META_NS}" xmlns:res="{RESPONSE_NS}">'
        "<md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>"
        "<md:WCOTypeName>RES</md:WCOTypeName>"
        f"<{r}Response><{r}FunctionCode>{_NOTIFICATION_FUNCTION[status]}</{r}FunctionCode>"
        f"<{r}FunctionalReferenceID>{escape(d.mrn)}-{t}</{r}FunctionalReferenceID>"
        f'<{r}IssueDateTime><{r}DateTimeString formatCode="304">{clock.xml(t)}'
        f"</{r}DateTimeString></{r}IssueDateTime>"
        f"{error_xml}"
        f"<{r}Declaration><{r}ID>{escape(d.mrn)}</{r}ID>"
        f"<{r}FunctionalReferenceID>{escape(d.lrn)}</{r}FunctionalReferenceID>{taxes}"
        f"</{r}Declaration></{r}Response></md:MetaData>\n"
    ).encode()
