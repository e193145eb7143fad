"""The report opens in headless Chromium (Debian's package) and its plots render."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from governance.dq.report import COLOURS, RunPoint, write_report
from governance.dq.results import CheckResult

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium")
# The flags headless Chromium needs on these machines (closed network, root, no GPU).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def sample_results() -> list[CheckResult]:
    return [
        CheckResult(
            "silver.stg_hr__shifts", "shift_id:not_null", "shift_id", "nullability", 500, 0, 0.0
        ),
        CheckResult("silver.stg_erp__payments", "amount:ge_0", "amount", "range", 1000, 0, 0.0),
        CheckResult(
            "silver.stg_erp__payments",
            "currency:isin",
            "currency",
            "allowed_values",
            1000,
            40,
            0.0,
            examples=('{"currency":"XXX"}',),
        ),
        CheckResult(
            "bronze.cms_declarations",
            "items.hs_code:not_withdrawn",
            "items[].hs_code",
            "allowed_values",
            2000,
            30,
            0.1,
        ),
    ]


def screenshot(page: Path, out: Path, tmp: Path) -> None:
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            f"--screenshot={out}",
            "--window-size=1200,2600",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def colour_pixels(png: Path, hex_colour: str) -> int:
    from PIL import Image

    target = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(png).convert("RGB")
    return sum(
        n
        for n, rgb in image.getcolors(maxcolors=1 << 24)
        if max(abs(a - b) for a, b in zip(rgb, target, strict=True)) <= 8
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (bootstrap --test)"
)
def test_report_plots_render_in_headless_chromium(tmp_path: Path) -> None:
    history = [RunPoint(f"r{i}", f"2026-11-{i:02d}", 0.8 + i / 200, i) for i in range(1, 31)]
    html, js = write_report(sample_results(), history, "run1", tmp_path / "report")
    data = json.loads(js.read_text())
    assert data["tables"]["silver.stg_erp__payments"]["pass_rate"] == 0.5
    assert len(data["trend"]) == 30
    assert "<script" not in html.read_text() and "http" not in html.read_text().split("<svg")[0]

    shot = tmp_path / "shot.png"
    screenshot(html, shot, tmp_path)
    # Each plot draws with its own colour: bars of failing, warning and passing checks, and the
    # trend line. Hundreds of pixels of each mean the SVGs were drawn, not just embedded.
    for name in ("fail", "warn", "pass", "trend"):
        assert colour_pixels(shot, COLOURS[name]) > 500, f"{name} colour missing: plot not drawn"


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (bootstrap --test)"
)
def test_a_page_without_plots_has_none_of_their_colours(tmp_path: Path) -> None:
    """The pixel test can fail: a page without the SVGs shows none of the plot colours."""
    html, _ = write_report(sample_results(), [], "run2", tmp_path / "report")
    stripped = tmp_path / "stripped.html"
    text = html.read_text()
    while "<svg" in text:
        text = text[: text.index("<svg")] + text[text.index("</svg>") + 6 :]
    stripped.write_text(text)
    shot = tmp_path / "shot.png"
    screenshot(stripped, shot, tmp_path)
    assert colour_pixels(shot, COLOURS["trend"]) < 50
