"""Benchmark of the source-system simulator: declarations per second and peak memory.

Why: the simulator must reach 1,000,000 declarations a day on a 2-core machine, so it is
held to a budget (100,000 declarations in at most 60 s) and its memory must stay flat.

Example::

    .venv/bin/python benchmarks/bench_simulator.py --declarations 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from lakehouse.simulator import generate


def main(argv: list[str] | None = None) -> int:
    """Run one simulation into a temporary (or given) lake root and report the numbers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lake-root", help="keep the output here (default: a temp dir)")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report Python heap peak (slows the run down)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=60.0,
        help="exit 1 when slower than this for 100k-equivalent (default 60)",
    )
    args = parser.parse_args(argv)

    root = Path(args.lake_root) if args.lake_root else Path(tempfile.mkdtemp(prefix="simbench-"))
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    summary = generate(str(root), declarations=args.declarations, seed=args.seed)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "declarations": args.declarations,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),  # user+sys of all threads: robust to a busy machine
        "declarations_per_second": round(args.declarations / elapsed, 1) if elapsed else None,
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "python_heap_peak_mib": round(heap_peak / 2**20, 1) if heap_peak is not None else None,
        "files": summary.files,
        "bytes_written_mib": round(summary.bytes_written / 2**20, 1),
    }
    print(json.dumps(result, indent=2))
    if not args.lake_root:
        shutil.rmtree(root, ignore_errors=True)
    per_100k = elapsed * 100_000 / max(1, args.declarations)
    if per_100k > args.budget_seconds:
        print(
            f"over budget: {per_100k:.1f}s per 100k declarations > {args.budget_seconds}s",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
