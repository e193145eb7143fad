"""A small in-process fake of the NiFi 2 REST API: just the endpoints nifi_flows/deploy.py calls.

Why a fake: a full NiFi 2 instance cannot be assembled from the Maven mirror available here (no
UI war, no bootstrap; see docs/nifi_stateless.md), yet the deploy code's requests must be right.
The fake speaks NiFi's documented payloads (paths and JSON shapes of NiFi 2.x's REST API, as
nipyapi's generated client sends and parses them), keeps a tiny model of the canvas, and logs
every request so tests can assert that a second deploy makes no write calls.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROOT = "00000000-0000-0000-0000-000000000001"


class FakeNiFi:
    """State of the fake canvas plus the request log; ``url`` is the nifi-api base URL."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, Any]] = {}
        self.contexts: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, Any]] = []
        self._ids = itertools.count(100)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/nifi-api"

    def start(self) -> FakeNiFi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[tuple[str, str]]:
        """Every non-GET request so far."""
        return [r for r in self.requests if r[0] != "GET"]

    def new_id(self) -> str:
        return f"00000000-0000-0000-0000-{next(self._ids):012d}"

    # -- entities as NiFi returns them ---------------------------------------------------------

    def pg_entity(self, pg: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": pg["id"],
            "revision": {"version": pg["version"]},
            "component": {
                "id": pg["id"],
                "name": pg["name"],
                "comments": pg["comments"],
                "parentGroupId": ROOT,
            },
            "runningCount": pg["running"],
            "stoppedCount": pg["stopped"],
            "invalidCount": 0,
            "disabledCount": 0,
        }

    def ctx_entity(self, ctx: dict[str, Any]) -> dict[str, Any]:
        params = [
            {"parameter": {**p, "value": "********" if p.get("sensitive") else p.get("value")}}
            for p in ctx["parameters"].values()
        ]
        return {
            "id": ctx["id"],
            "revision": {"version": ctx["version"]},
            "component": {
                "id": ctx["id"],
                "name": ctx["name"],
                "description": ctx["description"],
                "parameters": params,
            },
        }

    # -- request handling ----------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        path = path.split("?", 1)[0]
        assert path.startswith("/nifi-api/"), path
        p = path[len("/nifi-api") :]
        self.requests.append((method, p))
        ctype = headers.get("Content-Type", "")
        body: Any = None
        if raw and "json" in ctype:
            body = json.loads(raw)
        elif raw and "multipart/form-data" in ctype:
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
            )
            body = {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in msg.iter_parts()
            }
        self.bodies.append((method, p, body))

        if method == "GET" and p == "/flow/about":
            return 200, {"about": {"title": "NiFi", "version": "2.3.0"}}
        if method == "GET" and p == "/flow/process-groups/root":
            return 200, {
                "processGroupFlow": {
                    "id": ROOT,
                    "flow": {"processGroups": [self.pg_entity(g) for g in self.groups.values()]},
                }
            }
        if method == "GET" and p == "/flow/parameter-contexts":
            return 200, {"parameterContexts": [self.ctx_entity(c) for c in self.contexts.values()]}
        if method == "POST" and p == "/parameter-contexts":
            comp = body["component"]
            if any(c["name"] == comp["name"] for c in self.contexts.values()):
                return 409, {"message": "name in use"}
            cid = self.new_id()
            self.contexts[cid] = {
                "id": cid,
                "version": 1,
                "name": comp["name"],
                "description": comp.get("description", ""),
                "parameters": {
                    e["parameter"]["name"]: e["parameter"] for e in comp.get("parameters", [])
                },
            }
            return 201, self.ctx_entity(self.contexts[cid])
        m = re.fullmatch(r"/parameter-contexts/([^/]+)/update-requests(?:/([^/]+))?", p)
        if m:
            ctx = self.contexts[m.group(1)]
            if method == "POST":
                assert body["revision"]["version"] == ctx["version"], "stale revision"
                comp = body["component"]
                ctx["description"] = comp.get("description", ctx["description"])
                for e in comp.get("parameters", []):
                    ctx["parameters"][e["parameter"]["name"]] = e["parameter"]
                ctx["version"] += 1
            req = {
                "requestId": "upd-1",
                "complete": method != "POST",
                "percentCompleted": 100,
                "state": "Complete",
            }
            return 200, {"request": req, "parameterContextRevision": {"version": ctx["version"]}}
        m = re.fullmatch(r"/process-groups/([^/]+)/process-groups/upload", p)
        if m and method == "POST":
            assert m.group(1) == ROOT, "flows go directly under root"
            flow = json.loads(body["file"])
            contents = flow["flowContents"]
            pid = self.new_id()
            n = len(contents["processors"]) + len(contents["outputPorts"])
            self.groups[pid] = {
                "id": pid,
                "version": 1,
                "name": body["groupName"].decode(),
                "comments": contents.get("comments", ""),
                "components": n,
                "running": 0,
                "stopped": n,
                "services": {s["identifier"]: "DISABLED" for s in contents["controllerServices"]},
                "context": contents.get("parameterContextName"),
            }
            assert contents.get("parameterContextName") in {
                c["name"] for c in self.contexts.values()
            }, "the parameter context must exist before the import (KEEP_EXISTING binds by name)"
            return 201, self.pg_entity(self.groups[pid])
        m = re.fullmatch(r"/process-groups/([^/]+)/replace-requests", p)
        if m and method == "POST":
            pg = self.groups[m.group(1)]
            assert body["processGroupRevision"]["version"] == pg["version"], "stale revision"
            contents = body["versionedFlowSnapshot"]["flowContents"]
            n = len(contents["processors"]) + len(contents["outputPorts"])
            pg.update(components=n, version=pg["version"] + 1)
            pg["services"] = {
                s["identifier"]: pg["services"].get(s["identifier"], "DISABLED")
                for s in contents["controllerServices"]
            }
            if pg["running"]:
                pg["running"] = n
            else:
                pg["stopped"] = n
            # NiFi keeps the group's own comments on replace: deploy.py must write the hash.
            return 202, {
                "request": {"requestId": "repl-1", "complete": False},
                "processGroupRevision": {"version": pg["version"]},
            }
        m = re.fullmatch(r"/process-groups/replace-requests/([^/]+)", p)
        if m:
            return 200, {
                "request": {"requestId": m.group(1), "complete": True, "percentCompleted": 100}
            }
        m = re.fullmatch(r"/process-groups/([^/]+)", p)
        if m and m.group(1) in self.groups:
            pg = self.groups[m.group(1)]
            if method == "PUT":
                assert body["revision"]["version"] == pg["version"], "stale revision"
                pg["comments"] = body["component"].get("comments", pg["comments"])
                pg["version"] += 1
            return 200, self.pg_entity(pg)
        m = re.fullmatch(r"/flow/process-groups/([^/]+)/controller-services", p)
        if m:
            pg = self.groups[m.group(1)]
            if method == "PUT":
                for sid in pg["services"]:
                    pg["services"][sid] = body["state"]
                return 200, {"id": pg["id"], "state": body["state"]}
            return 200, {
                "controllerServices": [
                    {"id": sid, "component": {"id": sid, "name": sid, "state": st}}
                    for sid, st in pg["services"].items()
                ]
            }
        m = re.fullmatch(r"/flow/process-groups/([^/]+)", p)
        if m and method == "PUT":
            pg = self.groups[m.group(1)]
            running = body["state"] == "RUNNING"
            pg["running"], pg["stopped"] = (
                (pg["components"], 0) if running else (0, pg["components"])
            )
            return 200, {"id": pg["id"], "state": body["state"]}
        return 404, {"message": f"fake NiFi does not implement {method} {p}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, payload = fake.handle(self.command, self.path, self.headers, raw)
                except AssertionError as exc:
                    status, payload = 400, {"message": f"fake NiFi: {exc}"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _do  # noqa: N815 (http.server names)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
