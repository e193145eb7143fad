"""Which parser implementation is imported: the compiled one exactly when it is built and current.

Why: a compiled module that no longer matches its source (edited after the build) would parse
with old rules, and one missing must never break the import. The byte-identical output of the
two is proven by ``test_parse_golden.py``; this proves the choice itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import lakehouse
from lakehouse.formats import (
    COMPILED_DIR,
    COMPILED_MODULES,
    STAMP_NAME,
    compiled_status,
    source_digests,
)

ROOT = Path(lakehouse.__file__).resolve().parents[1]
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
_PROBE = (
    "import importlib, json; from lakehouse.formats import PARSER_IMPLEMENTATION as p, "
    "COMPILED_MODULES as ms; print(json.dumps([p] + [importlib.import_module("
    "f'lakehouse.formats.{m}').__file__ for m in ms]))"
)


def _import(mode: str | None) -> subprocess.CompletedProcess[str]:
    """Import the parsers in a fresh interpreter with ``LAKEHOUSE_PARSER=mode`` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_PARSER"}
    if mode is not None:
        env["LAKEHOUSE_PARSER"] = mode
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, cwd=ROOT, capture_output=True, text=True
    )


def _fake_build(tmp_path: Path) -> tuple[Path, Path]:
    """A package folder with the real sources and a 'build' of them (empty extension files)."""
    package, built = tmp_path / "formats", tmp_path / "formats" / "_compiled"
    built.mkdir(parents=True)
    for name in COMPILED_MODULES:
        shutil.copy(COMPILED_DIR.parent / f"{name}.py", package / f"{name}.py")
        (built / f"{name}{SUFFIX}").write_bytes(b"")
    stamp = {"sources": source_digests(package)}
    (built / STAMP_NAME).write_text(json.dumps(stamp))
    return package, built


def test_a_current_build_is_usable(tmp_path: Path) -> None:
    package, built = _fake_build(tmp_path)
    assert compiled_status(package, built) is None


def test_a_source_edited_after_the_build_makes_it_stale(tmp_path: Path) -> None:
    package, built = _fake_build(tmp_path)
    with (package / "edifact.py").open("a") as fh:
        fh.write("\n# edited\n")
    assert compiled_status(package, built) == (
        "stale: edifact.py changed since the build (re-run the build)"
    )


def test_a_missing_extension_or_stamp_is_not_used(tmp_path: Path) -> None:
    package, built = _fake_build(tmp_path)
    (built / f"customs_edifact{SUFFIX}").unlink()
    assert compiled_status(package, built) == f"no customs_edifact built for this Python ({SUFFIX})"
    (built / STAMP_NAME).unlink()
    assert compiled_status(package, built).startswith("not built")


def test_the_compiled_parser_is_imported_when_built() -> None:
    done = _import(None)
    assert done.returncode == 0, done.stderr
    implementation, *files = json.loads(done.stdout)
    if compiled_status(COMPILED_DIR.parent, COMPILED_DIR) is None:
        assert implementation.startswith("compiled (Cython)")
        assert files == [str(COMPILED_DIR / f"{m}{SUFFIX}") for m in COMPILED_MODULES]
    else:
        assert implementation.startswith("pure Python (compiled parser ")
        assert files == [str(COMPILED_DIR.parent / f"{m}.py") for m in COMPILED_MODULES]


def test_python_mode_imports_the_sources() -> None:
    done = _import("python")
    assert done.returncode == 0, done.stderr
    implementation, *files = json.loads(done.stdout)
    assert implementation == "pure Python (LAKEHOUSE_PARSER=python)"
    assert files == [str(COMPILED_DIR.parent / f"{m}.py") for m in COMPILED_MODULES]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("fast", "LAKEHOUSE_PARSER must be auto, python or compiled, got 'fast'"),
        ("compiled", "LAKEHOUSE_PARSER=compiled but the compiled parser is "),
    ],
)
def test_a_bad_or_unmet_choice_fails_the_import(mode: str, message: str) -> None:
    if mode == "compiled" and compiled_status(COMPILED_DIR.parent, COMPILED_DIR) is None:
        pytest.skip("the compiled parser is built here: LAKEHOUSE_PARSER=compiled is met")
    done = _import(mode)
    assert done.returncode != 0
    assert f"ImportError: {message}" in done.stderr
