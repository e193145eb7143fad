"""``lakehouse stream-demo`` end to end, short: Kafka up, alerts printed live, everything down.

It runs in this process, so the demo's job uses the test run's one Spark session; Kafka is the
demo's own broker. ``--duration`` keeps the replay to a few whole trips (planted and clean).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from lakehouse.cli.main import main
from lakehouse.storage import local_path
from lakehouse.stream.kafka import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ALERT_LINE = re.compile(r"^ALERT \w+\s+(\w+)\s+trip \S+ mrn \S+ at .* latency (\d+) ms", re.M)


def test_stream_demo_prints_alerts_with_latency_and_stops_everything(spark, lake, capsys) -> None:
    port = free_port()
    code = main(
        [
            "stream-demo",
            "--declarations",
            "1000",
            "--rate",
            "200",
            "--duration",
            "5",
            "--kafka-port",
            str(port),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "STREAM DEMO OK" in out.out
    alerts = ALERT_LINE.findall(out.out)
    assert {"seal_breach", "route_deviation"} <= {kind for kind, _ in alerts}, out.out
    assert all(int(ms) >= 0 for _, ms in alerts)
    recall = re.findall(
        r"^(\w+): planted (\d+), caught (\d+), false alarms (\d+) on (\d+)", out.out, re.M
    )
    assert recall and all(int(p) > 0 and p == c and f == "0" for _, p, c, f, _ in recall)
    assert "the alert job and Kafka are stopped" in out.err
    assert not spark.streams.active
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not (Path(local_path(lake.lake_root)) / "_kafka").exists()
