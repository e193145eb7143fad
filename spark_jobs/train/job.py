"""Training run: load, fit, evaluate against the baselines and the champion, log to MLflow,
register, and promote the challenger only if it beats the champion on the same test window.

``python -m spark_jobs.train.job --train-from D --train-to D --valid-to D --test-to D`` runs it
under ``spark-submit``; ``lakehouse train`` is the same with the shared options.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import Settings
from spark_jobs.train import tracking
from spark_jobs.train.dataset import load_declarations, load_truth, simulator_truth_path
from spark_jobs.train.evaluate import beats, evaluate
from spark_jobs.train.features import feature_columns
from spark_jobs.train.model import (
    CLASSIFIERS,
    TrainConfig,
    Windows,
    pin,
    predict,
    release,
    train_models,
)
from spark_jobs.train.report import write_report

log = logging.getLogger(__name__)
PSI_SAMPLE_ROWS = 50_000
# What the promotion rule and the registry's headline read: inspections are what an
# administration can measure (the truth exists only in simulation).
PROMOTION_POPULATION = "inspected"
# The training JVM's collector: the throughput (parallel) collector, not G1. Training is one
# batch whose heap holds the pinned window; G1's concurrent marking and refinement threads
# took ~25 CPU-s of a 100,000-declaration run beside ~30 of pauses, on two cores where every
# CPU-second is the job's. Read only when the session starts (``get_spark``).
JAVA_OPTIONS = "-XX:+UseParallelGC"

_EVAL_COLUMNS = [
    "lrn",
    "label",
    "additional_duty",
    "risk",
    "expected_revenue",
    "uv_kg_dev",
    "uv_unit_dev",
    "office_code",
    "country_of_dispatch",
    "natural_person",
]


@dataclass
class TrainResult:
    """What ``lakehouse train`` reports."""

    risk_version: str
    revenue_version: str
    run_id: str
    classifier: str
    promoted: bool
    promotion: str
    headline: dict[str, Any]
    report: str
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        """Human summary."""
        h = self.headline
        lines = [
            f"risk model v{self.risk_version} ({self.classifier}), revenue model "
            f"v{self.revenue_version}, run {self.run_id}",
            f"test window ({h['population']} declarations), top 5 %:",
        ]
        for name in ("risk_model", "revenue_ranking", "rule_unit_value", "random", "champion"):
            if name in h:
                v = h[name]
                lines.append(
                    f"  {name:<16} precision {v['precision']:6.1%}  revenue {v['revenue']:6.1%}"
                )
        lines.append(f"promotion: {self.promotion}")
        lines.append(f"report: {self.report}")
        return "\n".join(lines)


def run_training(
    spark: SparkSession,
    settings: Settings,
    windows: Windows,
    *,
    report_root: Path,
    truth: Path | None = None,
    only: str | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """The whole training run (see the module docstring). ``only``: one classifier, the
    shorthand of ``config.candidates``."""
    config = config or TrainConfig(candidates=(only,) if only else CLASSIFIERS)
    watch = Stopwatch()
    spark.sparkContext.setCheckpointDir(str(report_root / "_checkpoints"))
    with watch("load"):
        # Pinned, not cached: every later query (windows, features, scoring of validation
        # and test) then starts from one scan instead of the load's joins (model.pin).
        frame = pin(load_declarations(spark, settings))
        progress(f"{frame.count():,} declarations in the lake")
    with watch("fit"):
        trained, test = train_models(frame, windows, config=config, drift_rows=PSI_SAMPLE_ROWS)
    progress(
        f"chose {trained.chosen} (validation precision at 5 % {trained.validation_precision}, "
        f"PR AUC {trained.validation_pr_auc})"
    )
    truth = truth or simulator_truth_path(settings)
    with watch("score_test"):
        test_rows = _test_frame(spark, trained, test, truth)
    champ = tracking.champion(settings)
    if champ is not None:
        with watch("champion"):
            old_risk, _ = tracking.load_pair(settings, champ)
            champ_scores = old_risk.transform(test).select(
                "lrn", F.col("risk").alias("champion_risk")
            )
            test_rows = test_rows.merge(champ_scores.toPandas(), on="lrn", how="left")
    with watch("evaluate"):
        data = evaluate(test_rows, trained.drift_reference, feature_columns())
    data["validation_pr_auc"] = trained.validation_pr_auc
    data["validation_precision_at_5"] = trained.validation_precision
    data["classifier"] = trained.chosen
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = report_root / f"train-{stamp}"
    with watch("report"):
        page, _ = write_report(data, folder, f"Risk and revenue models, test {windows.test_to}")
    progress(f"evaluation report {page}")
    measured = data["populations"][PROMOTION_POPULATION]["rankings"]
    challenger = _at5(measured["risk_model"])
    with watch("mlflow"):
        pair = tracking.log_training(
            settings,
            params={
                **windows.as_params(),
                **config.as_params(),
                "classifier": trained.chosen,
                **_count_params(trained),
            },
            metrics=_metrics(data, challenger),
            risk=trained.risk,
            revenue=trained.revenue,
            report_dir=folder,
        )
        promoted, why = _decide(champ, challenger, measured)
        if promoted:
            tracking.promote(settings, pair, why)
    release(frame)
    return TrainResult(
        pair.risk_version,
        pair.revenue_version,
        pair.run_id,
        trained.chosen,
        promoted,
        why,
        data["headline"],
        str(page),
        trained.counts,
        watch.seconds,
    )


class Stopwatch:
    """Wall seconds per stage of a run (the benchmark's breakdown of where the time goes)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        """Time the block and add it to ``stage``."""
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + spent, 1)
            log.info("%s: %.1f s", stage, spent)


