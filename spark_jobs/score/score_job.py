"""Scoring one business day: every current declaration of the date gets its risk, expected
revenue, ranks, capacity flag, control-sample mark and top three reasons, written to
``gold.risk_scores`` with Delta ``replaceWhere`` on the date, so a rerun replaces the day.

The control sample is drawn from a hash of (seed, date, LRN): reproducible, recorded with the
rows (seed and rate), independent of the score, so any model version can later be measured on
the outcomes of declarations chosen at random.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings
from spark_jobs.train import tracking
from spark_jobs.train.dataset import load_declarations
from spark_jobs.train.model import predict

TABLE = "risk_scores"
_UNIFORM_BITS = 1 << 53


class NoChampionError(LakehouseError, LookupError):
    """Scoring needs a champion model and the registry has none."""

    code = "NO_CHAMPION"
    template = (
        "no champion model in {uri}: run `lakehouse train` first (or `lakehouse models promote`)"
    )


class NothingToScoreError(LakehouseError, LookupError):
    """The date has no current declaration in gold."""

    code = "NOTHING_TO_SCORE"
    template = (
        "no declaration issued on {day} in gold.ml_declaration_features: ingest and "
        "transform that day first"
    )


@dataclass(frozen=True)
class ScoreOptions:
    """How a night is scored: inspection capacity and control sample (both shares)."""

    capacity: float = 0.05
    control_rate: float = 0.01
    control_seed: int = 20261124


def control_draw(day: date, seed: int) -> F.Column:
    """A uniform [0, 1) number per LRN, fixed by (seed, date, LRN)."""
    hashed = F.xxhash64(F.lit(str(seed)), F.lit(day.isoformat()), F.col("lrn"))
    return (F.abs(hashed) % F.lit(_UNIFORM_BITS)).cast("double") / F.lit(float(_UNIFORM_BITS))


def rank_and_mark(scored: DataFrame, day: date, options: ScoreOptions) -> DataFrame:
    """Ranks, capacity flag and control sample over one day's scored declarations (no I/O).

    Lazy: the day's size comes from a window over the whole day rather than a ``count()``,
    which would run the whole scoring pipeline once more just to size the capacity."""
    day_size = F.count(F.lit(1)).over(Window.partitionBy())
    capacity_rows = F.ceil(F.lit(float(options.capacity)) * day_size)
    by_risk = Window.orderBy(F.desc("risk"), F.asc("lrn"))
    by_revenue = Window.orderBy(F.desc("expected_revenue"), F.asc("lrn"))
    control = control_draw(day, options.control_seed) < F.lit(options.control_rate)
    return (
        scored.withColumn("risk_rank", F.row_number().over(by_risk))
        .withColumn("revenue_rank", F.row_number().over(by_revenue))
        .withColumn("in_capacity", F.col("risk_rank") <= capacity_rows)
        .withColumn("control_sample", control)
        .withColumn("selected", F.col("in_capacity") | F.col("control_sample"))
        .withColumn("capacity", F.lit(options.capacity))
        .withColumn("control_rate", F.lit(options.control_rate))
        .withColumn("control_seed", F.lit(options.control_seed).cast("long"))
    )


def score_frame(
    declarations: DataFrame,
    risk,
    revenue,
    pair: tracking.ModelPair,
    day: date,
    options: ScoreOptions,
) -> DataFrame:
    """The rows of ``gold.risk_scores`` for one day (no I/O beyond the models' transforms)."""
    today = declarations.where(F.col("issue_date") == F.lit(day))
    scored = predict(risk, revenue, today)
    marked = rank_and_mark(scored, day, options)
    return marked.select(
        F.lit(day).alias("score_date"),
        "lrn",
        "mrn",
        "issue_date",
        "risk",
        "expected_revenue",
        "amount_if_found",
        F.col("risk_rank").cast("int").alias("risk_rank"),
        F.col("revenue_rank").cast("int").alias("revenue_rank"),
        "in_capacity",
        "control_sample",
        "selected",
        # Fewer than three reasons is normal; ANSI mode fails ``reasons[i]`` out of bounds.
        *[F.get("reasons", i).alias(f"reason_{i + 1}") for i in range(3)],
        F.lit(pair.risk_version).alias("risk_model_version"),
        F.lit(pair.revenue_version).alias("revenue_model_version"),
        "capacity",
        "control_rate",
        "control_seed",
    )


@dataclass
class ScoreResult:
    """What ``lakehouse score`` reports."""

    day: date
    rows: int
    in_capacity: int
    control_sample: int
    risk_model_version: str
    revenue_model_version: str
    table: str

    def text(self) -> str:
        """Human summary."""
        return (
            f"scored {self.rows:,} declarations of {self.day} into {self.table}: "
            f"{self.in_capacity} in capacity, {self.control_sample} in the control sample "
            f"(risk model v{self.risk_model_version}, revenue model v{self.revenue_model_version})"
        )


def score_day(
    spark: SparkSession,
    settings: Settings,
    day: date,
    options: ScoreOptions,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> ScoreResult:
    """Score ``day`` with the champion pair and replace that day in ``gold.risk_scores``."""
    from lakehouse.catalog import register_table

    pair = tracking.champion(settings)
    if pair is None:
        raise NoChampionError(uri=tracking.tracking_uri(settings))
    progress(f"champion: risk v{pair.risk_version}, revenue v{pair.revenue_version}")
    risk, revenue = tracking.load_pair(settings, pair)
    today = load_declarations(spark, settings, day)
    rows = score_frame(today, risk, revenue, pair, day, options)
    rows = rows.cache()
    counts = rows.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.col("in_capacity").cast("int")).alias("cap"),
        F.sum(F.col("control_sample").cast("int")).alias("ctl"),
    ).first()
    if not counts.n:
        rows.unpersist()
        raise NothingToScoreError(day=day.isoformat())
    uri = settings.table_uri("gold", TABLE)
    (
        rows.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"score_date = DATE'{day.isoformat()}'")
        .partitionBy("score_date")
        .save(uri)
    )
    rows.unpersist()
    register_table(spark, "gold", TABLE, uri)
    return ScoreResult(
        day,
        int(counts.n),
        int(counts.cap or 0),
        int(counts.ctl or 0),
        pair.risk_version,
        pair.revenue_version,
        f"gold.{TABLE}",
    )
