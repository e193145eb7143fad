"""The thresholds file (``thresholds.yml``): per-check failure rates, date windows, tolerances.

One file an administration tunes without touching code. Read on first use, not at import.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.yml"


class ThresholdsError(ValueError):
    """The thresholds file is malformed; the message names the entry."""


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


@functools.cache
def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    """The thresholds in ``path`` (the package's file by default)."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"cannot read thresholds {path}: {exc}") from exc
    return parse_thresholds(doc)
