"""Gather the lineage graph from what already describes the data flow; nothing typed by hand.

- NiFi flow definitions (``nifi_flows/flows/*.json``): each flow's source processor and the
  ``lakehouse.system``/``lakehouse.feed`` attributes it tags files with give
  source system -> flow -> landing feed; an outbound flow (tagged ``lakehouse.exported_at``)
  gives export folder -> flow -> its drop.
- The bronze parsers (:func:`feed_tables`): landing feed -> bronze tables (+ quarantine).
- dbt's ``manifest.json``: source/seed/model -> model, and the columns dbt documents.
- Declared runs (:mod:`.declare`, read from the store): train, score and export jobs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from governance.lineage.model import Dataset, Graph, Process, column_name, table_name

FLOWS_DIR = Path(__file__).resolve().parents[2] / "nifi_flows" / "flows"
_SOURCE_PREFIXES = ("List", "Consume", "Listen", "Query", "Get", "Invoke", "Fetch")
_SINK_PREFIXES = ("Put", "Publish")
# Properties naming where a source processor reads or a sink writes (NiFi's own names).
_ENDPOINT_PROPERTIES = (
    "Input Directory",
    "Topic Filter",
    "Table Name",
    "Remote URL",
    "Listening Port",
    "Directory",
    "Topic Name",
    "Bucket",
)


def source_system(system: str) -> Dataset:
    """The dataset standing for one source system (CMS, ECTS, ERP, HR)."""
    return Dataset(f"source://{system}", "source_system", system.upper(), "source system")


def landing_feed(key: str) -> Dataset:
    """The landing folder of one feed (``system/feed``)."""
    return Dataset(f"landing://{key}", "landing_feed", key, "landed files of the feed")


def outbound_folder(feed: str) -> Dataset:
    """The outbound folder the export job writes and the outbound NiFi flow reads."""
    return Dataset(f"outbound://{feed}", "export", f"outbound/{feed}", "outbound files")


# -- NiFi ----------------------------------------------------------------------------------


def nifi_lineage(flows_dir: Path = FLOWS_DIR) -> Iterator[Dataset | Process]:
    """Datasets and processes of every flow definition in ``flows_dir``."""
    for path in sorted(flows_dir.glob("*.json")):
        yield from _flow_lineage(path.stem, json.loads(path.read_text(encoding="utf-8")))


def _processors(group: dict) -> Iterator[dict]:
    yield from group.get("processors", [])
    for child in group.get("processGroups", []):
        yield from _processors(child)


def _flow_lineage(stem: str, definition: dict) -> Iterator[Dataset | Process]:
    contents = definition.get("flowContents", definition)
    processors = list(_processors(contents))
    tags = [
        p.get("properties", {}) for p in processors if "lakehouse.system" in p.get("properties", {})
    ]
    source = _endpoint(processors, _SOURCE_PREFIXES)
    sink = _endpoint(processors, _SINK_PREFIXES)
    exported = any("lakehouse.exported_at" in t for t in tags)
    feeds = sorted(
        {f"{t['lakehouse.system']}/{t['lakehouse.feed']}" for t in tags if "lakehouse.feed" in t}
    )
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    if exported:
        inputs = [outbound_folder(key.split("/", 1)[1]) for key in feeds]
        outputs = [_endpoint_dataset(stem, sink)]
    elif feeds:
        inputs = [source_system(s) for s in sorted({key.split("/")[0] for key in feeds})]
        outputs = [landing_feed(key) for key in feeds]
    else:  # a flow that does not land files (e.g. a stream to Kafka): source system by name
        inputs = [source_system(stem.split("_")[0])]
        outputs = [_endpoint_dataset(stem, sink)]
    yield from inputs
    yield from outputs
    yield Process(
        f"nifi://{stem}",
        "nifi_flow",
        contents.get("name") or stem,
        tuple(d.qualified_name for d in inputs),
        tuple(d.qualified_name for d in outputs),
        (contents.get("comments") or "").strip(),
        (("source", f"{source[0]} {source[1]}".strip()), ("sink", f"{sink[0]} {sink[1]}".strip())),
    )


def _endpoint(processors: list[dict], prefixes: tuple[str, ...]) -> tuple[str, str]:
    """(processor type, where it reads or writes) of the first source or sink processor."""
    for p in processors:
        kind = p.get("type", "").rsplit(".", 1)[-1]
        if kind.startswith(prefixes):
            props = p.get("properties", {})
            where = next((props[k] for k in _ENDPOINT_PROPERTIES if props.get(k)), "")
            return kind, where
    return "", ""


def _endpoint_dataset(stem: str, sink: tuple[str, str]) -> Dataset:
    """A flow's destination outside the lake, named by its parameter (``#{scores.cms.drop}``)."""
    kind, where = sink
    param = re.fullmatch(r"#\{([^}]+)\}", where)
    name = param.group(1) if param else (where or stem)
    return Dataset(f"external://{name}", "external_table", name, f"{kind} destination of {stem}")


