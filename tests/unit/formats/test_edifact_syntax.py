"""Syntax-layer tests (ISO 9735 rules and the deviations real files carry), small inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lakehouse.formats.base import (
    E_CONTROL_COUNT,
    E_EMPTY,
    E_ENCODING,
    E_ENVELOPE,
    E_SYNTAX,
)
from lakehouse.formats.edifact import (
    DEFAULT_DELIMITERS,
    Delimiters,
    EdifactError,
    Message,
    Repetition,
    SyntaxProblem,
    component,
    iter_messages,
    to_decimal,
    tokenize,
)

pytestmark = pytest.mark.unit

UNB = "UNB+UNOC:3+SND:ZZZ+RCV:ZZZ+240102:0930+IC1'"


def msg(ref: str = "1", body: str = "BGM+929+LRN1'", count: int | None = None) -> str:
    n = body.count("'") + 2 if count is None else count
    return f"UNH+{ref}+CUSDEC:D:96B:UN'{body}UNT+{n}+{ref}'"


def interchange(*messages: str, ref: str = "IC1", unb: str = UNB, una: str = "") -> str:
    return f"{una}{unb}{''.join(messages)}UNZ+{len(messages)}+{ref}'"


def run(text: str | bytes, **kw: bool) -> list[Message | SyntaxProblem]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(iter_messages(data, **kw))


def only_messages(items: list[Message | SyntaxProblem]) -> list[Message]:
    assert all(isinstance(i, Message) for i in items), items
    return items  # type: ignore[return-value]


# ------------------------------------------------------------------ UNA and delimiters


def test_una_defaults_when_absent() -> None:
    (m,) = only_messages(run(interchange(msg())))
    assert m.delimiters == DEFAULT_DELIMITERS
    assert m.interchange is not None and not m.interchange.has_una
    assert m.segments[1] == ("BGM", "929", "LRN1")


def test_una_custom_separators() -> None:
    text = (
        "UNA|^,# ~UNB^UNOC|3^S|ZZZ^R^240102|0930^X1~UNH^1^CUSDEC|D|96B|UN~"
        "BGM^929^A#^B~MOA^39|12,5~UNT^4^1~UNZ^1^X1~"
    )
    (m,) = only_messages(run(text))
    assert m.delimiters == Delimiters("|", "^", ",", "#", "", "~")
    assert m.segments[1] == ("BGM", "929", "A^B")
    assert to_decimal(component(m.segments[2], 1, 1), m.delimiters.decimal) == Decimal("12.5")


def test_una_space_release_means_no_release() -> None:
    assert Delimiters.from_una("UNA:+.  '").release == ""


def test_una_invalid_raises_value_error() -> None:
    with pytest.raises(EdifactError):
        Delimiters.from_una(":+.:*'")
    assert issubclass(EdifactError, ValueError)


def test_several_interchanges_each_with_own_una_and_bom() -> None:
    first = interchange(msg("1"), una="UNA:+.? '")
    second = interchange(
        "UNH|2|CUSDEC:D:96B:UN~BGM|929|LRN2~UNT|3|2~",
        ref="IC2",
        unb="UNB|UNOC:3|S|R|240102:0930|IC2~",
        una="UNA:|.? ~",
    ).replace("UNZ+1+IC2'", "UNZ|1|IC2~")
    data = b"\xef\xbb\xbf" + (first + "\r\n" + second).encode()
    a, b = only_messages(run(data))
    assert (a.index, b.index) == (0, 1)
    assert a.segments[1][2] == "LRN1" and b.segments[1][2] == "LRN2"
    assert b.delimiters.element == "|"
    assert a.control_issues == [] and b.control_issues == []


def test_bom_before_unb() -> None:
    (m,) = only_messages(run(b"\xef\xbb\xbf" + interchange(msg()).encode()))
    assert m.interchange is not None and m.interchange.reference == "IC1"


# ------------------------------------------------------------------ release character


def test_release_double_ends_segment_triple_does_not() -> None:
    segs, _ = tokenize("FTX+AAA+++A??'FTX+AAA+++B???'C'")
    assert segs == [("FTX", "AAA", "", "", "A?"), ("FTX", "AAA", "", "", "B?'C")]


def test_release_before_separators_makes_them_literal() -> None:
    segs, raws = tokenize("FTX+AAA+++10?+12?:5?*X'")
    assert segs == [("FTX", "AAA", "", "", "10+12:5*X")]
    assert raws == ["FTX+AAA+++10?+12?:5?*X"]  # raw text keeps the release characters


def test_release_before_ordinary_char_is_dropped() -> None:
    segs, _ = tokenize("FTX+AAA+++W?HAT'")
    assert segs[0][4] == "WHAT"


def test_release_before_line_break_releases_next_char() -> None:
    # Line breaks are not data: "?\n+" is "?+", a literal plus (wrapped line).
    segs, _ = tokenize("FTX+AAA+++A?\n+B'\nLOC+27+CN'")
    assert segs == [("FTX", "AAA", "", "", "A+B"), ("LOC", "27", "CN")]


def test_release_as_last_char_is_kept() -> None:
    segs, _ = tokenize("FTX+AAA+++A?")
    assert segs == [("FTX", "AAA", "", "", "A?")]


# ------------------------------------------------------------------ repetition (v4)


def test_repetition_splits_only_in_syntax_version_4() -> None:
    body = "FTX+AAA+++A*B:C?*D'"
    v4 = interchange(msg(body=body), unb="UNB+UNOC:4+S+R+20240102:0930+IC1'")
    v3 = interchange(msg(body=body))
    (m4,) = only_messages(run(v4))
    (m3,) = only_messages(run(v3))
    rep = m4.segments[1][4]
    assert isinstance(rep, Repetition) and rep == ("A", ("B", "C*D"))
    assert m3.segments[1][4] == ("A*B", "C*D")


# ------------------------------------------------------------------ envelopes


def test_interchange_with_several_messages() -> None:
    items = only_messages(run(interchange(msg("1"), msg("2"), msg("3"))))
    assert [m.reference for m in items] == ["1", "2", "3"]
    assert [m.index for m in items] == [0, 1, 2]
    assert all(m.control_issues == [] for m in items)
    assert items[0].directory_version == "D96B"
    assert items[0].interchange is not None and items[0].interchange.sender_id == "SND"


def test_functional_groups() -> None:
    text = (
        UNB
        + "UNG+CUSDEC+SND+RCV+240102:0930+G1+UN+D:96B'"
        + msg("1")
        + msg("2")
        + "UNE+2+G1'UNG+CUSDEC+SND+RCV+240102:0930+G2+UN+D:96B'"
        + msg("3")
        + "UNE+1+G2'UNZ+2+IC1'"
    )
    items = only_messages(run(text))
    assert [m.group_ref for m in items] == ["G1", "G1", "G2"]
    assert all(m.control_issues == [] for m in items)


def test_group_count_mismatch_is_reported() -> None:
    text = UNB + "UNG+CUSDEC+S+R+240102:0930+G1+UN+D:96B'" + msg("1") + "UNE+5+G9'UNZ+1+IC1'"
    (m,) = only_messages(run(text))
    assert any("UNE message count" in i for i in m.control_issues)
    assert any("UNE reference" in i for i in m.control_issues)


def test_bare_messages_without_envelope() -> None:
    items = only_messages(run(msg("1") + "\n" + msg("2")))
    assert [m.interchange for m in items] == [None, None]
    assert [m.index for m in items] == [0, 1]


def test_unt_count_and_reference_mismatch_kept_and_flagged() -> None:
    text = interchange("UNH+1+CUSDEC:D:96B:UN'BGM+929+L'UNT+9+2'")
    (m,) = only_messages(run(text))
    assert len(m.control_issues) == 2
    assert "UNT segment count '9'" in m.control_issues[0]


def test_unz_mismatch_flagged_on_every_message() -> None:
    text = UNB + msg("1") + msg("2") + "UNZ+7+OTHER'"
    items = only_messages(run(text))
    for m in items:
        assert any("UNZ count '7'" in i for i in m.control_issues)
        assert any("UNZ reference 'OTHER'" in i for i in m.control_issues)


def test_strict_rejects_control_mismatch() -> None:
    text = UNB + "UNH+1+CUSDEC:D:96B:UN'BGM+929+L'UNT+9+1'" + msg("2") + "UNZ+2+IC1'"
    a, b = run(text, strict=True)
    assert isinstance(a, SyntaxProblem) and a.error_code == E_CONTROL_COUNT
    assert a.message_type == "CUSDEC" and "UNT segment count" in a.reason
    assert isinstance(b, Message)


# ------------------------------------------------------------------ character sets


@pytest.mark.parametrize(
    ("charset", "codec", "word"),
    [
        ("UNOC", "latin-1", "Café"),
        ("UNOD", "iso8859-2", "Łódź"),
        ("UNOE", "iso8859-5", "Москва"),
        ("UNOF", "iso8859-7", "Αθήνα"),
        ("UNOG", "iso8859-3", "Ħamrun"),
        ("UNOH", "iso8859-4", "Šiauliai"),
        ("UNOI", "iso8859-6", "عمان"),
        ("UNOJ", "iso8859-8", "חיפה"),
        ("UNOK", "iso8859-9", "İzmir"),
        ("UNOY", "utf-8", "東京"),
        ("UNOW", "utf-8", "Zürich"),
    ],
)
def test_charsets_decode_after_reading_s001(charset: str, codec: str, word: str) -> None:
    text = interchange(msg(body=f"FTX+AAA+++{word}'"), unb=UNB.replace("UNOC", charset))
    (m,) = only_messages(run(text.encode(codec)))
    assert m.segments[1][4] == word
    assert m.control_issues == []
    assert m.interchange is not None and m.interchange.syntax_id == charset


def test_unoa_ascii() -> None:
    text = interchange(msg(body="FTX+AAA+++lower case ok'"), unb=UNB.replace("UNOC", "UNOA"))
    (m,) = only_messages(run(text.encode("ascii")))
    assert m.segments[1][4] == "lower case ok"


def test_unoc_declared_but_utf8_bytes() -> None:
    text = interchange(msg(body="FTX+AAA+++Café Zürich'"))
    (m,) = only_messages(run(text.encode("utf-8")))
    assert m.segments[1][4] == "Café Zürich"
    assert any("UTF-8" in i for i in m.control_issues)
    # not fatal even in strict mode
    assert isinstance(run(text.encode("utf-8"), strict=True)[0], Message)


def test_invalid_bytes_for_charset_reject_only_the_message_holding_them() -> None:
    # Rule (issue 9.6): one bad byte costs its message, not the interchange.
    bad = interchange(msg("1"), msg("2"), unb=UNB.replace("UNOC", "UNOY")).encode()
    bad = bad.replace(b"LRN1", b"LRN\xff\xfe", 1)
    good = interchange(msg("3"), ref="IC2", unb=UNB.replace("IC1", "IC2")).encode()
    items = run(bad + b"\n" + good)
    assert isinstance(items[0], SyntaxProblem) and items[0].error_code == E_ENCODING
    assert items[0].index == 0
    assert items[0].raw == "UNH+1+CUSDEC:D:96B:UN'BGM+929+LRN\xff\xfe'UNT+3+1'"
    offset = bad.index(b"\xff")
    assert f"at file offset {offset}" in items[0].reason
    assert "utf-8" in items[0].reason
    assert isinstance(items[1], Message) and items[1].index == 1
    assert items[1].control_issues == []  # UNZ still counts the rejected message
    assert isinstance(items[2], Message) and items[2].index == 2


def test_unoa_with_non_ascii_non_utf8_is_encoding_error() -> None:
    data = interchange(msg(body="FTX+AAA+++Caf\xe9'"), unb=UNB.replace("UNOC", "UNOA"))
    (p,) = run(data.encode("latin-1"))
    assert isinstance(p, SyntaxProblem) and p.error_code == E_ENCODING


# ------------------------------------------------------------------ layout and whitespace


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n", "", "\n    ", "   \t", "\r\n\t "])
def test_segment_separation_layouts(sep: str) -> None:
    text = sep.join(
        [
            UNB,
            "UNH+1+CUSDEC:D:96B:UN'",
            "BGM+929+LRN1'",
            "FTX+AAA+++TWO  SPACES'",
            "UNT+4+1'",
            "UNZ+1+IC1'",
        ]
    )
    (m,) = only_messages(run(text))
    assert [s[0] for s in m.segments] == ["UNH", "BGM", "FTX", "UNT"]
    assert m.segments[2][4] == "TWO  SPACES"
    assert m.control_issues == []


def test_decimal_comma_and_leading_mark() -> None:
    assert to_decimal("1234,56", ",") == Decimal("1234.56")
    assert to_decimal(",5", ",") == Decimal("0.5")
    assert to_decimal(".5") == Decimal("0.5")
    assert to_decimal(".000") == Decimal(0)
    assert to_decimal("-3.25") == Decimal("-3.25")
    assert to_decimal("") is None and to_decimal("ABC") is None and to_decimal("NaN") is None


def test_trailing_empties_omitted_interior_kept() -> None:
    segs, _ = tokenize("NAD+IM+ID1::ZZZ++NAME+++++KE'TAX+5+CUD+++:::10'LOC+22+:'")
    nad, tax, loc = segs
    assert nad == ("NAD", "IM", ("ID1", "", "ZZZ"), "", "NAME", "", "", "", "", "KE")
    assert component(nad, 9) == "KE" and component(nad, 12) == "" and component(nad, 2, 7) == ""
    assert component(tax, 5, 3) == "10"
    assert loc == ("LOC", "22", ("", ""))


def test_level_b_information_separators() -> None:
    text = (
        "UNB\x1dUNOB\x1f3\x1dS\x1dR\x1d240102\x1f0930\x1dIC1\x1c"
        "UNH\x1d1\x1dCUSDEC\x1fD\x1f96B\x1fUN\x1cBGM\x1d929\x1dL?1\x1cUNT\x1d3\x1d1\x1c"
        "UNZ\x1d1\x1dIC1\x1c"
    )
    (m,) = only_messages(run(text))
    assert m.segments[1] == ("BGM", "929", "L?1")  # no release character in level B


# ------------------------------------------------------------------ malformed input


def test_truncated_interchange_message_without_unt() -> None:
    text = UNB + msg("1") + "UNH+2+CUSDEC:D:96B:UN'BGM+929+LRN2'"
    a, b = run(text)
    assert isinstance(a, Message) and a.reference == "1"
    assert any("not closed by UNZ" in i for i in a.control_issues)
    assert isinstance(b, SyntaxProblem) and b.error_code == E_ENVELOPE
    assert b.index == 1 and "BGM+929+LRN2" in b.raw and b.message_type == "CUSDEC"


def test_missing_unz_followed_by_new_unb() -> None:
    text = (
        UNB
        + msg("1")
        + "UNH+2+CUSDEC:D:96B:UN'BGM+929+X'\n"
        + interchange(msg("3"), ref="IC2", unb=UNB.replace("IC1", "IC2"))
    )
    a, b, c = run(text)
    assert isinstance(a, Message) and any("not closed by UNZ" in i for i in a.control_issues)
    assert isinstance(b, SyntaxProblem) and b.error_code == E_ENVELOPE
    assert isinstance(c, Message) and c.control_issues == [] and c.index == 2
    assert run(text, strict=True)[0].error_code == E_ENVELOPE  # type: ignore[union-attr]


def test_junk_after_unz() -> None:
    text = interchange(msg()) + "\n%%% trailing garbage from a mail gateway\n"
    a, b = run(text)
    assert isinstance(a, Message) and a.control_issues == []
    assert isinstance(b, SyntaxProblem) and b.error_code == E_SYNTAX
    assert "trailing garbage" in b.raw and b.index == 1


def test_wrong_separators_whole_file() -> None:
    data = b"HDR;UNOC;3;SENDER~LINE;1;foo~"
    (p,) = run(data)
    assert isinstance(p, SyntaxProblem) and p.error_code == E_SYNTAX and p.raw == data.decode()


def test_declared_separators_not_used() -> None:
    text = "UNA:+.? 'UNB+UNOC:3+S+R+240102:0930+IC1~UNH+1+CUSDEC:D:96B:UN~UNT+2+1~UNZ+1+IC1~"
    (p,) = run(text)
    assert isinstance(p, SyntaxProblem) and p.error_code == E_SYNTAX
    assert "separators" in p.reason


def test_invalid_segment_tag_rejects_message() -> None:
    text = interchange(msg("1", body="BGM+929+L'b@d+X'"), msg("2"))
    a, b = run(text)
    assert isinstance(a, SyntaxProblem) and a.error_code == E_SYNTAX and "b@d" in a.reason
    assert isinstance(b, Message) and b.index == 1


def test_empty_file() -> None:
    (p,) = run(b"  \r\n")
    assert isinstance(p, SyntaxProblem) and p.error_code == E_EMPTY
    (q,) = run(UNB + "UNZ+0+IC1'")
    assert isinstance(q, SyntaxProblem) and q.error_code == E_EMPTY


def test_to_decimal_rejects_non_edifact_numbers() -> None:
    for bad in ("1E5", "Infinity", "1.000.000", "١٢", "--1", "."):
        assert to_decimal(bad) is None, bad
