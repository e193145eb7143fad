"""WCO XML beyond one bare declaration: wrappers, DMS 3.6 declarations, DMS responses, and a
declaration that fills every element the mapping knows (nothing may vanish)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakehouse.formats.base import E_MAPPING, ParsedRecord, Rejected
from lakehouse.formats.json_feeds import bronze_columns
from lakehouse.formats.wco_xml import bundled_xsd_path, parse_wco_xml_file

pytestmark = pytest.mark.unit

DEC = "urn:wco:datamodel:WCO:DEC-DMS:2"
RES = "urn:wco:datamodel:WCO:RES-DMS:2"
MD = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"


def parse(text: str, **kwargs: Any) -> list[ParsedRecord | Rejected]:
    return list(parse_wco_xml_file(text.encode(), "f.xml", **kwargs))  # type: ignore[arg-type]


def declaration(lrn: str = "LRN-1", extra: str = "") -> str:
    return (
        f"<Declaration><FunctionalReferenceID>{lrn}</FunctionalReferenceID>{extra}"
        "<GoodsShipment><GovernmentAgencyGoodsItem><SequenceNumeric>1</SequenceNumeric>"
        "<Commodity><Description>Tea</Description></Commodity>"
        "</GovernmentAgencyGoodsItem></GoodsShipment></Declaration>"
    )


# --- wrappers --------------------------------------------------------------------------------

WRAPPERS = {
    "soap": (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap:Header><Token>abc</Token></soap:Header><soap:Body>{}</soap:Body></soap:Envelope>"
    ),
    "submitDeclarationRequest": "<submitDeclarationRequest><Payload>{}</Payload>"
    "</submitDeclarationRequest>",
    "SubmitDeclaration": '<ns:SubmitDeclaration xmlns:ns="urn:x">{}</ns:SubmitDeclaration>',
    "metadata": f'<MetaData xmlns="{MD}"><WCODataModelVersionCode>3.6'
    "</WCODataModelVersionCode>{}</MetaData>",
}


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_declarations_inside_any_wrapper_are_unwrapped(wrapper: str) -> None:
    text = WRAPPERS[wrapper].format(declaration("A-1") + declaration("A-2"))
    first, second = parse(text)
    assert isinstance(first, ParsedRecord)
    assert isinstance(second, ParsedRecord)
    assert [first.record["lrn"], second.record["lrn"]] == ["A-1", "A-2"]
    assert [first.message_index, second.message_index] == [0, 1]


def test_wrapper_leaves_go_to_unknown_segments_and_the_version_is_kept() -> None:
    text = WRAPPERS["metadata"].format(declaration())
    (out,) = parse(text)
    assert isinstance(out, ParsedRecord)
    assert out.record["directory_version"] == "3.6"
    (out,) = parse(WRAPPERS["soap"].format(declaration()))
    assert isinstance(out, ParsedRecord)
    assert out.record["unknown_segments"] == ["Envelope/Header/Token=abc"]


def test_a_bad_declaration_in_a_wrapper_is_quarantined_alone_with_its_own_text() -> None:
    bad = declaration("").replace(
        "<FunctionalReferenceID></FunctionalReferenceID>", "\n  <Note>é ü</Note>"
    )
    text = WRAPPERS["soap"].format("\n" + declaration("A-1") + "\n" + bad + "\n")
    good, rejected = parse(text)
    assert isinstance(good, ParsedRecord)
    assert isinstance(rejected, Rejected)
    assert rejected.message_index == 1
    assert rejected.error_code == E_MAPPING
    assert rejected.raw == bad  # the element as sent, not re-rendered
    assert rejected.reason.startswith("f.xml: message 1 (Declaration, line 3): mandatory LRN")


# --- a DMS 3.6 declaration as national systems send it ---------------------------------------

DMS_36 = f"""<?xml version="1.0" encoding="UTF-8"?>
<md:MetaData xmlns:md="{MD}" xmlns="{DEC}">
  <md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>
  <md:WCOTypeName>DEC</md:WCOTypeName>
  <Declaration>
    <FunctionCode>9</FunctionCode>
    <FunctionalReferenceID>7GB1234</FunctionalReferenceID>
    <TypeCode>IMZ</TypeCode>
    <GoodsItemQuantity>1</GoodsItemQuantity>
    <InvoiceAmount currencyID="GBP">864.95</InvoiceAmount>
    <TotalPackageQuantity>2</TotalPackageQuantity>
    <AuthorisationHolder><ID>GB553202734852</ID><CategoryCode>EIR</CategoryCode>
    </AuthorisationHolder>
    <BorderTransportMeans><ID>FR-AB-123</ID><ModeCode>3</ModeCode>
      <RegistrationNationalityCode>FR</RegistrationNationalityCode></BorderTransportMeans>
    <GoodsShipment>
      <Consignment><DepartureTransportMeans><ID>SHIP 1</ID><ModeCode>1</ModeCode>
      </DepartureTransportMeans></Consignment>
      <GovernmentAgencyGoodsItem>
        <SequenceNumeric>1</SequenceNumeric>
        <Commodity><Description>Bicycles</Description>
          <GoodsMeasure><GrossMassMeasure unitCode="KGM">2359189.8000000003</GrossMassMeasure>
          </GoodsMeasure></Commodity>
      </GovernmentAgencyGoodsItem>
    </GoodsShipment>
  </Declaration>
