"""The CMS HTTP flow with its real ListenHTTP source, on NiFi Stateless, over real HTTP.

Stateless is run in its keep-triggering mode (``-Dlakehouse.stateless.run.seconds``) so the
listener stays up; a local HTTP client posts an XML and a JSON declaration; both land in the
landing zone by convention and load into bronze.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from lakehouse.landing import feed_of
from lakehouse.settings import override_settings
from nifi_flows.stateless import (
    StatelessInstall,
    prune_bundles,
    run_flow,
)
from tests.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FLOW = Path(__file__).resolve().parents[3] / "nifi_flows" / "flows" / "cms_http_ingest.json"


def _wait_for_listener(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"ListenHTTP never listened on port {port}")


def _post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        return int(response.status)


def test_posted_declarations_land_and_load_into_bronze(
    install: StatelessInstall, spark, tmp_path: Path
) -> None:
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator.engine import generate

    sample = tmp_path / "sample"
    generate(str(sample), declarations=4, malformed_rate=0.0)
    xml = next((sample / "landing" / "cms" / "xml").rglob("*.xml")).read_bytes()
    ndjson = next((sample / "landing" / "cms" / "json").rglob("*.ndjson")).read_bytes()

    lake = tmp_path / "lake"
    port = free_port()
    flow = prune_bundles(json.loads(FLOW.read_text()), ["nifi-aws-nar"])
    flow_file = tmp_path / "cms_http_ingest.stateless.json"
    flow_file.write_text(json.dumps(flow))
    params = {
        "landing.sink": "directory",
        "landing.directory": str(lake / "landing"),
        "cms.http.port": str(port),
        "cms.http.base.path": "cms/declarations",
    }
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = run_flow(
                flow_file,
                params,
                install=install,
                work_dir=tmp_path / "run",
                timeout_s=400,
                extra_jvm_args=["-Dlakehouse.stateless.run.seconds=25"],
            )
        except Exception as exc:  # reported by the assertion below, with the log tail
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    _wait_for_listener(port, time.monotonic() + 240)
    url = f"http://127.0.0.1:{port}/cms/declarations"
    assert _post(url, xml, "application/xml") == 200
    assert _post(url, ndjson, "application/x-ndjson") == 200
    runner.join(timeout=400)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.status == "success", result.log_tail  # type: ignore[attr-defined]

    landed = sorted(p for p in (lake / "landing").rglob("*") if p.is_file())
    assert {feed_of(str(p)).key for p in landed} == {"cms/xml", "cms/json"}
    assert sorted(p.read_bytes() for p in landed) == sorted([xml, ndjson])

    with override_settings(lake_root=lake.resolve().as_uri()) as settings:
        init_lake(spark, settings)
        report = ingest_landing(spark, settings)
        assert report.rejected == 0
        declarations = spark.read.format("delta").load(
            settings.table_uri("bronze", "cms_declarations")
        )
        json_lines = len([x for x in ndjson.splitlines() if x.strip()])
        assert declarations.count() == 1 + json_lines
