"""Training: windows, the feature pipeline, the risk classifier chosen on validation and
calibrated there, and the revenue regressor. Pure: DataFrames in, fitted models out.

Windows are dates: train ``[train_from, train_to]``, validation ``(train_to, valid_to]``, test
``(valid_to, test_to]``. Every statistic of the features is fitted on the training window; the
validation window picks the classifier and calibrates its probabilities; the test window only
measures. Labels exist only for inspected declarations, so the models learn from those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import (
    GBTClassifier,
    LogisticRegression,
    RandomForestClassifier,
)
from pyspark.ml.feature import SQLTransformer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.ml.regression import GBTRegressor
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.errors import UsageError
from spark_jobs.train import metrics
from spark_jobs.train.features import (
    PlattCalibration,
    PositiveProbability,
    TrainingProfiles,
    UnitValueNorm,
    feature_columns,
    out_of_fold,
    raw_logit,
)
from spark_jobs.train.reasons import ReasonCodes, fit_cut_points, reason_weights

log = logging.getLogger(__name__)
SEED = 13
MIN_LABELS = 10
# The share of declarations officers can inspect: the classifier is chosen on its precision
# there (on validation), since that is what selection uses, not on the whole curve.
CAPACITY = 0.05
# The amount an inspection recovers is bounded by this quantile of (recovered / declared
# value) among the training window's findings, times the declaration's value.
AMOUNT_RATIO_QUANTILE = 0.99


@dataclass(frozen=True)
class Windows:
    """The four dates that cut history into training, validation and test windows."""

    train_from: date
    train_to: date
    valid_to: date
    test_to: date

    def __post_init__(self) -> None:
        if not self.train_from <= self.train_to < self.valid_to < self.test_to:
            raise UsageError(
                option="--train-from/--train-to/--valid-to/--test-to",
                problem=(
                    f"are {self.train_from}, {self.train_to}, {self.valid_to}, {self.test_to}"
                ),
                fix="give train-from <= train-to < valid-to < test-to",
            )

    def split(self, frame: DataFrame) -> tuple[DataFrame, DataFrame, DataFrame]:
        """(train, validation, test) rows of a frame with an ``issue_date`` column."""
        d = F.col("issue_date")
        return (
            frame.where(d.between(F.lit(self.train_from), F.lit(self.train_to))),
            frame.where((d > F.lit(self.train_to)) & (d <= F.lit(self.valid_to))),
            frame.where((d > F.lit(self.valid_to)) & (d <= F.lit(self.test_to))),
        )

    def as_params(self) -> dict[str, str]:
        """The windows as MLflow parameters."""
        return {k: str(v) for k, v in vars(self).items()}


def candidates() -> dict[str, Callable[[], Any]]:
    """The classifiers tried, sized for two cores (stack notes 6.1): small, shallow ensembles."""
    common = {"featuresCol": "features", "labelCol": "label", "weightCol": "weight"}
    return {
        "gbt": lambda: GBTClassifier(
            maxIter=25, maxDepth=4, stepSize=0.15, subsamplingRate=0.8, seed=SEED, **common
        ),
        "random_forest": lambda: RandomForestClassifier(
            numTrees=40, maxDepth=6, subsamplingRate=0.8, seed=SEED, **common
        ),
        "logistic_regression": lambda: LogisticRegression(
            maxIter=30, regParam=0.01, elasticNetParam=0.0, **common
        ),
    }


def feature_pipeline() -> Pipeline:
    """The fitted features: unit-value norms, training profiles, then the vector."""
    return Pipeline(
        stages=[
            UnitValueNorm(),
            TrainingProfiles(),
            VectorAssembler(
                inputCols=feature_columns(), outputCol="features", handleInvalid="keep"
            ),
        ]
    )


@dataclass
class Trained:
    """What one training run produced."""

    risk: PipelineModel
    revenue: PipelineModel
    features: PipelineModel
    chosen: str
    validation_pr_auc: dict[str, float]
    importances: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)
    prior: float = 0.0
    validation_precision: dict[str, float] = field(default_factory=dict)


def fit_base(train: DataFrame, *, only: str | None = None) -> tuple[PipelineModel, dict]:
    """The feature pipeline and every candidate classifier, fitted on the training window.

    Returned apart from validation so a test can check that nothing after the training window
    changes them.
    """
    features = feature_pipeline().fit(train)
    labelled = _weighted(_training_rows(features, train))
    labelled = labelled.select("features", "label", "weight").cache()
    n, positives = labelled.count(), labelled.where("label = 1").count()
    if n < MIN_LABELS or positives == 0 or positives == n:
        labelled.unpersist()
        raise UsageError(
            option="--train-from/--train-to",
            problem=f"hold {n} labelled declarations ({positives} non-compliant)",
            fix=f"widen the training window: at least {MIN_LABELS} inspections of both outcomes",
        )
    fitted = {}
    for name, make in candidates().items():
        if only is None or name == only:
            log.info("fitting %s on %d labelled declarations", name, n)
            fitted[name] = make().fit(labelled)
    labelled.unpersist()
    return features, fitted


def _training_rows(features: PipelineModel, train: DataFrame) -> DataFrame:
    """The labelled training declarations as the classifier learns them: unit-value norms as
    fitted, profiles out of fold (``features.out_of_fold``), then the feature vector."""
    norms, _profiles, assembler = features.stages
    normed = norms.transform(train)  # the profiles' keys include the primary item's
    return assembler.transform(out_of_fold(normed, normed.where(F.col("label").isNotNull())))


def _weighted(frame: DataFrame) -> DataFrame:
    """Inverse class-frequency weights (stack notes 6.3): each class weighs half in total."""
    share = frame.agg(F.avg("label")).first()[0] or 0.5
    share = min(max(float(share), 1e-6), 1 - 1e-6)
    return frame.withColumn(
        "weight", F.when(F.col("label") == 1, 0.5 / share).otherwise(0.5 / (1 - share))
    )


def train_models(
    frame: DataFrame, windows: Windows, *, only: str | None = None
) -> tuple[Trained, DataFrame]:
    """Fit everything; returns the models and the test window's rows."""
    train, valid, test = windows.split(frame)
    train = train.cache()
    features, fitted = fit_base(train, only=only)
    valid_rows = features.transform(valid.where(F.col("label").isNotNull())).cache()
    if valid_rows.where("label = 1").count() == 0 or valid_rows.where("label = 0").count() == 0:
        raise UsageError(
            option="--valid-to",
            problem="leaves a validation window without both outcomes among its inspections",
            fix="move --valid-to later (more inspected days)",
        )
    scores = {name: _validation_score(m, valid_rows) for name, m in fitted.items()}
    chosen = max(scores, key=lambda k: (scores[k]["precision"], scores[k]["pr_auc"]))
    classifier = fitted[chosen]
    classifier.setPredictionCol("clf_prediction")
    log.info(
        "validation precision at %.0f %% / PR AUC %s: chose %s", CAPACITY * 100, scores, chosen
    )
    calibrator = _fit_platt(PositiveProbability().transform(classifier.transform(valid_rows)))
    importances = _importances(classifier)
    transformed_train = features.transform(train).cache()
    prior = float(transformed_train.where("label is not null").agg(F.avg("label")).first()[0])
    reasons = ReasonCodes(
        config=_json(
            {
                "cuts": fit_cut_points(transformed_train, prior),
                "weights": reason_weights(importances),
                "prior": prior,
            }
        )
    )
    risk = PipelineModel(
        stages=[*features.stages, classifier, PositiveProbability(), calibrator, reasons]
    )
    pr_aucs = {name: v["pr_auc"] for name, v in scores.items()}
    precisions = {name: v["precision"] for name, v in scores.items()}
    revenue = _fit_revenue(features, transformed_train)
    counts = {
        "train": train.count(),
        "train_labelled": transformed_train.where("label is not null").count(),
        "valid_labelled": valid_rows.count(),
    }
    valid_rows.unpersist()
    transformed_train.unpersist()
    train.unpersist()
    trained = Trained(risk, revenue, features, chosen, pr_aucs, importances, counts, prior)
    trained.validation_precision = precisions
    return trained, test


