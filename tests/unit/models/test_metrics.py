"""Ranking metrics, PSI and the promotion rule on arrays whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from spark_jobs.train import metrics
from spark_jobs.train.evaluate import beats

pytestmark = pytest.mark.unit


def test_precision_recall_revenue_at_share() -> None:
    scores = np.arange(100, dtype=float)[::-1]  # row 0 is the riskiest
    labels = np.zeros(100)
    labels[[0, 1, 2, 50]] = 1
    amounts = labels * np.array([10.0] * 50 + [70.0] * 50)
    point = metrics.at_share(scores, labels, amounts, 0.05)
    assert point["selected"] == 5
    assert point["precision"] == pytest.approx(3 / 5)
    assert point["recall"] == pytest.approx(3 / 4)
    assert point["revenue"] == pytest.approx(30 / 100)


def test_auc_of_perfect_random_and_reversed_rankings() -> None:
    labels = np.array([1, 1, 0, 0, 0])
    assert metrics.roc_auc(np.array([5, 4, 3, 2, 1.0]), labels) == 1.0
    assert metrics.roc_auc(np.array([1, 2, 3, 4, 5.0]), labels) == 0.0
    assert metrics.roc_auc(np.ones(5), labels) == 0.5  # ties count half
    assert metrics.pr_auc(np.array([5, 4, 3, 2, 1.0]), labels) == 1.0
    assert metrics.pr_auc(np.array([5, 1, 4, 3, 2.0]), labels) == pytest.approx((1 + 2 / 5) / 2)
    assert metrics.roc_auc(np.ones(3), np.zeros(3)) is None


def test_error_rates_at_capacity() -> None:
    scores = np.arange(20, dtype=float)[::-1]
    labels = np.array([1, 0] + [0] * 16 + [1, 1])
    rates = metrics.error_rates(scores, labels, 0.10)  # top 2 chosen: one hit, one miss
    assert rates["false_positive_rate"] == pytest.approx(1 / 17)
    assert rates["false_negative_rate"] == pytest.approx(2 / 3)


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=20_000)
    assert metrics.psi(base, rng.normal(size=20_000)) < 0.01
    assert metrics.psi(base, rng.normal(loc=1.0, size=20_000)) > 0.25


def test_bootstrap_spread_brackets_the_point_estimate() -> None:
    rng = np.random.default_rng(2)
    labels = (rng.random(2000) < 0.2).astype(float)
    scores = labels + rng.normal(scale=0.8, size=2000)
    spread = metrics.bootstrap(scores, labels, labels, resamples=200)
    point = metrics.at_share(scores, labels, labels, 0.05)["precision"]
    assert spread["precision"]["p05"] <= point <= spread["precision"]["p95"]
    assert 0 < spread["precision"]["std"] < 0.1


@pytest.mark.parametrize(
    ("challenger", "champion", "expected"),
    [
        ({"precision": 0.5, "revenue": 0.4}, {"precision": 0.4, "revenue": 0.4}, True),
        ({"precision": 0.5, "revenue": 0.3}, {"precision": 0.4, "revenue": 0.4}, False),
        ({"precision": 0.4, "revenue": 0.4}, {"precision": 0.4, "revenue": 0.4}, False),
    ],
)
def test_challenger_must_beat_champion_on_precision_and_revenue(
    challenger: dict, champion: dict, expected: bool
) -> None:
    assert beats(challenger, champion) is expected
