"""The top three reasons of a score, in words an officer can check.

Why not per-row model attributions: an officer needs a reason they can verify on the
declaration ("unit value 78 % below the norm for 8517.13 from CN"), not a feature weight. So
each reason is a feature with a risky direction and a sentence; its strength for a declaration
is how far into the training window's risky tail the value lies (its percentile among the
training declarations) times the model's importance of that feature. The three strongest
reasons past the 75th percentile are given. Cut points are fitted on the training window and
saved with the model like any other stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark import keyword_only
from pyspark.ml import Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

N_CUTS = 20
MIN_PERCENTILE = 0.75
TOP = 3


@dataclass(frozen=True)
class Reason:
    """One reason: the SQL value whose high end is risky (0 or less: no reason), the model
    features whose importances weigh it, and its sentence (a SQL expression)."""

    name: str
    value: str
    features: tuple[str, ...]
    text: str


def _profile(key: str, label: str) -> Reason:
    """Strength: the smoothed rate above the prior (a key with one inspection stays near the
    prior). Words: the raw counts behind it, which an officer can check, never the smoothed
    rate beside a count it was not computed from ("20 % of 1 inspection")."""
    return Reason(
        f"profile_{key}",
        f"te_{key} - _prior",
        (f"te_{key}", f"lab_{key}"),
        f"format_string('%s %s: non-compliance found in %d of %d past inspections "
        f"(all inspections: %d %%)', '{label}', coalesce({key}, '?'), "
        f"cast(hits_{key} as int), cast(n_{key} as int), "
        f"cast(round(_prior * 100) as int))",
    )


def _flag(feature: str, text: str) -> Reason:
    return Reason(feature, feature, (feature,), f"'{text}'")


REASONS = (
    Reason(
        "unit_value",
        "if(uv_ratio < 1, -least(uv_kg_dev, uv_unit_dev), 0D)",
        ("uv_kg_dev", "uv_unit_dev", "uv_dev", "uv_log_ratio"),
        "format_string('unit value %d %% below the norm for %s.%s from %s', "
        "cast(round((1 - uv_ratio) * 100) as int), substr(primary_hs6, 1, 4), "
        "substr(primary_hs6, 5, 2), primary_origin)",
    ),
    Reason(
        "origin_share",
        "1 - origin_share",
        ("origin_share",),
        "format_string('origin %s is unusual for %s.%s (%d %% of its declared items)', "
        "primary_origin, substr(primary_hs6, 1, 4), substr(primary_hs6, 5, 2), "
        "cast(round(origin_share * 100) as int))",
    ),
    Reason(
        "rate_gap",
        "rate_gap",
        ("rate_gap",),
        "format_string('declared tariff line is %s duty points below the highest line of "
        "its chapter', cast(round(rate_gap, 1) as string))",
    ),
    Reason(
        "pref_gap",
        "pref_gap",
        ("pref_gap",),
        "format_string('duty applied is %s points below the tariff line rate "
        "(preference or relief claimed)', cast(round(pref_gap, 1) as string))",
    ),
    _profile("importer_id", "importer"),
    _profile("declarant_id", "declarant"),
    _profile("office_code", "office"),
    _profile("route_key", "route"),
    _flag("new_importer", "new importer: no declaration in the training history"),
    Reason(
        "payments",
        "pay_importer_id",
        ("pay_importer_id",),
        "format_string('importer underpaid duty on %d %% of past declarations', "
        "cast(round(pay_importer_id * 100) as int))",
    ),
    Reason(
        "amended",
        "n_versions - 1",
        ("n_versions",),
        "format_string('declaration amended (%d versions)', cast(n_versions as int))",
    ),
    _flag("trip_seal_anomaly", "transit trip: seal opened outside an approved place"),
    _flag("trip_route_deviation", "transit trip: left the approved corridor"),
    _flag("trip_long_stop", "transit trip: long unexplained stop"),
    _flag("trip_device_silent", "transit trip: tracking device went silent"),
)


def fit_cut_points(train: DataFrame, prior: float) -> dict[str, list[float]]:
    """Per reason, ``N_CUTS`` quantiles of its value over the training window."""
    probabilities = [(i + 1) / (N_CUTS + 1) for i in range(N_CUTS)]
    frame = train.withColumn("_prior", F.lit(prior)).select(
        *[F.expr(r.value).cast("double").alias(r.name) for r in REASONS]
    )
    quantiles = frame.approxQuantile([r.name for r in REASONS], probabilities, 0.005)
    return {r.name: [float(q) for q in qs] for r, qs in zip(REASONS, quantiles, strict=True)}


def reason_weights(importances: dict[str, float]) -> dict[str, float]:
    """A reason weighs what the model gave its features (sum of their importances)."""
    return {r.name: sum(importances.get(f, 0.0) for f in r.features) for r in REASONS}


class ReasonCodes(Transformer, DefaultParamsReadable, DefaultParamsWritable):
    """Adds ``reasons``: up to three sentences, strongest first."""

    config = Param(
        Params._dummy(), "config", "cut points, weights and prior (JSON)", TypeConverters.toString
    )

    @keyword_only
    def __init__(self, *, config: str = "{}") -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        cfg = json.loads(self.getOrDefault(self.config))
        candidates = []
        for reason in REASONS:
            cuts = cfg["cuts"].get(reason.name) or [0.0]
            weight = max(float(cfg["weights"].get(reason.name, 0.0)), 1e-6)
            value = F.expr(reason.value).cast("double")
            above = sum((F.when(value > F.lit(c), 1).otherwise(0) for c in cuts), F.lit(0))
            percentile = above / F.lit(float(len(cuts)))
            strength = F.when(
                (value > 0) & (percentile >= MIN_PERCENTILE), percentile * F.lit(weight)
            )
            candidates.append(F.struct(strength.alias("s"), F.expr(reason.text).alias("t")))
        ranked = F.expr(
            "transform(slice(array_sort(filter(_cand, c -> c.s is not null), "
            "(a, b) -> case when a.s > b.s then -1 when a.s < b.s then 1 else 0 end), "
            f"1, {TOP}), c -> c.t)"
        )
        return (
            dataset.withColumn("_prior", F.lit(float(cfg["prior"])))
            .withColumn("_cand", F.array(*candidates))
            .withColumn("reasons", ranked)
            .drop("_cand", "_prior")
        )
