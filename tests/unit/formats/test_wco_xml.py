"""Unit tests of the WCO DEC-DMS XML parser: mapping, namespaces, encodings, zones, rejections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lakehouse.formats.base import (
    E_EMPTY,
    E_ENCODING,
    E_MAPPING,
    E_SCHEMA,
    E_SYNTAX,
    E_UNSUPPORTED,
    ParsedRecord,
    Rejected,
)
from lakehouse.formats.json_feeds import _parse_type, bronze_columns
from lakehouse.formats.wco_xml import (
    bundled_xsd_path,
    parse_wco_datetime,
    parse_wco_xml_file,
    parse_wco_xml_file_validated,
)
from lakehouse.tables import _ITEM, _PARTY

pytestmark = pytest.mark.unit

NS = "urn:wco:datamodel:WCO:DEC-DMS:2"

BODY = """
  <FunctionCode>9</FunctionCode>
  <FunctionalReferenceID>LRN-2026-0001</FunctionalReferenceID>
  <TypeCode>IMA</TypeCode>
  <IssueDateTime><DateTimeString formatCode="304">20261125101500Z</DateTimeString></IssueDateTime>
  <DeclarationOfficeID>KE001</DeclarationOfficeID>
  <InvoiceAmount currencyID="USD">1234.50</InvoiceAmount>
  <Declarant><ID>KE-DT-1</ID><Name>Declarant Ltd</Name></Declarant>
  <Exporter><Name>Shenzhen Phones</Name><ID>CN-EX-9</ID>
    <Address><CountryCode>CN</CountryCode></Address></Exporter>
  <Agent><ID>KE-AE-7</ID><Name>Agent Ltd</Name></Agent>
  <GoodsShipment>
    <Importer><ID>KE-IM-4</ID><Name>Nairobi Imports</Name>
      <Address><CountryCode>KE</CountryCode></Address></Importer>
    <ExportCountry><ID>CN</ID></ExportCountry>
    <Destination><CountryCode>KE</CountryCode></Destination>
    <Consignment><DepartureTransportMeans><ModeCode>1</ModeCode><ID>MSC ANNA</ID>
      </DepartureTransportMeans></Consignment>
    <TradeTerms><ConditionCode>FOB</ConditionCode></TradeTerms>
    <CurrencyExchange><CurrencyTypeCode>USD</CurrencyTypeCode><RateNumeric>129.5</RateNumeric>
    </CurrencyExchange>
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>1</SequenceNumeric>
      <StatisticalValueAmount currencyID="USD">1234.50</StatisticalValueAmount>
      <Commodity>
        <Description>Mobile phones</Description>
        <Classification><ID>85171300</ID><IdentificationTypeCode>TSP</IdentificationTypeCode>
        </Classification>
        <InvoiceLine><ItemChargeAmount currencyID="USD">1234.50</ItemChargeAmount></InvoiceLine>
        <GoodsMeasure>
          <GrossMassMeasure unitCode="KGM">12.5</GrossMassMeasure>
          <NetNetWeightMeasure unitCode="KGM">10</NetNetWeightMeasure>
          <TariffQuantity unitCode="NAR">50</TariffQuantity>
        </GoodsMeasure>
        <DutyTaxFee>
          <DutyRegimeCode>100</DutyRegimeCode><TypeCode>A00</TypeCode>
          <Payment><TaxAssessedAmount currencyID="KES">39966.94</TaxAssessedAmount></Payment>
          <AdValoremTaxBaseAmount currencyID="KES">159867.75</AdValoremTaxBaseAmount>
          <RateNumeric>25</RateNumeric>
        </DutyTaxFee>
        <DutyTaxFee>
          <DutyRegimeCode>100</DutyRegimeCode><TypeCode>B00</TypeCode>
          <SpecificTaxBaseQuantity unitCode="NAR">50</SpecificTaxBaseQuantity>
          <Payment><TaxAssessedAmount currencyID="KES">100</TaxAssessedAmount></Payment>
        </DutyTaxFee>
      </Commodity>
      <Origin><CountryCode>CN</CountryCode><TypeCode>1</TypeCode></Origin>
      <GovernmentProcedure><CurrentCode>40</CurrentCode><PreviousCode>00</PreviousCode>
      </GovernmentProcedure>
      <Packaging><QuantityQuantity>3</QuantityQuantity></Packaging>
    </GovernmentAgencyGoodsItem>
  </GoodsShipment>
