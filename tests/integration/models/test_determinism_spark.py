"""What a training run picks does not depend on how its rows happened to be ordered or
partitioned: the primary item of a declaration whose items tie on the unit-value deviation,
and the draws of a seeded classifier fitted on laid-out rows."""

from __future__ import annotations

import json

import pytest
from pyspark.ml.classification import GBTClassifier
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import functions as F

from spark_jobs.train.features import UnitValueNormModel
from spark_jobs.train.model import LAYOUT_MIN_PARTITIONS, lay_out

pytestmark = pytest.mark.integration

ITEM = (
    "struct<item_no:int, hs_code:string, hs6:string, origin:string, "
    "log_uv_kg:double, log_uv_unit:double>"
)
# One norm only: line 8501100000 from CN, median log unit value 2.0 per kg (spread floored).
NORMS = {
    "pair": {"8501100000|CN": [2.0, 0.05, None, None, 50.0]},
    "line": {"8501100000": [2.0, 0.05, None, None, 50.0]},
}


def _declarations(spark, reverse: bool, partitions: int):
    """Three declarations, their items in declaration order or reversed, in ``partitions``."""
    items = {
        # No norm for any item: every deviation is 0, the first item is the primary one.
        "A": [
            (1, "6109100010", "610910", "BD", 1.0, None),
            (2, "6204620000", "620462", "VN", 0.5, None),
        ],
        "B": [
            (1, "4202920000", "420292", "CN", 3.0, None),
            (2, "8501100000", "850110", "CN", 1.0, None),  # far below its norm: primary
            (3, "9403600000", "940360", "PL", 2.0, None),
        ],
        # Items whose numbers are missing: the tariff line, then the origin decide.
        "C": [
            (None, "7318150000", "731815", "DE", 1.0, None),
            (None, "7318150000", "731815", "CN", 1.0, None),
        ],
    }
    rows = [(lrn, list(reversed(its)) if reverse else its) for lrn, its in items.items()]
    frame = spark.createDataFrame(rows, f"lrn string, items array<{ITEM}>")
    return frame.repartition(partitions) if partitions > 1 else frame.coalesce(1)


@pytest.mark.parametrize(("reverse", "partitions"), [(False, 1), (True, 3), (True, 1)])
def test_the_primary_item_is_the_lowest_deviation_then_the_first_item(
    spark, reverse: bool, partitions: int
) -> None:
    model = UnitValueNormModel(table=json.dumps(NORMS))
    got = {
        r.lrn: (r.primary_hs6, r.primary_origin)
        for r in model.transform(_declarations(spark, reverse, partitions)).collect()
    }
    assert got == {"A": ("610910", "BD"), "B": ("850110", "CN"), "C": ("731815", "CN")}


def test_laid_out_rows_give_the_same_seeded_model_whatever_their_upstream_layout(spark) -> None:
    rows = [
        (f"L{i:04d}", float(i % 7), float((i * 13) % 11), float(i % 3 == 0)) for i in range(400)
    ]
    frame = spark.createDataFrame(rows, "lrn string, x double, y double, label double")
    features = VectorAssembler(inputCols=["x", "y"], outputCol="features")
    # The same rows, once in 5 partitions and once reversed in 2.
    one = features.transform(frame.repartition(5))
    other = features.transform(frame.orderBy(F.desc("lrn")).coalesce(2))
    a, b = lay_out(one, 400), lay_out(other, 400)
    assert a.rdd.getNumPartitions() == b.rdd.getNumPartitions() == LAYOUT_MIN_PARTITIONS
    assert a.rdd.glom().map(lambda p: [r.lrn for r in p]).collect() == (
        b.rdd.glom().map(lambda p: [r.lrn for r in p]).collect()
    )
    gbt = GBTClassifier(maxIter=5, maxDepth=3, subsamplingRate=0.5, seed=7)
    assert gbt.fit(a).toDebugString == gbt.fit(b).toDebugString
