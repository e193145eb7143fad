"""UN/EDIFACT rendering: CUSDEC D96B declarations, CUSRES responses and CUSCAR cargo reports.

Emits exactly the profile the parsers are written against (see docs/simulator.md): UNA
present, UNOC (Latin-1) bytes, ``'`` + newline after every segment, ``?`` releasing service
characters in free text. Messages are built as lists of segment strings and joined once; the
UNT count is the list length plus the UNT itself, so good messages are correct by construction.

The malformations are deliberate and counted by the caller: a wrong UNT count, an unreleased
apostrophe (which splits a segment), bytes that are not Latin-1 text (a UTF-8 curly quote in a
UNOC interchange) and a truncated interchange (last message without UNT, no UNZ).
"""

from __future__ import annotations

import random

from lakehouse.simulator.model import Clock, Declaration, num, rate_text

UNA = "UNA:+.? '\n"
CMS_ID = "KRACMS"
GATEWAY_ID = "KENTRADE"
EDI_MALFORMATIONS = (
    ("wrong_unt_count", 0.30),
    ("unreleased_character", 0.25),
    ("bad_charset_bytes", 0.25),
    ("truncated_interchange", 0.20),
)


def cusdec(
    d: Declaration,
    clock: Clock,
    msg_ref: str,
    function: str,
    malformed: str | None = None,
    rnd: random.Random | None = None,
) -> str | bytes:
    """One CUSDEC message (UNH..UNT), as text, or as bytes when ``bad_charset_bytes``.

    For ``truncated_interchange`` the message stops before its UNT; the caller must end the
    interchange right after it without a UNZ.
    """
    cur = d.currency
    imp, dec, exp = d.importer, d.declarant, d.exporter
    imp_name = imp.name_edi
    if malformed == "unreleased_character":
        imp_name = f"{imp_name} Cote d'Ivoire Branch"
    elif malformed == "bad_charset_bytes":
        imp_name = f"{imp_name} (Nairobi\u2019s branch)"
    s = [
        f"UNH+{msg_ref}+CUSDEC:D:96B:UN",
        f"BGM+929:::{d.ext}+{d.lrn}+{function}",
        f"CST++{d.procedure}:111:155",
        f"LOC+22+{d.office}:113:155",
        f"LOC+35+{d.dispatch}",
        f"LOC+28+{d.destination}",
        f"DTM+137:{clock.edi(d.t)}:203",
        f"RFF+ABQ:{d.importer_ref}",
        f"TDT+11+{d.transport_id}+{d.mode}",
        f"NAD+DT+{dec.id}::ZZZ++{dec.name_edi}",
        f"NAD+IM+{imp.id}::ZZZ++{imp_name}+++++KE",
        (
            f"NAD+EX+{exp.id}::ZZZ++{exp.name_edi}+++++{d.exporter_country}"
            if d.exporter_country
            else f"NAD+EX+{exp.id}::ZZZ++{exp.name_edi}"
        ),
    ]
    if d.incoterm:
        s.append(f"TOD+++{d.incoterm}")
    s.append(f"MOA+39:{d.invoice_total:.2f}:{cur}")
    s.append(f"CUX+2:{cur}:4+3:KES:5+{rate_text(d.rate)}")
    s.append("UNS+D")
    unit, factor = d.mass_unit, d.mass_factor
    proc = d.procedure
    for it in d.items:
        s.append(f"CST+{it.no}+{it.code}:122:155+{proc}")
        if it.desc:
            s.append(f"FTX+AAA+++{it.tariff.description_edi}")
        s.append(f"LOC+27+{it.origin}")
        if it.gross is not None:
            s.append(f"MEA+WT+AAB+{unit}:{it.gross * factor:.3f}")
        s.append(f"MEA+WT+AAC+{unit}:{it.net * factor:.3f}")
        s.append(f"MEA+AAE+AAD+{it.tariff.qty_unit}:{num(it.qty)}")
        if it.packages is not None:
            s.append(f"PAC+{it.packages}")
        s.append(f"MOA+40:{it.value:.2f}:{cur}")
        s.append(f"TAX+5+CUD+++:::{it.duty_rate}")
        s.append(f"MOA+161:{it.duty:.2f}:KES")
        s.append("TAX+5+VAT+++:::16")
        s.append(f"MOA+161:{it.vat:.2f}:KES")
    s.append("UNS+S")
    s.append(f"CNT+5:{len(d.items)}")
    s.append("TAX+5+CUD")
    s.append(f"MOA+176:{d.total_duty:.2f}:KES")
    if malformed == "truncated_interchange":
        assert rnd is not None
        cut = rnd.randrange(6, len(s))
        return "'\n".join(s[:cut]) + "'\n"
    count = len(s) + 1
    if malformed == "wrong_unt_count":
        assert rnd is not None
        count += rnd.choice((-3, -2, -1, 1, 2, 5))
    s.append(f"UNT+{count}+{msg_ref}")
    text = "'\n".join(s) + "'\n"
    if malformed == "bad_charset_bytes":
        return text.encode("utf-8")
    return text