</md:MetaData>
"""


def test_a_dms_36_declaration_passes_the_bundled_xsd_and_keeps_everything() -> None:
    (out,) = parse(DMS_36, xsd_path=bundled_xsd_path())
    assert isinstance(out, ParsedRecord), out
    record = out.record
    assert record["transport_mode"] == "3"  # the border mode, not the departure one
    assert record["transport_id"] == "FR-AB-123"
    assert {
        "BorderTransportMeans/ModeCode": "3",
        "DepartureTransportMeans/ModeCode": "1",
        "DepartureTransportMeans/ID": "SHIP 1",
    }.items() <= {r["qualifier"]: r["value"] for r in record["references"]}.items()
    assert record["items"][0]["gross_mass"] == Decimal("2359189.8000000003")
    assert "Declaration/GoodsItemQuantity=1" in record["unknown_segments"]
    assert (
        "Declaration/BorderTransportMeans/RegistrationNationalityCode=FR"
        in (record["unknown_segments"])
    )


def test_departure_mode_is_the_fallback() -> None:
    text = DMS_36.replace("<ModeCode>3</ModeCode>", "")
    (out,) = parse(text)
    assert isinstance(out, ParsedRecord)
    assert out.record["transport_mode"] == "1"


# --- every element the mapping knows lands somewhere -----------------------------------------


def _party(name: str, n: int) -> str:
    return (
        f'<{name}><Name>MKN{n}</Name><ID schemeID="MKS{n}">MKI{n}</ID>'
        f"<Address><CountryCode>MKC{n}</CountryCode><Line>MKL{n}</Line></Address></{name}>"
    )


EVERY = f"""<Declaration xmlns="{DEC}">
  <FunctionCode>MKFC</FunctionCode>
  <FunctionalReferenceID>MKLRN</FunctionalReferenceID>
  <TypeCode>MKTC</TypeCode>
  <IssueDateTime><DateTimeString formatCode="304">20261125101500Z</DateTimeString></IssueDateTime>
  <DeclarationOfficeID>MKOFF</DeclarationOfficeID>
  <InvoiceAmount currencyID="MKIC">1001.11</InvoiceAmount>
  {_party("Declarant", 1)}{_party("Exporter", 2)}{_party("Agent", 3)}
  <BorderTransportMeans><ModeCode>MKBM</ModeCode><ID>MKBI</ID></BorderTransportMeans>
  <GoodsItemQuantity>MKUNK1</GoodsItemQuantity>
  <GoodsShipment>
    {_party("Importer", 4)}{_party("Consignee", 5)}{_party("Consignor", 6)}
    {_party("Buyer", 7)}{_party("Seller", 8)}
    <ExportCountry><ID>MKEC</ID></ExportCountry>
    <Destination><CountryCode>MKDC</CountryCode></Destination>
    <Consignment>
      <BorderTransportMeans><ModeCode>MKCBM</ModeCode><ID>MKCBI</ID></BorderTransportMeans>
      <DepartureTransportMeans><ModeCode>MKDM</ModeCode><ID>MKDI</ID></DepartureTransportMeans>
    </Consignment>
    <TradeTerms><ConditionCode>MKTT</ConditionCode></TradeTerms>
    <CurrencyExchange><CurrencyTypeCode>MKXC</CurrencyTypeCode><RateNumeric>2002.22</RateNumeric>
    </CurrencyExchange>
    <Warehouse><ID>MKUNK2</ID></Warehouse>
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>4711</SequenceNumeric>
      <StatisticalValueAmount currencyID="MKSC">3003.33</StatisticalValueAmount>
      <Commodity>
        <Description languageID="MKUNK3">MKDESC</Description>
        <Classification><ID>MKHS1</ID><IdentificationTypeCode>TSP</IdentificationTypeCode>
        </Classification>
        <Classification><ID>MKHS2</ID><IdentificationTypeCode>MKHL2</IdentificationTypeCode>
        </Classification>
        <InvoiceLine><ItemChargeAmount currencyID="MKVC">4004.44</ItemChargeAmount></InvoiceLine>
        <GoodsMeasure>
          <GrossMassMeasure unitCode="MKGU">5005.55</GrossMassMeasure>
          <NetNetWeightMeasure unitCode="MKNU">6006.66</NetNetWeightMeasure>
          <TariffQuantity unitCode="MKQU">7007.77</TariffQuantity>
        </GoodsMeasure>
        <DutyTaxFee>
          <DutyRegimeCode>MKDR</DutyRegimeCode><TypeCode>MKTX</TypeCode>
          <SpecificTaxBaseQuantity unitCode="MKSU">8008.88</SpecificTaxBaseQuantity>
          <Payment><TaxAssessedAmount currencyID="MKTAC">9009.99</TaxAssessedAmount></Payment>
          <AdValoremTaxBaseAmount currencyID="MKABC">1101.01</AdValoremTaxBaseAmount>
          <RateNumeric>1202.02</RateNumeric>
          <TaxRateNumeric>1303.03</TaxRateNumeric>
        </DutyTaxFee>
      </Commodity>
      <Origin><CountryCode>MKO1</CountryCode><TypeCode>1</TypeCode></Origin>
      <Origin><CountryCode>MKO2</CountryCode><TypeCode>MKOT2</TypeCode></Origin>
      <GovernmentProcedure><CurrentCode>MKP1</CurrentCode><PreviousCode>MKQ1</PreviousCode>
      </GovernmentProcedure>
      <GovernmentProcedure><CurrentCode>MKP2</CurrentCode><PreviousCode>MKQ2</PreviousCode>
      </GovernmentProcedure>
      <Packaging><QuantityQuantity>613</QuantityQuantity><TypeCode>MKUNK4</TypeCode></Packaging>
      <Packaging><QuantityQuantity>827</QuantityQuantity></Packaging>
      <AdditionalDocument><ID>MKUNK5</ID></AdditionalDocument>
    </GovernmentAgencyGoodsItem>
  </GoodsShipment>
