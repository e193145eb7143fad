"""Training: windows, the feature pipeline, the risk classifier chosen on validation and
calibrated there, and the revenue regressor. Pure: DataFrames in, fitted models out.

Windows are dates: train ``[train_from, train_to]``, validation ``(train_to, valid_to]``, test
``(valid_to, test_to]``. Every statistic of the features is fitted on the training window; the
validation window picks the classifier and calibrates its probabilities; the test window only
measures. Labels exist only for inspected declarations, so the models learn from those.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
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
    PROFILE_KEYS,
    PlattCalibration,
    PositiveProbability,
    TrainingProfiles,
    UnitValueNorm,
    feature_columns,
    fold_counts,
    out_of_fold,
    profiles_from_counts,
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
# The fitted models' rows are laid out in partitions of about this many rows (``lay_out``),
# at least LAYOUT_MIN_PARTITIONS (both cores busy) and at most LAYOUT_MAX_PARTITIONS.
LAYOUT_ROWS = 20_000
LAYOUT_MIN_PARTITIONS = 4
LAYOUT_MAX_PARTITIONS = 64


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


CLASSIFIERS = ("gbt", "random_forest", "logistic_regression")
# Simplest first (fewest fitted parameters, no random draws first): the order ``choose``
# prefers among candidates that validation cannot tell apart.
SIMPLEST_FIRST = ("logistic_regression", "gbt", "random_forest")


@dataclass(frozen=True)
class TrainConfig:
    """What is trained: the candidate classifiers, the GBT sizes, and the sample the
    candidates are compared on (recorded with the run as MLflow parameters).

    Why a selection sample: choosing among the candidates only needs their relative precision
    on validation, which a seeded sample of the labelled training rows measures well; only the
    winner is then refitted on the whole window. So the training time grows with one
    classifier's fit on all the rows, not three. Below ``selection_rows`` labelled rows the
    candidates see them all and the winner is not refitted.
    """

    candidates: tuple[str, ...] = CLASSIFIERS
    gbt_iterations: int = 25
    gbt_depth: int = 4
    revenue_iterations: int = 20
    selection_rows: int = 20_000
    seed: int = SEED

    def __post_init__(self) -> None:
        unknown = [c for c in self.candidates if c not in CLASSIFIERS]
        if unknown or not self.candidates:
            raise UsageError(
                option="--classifier",
                problem=f"names {', '.join(unknown) or 'no classifier'}",
                fix=f"name one or more of {', '.join(CLASSIFIERS)}",
            )
        for option, value, low in (
            ("--gbt-iterations", self.gbt_iterations, 1),
            ("--gbt-depth", self.gbt_depth, 1),
            ("--revenue-iterations", self.revenue_iterations, 1),
            ("--selection-rows", self.selection_rows, MIN_LABELS),
        ):
            if value < low:
                raise UsageError(option=option, problem=f"is {value}", fix=f"give {low} or more")

    def as_params(self) -> dict[str, str]:
        """The settings as MLflow parameters."""
        return {
            "candidates": ",".join(self.candidates),
            "gbt_iterations": str(self.gbt_iterations),
            "gbt_depth": str(self.gbt_depth),
            "revenue_iterations": str(self.revenue_iterations),
            "selection_rows": str(self.selection_rows),
            "seed": str(self.seed),
        }


def candidates(config: TrainConfig | None = None) -> dict[str, Callable[[], Any]]:
    """The classifiers tried, sized for two cores (stack notes 6.1): small, shallow ensembles."""
    config = config or TrainConfig()
    common = {"featuresCol": "features", "labelCol": "label", "weightCol": "weight"}
    makers = {
        "gbt": lambda: GBTClassifier(
            maxIter=config.gbt_iterations,
            maxDepth=config.gbt_depth,
            stepSize=0.15,
            subsamplingRate=0.8,
            seed=config.seed,
            **common,
        ),
        "random_forest": lambda: RandomForestClassifier(
            numTrees=40, maxDepth=6, subsamplingRate=0.8, seed=config.seed, **common
        ),
        "logistic_regression": lambda: LogisticRegression(
            maxIter=30, regParam=0.01, elasticNetParam=0.0, **common
        ),
    }
    return {name: makers[name] for name in config.candidates}


def _assembler() -> VectorAssembler:
    return VectorAssembler(inputCols=feature_columns(), outputCol="features", handleInvalid="keep")


def feature_pipeline() -> Pipeline:
    """The fitted features: unit-value norms, training profiles, then the vector."""
    return Pipeline(stages=[UnitValueNorm(), TrainingProfiles(), _assembler()])


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
    # Up to ``drift_rows`` training declarations with their features and risk: the reference
    # of the evaluation's drift measures, drawn from the window's features computed once.
    drift_reference: pd.DataFrame | None = None


@dataclass
class _Window:
    """The training window through the fitted features, computed once and pinned: the
    classifiers, the cut points, the revenue model and the drift sample all read it."""

    features: PipelineModel
    transformed: DataFrame  # every declaration, whole-window profiles (pinned)
    labelled: DataFrame  # the classifier's rows: out-of-fold profiles, class weights (cached)
    normed: DataFrame  # every declaration after the unit-value norms (pinned)
    n_rows: int
    n_labelled: int
    prior: float  # share of non-compliant among the labelled rows

    def unpersist(self) -> None:
        """Free the stored frames."""
        self.labelled.unpersist()
        release(self.transformed)
        release(self.normed)


def pin(frame: DataFrame) -> DataFrame:
    """``frame`` computed now and kept (memory, then disk), as a frame whose plan is one scan.

    Why not ``cache()``: a cached frame still carries its whole lineage, and every query built
    on it is analysed, matched against the cache and optimised over all of it (through Py4J,
    on the driver, each time): the training window's lineage is the load's joins and the norms'
    explode, join and group-by, and the out-of-fold rows held it five times. A local
    checkpoint keeps the rows, their partitions and their order (so what is computed from it is
    what was computed from the cache), and cuts the plan to a scan.
    """
    return frame.localCheckpoint(eager=True)


def release(frame: DataFrame) -> None:
    """Free what ``pin`` kept (a pinned frame is not in the cache: ``unpersist`` would not)."""
    plan = frame._jdf.queryExecution().analyzed()  # no public handle on the kept RDD
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


def lay_out(frame: DataFrame, rows: int) -> DataFrame:
    """``frame`` (with an ``lrn`` column, about ``rows`` rows) hash-partitioned on the LRN into
    a number of partitions set by ``rows`` alone, each partition sorted by LRN.

    Why: the classifiers' and the revenue model's seeded draws (GBT subsampling, the random
    forest's bootstrap, the selection sample) are made per partition, row after row, so a
    model is a function of its rows' layout as well as of the rows and the seed. Left to the
    plan upstream (the norms' join, the out-of-fold union, what adaptive execution coalesced),
    the layout changed with any change of plan that kept every row, and with it the draws: on
    the 12-day history one such draw moved test precision at 5 % by 4 points. Laid out here,
    the same rows and seed give the same model whatever plan computed them.
    """
    parts = -(-max(rows, 1) // LAYOUT_ROWS)
    parts = min(max(parts, LAYOUT_MIN_PARTITIONS), LAYOUT_MAX_PARTITIONS)
    return frame.repartition(parts, "lrn").sortWithinPartitions("lrn")


def _fit_window(train: DataFrame) -> _Window:
    """Fit the feature stages on the training window and compute its rows once.

    The unit-value norms (an explode of the items, two joins, a group-by and a join back) are
    the costly stage: applied once here and pinned; the profiles are counted per fold in one
    pass over that result (the whole window's table is the sum of its folds'), and both the
    out-of-fold and the whole-window rows are computed from it.
    """
    norms = UnitValueNorm().fit(train)
    normed = pin(norms.transform(train))
    counted = fold_counts(normed)
    n_rows, n, positives = _window_counts(counted)
    if n < MIN_LABELS or positives == 0 or positives == n:
        release(normed)
        raise UsageError(
            option="--train-from/--train-to",
            problem=f"hold {n} labelled declarations ({positives} non-compliant)",
            fix=f"widen the training window: at least {MIN_LABELS} inspections of both outcomes",
        )
    profiles = profiles_from_counts(counted)
    features = PipelineModel(stages=[norms, profiles, _assembler()])
    assembler = features.stages[2]
    labelled_rows = out_of_fold(normed, normed.where(F.col("label").isNotNull()), counted=counted)
    labelled = _weighted(assembler.transform(labelled_rows), positives / n)
    labelled = lay_out(labelled.select("lrn", "features", "label", "weight"), n)
    labelled = labelled.select("features", "label", "weight").cache()
    transformed = pin(assembler.transform(profiles.transform(normed)))
    return _Window(features, transformed, labelled, normed, n_rows, n, positives / n)


def _window_counts(counted: list[Any]) -> tuple[int, int, int]:
    """(declarations, labelled, non-compliant) of the window, from its profile counts: every
    declaration is counted once under the first profiled key (no job of their own)."""
    first = [r for r in counted if r.col == PROFILE_KEYS[0]]
    return (
        sum(int(r.n) for r in first),
        sum(int(r.n_lab) for r in first),
        round(sum(float(r.pos or 0) for r in first)),
    )


def fit_base(
    train: DataFrame, *, only: str | None = None, config: TrainConfig | None = None
) -> tuple[PipelineModel, dict]:
    """The feature pipeline and every candidate classifier, fitted on the training window.

    Returned apart from validation so a test can check that nothing after the training window
    changes them.
    """
    config = config or TrainConfig(candidates=(only,) if only else CLASSIFIERS)
    window = _fit_window(train)
    fitted = {name: make().fit(window.labelled) for name, make in candidates(config).items()}
    window.unpersist()
    return window.features, fitted


def _weighted(frame: DataFrame, share: float) -> DataFrame:
    """Inverse class-frequency weights (stack notes 6.3): each class weighs half in total;
    ``share`` is the non-compliant share of the labelled rows."""
    share = min(max(float(share), 1e-6), 1 - 1e-6)
    return frame.withColumn(
        "weight", F.when(F.col("label") == 1, 0.5 / share).otherwise(0.5 / (1 - share))
    )


def _fit_candidates(window: _Window, config: TrainConfig) -> tuple[dict[str, Any], int]:
    """Every candidate fitted on the selection sample (all the labelled rows when there are
    no more than ``selection_rows``, or one candidate only); returns them and the sample size."""
    makers = candidates(config)
    rows, n = window.labelled, window.n_labelled
    if len(makers) > 1 and n > config.selection_rows:
        rows = rows.sample(fraction=config.selection_rows / n, seed=config.seed).cache()
        n = rows.count()
    fitted = {}
    for name, make in makers.items():
        log.info("fitting %s on %d labelled declarations", name, n)
        fitted[name] = make().fit(rows)
    if rows is not window.labelled:
        rows.unpersist()
    return fitted, n


def train_models(
    frame: DataFrame,
    windows: Windows,
    *,
    only: str | None = None,
    config: TrainConfig | None = None,
    drift_rows: int = 50_000,
) -> tuple[Trained, DataFrame]:
    """Fit everything; returns the models and the test window's rows."""
    config = config or TrainConfig(candidates=(only,) if only else CLASSIFIERS)
    train, valid, test = windows.split(frame)
    window = _fit_window(train)
    features = window.features
    fitted, selection_n = _fit_candidates(window, config)
    valid_rows = features.transform(valid.where(F.col("label").isNotNull())).cache()
    n_valid = _check_validation(valid_rows)
    scores = {name: _validation_score(m, valid_rows) for name, m in fitted.items()}
    chosen = choose(scores)
    log.info(
        "validation precision at %.0f %% / PR AUC %s: chose %s", CAPACITY * 100, scores, chosen
    )
    classifier = fitted[chosen]
    if selection_n < window.n_labelled:  # chosen on the sample: the winner learns every row
        log.info("refitting %s on %d labelled declarations", chosen, window.n_labelled)
        classifier = candidates(config)[chosen]().fit(window.labelled)
    classifier.setPredictionCol("clf_prediction")
    calibrator = _fit_platt(PositiveProbability().transform(classifier.transform(valid_rows)))
    valid_rows.unpersist()
    importances = _importances(classifier)
    head = [classifier, PositiveProbability(), calibrator]
    reasons = _reason_codes(window, importances)
    trained = Trained(
        risk=PipelineModel(stages=[*features.stages, *head, reasons]),
        revenue=_fit_revenue(features, window, config),
        features=features,
        chosen=chosen,
        validation_pr_auc={name: v["pr_auc"] for name, v in scores.items()},
        importances=importances,
        counts={
            "train": window.n_rows,
            "train_labelled": window.n_labelled,
            "selection_labelled": selection_n,
            "valid_labelled": n_valid,
        },
        prior=window.prior,
        validation_precision={name: v["precision"] for name, v in scores.items()},
        drift_reference=_drift_reference(PipelineModel(stages=head), window, drift_rows, config),
    )
    window.unpersist()
    return trained, test


def _check_validation(valid_rows: DataFrame) -> int:
    """The labelled validation rows' count; a UsageError when they lack an outcome."""
    n, positives = _outcomes(valid_rows)
    if positives == 0 or positives == n:
        raise UsageError(
            option="--valid-to",
            problem="leaves a validation window without both outcomes among its inspections",
            fix="move --valid-to later (more inspected days)",
        )
    return n


def _outcomes(labelled: DataFrame) -> tuple[int, int]:
    """(rows, non-compliant rows) of labelled declarations, in one pass."""
    row = labelled.agg(F.count(F.lit(1)), F.sum("label")).first()
    return (int(row[0]), int(row[1] or 0)) if row else (0, 0)


def _reason_codes(window: _Window, importances: dict[str, float]) -> ReasonCodes:
    """The reasons stage: cut points on the training window, weights from the classifier."""
    cuts = fit_cut_points(window.transformed, window.prior)
    weights = reason_weights(importances)
    return ReasonCodes(config=_json({"cuts": cuts, "weights": weights, "prior": window.prior}))


def _drift_reference(
    head: PipelineModel, window: _Window, rows: int, config: TrainConfig
) -> pd.DataFrame:
    """Up to ``rows`` training declarations with their features and risk (the drift
    measures' reference), scored from the window's cached features: no feature pass of its
    own."""
    sample = window.transformed
    if window.n_rows > rows:
        sample = sample.sample(fraction=rows / window.n_rows, seed=config.seed)
    return head.transform(sample).select(*feature_columns(), "risk").toPandas()


def choose(scores: dict[str, dict[str, float]]) -> str:
    """The simplest candidate (``SIMPLEST_FIRST``) whose validation precision at the
    capacity is within one binomial standard error of the best one's (best: precision, then PR
    AUC): the one-standard-error rule of model selection.

    Why not the best one: the capacity of a validation window of a few days is a few dozen
    declarations, and a precision measured on 72 of them has a standard error of ~6 points,
    more than the candidates differ by. On the 12-day history the best-on-validation
    candidate was mostly a lucky draw of a tree ensemble's seed, and the logistic regression
    (no draw) was at or ahead of the chosen one on the test window in all of 10 draws
    (docs/models.md, session 11).
    """
    best = max(scores.values(), key=lambda v: (v["precision"], v["pr_auc"]))
    p, k = best["precision"], max(best.get("selected", 1.0), 1.0)
    floor = p - math.sqrt(p * (1 - p) / k)
    return next(
        name
        for name in SIMPLEST_FIRST
        if name in scores and scores[name]["precision"] >= floor - 1e-12
    )


def _validation_score(classifier: Any, valid_rows: DataFrame) -> dict[str, float]:
    """Precision among the top ``CAPACITY`` of the inspected validation declarations, and PR
    AUC (the tie-break). Measured as the test window's inspected population is, so the choice
    and the promotion rule look at the same thing."""
    rows = (
        classifier.transform(valid_rows)
        .select("lrn", vector_to_array(F.col("probability"))[1].alias("p"), "label")
        .toPandas()
        .sort_values("lrn", kind="stable")  # equal scores: the same order whatever the layout
    )
    scores, labels = rows["p"].to_numpy(float), rows["label"].to_numpy(float)
    point = metrics.at_share(scores, labels, labels, CAPACITY)
    return {
        "precision": point["precision"],
        "pr_auc": metrics.pr_auc(scores, labels) or 0.0,
        "selected": float(point["selected"]),
    }


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


def _fit_revenue(features: PipelineModel, window: _Window, config: TrainConfig) -> PipelineModel:
    """The additional duty an inspection recovers when it finds something: a regressor of
    ``log1p(additional_duty)`` over the non-compliant training declarations (the log keeps a
    few large seizures from dominating the squared loss), its prediction capped at the
    training findings' high quantile of recovered duty per unit of declared value."""
    found = window.transformed.where("label = 1").select(
        "lrn",
        "features",
        F.log1p(F.greatest(F.col("additional_duty"), F.lit(0.0))).alias("log_duty"),
        (F.col("additional_duty") / F.greatest(F.expm1("log_value"), F.lit(1.0))).alias("r"),
    )
    found = lay_out(found, round(window.prior * window.n_labelled)).cache()
    ratio = found.approxQuantile("r", [AMOUNT_RATIO_QUANTILE], 0.001)
    cap = max(float(ratio[0]), 0.0) if ratio else 0.0
    regressor = GBTRegressor(
        featuresCol="features",
        labelCol="log_duty",
        predictionCol="log_amount",
        maxIter=config.revenue_iterations,
        maxDepth=4,
        subsamplingRate=0.8,
        seed=config.seed,
    ).fit(found)
    found.unpersist()
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
    """Risk, amount if found, expected revenue (risk x amount) and reasons for each row.

    The two models begin with the same fitted feature stages (trained together, saved with
    their uids): those run once and both heads read their output, rather than computing the
    features twice and joining the two results on the LRN. A pair that does not share them
    (none is trained so) is scored apart and joined.
    """
    shared = _shared_stages(risk, revenue)
    if shared:
        featured = PipelineModel(stages=risk.stages[:shared]).transform(frame)
        scored = PipelineModel(stages=risk.stages[shared:]).transform(featured)
        both = PipelineModel(stages=revenue.stages[shared:]).transform(scored)
        return both.select(*frame.columns, *_PREDICTED, "amount_if_found").withColumn(
            "expected_revenue", F.col("risk") * F.col("amount_if_found")
        )
    scored = risk.transform(frame).select(*frame.columns, *_PREDICTED)
    amounts = revenue.transform(frame).select("lrn", "amount_if_found")
    return scored.join(amounts, "lrn").withColumn(
        "expected_revenue", F.col("risk") * F.col("amount_if_found")
    )


_PREDICTED = ("risk", "reasons", "uv_kg_dev", "uv_unit_dev", "primary_origin")


def _shared_stages(risk: PipelineModel, revenue: PipelineModel) -> int:
    """How many leading stages the two models share (the same stage: same uid)."""
    shared = 0
    for a, b in zip(risk.stages, revenue.stages, strict=False):
        if a.uid != b.uid or type(a) is not type(b):
            break
        shared += 1
    return shared
