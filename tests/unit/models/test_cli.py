"""The model commands refuse bad input with one line and exit 2, before any JVM starts."""

from __future__ import annotations

import pytest

from lakehouse.cli.main import main
from lakehouse.settings import load_settings

pytestmark = pytest.mark.unit


def test_train_windows_out_of_order_is_one_line_exit_2(capsys, tmp_path) -> None:
    code = main(
        [
            "train",
            "--lake-root",
            str(tmp_path),
            "--train-from",
            "2026-11-05",
            "--train-to",
            "2026-11-01",
            "--valid-to",
            "2026-11-06",
            "--test-to",
            "2026-11-07",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "train-from <= train-to < valid-to < test-to" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--gbt-iterations", "0"), ("--gbt-depth", "0"), ("--selection-rows", "5")],
)
def test_train_sizes_below_their_minimum_are_one_line_exit_2(
    capsys, tmp_path, option: str, value: str
) -> None:
    windows = ["--train-from", "2026-11-01", "--train-to", "2026-11-02"]
    windows += ["--valid-to", "2026-11-03", "--test-to", "2026-11-04"]
    code = main(["train", "--lake-root", str(tmp_path), *windows, option, value])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and option in err and "or more" in err


def test_train_settings_are_recorded_as_parameters() -> None:
    from spark_jobs.train.model import TrainConfig

    config = TrainConfig(candidates=("gbt", "logistic_regression"), gbt_iterations=10)
    params = config.as_params()
    assert params["candidates"] == "gbt,logistic_regression"
    assert params["gbt_iterations"] == "10" and params["selection_rows"] == "20000"


def test_score_needs_a_date(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["score"])
    assert exit_info.value.code == 2
    assert "--date" in capsys.readouterr().err


def test_models_promote_without_a_version_is_refused(capsys, tmp_path) -> None:
    assert main(["models", "promote", "--lake-root", str(tmp_path)]) == 2
    assert "--version is missing" in capsys.readouterr().err


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "five"])
def test_capacity_and_control_rate_must_be_shares(raw: str) -> None:
    from lakehouse.errors import SettingsError

    with pytest.raises(SettingsError, match="LAKEHOUSE_CONTROL_RATE"):
        load_settings({"LAKEHOUSE_CONTROL_RATE": raw})
    assert load_settings({"LAKEHOUSE_CONTROL_RATE": "0.02"}).control_rate == 0.02
