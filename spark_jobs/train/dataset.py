"""Reading the models' input from the lake's catalog (the only I/O of training and scoring).

The features come from gold (``ml_declaration_features``, the items, the tariff lines seen);
the customs duty rate applied to each item comes from silver's tax lines of the current
version. The simulator's ground truth is read only to measure selection bias, and only when a
truth table is given or lies where the simulator writes it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import TableNotFoundError
from lakehouse.settings import Settings
from spark_jobs.train.features import declaration_frame

INPUTS = (
    "gold.ml_declaration_features",
    "gold.fct_declaration_items",
    "gold.dim_tariff_lines",
    "silver.int_cms__declaration_items",
    "silver.stg_cms__declaration_tax_lines",
)


def load_declarations(
    spark: SparkSession, settings: Settings, day: date | None = None
) -> DataFrame:
    """Every current declaration, one row each, ready for the feature pipeline.

    ``day``: only the declarations issued that day (the nightly scoring), read as such from
    the start, so a night's cost does not grow with the history kept in gold.
    """
    for name in INPUTS:
        if not spark.catalog.tableExists(name):
            raise TableNotFoundError(table=name, uri=settings.lake_root)
    features = spark.table("gold.ml_declaration_features")
    gold_items = spark.table("gold.fct_declaration_items")
    items = spark.table("silver.int_cms__declaration_items").select(
        "item_record_id", "record_id", "item_no"
    )
    if day is not None:
        features = features.where(F.col("issue_date") == F.lit(day))
        gold_items = gold_items.where(F.col("issue_date") == F.lit(day))
        items = items.join(gold_items.select("item_record_id"), "item_record_id", "left_semi")
    taxes = spark.table("silver.stg_cms__declaration_tax_lines").where(
        "level = 'item' and tax_type = 'CUD'"
    )
    item_rates = (
        items.join(taxes, ["record_id", "item_no"])
        .groupBy("item_record_id")
        .agg(F.max(F.col("rate").cast("double")).alias("applied_rate"))
    )
    return declaration_frame(features, gold_items, spark.table("gold.dim_tariff_lines"), item_rates)


def simulator_truth_path(settings: Settings) -> Path | None:
    """Where the simulator leaves its ground truth in a local lake, if it does."""
    if settings.is_s3:
        return None
    from lakehouse.storage import local_path

    folder = Path(local_path(settings.lake_root)) / "simulator" / "ground_truth"
    return folder if any(folder.glob("*/declarations.parquet")) else None


def load_truth(spark: SparkSession, folder: Path) -> DataFrame:
    """``lrn``, ``is_fraud`` (0/1) and ``duty_evaded`` of every simulated declaration."""
    return spark.read.parquet(str(folder / "*" / "declarations.parquet")).select(
        "lrn",
        F.col("is_fraud").cast("double").alias("is_fraud"),
        F.coalesce(F.col("duty_evaded").cast("double"), F.lit(0.0)).alias("duty_evaded"),
    )
