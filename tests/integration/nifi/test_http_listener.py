"""The CMS HTTP flow with its real ListenHTTP source, on NiFi Stateless, over real HTTPS.

Stateless is run in its keep-triggering mode (``-Dlakehouse.stateless.run.seconds``) so the
listener stays up. A local client with the CMS client certificate posts an XML and a JSON
declaration; both land in the landing zone by convention and load into bronze. A client
without a certificate, and one whose certificate subject is not the CMS sender's, are turned
away. While the listener runs, no process has the keystore password on its command line.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import stat
import threading
import time
import urllib.error
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
from tests.integration.nifi.tls import PkiFiles, make_pki, tools_missing
from tests.integration.test_no_secrets import _command_lines
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


def _client(pki: PkiFiles, name: str | None) -> ssl.SSLContext:
    """A TLS client trusting the test CA, presenting ``name``'s certificate (or none)."""
    context = ssl.create_default_context(cafile=str(pki.ca_pem))
    if name is not None:
        context.load_cert_chain(str(pki.client_pem(name)))
    return context


def _post(url: str, body: bytes, content_type: str, context: ssl.SSLContext) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _tls_params(pki: PkiFiles) -> dict[str, str]:
    return {
        "cms.http.tls.keystore.path": str(pki.server_keystore),
        "cms.http.tls.keystore.type": "PKCS12",
        "cms.http.tls.keystore.password": pki.password,
        "cms.http.tls.truststore.path": str(pki.truststore),
        "cms.http.tls.truststore.type": "PKCS12",
        "cms.http.tls.truststore.password": pki.password,
        "cms.http.client.dn.pattern": "CN=cms-sender(, .*)?",  # RFC 1779, as NiFi formats it
    }


def test_posted_declarations_land_and_load_into_bronze(
    install: StatelessInstall, spark, tmp_path: Path
) -> None:
    if tools_missing():
        pytest.skip(f"cannot make test certificates: {tools_missing()}")
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator.engine import generate

    sample = tmp_path / "sample"
    generate(str(sample), declarations=4, malformed_rate=0.0)
    xml = next((sample / "landing" / "cms" / "xml").rglob("*.xml")).read_bytes()
    ndjson = next((sample / "landing" / "cms" / "json").rglob("*.ndjson")).read_bytes()

    pki = make_pki(
        tmp_path / "pki",
        {"cms-sender": "/O=Lakehouse Tests/CN=cms-sender", "intruder": "/O=Lakehouse Tests/CN=x"},
    )
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
        **_tls_params(pki),
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
    url = f"https://127.0.0.1:{port}/cms/declarations"
    sender = _client(pki, "cms-sender")
    assert _post(url, xml, "application/xml", sender) == 200
    assert _post(url, ndjson, "application/x-ndjson", sender) == 200
    # A certificate from the right CA with another subject: refused by the DN pattern.
    assert _post(url, xml, "application/xml", _client(pki, "intruder")) == 403
    # No client certificate: the TLS handshake itself fails.
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        _post(url, xml, "application/xml", _client(pki, None))
    # Plain HTTP on the TLS port gets no answer a client would take as accepted (Jetty
    # replies with a TLS alert, which is no HTTP status line).
    with pytest.raises((http.client.HTTPException, urllib.error.URLError, OSError)):
        urllib.request.urlopen(url.replace("https:", "http:"), data=xml, timeout=10)

    # Secrets went to the JVM in a file only its owner can read, not on any command line.
    leaks = [pid for pid, line in _command_lines().items() if pki.password in line]
    assert leaks == [], f"keystore password on the command line of {leaks}"
    flow_props = tmp_path / "run" / "flow.properties"
    assert pki.password in flow_props.read_text()
    assert stat.S_IMODE(flow_props.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "run" / "stateless.properties").stat().st_mode) == 0o600
    runner.join(timeout=400)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.status == "success", result.log_tail  # type: ignore[attr-defined]

    landed = sorted(p for p in (lake / "landing").rglob("*") if p.is_file())
    assert {feed_of(str(p)).key for p in landed} == {"cms/xml", "cms/json"}
    assert sorted(p.read_bytes() for p in landed) == sorted([xml, ndjson])

    # NiFi just wrote these files, whole (it lands by rename): no settle time to wait for.
    with override_settings(
        lake_root=lake.resolve().as_uri(), landing_settle_seconds=0.0
    ) as settings:
        init_lake(spark, settings)
        report = ingest_landing(spark, settings)
        assert report.rejected == 0
        declarations = spark.read.format("delta").load(
            settings.table_uri("bronze", "cms_declarations")
        )
        json_lines = len([x for x in ndjson.splitlines() if x.strip()])
        assert declarations.count() == 1 + json_lines
