"""Declaration features for the risk and revenue models: assembly, and estimators fitted on
the training window only.

Why custom estimators: the statistics that make customs features useful (the unit-value norm
of a tariff line from an origin, an importer's past hit rate) are learnt from history, so they
must be *fitted*, like a scaler, on the training window and then frozen. As ``pyspark.ml``
stages inside the saved ``PipelineModel`` they travel with the model to scoring, and nothing
from the validation or test windows can reach them. Their fitted tables are small (one row per
tariff line and origin, per trader, per office) and are kept as JSON params, so the default
params writer persists them with the pipeline.

Nothing here knows a code list: keys are whatever the administration's data holds.
"""

from __future__ import annotations

import json
from typing import Any

from pyspark import keyword_only
from pyspark.ml import Estimator, Model, Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

# The keys whose past non-compliance rate, volume and payment behaviour are profiled.
PROFILE_KEYS = (
    "importer_id",
    "declarant_id",
    "office_code",
    "route_key",
    "primary_hs6",
    "primary_origin",
)
# Pseudo-count of the smoothed target encoding: a key with few inspections stays near the prior.
SMOOTHING = 20.0
# Fewer priced items than this for a (line, origin) and the line's norm over all origins is used.
MIN_NORM_ITEMS = 5
ROBUST_SIGMA_FLOOR = 0.05

NUMERIC_BASE = (
    "n_items",
    "n_hs6",
    "n_origins",
    "log_value",
    "log_mass",
    "n_versions",
    "n_resent",
    "natural_person",
    "is_transit",
    "trip_seal_anomaly",
    "trip_route_deviation",
    "trip_long_stop",
    "trip_device_silent",
    "has_hs2017_code",
    "max_item_flags",
    "declared_tax_rate",
    "rate_gap",
    "pref_gap",
)
NUMERIC_FITTED = ("uv_kg_dev", "uv_unit_dev", "uv_dev", "uv_log_ratio", "origin_share")
# Robust z-scores beyond this carry no more information, and unbounded ones (a unit value of
# a cent) swamp a linear model: clipped.
Z_CLIP = 20.0
# Out-of-fold target encoding of the classifier's own training rows (see ``out_of_fold``).
FOLDS = 5


def feature_columns() -> list[str]:
    """Every numeric input of the models, in the assembler's order.

    ``lab_<key>`` (log of the key's labelled count) sits beside ``te_<key>`` so a model can
    tell a rate learnt from 200 inspections from one that is mostly the prior.
    """
    profiled = [f"{kind}_{key}" for key in PROFILE_KEYS for kind in ("te", "lab", "cnt", "pay")]
    return [*NUMERIC_BASE, *NUMERIC_FITTED, *profiled, "new_importer"]


# -- assembly: one row per declaration, its items nested ---------------------------------------