def _decide(champ: tracking.ModelPair | None, challenger: dict, measured: dict) -> tuple[bool, str]:
    if champ is None:
        return True, "first model: promoted to champion"
    old = _at5(measured["champion"])
    verdict = (
        f"challenger precision {challenger['precision']:.1%} / revenue "
        f"{challenger['revenue']:.1%} vs champion v{champ.risk_version} "
        f"{old['precision']:.1%} / {old['revenue']:.1%} at 5 % on the same test window"
    )
    if beats(challenger, old):
        return True, f"promoted: {verdict}"
    return False, f"kept champion v{champ.risk_version}: {verdict}"


def _at5(summary: dict) -> dict:
    point = summary["at"]["5%"]
    return {"precision": point["precision"], "revenue": point["revenue"]}


def _count_params(trained: Any) -> dict[str, int]:
    return {f"rows_{k}": v for k, v in trained.counts.items()}


def _metrics(data: dict, challenger: dict) -> dict[str, float]:
    out = {"precision_at_5": challenger["precision"], "revenue_at_5": challenger["revenue"]}
    for pop, body in data["populations"].items():
        for name, summary in body["rankings"].items():
            for share, point in summary["at"].items():
                tag = f"{pop}.{name}.at_{share.rstrip('%')}"
                out[f"{tag}.precision"] = point["precision"]
                out[f"{tag}.revenue"] = point["revenue"]
            for auc in ("pr_auc", "roc_auc"):
                if summary[auc] is not None:
                    out[f"{pop}.{name}.{auc}"] = summary[auc]
    for name, value in data["validation_pr_auc"].items():
        out[f"validation.{name}.pr_auc"] = value
    for name, value in data.get("validation_precision_at_5", {}).items():
        out[f"validation.{name}.precision_at_5"] = value
    return out


def _test_frame(spark: SparkSession, trained: Any, test: DataFrame, truth: Path | None):
    scored = predict(trained.risk, trained.revenue, test).select(*_EVAL_COLUMNS)
    if truth is not None:
        scored = scored.join(load_truth(spark, truth), "lrn", "left")
    # In LRN order: the rankings break equal scores (and the random baseline draws) by
    # position, which must not follow the partitions the join happened to deliver.
    return scored.toPandas().sort_values("lrn", kind="stable", ignore_index=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The training options (shared by ``lakehouse train`` and this module's main)."""
    for flag in ("--train-from", "--train-to", "--valid-to", "--test-to"):
        parser.add_argument(flag, type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports") / "models",
        help="where evaluation reports go (default: reports/models)",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="folder of ground-truth parquet (lrn, is_fraud, duty_evaded) to measure selection "
        "bias; default: the simulator's, when the lake has one",
    )
    parser.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        action="append",
        default=None,
        help="try this classifier (repeat for several; default: all three, chosen on validation)",
    )
    defaults = TrainConfig()
    parser.add_argument(
        "--gbt-iterations",
        type=int,
        default=defaults.gbt_iterations,
        help=f"boosting iterations of the GBT classifier (default {defaults.gbt_iterations})",
    )
    parser.add_argument(
        "--gbt-depth",
        type=int,
        default=defaults.gbt_depth,
        help=f"tree depth of the GBT classifier (default {defaults.gbt_depth})",
    )
    parser.add_argument(
        "--selection-rows",
        type=int,
        default=defaults.selection_rows,
        help="labelled training declarations the candidates are compared on (a seeded sample "
        "when there are more; the winner is then refitted on all of them; default "
        f"{defaults.selection_rows})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed of the classifiers' and the revenue model's draws and of the samples: "
        "another seed gives another draw of the same models, to see how much a figure owes "
        f"to chance (default {defaults.seed})",
    )


def config_from(args: argparse.Namespace) -> TrainConfig:
    """What the arguments ask to train (checked before the JVM starts)."""
    return TrainConfig(
        candidates=tuple(dict.fromkeys(args.classifier or CLASSIFIERS)),
        gbt_iterations=args.gbt_iterations,
        gbt_depth=args.gbt_depth,
        selection_rows=args.selection_rows,
        seed=args.seed,
    )


def windows_from(args: argparse.Namespace) -> Windows:
    """The windows the arguments name (checked: train-from <= train-to < valid-to < test-to)."""
    return Windows(args.train_from, args.train_to, args.valid_to, args.test_to)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``spark-submit``."""
    from lakehouse.settings import get_settings
    from lakehouse.spark import get_spark

    parser = argparse.ArgumentParser(description="Train the risk and revenue models.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    config = config_from(args)
    settings = get_settings()
    spark = get_spark(settings, app_name="lakehouse-train", java_options=JAVA_OPTIONS)
    result = run_training(
        spark,
        settings,
        windows_from(args),
        report_root=args.report_dir,
        truth=args.truth,
        config=config,
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(result.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