def _validation_score(classifier: Any, valid_rows: DataFrame) -> dict[str, float]:
    """Precision among the top ``CAPACITY`` of the inspected validation declarations, and PR
    AUC (the tie-break). Measured as the test window's inspected population is, so the choice
    and the promotion rule look at the same thing."""
    rows = (
        classifier.transform(valid_rows)
        .select(vector_to_array(F.col("probability"))[1].alias("p"), "label")
        .toPandas()
    )
    scores, labels = rows["p"].to_numpy(float), rows["label"].to_numpy(float)
    point = metrics.at_share(scores, labels, labels, CAPACITY)
    return {"precision": point["precision"], "pr_auc": metrics.pr_auc(scores, labels) or 0.0}


def _fit_platt(valid_scored: DataFrame) -> PlattCalibration:
    """Platt scaling of ``raw_risk`` on the validation window (a one-feature logistic
    regression on its logit). A slope that comes out non-positive (the classifier ranks
    validation no better than chance) is floored so the map stays strictly increasing."""
    frame = VectorAssembler(inputCols=["raw_logit"], outputCol="logit_vector").transform(
        valid_scored.withColumn("raw_logit", raw_logit())
    )
    fitted = LogisticRegression(
        featuresCol="logit_vector",
        labelCol="label",
        predictionCol="platt_prediction",  # the classifier's own output columns are present
        rawPredictionCol="platt_raw",
        probabilityCol="platt_probability",
        regParam=0.0,
        standardization=False,
    ).fit(frame)
    slope, intercept = float(fitted.coefficients[0]), float(fitted.intercept)
    if slope <= 0:
        log.warning("calibration slope %.3g on validation: floored, the ranking is kept", slope)
        slope = 1e-3
    return PlattCalibration(slope=slope, intercept=intercept)


