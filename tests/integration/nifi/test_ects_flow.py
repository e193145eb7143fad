"""The ECTS flow's batching chain on NiFi Stateless, with the MQTT source swapped.

No nifi-mqtt NAR exists at any NiFi 2.x version on the reachable Maven Central, so ConsumeMQTT
cannot run here. Everything after it (MergeContent batching single-event messages into NDJSON,
tagging, naming, the directory sink) is the shipped flow, fed by a GetFile over a spool of
one-event files: what ConsumeMQTT emits, one FlowFile per MQTT message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakehouse.landing import feed_of
from lakehouse.settings import override_settings
from nifi_flows.stateless import (
    StatelessInstall,
    prune_bundles,
    run_flow,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FLOW = Path(__file__).resolve().parents[3] / "nifi_flows" / "flows" / "ects_mqtt_events.json"


def _swap_mqtt_for_spool(flow: dict[str, Any], spool: Path) -> None:
    contents = flow["flowContents"]
    consume = next(p for p in contents["processors"] if p["type"].endswith(".ConsumeMQTT"))
    merge = next(p for p in contents["processors"] if p["type"].endswith(".MergeContent"))
    consume.update(
        type="org.apache.nifi.processors.standard.GetFile",
        name="Spool of MQTT messages",
        bundle=merge["bundle"],
        properties={"Input Directory": str(spool), "Keep Source File": "false"},
    )
    consume["propertyDescriptors"] = {}  # ConsumeMQTT's, incl. its sensitive Password
    consume.pop("sensitiveDynamicPropertyNames", None)
    for conn in contents["connections"]:
        if conn["source"]["id"] == consume["identifier"]:
            conn["selectedRelationships"] = ["success"]
    context = flow["parameterContexts"][contents["parameterContextName"]]
    keep = {"ects.mqtt.topic.filter"}
    context["parameters"] = [
        p
        for p in context["parameters"]
        if not p["name"].startswith("ects.mqtt.") or p["name"] in keep
    ]


def test_single_event_messages_are_batched_into_ndjson_and_load_into_bronze(
    install: StatelessInstall, spark, tmp_path: Path
) -> None:
    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator.engine import generate

    sample = tmp_path / "sample"
    generate(str(sample), declarations=40, malformed_rate=0.0)
    events_file = next((sample / "landing" / "ects" / "events").rglob("*.ndjson"))
    events = [line for line in events_file.read_bytes().splitlines() if line.strip()][:60]
    spool = tmp_path / "mqtt"
    spool.mkdir()
    for i, event in enumerate(events):
        (spool / f"msg-{i:04d}.json").write_bytes(event)

    flow = prune_bundles(json.loads(FLOW.read_text()), ["nifi-aws-nar"])
    _swap_mqtt_for_spool(flow, spool)
    flow_file = tmp_path / "ects.stateless.json"
    flow_file.write_text(json.dumps(flow))
    lake = tmp_path / "lake"
    result = run_flow(
        flow_file,
        {
            "landing.sink": "directory",
            "landing.directory": str(lake / "landing"),
            "ects.mqtt.topic.filter": "ects/+/events",
            "ects.batch.max.events": "1000",
            "ects.batch.max.age": "5 sec",
        },
        install=install,
        work_dir=tmp_path / "run",
        timeout_s=400,
    )
    assert result.status == "success", result.log_tail
    landed = sorted(p for p in (lake / "landing").rglob("*") if p.is_file())
    assert landed and all(feed_of(str(p)).key == "ects/events" for p in landed)
    lines = [line for p in landed for line in p.read_bytes().splitlines() if line.strip()]
    assert sorted(lines) == sorted(events)

    # NiFi just wrote these files, whole (it lands by rename): no settle time to wait for.
    with override_settings(
        lake_root=lake.resolve().as_uri(), landing_settle_seconds=0.0
    ) as settings:
        init_lake(spark, settings)
        report = ingest_landing(spark, settings)
        assert report.rejected == 0
        assert report.records == {"ects_events": len(events)}
