"""A stand-in for Apache Atlas's v2 REST API, for tests: Atlas itself cannot run here.

Apache Atlas needs HBase (or BerkeleyJE), Solr or Elasticsearch and Kafka and has no
distribution on Maven Central, so the tests publish to this small server instead. It keeps
type definitions and entities in memory and checks every payload the way Atlas documents it
(REST API v2: ``/api/atlas/v2/types/typedefs``, ``/types/typedef/name/{name}``,
``/entity/bulk``, ``/entity/uniqueAttribute/type/{type}``): type categories, super types that
exist, attribute types, relationship ends, required ``qualifiedName``/``name``, attributes the
type declares, and references (``inputs``, ``outputs``, relationship attributes) that resolve to
existing entities. A payload Atlas would refuse gets Atlas's 400/404/409 and an
``errorCode``/``errorMessage`` body. Every request is logged so tests can count writes.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PRIMITIVES = {"string", "int", "long", "float", "double", "boolean", "date", "byte", "short"}
CARDINALITIES = {"SINGLE", "LIST", "SET"}
# Atlas's base model (0000-Area0/0010-base_model.json), the parts DataSet/Process rely on.
BUILTIN = {
    "Referenceable": {"superTypes": [], "attributes": {"qualifiedName": True}},
    "Asset": {
        "superTypes": ["Referenceable"],
        "attributes": {
            "name": True,
            "description": False,
            "owner": False,
            "displayName": False,
            "userDescription": False,
        },
    },
    "DataSet": {"superTypes": ["Asset"], "attributes": {}},
    "Process": {"superTypes": ["Asset"], "attributes": {"inputs": False, "outputs": False}},
}
REQUIRED = {"qualifiedName", "name"}


class AtlasError(Exception):
    """An Atlas error reply: HTTP status, Atlas error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AtlasStandIn:
    """The in-memory store and the payload checks."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self.relationships: dict[str, dict[str, Any]] = {}
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    # -- types -------------------------------------------------------------------------------

    def is_entity_type(self, name: str) -> bool:
        return name in BUILTIN or name in self.types

    def lineage_of(self, name: str) -> list[str]:
        """The type and all its super types."""
        out, todo = [], [name]
        while todo:
            t = todo.pop()
            out.append(t)
            todo += (BUILTIN.get(t) or self.types.get(t) or {}).get("superTypes", [])
        return out

    def attributes_of(self, name: str) -> set[str]:
        names: set[str] = set()
        for t in self.lineage_of(name):
            if t in BUILTIN:
                names |= set(BUILTIN[t]["attributes"])
            elif t in self.types:
                names |= {a["name"] for a in self.types[t].get("attributeDefs", [])}
        return names

    def relationship_ends(self, name: str) -> set[str]:
        types = set(self.lineage_of(name))
        ends = set()
        for rel in self.relationships.values():
            for end in ("endDef1", "endDef2"):  # an end's name is an attribute of its type
                if rel[end]["type"] in types:
                    ends.add(rel[end]["name"])
        return ends

    def valid_type_name(self, type_name: str) -> bool:
        inner = re.fullmatch(r"(array|map)<(.+)>", type_name)
        if inner:
            return all(self.valid_type_name(t.strip()) for t in inner.group(2).split(","))
        return type_name in PRIMITIVES or self.is_entity_type(type_name)

    def create_typedefs(self, body: dict[str, Any]) -> dict[str, Any]:
        allowed = {
            "enumDefs",
            "structDefs",
            "classificationDefs",
            "entityDefs",
            "relationshipDefs",
            "businessMetadataDefs",
        }
        if not body or set(body) - allowed:
            raise AtlasError(400, "ATLAS-400-00-001", f"invalid typedefs keys {sorted(body)}")
        entity_defs = body.get("entityDefs", [])
        for d in [*entity_defs, *body.get("relationshipDefs", [])]:
            if d.get("name") in self.types or d.get("name") in self.relationships:
                raise AtlasError(409, "ATLAS-409-00-001", f"Given type {d['name']} already exists")
        pending = {d["name"] for d in entity_defs}
        for d in entity_defs:
            self._check_entity_def(d, pending)
        for d in entity_defs:
            self.types[d["name"]] = d
        for d in body.get("relationshipDefs", []):
            self._check_relationship_def(d)
            self.relationships[d["name"]] = d
        return body

    def _check_entity_def(self, d: dict[str, Any], pending: set[str]) -> None:
        if d.get("category", "ENTITY") != "ENTITY" or not d.get("name"):
            raise AtlasError(400, "ATLAS-400-00-01A", f"bad entity def {d.get('name')}")
        for sup in d.get("superTypes", []):
            if not (self.is_entity_type(sup) or sup in pending):
                raise AtlasError(400, "ATLAS-400-00-002", f"unknown super type {sup}")
        for a in d.get("attributeDefs", []):
            if not a.get("name") or not self.valid_type_name(a.get("typeName", "")):
                raise AtlasError(400, "ATLAS-400-00-005", f"bad attribute {a} of {d['name']}")
            if a.get("cardinality", "SINGLE") not in CARDINALITIES:
                raise AtlasError(400, "ATLAS-400-00-005", f"bad cardinality in {d['name']}")

    def _check_relationship_def(self, d: dict[str, Any]) -> None:
        if d.get("relationshipCategory") not in {"ASSOCIATION", "AGGREGATION", "COMPOSITION"}:
            raise AtlasError(400, "ATLAS-400-00-06E", f"bad relationshipCategory in {d['name']}")
        for end in ("endDef1", "endDef2"):
            e = d.get(end) or {}
            if not self.is_entity_type(e.get("type", "")) or not e.get("name"):
                raise AtlasError(400, "ATLAS-400-00-06F", f"bad {end} of {d['name']}")
            if e.get("cardinality", "SINGLE") not in CARDINALITIES:
                raise AtlasError(400, "ATLAS-400-00-06F", f"bad cardinality of {end}")

    def typedef(self, name: str) -> dict[str, Any]:
        found = self.types.get(name) or self.relationships.get(name)
        if found is None:
            raise AtlasError(404, "ATLAS-404-00-001", f"Given typename {name} was invalid")
        return found

    # -- entities ----------------------------------------------------------------------------

    def bulk(self, body: dict[str, Any]) -> dict[str, Any]:
        entities = body.get("entities")
        if not isinstance(entities, list) or not entities:
            raise AtlasError(400, "ATLAS-400-00-01F", "entities is required")
        for e in entities:
            self._check_entity(e)
        created, updated = [], []
        for e in entities:
            key = (e["typeName"], e["attributes"]["qualifiedName"])
            old = self.entities.get(key)
            guid = old["guid"] if old else str(uuid.uuid4())
            self.entities[key] = {**e, "guid": guid, "status": "ACTIVE"}
            header = {"typeName": key[0], "guid": guid, "attributes": {"qualifiedName": key[1]}}
            (updated if old else created).append(header)
        mutated = {k: v for k, v in (("CREATE", created), ("UPDATE", updated)) if v}
        return {"mutatedEntities": mutated, "guidAssignments": {}}

    def _check_entity(self, e: dict[str, Any]) -> None:
        type_name = e.get("typeName", "")
        if type_name not in self.types:
            raise AtlasError(404, "ATLAS-404-00-001", f"Given typename {type_name} was invalid")
        attributes = e.get("attributes") or {}
        for name in REQUIRED:
            if not attributes.get(name):
                raise AtlasError(400, "ATLAS-400-00-01E", f"{type_name}: {name} is mandatory")
        unknown = set(attributes) - self.attributes_of(type_name)
        if unknown:
            raise AtlasError(400, "ATLAS-400-00-01F", f"{type_name}: unknown {sorted(unknown)}")
        lineage = self.lineage_of(type_name)
        for key in ("inputs", "outputs"):
            if key in attributes:
                if "Process" not in lineage:
                    raise AtlasError(400, "ATLAS-400-00-01F", f"{type_name} is not a Process")
                for ref in attributes[key]:
                    self._resolve(ref, must_be="DataSet")
        relations = e.get("relationshipAttributes") or {}
        ends = self.relationship_ends(type_name)
        for name, ref in relations.items():
            if name not in ends:
                raise AtlasError(400, "ATLAS-400-00-01F", f"{type_name}: no relationship {name}")
            self._resolve(ref)

    def _resolve(self, ref: dict[str, Any], must_be: str | None = None) -> None:
        unique = (ref or {}).get("uniqueAttributes") or {}
        key = (ref.get("typeName", ""), unique.get("qualifiedName", ""))
        if key not in self.entities:
            raise AtlasError(404, "ATLAS-404-00-00A", f"referenced entity {key} not found")
        if must_be and must_be not in self.lineage_of(key[0]):
            raise AtlasError(400, "ATLAS-400-00-01F", f"{key} is not a {must_be}")

    def by_unique_attribute(self, type_name: str, qualified_name: str) -> dict[str, Any]:
        found = self.entities.get((type_name, qualified_name))
        if found is None:
            raise AtlasError(
                404,
                "ATLAS-404-00-009",
                f"Instance {type_name} with unique attribute "
                f"{{qualifiedName={qualified_name}}} does not exist",
            )
        attributes = {}
        for k, v in found["attributes"].items():
            if isinstance(v, list) and v and isinstance(v[0], dict) and "typeName" in v[0]:
                v = [
                    {
                        **r,
                        "guid": self.entities[
                            (r["typeName"], r["uniqueAttributes"]["qualifiedName"])
                        ]["guid"],
                    }
                    for r in v
                ]
            attributes[k] = v
        entity = {
            "typeName": type_name,
            "guid": found["guid"],
            "status": "ACTIVE",
            "attributes": attributes,
        }
        return {"entity": entity, "referredEntities": {}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet: tests read server.standin.requests
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        standin = self.server.standin
        with standin.lock:
            standin.requests.append((method, url.path))
            try:
                self._reply(200, self._dispatch(method, url.path, parse_qs(url.query)))
            except AtlasError as exc:
                self._reply(exc.status, {"errorCode": exc.code, "errorMessage": exc.message})
            except (ValueError, KeyError, TypeError) as exc:
                self._reply(400, {"errorCode": "ATLAS-400-00-001", "errorMessage": str(exc)})

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]]) -> Any:
        standin = self.server.standin
        base = "/api/atlas/v2/"
        if not path.startswith(base):
            raise AtlasError(404, "ATLAS-404-00-000", f"no such API {path}")
        rest = path[len(base) :].rstrip("/")  # Atlas (Jersey) takes both spellings
        if method == "POST" and rest == "types/typedefs":
            return standin.create_typedefs(self._body())
        if method == "GET" and rest.startswith("types/typedef/name/"):
            return standin.typedef(rest.rsplit("/", 1)[1])
        if method == "POST" and rest == "entity/bulk":
            return standin.bulk(self._body())
        if method == "GET" and rest.startswith("entity/uniqueAttribute/type/"):
            return standin.by_unique_attribute(
                rest.rsplit("/", 1)[1], query.get("attr:qualifiedName", [""])[0]
            )
        raise AtlasError(404, "ATLAS-404-00-000", f"no such API {method} {path}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")


class _Server(ThreadingHTTPServer):
    standin: AtlasStandIn


def serve(port: int = 0) -> tuple[_Server, threading.Thread]:
    """Start the stand-in on loopback; returns the server (``server.standin``) and its thread."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.standin = AtlasStandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