def declaration_frame(
    features: DataFrame, items: DataFrame, tariff: DataFrame, item_rates: DataFrame
) -> DataFrame:
    """One row per current declaration with its priced items as an array (no I/O).

    ``features`` is ``gold.ml_declaration_features``; ``items`` ``gold.fct_declaration_items``;
    ``tariff`` ``gold.dim_tariff_lines`` (a line's duty rate and chapter); ``item_rates`` the
    customs duty rate applied to each item (``item_record_id``, ``applied_rate``). Payment
    totals that include money an inspection recovered (``collected``, ``gap``) are left out:
    they would carry the label into the features.
    """
    chapter_max = tariff.groupBy("chapter").agg(F.max("duty_rate").alias("chapter_max_rate"))
    lines = tariff.join(chapter_max, "chapter").select(
        "hs_code",
        "chapter",
        F.col("duty_rate").cast("double").alias("line_rate"),
        F.col("chapter_max_rate").cast("double").alias("chapter_max_rate"),
    )
    priced = (
        items.join(lines, "hs_code", "left")
        .join(item_rates, "item_record_id", "left")
        .select(
            "lrn",
            F.struct(
                # First: the sorted array (and the primary item's tie-break) follow the
                # declaration's own item order, not the order a shuffle delivered the items in.
                F.col("item_no").cast("int").alias("item_no"),
                F.col("hs_code"),
                F.coalesce(F.col("hs6"), F.substring("hs_code", 1, 6)).alias("hs6"),
                F.coalesce(F.col("chapter"), F.substring("hs_code", 1, 2)).alias("chapter"),
                F.coalesce(F.col("origin_country"), F.lit("??")).alias("origin"),
                _log_ratio("customs_value_national", "net_mass_kg").alias("log_uv_kg"),
                _log_ratio("customs_value_national", "quantity_tariff_unit").alias("log_uv_unit"),
                F.col("line_rate"),
                F.col("chapter_max_rate"),
                F.col("applied_rate").cast("double").alias("applied_rate"),
            ).alias("item"),
        )
        .groupBy("lrn")
        .agg(F.sort_array(F.collect_list("item")).alias("items"))
    )
    f = features
    return f.join(priced, "lrn", "left").select(
        "lrn",
        "mrn",
        "issue_date",
        "office_code",
        F.coalesce("route_key", F.lit("?")).alias("route_key"),
        "importer_id",
        "declarant_id",
        "country_of_dispatch",
        F.coalesce(F.col("importer_is_natural_person").cast("double"), F.lit(0.0)).alias(
            "natural_person"
        ),
        F.coalesce("items", F.array()).alias("items"),
        *[_num(c) for c in ("n_items", "n_hs6", "n_origins", "n_versions", "n_resent")],
        F.log1p(
            F.greatest(F.coalesce(f.value_national.cast("double"), F.lit(0.0)), F.lit(0.0))
        ).alias("log_value"),
        F.log1p(F.greatest(F.coalesce(f.net_mass_kg.cast("double"), F.lit(0.0)), F.lit(0.0))).alias(
            "log_mass"
        ),
        F.when(F.col("trip_distance_km").isNotNull(), 1.0).otherwise(0.0).alias("is_transit"),
        *[
            _num(c)
            for c in (
                "trip_seal_anomaly",
                "trip_route_deviation",
                "trip_long_stop",
                "trip_device_silent",
                "has_hs2017_code",
                "max_item_flags",
            )
        ],
        F.coalesce(
            f.declared_taxes.cast("double") / F.nullif(f.value_national.cast("double"), F.lit(0)),
            F.lit(0.0),
        ).alias("declared_tax_rate"),
        _item_max("chapter_max_rate - line_rate").alias("rate_gap"),
        _item_max("line_rate - applied_rate").alias("pref_gap"),
        F.coalesce(F.col("underpaid").cast("double"), F.lit(0.0)).alias("underpaid"),
        F.col("label_non_compliant").cast("double").alias("label"),
        F.coalesce(F.col("additional_duty").cast("double"), F.lit(0.0)).alias("additional_duty"),
    )


def _log_ratio(value: str, per: str) -> F.Column:
    v, p = F.col(value).cast("double"), F.col(per).cast("double")
    return F.when((v > 0) & (p > 0), F.log(v / p))


def _num(name: str) -> F.Column:
    return F.coalesce(F.col(name).cast("double"), F.lit(0.0)).alias(name)


def _item_max(expression: str) -> F.Column:
    """The largest non-null value of an item expression, 0 when none has one."""
    values = F.expr(f"filter(transform(items, i -> {_on_item(expression)}), x -> x is not null)")
    return F.coalesce(F.array_max(values), F.lit(0.0))


def _on_item(expression: str) -> str:
    for name in ("chapter_max_rate", "line_rate", "applied_rate"):
        expression = expression.replace(name, f"i.{name}")
    return expression


# -- the fitted stages ---------------------------------------------------------------------------


class _JsonTable(Params):
    """A fitted table kept as a JSON param (persisted by the default params writer)."""

    table = Param(Params._dummy(), "table", "fitted statistics (JSON)", TypeConverters.toString)

    def tables(self) -> dict[str, Any]:
        """The fitted statistics."""
        return json.loads(self.getOrDefault(self.table))


