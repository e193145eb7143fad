"""Nightly scoring + export benchmark: ``score_day`` (champion loaded from MLflow, features,
risk, revenue, ranks, control sample, reasons, Delta ``replaceWhere``) then ``export_day``
(CSV, JSON lines, checksums and manifest in the outbound folder, and the PostgreSQL upsert in
one transaction) for a night of N declarations.

The night's N declarations are AMPLIFIED, not simulated: one day of a real history lake
(``history.py``) is resampled to N declarations into a separate benchmark lake by
``amplify.py`` (each declaration copied with fresh ids, features and items kept); the days
before it are copied once, so the night's reads still skip a history. The output says so.

    python benchmarks/bench_score.py --source /tmp/hist --date 2026-11-06 \\
        --models-from /tmp/hist-train-1000000 --start-postgres

``--models-from``: a lake whose MLflow store has a champion (``bench_train.py`` leaves one in
its benchmark lake); it is only read. PostgreSQL: ``--pg-dsn`` or ``--start-postgres`` (a
throw-away cluster, as the tests start one). The night is scored and exported twice, cold
then warm (the rerun is the idempotent path: same rows replaced). Prints wall seconds and
CPU-seconds of the process tree for each step, beside the budget (2 minutes for 50,000).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench_transform import _tree_cpu_seconds

BUDGET_SECONDS = 120


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="history lake (history.py)")
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="the night")
    parser.add_argument("--declarations", type=int, default=50_000)
    parser.add_argument("--models-from", type=Path, required=True, help="lake with a champion")
    parser.add_argument("--bench-lake", type=Path, default=None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--pg-dsn", default=None)
    group.add_argument("--start-postgres", action="store_true")
    args = parser.parse_args()
    if args.bench_lake is None:
        args.bench_lake = args.source.parent / f"{args.source.name}-night-{args.declarations}"
    return args


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    """The CMS database's DSN: given, a throw-away cluster, or none (files only)."""
    if not args.start_postgres:
        yield args.pg_dsn
        return
    from tests.services import start_postgres

    server = start_postgres(Path(tempfile.mkdtemp(prefix="bench-score-pg-")))
    try:
        yield server.dsn
    finally:
        server.stop()


def night_factors(spark, args: argparse.Namespace) -> dict[str, float]:
    """The night amplified to N declarations, every earlier day copied once."""
    import amplify
    from pyspark.sql import functions as F

    features = amplify.read_source(spark, args.source, "gold", "ml_declaration_features")
    earlier = features.where(F.col("issue_date") < F.lit(args.date)).select("issue_date")
    factors = {r.issue_date.isoformat(): 1.0 for r in earlier.distinct().collect()}
    night = amplify.day_factors(features, {args.date: args.declarations})
    return {**factors, **night}


def timed(step, *a, **kw) -> tuple[object, float, float]:
    """(result, wall seconds, CPU-seconds of the process tree)."""
    cpu0, started = _tree_cpu_seconds(os.getpid()), time.monotonic()
    result = step(*a, **kw)
    return result, time.monotonic() - started, _tree_cpu_seconds(os.getpid()) - cpu0


def main() -> None:
    """Amplify (once), then score and export the night twice; print the figures as JSON."""
    args = parse_args()
    os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "benchmark-pseudonym-key")
    import amplify

    from lakehouse.settings import override_settings
    from lakehouse.spark import get_spark
    from spark_jobs.export.export_job import export_day
    from spark_jobs.score.score_job import ScoreOptions, score_day
    from spark_jobs.train import tracking

    args.bench_lake.mkdir(parents=True, exist_ok=True)
    models = override_settings(lake_root=args.models_from.resolve().as_uri())
    with models as model_settings:
        os.environ[tracking.MLFLOW_URI_ENV] = tracking.tracking_uri(model_settings)
    with (
        override_settings(lake_root=args.bench_lake.resolve().as_uri()) as settings,
        database(args) as dsn,
    ):
        settings = dataclasses.replace(settings, pg_dsn=dsn)
        spark = get_spark(settings, app_name="bench-score")
        manifest = amplify.build(spark, args.source, args.bench_lake, night_factors(spark, args))
        runs = []
        for attempt in ("cold", "warm"):
            scored, score_s, score_cpu = timed(
                score_day, spark, settings, args.date, ScoreOptions()
            )
            exported, export_s, export_cpu = timed(export_day, spark, settings, args.date)
            runs.append(
                {
                    "run": attempt,
                    "declarations": scored.rows,
                    "score_seconds": round(score_s, 1),
                    "export_seconds": round(export_s, 1),
                    "total_seconds": round(score_s + export_s, 1),
                    "cpu_seconds": round(score_cpu + export_cpu, 1),
                    "in_capacity": scored.in_capacity,
                    "control_sample": scored.control_sample,
                    "folder": exported.folder,
                    "database": exported.database,
                }
            )
    report = {
        "rows": amplify.describe(manifest),
        "night": str(args.date),
        "budget_seconds": BUDGET_SECONDS,
        "budget_declarations": 50_000,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
