"""The bronze job on a Spark standalone cluster (a master and two workers on 127.0.0.1).

Started from pyspark's own launcher (``spark-class``), as an operator would on real hosts;
the job is submitted as a process of its own (a driver per job, like ``spark-submit``) with
``LAKEHOUSE_SPARK_MASTER=spark://...`` and ``--engine spark``, so its files are parsed by the
workers' executors. The tables must equal those of a local run on the same landed files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from lakehouse.ingest.bronze import ingest_landing
from lakehouse.simulator import generate
from lakehouse.tables import BRONZE
from tests.integration.test_bronze_delta_rs import _table_rows
from tests.integration.test_bronze_ingest import local_settings
from tests.services import free_port, wait_for_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [_spark_class(), *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def _wait_for_workers(log: Path, count: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(r"Registering worker", log.read_text(errors="replace"))) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{count} workers did not register:\n{log.read_text()[-3000:]}")


def test_the_bronze_job_on_a_standalone_cluster_gives_the_local_tables(
    spark, base_settings, tmp_path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOG_DIR": str(tmp_path / "logs"),
        "SPARK_WORKER_DIR": str(tmp_path / "work"),
    }
    port = free_port()
    master = _start(
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(free_port()),
        ],
        tmp_path / "master.log",
        env,
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        wait_for_port(port, None, 120, tmp_path / "master.log")
        url = f"spark://127.0.0.1:{port}"
        for n in range(2):
            workers.append(
                _start(
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        url,
                        "--host",
                        "127.0.0.1",
                        "--cores",
                        "1",
                        "--memory",
                        "1g",
                        "--webui-port",
                        str(free_port()),
                    ],
                    tmp_path / f"worker{n}.log",
                    env,
                )
            )
        _wait_for_workers(tmp_path / "master.log", 2)
        lakes = {}
        for mode in ("cluster", "local"):
            settings = local_settings(spark, base_settings, tmp_path / mode)
            generate(settings.lake_root, declarations=15, seed=3, day=date(2026, 11, 24))
            lakes[mode] = settings
        job = subprocess.run(
            [
                sys.executable,
                "-m",
                "spark_jobs.ingest.bronze_job",
                "--engine",
                "spark",
                "--lake-root",
                lakes["cluster"].lake_root,
            ],
            env={
                **env,
                "LAKEHOUSE_ENV": "test",
                "LAKEHOUSE_SPARK_MASTER": url,
                "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
                "LAKEHOUSE_CACHE_DIR": str(base_settings.cache_dir),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert job.returncode == 0, job.stderr[-3000:]
        assert "parsing, " in job.stderr or "(Spark)" in job.stderr, job.stderr[-3000:]
        ingest_landing(spark, lakes["local"], engine="local")
        for name in [*BRONZE, "quarantine"]:
            cluster_rows = _table_rows(spark, lakes["cluster"], name)
            assert cluster_rows == _table_rows(spark, lakes["local"], name), name
        executors = list((tmp_path / "work").glob("app-*/*"))
        assert len(executors) >= 2  # both workers ran an executor of the job
    finally:
        for proc in [*workers, master]:
            proc.terminate()
        for proc in [*workers, master]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