class UnitValueNorm(Estimator, DefaultParamsReadable, DefaultParamsWritable):
    """Fits, per tariff line and origin, the median and robust spread of the log unit value
    (per kg and per tariff unit) and each origin's share of the line's items."""

    def _fit(self, dataset: DataFrame) -> UnitValueNormModel:
        items = dataset.select(F.explode("items").alias("i")).select("i.*")
        pct = F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75))
        stats = [
            F.percentile_approx("log_uv_kg", pct, 200).alias("q_kg"),
            F.percentile_approx("log_uv_unit", pct, 200).alias("q_unit"),
            F.count("log_uv_kg").alias("n_kg"),
            F.count("log_uv_unit").alias("n_unit"),
            F.count(F.lit(1)).alias("n"),
        ]
        by_pair = items.groupBy("hs_code", "origin").agg(*stats).collect()
        by_line = items.groupBy("hs_code").agg(*stats).collect()
        table = {
            "pair": {f"{r.hs_code}|{r.origin}": _norm_entry(r) for r in by_pair},
            "line": {str(r.hs_code): _norm_entry(r) for r in by_line},
        }
        return UnitValueNormModel(table=json.dumps(table, separators=(",", ":")))


def _norm_entry(row: Any) -> list[float | None]:
    def med_sigma(q: list[float] | None, n: int) -> tuple[float | None, float | None]:
        if not q or n < MIN_NORM_ITEMS:
            return None, None
        return q[1], max((q[2] - q[0]) / 1.349, ROBUST_SIGMA_FLOOR)

    kg = med_sigma(row.q_kg, row.n_kg)
    unit = med_sigma(row.q_unit, row.n_unit)
    return [*kg, *unit, float(row.n)]


class UnitValueNormModel(Model, _JsonTable, DefaultParamsReadable, DefaultParamsWritable):
    """Adds ``uv_kg_dev``/``uv_unit_dev`` (lowest robust z of an item's log unit value against
    its norm), ``uv_ratio`` (declared / norm unit value of that item), ``origin_share`` (the
    rarest origin's share of its line) and the primary item's ``primary_hs6``/``primary_origin``."""

    @keyword_only
    def __init__(self, *, table: str = "{}") -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        spark = SparkSession.active()
        fitted = self.tables()
        rows = []
        for kind in ("pair", "line"):
            for key, (mk, sk, mu, su, n) in fitted[kind].items():
                rows.append((kind, key, mk, sk, mu, su, n))
        schema = "kind string, key string, mk double, sk double, mu double, su double, n double"
        norms = F.broadcast(spark.createDataFrame(rows, schema))
        pair = (
            norms.where("kind = 'pair'").drop("kind").toDF("pk", "pmk", "psk", "pmu", "psu", "pn")
        )
        line = (
            norms.where("kind = 'line'").drop("kind").toDF("lk", "lmk", "lsk", "lmu", "lsu", "ln")
        )
        items = dataset.select("lrn", F.explode("items").alias("i")).select("lrn", "i.*")
        scored = (
            items.join(pair, F.concat_ws("|", "hs_code", "origin") == F.col("pk"), "left")
            .join(line, F.col("hs_code") == F.col("lk"), "left")
            .select(
                "lrn",
                "item_no",
                "hs_code",
                "hs6",
                "origin",
                _z("log_uv_kg", "pmk", "psk", "lmk", "lsk").alias("z_kg"),
                _z("log_uv_unit", "pmu", "psu", "lmu", "lsu").alias("z_unit"),
                _ratio().alias("ratio"),
                F.coalesce(F.col("pn") / F.col("ln"), F.lit(0.0)).alias("share"),
            )
        )
        per_declaration = scored.groupBy("lrn").agg(
            F.min("z_kg").alias("uv_kg_dev"),
            F.min("z_unit").alias("uv_unit_dev"),
            F.min_by(F.struct("ratio", "hs6", "origin"), _primary_order()).alias("p"),
            F.min("share").alias("origin_share"),
        )
        kg, unit = F.coalesce("uv_kg_dev", F.lit(0.0)), F.coalesce("uv_unit_dev", F.lit(0.0))
        ratio = F.coalesce("p.ratio", F.lit(1.0))
        return dataset.join(per_declaration, "lrn", "left").select(
            *dataset.columns,
            kg.alias("uv_kg_dev"),
            unit.alias("uv_unit_dev"),
            # The rule baseline's own signal as one feature (the item furthest below its norm),
            # clipped for the linear model; the two above stay whole for the rule and the trees.
            F.greatest(F.least(kg, unit), F.lit(-Z_CLIP)).alias("uv_dev"),
            ratio.alias("uv_ratio"),
            F.log(F.greatest(ratio, F.lit(1e-6))).alias("uv_log_ratio"),
            F.coalesce("origin_share", F.lit(0.0)).alias("origin_share"),
            F.coalesce("p.hs6", F.lit("?")).alias("primary_hs6"),
            F.coalesce("p.origin", F.lit("?")).alias("primary_origin"),
        )


