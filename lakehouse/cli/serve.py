"""``lakehouse serve``: Spark's Thrift (HiveServer2) endpoint over the lake's catalog.

In-process, so the server shares this process's session: the same jars, Delta, ``s3a://``
options and catalog as ``lakehouse transform`` (a separate JVM would see another catalog).

Why the address goes through the environment: Spark 4.2 builds the server's HiveConf with
every Hive default laid over the session's options, so ``hive.server2.thrift.port`` and
``bind.host`` set on the session are ignored (it bound ``*:10000`` whatever was asked). The
server reads ``HIVE_SERVER2_THRIFT_PORT`` / ``HIVE_SERVER2_THRIFT_BIND_HOST`` from the JVM's
environment first, and the JVM inherits this process's environment when it starts: so they
are set before the session is built, and the listening address is checked afterwards.

With ``--role``, the server runs on a catalog made for the role, with a guard on every
statement (governance/access/thrift.py). Every statement, with or without a role, gets its
own ``governance.audit_log`` row (governance/audit/statements.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import time

from lakehouse.cli.common import add_command, progress, settings_from
from lakehouse.cli.sql import add_role_option, chosen_role
from lakehouse.errors import LakehouseError


class ServeError(LakehouseError):
    """The Thrift server did not come up on the address asked for."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "serve",
        help="serve the catalog over HiveServer2 (JDBC/ODBC, BI tools) until interrupted",
        epilog="example: lakehouse serve --port 10000   then: beeline -u jdbc:hive2://127.0.0.1:10000",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument("--port", type=int, default=10000)
    parser.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds to wait for the listener"
    )
    add_role_option(parser)
    parser.set_defaults(handler=run)


def thrift_address_env(host: str, port: int) -> None:
    """Put the listening address where HiveServer2 reads it; before the JVM starts."""
    os.environ["HIVE_SERVER2_THRIFT_BIND_HOST"] = host
    os.environ["HIVE_SERVER2_THRIFT_PORT"] = str(port)


def start_thrift_server(spark, settings, role=None):
    """Start HiveServer2 on the session (catalog synced, functions registered).

    With a ``role``: the session's (in-memory) catalog gets the role's views instead of the
    lake's tables, and the guard is installed and probed before a client can connect.
    Returns (server, guard or None)."""
    from lakehouse.catalog import sync_catalog
    from lakehouse.transform import register_functions

    register_functions(spark, settings)
    guard = None
    if role is None:
        sync_catalog(spark, settings)
    else:
        from governance.access.thrift import build_role_catalog, install_guard, probe

        if spark.conf.get("spark.sql.hive.thriftServer.singleSession", "false") == "true":
            raise ServeError("--role needs one Spark session per client (singleSession is on)")
        catalog = build_role_catalog(spark, settings, role)
        guard = install_guard(spark, catalog)
        probe(spark, catalog)
    jvm = spark.sparkContext._jvm
    server_class = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    return server_class.startWithContext(spark._jsparkSession.sqlContext()), guard


def wait_listening(host: str, port: int, timeout: float) -> None:
    """Return once something accepts on host:port, or raise ServeError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.5)
    raise ServeError(
        f"HiveServer2 is not listening on {host}:{port} after {timeout:.0f} s "
        "(was the Spark session started before the address was set?)"
    )


def serve_overrides(settings, role) -> dict[str, str]:
    """Session options of the serving JVM: the lake's jars on the driver's own class path.

    Why: HiveServer2 closes a session's class loaders when a client disconnects (Hive's
    ``SessionState.close`` closes every URLClassLoader up to its own), and that chain holds the
    loader of ``spark.jars``; after the first disconnect, any Delta class not loaded yet failed
    with NoClassDefFoundError. Classes on the JVM's class path are never closed. With a role,
    the catalog is a private in-memory one (governance/access/thrift.py)."""
    from governance.access.thrift import CATALOG_OVERRIDES
    from lakehouse.spark import spark_jars

    overrides = {"spark.driver.extraClassPath": os.pathsep.join(map(str, spark_jars(settings)))}
    return {**overrides, **CATALOG_OVERRIDES} if role else overrides


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops like Ctrl-C: the last statements get audited


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    from governance.audit.statements import StatementAudit
    from lakehouse.spark import get_spark

    settings = settings_from(args)
    role = chosen_role(args)  # checked before Spark starts
    say = progress("serve")
    thrift_address_env(args.host, args.port)
    overrides = serve_overrides(settings, role)
    spark = get_spark(settings, app_name="lakehouse-serve", overrides=overrides)
    server, guard = start_thrift_server(spark, settings, role)
    audit = StatementAudit(
        spark, settings, role.name if role else "pipeline", guard.reads if guard else {}
    )
    audit.start()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        wait_listening(args.host, args.port, args.start_timeout)
        address = f"{args.host}:{args.port}"
        as_role = f" as role {role.name}" if role else ""
        say(f"HiveServer2 on {address}{as_role} (jdbc:hive2://{address}/gold)")
        while True:
            time.sleep(3600)
    finally:
        server.stop()
        audit.stop()
