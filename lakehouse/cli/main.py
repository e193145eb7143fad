"""``lakehouse``: the console script. Sub-commands live in their own modules.

Each sub-command module exposes ``register(subparsers)``, which adds its parser (through
:func:`lakehouse.cli.common.add_command`, so it gets the shared options) and sets ``handler``
to a function ``(args) -> Result | int``. This module is the edge: it is the only place that
prints a command's result (text, or JSON with ``--json``) and the only place that turns an
error into output. An expected failure (:class:`~lakehouse.errors.LakehouseError`, or a
library failure :func:`~lakehouse.errors.translate` recognises) is one line on stderr and exit
code 2; ``--debug`` adds the stack trace. Bare ``lakehouse`` prints the help and exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lakehouse.cli.common import add_common_options, option, package_version, settings_from
from lakehouse.errors import LakehouseError, SettingsError, storage_context, translate

COMMANDS = (
    "simulate",
    "init",
    "ingest",
    "quarantine",
    "compact",
    "demo",
    "info",
    "tables",
    "show",
    "flows",
    "stream",
    "stream-demo",
    "validate",
    "transform",
    "sql",
    "serve",
    "nightly",
    "lineage",
    "train",
    "models",
    "score",
    "export",
)

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line naming the help to read (exit 2 as before)."""

    def error(self, message: str) -> Any:
        """Print ``<prog>: error: <message> (see <prog> --help)`` and exit 2."""
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered.

    With ``only``, the other commands get a light entry (name and help) when their module
    offers a ``HELP`` string: registering ``simulate`` or ``ingest`` imports the simulator
    or the ingestion core (~0.5 s), which ``lakehouse show`` should not pay for.
    """
    import importlib

    parser = _Parser(
        prog="lakehouse",
        description="Customs data lakehouse: simulate sources, ingest to bronze, look at tables.",
        epilog="example: lakehouse demo    (runs everything on a local lake in ./lake)\n"
        "exit codes: 0 ok, 1 a check failed, 2 an expected error (one line on stderr), "
        "130 interrupted",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lakehouse {package_version()}")
    add_common_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"lakehouse.cli.{name.replace('-', '_')}")
        if only is not None and name != only and hasattr(module, "HELP"):
            sub.add_parser(name, help=module.HELP)
        else:
            module.register(sub)
    return parser


def _chosen_command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (the first bare word that is one), if any."""
    previous = ""
    for word in argv:
        if word in COMMANDS and previous != "--lake-root":
            return word
        previous = word
    return None


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; expected errors print one clear line and exit 2."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=_chosen_command(argv))
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    debug = bool(option(args, "debug"))
    _quiet_libraries(verbose=bool(option(args, "verbose")))
    try:
        with _audited(args, argv):
            result = args.handler(args)
        return emit(result, as_json=bool(option(args, "json")))
    except KeyboardInterrupt:
        print(f"lakehouse {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        error = translate(exc, _context(args))
        if error is None:
            raise  # a defect, not an expected failure: the trace is what a developer needs
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"lakehouse {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


@contextmanager
def _audited(args: argparse.Namespace, argv: list[str]) -> Iterator[None]:
    """One ``governance.audit_log`` row per run of an audited command (governance/audit)."""
    from governance.audit.log import AUDITED, audited

    if args.command not in AUDITED:
        yield
        return
    try:
        settings = settings_from(args)
    except SettingsError:
        yield  # no lake to write to: the command reports the setting itself
        return
    with audited(settings, args.command, argv, getattr(args, "role", None)):
        yield


def emit(result: Any, *, as_json: bool) -> int:
    """Print a command's result (text or JSON) to stdout and return its exit code."""
    if result is None or isinstance(result, int):
        return int(result or 0)
    if as_json:
        value = result.json_value() if hasattr(result, "json_value") else _plain(result)
        print(json.dumps(value, indent=2, default=_json_default, ensure_ascii=False))
    else:
        text = result.text()
        if text:
            print(text)
    return int(getattr(result, "exit_code", 0))


def _plain(result: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return result


def _json_default(value: Any) -> Any:
    """Exact JSON for the types results carry: decimals as text (no float rounding)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _context(args: argparse.Namespace) -> dict[str, str]:
    try:
        settings = settings_from(args)
    except SettingsError:
        return {}
    return storage_context(settings.lake_root, settings.s3.endpoint)


def _one_line(error: LakehouseError) -> str:
    return " ".join(str(error).split())


def _quiet_libraries(*, verbose: bool) -> None:
    """Py4J and botocore log every call at INFO; keep them off the console unless asked."""
    from lakehouse.spark import show_engine_logs

    show_engine_logs(verbose)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for name in ("py4j", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
