"""``lakehouse sql``: run one Spark SQL query over the catalog and print the result."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import sys

from lakehouse.cli.common import add_command, settings_from
from lakehouse.errors import LakehouseError

FORMATS = ("table", "csv", "json")

# The analyst question `lakehouse demo` ends with: where is revenue not collected, per office?
DEMO_QUERY = (
    "SELECT office_code, sum(n_declarations) AS declarations, sum(assessed) AS assessed,"
    " sum(collected) AS collected, sum(gap) AS gap, sum(n_underpaid) AS underpaid"
    " FROM gold.fct_revenue_daily GROUP BY office_code ORDER BY gap DESC LIMIT 5"
)


class QueryError(LakehouseError):
    """Spark refused the query: its own message, on one line."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "sql",
        help="run a SQL query on the lake's catalog (bronze.*, silver.*, gold.*)",
        epilog='example: lakehouse sql "SELECT office_code, count(*) FROM gold.fct_declarations'
        ' GROUP BY 1" --format csv',
    )
    parser.add_argument("query", help="one Spark SQL statement")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--limit", type=int, default=100, help="rows to print (default 100)")
    add_role_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the query; a query Spark rejects is one line on stderr and exit 2."""
    from governance.audit.log import note
    from lakehouse.spark import get_spark

    settings = settings_from(args)
    role = chosen_role(args)  # checked before Spark starts
    note(sql_text=args.query)
    spark = get_spark(settings, app_name="lakehouse-sql")
    columns, rows = query(spark, settings, args.query, limit=args.limit, role=role)
    note(rows=len(rows))
    write(columns, rows, args.format, sys.stdout)
    return 0


def add_role_option(parser: argparse.ArgumentParser) -> None:
    """``--role``: run as a role of the access policy (governance/access/policy.yml)."""
    parser.add_argument(
        "--role",
        help="run as this role of the access policy (data_engineer, analyst, model_service,"
        " auditor) [env LAKEHOUSE_ROLE]; none: the pipeline's own unrestricted access",
    )


def chosen_role(args: argparse.Namespace):
    """The policy's role named by ``--role`` or ``LAKEHOUSE_ROLE``, or None."""
    import os

    from governance.access.policy import role

    name = getattr(args, "role", None) or os.environ.get("LAKEHOUSE_ROLE")
    return role(name) if name else None


def query(spark, settings, text: str, *, limit: int, role=None) -> tuple[list[str], list[tuple]]:
    """Columns and at most ``limit`` rows of a query, after pointing the catalog at the lake.

    With a ``role``, the query goes through the access gate (denials and masks)."""
    from pyspark.errors import PySparkException

    from lakehouse.catalog import sync_catalog
    from lakehouse.transform import register_functions

    register_functions(spark, settings)
    sync_catalog(spark, settings)
    # PySpark logs every failed query with its JVM stack trace; the error below says it all.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if role is not None:
        return _query_as(spark, settings, role, text, limit)
    try:
        df = spark.sql(text)
        rows = [tuple(r) for r in df.limit(limit).collect()]
    except PySparkException as exc:
        raise QueryError(spark_message(exc)) from None
    return df.columns, rows


def _query_as(spark, settings, role, text: str, limit: int) -> tuple[list[str], list[tuple]]:
    """The gated path: Spark's messages name the tables, not the gate's views."""
    from pyspark.errors import PySparkException

    from governance.access.gate import gate, run_as_role, view_name
    from governance.audit.log import note, table_versions

    try:
        gated, columns, rows = run_as_role(spark, settings, role, text, limit=limit)
    except PySparkException as exc:
        message = spark_message(exc)
        for table in gate(spark, role, text).tables:
            message = message.replace(view_name(table), table)
        raise QueryError(message) from None
    note(tables_read=table_versions(settings, gated.tables))
    return columns, rows


def spark_message(exc: Exception) -> str:
    """Spark's error on one line: the error class and message up to its SQLSTATE, no plan."""
    text = " ".join(str(exc).split())
    cut = re.match(r"(.*?SQLSTATE: \w+)", text)
    return (cut.group(1) if cut else text)[:1000]


def write(columns: list[str], rows: list[tuple], fmt: str, out) -> None:
    """Print rows as an aligned table, CSV or JSON lines."""
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        for row in rows:
            out.write(json.dumps(dict(zip(columns, row, strict=True)), default=str) + "\n")
    else:
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + "\n")
        out.write("  ".join("-" * w for w in widths) + "\n")
        for line in cells:
            out.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) + "\n")
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _cell(value) -> str:
    return "NULL" if value is None else str(value)
