"""``lakehouse show TABLE``: rows of a lake table, filtered and limited, without a JVM.

``--where`` takes a SQL predicate (DataFusion's dialect, through delta-rs's QueryBuilder), so
operators write what they would write in Spark SQL: ``lrn = 'X1'``,
``issue_datetime >= '2026-11-24'``, ``error_code in ('SYNTAX', 'SCHEMA')``. Nested values
(items, parties) print as compact JSON; decimals print exactly as stored.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lakehouse.cli.common import add_command, at_least, option, settings_from
from lakehouse.reader import LakeReader

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("table", "csv", "json")
CELL_WIDTH = 40


HELP = "print rows of a lake table, with an optional SQL filter (no JVM)"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "show",
        help=HELP,
        epilog="examples:\n"
        "  lakehouse show bronze.cms_declarations --limit 5\n"
        "  lakehouse show bronze.quarantine --where \"error_code = 'SYNTAX'\" --format csv\n"
        "  lakehouse show bronze.cms_declarations --columns lrn,office_code,total_duty\n"
        "  lakehouse show bronze.erp_payments --columns     (list the columns and types)",
    )
    parser.add_argument("table", help="zone.name, e.g. bronze.cms_declarations")
    parser.add_argument("--where", help="SQL predicate, e.g. \"office_code = 'AB01'\"")
    parser.add_argument(
        "--columns",
        nargs="?",
        const="",
        metavar="COL,COL",
        help="only these columns; without a value: list the table's columns and types",
    )
    parser.add_argument("--limit", type=int, default=20, help="rows at most (default 20)")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class ShowResult:
    """Rows of a table (an Arrow table) and how to print them."""

    table: str
    rows: pa.Table
    format: str = "table"

    def text(self) -> str:
        """The rows as an aligned table, CSV or JSON lines."""
        records = self.rows.to_pylist()
        names = self.rows.column_names
        if self.format == "json":
            return "\n".join(json.dumps(r, default=_jsonable, ensure_ascii=False) for r in records)
        if self.format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(names)
            writer.writerows([_cell(r[n]) for n in names] for r in records)
            return out.getvalue().rstrip("\n")
        return _aligned(names, [[_cell(r[n], CELL_WIDTH) for n in names] for r in records])

    def json_value(self) -> dict[str, Any]:
        """``--json``: the table name, row count and rows (decimals as exact strings)."""
        rows = json.loads(json.dumps(self.rows.to_pylist(), default=_jsonable))
        return {"table": self.table, "rows": len(rows), "data": rows}


@dataclass(frozen=True)
class ColumnsResult:
    """The columns of a table and their types."""

    table: str
    columns: list[tuple[str, str]]

    def text(self) -> str:
        """One ``name  type`` line per column."""
        width = max((len(n) for n, _ in self.columns), default=0)
        return "\n".join(f"{n:<{width}}  {t}" for n, t in self.columns)

    def json_value(self) -> dict[str, Any]:
        """``--json``: the table and its columns."""
        return {"table": self.table, "columns": [{"name": n, "type": t} for n, t in self.columns]}


def run(args: argparse.Namespace) -> ShowResult | ColumnsResult:
    """Check the arguments, then read with delta-rs."""
    at_least(args.limit, 0, "--limit")
    reader = LakeReader(settings_from(args))
    if args.columns == "":
        schema = reader.schema(args.table)
        return ColumnsResult(args.table, [(f.name, str(f.type)) for f in schema])
    columns = [c.strip() for c in (args.columns or "").split(",") if c.strip()] or None
    rows = reader.scan(args.table, where=args.where, columns=columns, limit=args.limit)
    fmt = "json" if option(args, "json") else args.format
    return ShowResult(args.table, rows, fmt)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _decimal_text(value: Decimal) -> str:
    """Decimal(38,18) without the padding zeros: 12.500000000000000000 -> 12.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cell(value: Any, width: int | None = None) -> str:
    """One value as text: nested values as compact JSON, cut to ``width`` characters."""
    if value is None:
        text = ""
    elif isinstance(value, Decimal):
        text = _decimal_text(value)
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, default=_jsonable, ensure_ascii=False, separators=(",", ":"))
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    text = " ".join(text.split()) if width else text
    if width and len(text) > width:
        return text[: width - 1] + "…"
    return text


def _aligned(names: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
