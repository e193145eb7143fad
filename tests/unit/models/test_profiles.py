"""The profiles' fitted table on counts whose answers are known (no JVM: the table is built on
the driver from the aggregated rows), including the out-of-fold tables the classifier's own
training rows are encoded with."""

from __future__ import annotations

from collections import namedtuple

import pytest

from spark_jobs.train.features import PROFILE_KEYS, _profile_table

pytestmark = pytest.mark.unit

Counted = namedtuple("Counted", "col val fold pos n_lab n unpaid")
IMPORTER, OFFICE = PROFILE_KEYS[0], PROFILE_KEYS[2]


def counts() -> list[Counted]:
    """Importer A: fold 0 one hit in two inspections (of 5 declarations), fold 1 two hits in
    two (of 3); importer B: fold 1 nothing found in 4 (of 12). One office holds them all."""
    return [
        Counted(IMPORTER, "A", 0, 1.0, 2, 5, 1.0),
        Counted(IMPORTER, "A", 1, 2.0, 2, 3, 0.0),
        Counted(IMPORTER, "B", 1, 0.0, 4, 12, 3.0),
        Counted(OFFICE, "X", 0, 1.0, 2, 5, 1.0),
        Counted(OFFICE, "X", 1, 2.0, 6, 15, 3.0),
    ]


def test_a_key_counted_in_several_folds_is_summed_and_priors_count_each_row_once() -> None:
    table = _profile_table(counts())
    assert table["keys"][IMPORTER]["A"] == [3.0, 4, 8, 1.0]
    assert table["keys"][OFFICE]["X"] == [3.0, 8, 20, 4.0]
    assert table["prior"] == pytest.approx(3 / 8)  # through the first key only, not twice
    assert table["pay_prior"] == pytest.approx(4 / 20)


def test_the_out_of_fold_table_of_a_fold_holds_nothing_of_that_fold() -> None:
    held_out = _profile_table([r for r in counts() if r.fold != 1])  # fold 1's own table
    assert held_out["keys"][IMPORTER] == {"A": [1.0, 2, 5, 1.0]}  # B exists only in fold 1
    assert held_out["prior"] == pytest.approx(1 / 2)
    assert held_out["pay_prior"] == pytest.approx(1 / 5)
