"""Message formats: UN/EDIFACT, WCO XML and JSON feeds behind one parser contract.

Compiled parsers (issue 15). The parsers are plain Python; ``scripts/build_parsers.py``
(run by ``scripts/bootstrap.sh``) compiles the *same source files*, unchanged, with Cython
into ``lakehouse/formats/_compiled/``, next to a stamp holding each source's sha256. When
this package is imported, that folder is put first on the package's ``__path__`` if the stamp
matches the sources beside it, so ``import lakehouse.formats.edifact`` (etc.) loads the extension;
otherwise the ``.py`` files load as always. Why this way: one source of truth (no second
implementation to keep in step), the pure-Python module stays the fallback wherever no
compiler was available, and a stale build (a source edited after building) is never used.
``tests/unit/formats/test_parse_golden.py`` proves both give byte-identical output.

``LAKEHOUSE_PARSER`` picks the implementation: ``auto`` (default: compiled when built and
current), ``python`` (never compiled), ``compiled`` (fail at import unless it is available).
It is read here, at import, on purpose: the choice must be made before the modules load, once
per interpreter (every parse worker process makes the same choice).
"""

from __future__ import annotations

import hashlib
import json
import os
import sysconfig
from pathlib import Path

# The parser modules of every feed, hottest first (issue 15: EDIFACT ~60 % of the parse CPU,
# ECTS JSON lines ~18 %, WCO XML ~11 %).
COMPILED_MODULES = ("edifact", "customs_edifact", "json_columnar", "json_feeds", "wco_xml")
COMPILED_DIR = Path(__file__).with_name("_compiled")
STAMP_NAME = "BUILD.json"


def source_digests(package_dir: Path, modules: tuple[str, ...] = COMPILED_MODULES) -> dict:
    """sha256 of each module's ``.py`` source: what a build is stamped with and checked against."""
    return {
        name: hashlib.sha256((package_dir / f"{name}.py").read_bytes()).hexdigest()
        for name in modules
    }


def compiled_status(
    package_dir: Path, compiled_dir: Path, modules: tuple[str, ...] = COMPILED_MODULES
) -> str | None:
    """Why the compiled modules in ``compiled_dir`` cannot be used, or None when they can.

    Usable means: every module's extension exists for this interpreter (its ABI suffix) and
    the stamp names the sha256 of the ``.py`` file it was compiled from.
    """
    stamp = compiled_dir / STAMP_NAME
    if not stamp.is_file():
        return "not built (scripts/build_parsers.py builds it)"
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    missing = [m for m in modules if not (compiled_dir / f"{m}{suffix}").is_file()]
    if missing:
        return f"no {', '.join(missing)} built for this Python ({suffix})"
    try:
        built = json.loads(stamp.read_text())["sources"]
    except (ValueError, KeyError, TypeError):
        return f"unreadable stamp {stamp}"
    current = source_digests(package_dir, modules)
    stale = [m for m in modules if built.get(m) != current[m]]
    if stale:
        return f"stale: {', '.join(stale)}.py changed since the build (re-run the build)"
    return None


def _choose() -> str:
    """Put the compiled modules first on ``__path__`` when allowed; describe the choice."""
    mode = os.environ.get("LAKEHOUSE_PARSER", "auto")
    if mode not in ("auto", "python", "compiled"):
        raise ImportError(f"LAKEHOUSE_PARSER must be auto, python or compiled, got {mode!r}")
    if mode == "python":
        return "pure Python (LAKEHOUSE_PARSER=python)"
    why_not = compiled_status(Path(__file__).parent, COMPILED_DIR)
    if why_not is None:
        __path__.insert(0, str(COMPILED_DIR))
        return f"compiled (Cython): {', '.join(COMPILED_MODULES)} from {COMPILED_DIR}"
    if mode == "compiled":
        raise ImportError(f"LAKEHOUSE_PARSER=compiled but the compiled parser is {why_not}")
    return f"pure Python (compiled parser {why_not})"


# Which implementation this interpreter parses with (logged by the bronze ingestion).
PARSER_IMPLEMENTATION = _choose()
