"""The classifier chosen on validation: the simplest one that validation cannot tell from the
best (one standard error of the best one's precision at the capacity)."""

from __future__ import annotations

import pytest

from spark_jobs.train.model import choose

pytestmark = pytest.mark.unit


def score(precision: float, pr_auc: float = 0.4, selected: int = 72) -> dict[str, float]:
    return {"precision": precision, "pr_auc": pr_auc, "selected": float(selected)}


def test_a_candidate_within_one_standard_error_of_the_best_and_simpler_wins() -> None:
    # best 0.583 of 72: standard error 0.058, so 0.528 is as good as validation can tell
    scores = {
        "gbt": score(0.583),
        "random_forest": score(0.444),
        "logistic_regression": score(0.528),
    }
    assert choose(scores) == "logistic_regression"


def test_the_best_wins_when_it_is_clearly_ahead() -> None:
    scores = {
        "gbt": score(0.611),
        "random_forest": score(0.528),
        "logistic_regression": score(0.528),
    }
    assert choose(scores) == "gbt"


def test_the_simplest_close_one_wins_and_a_larger_capacity_narrows_the_margin() -> None:
    # gbt and random forest tied on precision: the better PR AUC is the best, yet gbt is simpler
    scores = {"gbt": score(0.611, 0.41), "random_forest": score(0.611, 0.43)}
    assert choose(scores) == "gbt"
    # a larger capacity shrinks the error: 0.55 is no longer within it of 0.60
    many = {"gbt": score(0.60, selected=2000), "logistic_regression": score(0.55, selected=2000)}
    assert choose(many) == "gbt"


def test_one_candidate_is_chosen() -> None:
    assert choose({"random_forest": score(0.3)}) == "random_forest"
