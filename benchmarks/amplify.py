"""Amplified lakes for the model benchmarks: a real (small) history lake's model inputs
resampled to N declarations in a separate benchmark lake.

Why: the issue sizes the models at 1,000,000 declarations (training) and a 50,000-declaration
night (scoring), but building that much history through simulate -> ingest -> dbt takes hours
on two cores. The models read nothing but the tables of ``spark_jobs.train.dataset.INPUTS``,
so those tables are amplified instead: every declaration of the source lake is copied
``factor`` times on average (``floor(factor)`` copies, one more with probability
``factor - floor(factor)``, drawn from a hash of the LRN and the copy number, so a rebuild is
identical). A copy keeps every value of the original (features, items, tax lines, label,
inspection outcome, issue date) and gets fresh identifiers (``<id>-<copy>`` on ``lrn``,
``mrn``, ``record_id``, ``item_record_id``, ``tax_line_id``; copy 0 keeps the original ids).
So the joint distribution of features and labels, and the dates that cut the windows, are the
source's; only the volume changes. The simulator's ground truth, when the source has one, is
amplified the same way so the evaluation still measures selection bias.

What this does *not* reproduce: more distinct traders, routes or tariff lines than the source
has (the fitted profile and norm tables keep the source's size), and the cost of building that
history (simulate, ingest, dbt: see ``history.py`` and ``bench_transform.py``).

The benchmark lake is rebuilt only when its manifest (``_amplified.json``, written last) does
not match the request, so a benchmark can be rerun without paying for the copy again.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

ID_COLUMNS = ("lrn", "mrn", "record_id", "item_record_id", "tax_line_id")
MANIFEST = "_amplified.json"
_UNIFORM_BITS = 1 << 53
SEED = 20261202


def source_tables() -> list[tuple[str, str]]:
    """(zone, table) of every table the models read (the dataset module's list)."""
    from spark_jobs.train.dataset import INPUTS

    return [tuple(name.split(".", 1)) for name in INPUTS]  # type: ignore[misc]


def read_source(spark: SparkSession, source_root: Path, zone: str, table: str) -> DataFrame:
    """A table of the source lake, by path (the benchmark session's catalog is the target's)."""
    return spark.read.format("delta").load(str(source_root / zone / table))


def _uniform(*columns: Column | str) -> Column:
    """A uniform [0, 1) number fixed by the columns (a rebuild draws the same)."""
    draw = F.abs(F.xxhash64(F.lit(SEED), *columns)) % F.lit(_UNIFORM_BITS)
    return draw.cast("double") / F.lit(float(_UNIFORM_BITS))


def plan(features: DataFrame, factor: Column, spread: Sequence[date] = ()) -> DataFrame:
    """``(lrn, _factor, _days)``: one row per kept source declaration, its factor and how many
    days each of its copies may move (see :func:`copies`). The SOURCE's size: small enough to
    broadcast, so no table of the target's size is ever shuffled to be copied."""
    shift: Column = F.array(F.lit(0))
    if spread:
        days = F.array(*[F.lit(d) for d in spread])
        shift = F.transform(days, lambda d: F.datediff(d, F.col("issue_date")))
    return features.select("lrn", factor.alias("_factor"), shift.alias("_days"))


def copies(planned: Column | str = "_factor") -> Column:
    """The copy numbers kept of a row joined to its :func:`plan` row: ``floor(factor)``
    copies, one more with probability ``factor - floor(factor)`` (a hash of the LRN and the
    copy number, so a rebuild is identical)."""
    factor = F.col(planned) if isinstance(planned, str) else planned
    whole = F.floor(factor).cast("int")
    return F.filter(
        F.sequence(F.lit(0), F.ceil(factor).cast("int") - 1),
        lambda c: (c < whole) | (_uniform("lrn", c) < factor - F.floor(factor)),
    )


def _shift(days: Column) -> Column:
    """The days a copy's dates move: 0, or onto one of the spread days drawn evenly."""
    pick = F.floor(_uniform("lrn", "_copy", F.lit("day")) * F.size(days)).cast("int")
    return F.coalesce(F.element_at(days, pick + 1), F.lit(0))


def amplified(table: DataFrame, planned: DataFrame) -> DataFrame:
    """The rows of ``table`` for every kept copy of their declaration, ids made unique and
    issue dates moved by the copy's shift.

    Why the copies are exploded AFTER a broadcast join with the source-sized plan (rather
    than joining the table to an exploded list of copies): the table is then read once and
    streamed, never shuffled (at 1,000,000 the tax lines alone are about 5.5 million rows)."""
    joined = table.join(F.broadcast(planned), "lrn").select("*", F.explode(copies()).alias("_copy"))
    joined = joined.withColumn("_shift", _shift(F.col("_days")))
    fixed = {
        c: F.when(F.col("_copy") == 0, F.col(c))
        .otherwise(F.concat(F.col(c), F.lit("-"), F.col("_copy").cast("string")))
        .alias(c)
        for c in table.columns
        if c in ID_COLUMNS
    }
    if "issue_date" in table.columns:
        fixed["issue_date"] = F.date_add("issue_date", F.col("_shift")).alias("issue_date")
    if "issue_datetime" in table.columns:
        fixed["issue_datetime"] = F.expr("timestampadd(DAY, _shift, issue_datetime)").alias(
            "issue_datetime"
        )
    return joined.select(*[fixed.get(c, F.col(c)) for c in table.columns])


def day_factors(features: DataFrame, targets: Mapping[date, int]) -> dict[str, float]:
    """Per issue date, the factor that brings that day's declarations to its target count."""
    counts = {
        r.issue_date: r.n
        for r in features.where(F.col("issue_date").isin(list(targets)))
        .groupBy("issue_date")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
    missing = [d.isoformat() for d in targets if not counts.get(d)]
    if missing:
        raise SystemExit(f"the source lake has no declaration on {', '.join(missing)}")
    return {d.isoformat(): targets[d] / counts[d] for d in targets}


def build(
    spark: SparkSession,
    source_root: Path,
    target_root: Path,
    factors: Mapping[str, float],
    spread: Sequence[date] = (),
) -> dict:
    """Write the amplified inputs of ``factors``'s days (ISO date -> factor) into the target lake
    (tables registered in its catalog); returns the manifest. Skipped when it already holds them.

    ``spread``: move each copy to one of these days, drawn evenly (a source of one simulated
    day then fills every window); empty keeps the source's dates."""
    from lakehouse.catalog import register_table

    spec = {
        "source": str(source_root.resolve()),
        "factors": dict(sorted(factors.items())),
        "spread": [d.isoformat() for d in spread],
    }
    manifest_path = target_root / MANIFEST
    if manifest_path.exists():
        done = json.loads(manifest_path.read_text())
        if {k: done.get(k) for k in spec} == spec:
            # Registered again (a no-op when in place): a copied or moved benchmark lake, or
            # one whose metastore was lost, still names its own tables.
            for zone, name in source_tables():
                register_table(spark, zone, name, (target_root / zone / name).resolve().as_uri())
            return done
    features = read_source(spark, source_root, "gold", "ml_declaration_features")
    factor = F.lit(0.0)
    for day, value in factors.items():
        factor = F.when(F.col("issue_date") == F.lit(day).cast("date"), F.lit(value)).otherwise(
            factor
        )
    planned = plan(features.where(factor > 0), factor, spread).cache()
    rows = {}
    for zone, name in source_tables():
        source = read_source(spark, source_root, zone, name)
        out = amplified(source, planned) if "lrn" in source.columns else source
        uri = (target_root / zone / name).resolve().as_uri()
        out.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(uri)
        register_table(spark, zone, name, uri)
        rows[f"{zone}.{name}"] = spark.read.format("delta").load(uri).count()
    _amplify_truth(spark, source_root, target_root, planned)
    planned.unpersist()
    manifest = {**spec, "rows": rows}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _amplify_truth(
    spark: SparkSession, source_root: Path, target_root: Path, planned: DataFrame
) -> None:
    """The simulator's ground truth of the kept copies (read only by the evaluation)."""
    truth = sorted((source_root / "simulator" / "ground_truth").glob("*/declarations.parquet"))
    folder = target_root / "simulator" / "ground_truth" / "amplified"
    shutil.rmtree(folder, ignore_errors=True)
    if not truth:
        return
    source = spark.read.parquet(*[str(p) for p in truth])
    amplified(source, planned).write.parquet(str(folder / "declarations.parquet"))


def factor_for(total: int, target: int) -> float:
    """The factor that turns ``total`` declarations into about ``target``."""
    if total <= 0:
        raise SystemExit("the source lake has no declaration in the windows")
    return target / total


def describe(manifest: dict) -> str:
    """One line for the benchmarks' output: what the rows are."""
    factors = manifest["factors"].values()
    low, high = min(factors), max(factors)
    span = f"{low:.2f}" if math.isclose(low, high) else f"{low:.2f}-{high:.2f}"
    dates = (
        f"issue dates spread evenly over {manifest['spread'][0]}..{manifest['spread'][-1]}"
        if manifest.get("spread")
        else "issue dates kept"
    )
    return (
        f"AMPLIFIED rows: every declaration of {manifest['source']} copied x{span} with fresh "
        f"ids (features, items, tax lines and labels kept, {dates}; benchmarks/amplify.py)"
    )