</Declaration>"""


def _stored_text(value: Any) -> list[str]:
    """Every scalar of a record as text (dates also in their WCO 304 form)."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _stored_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in _stored_text(v)]
    if isinstance(value, datetime):
        return [value.strftime("%Y%m%d%H%M%SZ")]
    return [] if value is None else [str(value)]


def test_every_value_sent_lands_in_a_column_or_in_unknown_segments() -> None:
    (out,) = parse(EVERY)
    assert isinstance(out, ParsedRecord)
    record = out.record
    # The type code is split in two columns (IM + A); together they hold what was sent.
    type_code = f"{record['declaration_type']}{record['declaration_type_ext']}"
    stored = "\n".join([*_stored_text(record), type_code])
    # Every text and attribute value of the document...
    values = re.findall(r">([^<>\s][^<>]*)<", EVERY) + re.findall(r'="([^"]+)"', EVERY)
    values = [v for v in values if v != DEC]
    assert len(values) > 90
    missing = [v for v in values if v not in stored]
    assert missing == []
    # ...and the unknown ones are in unknown_segments, in the documented form.
    assert out.record["unknown_segments"] == [
        "Declaration/GoodsItemQuantity=MKUNK1",
        "Declaration/GoodsShipment/Warehouse/ID=MKUNK2",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/StatisticalValueAmount/@currencyID=MKSC",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Description/@languageID=MKUNK3",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/"
        "NetNetWeightMeasure/@unitCode=MKNU",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/"
        "SpecificTaxBaseQuantity/@unitCode=MKSU",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/"
        "SpecificTaxBaseQuantity=8008.88",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/"
        "AdValoremTaxBaseAmount/@currencyID=MKABC",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/"
        "TaxRateNumeric=1303.03",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Packaging[1]/TypeCode=MKUNK4",
        "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/AdditionalDocument/ID=MKUNK5",
    ]