def _primary_order() -> F.Column:
    """The order that picks a declaration's primary item: the lowest deviation, then the
    first item (its number, then tariff line and origin for numberless items).

    Why the tie-break: every item of a declaration whose items all sit at their norm (or
    have none) has the deviation 0, and ``min_by`` on the deviation alone returns whichever
    the aggregation met first, so ``primary_hs6``/``primary_origin``/``uv_ratio`` (and the
    profiles keyed on them) changed with the partitioning of the rows.
    """
    dev = F.least(F.coalesce("z_kg", F.lit(0.0)), F.coalesce("z_unit", F.lit(0.0)))
    return F.struct(dev.alias("dev"), F.col("item_no"), F.col("hs_code"), F.col("origin"))


def _z(value: str, pair_med: str, pair_sig: str, line_med: str, line_sig: str) -> F.Column:
    med = F.coalesce(F.col(pair_med), F.col(line_med))
    sig = F.coalesce(F.col(pair_sig), F.col(line_sig))
    return (F.col(value) - med) / sig


def _ratio() -> F.Column:
    """Declared over norm unit value (per tariff unit when known, else per kg)."""
    unit = F.col("log_uv_unit") - F.coalesce("pmu", "lmu")
    kg = F.col("log_uv_kg") - F.coalesce("pmk", "lmk")
    return F.exp(F.coalesce(unit, kg))


class TrainingProfiles(Estimator, DefaultParamsReadable, DefaultParamsWritable):
    """Fits, per key of each profiled column, the smoothed non-compliance rate of the labelled
    declarations (target encoding), the number of declarations and the underpayment rate."""

    def _fit(self, dataset: DataFrame) -> TrainingProfilesModel:
        return profiles_from_counts(_profile_counts(dataset))


def profiles_from_counts(counted: list[Any]) -> TrainingProfilesModel:
    """The fitted profiles of counted rows (``fold_counts``' per-fold rows are summed per key):
    the model ``TrainingProfiles().fit`` gives on the same window, without another pass over
    it when the out-of-fold encoding has counted it already."""
    return TrainingProfilesModel(table=_dump(_profile_table(counted)))


def fold_of(folds: int = FOLDS) -> F.Column:
    """A declaration's fold: a hash of its LRN (deterministic, and blind to the label)."""
    return F.pmod(F.xxhash64("lrn"), F.lit(folds))


def fold_counts(train: DataFrame, folds: int = FOLDS) -> list[Any]:
    """The profile counts of ``train`` per fold: what ``out_of_fold`` and, summed,
    ``profiles_from_counts`` need, in one pass over the window."""
    return _profile_counts(train, fold_of(folds))


def _profile_counts(dataset: DataFrame, fold: F.Column | None = None) -> list[Any]:
    """Per profiled column and key (and fold, when given): hits, labelled rows, rows and
    underpaid rows. One pass over the window for every key (a job per key costs a scan each)."""
    pairs = F.array(
        *[
            F.struct(F.lit(k).alias("col"), F.col(k).cast("string").alias("val"))
            for k in PROFILE_KEYS
        ]
    )
    fold = F.lit(0) if fold is None else fold
    return (
        dataset.select(F.explode(pairs).alias("kv"), "label", "underpaid", fold.alias("fold"))
        .groupBy("kv.col", "kv.val", "fold")
        .agg(
            F.sum("label").alias("pos"),
            F.count("label").alias("n_lab"),
            F.count(F.lit(1)).alias("n"),
            F.sum("underpaid").alias("unpaid"),
        )
        .collect()
    )


