"""The lineage graph: datasets (things that hold data) and processes (things that move it).

The same split as Apache Atlas's ``DataSet`` and ``Process``, so publishing is a mapping and
not a translation. Every node has a qualified name that is stable across runs (Atlas's unique
attribute): re-gathering the same code and runs gives the same graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Dataset kinds and process kinds; each maps to one Atlas type (see atlas.py).
DATASET_KINDS = (
    "source_system",
    "landing_feed",
    "table",
    "column",
    "ml_model",
    "export",
    "external_table",
)
PROCESS_KINDS = ("nifi_flow", "bronze_ingest", "dbt_model", "spark_job")


@dataclass(frozen=True, slots=True)
class Dataset:
    """Something that holds data: a source system, a landing feed, a table, a model, a file."""

    qualified_name: str
    kind: str
    name: str
    description: str = ""
    parent: str = ""  # a column's table
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Process:
    """Something that reads datasets and writes others: a flow, a dbt model, a job run."""

    qualified_name: str
    kind: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    description: str = ""
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Graph:
    """Datasets and processes by qualified name; merging keeps the first of each name."""

    datasets: dict[str, Dataset] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)

    def add(self, item: Dataset | Process) -> None:
        """Add a dataset or process unless one of that name is already there."""
        if isinstance(item, Dataset):
            self.datasets.setdefault(item.qualified_name, item)
        else:
            self.processes.setdefault(item.qualified_name, item)

    def extend(self, items: Iterable[Dataset | Process]) -> Graph:
        """Add many; returns the graph for chaining."""
        for item in items:
            self.add(item)
        return self

    def producers(self, dataset: str) -> Iterator[Process]:
        """Processes that write ``dataset``."""
        return (p for p in self.processes.values() if dataset in p.outputs)

    def consumers(self, dataset: str) -> Iterator[Process]:
        """Processes that read ``dataset``."""
        return (p for p in self.processes.values() if dataset in p.inputs)

    def walk(self, start: str, *, upstream: bool) -> Graph:
        """The subgraph reachable from ``start`` going up (towards sources) or down."""
        sub = Graph()
        seen: set[str] = set()
        todo = [start]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.datasets:
                sub.add(self.datasets[name])
            steps = self.producers(name) if upstream else self.consumers(name)
            for process in steps:
                sub.add(process)
                # Its other inputs/outputs too, so every edge drawn has both ends named.
                sub.extend(
                    self.datasets[d]
                    for d in (*process.inputs, *process.outputs)
                    if d in self.datasets
                )
                todo.extend(process.inputs if upstream else process.outputs)
        return sub

    def to_json(self) -> dict:
        """A plain, sorted form (the lake store's file; stable bytes for the same graph)."""
        return {
            "datasets": [_plain(d) for _, d in sorted(self.datasets.items())],
            "processes": [_plain(p) for _, p in sorted(self.processes.items())],
        }

    @classmethod
    def from_json(cls, value: dict) -> Graph:
        """The inverse of :meth:`to_json`."""
        graph = cls()
        for d in value.get("datasets", []):
            graph.add(Dataset(**_tupled(d)))
        for p in value.get("processes", []):
            graph.add(Process(**_tupled(p)))
        return graph


def _plain(item: Dataset | Process) -> dict:
    out = {name: getattr(item, name) for name in item.__slots__}
    for key, value in out.items():
        if isinstance(value, tuple):
            out[key] = [list(v) if isinstance(v, tuple) else v for v in value]
    return out


def _tupled(value: dict) -> dict:
    out = dict(value)
    for key in ("inputs", "outputs"):
        if key in out:
            out[key] = tuple(out[key])
    if "attributes" in out:
        out["attributes"] = tuple(tuple(pair) for pair in out["attributes"])
    return out


def table_name(zone: str, table: str) -> str:
    """Qualified name of a lake table (``zone.table``, the catalog's name)."""
    return f"lake://{zone}.{table}"


def column_name(zone: str, table: str, column: str) -> str:
    """Qualified name of a lake table's column."""
    return f"lake://{zone}.{table}#{column}"