# --- responses (DMS notifications) -----------------------------------------------------------


def response(body: str) -> str:
    return (
        f'<md:MetaData xmlns:md="{MD}" xmlns="{RES}"><md:WCODataModelVersionCode>3.6'
        f"</md:WCODataModelVersionCode><Response>{body}</Response></md:MetaData>"
    )


ACCEPTED = """
  <FunctionCode>01</FunctionCode>
  <FunctionalReferenceID>N-0001</FunctionalReferenceID>
  <IssueDateTime><DateTimeString formatCode="304">20261125101500Z</DateTimeString></IssueDateTime>
  <Declaration>
    <AcceptanceDateTime><DateTimeString formatCode="304">20261125101000Z</DateTimeString>
    </AcceptanceDateTime>
    <FunctionalReferenceID>LRN-9</FunctionalReferenceID>
    <ID>26GB0000000000001</ID>
  </Declaration>
  <Status><NameCode>ACC</NameCode></Status>
"""

REJECTED = """
  <FunctionCode>03</FunctionCode>
  <IssueDateTime><DateTimeString formatCode="304">20261125101500+01</DateTimeString></IssueDateTime>
  <Declaration><FunctionalReferenceID>LRN-9</FunctionalReferenceID></Declaration>
  <Error>
    <ValidationCode>CDS12016</ValidationCode>
    <DescriptionText>Date is in the future</DescriptionText>
    <Pointer><DocumentSectionCode>42A</DocumentSectionCode></Pointer>
    <Pointer><DocumentSectionCode>67A</DocumentSectionCode><SequenceNumeric>1</SequenceNumeric>
      <TagID>360</TagID></Pointer>
  </Error>
  <Error><ValidationCode>CDS40049</ValidationCode></Error>
  <AdditionalInformation><StatementDescription>Amend item 1</StatementDescription>
    <StatementTypeCode>AES</StatementTypeCode></AdditionalInformation>
  <AppealOffice><ID>GB000001</ID><Name>Appeals</Name></AppealOffice>
"""

ASSESSED = """
  <FunctionCode>13</FunctionCode>
  <FunctionalReferenceID>N-0003</FunctionalReferenceID>
  <Declaration><ID>26GB0000000000001</ID></Declaration>
  <DutyTaxFee><TypeCode>A00</TypeCode><TaxRateNumeric>12.5</TaxRateNumeric>
    <AdValoremTaxBaseAmount currencyID="GBP">1000.125</AdValoremTaxBaseAmount>
    <Payment><TaxAssessedAmount currencyID="GBP">125.015625</TaxAssessedAmount></Payment>
  </DutyTaxFee>
  <GoodsShipment><GovernmentAgencyGoodsItem><SequenceNumeric>1</SequenceNumeric>
    <Commodity><DutyTaxFee><TypeCode>B00</TypeCode>
      <Payment><TaxAssessedAmount currencyID="GBP">20,00</TaxAssessedAmount></Payment>
    </DutyTaxFee></Commodity></GovernmentAgencyGoodsItem></GoodsShipment>
  <Bank><ID>BANK-1</ID></Bank>
"""


