"""The local lineage store: files in the lake's ``governance`` zone, readable by anyone.

    <lake>/governance/lineage/runs/<job>/<run_id>.json   one declared run each (declare.py)
    <lake>/governance/lineage/graph.json                 the last gathered graph

Plain JSON rather than a Delta table: a run is written whole by one job (an S3 PUT or a local
rename is atomic), the graph is small, and an auditor reads it without Spark. The dbt manifest
comes from the last ``lakehouse transform`` (or is made with ``dbt parse``, which needs no
Spark, when there was none).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from governance.lineage.model import Graph
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles, list_files

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_.=-]")


class LineageStore:
    """Declared runs and the gathered graph of one lake."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = f"{settings.zone('governance')}/lineage"
        self.files = LakeFiles(settings)

    def run_path(self, job: str, run_id: str) -> str:
        """Where a run's record lives (names made safe for file systems and S3 keys)."""
        return f"{self.root}/runs/{_SAFE.sub('_', job)}/{_SAFE.sub('_', run_id)}.json"

    def save_run(self, record: dict[str, Any]) -> bool:
        """Write a run's record; False (nothing written) when the same record is there."""
        path = self.run_path(record["job"], record["run_id"])
        data = _dumps(record)
        if self.files.exists(path) and self.files.read(path) == data:
            return False
        self.files.write(path, data)
        return True

    def runs(self) -> list[dict[str, Any]]:
        """Every declared run, in path order."""
        return [
            json.loads(self.files.read(f.path))
            for f in list_files(self.settings, f"{self.root}/runs")
            if f.path.endswith(".json")
        ]

    def save_graph(self, graph: Graph) -> str:
        """Write the gathered graph (same graph, same bytes: re-gathering changes nothing)."""
        path = f"{self.root}/graph.json"
        data = _dumps(graph.to_json())
        if not (self.files.exists(path) and self.files.read(path) == data):
            self.files.write(path, data)
        return path


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def load_manifest(settings: Settings, *, parse_if_missing: bool = True) -> dict | None:
    """dbt's manifest of the last transform; made with ``dbt parse`` (no Spark) if missing."""
    from lakehouse.catalog import local_state_dir

    path = local_state_dir(settings) / "dbt" / "target" / "manifest.json"
    if not path.exists() and parse_if_missing:
        _dbt_parse(settings)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _dbt_parse(settings: Settings) -> None:
    """``dbt parse`` in this process: reads the project, writes the manifest, starts no Spark."""
    from dbt.cli.main import dbtRunner

    from lakehouse.transform import dbt_args

    result = dbtRunner().invoke([*dbt_args(settings, "parse"), "--quiet", "--no-use-colors"])
    if not result.success:
        log.warning("dbt parse failed: %s (lineage without the dbt models)", result.exception)


def manifest_path_hint(settings: Settings) -> Path:
    """Where :func:`load_manifest` looks (for messages)."""
    from lakehouse.catalog import local_state_dir

    return local_state_dir(settings) / "dbt" / "target" / "manifest.json"
