"""Show a lineage graph: as text (one line per edge, by layer) and as an SVG image.

The SVG is drawn here, without Graphviz (a system binary the project does not install): nodes
are placed in columns by their distance from the graph's sources, which for a data flow reads
left to right as source system -> landing -> bronze -> silver -> gold -> export.
"""

from __future__ import annotations

from html import escape

from governance.lineage.model import Graph

_COLOURS = {
    "source_system": "#f4d35e",
    "landing_feed": "#ee964b",
    "table": "#8ecae6",
    "ml_model": "#b5e48c",
    "export": "#f28482",
    "external_table": "#cdb4db",
    "nifi_flow": "#ffffff",
    "bronze_ingest": "#ffffff",
    "dbt_model": "#ffffff",
    "spark_job": "#ffffff",
}
_W, _H, _GAP_X, _GAP_Y = 230, 34, 70, 14


def edges(graph: Graph) -> list[tuple[str, str]]:
    """Dataset/process name pairs (input -> process -> output), without columns."""
    out = []
    for p in graph.processes.values():
        out += [(i, p.qualified_name) for i in p.inputs]
        out += [(p.qualified_name, o) for o in p.outputs]
    return out


def layers(graph: Graph) -> dict[str, int]:
    """Each node's column: the longest path to it from a node with no inputs."""
    links = edges(graph)
    nodes = {n for e in links for n in e} or set(_tables(graph))
    depth = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # longest path by relaxation; the graph is acyclic
        changed = False
        for a, b in links:
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    # A side input (read by a process, produced outside this view) sits just before its reader.
    has_input = {b for _, b in links}
    for node in nodes - has_input:
        readers = [depth[b] for a, b in links if a == node]
        if readers:
            depth[node] = max(0, min(readers) - 1)
    return depth


def _tables(graph: Graph) -> list[str]:
    return [n for n, d in graph.datasets.items() if d.kind != "column"]


def label(graph: Graph, node: str) -> str:
    """A node's short label: its kind and name."""
    item = graph.datasets.get(node) or graph.processes.get(node)
    return f"{item.kind}: {item.name}" if item else node


def text(graph: Graph, focus: str) -> str:
    """One line per process, in flow order: inputs -> [process] -> outputs."""
    depth = layers(graph)
    lines = [f"lineage of {label(graph, focus)}"]
    for p in sorted(
        graph.processes.values(), key=lambda p: (depth.get(p.qualified_name, 0), p.name)
    ):
        ins = ", ".join(graph.datasets[i].name if i in graph.datasets else i for i in p.inputs)
        outs = ", ".join(graph.datasets[o].name if o in graph.datasets else o for o in p.outputs)
        lines.append(f"  {ins or '-'}  ->  [{p.kind} {p.name}]  ->  {outs}")
    if len(lines) == 1:
        lines.append("  (no process reads or writes it)")
    return "\n".join(lines)


def svg(graph: Graph, focus: str) -> str:
    """The graph as a standalone SVG document (focus node outlined in red)."""
    depth = layers(graph)
    columns: dict[int, list[str]] = {}
    for node in sorted(depth, key=lambda n: label(graph, n)):
        columns.setdefault(depth[node], []).append(node)
    pos = {
        node: (20 + col * (_W + _GAP_X), 20 + row * (_H + _GAP_Y))
        for col, nodes in columns.items()
        for row, node in enumerate(nodes)
    }
    width = 40 + (max(columns, default=0) + 1) * (_W + _GAP_X)
    height = 40 + max((len(v) for v in columns.values()), default=1) * (_H + _GAP_Y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        f"<title>{escape(label(graph, focus))}</title>",
    ]
    for a, b in edges(graph):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(
            f'<line x1="{x1 + _W}" y1="{y1 + _H / 2}" x2="{x2}" y2="{y2 + _H / 2}" '
            'stroke="#555" marker-end="url(#arrow)"/>'
        )
    for node, (x, y) in pos.items():
        item = graph.datasets.get(node) or graph.processes.get(node)
        kind = item.kind if item else ""
        stroke = "#d00000" if node == focus else "#333"
        rx = 14 if node in graph.processes else 3
        parts.append(
            f'<g><title>{escape(node)}</title><rect x="{x}" y="{y}" width="{_W}" height="{_H}" '
            f'rx="{rx}" fill="{_COLOURS.get(kind, "#eee")}" stroke="{stroke}"/>'
            f'<text x="{x + 8}" y="{y + 21}">{escape(_fit(label(graph, node)))}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _fit(value: str, limit: int = 38) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
