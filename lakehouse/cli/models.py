"""``lakehouse models list|promote``: the registered model versions and the champion."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from lakehouse.cli.common import add_command, settings_from

HELP = "list registered model versions, or promote one to champion"


@dataclass
class ModelsResult:
    """Registered risk model versions (newest first), or the promotion made."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    promoted: str | None = None

    def text(self) -> str:
        """A table of versions, or one line about the promotion."""
        if self.promoted:
            return self.promoted
        if not self.versions:
            return "no registered model: run `lakehouse train`"
        lines = [
            f"{'version':>7}  {'champion':8}  {'classifier':<20} {'p@5%':>6} {'rev@5%':>6}  windows"
        ]
        for v in self.versions:
            lines.append(
                f"{v['version']:>7}  {'yes' if v['champion'] else '':8}  "
                f"{v['classifier'] or '?':<20} {_pct(v['precision_at_5'])} "
                f"{_pct(v['revenue_at_5'])}  {v['windows']}"
            )
        return "\n".join(lines)


def _pct(value: float | None) -> str:
    return f"{value:6.1%}" if value is not None else "     ?"


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``models`` with its two actions."""
    parser = add_command(
        sub,
        "models",
        help=HELP,
        epilog="examples: lakehouse models list\n          lakehouse models promote --version 3",
    )
    parser.add_argument("action", choices=("list", "promote"))
    parser.add_argument(
        "--version", help="risk model version to promote (its run's revenue model follows)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> ModelsResult:
    """List, or promote by hand (recorded on the versions as a manual promotion)."""
    from lakehouse.errors import UsageError
    from spark_jobs.train import tracking

    settings = settings_from(args)
    if args.action == "list":
        return ModelsResult(versions=tracking.list_versions(settings))
    if not args.version:
        raise UsageError(
            option="--version", problem="is missing", fix="name the version to promote"
        )
    pair = tracking.pair_of_version(settings, args.version)
    tracking.promote(settings, pair, "promoted by hand (lakehouse models promote)")
    return ModelsResult(
        promoted=f"champion: risk v{pair.risk_version}, revenue v{pair.revenue_version}"
    )
