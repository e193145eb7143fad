"""Roles on the Thrift (HiveServer2) endpoint: a catalog made for the role, and a guard.

Why not the gate of ``lakehouse sql``: HiveServer2 runs each client's statements itself, in
the JVM, so there is no Python step between the client's text and Spark. Two things enforce
the role instead, both set up before the server starts:

* **The role's catalog.** ``lakehouse serve --role R`` runs on a private in-memory catalog
  holding one *view* per lake table, under the table's own name (``gold.dim_traders``). A
  table the role may read is a view over its Delta folder through the same select list as
  ``sql --role`` (:func:`governance.access.gate.role_columns`): masks applied, denied columns
  kept as typed NULLs. A table the role may not read is a stub view with the table's columns
  and no row. No base table is registered at all, so ``SELECT *``, joins and subqueries can
  only ever see masked values.
* **The guard**, a Spark check rule written in Python (a ``scala.Function1`` served through
  Py4J's callback server), injected into the session extensions that every client session
  is built from. Spark calls it on each statement's analysed plan; it refuses with
  ``role R may not read table T`` (or ``column T.C``) when the plan reads a stub view, names a
  denied column, or reads data outside the role's views (``delta.`/path```, ``parquet.`…```:
  path SQL cannot be switched off for good, because a client may ``SET`` it back on). It
  also refuses every command that is not a read-only listing (DDL, DML, CACHE, ADD JAR…).

Spark also runs check rules on plans it builds itself: a view's body while resolving it, and
Delta's own reads of ``_delta_log`` when a snapshot is refreshed. Those are recognised by the
JVM call stack (``ViewResolution`` / ``org.apache.spark.sql.delta``) and let through: the
statement's own plan is always checked last, whole, and contains every relation the client
named.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from governance.access.gate import NotAQueryError, role_columns
from governance.access.policy import AccessDeniedError, Role
from lakehouse.settings import Settings

# Zones a policy may name; each one found in the lake gets the role's views.
ZONES = ("bronze", "silver", "gold", "scores", "governance")
CATALOG_OVERRIDES = {"spark.sql.catalogImplementation": "in-memory"}
# Commands that only list or describe names (BI tools and JDBC drivers send them on connect).
READ_ONLY_COMMANDS = frozenset(
    {
        "SetCatalogAndNamespace",
        "ShowTables",
        "ShowTablesExtended",
        "ShowNamespaces",
        "ShowViews",
        "ShowColumns",
        "ShowFunctions",
        "DescribeRelation",
        "DescribeColumn",
        "DescribeNamespace",
        "DescribeFunction",
        "SetCommand",
        "ResetCommand",
    }
)
# Leaves that hold no lake data.
SAFE_LEAVES = frozenset({"OneRowRelation", "LocalRelation", "Range", "CTERelationRef"})
# Frames on the JVM stack when Spark checks a plan it built itself (see the module doc).
INTERNAL_FRAMES = (
    "org.apache.spark.sql.catalyst.analysis.ViewResolution",
    "org.apache.spark.sql.delta.",
)


@dataclass(slots=True)
class RoleCatalog:
    """What the role's catalog holds: readable views (with their denied columns) and stubs."""

    role: Role
    readable: dict[str, set[str]] = field(default_factory=dict)
    stubs: set[str] = field(default_factory=set)
    locations: dict[str, str] = field(default_factory=dict)


def _sql_path(uri: str) -> str:
    return uri.replace("`", "``")


def build_role_catalog(spark: Any, settings: Settings, role: Role) -> RoleCatalog:
    """Create the role's views for every Delta table of the lake; on an in-memory catalog."""
    from lakehouse.catalog import _delta_tables_in

    catalog = RoleCatalog(role)
    for zone in ZONES:
        for name in _delta_tables_in(spark, settings.zone(zone)):
            table, uri = f"{zone}.{name}", settings.table_uri(zone, name)
            schema = spark.read.format("delta").load(uri).schema
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS {zone}")
            if role.may_read_table(table):
                columns = role_columns(role, table, schema, denied_as_null=True)
                body = f"SELECT {', '.join(columns)} FROM delta.`{_sql_path(uri)}`"
                catalog.readable[table] = {c.lower() for c in role.denied_columns(table)}
            else:
                nulls = [f"CAST(NULL AS {f.dataType.simpleString()}) AS `{f.name}`" for f in schema]
                body = f"SELECT {', '.join(nulls) or 'NULL AS denied'} WHERE false"
                catalog.stubs.add(table)
            catalog.locations[uri.rstrip("/")] = table
            spark.sql(f"CREATE OR REPLACE VIEW {zone}.`{name}` AS {body}")
    return catalog


def _seq(scala_seq: Any) -> Iterator[Any]:
    iterator = scala_seq.iterator()
    while iterator.hasNext():
        yield iterator.next()


