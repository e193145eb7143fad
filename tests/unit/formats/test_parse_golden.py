"""Gate for parser speed work: the full parse output of a varied corpus must not change.

Why a digest: the EDIFACT mapper and tokenizer are tuned for CPU (issue 15) and every such
change must leave every record, flag, source literal, unknown segment and quarantine reason
byte-identical. The unit tests check chosen cases; this digest covers everything the
simulator produces with malformed messages and real senders' quirks switched on, plus random
byte mutations of its EDIFACT files (strict and lenient), so a change that alters any outcome
anywhere fails here. If the parsers' output changes on purpose (or the simulator's corpus
does), regenerate ``GOLDEN`` with ``python tests/unit/formats/test_parse_golden.py`` and say
why in the commit.

Both implementations are held to it: the pure-Python parser modules and, when built, the same
modules compiled with Cython (``scripts/build_parsers.py``). Each runs in its own interpreter
(the choice is made at import, see ``lakehouse/formats/__init__.py``), which also reports the
files the parser modules were loaded from, so the test knows which one it measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import sysconfig
import tempfile
from datetime import date
from pathlib import Path

import pytest

import lakehouse
from lakehouse.formats import COMPILED_DIR, compiled_status
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


def run_with(implementation: str, tmp_path: Path) -> dict:
    """This module's ``__main__`` run afresh with ``LAKEHOUSE_PARSER=implementation``."""
    root = Path(lakehouse.__file__).resolve().parents[1]
    env = {**os.environ, "LAKEHOUSE_PARSER": implementation, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, __file__],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("implementation", ["python", "compiled"])
def test_parse_output_of_the_varied_corpus_is_unchanged(
    implementation: str, tmp_path: Path
) -> None:
    if implementation == "compiled":
        why_not = compiled_status(COMPILED_DIR.parent, COMPILED_DIR)
        if why_not is not None:
            pytest.skip(f"compiled parser {why_not}")
    run = run_with(implementation, tmp_path)
    if implementation == "compiled":
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        assert all(Path(f).parent == COMPILED_DIR and f.endswith(suffix) for f in run["files"])
    else:
        assert all(f.endswith(".py") for f in run["files"]), run["files"]
    assert run["count"] > 1000
    assert run["digest"] == GOLDEN, (
        f"{implementation} parse output changed ({run['count']} outcomes, digest "
        f"{run['digest']}); if on purpose, regenerate GOLDEN (see the module docstring)"
    )


if __name__ == "__main__":
    import importlib

    from lakehouse.formats import COMPILED_MODULES, PARSER_IMPLEMENTATION

    with tempfile.TemporaryDirectory() as tmp:
        digest, count = corpus_digest(Path(tmp))
    print(
        json.dumps(
            {
                "digest": digest,
                "count": count,
                "implementation": PARSER_IMPLEMENTATION,
                "files": [
                    importlib.import_module(f"lakehouse.formats.{m}").__file__
                    for m in COMPILED_MODULES
                ],
            }
        )
    )
