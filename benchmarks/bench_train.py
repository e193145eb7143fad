"""Training benchmark: wall time of ``lakehouse train`` (three classifiers, calibration,
revenue model, evaluation with 200 bootstrap resamples, MLflow logging) on a simulated history.

    python benchmarks/history.py --lake /tmp/hist --days 8 --per-day 2500   # once
    python benchmarks/bench_train.py --lake /tmp/hist --train-from 2026-11-01 \\
        --train-to 2026-11-05 --valid-to 2026-11-06 --test-to 2026-11-08

Prints declarations, labelled rows, seconds, declarations per second and the headline figures
(precision and revenue at 5 % of the model, the revenue ranking and both baselines). The issue's
target: 1,000,000 declarations within 20 minutes on this machine; the script prints the
projection at the measured pace beside the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

BUDGET_SECONDS_PER_MILLION = 20 * 60


def main() -> None:
    """Run one training on the lake and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    for flag in ("--train-from", "--train-to", "--valid-to", "--test-to"):
        parser.add_argument(flag, type=date.fromisoformat, required=True)
    parser.add_argument("--classifier", default=None)
    args = parser.parse_args()
    os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "benchmark-pseudonym-key")
    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark
    from spark_jobs.train.dataset import load_declarations
    from spark_jobs.train.job import run_training
    from spark_jobs.train.model import Windows

    windows = Windows(args.train_from, args.train_to, args.valid_to, args.test_to)
    with override_settings(lake_root=args.lake.resolve().as_uri()) as settings:
        spark = get_spark(settings, app_name="bench-train")
        n = load_declarations(spark, settings).where(f"issue_date <= DATE'{args.test_to}'").count()
        started = time.monotonic()
        result = run_training(
            spark,
            settings,
            windows,
            report_root=Path(tempfile.mkdtemp(prefix="bench-train-")),
            only=args.classifier,
        )
        seconds = time.monotonic() - started
    per_million = seconds / n * 1_000_000
    print(
        json.dumps(
            {
                "declarations": n,
                "counts": result.counts,
                "classifier": result.classifier,
                "seconds": round(seconds, 1),
                "declarations_per_second": round(n / seconds, 1),
                "projected_seconds_per_million_linear": round(per_million),
                "budget_seconds_per_million": BUDGET_SECONDS_PER_MILLION,
                "headline": result.headline,
                "report": result.report,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
