"""Benchmark: the floor of bronze ingestion on this machine, phase by phase.

Why: `bench_ingest.py` gives one end-to-end figure. This one measures what the two phases
that use both cores cost on their own, so the best figure any scheduling could reach is known:

- **write floor**: the Delta appends of the day's bronze rows, read back from the Parquet
  files of a lake that `bench_ingest.py` filled, into fresh bronze tables (created before the
  clock, as the ingestion benchmark does), in a freshly started JVM. No parsing at all.
- **parse floor**: the CPU seconds of the worker code (`lakehouse.ingest.worker`) over every
  landed file, feed by feed, in this one Python process, with no Spark in the loop.

Both phases keep both cores busy during a run, so on N cores a run cannot take less than
``parse_cpu / N + write_seconds``. Not a test: run it by hand after `bench_ingest.py`.

    .venv/bin/python benchmarks/bench_ingest.py --workdir /tmp/bench100k
    .venv/bin/python benchmarks/bench_ingest_floor.py --workdir /tmp/bench100k
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path


def _write_floor(spark, settings, source_bronze: Path, fmt: str) -> tuple[float, dict[str, float]]:
    """Seconds to append every bronze table's rows (from its Parquet files) into empty tables.

    ``fmt`` other than ``delta`` tells what Delta adds: ``parquet`` writes plain Parquet
    files, ``noop`` only reads the input (Spark's no-op sink).
    """
    from lakehouse.ingest.bronze import ensure_tables

    ensure_tables(spark, settings)  # before the clock, as in bench_ingest.py
    tables = sorted(
        (p.name for p in source_bronze.iterdir() if p.name != "ingest_file_log"),
        key=lambda name: -sum(f.stat().st_size for f in (source_bronze / name).glob("*.parquet")),
    )
    per_table: dict[str, float] = {}
    started = time.perf_counter()
    for table in tables:
        files = glob.glob(str(source_bronze / table / "*.parquet"))
        if not files:
            continue
        t = time.perf_counter()
        rows = spark.read.parquet(*files)
        target = settings.table_uri("bronze", table)
        if fmt == "delta":
            rows.write.format("delta").mode("append").save(target)
        elif fmt == "parquet":
            rows.write.mode("overwrite").parquet(target + "_plain")
        else:
            rows.write.format("noop").mode("overwrite").save()
        per_table[table] = round(time.perf_counter() - t, 1)
    return time.perf_counter() - started, per_table


def _parse_floor(spark, settings, landing: Path) -> dict[str, float]:
    """Process CPU seconds of the worker's parser over each feed's landed files."""
    import pyarrow as pa

    from lakehouse.ingest.bronze import _context
    from lakehouse.ingest.dispatch import ParseOptions
    from lakehouse.ingest.worker import make_parser

    ctx = _context(settings, 1, ParseOptions(settings.strict_control_counts))
    per_feed: dict[str, float] = {}
    for feed_dir in sorted(p for p in landing.glob("*/*") if p.is_dir()):
        paths = sorted(str(p) for p in feed_dir.rglob("*") if p.is_file())
        now = datetime.now(UTC)
        listing = pa.RecordBatch.from_pydict(
            {
                "path": ["file:" + p for p in paths],
                "modificationTime": pa.array([now] * len(paths), pa.timestamp("us", tz="UTC")),
            }
        )
        t = time.process_time()
        for _ in make_parser(ctx)(iter([listing])):
            pass
        per_feed[f"{feed_dir.parent.name}/{feed_dir.name}"] = round(time.process_time() - t, 1)
    return per_feed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, help="the workdir bench_ingest.py kept")
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--format", choices=["delta", "parquet", "noop"], default="delta")
    args = parser.parse_args()

    from lakehouse.settings import load_settings
    from lakehouse.spark import get_spark

    work = Path(args.workdir)
    source = work / "new" / "bronze"  # the lake bench_ingest.py's new path filled
    if not (source / "ects_events").exists():
        raise SystemExit(f"no bronze tables in {source}: run bench_ingest.py --workdir first")
    floor_lake = work / "floor"
    shutil.rmtree(floor_lake, ignore_errors=True)
    settings = load_settings(
        {"LAKEHOUSE_LAKE_ROOT": str(floor_lake), "LAKEHOUSE_SPARK_DRIVER_MEMORY": "6g"}
    )
    spark = get_spark(settings, app_name="bench-ingest-floor")
    spark.range(1).count()
    try:
        write_s, per_table = _write_floor(spark, settings, source, args.format)
        per_feed = _parse_floor(spark, settings, work / "simulated" / "landing")
    finally:
        shutil.rmtree(floor_lake, ignore_errors=True)
    parse_cpu = sum(per_feed.values())
    best = parse_cpu / args.cores + write_s
    result = {
        "write_format": args.format,
        "write_seconds": round(write_s, 1),
        "write_seconds_by_table": per_table,
        "parse_cpu_seconds": round(parse_cpu, 1),
        "parse_cpu_seconds_by_feed": per_feed,
        "cores": args.cores,
        "floor_seconds": round(best, 1),
        "best_declarations_per_second": round(args.declarations / best),
        "write_only_declarations_per_second": round(args.declarations / write_s),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