def _profile_table(rows: list[Any]) -> dict[str, Any]:
    """The fitted table of the counted rows (a key counted in several folds is summed)."""
    total = [0.0, 0, 0, 0.0]
    keys: dict[str, dict[str, list]] = {k: {} for k in PROFILE_KEYS}
    for r in rows:
        counts = (float(r.pos or 0), int(r.n_lab), int(r.n), float(r.unpaid or 0))
        if r.col == PROFILE_KEYS[0]:  # every row counted once, through the first key
            total = [t + c for t, c in zip(total, counts, strict=True)]
        if r.val is not None:
            entry = keys[r.col].setdefault(r.val, [0.0, 0, 0, 0.0])
            keys[r.col][r.val] = [e + c for e, c in zip(entry, counts, strict=True)]
    pos, n_lab, n, unpaid = total
    return {
        "keys": keys,
        "prior": pos / n_lab if n_lab else 0.0,
        "pay_prior": unpaid / n if n else 0.0,
    }


def _dump(table: dict[str, Any]) -> str:
    return json.dumps(table, separators=(",", ":"))


def out_of_fold(
    train: DataFrame, rows: DataFrame, folds: int = FOLDS, counted: list[Any] | None = None
) -> DataFrame:
    """``rows`` (a subset of ``train``, before the profiles stage) with every profile feature
    computed out of fold: each row's statistics come from the training declarations of the
    other folds only. ``counted``: ``fold_counts(train, folds)`` when the caller has it.

    Why: profiled in-sample, a training row's own label sits inside its key's hit rate, so the
    classifier learns to trust ``te_*`` far more than it deserves on unseen days (a trader with
    one inspection looks certain); and ``new_importer`` is never 1 in-sample, so it could not
    be learnt at all. Folds are a hash of the LRN: deterministic, and blind to the label.

    The rows are laid out fold after fold (each fold's rows of every partition of ``rows``,
    in order, then the next fold), and only then joined, once per key, to one broadcast table
    holding every fold's statistics (keyed on value and fold): a broadcast join keeps its
    streamed side's partitions and order, so the layout is that of one join set per fold
    unioned (what this was before: 30 joins instead of 6). The classifiers no longer see this
    layout: their seeded subsampling draws per partition, so ``model.lay_out`` re-lays their
    rows by LRN (a change of layout here once flipped the choice between two candidates tied
    on validation, 12-day history: precision at 5 % 51 % -> 42 %).
    """
    fold = fold_of(folds)
    counted = fold_counts(train, folds) if counted is None else counted
    tables = [_profile_table([r for r in counted if r.fold != k]) for k in range(folds)]
    parts = [rows.where(fold == F.lit(k)).withColumn(_FOLD, F.lit(k)) for k in range(folds)]
    laid_out = parts[0]
    for part in parts[1:]:
        laid_out = laid_out.unionByName(part)
    return _join_profiles(laid_out, tables, by_fold=True)


_FOLD = "_profile_fold"
_PROFILE_STATS = ("k", "pos", "n_lab", "n", "unpaid")
_PROFILE_SCHEMA = "k string, pos double, n_lab long, n long, unpaid double"


def with_profiles(dataset: DataFrame, table: dict[str, Any]) -> DataFrame:
    """``dataset`` with the profile features of a fitted ``table``.

    Six broadcast joins (one per profiled key: its table is small), then ONE select that
    computes every feature: a chain of ``withColumn`` per key made the plan, and its analysis
    on every action, grow with each column.
    """
    return _join_profiles(dataset, [table], by_fold=False)


def _join_profiles(dataset: DataFrame, tables: list[dict[str, Any]], *, by_fold: bool) -> DataFrame:
    """The profile features of ``tables`` (one, or one per fold: then a row reads the table of
    its ``_FOLD`` column, which is dropped)."""
    spark = SparkSession.active()
    out = dataset
    for key in PROFILE_KEYS:
        names = [f"_{key}_{c}" for c in _PROFILE_STATS]
        rows = [(f, k, *v) for f, table in enumerate(tables) for k, v in table["keys"][key].items()]
        fitted = F.broadcast(spark.createDataFrame(rows, f"f int, {_PROFILE_SCHEMA}"))
        fitted = fitted.toDF(f"_{key}_f", *names)
        on = out[key] == fitted[names[0]]
        if by_fold:
            on = on & (out[_FOLD] == fitted[f"_{key}_f"])
        out = out.join(fitted, on, "left")
    if by_fold:
        fold = F.col(_FOLD) + F.lit(1)
        prior = F.element_at(F.array(*[F.lit(t["prior"]) for t in tables]), fold)
        pay_prior = F.element_at(F.array(*[F.lit(t["pay_prior"]) for t in tables]), fold)
    else:
        prior, pay_prior = F.lit(tables[0]["prior"]), F.lit(tables[0]["pay_prior"])
    added = [c for key in PROFILE_KEYS for c in _profile_features(key, prior, pay_prior)]
    unseen = F.coalesce(F.col(f"_{PROFILE_KEYS[0]}_n"), F.lit(0)) == 0
    new_importer = F.when(unseen, 1.0).otherwise(0.0).alias("new_importer")
    kept = [F.col(c) for c in dataset.columns if c != _FOLD]
    return out.select(*kept, *added, new_importer)


