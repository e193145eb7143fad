"""``lakehouse simulate``: the command-line face of :func:`lakehouse.simulator.generate`.

Kept as two functions (``add_arguments`` and ``run``) so the main CLI can mount it as a
sub-command without this module knowing how the CLI is assembled.

Example::

    lakehouse simulate --lake-root /tmp/lake --declarations 100000 --seed 7 --day 2026-11-24
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date

from lakehouse.simulator.engine import DEFAULT_DAY, generate


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--day must be YYYY-MM-DD, got {text!r}") from None


def _rate(text: str) -> float:
    """A share in [0, 1] (argparse names the option in its own error line)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``simulate`` options on ``parser``."""
    parser.add_argument(
        "--lake-root",
        required=True,
        help="local directory or file:// URI of the lake (landing/ goes below)",
    )
    parser.add_argument(
        "--declarations", type=int, default=10_000, help="declarations to simulate (default: 10000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--day",
        type=_day,
        default=DEFAULT_DAY,
        help=f"simulated day, YYYY-MM-DD (default: {DEFAULT_DAY.isoformat()})",
    )
    parser.add_argument(
        "--malformed-rate",
        type=_rate,
        default=0.01,
        help="share of malformed messages/records (default: 0.01)",
    )
    parser.add_argument(
        "--quirk-rate",
        type=_rate,
        default=0.0,
        help="share of messages with a real senders' quirk that bronze must still load: long "
        "decimals, an empty UNH message type, wrapped XML, XML notifications (default: 0)",
    )
    parser.epilog = (
        "example: lakehouse simulate --lake-root /tmp/lake --declarations 100000 --seed 7"
    )


def run(args: argparse.Namespace) -> int:
    """Run the simulation; progress every 10 % on stderr, the summary as JSON on stdout."""
    total = args.declarations
    started = time.monotonic()
    next_tenth = [1]

    def progress(done: int) -> None:
        while total and done * 10 >= next_tenth[0] * total and next_tenth[0] <= 10:
            elapsed = time.monotonic() - started
            print(
                f"simulate: {next_tenth[0] * 10}% ({done}/{total} declarations, {elapsed:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
            next_tenth[0] += 1

    try:
        from lakehouse.settings import get_settings
        from lakehouse.storage import writer_for

        summary = generate(
            args.lake_root,
            writer=writer_for(get_settings(), args.lake_root),
            declarations=total,
            seed=args.seed,
            day=args.day,
            malformed_rate=args.malformed_rate,
            quirk_rate=args.quirk_rate,
            progress=progress,
        )
    except (ValueError, OSError) as exc:
        print(f"simulate: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m lakehouse.simulator.cli``)."""
    parser = argparse.ArgumentParser(
        prog="lakehouse simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
