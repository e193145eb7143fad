"""``lakehouse lineage``: where a table's data comes from and goes to; publish to Atlas.

``show`` and ``trace`` gather the graph (NiFi flows, bronze parsers, dbt manifest, declared
job runs: :mod:`governance.lineage`), store it in the lake and answer from it, with no JVM.
``publish`` sends it to Apache Atlas; a second publish of the same graph changes nothing.
"""

from __future__ import annotations

import argparse

from lakehouse.cli.common import add_command, settings_from

HELP = "show a table's lineage, trace an export to its sources, publish to Atlas"
EPILOG = """examples:
  lakehouse lineage show gold.fct_declarations --up
  lakehouse lineage trace --export-date 2026-12-01
  LAKEHOUSE_ATLAS_URL=https://atlas.example:21443 lakehouse lineage publish"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lineage show``, ``lineage trace`` and ``lineage publish``."""
    parser = add_command(sub, "lineage", help=HELP, epilog=EPILOG)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = add_command(actions, "show", help="print a table's lineage and draw it as SVG")
    show.add_argument("table", help="zone.table, e.g. gold.fct_declarations")
    show.add_argument("--up", action="store_true", help="only where its data comes from")
    show.add_argument("--down", action="store_true", help="only where its data goes")
    show.add_argument("--svg", help="image path (default: the lake's lineage store)")
    show.set_defaults(handler=run_show)
    trace = add_command(actions, "trace", help="walk one night's export back to its sources")
    trace.add_argument("--export-date", required=True, help="the export's date (YYYY-MM-DD)")
    trace.set_defaults(handler=run_trace)
    publish = add_command(actions, "publish", help="send types and entities to Apache Atlas")
    publish.add_argument("--atlas-url", help="Atlas base URL [env LAKEHOUSE_ATLAS_URL]")
    publish.set_defaults(handler=run_publish)


def run_show(args: argparse.Namespace):
    """``lineage show``."""
    from governance.lineage.service import show

    settings = settings_from(args)
    return show(settings, args.table, up=args.up, down=args.down, image=args.svg)


def run_trace(args: argparse.Namespace):
    """``lineage trace``."""
    from governance.lineage.service import trace

    return trace(settings_from(args), args.export_date)


def run_publish(args: argparse.Namespace):
    """``lineage publish``: gather, then send what Atlas does not hold yet."""
    from governance.lineage.atlas import AtlasConfig, client_for, publish
    from governance.lineage.service import gathered

    config = AtlasConfig.from_env(url=args.atlas_url)
    settings = settings_from(args)
    return publish(gathered(settings), client_for(config))
