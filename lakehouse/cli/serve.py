"""``lakehouse serve``: Spark's Thrift (HiveServer2) endpoint over the lake's catalog.

In-process, so the server shares this process's session: the same jars, Delta, ``s3a://``
options and catalog as ``lakehouse transform`` (a separate JVM would see another catalog).
"""

from __future__ import annotations

import argparse
import time

from lakehouse.cli.common import add_command, progress, settings_from


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
    parser.set_defaults(handler=run)


def start_thrift_server(spark, settings, host: str, port: int):
    """Start HiveServer2 on the session; returns the server (call ``stop()`` to end it)."""
    from lakehouse.catalog import sync_catalog
    from lakehouse.transform import register_functions

    register_functions(spark, settings)
    sync_catalog(spark, settings)
    # HiveServer2 builds its HiveConf from the context's Hadoop configuration (session SQL
    # options set now would be ignored and it would bind the default 0.0.0.0:10000).
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    hadoop_conf.set("hive.server2.thrift.bind.host", host)
    hadoop_conf.set("hive.server2.thrift.port", str(port))
    jvm = spark.sparkContext._jvm
    server_class = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    return server_class.startWithContext(spark._jsparkSession.sqlContext())


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from lakehouse.spark import get_spark

    settings = settings_from(args)
    say = progress("serve")
    spark = get_spark(settings, app_name="lakehouse-serve")
    server = start_thrift_server(spark, settings, args.host, args.port)
    say(f"HiveServer2 on {args.host}:{args.port} (jdbc:hive2://{args.host}:{args.port}/gold)")
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()
