"""Where validation spends its time: Spark jobs, stages, CPU and shuffle per table.

Runs ``validate`` on a prepared lake (``bench_validate.py --workdir`` or ``history.py
--lake``) with one Spark job group per table (and one for storing the results), then reads
the Spark UI's REST API for every job of the run. Not a test: run it by hand.

``--baseline FILE`` first runs another version of ``governance/dq/validate.py`` (e.g. one
taken from an older commit with ``git show``) in the same session on the same lake, and
prints both runs' totals: jobs, CPU seconds of the JVM and of Python, wall time.

    python benchmarks/profile_validate.py --lake /tmp/bench/lake --zones silver,gold
    git show main:governance/dq/validate.py > /tmp/old_validate.py
    python benchmarks/profile_validate.py --lake /tmp/bench/lake --baseline /tmp/old_validate.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

STORE = "(store results)"


def _get(base: str, path: str) -> list[dict]:
    with urllib.request.urlopen(f"{base}{path}", timeout=60) as response:
        return json.load(response)


def spark_usage(spark) -> dict[str, dict[str, float]]:
    """Per job group: jobs, stages, tasks, executor CPU seconds, shuffle and input MB."""
    sc = spark.sparkContext
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    stages = {
        s["stageId"]: s for s in _get(base, "/stages?status=complete") if s["status"] != "SKIPPED"
    }
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for job in _get(base, "/jobs"):
        group = out[job.get("jobGroup") or "(none)"]
        group["jobs"] += 1
        for stage_id in job["stageIds"]:
            stage = stages.get(stage_id)
            if stage is None:
                continue
            group["stages"] += 1
            group["tasks"] += stage["numCompleteTasks"]
            group["cpu_s"] += stage["executorCpuTime"] / 1e9
            group["shuffle_mb"] += (stage["shuffleWriteBytes"]) / 1e6
            group["input_mb"] += stage["inputBytes"] / 1e6
    return out


def load_variant(path: Path | None):
    """``governance.dq.validate`` itself, or another version of it loaded from ``path``."""
    import importlib.util

    import governance.dq.validate as current
    from lakehouse.errors import ERRORS

    if path is None:
        return current
    spec = importlib.util.spec_from_file_location("baseline_validate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    registered = dict(ERRORS)  # the other version defines its error classes again
    ERRORS.clear()
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
    finally:
        ERRORS.clear()
        ERRORS.update(registered)
    return module


def jvm_cpu_seconds(spark) -> float:
    """User + system CPU seconds of the driver JVM (local mode: every executor thread too)."""
    import os

    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_variant(spark, settings, module, label: str, zones: list[str], table: str | None):
    """Validate ``zones`` with ``module``; job groups are ``<label>|<table>``; returns totals."""
    sc = spark.sparkContext
    wall: dict[str, float] = defaultdict(float)
    current = {"group": f"{label}|(plan)", "since": time.perf_counter()}

    def enter(group: str) -> None:
        now = time.perf_counter()
        wall[current["group"]] += now - current["since"]
        current.update(group=f"{label}|{group}", since=now)
        sc.setJobGroup(current["group"], current["group"])

    def progress(line: str) -> None:
        enter(line.removeprefix("checking ").split(" ", 1)[0])

    store = module._store

    def timed_store(*a, **k):
        enter(STORE)
        return store(*a, **k)

    module._store = timed_store
    jvm0, py0, started = jvm_cpu_seconds(spark), time.process_time(), time.perf_counter()
    for zone in zones:
        enter("(plan)")
        module.validate(spark, settings, zone=zone, table=table, progress=progress)
        print(f"{label}: {zone} done", file=sys.stderr, flush=True)
    enter("(done)")
    totals = {
        "wall_s": round(time.perf_counter() - started, 1),
        "jvm_cpu_s": round(jvm_cpu_seconds(spark) - jvm0, 1),
        "python_cpu_s": round(time.process_time() - py0, 1),
    }
    return wall, totals


def print_usage(usage, wall, label: str) -> None:
    """One line per job group of ``label``: wall time, jobs, stages, tasks, CPU, MB."""
    keys = ("jobs", "stages", "tasks", "cpu_s", "shuffle_mb", "input_mb")
    print(f"{label:45s} {'wall_s':>7s} " + " ".join(f"{k:>10s}" for k in keys))
    groups = {g for g in set(usage) | set(wall) if g.startswith(f"{label}|")}
    groups -= {f"{label}|(done)"}
    totals: dict[str, float] = defaultdict(float)
    for group in sorted(groups, key=lambda g: -wall.get(g, 0.0)):
        stats = usage.get(group, {})
        for k in keys:
            totals[k] += stats.get(k, 0.0)
        print(
            f"{group.split('|', 1)[1]:45s} {wall.get(group, 0.0):7.1f} "
            + " ".join(f"{stats.get(k, 0.0):10.1f}" for k in keys)
        )
    print(f"{'TOTAL ' + label:45s} {'':7s} " + " ".join(f"{totals[k]:10.1f}" for k in keys))


def main() -> int:
    """Validate the zones with a job group per table; print what each table cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--zones", default="silver,gold")
    parser.add_argument("--table")
    parser.add_argument("--baseline", type=Path, help="another validate.py to run first")
    args = parser.parse_args()

    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark

    retain = {"spark.ui.retainedJobs": "100000", "spark.ui.retainedStages": "100000"}
    variants = ([("baseline", args.baseline)] if args.baseline else []) + [("current", None)]
    walls, totals = {}, {}
    with override_settings(lake_root=args.lake.resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="profile-validate", overrides=retain)
        for label, path in variants:
            walls[label], totals[label] = run_variant(
                spark, settings, load_variant(path), label, args.zones.split(","), args.table
            )
        usage = spark_usage(spark)
    for label, _ in variants:
        print_usage(usage, walls[label], label)
    jobs = {
        label: int(sum(v["jobs"] for g, v in usage.items() if g.startswith(f"{label}|")))
        for label, _ in variants
    }
    print(json.dumps({label: {"jobs": jobs[label], **totals[label]} for label, _ in variants}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