def cusres(
    clock: Clock,
    msg_ref: str,
    d: Declaration,
    t: int,
    status: str,
    duty: float,
    vat: float,
    error: tuple[str, str] | None = None,
) -> str:
    """One CUSRES message answering declaration ``d`` (status 1/2/3/4, taxes assessed)."""
    s = [
        f"UNH+{msg_ref}+CUSRES:D:96B:UN",
        f"BGM+962+{d.mrn}+9",
        f"DTM+137:{clock.edi(t)}:203",
        f"RFF+ABT:{d.lrn}",
        f"GIS+{status}:109:155",
    ]
    if error is not None:
        s.append("ERP+1")
        s.append(f"ERC+{error[0]}")
        s.append(f"FTX+AAO+++{error[1]}")
    s.append("TAX+5+CUD")
    s.append(f"MOA+161:{duty:.2f}:KES")
    s.append("TAX+5+VAT")
    s.append(f"MOA+161:{vat:.2f}:KES")
    s.append(f"UNT+{len(s) + 1}+{msg_ref}")
    return "'\n".join(s) + "'\n"


def container_id(owner: str, serial: int) -> str:
    """An ISO 6346 container number (owner code + U + 6 digits + check digit)."""
    code = f"{owner[:3]}U{serial:06d}"
    values = {}
    v = 10
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if v % 11 == 0:
            v += 1
        values[ch] = v
        v += 1
    total = sum((values[c] if c.isalpha() else int(c)) * (2**k) for k, c in enumerate(code))
    return f"{code}{total % 11 % 10}"


def cuscar(
    clock: Clock,
    msg_ref: str,
    doc_no: str,
    t: int,
    voyage: str,
    carrier: str,
    loading: str,
    consignments: list[tuple],
) -> str:
    """One CUSCAR message: a vessel's cargo report with one container per consignment.

    ``consignments`` holds ``(bill_of_lading, container, seal, consignor, consignee,
    goods)`` where goods are ``(hs6, packages, kg, description_edi)`` tuples.
    """
    s = [
        f"UNH+{msg_ref}+CUSCAR:D:95B:UN",
        f"BGM+85+{doc_no}+9",
        f"DTM+137:{clock.edi(t)}:203",
        f"TDT+20+{voyage}+1++{carrier}",
        f"LOC+9+{loading}",
        "LOC+11+KEMBA",
    ]
    for _bl, container, seal, _cz, _cn, _goods in consignments:
        s.append(f"EQD+CN+{container}")
        s.append(f"SEL+{seal}")
    for n, (bl, _container, _seal, cz, cn, goods) in enumerate(consignments, start=1):
        s.append(f"CNI+{n}")
        s.append(f"RFF+BM:{bl}")
        s.append(f"NAD+CZ+{cz.id}::ZZZ++{cz.name_edi}")
        s.append(f"NAD+CN+{cn.id}::ZZZ++{cn.name_edi}")
        for k, (hs6, packages, kg, desc) in enumerate(goods, start=1):
            s.append(f"GID+{k}+{packages}")
            s.append(f"FTX+AAA+++{desc}")
            s.append(f"MEA+WT+AAB+KGM:{kg:.3f}")
            s.append(f"PIA+5+{hs6}:HS")
    s.append(f"UNT+{len(s) + 1}+{msg_ref}")
    return "'\n".join(s) + "'\n"


def interchange(
    clock: Clock,
    sender: str,
    recipient: str,
    prepared: int,
    ref: str,
    messages: list[str | bytes],
    truncated: bool = False,
) -> bytes:
    """Wrap messages in UNA/UNB..UNZ and encode as UNOC (Latin-1).

    Messages already given as bytes (a deliberate charset defect) are spliced in unchanged.
    A truncated interchange has no UNZ.
    """
    head = f"{UNA}UNB+UNOC:3+{sender}:ZZZ+{recipient}:ZZZ+{clock.unb(prepared)}+{ref}'\n"
    tail = "" if truncated else f"UNZ+{len(messages)}+{ref}'\n"
    if all(isinstance(m, str) for m in messages):
        return (head + "".join(messages) + tail).encode("latin-1")  # type: ignore[arg-type]
    parts = [head.encode("latin-1")]
    parts.extend(m if isinstance(m, bytes) else m.encode("latin-1") for m in messages)
    parts.append(tail.encode("latin-1"))
    return b"".join(parts)