# -- bronze --------------------------------------------------------------------------------


def feed_tables() -> dict[str, tuple[str, ...]]:
    """Landing feed -> the bronze tables its parser writes, read from the parsers themselves.

    The parsers route records by message type (EDIFACT, WCO XML) or by record kind (HR); the
    JSON feeds of one table name it. Every feed may also write ``bronze.quarantine``.
    """
    from lakehouse.formats import customs_edifact, json_feeds, wco_xml
    from lakehouse.landing import FEEDS

    routed = {
        "cms/edifact": tuple(customs_edifact.TABLE_BY_MESSAGE_TYPE.values()),
        "cms/xml": (wco_xml.TABLE, wco_xml.RESPONSE_TABLE),
        "cms/json": ("cms_declarations",),  # parse_cms_json_declarations: one table
        "hr/records": tuple(json_feeds._HR_TABLES.values()),
    }
    out: dict[str, tuple[str, ...]] = {}
    for key in FEEDS:
        feed = json_feeds._feeds().get(key)
        tables = routed.get(key) or ((feed.table,) if feed is not None and feed.table else ())
        out[key] = tuple(dict.fromkeys(tables))
    return out


def bronze_lineage() -> Iterator[Dataset | Process]:
    """Landing feed -> bronze ingestion -> bronze tables (with their columns)."""
    from lakehouse.tables import BRONZE, QUARANTINE, split_ddl

    for spec in (*BRONZE.values(), QUARANTINE):
        yield from _table_with_columns(
            spec.zone,
            spec.name,
            spec.description,
            [part.split()[0] for part in split_ddl(spec.columns_ddl)],
        )
    quarantine = table_name(QUARANTINE.zone, QUARANTINE.name)
    for key, tables in sorted(feed_tables().items()):
        feed = landing_feed(key)
        yield feed
        yield Process(
            f"job://bronze_ingest/{key}",
            "bronze_ingest",
            f"bronze ingest {key}",
            (feed.qualified_name,),
            (*(table_name("bronze", t) for t in tables), quarantine),
            "lakehouse ingest: parse landed files into bronze Delta tables",
        )


def _table_with_columns(
    zone: str, table: str, description: str, columns: list[str]
) -> Iterator[Dataset]:
    parent = table_name(zone, table)
    yield Dataset(parent, "table", f"{zone}.{table}", description)
    for column in columns:
        yield Dataset(column_name(zone, table, column), "column", column, "", parent)


# -- dbt -----------------------------------------------------------------------------------


def dbt_lineage(manifest: dict) -> Iterator[Dataset | Process]:
    """Model and seed -> table processes from dbt's manifest (schema v12)."""
    names = {uid: _dbt_table(node) for uid, node in _dbt_nodes(manifest)}
    for uid, source in manifest.get("sources", {}).items():
        names[uid] = table_name(source["schema"], source["name"])
    for uid, node in _dbt_nodes(manifest):
        zone, table = node["schema"], node.get("alias") or node["name"]
        columns = list(node.get("columns", {}))
        yield from _table_with_columns(zone, table, node.get("description", ""), columns)
        inputs = tuple(names[d] for d in node.get("depends_on", {}).get("nodes", []) if d in names)
        yield Process(
            f"dbt://{uid}",
            "dbt_model",
            node["name"],
            inputs,
            (table_name(zone, table),),
            node.get("description", ""),
            (
                ("materialized", str(node.get("config", {}).get("materialized", ""))),
                ("path", node.get("original_file_path", "")),
            ),
        )


def _dbt_nodes(manifest: dict) -> Iterator[tuple[str, dict]]:
    for uid, node in sorted(manifest.get("nodes", {}).items()):
        if node.get("resource_type") in ("model", "seed"):
            yield uid, node


def _dbt_table(node: dict) -> str:
    return table_name(node["schema"], node.get("alias") or node["name"])


def gather(manifest: dict | None, runs: list[dict], flows_dir: Path = FLOWS_DIR) -> Graph:
    """The whole graph: NiFi, bronze, dbt (when a manifest is given) and declared runs."""
    from governance.lineage.declare import run_lineage

    graph = Graph().extend(nifi_lineage(flows_dir)).extend(bronze_lineage())
    if manifest is not None:
        graph.extend(dbt_lineage(manifest))
    for run in runs:
        graph.extend(run_lineage(run))
    return graph
