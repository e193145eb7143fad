"""``lakehouse stream start|stop|status``: the ECTS alert job as a background process.

The job (``spark_jobs/stream/ects_alerts.py``) runs in its own process with its own Spark
session; this command starts it detached, remembers its pid under the cache directory, stops
it with SIGTERM (the job then stops its query cleanly; its checkpoint on the lake lets the
next start resume without losing or repeating an alert) and reports its last progress.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lakehouse.cli.common import add_command, settings_from
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings
from lakehouse.stream.kafka import ALERTS_TOPIC, EVENTS_TOPIC


class StreamError(LakehouseError, RuntimeError):
    """The streaming job could not be started, stopped or found."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-command."""
    parser = add_command(
        sub,
        "stream",
        help="start, stop or inspect the ECTS real-time alert job",
        epilog="example: lakehouse stream start --bootstrap-servers 127.0.0.1:9092",
    )
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("LAKEHOUSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (env LAKEHOUSE_KAFKA_BOOTSTRAP; default 127.0.0.1:9092)",
    )
    parser.add_argument("--trigger", default="0 seconds", help="micro-batch trigger interval")
    parser.add_argument("--events-topic", default=EVENTS_TOPIC, help="Kafka topic of the events")
    parser.add_argument("--alerts-topic", default=ALERTS_TOPIC, help="Kafka topic of the alerts")
    parser.set_defaults(handler=run)


def _run_dir(settings: Settings) -> Path:
    path = settings.cache_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(settings: Settings) -> int | None:
    pid_file = _run_dir(settings) / "ects_alerts.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except OSError:
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def start(settings: Settings, bootstrap: str, trigger: str, topics: tuple[str, str]) -> dict:
    """Start the job detached unless it runs already; checks the reference data first.

    ``topics`` is (events, alerts).
    """
    from lakehouse.storage import LakeFiles
    from lakehouse.stream.reference import load_reference

    if (pid := _pid(settings)) is not None:
        return {"status": "running", "pid": pid}
    load_reference(LakeFiles(settings), settings.lake_root)  # a bad reference fails here, not later
    run = _run_dir(settings)
    env = {**os.environ, "LAKEHOUSE_LAKE_ROOT": settings.lake_root}
    cmd = [
        sys.executable,
        "-m",
        "spark_jobs.stream.ects_alerts",
        "--bootstrap-servers",
        bootstrap,
        "--trigger",
        trigger,
        "--events-topic",
        topics[0],
        "--alerts-topic",
        topics[1],
        "--status-file",
        str(run / "ects_alerts.status.json"),
    ]
    with (run / "ects_alerts.log").open("ab") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (run / "ects_alerts.pid").write_text(str(proc.pid))
    return {"status": "started", "pid": proc.pid, "log": str(run / "ects_alerts.log")}


def stop(settings: Settings, timeout: float = 120.0) -> dict:
    """SIGTERM the job and wait for it to stop its query."""
    pid = _pid(settings)
    if pid is None:
        return {"status": "not running"}
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pid(settings) is None:
            return {"status": "stopped", "pid": pid}
        time.sleep(0.5)
    raise StreamError(f"the ECTS alert job (pid {pid}) did not stop in {timeout:.0f} s")


def status(settings: Settings) -> dict:
    """Running or not, and the query's last progress."""
    pid = _pid(settings)
    status_file = _run_dir(settings) / "ects_alerts.status.json"
    progress = json.loads(status_file.read_text()) if status_file.exists() else None
    last = (
        {k: progress.get(k) for k in ("batchId", "timestamp", "numInputRows", "batchDuration")}
        if progress
        else None
    )
    return {"status": "running" if pid else "not running", "pid": pid, "last_progress": last}


def run(args: argparse.Namespace) -> int:
    """Dispatch the action; print its result as JSON."""
    settings = settings_from(args)
    actions = {
        "start": lambda: start(
            settings, args.bootstrap_servers, args.trigger, (args.events_topic, args.alerts_topic)
        ),
        "stop": lambda: stop(settings),
        "status": lambda: status(settings),
    }
    print(json.dumps(actions[args.action](), indent=2))
    return 0
