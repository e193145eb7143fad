"""Benchmark: our EDIFACT syntax layer vs pydifact on the same CUSDEC corpus, one core.

Why: the syntax layer was written for throughput (str.split fast path, regex only when the
release character occurs, tuple segments); this script keeps that claim honest. Target: at
least 10x pydifact's segments/second.

The corpus is either generated (``--messages`` CUSDEC messages of 1..``--max-items`` goods
items following the simulator profile, grouped ``--per-interchange`` per interchange, a share
``--release-ratio`` of messages carrying released characters) or read from ``*.edi`` files in
``--corpus``. Each interchange is parsed as one text by both parsers:

* ``ours-full``: :func:`lakehouse.formats.edifact.iter_messages` from bytes (decode, framing,
  tokenising, envelope and control-count checks);
* ``ours-tokenize``: :func:`lakehouse.formats.edifact.tokenize` on the decoded text;
* ``pydifact``: ``Interchange.from_str`` then iterating every segment's tag and elements.

Segments/second = segments in the corpus (UNA excluded) / best-of-``--repeat`` wall time.
Prints a table and one JSON line. Example::

    .venv/bin/python benchmarks/bench_edifact_vs_pydifact.py --messages 2000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lakehouse.formats.edifact import Delimiters, Message, iter_messages, tokenize

UNA = "UNA:+.? '"
HS = ["847130", "610910", "870323", "300490", "851712", "940360", "392690", "640399"]
GOODS = [
    "LAPTOP COMPUTERS",
    "COTTON T-SHIRTS",
    "PASSENGER CARS 1500CC",
    "MEDICAMENTS IN DOSES",
    "MOBILE PHONES",
    "WOODEN FURNITURE",
    "PLASTIC ARTICLES",
    "FOOTWEAR",
]


def cusdec(rng: random.Random, ref: int, items: int, release: bool) -> list[str]:
    """One CUSDEC message (segments without terminator) following the simulator profile."""
    lrn = f"KE{2024_000000 + ref}"
    segs = [
        f"UNH+{ref}+CUSDEC:D:96B:UN",
        f"BGM+929:::IM4+{lrn}+9",
        f"CST++{rng.choice(['4000', '4071', '1000'])}:111:155",
        f"LOC+22+KE{rng.randint(1, 40):03d}:113:155",
        f"LOC+35+{rng.choice(['CN', 'IN', 'AE', 'DE', 'US'])}",
        "LOC+28+KE",
        f"DTM+137:2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}:203",
        f"RFF+ABQ:IMP{rng.randint(1, 99999):05d}",
        f"TDT+11+{rng.choice(['MSC ANNA', 'KCA 123X', 'KQ310'])}+{rng.choice('134')}",
        f"NAD+DT+P0{rng.randint(10**8, 10**9)}::ZZZ++CLEARING AGENT {rng.randint(1, 99)} LTD",
        f"NAD+IM+P0{rng.randint(10**8, 10**9)}::ZZZ++IMPORTER {rng.randint(1, 999)}+++++KE",
        f"NAD+EX+EX{rng.randint(1000, 9999)}::ZZZ++EXPORTER {rng.randint(1, 999)}+++++CN",
        f"TOD+++{rng.choice(['FOB', 'CIF', 'EXW'])}",
        f"MOA+39:{rng.randint(1000, 900000)}.{rng.randint(0, 99):02d}:USD",
        f"CUX+2:USD:4+3:KES:5+{rng.randint(120, 160)}.{rng.randint(0, 9999):04d}",
        "UNS+D",
    ]
    total = 0.0
    for n in range(1, items + 1):
        k = rng.randrange(len(HS))
        desc = GOODS[k] + (" 10?+12MM?: SIZE?'S" if release and n == 1 else "")
        value = rng.randint(100, 90000)
        duty = round(value * 0.25, 2)
        vat = round(value * 0.16, 2)
        total += duty + vat
        segs += [
            f"CST+{n}+{HS[k]}{rng.randint(0, 9999):04d}:122:155+4000",
            f"FTX+AAA+++{desc}",
            f"LOC+27+{rng.choice(['CN', 'IN', 'AE'])}",
            f"MEA+WT+AAB+KGM:{rng.randint(1, 9000)}.{rng.randint(0, 9)}",
            f"MEA+WT+AAC+KGM:{rng.randint(1, 8000)}",
            f"MEA+AAE+AAD+NAR:{rng.randint(1, 500)}",
            f"MOA+40:{value}.00:USD",
            "TAX+5+CUD+++:::25",
            f"MOA+161:{duty:.2f}:USD",
            "TAX+5+VAT+++:::16",
            f"MOA+161:{vat:.2f}:USD",
            f"PAC+{rng.randint(1, 99)}",
        ]
    segs += ["UNS+S", f"CNT+5:{items}", "TAX+5+CUD", f"MOA+176:{total:.2f}:USD"]
    segs.append(f"UNT+{len(segs) + 1}+{ref}")
    return segs


def generate(
    messages: int, per_interchange: int, max_items: int, release_ratio: float, seed: int
) -> list[str]:
    """Interchange texts (each with its own UNA/UNB/UNZ), one segment per line."""
    rng = random.Random(seed)
    out: list[str] = []
    ref = 0
    while ref < messages:
        batch = min(per_interchange, messages - ref)
        icref = f"IC{len(out) + 1:06d}"
        lines = [UNA, f"UNB+UNOC:3+KEBROKER01:ZZZ+KRA:ZZZ+240102:1530+{icref}'"]
        for _ in range(batch):
            ref += 1
            items = rng.randint(1, max_items)
            segs = cusdec(rng, ref, items, rng.random() < release_ratio)
            lines += [s + "'" for s in segs]
        lines.append(f"UNZ+{batch}+{icref}'")
        out.append("\n".join(lines) + "\n")
    return out


def load(directory: Path) -> list[str]:
    """Read ``*.edi`` files (UTF-8, else latin-1) from ``directory``."""
    texts = []
    for path in sorted(directory.glob("*.edi")):
        raw = path.read_bytes()
        try:
            texts.append(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            texts.append(raw.decode("latin-1"))
    return texts


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t0)
    return best, count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, help="directory of *.edi files (else generate)")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--per-interchange", type=int, default=50)
    ap.add_argument("--max-items", type=int, default=30)
    ap.add_argument("--release-ratio", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-pydifact", action="store_true")
    args = ap.parse_args(argv)

    pinned = False
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
        pinned = True

    if args.corpus:
        texts = load(args.corpus)
    else:
        texts = generate(
            args.messages, args.per_interchange, args.max_items, args.release_ratio, args.seed
        )
    blobs = [t.encode("utf-8") for t in texts]
    size_mb = sum(len(b) for b in blobs) / 1e6

    def ours_full() -> int:
        n = 0
        for blob in blobs:
            for m in iter_messages(blob):
                if isinstance(m, Message):
                    n += len(m.segments)
            n += 2  # UNB and UNZ
        return n

    def ours_tokenize() -> int:
        n = 0
        for text in texts:
            body = text.lstrip()
            d = Delimiters.from_una(body[3:9]) if body.startswith("UNA") else Delimiters()
            segs, _ = tokenize(body[9:] if body.startswith("UNA") else body, d)
            n += len(segs)
        return n

    def pyd() -> int:
        import warnings

        from pydifact.segmentcollection import Interchange

        # pydifact 0.2.3 warns once per segment tag about missing XML directories: silence it
        # so the warnings machinery does not blur the timing.
        warnings.simplefilter("ignore")

        n = 0
        for text in texts:
            ic = Interchange.from_str(text)
            for seg in ic.segments:
                _ = seg.tag, seg.elements
                n += 1
        return n

    rows: list[tuple[str, float, int]] = []
    t, n = best_of(args.repeat, ours_full)
    rows.append(("ours-full", t, n))
    t, n = best_of(args.repeat, ours_tokenize)
    rows.append(("ours-tokenize", t, n))
    segments = rows[1][2]
    if not args.skip_pydifact:
        t, n = best_of(args.repeat, pyd)
        rows.append(("pydifact", t, n))

    result: dict[str, object] = {
        "benchmark": "edifact_vs_pydifact",
        "python": platform.python_version(),
        "pinned_core0": pinned,
        "interchanges": len(texts),
        "segments": segments,
        "megabytes": round(size_mb, 2),
    }
    print(f"corpus: {len(texts)} interchanges, {segments} segments, {size_mb:.1f} MB")
    print(f"{'parser':<15}{'seconds':>10}{'segments':>12}{'segments/s':>14}")
    for name, secs, count in rows:
        rate = segments / secs
        print(f"{name:<15}{secs:>10.3f}{count:>12}{rate:>14,.0f}")
        result[f"{name}_seg_per_s"] = round(rate)
    if not args.skip_pydifact:
        base = segments / rows[2][1]
        for name in ("ours-full", "ours-tokenize"):
            ratio = float(result[f"{name}_seg_per_s"]) / base  # type: ignore[arg-type]
            result[f"ratio_{name}"] = round(ratio, 1)
        print(
            f"ratio vs pydifact: full {result['ratio_ours-full']}x, "
            f"tokenize {result['ratio_ours-tokenize']}x (target >= 10x)"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
