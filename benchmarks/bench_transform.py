"""Benchmark: bronze -> silver -> gold (lakehouse transform) on the embedded default.

Two figures, each with wall time, CPU time and peak memory of the process tree (this Python,
the Spark JVM, its Python workers; PeakMemory from bench_ingest), and dbt's per-node profile
(target/run_results.json: node time by kind, the slowest nodes):

1. full build: `--declarations` declarations in one day, simulated and ingested into bronze
   (not timed), then one `transform` (every model, seed, unit and data test) on the clock;
2. nightly increment: `--days` days built, then one more day ingested and an incremental
   `transform` timed (budget: a third of the full build).

With `--baseline-project` (another checkout's `dbt/` folder) each figure is measured for it
too, on identical simulated data in the same process, and the report gives current/baseline
ratios: on a shared machine only ratios measured side by side mean something, and CPU time
moves less with the load than wall time.

Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_transform.py --declarations 100000 --days 7
    .venv/bin/python benchmarks/bench_transform.py --declarations 5000 --full-only \
        --baseline-project /path/to/main/dbt
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import PeakMemory, tree_sum

FIRST_DAY = date(2026, 11, 1)


def _land_and_ingest(spark, settings, day: date, declarations: int, seed: int) -> None:
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator import generate

    generate(
        settings.lake_root.removeprefix("file://"), declarations=declarations, seed=seed, day=day
    )
    init_lake(spark, settings)  # idempotent; a lake is created explicitly
    # The simulator lands files whole: nothing to let settle.
    ingest_landing(spark, dataclasses.replace(settings, landing_settle_seconds=0.0))


def node_profile(settings, top: int = 12) -> dict:
    """Where the time went, from dbt's target/run_results.json: node time per kind (model,
    data test, unit test, seed) and the slowest nodes. Node times overlap (dbt's threads)."""
    from lakehouse.catalog import local_state_dir

    path = local_state_dir(settings) / "dbt" / "target" / "run_results.json"
    results = json.loads(path.read_text())["results"]
    by_kind: dict[str, float] = {}
    for res in results:
        kind = res["unique_id"].split(".")[0]
        by_kind[kind] = round(by_kind.get(kind, 0.0) + res["execution_time"], 1)
    slowest = sorted(results, key=lambda res: -res["execution_time"])[:top]
    return {
        "node_seconds_by_kind": by_kind,
        "slowest": {
            res["unique_id"].split(".", 2)[-1]: round(res["execution_time"], 1) for res in slowest
        },
    }


def _tree_cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system, reaped children included) of a process and its descendants:
    the JVM and its Python workers. Unlike wall time it hardly moves with the machine's load,
    so before/after ratios stay meaningful on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    return tree_sum(root_pid, lambda fields: sum(int(x) for x in fields[11:15]) / tick)


@contextmanager
def dbt_project(path: Path | None) -> Iterator[None]:
    """Build with another checkout's dbt project (the baseline), same Python and session."""
    import lakehouse.transform as transform_module

    saved = transform_module.DBT_PROJECT_DIR
    transform_module.DBT_PROJECT_DIR = path or saved
    try:
        yield
    finally:
        transform_module.DBT_PROJECT_DIR = saved


def _timed_transform(spark, settings, *, unit_tests: bool = True) -> dict:
    from lakehouse.transform import transform

    cpu0, start = _tree_cpu_seconds(os.getpid()), time.perf_counter()
    with PeakMemory() as mem:
        result = transform(spark, settings, unit_tests=unit_tests)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(_tree_cpu_seconds(os.getpid()) - cpu0, 1),
        "peak_rss_mib": round(mem.peak / 2**20),
        "reconciled": result.reconciled,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "profile": node_profile(settings),
    }


def _full_build(spark, work: Path, name: str, args, project: Path | None) -> dict:
    from lakehouse.settings import override_settings

    with (
        dbt_project(project),
        override_settings(lake_root=(work / f"full-{name}").resolve().as_uri()) as settings,
    ):
        _land_and_ingest(spark, settings, FIRST_DAY, args.declarations, seed=1)
        return _timed_transform(spark, settings, unit_tests=not args.skip_unit_tests)


def _nightly(spark, work: Path, name: str, args, project: Path | None, per_day: int) -> dict:
    from lakehouse.settings import override_settings

    unit_tests = not args.skip_unit_tests
    with (
        dbt_project(project),
        override_settings(lake_root=(work / f"nightly-{name}").resolve().as_uri()) as settings,
    ):
        for n in range(args.days):
            _land_and_ingest(spark, settings, FIRST_DAY + timedelta(days=n), per_day, seed=10 + n)
        _timed_transform(spark, settings, unit_tests=unit_tests)
        _land_and_ingest(spark, settings, FIRST_DAY + timedelta(days=args.days), per_day, seed=99)
        return _timed_transform(spark, settings, unit_tests=unit_tests)


def _ratios(report: dict, key: str) -> dict:
    now, base = report[key]["current"], report[key]["baseline"]
    return {m: round(now[m] / base[m], 2) for m in ("seconds", "cpu_seconds") if base[m]}


def main() -> int:
    """Run the measurements (each for the baseline project too, when given) and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7, help="days before the timed increment")
    parser.add_argument(
        "--day-declarations",
        type=int,
        default=None,
        help="declarations per day for the increment run (default: declarations/days)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--baseline-project",
        type=Path,
        default=None,
        help="another checkout's dbt/ folder: every figure is measured for it too, same data",
    )
    parser.add_argument("--full-only", action="store_true", help="skip the nightly increment")
    parser.add_argument(
        "--nightly-only",
        action="store_true",
        help="skip the timed full build (an increment-only change: the full build is the same)",
    )
    parser.add_argument(
        "--skip-unit-tests", action="store_true", help="build as `lakehouse nightly` does"
    )
    args = parser.parse_args()
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-transform-"))
    variants = {"current": None}
    if args.baseline_project:
        variants = {"baseline": args.baseline_project.resolve(), "current": None}
    report: dict = {"declarations": args.declarations, "days": args.days}
    with override_settings(lake_root=(work / "session").resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-transform")
    if not args.nightly_only:
        report["full_build"] = {
            name: _full_build(spark, work, name, args, project)
            for name, project in variants.items()
        }
    per_day = args.day_declarations or max(1, args.declarations // args.days)
    if not args.full_only:
        report["per_day_declarations"] = per_day
        report["nightly_increment"] = {
            name: _nightly(spark, work, name, args, project, per_day)
            for name, project in variants.items()
        }
    if args.baseline_project:
        for key in ("full_build", "nightly_increment"):
            if key in report:
                report[key]["current_over_baseline"] = _ratios(report, key)
    if "full_build" in report:
        full = report["full_build"]["current"]["seconds"]
        nightly = report.get("nightly_increment", {}).get("current", {}).get("seconds", 0)
        report["within_budget"] = full <= 300 and nightly <= full / 3
    print(json.dumps(report, indent=2))
    return 0 if report.get("within_budget", True) else 1


if __name__ == "__main__":
    sys.exit(main())
