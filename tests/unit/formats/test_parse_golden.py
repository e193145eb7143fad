"""Gate for parser speed work: the full parse output of a varied corpus must not change.

Why a digest: the EDIFACT mapper and tokenizer are tuned for CPU (issue 15) and every such
change must leave every record, flag, source literal, unknown segment and quarantine reason
byte-identical. The unit tests check chosen cases; this digest covers everything the
simulator produces with malformed messages and real senders' quirks switched on, plus random
byte mutations of its EDIFACT files (strict and lenient), so a change that alters any outcome
anywhere fails here. If the parsers' output changes on purpose (or the simulator's corpus
does), regenerate ``GOLDEN`` with ``python tests/unit/formats/test_parse_golden.py`` and say
why in the commit.
"""

from __future__ import annotations

import hashlib
import random
import sys
import tempfile
from datetime import date
from pathlib import Path

from lakehouse.formats.base import ParsedColumns, ParsedRecord
from lakehouse.formats.customs_edifact import parse_edifact_file
from lakehouse.ingest.dispatch import ParseOptions, parse_landed_file
from lakehouse.landing import feed_key_of
from lakehouse.simulator import generate

GOLDEN = "554670b3dfbc3ea9bcb1351560fbfd3d15ba5a48fd2a0ba079cf5c3ef805b4a4"
_ALPHABET = b"'+:?*\n\r UNHUNTUNZUNBUNAUNGUNECSTTAXMOA\xef\xbb\xbf\xff\xc3\xa9E9.,-0"


def _outcome_text(outcome: object) -> str:
    """A canonical text of one outcome: repr keeps types, key order and Decimal exponents."""
    if isinstance(outcome, ParsedColumns):
        return repr((outcome.table, outcome.message_indexes, outcome.records.to_pylist()))
    if isinstance(outcome, ParsedRecord):
        return repr((outcome.table, outcome.message_index, outcome.record))
    return repr(outcome)


def _mutants(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Byte-mutated copies of one EDIFACT file (inserted service characters, cut spans)."""
    out = []
    for _ in range(count):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            pos = rng.randint(0, len(mutant))
            if rng.random() < 0.6:
                mutant[pos:pos] = bytes([rng.choice(_ALPHABET)])
            else:
                del mutant[pos : pos + rng.randint(1, 40)]
        out.append(bytes(mutant))
    return out


def corpus_digest(root: Path) -> tuple[str, int]:
    """(sha256 over every outcome of the corpus, number of outcomes)."""
    generate(
        str(root),
        declarations=400,
        seed=1515,
        day=date(2026, 11, 25),
        malformed_rate=0.08,
        messages_per_interchange=9,
        quirk_rate=0.3,
    )
    landing = root / "landing"
    rng = random.Random(1515)
    digest = hashlib.sha256()
    count = 0
    options = ParseOptions()
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        rel = path.relative_to(landing).as_posix()
        data = path.read_bytes()
        outcomes = list(parse_landed_file(data, rel, feed_key_of(rel), options))
        if rel.startswith("cms/edifact/"):
            for k, mutant in enumerate(_mutants(data, rng, 12)):
                outcomes += parse_edifact_file(mutant, f"{rel}#{k}", strict=k % 2 == 1)
            outcomes += parse_edifact_file(data, rel, strict=True)
        for outcome in outcomes:
            digest.update(f"{rel}\x00{_outcome_text(outcome)}\x01".encode("utf-8", "replace"))
            count += 1
    return digest.hexdigest(), count


def test_parse_output_of_the_varied_corpus_is_unchanged(tmp_path: Path) -> None:
    digest, count = corpus_digest(tmp_path)
    assert count > 1000
    assert digest == GOLDEN, (
        f"parse output changed ({count} outcomes, digest {digest}); if on purpose, "
        "regenerate GOLDEN (see the module docstring)"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(corpus_digest(Path(tmp)), file=sys.stdout)