def only_response(body: str) -> dict[str, Any]:
    (out,) = parse(response(body))
    assert isinstance(out, ParsedRecord), out
    assert out.table == "cms_responses"
    assert tuple(out.record) == bronze_columns("cms_responses")
    assert out.record["message_type"] == "WCO_RES"
    assert out.record["syntax"] == "xml"
    assert out.record["directory_version"] == "3.6"
    return out.record


def test_an_acceptance_names_the_declaration_and_its_status() -> None:
    record = only_response(ACCEPTED)
    assert record["document_number"] == "N-0001"
    assert record["response_type"] == "01"
    assert record["declaration_ref"] == "26GB0000000000001"
    assert record["status"] == "ACC"
    assert record["issue_datetime"] == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    assert [d["qualifier"] for d in record["dates"]] == ["IssueDateTime", "AcceptanceDateTime"]
    assert {"qualifier": "Declaration/FunctionalReferenceID", "value": "LRN-9"} in (
        record["references"]
    )
    assert record["errors"] == []
    assert record["unknown_segments"] == []


def test_a_rejection_carries_its_errors_and_pointers() -> None:
    record = only_response(REJECTED)
    assert record["declaration_ref"] == "LRN-9"  # no MRN yet: the LRN
    assert record["document_number"] is None
    assert record["errors"] == [
        {"code": "CDS12016", "reference": "42A > 67A/360/1", "text": "Date is in the future"},
        {"code": "CDS40049", "reference": None, "text": None},
    ]
    assert {"qualifier": "AdditionalInformation/AES", "value": "Amend item 1"} in (
        record["references"]
    )
    (party,) = record["parties"]
    assert (party["role"], party["id"], party["name"]) == ("AppealOffice", "GB000001", "Appeals")
    assert record["issue_datetime"] == datetime(2026, 11, 25, 9, 15, tzinfo=UTC)


def test_a_tax_assessment_keeps_every_duty_line() -> None:
    record = only_response(ASSESSED)
    assert [(t["tax_type"], t["rate"], t["base_amount"], t["amount"]) for t in record["taxes"]] == [
        ("A00", Decimal("12.5"), Decimal("1000.125"), Decimal("125.015625")),
        ("B00", None, None, Decimal("20.00")),
    ]
    assert record["source_literals"] == {"taxes[1].amount": "20,00"}
    assert record["parties"][0]["role"] == "Bank"
    assert record["unknown_segments"] == [
        "Response/DutyTaxFee/AdValoremTaxBaseAmount/@currencyID=GBP",
        "Response/GoodsShipment/GovernmentAgencyGoodsItem/SequenceNumeric=1",
    ]


def test_a_response_without_any_reference_is_quarantined() -> None:
    text = response("<FunctionCode>01</FunctionCode><Status><NameCode>X</NameCode></Status>")
    (out,) = parse(text)
    assert isinstance(out, Rejected)
    assert out.error_code == E_MAPPING
    assert out.message_type == "WCO_RES"
    assert out.rule == "required"
    assert out.raw.startswith("<Response>") and out.raw.endswith("</Response>")


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.as_tuple().exponent) < 60 and len(d.as_tuple().digits) < 60
    )
)
def test_any_decimal_sent_is_kept_exactly(value: Decimal) -> None:
    text = format(value, "f")
    (out,) = parse(declaration(extra=f'<InvoiceAmount currencyID="EUR">{text}</InvoiceAmount>'))
    assert isinstance(out, ParsedRecord)
    assert out.record["invoice_amount"] == Decimal(text)
    assert out.record["flags"] is None
