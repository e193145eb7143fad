"""Benchmark: ``lakehouse show`` (delta-rs, no JVM) against a Spark session doing the same query.

Times, in the same run and on the same lake:

* ``show``: ``lakehouse show bronze.cms_declarations --limit 20 --where ...`` as a
  subprocess, from process start to exit (what an operator waits for);
* ``spark``: a Python subprocess that builds the project's Spark session and runs the same
  filtered, limited read of the Delta table (what the same look cost before ``show``).

Each is run ``--repeat`` times; the median and the minimum are reported. Target: ``show``
answers in under 2 s. Builds a lake with ``lakehouse simulate`` + ``lakehouse ingest`` unless
``--lake-root`` names one that has been ingested already. Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_show.py --lake-root ./lake
    .venv/bin/python benchmarks/bench_show.py --declarations 2000   # builds a lake first
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CPU: dict[str, list[float]] = {}
WHERE = "office_code is not null and total_duty > 1000"

SPARK_QUERY = """
import sys
from lakehouse.settings import load_settings
from lakehouse.spark import get_spark
settings = load_settings({{"LAKEHOUSE_LAKE_ROOT": {lake!r}}})
spark = get_spark(settings, app_name="bench-show")
rows = (
    spark.read.format("delta").load(settings.table_uri("bronze", "cms_declarations"))
    .where({where!r}).limit({limit}).collect()
)
import os
pid = spark.sparkContext._gateway.proc.pid  # the JVM is not reaped by this process: count it here
with open(f"/proc/{{pid}}/stat") as fh:
    fields = fh.read().rsplit(")", 1)[1].split()
print((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
print(len(rows))
"""


def lakehouse(*args: str) -> list[str]:
    """The console script beside this interpreter (falls back to ``python -m``)."""
    script = Path(sys.executable).with_name("lakehouse")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "lakehouse.cli.main", *args]


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds of one subprocess run, and its stdout; fails loudly on a non-zero exit.

    The CPU seconds of the run (user + system, the whole process tree) are added to
    ``CPU[command[-1]]``: on a shared machine wall time mostly measures the neighbours.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(command[-1], []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed: {done.stderr.strip()[-2000:]}")
    return seconds, done.stdout


def build_lake(root: Path, declarations: int) -> None:
    """Simulate a day and ingest it (not timed)."""
    os.environ["LAKEHOUSE_LANDING_SETTLE_SECONDS"] = "0"  # the simulator lands files whole
    for args in (
        ("simulate", "--lake-root", str(root), "--declarations", str(declarations), "-q"),
        ("init", "--lake-root", str(root), "-q"),
        ("ingest", "--lake-root", str(root), "-q"),
    ):
        timed(lakehouse(*args))


def main(argv: list[str] | None = None) -> int:
    """Run both sides ``--repeat`` times and print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", help="an ingested lake (default: build one)")
    parser.add_argument("--declarations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--where", default=WHERE)
    args = parser.parse_args(argv)

    lake = Path(args.lake_root) if args.lake_root else Path(tempfile.mkdtemp()) / "lake"
    if not args.lake_root:
        build_lake(lake, args.declarations)
    lake_uri = lake.resolve().as_uri()
    show_cmd = lakehouse(
        "show", "bronze.cms_declarations", "--lake-root", str(lake),
        "--limit", str(args.limit), "--where", args.where, "--format", "csv",
    )  # fmt: skip
    spark_cmd = [
        sys.executable,
        "-c",
        SPARK_QUERY.format(lake=lake_uri, where=args.where, limit=args.limit),
    ]
    results: dict[str, list[float]] = {"show": [], "spark": []}
    rows: dict[str, int] = {}
    for _ in range(args.repeat):
        seconds, out = timed(show_cmd)
        results["show"].append(seconds)
        rows["show"] = max(len(out.splitlines()) - 1, 0)
        seconds, out = timed(spark_cmd)
        results["spark"].append(seconds)
        *_, jvm_cpu, count = out.strip().splitlines()
        CPU[spark_cmd[-1]][-1] += float(jvm_cpu)
        rows["spark"] = int(count)
    summary = {
        "lake_root": lake_uri,
        "where": args.where,
        "limit": args.limit,
        "rows": rows,
        **{
            f"{side}_seconds": {
                "median": round(statistics.median(times), 2),
                "min": round(min(times), 2),
                "runs": [round(t, 2) for t in times],
            }
            for side, times in results.items()
        },
    }
    summary["show_cpu_seconds"] = round(statistics.median(CPU[show_cmd[-1]]), 2)
    summary["spark_cpu_seconds"] = round(statistics.median(CPU[spark_cmd[-1]]), 2)
    summary["load_average"] = [round(x, 1) for x in os.getloadavg()]
    summary["speedup_median"] = round(
        summary["spark_seconds"]["median"] / summary["show_seconds"]["median"], 1
    )
    summary["show_under_2s"] = summary["show_seconds"]["median"] < 2.0
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
