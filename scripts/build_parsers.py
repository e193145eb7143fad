"""Compile the parser modules with Cython, unchanged, into lakehouse/formats/_compiled/.

Why: parsing is ~97 % of the bronze path (issue 15); compiled, the same source runs faster
with the same output (proven by
``tests/unit/formats/test_parse_golden.py``). Idempotent: nothing is done when the stamp already
names the current sources, Cython version and Python. Without Cython or a C compiler it says so
and exits 0: the package then imports the pure-Python modules (see ``lakehouse/formats``).

    .venv/bin/python scripts/build_parsers.py [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lakehouse.formats import (  # noqa: E402  (the package of this checkout, not an installed one)
    COMPILED_DIR,
    COMPILED_MODULES,
    STAMP_NAME,
    source_digests,
)

PACKAGE_DIR = COMPILED_DIR.parent
# Python semantics, exactly: annotations are not C types (a ``str`` annotation would reject a
# subclass, an ``int`` one would change overflow), and Python's own arithmetic rules apply.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}


def _wanted_stamp() -> dict:
    import Cython

    return {
        "sources": source_digests(PACKAGE_DIR),
        "cython": Cython.__version__,
        "python": sysconfig.get_config_var("EXT_SUFFIX"),
        "directives": DIRECTIVES,
    }


def _to_build(wanted: dict) -> list[str]:
    """The modules whose extension is missing or was built from other sources or tools."""
    try:
        built = json.loads((COMPILED_DIR / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return list(COMPILED_MODULES)
    same_tools = {k: v for k, v in built.items() if k != "sources"} == {
        k: v for k, v in wanted.items() if k != "sources"
    }
    suffix = wanted["python"]
    return [
        name
        for name in COMPILED_MODULES
        if not same_tools
        or built.get("sources", {}).get(name) != wanted["sources"][name]
        or not (COMPILED_DIR / f"{name}{suffix}").is_file()
    ]


def _compile(work: Path, names: list[str]) -> list[Path]:
    """Build the modules ``names`` into ``work``; the built extension files."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    extensions = [
        # -w: the generated C's warnings are Cython's business, not the installer's.
        Extension(
            f"lakehouse.formats.{name}",
            [str(PACKAGE_DIR / f"{name}.py")],
            extra_compile_args=["-w"],
        )
        for name in names
    ]
    modules = cythonize(
        extensions,
        build_dir=str(work / "c"),
        compiler_directives=DIRECTIVES,
        quiet=True,
        force=True,
    )
    command = Distribution({"ext_modules": modules}).get_command_obj("build_ext")
    command.build_lib = str(work / "lib")
    command.build_temp = str(work / "tmp")
    command.parallel = os.cpu_count() or 1
    command.ensure_finalized()
    command.run()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    return [work / "lib" / "lakehouse" / "formats" / f"{name}{suffix}" for name in names]


def build(force: bool = False) -> str:
    """Build when needed; a one-line account of what happened."""
    try:
        wanted = _wanted_stamp()
    except ImportError:
        return "Cython is not installed: the pure-Python parser will be used"
    names = list(COMPILED_MODULES) if force else _to_build(wanted)
    if not names:
        return f"compiled parser up to date in {COMPILED_DIR}"
    with tempfile.TemporaryDirectory(prefix="lakehouse-build-") as tmp:
        try:
            built = _compile(Path(tmp), names)
        except Exception as exc:  # a missing compiler surfaces as several distutils errors
            return f"compiling failed ({exc}): the pure-Python parser will be used"
        COMPILED_DIR.mkdir(exist_ok=True)
        (COMPILED_DIR / STAMP_NAME).unlink(missing_ok=True)  # no stamp while files change
        for path in built:
            shutil.copy2(path, COMPILED_DIR / f".{path.name}.tmp")
            os.replace(COMPILED_DIR / f".{path.name}.tmp", COMPILED_DIR / path.name)
    (COMPILED_DIR / f".{STAMP_NAME}.tmp").write_text(json.dumps(wanted, indent=1))
    os.replace(COMPILED_DIR / f".{STAMP_NAME}.tmp", COMPILED_DIR / STAMP_NAME)
    return f"compiled {', '.join(names)} into {COMPILED_DIR} (Cython {wanted['cython']})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    print(f"[build_parsers] {build(parser.parse_args().force)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
