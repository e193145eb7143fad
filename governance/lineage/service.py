"""What the ``lakehouse lineage`` command does, without the command line: gather, show, trace.

Each function returns a small result object (``text()`` for the console, fields for JSON and
tests), so the CLI stays a thin edge and the demo or a job can call the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.lineage import render
from governance.lineage.collect import gather
from governance.lineage.model import Graph, table_name
from governance.lineage.store import LineageStore, load_manifest
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles


class UnknownTableError(LakehouseError):
    """The table is not in the lineage graph."""

    template = "{table} is not in the lineage graph: {fix}"


class NoExportError(LakehouseError):
    """No export run was declared for the date."""

    template = "no export run for {day} in the lineage store ({where}): {fix}"


def gathered(settings: Settings) -> Graph:
    """The whole graph of this lake, also written to the lake's lineage store."""
    store = LineageStore(settings)
    graph = gather(load_manifest(settings), store.runs())
    store.save_graph(graph)
    return graph


@dataclass(slots=True)
class ShowResult:
    """The part of the graph around one table, and where its image was written."""

    table: str
    direction: str
    datasets: list[str]
    processes: list[str]
    image: str
    rendered: str = field(repr=False, default="")

    def text(self) -> str:
        """The printed graph and the image's path."""
        return f"{self.rendered}\nimage: {self.image}"


def show(settings: Settings, table: str, *, up: bool, down: bool, image: str | None) -> ShowResult:
    """Lineage of ``zone.table`` upstream, downstream or both; draws it as SVG."""
    graph = gathered(settings)
    focus = table if "://" in table else table_name(*_zone_table(table))
    if focus not in graph.datasets:
        known = sorted(d.name for d in graph.datasets.values() if d.kind == "table")
        raise UnknownTableError(table=table, fix=f"known tables include {', '.join(known[:8])}")
    both = up == down
    sub = Graph()
    if up or both:
        sub.extend([*graph.walk(focus, upstream=True).datasets.values()])
        sub.extend([*graph.walk(focus, upstream=True).processes.values()])
    if down or both:
        sub.extend([*graph.walk(focus, upstream=False).datasets.values()])
        sub.extend([*graph.walk(focus, upstream=False).processes.values()])
    sub.add(graph.datasets[focus])
    direction = "both" if both else ("up" if up else "down")
    path = image or f"{LineageStore(settings).root}/views/{table.replace('/', '_')}-{direction}.svg"
    _write(settings, path, render.svg(sub, focus))
    return ShowResult(
        table, direction, sorted(sub.datasets), sorted(sub.processes), path, render.text(sub, focus)
    )


def _zone_table(name: str) -> tuple[str, str]:
    zone, _, table = name.partition(".")
    if not table:
        raise UnknownTableError(table=name, fix="name it zone.table, e.g. gold.fct_declarations")
    return zone, table


def _write(settings: Settings, path: str, content: str) -> None:
    if "://" in path:
        LakeFiles(settings).write(path, content.encode())
    else:
        from pathlib import Path

        Path(path).write_text(content, encoding="utf-8")


@dataclass(slots=True)
class TraceResult:
    """One night's export walked back to its flows and source systems."""

    export_date: str
    runs: list[str]
    flows: list[str]
    source_systems: list[str]
    tables: list[str]
    rendered: str = field(repr=False, default="")

    def text(self) -> str:
        """The chain, then the flows and source systems it starts from."""
        return (
            f"{self.rendered}\n"
            f"export {self.export_date}: {len(self.tables)} tables, "
            f"flows {', '.join(self.flows) or '-'}; source systems "
            f"{', '.join(self.source_systems) or '-'}"
        )


def trace(settings: Settings, export_date: str) -> TraceResult:
    """Walk the export runs declared for ``export_date`` back to NiFi flows and source systems."""
    graph = gathered(settings)
    runs = [
        p
        for p in graph.processes.values()
        if p.kind == "spark_job" and ("export_date", export_date) in p.attributes
    ]
    if not runs:
        raise NoExportError(
            day=export_date,
            where=LineageStore(settings).root,
            fix="run the export for that date (it declares its inputs and outputs)",
        )
    sub = Graph()
    for run in runs:
        sub.add(run)
        # Back from what it read; forward from what it wrote (the outbound flow to the CMS).
        walks = [graph.walk(n, upstream=True) for n in run.inputs]
        walks += [graph.walk(n, upstream=False) for n in run.outputs]
        for walk in walks:
            sub.extend([*walk.datasets.values(), *walk.processes.values()])
    return TraceResult(
        export_date,
        sorted(r.name for r in runs),
        sorted(p.name for p in sub.processes.values() if p.kind == "nifi_flow"),
        sorted(d.name for d in sub.datasets.values() if d.kind == "source_system"),
        sorted(d.name for d in sub.datasets.values() if d.kind == "table"),
        render.text(sub, runs[0].qualified_name),
    )
