"""CPU seconds per feed of the local bronze parse: a baseline git revision against this tree.

Why: parsing is ~97 % of the JVM-free bronze path on a simulated day, and the machine is
shared, so wall time says little. Each round parses the same sample of landed files
(``worker.parse_group``: parse, Arrow conversion, Parquet parts) once with the baseline's
code (``git archive`` of ``--baseline`` into a temp dir) and once with this tree's, each in
a fresh interpreter, alternating, and reports the process CPU seconds per feed (after one
uncounted warm-up file, so one-off imports do not dilute the ratio), the ratio and the
projected full-day figure (sample CPU / sampled share of the feed's files).

    python benchmarks/bench_parse_cpu.py --landing <lake>/landing --baseline main --share 0.05
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_ROUND = """
import json, random, sys, time
from datetime import UTC, datetime
from pathlib import Path
from lakehouse.ingest import bronze
from lakehouse.ingest.dispatch import ParseOptions
from lakehouse.ingest.worker import parse_group
from lakehouse.settings import load_settings
landing, lake, share, only = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
settings = load_settings({"LAKEHOUSE_LAKE_ROOT": lake})
ctx = bronze._context(settings, 1, ParseOptions(settings.strict_control_counts, settings.xsd_path))
import lakehouse
assert lakehouse.__file__.startswith(sys.argv[5]), lakehouse.__file__
groups = {}
for p in sorted(p for p in landing.rglob("*") if p.is_file()):
    groups.setdefault("/".join(p.relative_to(landing).parts[:2]), []).append(p)
rng = random.Random(1)
out = {}
for key, paths in sorted(groups.items()):
    if only and key not in only.split(","):
        continue
    sample = paths if len(paths) < 20 else rng.sample(paths, max(10, int(len(paths) * share)))
    group = [(p.resolve().as_uri(), p.stat().st_size,
              datetime.fromtimestamp(p.stat().st_mtime, UTC)) for p in sample]
    parse_group(ctx, group[:1])  # warm-up, not counted: the feed's imports and first calls
    start = time.process_time()
    parse_group(ctx, group)
    out[key] = {"cpu_s": time.process_time() - start, "share": len(sample) / len(paths)}
print(json.dumps(out))
"""


def _checkout(revision: str, into: Path) -> Path:
    """The baseline's ``lakehouse`` package, extracted from git (no worktree needed)."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", revision, "lakehouse"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _round(code: Path, landing: Path, share: float, feeds: str, lake: Path) -> dict:
    # ``python -c`` puts the working directory first on sys.path: run inside the code's own
    # folder, or a checkout there would shadow the code meant to be measured.
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _ROUND,
            str(landing.resolve()),
            str(lake),
            str(share),
            feeds,
            str(code),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=code,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--baseline", default="main", help="git revision to compare against")
    parser.add_argument("--share", type=float, default=0.05, help="share of each feed's files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--feeds", default="", help="comma-separated feed keys (default: all)")
    parser.add_argument(
        "--candidate", type=Path, help="code to measure (default: this tree), e.g. a snapshot"
    )
    args = parser.parse_args()
    mine = args.candidate or Path(__file__).resolve().parents[1]
    runs: dict[str, list[dict]] = {"baseline": [], "candidate": []}
    with tempfile.TemporaryDirectory(prefix="bench-parse-cpu-") as tmp:
        base = _checkout(args.baseline, Path(tmp))
        for k in range(args.rounds):
            order = [("baseline", base), ("candidate", mine)]
            for name, code in order if k % 2 == 0 else order[::-1]:
                lake = Path(tmp) / f"lake-{name}-{k}"
                runs[name].append(_round(code, args.landing, args.share, args.feeds, lake))
                print(f"round {k + 1} {name}: {json.dumps(runs[name][-1])}", flush=True)
    print(f"\n{'feed':16s} {'baseline':>10s} {'candidate':>10s} {'ratio':>6s}  (median CPU-s)")
    day = {"baseline": 0.0, "candidate": 0.0}
    for feed in sorted(runs["baseline"][0]):
        cpu = {n: statistics.median(r[feed]["cpu_s"] for r in rs) for n, rs in runs.items()}
        share = runs["baseline"][0][feed]["share"]
        for name in day:
            day[name] += cpu[name] / share
        ratio = cpu["candidate"] / cpu["baseline"] if cpu["baseline"] else float("nan")
        print(f"{feed:16s} {cpu['baseline']:10.2f} {cpu['candidate']:10.2f} {ratio:6.2f}")
    print(
        f"projected day: baseline {day['baseline']:.0f} CPU-s, candidate "
        f"{day['candidate']:.0f} CPU-s, ratio {day['candidate'] / day['baseline']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
