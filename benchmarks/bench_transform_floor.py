"""Benchmark: the fixed cost of one dbt node on this machine, whatever its data.

A nightly increment runs every node of the project (models and data tests) even when a night
brings few rows, so its time has a floor: nodes x what one statement costs on an almost empty
Delta table. This measures that cost in one warm session (the JVM warmed up by the first
rounds, as in a nightly run after ingest): the three statements a node issues,

- ``create``: ``CREATE OR REPLACE TABLE ... USING delta AS SELECT`` (a table model),
- ``merge``: ``MERGE INTO`` a few rows on a key (an incremental model),
- ``test``: a grouped query with ``HAVING`` over the table (a ``unique`` data test),

each on 100 rows, and prints per statement the median wall time and CPU time of the process
tree (this Python, the JVM). With ``--models`` and ``--tests`` it also gives the floor of a
run of that project (models as merges, tests as queries, on ``--cores`` cores).

Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_transform_floor.py --rounds 12
    .venv/bin/python benchmarks/bench_transform_floor.py \
        --conf spark.databricks.delta.writeChecksumFile.enabled=false
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transform import _tree_cpu_seconds


def _statements(spark, root: Path) -> dict[str, Callable[[int], None]]:
    """The three statements, each taking the round number (fresh rows every round)."""

    def create(n: int) -> None:
        spark.sql(
            f"create or replace table floor_t using delta location '{root.as_uri()}/t' as "
            f"select id as k, id * {n} as v from range(100)"
        )

    def merge(n: int) -> None:
        spark.sql(
            "merge into floor_t d using "
            f"(select id as k, id + {n} as v from range({n % 90}, {n % 90 + 5})) s "
            "on d.k = s.k when matched then update set * when not matched then insert *"
        )

    def test(_: int) -> None:
        spark.sql(
            "select count(*) from (select k from floor_t group by k having count(*) > 1)"
        ).collect()

    return {"create": create, "merge": merge, "test": test}


def _measure(run: Callable[[int], None], rounds: int, warmup: int) -> dict[str, float]:
    """Median wall and CPU seconds of ``run`` after ``warmup`` unmeasured rounds."""
    walls, cpus = [], []
    for n in range(warmup + rounds):
        cpu0, start = _tree_cpu_seconds(os.getpid()), time.perf_counter()
        run(n)
        if n >= warmup:
            walls.append(time.perf_counter() - start)
            cpus.append(_tree_cpu_seconds(os.getpid()) - cpu0)
    return {
        "wall_s": round(statistics.median(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
    }


def main() -> int:
    """Measure each statement, then project the floor of a project's nightly run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--models", type=int, default=38, help="models in the project")
    parser.add_argument("--tests", type=int, default=47, help="data tests in the project")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--conf", action="append", default=[], help="KEY=VALUE Spark option to try (repeatable)"
    )
    args = parser.parse_args()
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    with override_settings(lake_root=(work / "lake").resolve().as_uri()) as settings:
        overrides = dict(item.split("=", 1) for item in args.conf)
        spark = get_spark(settings, app_name="bench-transform-floor", overrides=overrides)
    statements = _statements(spark, work)
    statements["create"](0)
    report = {name: _measure(run, args.rounds, args.warmup) for name, run in statements.items()}
    cpu = args.models * report["merge"]["cpu_s"] + args.tests * report["test"]["cpu_s"]
    report["floor"] = {
        "models": args.models,
        "tests": args.tests,
        "cpu_s": round(cpu, 1),
        "wall_s_on_cores": round(cpu / args.cores, 1),
        "cores": args.cores,
    }
    print(json.dumps({"conf": args.conf, **report}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
