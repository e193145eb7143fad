"""Reference code lists the contracts check against: ISO lists and the dbt project's seeds.

Why these sources: ISO 3166 countries and ISO 4217 currencies come from ``pycountry`` (kept in
step with the ISO maintenance agencies), not a list typed in here; units (UN/ECE Rec. 20) and
the HS 2017 -> 2022 correlation are the dbt seeds, the same files silver is built from, so a
code the transformation understands is a code the contract accepts. Nothing here names a
simulator code: extend a seed and the contracts follow.
"""

from __future__ import annotations

import contextlib
import csv
import functools
from collections.abc import Iterator
from pathlib import Path

import pycountry
import yaml

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
DBT_PROJECT = SEEDS_DIR.parent / "dbt_project.yml"
_seeds_dir = [SEEDS_DIR]


class ReferenceDataError(LookupError):
    """A seed the contracts need is missing or lacks a column."""


@functools.cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@functools.cache
def currencies() -> frozenset[str]:
    """ISO 4217 alphabetic codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _seed_column(name: str, column: str) -> frozenset[str]:
    path = _seeds_dir[0] / f"{name}.csv"
    if not path.exists():
        raise ReferenceDataError(f"reference seed {path} is missing (the dbt project's seeds)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or ()):
            raise ReferenceDataError(f"seed {path} has no column {column!r}")
        return frozenset(row[column].strip().upper() for row in reader if row[column].strip())


@functools.cache
def units() -> frozenset[str]:
    """UN/ECE Recommendation 20 unit codes (seed ``unece_rec20_units``)."""
    return _seed_column("unece_rec20_units", "code")


@functools.cache
def withdrawn_hs_subheadings() -> frozenset[str]:
    """HS 2017 subheadings that HS 2022 replaced (in the correlation's hs2017 column only).

    A 2017 subheading kept unchanged in 2022 appears in both columns and stays valid.
    """
    old = _seed_column("hs_correlation_2017_2022", "hs2017")
    return old - _seed_column("hs_correlation_2017_2022", "hs2022")


@functools.cache
def response_statuses() -> tuple[str, ...]:
    """The declaration statuses silver names (the dbt var ``response_status_names``).

    The transformation maps the CMS's response status codes to these names; a code it does
    not know becomes ``status_<code>``, which no contract accepts: a new code needs a name.
    """
    try:
        project = yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReferenceDataError(f"cannot read {DBT_PROJECT}: {exc}") from exc
    names = (project.get("vars") or {}).get("response_status_names")
    if not isinstance(names, dict) or not names:
        raise ReferenceDataError(f"{DBT_PROJECT} has no var response_status_names")
    return tuple(sorted({str(name) for name in names.values()}))


def declaration_statuses() -> list[str]:
    """A current declaration's statuses: ``lodged`` until Customs answers, then the names."""
    return ["lodged", *response_statuses()]


@contextlib.contextmanager
def seeds_from(path: Path) -> Iterator[None]:
    """Read seeds from another directory for a while (tests plant their own reference data)."""
    previous = _seeds_dir[0]
    _seeds_dir[0] = Path(path)
    _clear()
    try:
        yield
    finally:
        _seeds_dir[0] = previous
        _clear()


def _clear() -> None:
    units.cache_clear()
    withdrawn_hs_subheadings.cache_clear()
