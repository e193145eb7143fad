"""The data-quality report of a run: ``dq_report.html`` (self-contained) and ``dq_report.json``.

Why SVG from matplotlib inlined into the page: the report is mailed and archived, so it must
open anywhere without a network or a script; inline SVG keeps every plot in the one file and
stays sharp when zoomed. The JSON holds the same figures for machines (and tests).
"""

from __future__ import annotations

import html
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.dq.results import FAIL, PASS, WARN, CheckResult, gate

# The bar colours: the browser test looks for these pixels in a screenshot of the page.
COLOURS = {PASS: "#2e8b57", WARN: "#e6a100", FAIL: "#c0392b", "trend": "#1f5fbf"}
TREND_RUNS = 30
WORST = 10


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One past run in the trend: when, and the share of its checks that passed."""

    run_id: str
    run_at: str
    pass_rate: float
    rows_failed: int


def figures(results: list[CheckResult], history: list[RunPoint], run_id: str) -> dict[str, Any]:
    """Every figure the report shows, as plain data (what ``dq_report.json`` holds)."""
    verdict = gate(results)
    per_table: dict[str, list[CheckResult]] = defaultdict(list)
    for result in results:
        per_table[result.table].append(result)
    worst = sorted((r for r in results if r.rows_failed), key=lambda r: -r.failure_rate)[:WORST]
    return {
        "run_id": run_id,
        "verdict": {"passed": verdict.passed, "message": verdict.message(), "zones": verdict.zones},
        "tables": {
            table: {
                "pass_rate": sum(r.status == PASS for r in rows) / len(rows),
                "rows_checked": max(r.rows_checked for r in rows),
                "checks": {
                    r.check: {
                        "status": r.status,
                        "rows_failed": r.rows_failed,
                        "failure_rate": r.failure_rate,
                        "max_rate": r.max_rate,
                    }
                    for r in rows
                },
            }
            for table, rows in sorted(per_table.items())
        },
        "failed_rows_per_check": {
            f"{r.table}:{r.check}": r.rows_failed for r in results if r.rows_failed
        },
        "worst_offenders": [
            {
                "table": r.table,
                "check": r.check,
                "failure_rate": r.failure_rate,
                "rows_failed": r.rows_failed,
                "status": r.status,
                "examples": list(r.examples),
            }
            for r in worst
        ],
        "trend": [_point(p) for p in history[-TREND_RUNS:]],
    }


def _point(p: RunPoint) -> dict[str, Any]:
    return {
        "run_id": p.run_id,
        "run_at": p.run_at,
        "pass_rate": p.pass_rate,
        "rows_failed": p.rows_failed,
    }


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _bars(labels: list[str], values: list[float], colours: list[str], xlabel: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(labels), 3) + 1))
    ax.barh(labels or ["(none)"], values or [0], color=colours or [COLOURS[PASS]])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    return _svg(fig)


def _trend(points: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    xs = list(range(1, len(points) + 1))
    ax.plot(
        xs, [p["pass_rate"] * 100 for p in points], marker="o", linewidth=3, color=COLOURS["trend"]
    )
    ax.set_ylim(0, 105)
    ax.set_xlabel(f"run (last {TREND_RUNS})")
    ax.set_ylabel("checks passed (%)")
    return _svg(fig)


def _status_colour(rows: list[dict[str, Any]]) -> str:
    statuses = {c["status"] for c in rows}
    return (
        COLOURS[FAIL] if FAIL in statuses else COLOURS[WARN] if WARN in statuses else COLOURS[PASS]
    )


def render_html(data: dict[str, Any]) -> str:
    """The self-contained page: verdict, plots, per-check table, worst offenders."""
    tables = data["tables"]
    names = list(tables)
    table_plot = _bars(
        names,
        [tables[t]["pass_rate"] * 100 for t in names],
        [_status_colour(list(tables[t]["checks"].values())) for t in names],
        "checks passed (%)",
    )
    failed = sorted(data["failed_rows_per_check"].items(), key=lambda kv: -kv[1])[:20]
    status = {f"{t}:{c}": v["status"] for t in names for c, v in tables[t]["checks"].items()}
    failed_plot = _bars(
        [k for k, _ in failed],
        [v for _, v in failed],
        [COLOURS[status.get(k, FAIL)] for k, _ in failed],
        "failed rows",
    )
    trend_plot = _trend(data["trend"])
    esc = html.escape
    zone_items = "".join(f"<li>{esc(line)}</li>" for line in data["verdict"]["zones"].values())
    check_rows = "".join(
        f"<tr class='{v['status']}'><td>{esc(t)}</td><td>{esc(c)}</td><td>{v['status']}</td>"
        f"<td>{v['rows_failed']:,}</td><td>{v['failure_rate']:.3%}</td><td>{v['max_rate']:.3%}</td></tr>"
        for t in names
        for c, v in tables[t]["checks"].items()
    )
    worst_rows = "".join(
        f"<tr class='{w['status']}'><td>{esc(w['table'])}</td><td>{esc(w['check'])}</td>"
        f"<td>{w['failure_rate']:.3%}</td><td>{w['rows_failed']:,}</td>"
        f"<td><code>{esc(' | '.join(w['examples'])[:400])}</code></td></tr>"
        for w in data["worst_offenders"]
    )
    verdict_class = PASS if data["verdict"]["passed"] else FAIL
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality - run {esc(data["run_id"])}</title>
<style>
body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}} .fail td{{background:#f8d7da}}
.warn td{{background:#fff3cd}} .verdict{{font-size:20px;padding:8px}}
.verdict.pass{{background:#d4edda}} .verdict.fail{{background:#f8d7da}}
svg{{max-width:100%;height:auto}}
</style></head><body>
<h1>Data quality report</h1>
<p class="verdict {verdict_class}">{esc(data["verdict"]["message"])}</p>
<ul>{zone_items}</ul>
<h2>Pass rate per table</h2><div class="plot" id="plot-tables">{table_plot}</div>
<h2>Failed rows per check</h2><div class="plot" id="plot-failed">{failed_plot}</div>
<h2>Trend over the last {TREND_RUNS} runs</h2><div class="plot" id="plot-trend">{trend_plot}</div>
<h2>Worst offenders</h2>
<table><tr><th>table</th><th>check</th><th>rate</th><th>rows</th><th>examples</th></tr>{worst_rows}</table>
<h2>Every check</h2>
<table><tr><th>table</th><th>check</th><th>status</th><th>failed rows</th><th>rate</th>
<th>threshold</th></tr>{check_rows}</table>
</body></html>
"""


def write_report(
    results: list[CheckResult], history: list[RunPoint], run_id: str, out_dir: Path
) -> tuple[Path, Path]:
    """Write ``dq_report.html`` and ``dq_report.json`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = figures(results, history, run_id)
    json_path, html_path = out_dir / "dq_report.json", out_dir / "dq_report.html"
    json_path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return html_path, json_path