def _profile_features(key: str, prior: F.Column, pay_prior: F.Column) -> list[F.Column]:
    """The profile features of one key from its joined counts (unseen keys: the priors)."""
    pos = F.coalesce(f"_{key}_pos", F.lit(0.0))
    n_lab = F.coalesce(f"_{key}_n_lab", F.lit(0)).cast("double")
    n = F.coalesce(f"_{key}_n", F.lit(0))
    unpaid = F.coalesce(f"_{key}_unpaid", F.lit(0.0))
    return [
        ((pos + SMOOTHING * prior) / (n_lab + SMOOTHING)).alias(f"te_{key}"),
        pos.alias(f"hits_{key}"),
        n_lab.alias(f"n_{key}"),
        F.log1p(n_lab).alias(f"lab_{key}"),
        F.log1p(n.cast("double")).alias(f"cnt_{key}"),
        ((unpaid + SMOOTHING * pay_prior) / (n + SMOOTHING)).alias(f"pay_{key}"),
    ]


class TrainingProfilesModel(Model, _JsonTable, DefaultParamsReadable, DefaultParamsWritable):
    """Adds ``te_<key>`` (smoothed hit rate), ``hits_<key>`` and ``n_<key>`` (raw hits and
    labelled count, for the reasons' words), ``lab_<key>`` (log of the labelled count),
    ``cnt_<key>`` (log of the training-window volume), ``pay_<key>`` (smoothed underpayment
    rate) and ``new_importer`` (no declaration in the training window). Unseen keys get the
    priors."""

    @keyword_only
    def __init__(self, *, table: str = "{}") -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return with_profiles(dataset, self.tables())


class PositiveProbability(Transformer, DefaultParamsReadable, DefaultParamsWritable):
    """Takes P(class 1) out of a classifier's probability vector into ``raw_risk``, the input
    of the calibration stage."""

    def _transform(self, dataset: DataFrame) -> DataFrame:
        from pyspark.ml.functions import vector_to_array

        return dataset.withColumn("raw_risk", vector_to_array("probability")[1])


class PlattCalibration(Transformer, DefaultParamsReadable, DefaultParamsWritable):
    """``risk`` = sigmoid(slope x logit(``raw_risk``) + intercept), fitted on validation.

    Why Platt scaling rather than isotonic regression: isotonic calibration is a step function,
    so on a small validation window it flattens the top of the ranking into plateaus (many
    declarations at exactly 100 %), and inside a plateau the order, hence who falls in the
    inspection capacity, is arbitrary. A strictly increasing map keeps the classifier's order
    and still turns class-weighted scores back into probabilities.
    """

    slope = Param(Params._dummy(), "slope", "slope on logit(raw_risk)", TypeConverters.toFloat)
    intercept = Param(Params._dummy(), "intercept", "intercept", TypeConverters.toFloat)

    @keyword_only
    def __init__(self, *, slope: float = 1.0, intercept: float = 0.0) -> None:
        super().__init__()
        self._setDefault(slope=1.0, intercept=0.0)
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        z = F.lit(self.getOrDefault(self.slope)) * raw_logit() + F.lit(
            self.getOrDefault(self.intercept)
        )
        return dataset.withColumn("risk", F.lit(1.0) / (F.lit(1.0) + F.exp(-z)))


def raw_logit() -> F.Column:
    """logit of ``raw_risk``, clipped away from 0 and 1 (a forest's vote can be exactly 0)."""
    p = F.least(F.greatest(F.col("raw_risk"), F.lit(1e-6)), F.lit(1 - 1e-6))
    return F.log(p / (F.lit(1.0) - p))