"""

EXPECTED_ITEM = {
    "item_no": 1,
    "hs_code": "85171300",
    "hs_code_list": "TSP",
    "procedure_code": "4000",
    "description": "Mobile phones",
    "origin_country": "CN",
    "customs_value": Decimal("1234.50"),
    "value_currency": "USD",
    "statistical_value": Decimal("1234.50"),
    "gross_mass": Decimal("12.5"),
    "net_mass": Decimal("10"),
    "mass_unit": "KGM",
    "quantity": Decimal("50"),
    "quantity_unit": "NAR",
    "packages": 3,
    "taxes": [
        {
            "tax_type": "A00",
            "tax_category": "100",
            "rate": Decimal("25"),
            "base_amount": Decimal("159867.75"),
            "amount": Decimal("39966.94"),
            "currency": "KES",
        },
        {
            "tax_type": "B00",
            "tax_category": "100",
            "rate": None,
            "base_amount": Decimal("50"),
            "amount": Decimal("100"),
            "currency": "KES",
        },
    ],
    "references": [{"qualifier": "Origin/TypeCode", "value": "1"}],
}

ITEM = "Declaration/GoodsShipment/GovernmentAgencyGoodsItem"
UNREAD_ATTRIBUTES = [
    "StatisticalValueAmount/@currencyID=USD",
    "Commodity/GoodsMeasure/NetNetWeightMeasure/@unitCode=KGM",
    "Commodity/DutyTaxFee[1]/AdValoremTaxBaseAmount/@currencyID=KES",
    "Commodity/DutyTaxFee[2]/SpecificTaxBaseQuantity/@unitCode=NAR",
]

EXPECTED = {
    "syntax": "xml",
    "message_type": "WCO_DEC",
    "directory_version": None,
    "interchange_ref": None,
    "message_ref": None,
    "sender_id": None,
    "recipient_id": None,
    "control_issues": [],
    # Attributes the mapping does not read are kept too (one entry per attribute).
    "unknown_segments": [f"{ITEM}/{rest}" for rest in UNREAD_ATTRIBUTES],
    "lrn": "LRN-2026-0001",
    "declaration_type": "IM",
    "declaration_type_ext": "A",
    "message_function": "9",
    "issue_datetime": datetime(2026, 11, 25, 10, 15, tzinfo=UTC),
    "procedure_code": "4000",
    "office_code": "KE001",
    "country_of_dispatch": "CN",
    "country_of_destination": "KE",
    "transport_mode": "1",
    "transport_id": "MSC ANNA",
    "delivery_terms": "FOB",
    "invoice_amount": Decimal("1234.50"),
    "invoice_currency": "USD",
    "exchange_rate": Decimal("129.5"),
    "total_duty": None,
    "total_duty_currency": None,
    "parties": [
        {
            "role": "DT",
            "id": "KE-DT-1",
            "id_scheme": None,
            "name": "Declarant Ltd",
            "country": None,
            "street": None,
            "city": None,
            "postcode": None,
        },
        {
            "role": "EX",
            "id": "CN-EX-9",
            "id_scheme": None,
            "name": "Shenzhen Phones",
            "country": "CN",
            "street": None,
            "city": None,
            "postcode": None,
        },
        {
            "role": "AE",
            "id": "KE-AE-7",
            "id_scheme": None,
            "name": "Agent Ltd",
            "country": None,
            "street": None,
            "city": None,
            "postcode": None,
        },
        {
            "role": "IM",
            "id": "KE-IM-4",
            "id_scheme": None,
            "name": "Nairobi Imports",
            "country": "KE",
            "street": None,
            "city": None,
            "postcode": None,
        },
    ],
    "references": [
        {"qualifier": "CurrencyExchange/CurrencyTypeCode", "value": "USD"},
        {"qualifier": "DepartureTransportMeans/ModeCode", "value": "1"},
        {"qualifier": "DepartureTransportMeans/ID", "value": "MSC ANNA"},
    ],
    "dates": [{"qualifier": "IssueDateTime", "value": "20261125101500Z", "format": "304"}],
    "declaration_taxes": [],
    "items": [EXPECTED_ITEM],
    "flags": None,
    "source_literals": None,
}


def elements_only(unknown: list[str]) -> list[str]:
    """The unknown_segments entries of elements (without the unread attributes)."""
    return [entry for entry in unknown if "/@" not in entry]


def default_ns(body: str = BODY) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Declaration xmlns="{NS}">{body}</Declaration>\n'
    )


def no_ns(body: str = BODY) -> str:
    return f"<Declaration>{body}</Declaration>"


def prefixed(body: str = BODY, prefix: str = "dec") -> str:
    """Every element carries the prefix ``prefix``; the namespace is declared on the root."""
    tagged = re.sub(r"<(/?)([A-Za-z])", rf"<\1{prefix}:\2", body)
    return f'<{prefix}:Declaration xmlns:{prefix}="{NS}">{tagged}</{prefix}:Declaration>'


def redeclared(body: str = BODY) -> str:
    """Each element declares its own prefix (p0, p1, ...) for the same namespace."""
    counter = iter(range(10_000))
    stack: list[str] = []

    def retag(match: re.Match[str]) -> str:
        closing, name, rest = match.group(1), match.group(2), match.group(3)
        if closing:
            return f"</{stack.pop()}:{name}>"
        prefix = f"p{next(counter)}"
        stack.append(prefix)
        return f'<{prefix}:{name} xmlns:{prefix}="{NS}"{rest}>'

    tagged = re.sub(r"<(/?)([A-Za-z]+)([^>]*)>", retag, body)
    return f'<x:Declaration xmlns:x="{NS}">{tagged}</x:Declaration>'


def parse(text: str | bytes, **kwargs: object) -> ParsedRecord | Rejected:
    data = text.encode("utf-8") if isinstance(text, str) else text
    outcomes = list(parse_wco_xml_file(data, "dec.xml", **kwargs))  # type: ignore[arg-type]
    assert len(outcomes) == 1
    return outcomes[0]


def record_of(text: str | bytes, **kwargs: object) -> dict:
    outcome = parse(text, **kwargs)
    assert isinstance(outcome, ParsedRecord), outcome
    assert outcome.table == "cms_declarations"
    assert outcome.message_index == 0
    return outcome.record


def rejection_of(text: str | bytes, **kwargs: object) -> Rejected:
    outcome = parse(text, **kwargs)
    assert isinstance(outcome, Rejected), outcome
    assert outcome.message_index == 0
    assert outcome.message_type == "WCO_DEC"
    return outcome


# --- mapping ---------------------------------------------------------------------------------


def test_maps_the_profile_exactly() -> None:
    assert record_of(default_ns()) == EXPECTED


def test_record_has_exactly_the_bronze_columns() -> None:
    record = record_of(default_ns())
    assert tuple(record) == bronze_columns("cms_declarations")
    item_type = dict(_parse_type(_ITEM)[1])
    assert tuple(record["items"][0]) == tuple(item_type)
    assert tuple(record["items"][0]["taxes"][0]) == tuple(dict(item_type["taxes"][1][1]))
    assert tuple(record["parties"][0]) == tuple(dict(_parse_type(_PARTY)[1]))


@pytest.mark.parametrize(
    "document",
    [no_ns(), prefixed(), prefixed(prefix="wco"), redeclared()],
    ids=["no-namespace", "prefix-dec", "prefix-wco", "prefix-redeclared-per-element"],
)
def test_namespaces_do_not_matter(document: str) -> None:
    assert record_of(document) == EXPECTED


def test_bom_whitespace_and_comments_before_the_root() -> None:
    document = (
        "\n  <?xml version='1.0' encoding='utf-8'?>\n<!-- exported by CMS -->\n  \n"
        "<?producer v=2?>\n" + no_ns()
    )
    assert record_of(b"\xef\xbb\xbf" + document.encode("utf-8")) == EXPECTED


def test_iso_8859_1_declared_encoding() -> None:
    body = BODY.replace("Declarant Ltd", "Müller Spedition Größe")
    data = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n' + no_ns(body)).encode("iso-8859-1")
    parties = record_of(data)["parties"]
    assert parties[0]["name"] == "Müller Spedition Größe"


def test_utf16_with_bom() -> None:
    data = ('<?xml version="1.0" encoding="UTF-16"?>' + default_ns()[38:]).encode("utf-16")
    assert record_of(data) == EXPECTED


def test_unknown_elements_are_kept_in_unknown_segments() -> None:
    body = BODY.replace(
        "<TradeTerms>",
        "<Warehouse><ID>WH1</ID><TypeCode>R</TypeCode></Warehouse><TradeTerms>",
    ).replace(
        "<Name>Nairobi Imports</Name>",
        "<Name>Nairobi Imports</Name><Contact><Phone>+254</Phone></Contact>",
    )
    record = record_of(default_ns(body))
    assert elements_only(record["unknown_segments"]) == [
        "Declaration/GoodsShipment/Importer/Contact/Phone=+254",
        "Declaration/GoodsShipment/Warehouse/ID=WH1",
        "Declaration/GoodsShipment/Warehouse/TypeCode=R",
    ]
    assert record["delivery_terms"] == "FOB"


def test_several_items_extra_classifications_and_procedures() -> None:
    second = """
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>2</SequenceNumeric>
      <Commodity>
        <Classification><ID>12</ID><IdentificationTypeCode>TRC</IdentificationTypeCode></Classification>
        <Classification><ID>61091000</ID><IdentificationTypeCode>TSP</IdentificationTypeCode></Classification>
      </Commodity>
      <Origin><CountryCode>VN</CountryCode><TypeCode>2</TypeCode></Origin>
      <Origin><CountryCode>BD</CountryCode><TypeCode>1</TypeCode></Origin>
      <GovernmentProcedure><CurrentCode>40</CurrentCode><PreviousCode>71</PreviousCode></GovernmentProcedure>
      <GovernmentProcedure><CurrentCode>1AB</CurrentCode></GovernmentProcedure>
      <Packaging><QuantityQuantity>2</QuantityQuantity></Packaging>
      <Packaging><QuantityQuantity>5</QuantityQuantity></Packaging>
    </GovernmentAgencyGoodsItem>
  </GoodsShipment>"""
    record = record_of(default_ns(BODY.replace("</GoodsShipment>", second)))
    first, item = record["items"]
    assert first == EXPECTED_ITEM
    assert item["item_no"] == 2
    assert item["hs_code"] == "61091000"
    assert item["hs_code_list"] == "TSP"
    assert item["origin_country"] == "BD"
    assert item["procedure_code"] == "4071"
    assert item["packages"] == 7
    assert item["taxes"] == []
    assert item["customs_value"] is None
    assert item["references"] == [
        {"qualifier": "Classification/TRC", "value": "12"},
        {"qualifier": "AdditionalProcedure", "value": "1AB"},
        {"qualifier": "Origin/2", "value": "VN"},
        {"qualifier": "Origin/TypeCode", "value": "1"},
        {"qualifier": "Packaging/QuantityQuantity", "value": "2"},
        {"qualifier": "Packaging/QuantityQuantity", "value": "5"},
    ]
    assert record["procedure_code"] is None  # items disagree
    assert elements_only(record["unknown_segments"]) == []


def test_metadata_wrapper_gives_the_directory_version() -> None:
    document = (
        '<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2">'
        "<md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>"
        "<md:WCOTypeName>DEC</md:WCOTypeName>"
        f'<Declaration xmlns="{NS}">{BODY}</Declaration></md:MetaData>'
    )
    record = record_of(document)
    assert record["directory_version"] == "3.6"
    assert record["lrn"] == "LRN-2026-0001"
    assert elements_only(record["unknown_segments"]) == ["MetaData/WCOTypeName=DEC"]


def test_type_code_of_two_letters_has_no_extension() -> None:
    record = record_of(no_ns(BODY.replace("<TypeCode>IMA</TypeCode>", "<TypeCode>EX</TypeCode>")))
    assert (record["declaration_type"], record["declaration_type_ext"]) == ("EX", None)


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        ("20261125101500Z", "304", datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("20261125101500+01", "304", datetime(2026, 11, 25, 9, 15, tzinfo=UTC)),
        ("20261125101500+01:00", "304", datetime(2026, 11, 25, 9, 15, tzinfo=UTC)),
        ("20261125101500+0130", "304", datetime(2026, 11, 25, 8, 45, tzinfo=UTC)),
        ("20261125101500-05", "304", datetime(2026, 11, 25, 15, 15, tzinfo=UTC)),
        ("20261125101500", "304", datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("20261125", "102", datetime(2026, 11, 25, tzinfo=UTC)),
        ("2026-11-25T10:15:00+01:00", None, datetime(2026, 11, 25, 9, 15, tzinfo=UTC)),
        ("2026-11-25T10:15:00Z", None, datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("2026-11-25T10:15:00+01", None, datetime(2026, 11, 25, 9, 15, tzinfo=UTC)),
        ("2026-11-25T10:15:00", None, datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("2026-11-25T00:30:00+01:00", None, datetime(2026, 11, 24, 23, 30, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(text: str, code: str | None, expected: datetime) -> None:
    assert parse_wco_datetime(text, code) == expected
    element = f'<DateTimeString formatCode="{code}">{text}</DateTimeString>' if code else text
    body = BODY.replace(
        '<DateTimeString formatCode="304">20261125101500Z</DateTimeString>', element
    )
    record = record_of(prefixed(body))
    assert record["issue_datetime"] == expected
    assert record["issue_datetime"].tzinfo is UTC
    assert record["dates"] == [{"qualifier": "IssueDateTime", "value": text, "format": code}]


@pytest.mark.parametrize(
    ("element", "text", "reason"),
    [
        (
            '<DateTimeString formatCode="304">20261125</DateTimeString>',
            "20261125",
            "formatCode 304",
        ),
        (
            '<DateTimeString formatCode="102">2026-11-25</DateTimeString>',
            "2026-11-25",
            "formatCode 102",
        ),
        (
            '<DateTimeString formatCode="304">20261325101500Z</DateTimeString>',
            "20261325101500Z",
            "month",
        ),
        ("yesterday", "yesterday", "not a WCO DateTimeString"),
    ],
)
def test_bad_timestamps_are_flagged_and_kept(element: str, text: str, reason: str) -> None:
    body = BODY.replace(
        '<DateTimeString formatCode="304">20261125101500Z</DateTimeString>', element
    )
    record = record_of(default_ns(body))
    assert record["issue_datetime"] is None
    assert record["source_literals"] == {"issue_datetime": text}
    (flag,) = record["flags"]
    assert flag.startswith(f"not-a-timestamp issue_datetime: {text!r} ")
    assert reason in flag
    assert re.search(r"Declaration/IssueDateTime.*, line 6\)$", flag)
    assert record["dates"][0]["value"] == text


# --- rejections ------------------------------------------------------------------------------


def test_broken_xml_is_a_syntax_error_with_line() -> None:
    document = default_ns().replace("</TypeCode>", "</TypeCod>")
    rejected = rejection_of(document)
    assert rejected.error_code == E_SYNTAX
    assert re.search(
        r"Opening and ending tag mismatch: TypeCode line 5 and TypeCod, line 5", rejected.reason
    )
    assert rejected.raw == document


def test_truncated_file_is_a_syntax_error() -> None:
    rejected = rejection_of(default_ns()[:400])
    assert rejected.error_code == E_SYNTAX
    assert "not well-formed" in rejected.reason


def test_missing_lrn_is_a_mapping_error() -> None:
    body = BODY.replace("<FunctionalReferenceID>LRN-2026-0001</FunctionalReferenceID>", "")
    document = default_ns(body)
    rejected = rejection_of(document)
    assert rejected.error_code == E_MAPPING
    assert re.search(r"LRN \(Declaration/FunctionalReferenceID\) is missing", rejected.reason)
    assert (rejected.field, rejected.value, rejected.rule) == (
        "Declaration/FunctionalReferenceID",
        None,
        "required",
    )
    # The raw payload is the declaration element as sent (the XML declaration is not in it).
    assert rejected.raw == document[document.index("<Declaration") :].rstrip("\n")


def test_empty_lrn_is_a_mapping_error() -> None:
    body = BODY.replace("LRN-2026-0001", "  ")
    assert rejection_of(no_ns(body)).error_code == E_MAPPING


def test_decimal_comma_is_read_flagged_and_kept() -> None:
    record = record_of(default_ns(BODY.replace(">12.5<", ">12,5<")))
    assert record["items"][0]["gross_mass"] == Decimal("12.5")
    assert record["source_literals"] == {"items[0].gross_mass": "12,5"}
    (flag,) = record["flags"]
    assert re.fullmatch(
        r"decimal-comma items\[0\]\.gross_mass: '12,5' read with a decimal comma "
        r"\(Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/"
        r"GrossMassMeasure, line \d+\)",
        flag,
    )


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1_000", "1e3", "12.5 kg"])
def test_decimal_look_alikes_are_stored_null_with_their_literal(value: str) -> None:
    record = record_of(no_ns(BODY.replace(">1234.50</InvoiceAmount>", f">{value}</InvoiceAmount>")))
    assert record["invoice_amount"] is None
    assert record["source_literals"] == {"invoice_amount": value}
    assert record["flags"][0].startswith(f"not-a-decimal invoice_amount: {value!r}")


def test_long_decimals_keep_every_digit() -> None:
    body = BODY.replace(">1234.50</InvoiceAmount>", ">2359189.8000000003</InvoiceAmount>")
    body = body.replace(">129.5</RateNumeric>", ">0.0077220077220077220077</RateNumeric>")
    record = record_of(default_ns(body))
    assert record["invoice_amount"] == Decimal("2359189.8000000003")
    assert record["exchange_rate"] == Decimal("0.0077220077220077220077")
    assert record["flags"] is None  # the worker rounds what bronze cannot hold, and flags it


def test_a_document_without_declaration_or_response_is_unsupported() -> None:
    rejected = rejection_of(f'<Invoice xmlns="{NS}"><ID>1</ID></Invoice>')
    assert rejected.error_code == E_UNSUPPORTED
    assert re.search(r"root element is 'Invoice', and it holds no WCO", rejected.reason)


def test_doctype_and_entities_are_refused_without_expansion() -> None:
    document = (
        '<?xml version="1.0"?>\n<!DOCTYPE Declaration [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        '<!ENTITY lol "lol">]>\n' + no_ns(BODY.replace("LRN-2026-0001", "&xxe;&lol;"))
    )
    rejected = rejection_of(document)
    assert rejected.error_code == E_UNSUPPORTED
    assert "DOCTYPE" in rejected.reason
    assert "root:" not in rejected.raw  # nothing of /etc/passwd was read in


def test_undecodable_bytes_are_an_encoding_error() -> None:
    data = default_ns().encode("utf-8").replace(b"Mobile phones", b"Mobile \xff\xfe phones")
    rejected = rejection_of(data)
    assert rejected.error_code == E_ENCODING
    assert re.search(
        r"not valid utf-8 at byte offset \d+ \(line 27\): invalid start byte", rejected.reason
    )
    assert "\\xff\\xfe" in rejected.raw


def test_unknown_declared_encoding_is_an_encoding_error() -> None:
    data = b'<?xml version="1.0" encoding="X-KLINGON"?><Declaration/>'
    rejected = rejection_of(data)
    assert rejected.error_code == E_ENCODING
    assert "unknown character set 'x-klingon'" in rejected.reason


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xef\xbb\xbf", b'<?xml version="1.0"?>\n'])
def test_empty_file(data: bytes) -> None:
    assert rejection_of(data).error_code == E_EMPTY


# --- XSD -------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [default_ns(), no_ns(), prefixed(), redeclared()])
def test_valid_documents_pass_the_bundled_xsd(document: str) -> None:
    assert record_of(document, xsd_path=bundled_xsd_path()) == EXPECTED
    outcomes = list(parse_wco_xml_file_validated(document.encode(), "dec.xml"))
    assert isinstance(outcomes[0], ParsedRecord)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            BODY.replace("<TypeCode>IMA</TypeCode>", "<TypeCode>ZZA</TypeCode>"),
            r"Element 'TypeCode': .*'ZZA' is not accepted by the pattern",
        ),
        (
            BODY.replace(
                'currencyID="USD">1234.50</InvoiceAmount>', 'currencyID="usd">1</InvoiceAmount>'
            ),
            r"Element 'InvoiceAmount', attribute 'currencyID': .*'usd'",
        ),
        (
            BODY.replace("<ExportCountry><ID>CN</ID></ExportCountry>", "").replace(
                "<TradeTerms>", "<ExportCountry><ID>CN</ID></ExportCountry><TradeTerms>"
            ),
            r"Element 'ExportCountry': This element is not expected",
        ),
        (
            BODY.replace("<SequenceNumeric>1</SequenceNumeric>", ""),
            r"Element 'StatisticalValueAmount': This element is not expected\. "
            r"Expected is \( SequenceNumeric \)",
        ),
    ],
    ids=["pattern", "attribute", "misplaced-element", "missing-element"],
)
def test_xsd_failures_name_the_element(body: str, pattern: str) -> None:
    rejected = rejection_of(prefixed(body), xsd_path=bundled_xsd_path())
    assert rejected.error_code == E_SCHEMA
    assert rejected.reason.startswith("dec.xml: message 0 (Declaration, line 1): XSD validation ")
    assert rejected.rule == "xsd"
    assert re.search(pattern, rejected.reason), rejected.reason
    # Without the XSD the same documents still parse (the XSD is opt-in).
    assert isinstance(parse(prefixed(body)), ParsedRecord | Rejected)


def test_missing_xsd_file_is_a_configuration_error() -> None:
    with pytest.raises(OSError):
        parse(default_ns(), xsd_path="/nonexistent/profile.xsd")
