"""The profile features on Spark: the out-of-fold encoding of the classifier's own rows (one
set of joins on key and fold) gives each row exactly what its fold's table alone gives, i.e.
the profiles fitted on the other folds' declarations."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from spark_jobs.train.features import FOLDS, PROFILE_KEYS, TrainingProfiles, out_of_fold

pytestmark = pytest.mark.integration

SCHEMA = (
    "lrn string, importer_id string, declarant_id string, office_code string, "
    "route_key string, primary_hs6 string, primary_origin string, label double, underpaid double"
)


def declarations(spark, n: int = 80):
    """Declarations over a few keys; every fourth one uninspected (no label)."""
    rows = [
        (
            f"L{i:03d}",
            f"U{i}" if i % 13 == 0 else f"I{i % 9}",  # some importers seen once
            f"D{i % 4}",
            f"O{i % 2}",
            f"R{i % 3}",
            f"H{i % 5}",
            None if i % 11 == 0 else f"C{i % 6}",
            None if i % 4 == 0 else float(i % 3 == 0),
            float(i % 5 == 0),
        )
        for i in range(n)
    ]
    return spark.createDataFrame(rows, SCHEMA)


def profile_columns() -> list[str]:
    kinds = ("te", "hits", "n", "lab", "cnt", "pay")
    return [f"{kind}_{key}" for key in PROFILE_KEYS for kind in kinds] + ["new_importer"]


def test_out_of_fold_rows_get_the_profiles_of_the_other_folds_only(spark) -> None:
    frame = declarations(spark)
    columns = profile_columns()
    got = {r.lrn: r for r in out_of_fold(frame, frame).select("lrn", *columns).collect()}
    assert len(got) == frame.count()
    fold = F.pmod(F.xxhash64("lrn"), F.lit(FOLDS))
    seen_new = False
    for k in range(FOLDS):
        others = TrainingProfiles().fit(frame.where(fold != k))
        for row in others.transform(frame.where(fold == k)).select("lrn", *columns).collect():
            assert [got[row.lrn][c] for c in columns] == pytest.approx([row[c] for c in columns])
            seen_new = seen_new or row.new_importer == 1.0
    assert seen_new, "no importer was new to its fold: the test data does not reach that case"


def test_out_of_fold_rows_come_fold_after_fold_in_the_rows_own_order(spark) -> None:
    """The classifiers' seeded subsampling draws per partition, so the layout is part of the
    model: each fold's rows, in the order of ``rows``' partitions, then the next fold's."""
    frame = declarations(spark)
    fold = F.pmod(F.xxhash64("lrn"), F.lit(FOLDS))
    expected = [
        (k, r.lrn) for k in range(FOLDS) for r in frame.where(fold == k).select("lrn").collect()
    ]
    got = out_of_fold(frame, frame).select(fold.alias("fold"), "lrn").collect()
    assert [(r.fold, r.lrn) for r in got] == expected
    assert out_of_fold(frame, frame).rdd.getNumPartitions() == FOLDS * frame.rdd.getNumPartitions()
