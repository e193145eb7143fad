"""The evaluation report of a model version: one self-contained HTML page (plots inlined as
SVG, no script, nothing fetched) and the same figures as JSON.

Self-contained because it is logged to MLflow and mailed around: it must open anywhere.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from governance.dq.report import _svg  # one SVG inliner for every report

COLOURS = {
    "risk_model": "#1f5fbf",
    "revenue_ranking": "#2e8b57",
    "rule_unit_value": "#e6a100",
    "random": "#8e44ad",
    "champion": "#7f8c8d",
    "bootstrap": "#c0392b",
}


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _at_k_plot(ranks: dict[str, Any], metric: str) -> str:
    fig, ax = _figure()
    shares = list(next(iter(ranks.values()))["at"])
    width = 0.8 / len(ranks)
    for i, (name, summary) in enumerate(ranks.items()):
        xs = [j + i * width for j in range(len(shares))]
        values = [summary["at"][s][metric] * 100 for s in shares]
        ax.bar(xs, values, width=width, color=COLOURS.get(name, "#333333"), label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(shares))], [f"top {s}" for s in shares])
    ax.set_ylabel(f"{metric} (%)")
    ax.legend(fontsize=8)
    return _svg(fig)


def _bootstrap_plot(spread: dict[str, Any]) -> str:
    fig, ax = _figure(5.0, 2.6)
    names = list(spread)
    means = [spread[n]["mean"] * 100 for n in names]
    low = [(spread[n]["mean"] - spread[n]["p05"]) * 100 for n in names]
    high = [(spread[n]["p95"] - spread[n]["mean"]) * 100 for n in names]
    ax.bar(names, means, yerr=[low, high], capsize=8, color=COLOURS["bootstrap"])
    ax.set_ylabel("at top 5 % (%), 90 % band")
    return _svg(fig)


def _hbar(labels: list[str], values: list[float], colour: str, xlabel: str) -> str:
    fig, ax = _figure(6.0, max(1.6, 0.28 * len(labels) + 0.8))
    ax.barh(labels or ["(none)"], values or [0.0], color=colour)
    ax.set_xlabel(xlabel)
    ax.invert_yaxis()
    return _svg(fig)


def figures(data: dict[str, Any]) -> dict[str, str]:
    """Every plot of the report as an SVG string."""
    population = data["headline"]["population"]
    pop = data["populations"][population]
    plots = {
        "precision": _at_k_plot(pop["rankings"], "precision"),
        "revenue": _at_k_plot(pop["rankings"], "revenue"),
        "bootstrap": _bootstrap_plot(pop["bootstrap"]),
    }
    for group, rows in data["fairness"].items():
        plots[f"fairness_{group}"] = _hbar(
            [r["group"] for r in rows],
            [r["selection_rate"] * 100 for r in rows],
            COLOURS["risk_model"],
            f"selected in top 5 % (%), by {group}",
        )
    drift = sorted(data["psi"].items(), key=lambda kv: -kv[1])[:15]
    plots["psi"] = _hbar(
        [k for k, _ in drift], [v for _, v in drift], COLOURS["rule_unit_value"], "PSI vs training"
    )
    return plots


def render_html(data: dict[str, Any], title: str) -> str:
    """The page: headline table, the plots, fairness and drift tables."""
    plots = figures(data)
    h = data["headline"]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{v['precision']:.1%}</td>"
        f"<td>{v['revenue']:.1%}</td></tr>"
        for name, v in h.items()
        if isinstance(v, dict)
    )
    fair = "".join(
        f"<tr><td>{g}</td><td>{html.escape(r['group'])}</td><td>{r['n']}</td>"
        f"<td>{r['selection_rate']:.1%}</td><td>{_pct(r['precision_inspected'])}</td>"
        f"<td>{_pct(r.get('precision_truth'))}</td></tr>"
        for g, group_rows in data["fairness"].items()
        for r in group_rows
    )
    sections = "".join(
        f"<h2>{html.escape(name.replace('_', ' '))}</h2>{svg}" for name, svg in plots.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px}}
svg{{max-width:100%;height:auto}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Test window: {data["n_test"]} declarations. Headline population: {h["population"]}
(selection bias: precision of the top 5 % on inspected declarations
{_pct(h.get("risk_model_precision_on_inspected"))}).</p>
<table><tr><th>ranking</th><th>precision at 5 %</th><th>revenue at 5 %</th></tr>{rows}</table>
{sections}
<h2>fairness table</h2>
<table><tr><th>by</th><th>group</th><th>n</th><th>selected</th><th>precision (inspected)</th>
<th>precision (truth)</th></tr>{fair}</table>
</body></html>
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def write_report(data: dict[str, Any], folder: Path, title: str) -> tuple[Path, Path]:
    """Write ``evaluation.html`` and ``evaluation.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "evaluation.html"
    page.write_text(render_html(data, title), encoding="utf-8")
    js = folder / "evaluation.json"
    js.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return page, js
