"""``lakehouse serve``: Spark's Thrift (HiveServer2) endpoint over the lake's catalog.

In-process, so the server shares this process's session: the same jars, Delta, ``s3a://``
options and catalog as ``lakehouse transform`` (a separate JVM would see another catalog).

Why the address goes through the environment: Spark 4.2 builds the server's HiveConf with
every Hive default laid over the session's options, so ``hive.server2.thrift.port`` and
``bind.host`` set on the session are ignored (it bound ``*:10000`` whatever was asked). The
server reads ``HIVE_SERVER2_THRIFT_PORT`` / ``HIVE_SERVER2_THRIFT_BIND_HOST`` from the JVM's
environment first, and the JVM inherits this process's environment when it starts: so they
are set before the session is built, and the listening address is checked afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import time

from lakehouse.cli.common import add_command, progress, settings_from
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
    parser.set_defaults(handler=run)


def thrift_address_env(host: str, port: int) -> None:
    """Put the listening address where HiveServer2 reads it; before the JVM starts."""
    os.environ["HIVE_SERVER2_THRIFT_BIND_HOST"] = host
    os.environ["HIVE_SERVER2_THRIFT_PORT"] = str(port)


def start_thrift_server(spark, settings):
    """Start HiveServer2 on the session (catalog synced, functions registered)."""
    from lakehouse.catalog import sync_catalog
    from lakehouse.transform import register_functions

    register_functions(spark, settings)
    sync_catalog(spark, settings)
    jvm = spark.sparkContext._jvm
    server_class = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    return server_class.startWithContext(spark._jsparkSession.sqlContext())


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


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from lakehouse.spark import get_spark

    settings = settings_from(args)
    say = progress("serve")
    thrift_address_env(args.host, args.port)
    spark = get_spark(settings, app_name="lakehouse-serve")
    server = start_thrift_server(spark, settings)
    try:
        wait_listening(args.host, args.port, args.start_timeout)
        say(f"HiveServer2 on {args.host}:{args.port} (jdbc:hive2://{args.host}:{args.port}/gold)")
        while True:
            time.sleep(3600)
    finally:
        server.stop()
