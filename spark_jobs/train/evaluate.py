"""The evaluation of one model version on a test window: the numbers (JSON-ready dict).

Two populations: the *inspected* declarations (what the administration can measure: labels
exist only where officers looked, and they looked where earlier targeting sent them) and, when
a ground truth is known (the simulator's), *all* declarations. The gap between the two is the
selection bias the models inherit from targeted inspections.

Four rankings side by side: the risk model, the revenue ranking (risk x amount), the rule
baseline (largest unit-value deviation below the norm) and random selection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spark_jobs.train import metrics

GROUPS = {"origin": "country_of_dispatch", "office": "office_code", "trader_type": "trader_type"}
MAX_GROUPS = 12
HEADLINE_SHARE = "5%"


def rankings(frame: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """Each ranking's score per row (higher = inspect first)."""
    rng = np.random.default_rng(seed)
    out = {
        "risk_model": frame["risk"].to_numpy(float),
        "revenue_ranking": frame["expected_revenue"].to_numpy(float),
        "rule_unit_value": -np.minimum(
            frame["uv_kg_dev"].to_numpy(float), frame["uv_unit_dev"].to_numpy(float)
        ),
        "random": rng.random(len(frame)),
    }
    if "champion_risk" in frame:
        out["champion"] = frame["champion_risk"].to_numpy(float)
    return out


def populations(frame: pd.DataFrame) -> dict[str, tuple[pd.Series, np.ndarray, np.ndarray]]:
    """(row mask, labels, amounts) per population."""
    out = {}
    inspected = frame["label"].notna().to_numpy()
    out["inspected"] = (
        inspected,
        frame.loc[inspected, "label"].to_numpy(float),
        frame.loc[inspected, "additional_duty"].to_numpy(float),
    )
    if "is_fraud" in frame and frame["is_fraud"].notna().any():
        known = frame["is_fraud"].notna().to_numpy()
        out["all"] = (
            known,
            frame.loc[known, "is_fraud"].to_numpy(float),
            frame.loc[known, "duty_evaded"].to_numpy(float),
        )
    return out


def evaluate(test: pd.DataFrame, train: pd.DataFrame, features: list[str], seed: int = 0) -> dict:
    """Every figure of the report for one test window."""
    test = test.assign(
        trader_type=np.where(test["natural_person"] > 0, "natural person", "company")
    )
    scores = rankings(test, seed)
    result: dict[str, Any] = {"n_test": len(test), "populations": {}}
    for name, (mask, labels, amounts) in populations(test).items():
        result["populations"][name] = {
            "rankings": {r: metrics.summary(s[mask], labels, amounts) for r, s in scores.items()},
            "bootstrap": metrics.bootstrap(scores["risk_model"][mask], labels, amounts, seed=seed),
        }
    result["headline"] = headline(result)
    result["fairness"] = fairness(test, scores["risk_model"])
    result["psi"] = {
        f: metrics.psi(train[f].to_numpy(float), test[f].to_numpy(float))
        for f in [*features, "risk"]
        if f in train and f in test
    }
    return result


def headline(result: dict) -> dict:
    """Precision and revenue at 5 % per ranking, on the truth when known, else on inspections."""
    population = "all" if "all" in result["populations"] else "inspected"
    ranks = result["populations"][population]["rankings"]
    out: dict[str, Any] = {"population": population}
    for name, summary in ranks.items():
        point = summary["at"][HEADLINE_SHARE]
        out[name] = {"precision": point["precision"], "revenue": point["revenue"]}
    model, rule, rand = (out[k]["precision"] for k in ("risk_model", "rule_unit_value", "random"))
    out["lift_over_rule"] = model / rule if rule else None
    out["lift_over_random"] = model / rand if rand else None
    if "inspected" in result["populations"]:
        insp = result["populations"]["inspected"]["rankings"]["risk_model"]["at"][HEADLINE_SHARE]
        out["risk_model_precision_on_inspected"] = insp["precision"]
    return out


def fairness(test: pd.DataFrame, risk: np.ndarray) -> dict:
    """Per origin, office and trader type: how often the top 5 % picks them, and how often the
    picks are right (on inspections, and on the truth when known)."""
    chosen = metrics.top_mask(risk, 0.05)
    out: dict[str, list[dict]] = {}
    for name, column in GROUPS.items():
        # One group-by per column (not a filter per group: a large window has many groups).
        keys = test[column].fillna("?").astype(str)
        size = keys.value_counts().head(MAX_GROUPS)
        rate = pd.Series(chosen).groupby(keys.to_numpy()).mean()
        picked = test.loc[chosen].assign(_key=keys[chosen].to_numpy()).groupby("_key")
        rows = []
        for value, n in size.items():
            row = {
                "group": str(value),
                "n": int(n),
                "selection_rate": float(rate[value]),
                "precision_inspected": _group_mean(picked, "label", value),
            }
            if "is_fraud" in test:
                row["precision_truth"] = _group_mean(picked, "is_fraud", value)
            rows.append(row)
        out[name] = rows
    return out


def _group_mean(groups: Any, column: str, key: str) -> float | None:
    """Mean of the non-null values of ``column`` in one group; None when it has none."""
    if key not in groups.groups:
        return None
    return _mean(groups.get_group(key)[column].dropna())


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None


def beats(challenger: dict, champion: dict) -> bool:
    """The promotion rule: on the same test window, at least as good on precision and on
    revenue at 5 %, and better on one of them."""
    c, k = challenger, champion
    not_worse = c["precision"] >= k["precision"] and c["revenue"] >= k["revenue"]
    return not_worse and (c["precision"] > k["precision"] or c["revenue"] > k["revenue"])
