"""Training benchmark: ``run_training`` (three classifiers chosen on validation, calibration,
revenue model, evaluation with 200 bootstrap resamples, report, MLflow logging and
registration) on N declarations.

The N declarations are AMPLIFIED, not simulated: a real history lake built by ``history.py``
(simulate, ingest, dbt) is resampled to N declarations into a separate benchmark lake by
``amplify.py`` (each declaration copied with fresh ids, features, items, labels and issue dates
kept, so the windows and the feature/label distribution are the source's). Building a
1,000,000-declaration history through dbt is out of reach on two cores; the training's own cost
is what this measures. The output says so in its ``rows`` field.

    python benchmarks/history.py --lake /tmp/hist --days 1 --per-day 100000      # once
    python benchmarks/bench_train.py --source /tmp/hist --declarations 1000000 --spread \\
        --train-from 2026-11-01 --train-to 2026-11-04 --valid-to 2026-11-05 --test-to 2026-11-06

(``--spread`` moves each copy onto one of the window days; with a history of several days,
leave it out and the source's dates cut the windows.)

Prints the declarations trained on, wall seconds, CPU-seconds of the process tree (the JVM
included: on a shared machine they move far less with the load than wall time), the seconds of
each stage, the linear projection to 1,000,000 beside the budget (20 minutes) and the
headline figures. The benchmark lake defaults to ``<source>-train-<N>``; rerunning reuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench_transform import _tree_cpu_seconds

BUDGET_SECONDS_PER_MILLION = 20 * 60


def window_days(args: argparse.Namespace) -> list[date]:
    """Every date from train-from to test-to."""
    span = (args.test_to - args.train_from).days
    return [args.train_from + timedelta(days=i) for i in range(span + 1)]


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="history lake (history.py)")
    parser.add_argument("--declarations", type=int, default=1_000_000)
    parser.add_argument("--bench-lake", type=Path, default=None)
    for flag in ("--train-from", "--train-to", "--valid-to", "--test-to"):
        parser.add_argument(flag, type=date.fromisoformat, required=True)
    parser.add_argument("--classifier", default=None, help="only this classifier")
    parser.add_argument(
        "--spread",
        action="store_true",
        help="spread the copies evenly over the window days (a source of fewer days than the "
        "windows, e.g. one simulated day of 100,000 declarations)",
    )
    parser.add_argument(
        "--fresh-registry",
        action="store_true",
        help="drop the benchmark lake's MLflow store first (a first training, no champion)",
    )
    args = parser.parse_args()
    if args.bench_lake is None:
        args.bench_lake = args.source.parent / f"{args.source.name}-train-{args.declarations}"
    return args


def main() -> None:
    """Amplify (once), train, print the figures as JSON."""
    args = parse_args()
    os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "benchmark-pseudonym-key")
    import amplify

    from lakehouse.catalog import local_state_dir
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark
    from spark_jobs.train.job import JAVA_OPTIONS, run_training
    from spark_jobs.train.model import Windows

    windows = Windows(args.train_from, args.train_to, args.valid_to, args.test_to)
    args.bench_lake.mkdir(parents=True, exist_ok=True)
    with override_settings(lake_root=args.bench_lake.resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-train", java_options=JAVA_OPTIONS)
        source = amplify.read_source(spark, args.source, "gold", "ml_declaration_features")
        days = window_days(args)
        by_day = {r[0]: r[1] for r in source.groupBy("issue_date").count().collect()}
        taken = by_day if args.spread else {d: by_day.get(d, 0) for d in days}
        total = sum(taken.values())
        factor = amplify.factor_for(total, args.declarations)
        started = time.monotonic()
        manifest = amplify.build(
            spark,
            args.source,
            args.bench_lake,
            {d.isoformat(): factor for d, n in taken.items() if n},
            spread=days if args.spread else (),
        )
        amplify_seconds = time.monotonic() - started
        if args.fresh_registry:
            for name in ("mlflow.db", "mlartifacts"):
                path = local_state_dir(settings) / name
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        n = manifest["rows"]["gold.ml_declaration_features"]
        cpu0, started = _tree_cpu_seconds(os.getpid()), time.monotonic()
        result = run_training(
            spark,
            settings,
            windows,
            report_root=Path(tempfile.mkdtemp(prefix="bench-train-")),
            only=args.classifier,
        )
        seconds = time.monotonic() - started
        cpu = _tree_cpu_seconds(os.getpid()) - cpu0
    print(
        json.dumps(
            {
                "rows": amplify.describe(manifest),
                "declarations": n,
                "source_declarations": total,
                "amplify_seconds_not_timed": round(amplify_seconds, 1),
                "counts": result.counts,
                "classifier": result.classifier,
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "stage_seconds": result.timings,
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "projected_seconds_per_million_linear": round(seconds / n * 1_000_000),
                "budget_seconds_per_million": BUDGET_SECONDS_PER_MILLION,
                "headline": result.headline,
                "report": result.report,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
