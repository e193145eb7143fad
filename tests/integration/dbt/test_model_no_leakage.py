"""No statistic of the models leaks from after the training window, on the dbt tier's shared
two-day lake (no build of its own): day 1 is the training window, day 2 comes after it.

Shuffling the labels and recovered duties of day 2 must leave every fitted feature and the
classifier's output on day 1 identical. The tiny lake is enough: the features' fitted tables
(unit-value norms, target encodings) and a logistic regression see only day 1 or they do not.
"""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from lakehouse.catalog import sync_catalog
from spark_jobs.train.dataset import load_declarations
from spark_jobs.train.features import feature_columns
from spark_jobs.train.model import fit_base
from tests.integration.dbt.conftest import DAY_1

pytestmark = [pytest.mark.integration, pytest.mark.dbt]


def fitted_outputs(source) -> tuple[list, list[float]]:
    """Fit the features and the logistic regression on day 1 and apply them to day 1: the
    feature rows, and P(non-compliant) per row."""
    from pyspark.ml.functions import vector_to_array

    train = source.where(F.col("issue_date") <= F.lit(DAY_1))
    features, models = fit_base(train, only="logistic_regression")
    out = models["logistic_regression"].transform(features.transform(train))
    cols = [*feature_columns(), "primary_hs6", "primary_origin"]
    rows = out.select("lrn", *cols, vector_to_array("probability")[1].alias("p")).orderBy("lrn")
    collected = rows.collect()
    return [r[:-1] for r in collected], [r.p for r in collected]


def with_later_labels_shuffled(spark, frame):
    """The same declarations, the labels and duties after day 1 dealt out to other rows."""
    later = frame.where(F.col("issue_date") > F.lit(DAY_1))
    shuffled = later.select("label", "additional_duty").orderBy(F.rand(5)).collect()
    rows = later.drop("label", "additional_duty").collect()
    mixed = [
        {**r.asDict(), "label": s.label, "additional_duty": s.additional_duty}
        for r, s in zip(rows, shuffled, strict=True)
    ]
    assert any(r["label"] is not None for r in mixed), "no label after the window to shuffle"
    changed = sum(
        (r.label, r.additional_duty) != (m["label"], m["additional_duty"])
        for r, m in zip(later.collect(), mixed, strict=True)
    )
    assert changed, "the shuffle left every later label in place"
    return frame.where(F.col("issue_date") <= F.lit(DAY_1)).unionByName(
        spark.createDataFrame(mixed, frame.schema)
    )


def test_shuffling_labels_after_the_training_window_changes_nothing_in_it(
    spark, built_lake
) -> None:
    settings, _result, _summaries = built_lake
    sync_catalog(spark, settings)  # another tier's lake may hold the names: point at this one
    frame = load_declarations(spark, settings).cache()
    assert frame.where(F.col("issue_date") == F.lit(DAY_1)).where("label is not null").count()
    tampered = with_later_labels_shuffled(spark, frame)
    (features, risk), (features_tampered, risk_tampered) = (
        fitted_outputs(frame),
        fitted_outputs(tampered),
    )
    assert features == features_tampered  # every fitted statistic, bit for bit
    # The regression's gradient sums run over the frame's partitions, which the union changes:
    # the order of float additions moves the last bits (measured: 2.7e-15), nothing more.
    assert risk == pytest.approx(risk_tampered, abs=1e-12)
    frame.unpersist()