class RoleGuard:
    """The check rule: ``apply(plan)`` returns nothing or refuses (see the module doc)."""

    def __init__(self, jvm: Any, spark_context: Any, catalog: RoleCatalog) -> None:
        self._jvm = jvm
        self._sc = spark_context
        self._catalog = catalog
        self._command = jvm.java.lang.Class.forName(
            "org.apache.spark.sql.catalyst.plans.logical.Command"
        )
        self._lock = threading.Lock()
        self.reads: dict[str, set[str]] = {}  # statement id -> tables read (for the audit)

    def apply(self, plan: Any) -> None:
        """Check one analysed plan; a refusal becomes the statement's error."""
        from py4j.protocol import Py4JJavaError

        if self._internal():
            return None
        try:
            tables = self.check(plan)
        except (AccessDeniedError, NotAQueryError) as exc:
            raise Py4JJavaError(str(exc), self._jvm.java.lang.SecurityException(str(exc))) from None
        statement = self._sc.getLocalProperty("spark.jobGroup.id")  # the statement's id
        if statement and tables:
            with self._lock:
                self.reads.setdefault(statement, set()).update(tables)
        return None

    def _internal(self) -> bool:
        stack = self._jvm.org.apache.commons.lang3.exception.ExceptionUtils.getStackTrace(
            self._jvm.java.lang.Throwable()
        )
        return any(frame in stack for frame in INTERNAL_FRAMES)

    def check(self, plan: Any) -> set[str]:
        """The tables ``plan`` reads through the role's views, or an access error."""
        role = self._catalog.role
        kind = plan.getClass().getSimpleName()
        if self._command.isInstance(plan):
            if kind in READ_ONLY_COMMANDS:
                return set()
            raise NotAQueryError(role=role.name, fix="DDL, DML and SET are for the pipeline's jobs")
        tables: set[str] = set()
        denied: dict[int, str] = {}
        referenced = {a.exprId().id() for a in _seq(plan.output())}
        todo = [plan]
        while todo:
            node = todo.pop()
            kind = node.getClass().getSimpleName()
            if kind == "View":
                table = self._view_table(node)
                tables.add(table)
                for attr in _seq(node.output()):
                    if attr.name().lower() in self._catalog.readable[table]:
                        denied[attr.exprId().id()] = f"{table}.{attr.name()}"
                continue
            children = list(_seq(node.children()))
            if not children and kind not in SAFE_LEAVES:
                raise AccessDeniedError(role=role.name, what=self._relation_name(node))
            referenced |= {a.exprId().id() for a in _seq(node.references().toSeq())}
            todo += children + list(_seq(node.subqueries()))
        for expr_id, column in denied.items():
            if expr_id in referenced:
                raise AccessDeniedError(role=role.name, what=f"column {column}")
        return tables

    def _view_table(self, view: Any) -> str:
        ident = view.desc().identifier()
        database = ident.database()
        table = f"{database.get() if database.isDefined() else ''}.{ident.table()}".lower()
        if table in self._catalog.stubs or table not in self._catalog.readable:
            raise AccessDeniedError(role=self._catalog.role.name, what=f"table {table}")
        return table

    def _relation_name(self, node: Any) -> str:
        """``table zone.name`` for data read around the views (by path or otherwise)."""
        try:
            path = str(node.relation().location().rootPaths().head()).rstrip("/")
        except Exception:  # not a file relation: describe it as Spark does
            return f"table {node.simpleString(5)}"
        for uri, table in self._catalog.locations.items():
            if path.replace("file:/", "").lstrip("/") == uri.replace("file:/", "").lstrip("/"):
                return f"table {table}"
        return f"files at {path}"

    class Java:
        implements: ClassVar[list[str]] = ["scala.Function1"]


class _GuardBuilder:
    """``SparkSession => (LogicalPlan => Unit)``: hands every new session the same guard."""

    def __init__(self, guard: RoleGuard) -> None:
        self._guard = guard

    def apply(self, _session: Any) -> RoleGuard:
        return self._guard

    class Java:
        implements: ClassVar[list[str]] = ["scala.Function1"]


def install_guard(spark: Any, catalog: RoleCatalog) -> RoleGuard:
    """Inject the guard into the extensions every later session (each client's) is built from.

    The serving session itself is built already and keeps no guard: it only creates the
    views. Py4J's callback server carries the calls; a Java exception raised in the guard is
    re-thrown as is in the JVM (``propagate_java_exceptions``), so the client reads the
    refusal, not a Python trace."""
    import logging

    from pyspark.java_gateway import ensure_callback_server_started

    gateway = spark.sparkContext._gateway
    gateway.callback_server_parameters.propagate_java_exceptions = True
    ensure_callback_server_started(gateway)
    # Py4J logs every refusal with a Python trace: the statement's error already says it.
    logging.getLogger("py4j.clientserver").setLevel(logging.CRITICAL)
    logging.getLogger("py4j.java_gateway").setLevel(logging.CRITICAL)
    guard = RoleGuard(gateway.jvm, spark.sparkContext._jsc.sc(), catalog)
    spark._jsparkSession.extensions().injectCheckRule(_GuardBuilder(guard))
    return guard


def probe(spark: Any, catalog: RoleCatalog) -> None:
    """Fail closed: a fresh session must refuse a path read, or serving stops here."""
    from lakehouse.errors import LakehouseError

    if not catalog.locations:
        return
    uri = next(iter(catalog.locations))
    session = spark.newSession()
    try:
        session.sql(f"SELECT * FROM delta.`{_sql_path(uri)}`").schema  # noqa: B018
    except Exception as exc:  # the guard's refusal, as the JVM reports it
        if "may not read" in str(exc):
            return
        raise LakehouseError(
            f"the role guard did not start: {' '.join(str(exc).split())[:300]}"
        ) from None
    raise LakehouseError("the role guard is not active: a path read was allowed; not serving")
