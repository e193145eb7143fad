"""Publish the lineage graph to Apache Atlas (v2 REST, with the ``apache-atlas`` client).

Types: one entity type per dataset kind (subtypes of Atlas's ``DataSet``) and per process kind
(subtypes of ``Process``, whose ``inputs``/``outputs`` Atlas draws as lineage), and one
relationship type, table -> columns (a composition). Entities are keyed by ``qualifiedName``.

Idempotent: a type is created only when Atlas does not have it, and an entity is sent only when
Atlas lacks it or holds different attributes, so a second publish of the same graph sends no
write at all. Datasets go before processes (and tables before their columns) so every
reference a payload makes already exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.lineage.model import Dataset, Graph, Process
from lakehouse.errors import LakehouseError

TYPE_OF = {
    "source_system": "customs_source_system",
    "landing_feed": "customs_landing_feed",
    "table": "customs_lake_table",
    "column": "customs_lake_column",
    "ml_model": "customs_ml_model",
    "export": "customs_export",
    "external_table": "customs_external_table",
    "nifi_flow": "customs_nifi_flow",
    "bronze_ingest": "customs_spark_job",
    "spark_job": "customs_spark_job",
    "dbt_model": "customs_dbt_model",
}
_PROCESS_TYPES = {"customs_nifi_flow", "customs_spark_job", "customs_dbt_model"}
_DESCRIPTIONS = {
    "customs_source_system": "A source system of the customs administration (CMS, ECTS, ERP, HR).",
    "customs_landing_feed": "The landing-zone folder of one feed of a source system.",
    "customs_lake_table": "A Delta table of the lake (bronze, silver, gold, scores).",
    "customs_lake_column": "A column of a lake table.",
    "customs_ml_model": "A trained model version (risk, revenue).",
    "customs_export": "An outbound folder of the lake (nightly score export).",
    "customs_external_table": "A destination outside the lake (CMS table, drop folder, topic).",
    "customs_nifi_flow": "A NiFi flow moving data between a source system and the lake.",
    "customs_spark_job": "A Spark job run: bronze ingestion, training, scoring, export.",
    "customs_dbt_model": "A dbt model building one silver or gold table.",
}
TABLE_COLUMNS = "customs_lake_table_columns"
BATCH = 200


class AtlasError(LakehouseError):
    """Atlas refused a request or could not be reached; the message says which and why."""


@dataclass(frozen=True, slots=True)
class AtlasConfig:
    """Where Atlas is. ``LAKEHOUSE_ATLAS_URL`` (bare host, no path: client pitfall),
    ``LAKEHOUSE_ATLAS_USER`` and ``LAKEHOUSE_ATLAS_PASSWORD`` (environment only),
    ``LAKEHOUSE_ATLAS_CA_BUNDLE`` for TLS with a private CA."""

    url: str
    user: str = ""
    password: str = field(default="", repr=False)
    ca_bundle: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, url: str | None = None) -> AtlasConfig:
        """From the environment; ``url`` (the command's ``--atlas-url``) wins."""
        env = os.environ if env is None else env
        url = url or env.get("LAKEHOUSE_ATLAS_URL", "")
        if not url:
            raise AtlasError("Atlas URL is required: set LAKEHOUSE_ATLAS_URL or give --atlas-url")
        return cls(
            url.rstrip("/"),
            env.get("LAKEHOUSE_ATLAS_USER", ""),
            env.get("LAKEHOUSE_ATLAS_PASSWORD", ""),
            env.get("LAKEHOUSE_ATLAS_CA_BUNDLE", ""),
        )


def typedefs() -> dict[str, list[dict[str, Any]]]:
    """The entity and relationship type definitions, as Atlas's ``AtlasTypesDef`` JSON."""
    entity_defs = []
    for name in sorted(set(TYPE_OF.values())):
        attributes = [_attribute("kind"), _attribute("properties", "map<string,string>")]
        if name == "customs_lake_table":
            attributes.append(_attribute("zone"))
        entity_defs.append(
            {
                "category": "ENTITY",
                "name": name,
                "description": _DESCRIPTIONS[name],
                "typeVersion": "1.0",
                "superTypes": ["Process" if name in _PROCESS_TYPES else "DataSet"],
                "attributeDefs": attributes,
            }
        )
    relationship = {
        "category": "RELATIONSHIP",
        "name": TABLE_COLUMNS,
        "description": "A lake table and its columns.",
        "typeVersion": "1.0",
        "relationshipCategory": "COMPOSITION",
        "propagateTags": "NONE",
        "endDef1": {
            "type": "customs_lake_table",
            "name": "columns",
            "isContainer": True,
            "cardinality": "SET",
            "isLegacyAttribute": False,
        },
        "endDef2": {
            "type": "customs_lake_column",
            "name": "table",
            "isContainer": False,
            "cardinality": "SINGLE",
            "isLegacyAttribute": False,
        },
    }
    return {"entityDefs": entity_defs, "relationshipDefs": [relationship]}


def _attribute(name: str, type_name: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "typeName": type_name,
        "isOptional": True,
        "cardinality": "SINGLE",
        "isUnique": False,
        "isIndexable": name != "properties",
    }


def _ref(graph: Graph, qualified_name: str) -> dict[str, Any]:
    item = graph.datasets.get(qualified_name)
    kind = item.kind if item else "external_table"
    return {"typeName": TYPE_OF[kind], "uniqueAttributes": {"qualifiedName": qualified_name}}


def entity(graph: Graph, item: Dataset | Process) -> dict[str, Any]:
    """One ``AtlasEntity`` JSON for a dataset or a process of ``graph``."""
    attributes: dict[str, Any] = {
        "qualifiedName": item.qualified_name,
        "name": item.name,
        "description": item.description,
        "kind": item.kind,
        "properties": dict(item.attributes),
    }
    payload: dict[str, Any] = {"typeName": TYPE_OF[item.kind], "attributes": attributes}
    if isinstance(item, Process):
        attributes["inputs"] = [_ref(graph, q) for q in item.inputs]
        attributes["outputs"] = [_ref(graph, q) for q in item.outputs]
    elif item.kind == "table":
        attributes["zone"] = item.name.split(".", 1)[0]
    elif item.kind == "column" and item.parent:
        payload["relationshipAttributes"] = {"table": _ref(graph, item.parent)}
    return payload


def entities_in_order(graph: Graph) -> list[list[dict[str, Any]]]:
    """Entity batches in dependency order: datasets, then columns, then processes."""
    datasets = [d for _, d in sorted(graph.datasets.items())]
    first = [entity(graph, d) for d in datasets if d.kind != "column"]
    columns = [entity(graph, d) for d in datasets if d.kind == "column"]
    processes = [entity(graph, p) for _, p in sorted(graph.processes.items())]
    return [first, columns, processes]


@dataclass(slots=True)
class PublishResult:
    """What a publish changed: types created, entities created or updated, entities unchanged."""

    types_created: list[str] = field(default_factory=list)
    entities_sent: int = 0
    entities_unchanged: int = 0

    def text(self) -> str:
        """One line for the console."""
        return (
            f"atlas: {len(self.types_created)} types created, {self.entities_sent} entities "
            f"created or updated, {self.entities_unchanged} unchanged"
        )


def client_for(config: AtlasConfig) -> Any:
    """An ``AtlasClient`` with a timeout (the client has none) and TLS verification."""
    from apache_atlas.client.base_client import AtlasClient

    client = AtlasClient(config.url, (config.user, config.password) if config.user else None)
    client.request_params["timeout"] = config.timeout
    if config.ca_bundle:
        client.session.verify = config.ca_bundle
    return client


def publish(graph: Graph, client: Any) -> PublishResult:
    """Send the types and the graph's entities that Atlas does not already hold as they are."""
    result = PublishResult()
    try:
        result.types_created = _ensure_types(client)
        for batch in entities_in_order(graph):
            changed = [e for e in batch if _differs(client, e)]
            result.entities_unchanged += len(batch) - len(changed)
            for start in range(0, len(changed), BATCH):
                client.entity.create_entities({"entities": changed[start : start + BATCH]})
            result.entities_sent += len(changed)
    except (OSError, ConnectionError) as exc:
        raise AtlasError(f"Atlas at {client.host} is unreachable: {exc}") from exc
    except Exception as exc:
        if type(exc).__name__ == "AtlasServiceException" or "requests" in type(exc).__module__:
            raise AtlasError(" ".join(str(exc).split())[:500]) from exc
        raise
    return result


def _ensure_types(client: Any) -> list[str]:
    defs = typedefs()
    missing = {
        key: [d for d in values if not client.typedef.type_with_name_exists(d["name"])]
        for key, values in defs.items()
    }
    names = [d["name"] for values in missing.values() for d in values]
    if names:
        client.typedef.create_atlas_typedefs({k: v for k, v in missing.items() if v})
    return names


def _differs(client: Any, wanted: dict[str, Any]) -> bool:
    """True when Atlas lacks the entity or holds other values for the attributes we set."""
    from apache_atlas.exceptions import AtlasServiceException

    unique = {"qualifiedName": wanted["attributes"]["qualifiedName"]}
    try:
        found = client.entity.get_entity_by_attribute(wanted["typeName"], unique, True, True)
    except AtlasServiceException as exc:
        if "status 404" in str(exc):
            return True
        raise
    have = dict((found.entity.attributes if found and found.entity else None) or {})
    for key, value in wanted["attributes"].items():
        if _plain_refs(have.get(key)) != _plain_refs(value):
            return True
    return False


def _plain_refs(value: Any) -> Any:
    """Object references compared by type and qualified name (Atlas adds guids)."""
    if isinstance(value, list):
        return [_plain_refs(v) for v in value]
    if isinstance(value, Mapping) and "typeName" in value:
        unique = value.get("uniqueAttributes") or {}
        return (value["typeName"], unique.get("qualifiedName"))
    if value is None or value == "" or value == {} or value == []:
        return None  # Atlas may drop empty values: empty is the same as absent
    return dict(value) if isinstance(value, Mapping) else value


def entity_count(batches: Iterable[list[dict[str, Any]]]) -> int:
    """How many entities the batches hold."""
    return sum(len(b) for b in batches)