def _fit_revenue(features: PipelineModel, transformed_train: DataFrame) -> PipelineModel:
    """The additional duty an inspection recovers when it finds something: a regressor of
    ``log1p(additional_duty)`` over the non-compliant training declarations (the log keeps a
    few large seizures from dominating the squared loss), its prediction capped at the
    training findings' high quantile of recovered duty per unit of declared value."""
    found = transformed_train.where("label = 1").withColumn(
        "log_duty", F.log1p(F.greatest(F.col("additional_duty"), F.lit(0.0)))
    )
    ratio = found.select(
        (F.col("additional_duty") / F.greatest(F.expm1("log_value"), F.lit(1.0))).alias("r")
    ).approxQuantile("r", [AMOUNT_RATIO_QUANTILE], 0.001)
    cap = max(float(ratio[0]), 0.0) if ratio else 0.0
    regressor = GBTRegressor(
        featuresCol="features",
        labelCol="log_duty",
        predictionCol="log_amount",
        maxIter=20,
        maxDepth=4,
        subsamplingRate=0.8,
        seed=SEED,
    ).fit(found)
    # Bounded by the declaration's own value: a tree's leaf learnt on one large seizure must
    # not promise that amount on a small parcel.
    amount = SQLTransformer(
        statement="SELECT *, least(greatest(exp(log_amount) - 1, 0D), "
        f"greatest(expm1(log_value), 0D) * {cap!r}D) AS amount_if_found FROM __THIS__"
    )
    return PipelineModel(stages=[*features.stages, regressor, amount])


def _importances(classifier: Any) -> dict[str, float]:
    names = feature_columns()
    if hasattr(classifier, "featureImportances"):
        values = classifier.featureImportances.toArray()
    else:
        values = abs(classifier.coefficients.toArray())
        values = values / (values.sum() or 1.0)
    return {n: float(v) for n, v in zip(names, values, strict=True)}


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def predict(risk: PipelineModel, revenue: PipelineModel, frame: DataFrame) -> DataFrame:
    """Risk, amount if found, expected revenue (risk x amount) and reasons for each row."""
    scored = risk.transform(frame).select(
        *frame.columns,
        "risk",
        "reasons",
        "uv_kg_dev",
        "uv_unit_dev",
        "primary_origin",
    )
    amounts = revenue.transform(frame).select("lrn", "amount_if_found")
    return scored.join(amounts, "lrn").withColumn(
        "expected_revenue", F.col("risk") * F.col("amount_if_found")
    )
