"""``lakehouse flows``: validate, deploy, inspect and stop the NiFi flows (nifi_flows/).

A thin layer over :mod:`nifi_flows.validate` and :mod:`nifi_flows.deploy` so operators and CI
use one entry point; all logic, checks and error messages live in those modules. Output is JSON
(one object per flow) so it can be read by people and scripts alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

EPILOG = """examples:
  lakehouse flows validate --env prod
  LAKEHOUSE_NIFI_URL=https://nifi:8443/nifi-api LAKEHOUSE_NIFI_USERNAME=admin \\
    LAKEHOUSE_NIFI_PASSWORD=... LAKEHOUSE_NIFI_PARAM_ERP_DB_PASSWORD=... \\
    lakehouse flows deploy --env prod
  lakehouse flows deploy --env test --flow erp_payments_db --no-start
  lakehouse flows status
  lakehouse flows stop --flow hr_daily_sync --disable-services

environment: LAKEHOUSE_NIFI_URL (required for deploy/status/stop), LAKEHOUSE_NIFI_USERNAME,
LAKEHOUSE_NIFI_PASSWORD, LAKEHOUSE_NIFI_CA_CERT, LAKEHOUSE_NIFI_VERIFY_TLS, and one
LAKEHOUSE_NIFI_PARAM_<NAME> per sensitive parameter (see nifi_flows/parameters/<env>.json)."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``flows`` and its actions."""
    parser = sub.add_parser(
        "flows",
        help="validate, deploy, inspect or stop the NiFi flows",
        description="NiFi flows as code: nifi_flows/flows/ + nifi_flows/parameters/<env>.json",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "action", choices=("validate", "deploy", "status", "stop"), help="what to do"
    )
    parser.add_argument(
        "--env",
        default=None,
        help="environment: local, test or prod (deploy default: $LAKEHOUSE_ENV or local; "
        "validate default: every environment)",
    )
    parser.add_argument(
        "--flow",
        action="append",
        default=[],
        metavar="NAME",
        help="limit to this flow (file stem, e.g. erp_payments_db); repeatable; default: all",
    )
    parser.add_argument("--no-start", action="store_true", help="deploy without enabling/starting")
    parser.add_argument(
        "--update-secrets",
        action="store_true",
        help="re-send sensitive parameters even when nothing else changed (secret rotation)",
    )
    parser.add_argument(
        "--disable-services", action="store_true", help="stop: also disable controller services"
    )
    parser.set_defaults(handler=run)


def _print(result: Any) -> None:
    print(json.dumps(result, indent=2))


def run(args: argparse.Namespace) -> int:
    """Run the action; ``validate`` exits 1 when there are problems."""
    from nifi_flows import deploy as d
    from nifi_flows.validate import validate_all

    if args.action == "validate":
        problems = validate_all(environment=args.env)
        for problem in problems:
            print(problem, file=sys.stderr)
        _print({"valid": not problems, "problems": len(problems)})
        return 1 if problems else 0
    target = d.target_from_env()
    if args.action == "deploy":
        _print(
            d.deploy(
                target,
                args.env or os.environ.get("LAKEHOUSE_ENV") or "local",
                flows=args.flow,
                start=not args.no_start,
                update_secrets=args.update_secrets,
            )
        )
    elif args.action == "status":
        _print(d.flow_status(target, flows=args.flow))
    else:
        _print(d.stop_flows(target, flows=args.flow, disable_services=args.disable_services))
    return 0
