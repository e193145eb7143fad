"""The evaluation report: figures from a known test window, and the HTML drawn by headless
Chromium (Debian's package), plots included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spark_jobs.train.evaluate import evaluate
from spark_jobs.train.report import COLOURS, write_report
from tests.integration.governance.test_report_browser import CHROMIUM, colour_pixels, screenshot

pytestmark = pytest.mark.integration


def window(n: int, seed: int) -> pd.DataFrame:
    """A test window where fraud lowers the unit value and the model sees it (with noise)."""
    rng = np.random.default_rng(seed)
    fraud = (rng.random(n) < 0.08).astype(float)
    inspected = rng.random(n) < np.where(fraud > 0, 0.4, 0.12)
    uv = rng.normal(size=n) - 2.5 * fraud
    risk = 1 / (1 + np.exp(-(3 * fraud + rng.normal(size=n) - 2)))
    evaded = fraud * rng.lognormal(10, 1, n)
    return pd.DataFrame(
        {
            "lrn": [f"L{i}" for i in range(n)],
            "label": np.where(inspected, fraud, np.nan),
            "additional_duty": np.where(inspected, evaded, 0.0),
            "risk": risk,
            "expected_revenue": risk * (evaded + rng.lognormal(8, 1, n)),
            "uv_kg_dev": uv,
            "uv_unit_dev": uv + rng.normal(scale=0.1, size=n),
            "office_code": rng.choice(["A1", "B2", "C3"], n),
            "country_of_dispatch": rng.choice(["XA", "XB", "XC", "XD"], n),
            "natural_person": (rng.random(n) < 0.1).astype(float),
            "is_fraud": fraud,
            "duty_evaded": evaded,
        }
    )


def test_figures_and_plots_render_in_headless_chromium(tmp_path: Path) -> None:
    test, train = window(4000, 1), window(4000, 2)
    data = evaluate(test, train, ["uv_kg_dev", "uv_unit_dev"])
    head = data["headline"]
    assert head["population"] == "all"
    # The model sees the planted signal: it beats random several times over at 5 %.
    assert head["risk_model"]["precision"] > 3 * head["random"]["precision"]
    assert set(data["populations"]) == {"inspected", "all"}
    assert {r["group"] for r in data["fairness"]["office"]} == {"A1", "B2", "C3"}
    assert data["psi"]["risk"] < 0.05  # same distribution in both windows
    assert len(data["populations"]["all"]["rankings"]["risk_model"]["at"]) == 4

    page, js = write_report(data, tmp_path / "report", "test window")
    assert json.loads(js.read_text())["headline"]["population"] == "all"
    text = page.read_text()
    assert "<script" not in text and text.count("<svg") >= 7
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (bootstrap --test)")
    shot = tmp_path / "shot.png"
    screenshot(page, shot, tmp_path)
    for name in ("risk_model", "rule_unit_value", "random", "bootstrap"):
        assert colour_pixels(shot, COLOURS[name]) > 300, f"{name} colour missing: plot not drawn"
