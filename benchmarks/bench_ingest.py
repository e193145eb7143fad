"""Benchmark: a simulated day from landing to bronze, the former path and the new one.

The former path parses with Spark and re-appends the parsed rows through Spark; the new one
commits the workers' Parquet files with delta-rs (parsing in local processes or with Spark,
``--engine``). Both ingest the same landed files (hard-linked into two lakes) in one run, and
each reports declarations per second and peak memory (the whole process tree: this Python,
the Spark JVM and the parse workers, sampled from /proc). The simulation is not timed; the
Spark session is started and the (empty) bronze tables are created before the clock starts,
as on a deployed lake. Then ``--increment-files`` files of another day land in the new lake:
the time to bronze, and of a run that finds nothing new (neither needs a JVM). Not a test:
run it by hand.

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
from collections.abc import Callable
from pathlib import Path


def tree_sum(root_pid: int, value: Callable[[list[str]], float]) -> float:
    """Sum of ``value(fields)`` over a process and all its descendants, ``fields`` being the
    process's /proc/<pid>/stat fields after the command name (index 0 is field 3, state)."""
    children: dict[int, list[int]] = {}
    values: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, own = int(fields[1]), value(fields)
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        values[int(entry)] = own
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += values.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    page = os.sysconf("SC_PAGE_SIZE")
    return int(tree_sum(root_pid, lambda fields: int(fields[21]) * page))


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


def _tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by a process tree, counting its ended members too.

    Why: on a shared machine wall time depends on the neighbours; CPU seconds do not. The local
    parse processes are children of multiprocessing's fork server, which reaps them, so their
    time is in its ``cutime``/``cstime`` (fields 16-17) once they end. The Spark JVM, alive and
    in the tree, is counted too (idle on the new path with ``--engine local``).
    """
    tick = os.sysconf("SC_CLK_TCK")
    return tree_sum(root_pid, lambda f: sum(int(x) for x in f[11:15]) / tick)


def _timed_ingest(spark, settings, label: str, **how) -> dict:
    """One ingestion of the lake's landing zone: seconds, CPU seconds, counts and peak memory."""
    from lakehouse.ingest.bronze import ingest_landing

    with PeakMemory() as mem:
        cpu = _tree_cpu_seconds(os.getpid())
        t1 = time.perf_counter()
        report = ingest_landing(
            spark,
            settings,
            progress=lambda m: print(
                f"  [{label}] {time.perf_counter() - t1:7.1f}s {m}", flush=True
            ),
            **how,
        )
        seconds = time.perf_counter() - t1
        cpu = _tree_cpu_seconds(os.getpid()) - cpu
    if report.files_ingested == 0:
        raise SystemExit(f"{label}: nothing was ingested: the figure would measure a no-op")
    return {
        "files": report.files_ingested,
        "records_total": report.total_records,
        "quarantined": report.rejected,
        "megabytes": round(report.bytes_read / 1e6, 1),
        "ingest_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_memory_mib": round(mem.peak / 2**20),
    }


def _lake_with_landing(source: Path, lake: Path) -> None:
    """A lake whose landing zone holds the same files (hard links keep times and bytes)."""
    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(source / "landing", lake / "landing", copy_function=os.link)


