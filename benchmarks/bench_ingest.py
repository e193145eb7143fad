"""Benchmark: simulated declarations from landing to bronze, on the embedded default.

Reports declarations per second, MB per second and peak memory (the whole process tree:
this Python, the Spark JVM and its Python workers, sampled from /proc). The simulation is
not timed; the Spark session is started and the (empty) bronze tables are created before the
clock starts, as on a deployed lake, so the figure is the nightly ingestion itself: listing,
parsing, planning, writing and committing. Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_ingest.py --declarations 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


class PeakMemory:
    """Samples the process tree's RSS every 200 ms in a background thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="keep the lake here (default: a temp dir, removed)")
    parser.add_argument("--target", type=float, default=5000.0, help="declarations/s to reach")
    args = parser.parse_args()

    from lakehouse.ingest.bronze import ensure_tables, ingest_landing
    from lakehouse.settings import load_settings
    from lakehouse.simulator import generate
    from lakehouse.spark import get_spark

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ingest-"))
    lake = work / "lake"
    try:
        t0 = time.perf_counter()
        if not (lake / "landing").exists():
            generate(str(lake), declarations=args.declarations, seed=args.seed)
        simulate_s = time.perf_counter() - t0
        # A kept workdir reuses its landing zone, never a previous run's bronze: the run
        # must ingest every file, or the figure measures a no-op.
        shutil.rmtree(lake / "bronze", ignore_errors=True)
        settings = load_settings(
            {"LAKEHOUSE_LAKE_ROOT": str(lake), "LAKEHOUSE_SPARK_DRIVER_MEMORY": "6g"}
        )
        spark = get_spark(settings, app_name="bench-ingest")
        spark.range(1).count()  # JVM warm: the clock measures ingestion, not start-up
        # A deployed lake has its bronze tables: create them (once) before the clock.
        t_tables = time.perf_counter()
        ensure_tables(spark, settings)
        tables_s = time.perf_counter() - t_tables
        with PeakMemory() as mem:
            t1 = time.perf_counter()
            report = ingest_landing(
                spark,
                settings,
                progress=lambda m: print(f"  {time.perf_counter() - t1:7.1f}s {m}", flush=True),
            )
            ingest_s = time.perf_counter() - t1
        if report.files_ingested == 0:
            raise SystemExit("nothing was ingested: the figure would measure a no-op")
        declarations = (
            spark.read.format("delta")
            .load(settings.table_uri("bronze", "cms_declarations"))
            .count()
        )
        result = {
            "declarations_simulated": args.declarations,
            "declaration_rows_in_bronze": declarations,
            "files": report.files_ingested,
            "duplicates": report.files_duplicate,
            "records_total": report.total_records,
            "quarantined": report.rejected,
            "megabytes": round(report.bytes_read / 1e6, 1),
            "simulate_seconds": round(simulate_s, 1),
            "create_tables_seconds_not_timed": round(tables_s, 1),
            "ingest_seconds": round(ingest_s, 1),
            "declarations_per_second": round(args.declarations / ingest_s),
            "megabytes_per_second": round(report.bytes_read / 1e6 / ingest_s, 2),
            "peak_memory_mib": round(mem.peak / 2**20),
        }
        print(json.dumps(result, indent=2))
        ok = result["declarations_per_second"] >= args.target
        print(
            f"{'PASS' if ok else 'BELOW TARGET'}: {result['declarations_per_second']:,} "
            f"declarations/s (target {args.target:,.0f})"
        )
        return 0 if ok else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
