"""The thresholds file (``thresholds.yml``): per-check failure rates, date windows, tolerances.

One file an administration tunes without touching code. Read on first use, not at import.
``LAKEHOUSE_DQ_THRESHOLDS`` names another file to use instead of the packaged one: an
administration keeps its own limits outside the code, and a drill can tighten them for a night.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lakehouse.errors import LakehouseError

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.yml"
THRESHOLDS_ENV = "LAKEHOUSE_DQ_THRESHOLDS"


class ThresholdsError(LakehouseError, ValueError):
    """The thresholds file is missing or malformed; the message names the file or entry."""

    code = "DQ_THRESHOLDS"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Parsed ``thresholds.yml``."""

    default: float
    rules: tuple[tuple[str, float], ...]
    max_age_days: int
    max_future_hours: int
    relative_tolerance: float
    absolute_tolerance: float

    def max_rate(self, table: str, check: str) -> float:
        """The failure rate allowed for ``check`` on ``table`` (first matching pattern wins)."""
        key = f"{table}:{check}"
        for pattern, rate in self.rules:
            if fnmatch.fnmatchcase(key, pattern):
                return rate
        return self.default


def _rate(value: Any, where: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ThresholdsError(f"{where}: max_rate {value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise ThresholdsError(f"{where}: max_rate {rate} is outside 0..1")
    return rate


def parse_thresholds(doc: dict[str, Any]) -> Thresholds:
    """Validate and parse the YAML document."""
    rules = []
    for i, entry in enumerate(doc.get("checks") or []):
        if not isinstance(entry, dict) or "match" not in entry:
            raise ThresholdsError(f"checks[{i}]: expected {{match: ..., max_rate: ...}}")
        rules.append((str(entry["match"]), _rate(entry.get("max_rate"), f"checks[{i}]")))
    window = doc.get("window") or {}
    tolerance = doc.get("tolerance") or {}
    return Thresholds(
        default=_rate(doc.get("default", 0.0), "default"),
        rules=tuple(rules),
        max_age_days=int(window.get("max_age_days", 60)),
        max_future_hours=int(window.get("max_future_hours", 24)),
        relative_tolerance=float(tolerance.get("relative", 0.005)),
        absolute_tolerance=float(tolerance.get("absolute", 1.0)),
    )


def thresholds_path() -> Path:
    """The thresholds file in force: ``LAKEHOUSE_DQ_THRESHOLDS`` if set, else the packaged one."""
    return Path(os.environ.get(THRESHOLDS_ENV) or THRESHOLDS_PATH)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The thresholds in ``path`` (default: :func:`thresholds_path`), re-read when it changes."""
    path = Path(path or thresholds_path())
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ThresholdsError(f"cannot read thresholds {path}: {exc.strerror}") from exc
    return _load(path, stamp)


@functools.cache
def _load(path: Path, _stamp: int) -> Thresholds:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"cannot read thresholds {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ThresholdsError(f"thresholds {path}: expected a mapping at the top level")
    return parse_thresholds(doc)
