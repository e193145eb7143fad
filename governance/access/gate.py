"""The query gate: run one SQL query as a role, with its denials and masks, on Spark.

How: Spark's own parser gives the query's plan before anything runs; every table it names
(also inside CTEs, subqueries and joins) is checked against the role. Each table reference is
then replaced, at its exact position in the text, by a temporary view of the role's session
that applies the masks and leaves denied columns out. Because the view replaces the table
itself, a masked column stays masked in ``SELECT *``, through joins and in subqueries, and a
denied column cannot be named at all. Commands (DDL, INSERT, SET ...) are refused for every
role, and path reads (``delta.`/path```) are off in the role's session.

The role's session is a child of the caller's (``newSession``): same JVM, catalog and jars,
its own temporary views and SQL settings, so the caller's session is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from governance.access.policy import MASKS, AccessDeniedError, Role
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings

_QUERY_START = re.compile(r"^\s*(\(\s*)*(select|with|from|table|values)\b", re.IGNORECASE)
_SUBQUERY_EXPRESSIONS = ("ListQuery", "ScalarSubquery", "Exists", "LateralSubquery", "InSubquery")


class NotAQueryError(LakehouseError):
    """A role may only run queries through the gate."""

    template = "role {role} may only run queries (SELECT/WITH): {fix}"


@dataclass(slots=True)
class GatedQuery:
    """The query as the role runs it: tables read, the rewritten text, masks applied."""

    role: str
    text: str
    tables: list[str]
    rewritten: str
    masked: dict[str, list[str]] = field(default_factory=dict)


def _seq(scala_seq: Any) -> Iterator[Any]:
    iterator = scala_seq.iterator()
    while iterator.hasNext():
        yield iterator.next()


def _walk(plan: Any, seen: set[int]) -> Iterator[tuple[list[str], int, int]]:
    """(name parts, start, stop) of every table reference in a parsed plan."""
    name = plan.getClass().getSimpleName()
    if name == "UnresolvedRelation":
        origin = plan.origin()
        if not (origin.startIndex().isDefined() and origin.stopIndex().isDefined()):
            raise LakehouseError("the query's table names have no position: cannot gate it")
        start = origin.startIndex().get()
        if start not in seen:
            seen.add(start)
            yield list(_seq(plan.multipartIdentifier())), start, origin.stopIndex().get()
    for child in [*_seq(plan.children()), *_seq(plan.innerChildren())]:
        yield from _walk(child, seen)
    for expression in _seq(plan.expressions()):
        for sub in _subqueries(expression):
            yield from _walk(sub, seen)


def _subqueries(expression: Any) -> Iterator[Any]:
    if expression.getClass().getSimpleName() in _SUBQUERY_EXPRESSIONS:
        yield expression.plan()
    for child in _seq(expression.children()):
        yield from _subqueries(child)


def _cte_names(plan: Any) -> set[str]:
    names = set()
    if plan.getClass().getSimpleName() == "UnresolvedWith":
        names |= {pair._1().lower() for pair in _seq(plan.cteRelations())}
    for child in [*_seq(plan.children()), *_seq(plan.innerChildren())]:
        names |= _cte_names(child)
    return names


def view_name(table: str) -> str:
    """The role session's temporary view standing for ``zone.table``."""
    return "__gate_" + table.replace(".", "__")


def gate(spark: Any, role: Role, text: str) -> GatedQuery:
    """Check ``text`` against ``role`` and rewrite its table names to the role's views."""
    if not _QUERY_START.match(_strip_comments(text)):
        raise NotAQueryError(role=role.name, fix="DDL, DML and SET are for the pipeline's jobs")
    parser = spark._jsparkSession.sessionState().sqlParser()
    plan = parser.parsePlan(text)
    ctes = _cte_names(plan)
    refs = []
    for parts, start, stop in _walk(plan, set()):
        if len(parts) == 1 and parts[0].lower() in ctes:
            continue
        table = ".".join(p.lower() for p in parts)
        if len(parts) != 2 or not role.may_read_table(table):
            raise AccessDeniedError(role=role.name, what=f"table {table}")
        refs.append((table, start, stop))
    rewritten = text
    for table, start, stop in sorted(refs, key=lambda r: r[1], reverse=True):
        rewritten = rewritten[:start] + view_name(table) + rewritten[stop + 1 :]
    tables = sorted({t for t, _, _ in refs})
    masked = {t: sorted(role.masks_of(t)) for t in tables if role.masks_of(t)}
    return GatedQuery(role.name, text, tables, rewritten, masked)


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)


def role_session(spark: Any, settings: Settings, role: Role, tables: list[str]) -> Any:
    """A child session with one masked view per table (denied columns left out).

    Views read the lake's Delta folders directly, so every zone the policy names (also
    ``governance``, which the catalog does not index) is reachable the same way."""
    session = spark.newSession()
    session.conf.set("spark.sql.runSQLOnFiles", "false")
    for table in tables:
        zone, _, name = table.partition(".")
        df = session.read.format("delta").load(settings.table_uri(zone, name))
        df.selectExpr(*role_columns(role, table, df.schema)).createOrReplaceTempView(
            view_name(table)
        )
    return session


def role_columns(role: Role, table: str, schema: Any, *, denied_as_null: bool = False) -> list[str]:
    """The select list through which ``role`` sees ``table``: masks applied, denied columns
    left out (or, with ``denied_as_null``, kept as typed NULLs so a guard can name them).

    The one place masks become SQL: ``lakehouse sql --role`` and ``lakehouse serve --role``
    both build their views from it."""
    denied, masks = role.denied_columns(table), role.masks_of(table)
    columns = []
    for f in schema.fields:
        quoted, kind = f"`{f.name.replace('`', '``')}`", f.dataType.simpleString()
        if f.name in denied:
            if denied_as_null:
                columns.append(f"CAST(NULL AS {kind}) AS {quoted}")
            continue
        mask = masks.get(f.name)
        columns.append(f"{MASKS[mask].format(c=quoted, t=kind)} AS {quoted}" if mask else quoted)
    return columns


def denied_column_in(exc: Exception, role: Role, tables: list[str]) -> str | None:
    """``zone.table.column`` when Spark could not resolve a column the role is denied."""
    params = getattr(exc, "getMessageParameters", lambda: {})() or {}
    name = str(params.get("objectName", "")).replace("`", "").split(".")[-1].lower()
    for table in tables:
        if name and name in {c.lower() for c in role.denied_columns(table)}:
            return f"{table}.{name}"
    return None


def run_as_role(
    spark: Any, settings: Settings, role: Role, text: str, *, limit: int
) -> tuple[GatedQuery, list[str], list[tuple]]:
    """Gate, then run ``text`` as ``role``: (the gated query, columns, at most ``limit`` rows)."""
    from pyspark.errors import AnalysisException

    gated = gate(spark, role, text)
    session = role_session(spark, settings, role, gated.tables)
    try:
        df = session.sql(gated.rewritten)
        rows = [tuple(r) for r in df.limit(limit).collect()]
    except AnalysisException as exc:
        column = denied_column_in(exc, role, gated.tables)
        if column:
            raise AccessDeniedError(role=role.name, what=f"column {column}") from None
        raise
    return gated, df.columns, rows
