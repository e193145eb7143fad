"""A one-node Apache Kafka (KRaft) on 127.0.0.1: format, start, wait, stop.

Why a class of our own and not a container: the embedded default runs without Docker, from
the jars ``scripts/bootstrap.sh`` resolved from Maven Central into ``<cache>/jars/kafka``.
The broker runs in its own JVM (Java 17 works for Kafka 4) so its Scala and Jackson never
meet Spark's. Tests and ``lakehouse stream-demo`` start it and stop it; production points
``bootstrap_servers`` at its Kafka cluster instead.

The node keeps its data in ``data_dir``; formatting is done once (a ``meta.properties`` file
marks a formatted log directory), so a restart keeps the topics and offsets.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.errors import SetupError

log = logging.getLogger(__name__)

CLUSTER_ID = "H6062ilMLO1-9tQrRzje8A"  # a fixed Kafka UUID (base64 of 16 bytes): one local node
EVENTS_TOPIC = "ects-events"
ALERTS_TOPIC = "ects-alerts"


def kafka_jars_dir(cache_dir: Path) -> Path:
    """Where bootstrap put the broker's jars."""
    return cache_dir / "jars" / "kafka"


def client_conf(bootstrap_servers: str, **extra: Any) -> dict[str, Any]:
    """librdkafka settings shared by our clients: quiet about brokers that are not up yet."""
    return {"bootstrap.servers": bootstrap_servers, "log_level": 2, **extra}


def free_port() -> int:
    """A TCP port nobody listens on right now (for tests that run beside other engineers')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class KafkaServer:
    """One KRaft node (broker + controller) listening on 127.0.0.1:``port``."""

    data_dir: Path
    cache_dir: Path
    port: int = 9092
    controller_port: int = 0
    heap: str = "512m"
    java: str = "java"
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """What clients connect to."""
        return f"127.0.0.1:{self.port}"

    def _classpath(self) -> str:
        jars = kafka_jars_dir(self.cache_dir)
        if not any(jars.glob("kafka_2.13-*.jar")):
            raise SetupError(f"Kafka broker jars missing in {jars}: run scripts/bootstrap.sh")
        return f"{jars}/*"

    def _properties(self) -> Path:
        controller = self.controller_port or free_port()
        self.controller_port = controller
        logs = self.data_dir / "log"
        text = "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={logs}",
                "num.partitions=2",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=2",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=2",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
            ]
        )
        path = self.data_dir / "server.properties"
        path.write_text(text + "\n")
        return path

    def _java(self, *args: str) -> list[str]:
        return [self.java, f"-Xmx{self.heap}", "-cp", self._classpath(), *args]

    def start(self, timeout: float = 120.0) -> KafkaServer:
        """Format the log directory if new, start the node and wait until it accepts clients."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self._properties()
        if not (self.data_dir / "log" / "meta.properties").exists():
            cmd = self._java(
                "kafka.tools.StorageTool", "format", "-t", CLUSTER_ID, "-c", str(props)
            )
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SetupError(f"Kafka storage format failed: {done.stderr.strip()[-400:]}")
        out = (self.data_dir / "server.out").open("ab")
        self._proc = subprocess.Popen(
            self._java("kafka.Kafka", str(props)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        (self.data_dir / "server.pid").write_text(str(self._proc.pid))
        self._wait(timeout)
        log.info("Kafka up on %s (pid %s)", self.bootstrap_servers, self._proc.pid)
        return self

    def _wait(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise SetupError(f"Kafka exited at start: see {self.data_dir / 'server.out'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.5)
                continue
            admin = AdminClient(client_conf(self.bootstrap_servers))
            try:
                if admin.list_topics(timeout=10).brokers:
                    return
            except Exception:
                time.sleep(0.5)
        self.stop()
        raise SetupError(f"Kafka did not come up on {self.bootstrap_servers} in {timeout:.0f} s")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the node we started (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> KafkaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_topics(bootstrap_servers: str, topics: dict[str, int], timeout: float = 30.0) -> None:
    """Create the topics (name -> partitions) that do not exist yet; idempotent."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_conf(bootstrap_servers))
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(t, n, 1) for t, n in topics.items() if t not in existing]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise SetupError(f"cannot create Kafka topic {topic}: {exc}") from exc