def _increment(settings, work: Path, files: int, seed: int) -> dict:
    """Land ``files`` files of another simulated day into a lake holding a day: time to bronze,
    then a run that finds nothing new (both without a JVM: small increments parse locally)."""
    from datetime import date

    from lakehouse.ingest.bronze import ingest_landing
    from lakehouse.simulator import generate

    extra = work / "increment"
    shutil.rmtree(extra, ignore_errors=True)
    generate(str(extra), declarations=files * 10, seed=seed + 1, day=date(2026, 11, 25))
    landed = sorted(p for p in (extra / "landing").rglob("*") if p.is_file())[:files]
    lake = Path(settings.lake_root.removeprefix("file://"))
    for path in landed:
        target = lake / path.relative_to(extra)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    t0 = time.perf_counter()
    report = ingest_landing(
        None,
        settings,
        progress=lambda m: print(f"  [increment] {time.perf_counter() - t0:6.2f}s {m}", flush=True),
    )
    to_bronze = time.perf_counter() - t0
    t1 = time.perf_counter()
    again = ingest_landing(None, settings)
    nothing = time.perf_counter() - t1
    assert report.files_ingested + report.files_duplicate == len(landed), report
    assert again.files_ingested == 0
    return {
        "files_landed": len(landed),
        "records": report.total_records + report.rejected,
        "seconds_to_bronze": round(to_bronze, 2),
        "seconds_nothing_new": round(nothing, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="keep the lakes here (default: a temp dir, removed)")
    parser.add_argument("--target", type=float, default=3000.0, help="declarations/s to reach")
    parser.add_argument(
        "--engine",
        choices=("auto", "local", "spark"),
        default="auto",
        help="who parses on the new path (the former path always parses with Spark)",
    )
    parser.add_argument("--increment-files", type=int, default=100)
    parser.add_argument("--skip-old", action="store_true", help="measure the new path only")
    parser.add_argument(
        "--increment-only",
        action="store_true",
        help="only land --increment-files into the new lake a kept --workdir holds (no JVM)",
    )
    args = parser.parse_args()

    from lakehouse.ingest.bronze import ensure_tables
    from lakehouse.settings import load_settings
    from lakehouse.simulator import generate
    from lakehouse.spark import get_spark

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ingest-"))
    source = work / "simulated"
    try:
        t0 = time.perf_counter()
        if not (source / "landing").exists():
            generate(str(source), declarations=args.declarations, seed=args.seed)
        simulate_s = time.perf_counter() - t0
        # The simulator's files are complete when written: no settle time to wait for.
        env = {
            "LAKEHOUSE_LAKE_ROOT": str(work / "new"),
            # 6g unless the caller asks for less (a shared machine's JVM budget)
            "LAKEHOUSE_SPARK_DRIVER_MEMORY": os.environ.get("LAKEHOUSE_SPARK_DRIVER_MEMORY", "6g"),
            "LAKEHOUSE_LANDING_SETTLE_SECONDS": "0",
        }
        if args.increment_only:
            increment = _increment(load_settings(env), work, args.increment_files, args.seed)
            print(json.dumps({"increment": increment}, indent=2))
            return 0
        spark = get_spark(load_settings(env), app_name="bench-ingest")
        spark.range(1).count()  # JVM warm: the clock measures ingestion, not start-up
        paths = {"new": {"engine": args.engine, "writer": "delta-rs"}}
        if not args.skip_old:
            paths = {"old": {"engine": "spark", "writer": "spark"}, **paths}
        results: dict[str, object] = {
            "declarations_simulated": args.declarations,
            "simulate_seconds": round(simulate_s, 1),
        }
        for label, how in paths.items():
            # Each path gets its own lake with the same landed files; a deployed lake has its
            # bronze tables, so they are created (with Spark, as `lakehouse init` does) first.
            settings = load_settings({**env, "LAKEHOUSE_LAKE_ROOT": str(work / label)})
            _lake_with_landing(source, work / label)
            ensure_tables(spark, settings)
            result = _timed_ingest(spark, settings, label, **how)
            result["declarations_per_second"] = round(args.declarations / result["ingest_seconds"])
            result["how"] = how
            results[label] = result
        if args.increment_files:
            print(json.dumps(results, indent=2), flush=True)  # kept if the increment fails
            results["increment"] = _increment(settings, work, args.increment_files, args.seed)
        print(json.dumps(results, indent=2))
        rate = results["new"]["declarations_per_second"]  # type: ignore[index]
        ok = rate >= args.target
        verdict = "PASS" if ok else "BELOW TARGET"
        print(f"{verdict}: {rate:,} declarations/s (target {args.target:,.0f})")
        return 0 if ok else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
