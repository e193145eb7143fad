"""The table catalogue: every table the ingestion writes names real columns for its statistics."""

from __future__ import annotations

import pytest

from lakehouse.formats.json_feeds import _split_top
from lakehouse.tables import BRONZE, FILE_LOG, INGEST_STRUCT, QUARANTINE, STATS_COLUMNS

pytestmark = pytest.mark.unit


def _column_names(ddl: str) -> set[str]:
    return {part.split(None, 1)[0] for part in _split_top(ddl)}


@pytest.mark.parametrize("spec", [*BRONZE.values(), QUARANTINE, FILE_LOG], ids=lambda s: s.name)
def test_stats_columns_exist_in_the_table(spec) -> None:
    ingest = {f"_ingest.{name.split(':')[0].strip()}" for name in INGEST_STRUCT[7:-1].split(",")}
    known = _column_names(spec.ddl) | (ingest if spec.name in BRONZE else set())
    columns = STATS_COLUMNS[spec.name]
    assert columns, spec.name
    assert set(columns) <= known, set(columns) - known
