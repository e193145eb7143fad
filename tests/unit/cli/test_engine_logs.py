"""Where Spark's own output goes: log4j2 file, state folder, JVM stderr (no JVM started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse import spark as engine
from lakehouse.settings import load_settings

pytestmark = pytest.mark.unit


def _settings(tmp_path: Path, **env: str):
    jars = tmp_path / "cache" / "jars" / "spark"
    jars.mkdir(parents=True, exist_ok=True)
    for name in ("delta-spark_x.jar", "delta-storage-x.jar", "hadoop-aws-x.jar", "bundle-x.jar"):
        (jars / name).write_bytes(b"")
    return load_settings(
        {
            "LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake"),
            "LAKEHOUSE_CACHE_DIR": str(tmp_path / "cache"),
            **env,
        }
    )


def test_local_lake_state_holds_logs_and_warehouse(tmp_path) -> None:
    settings = _settings(tmp_path)
    conf = engine.session_conf(settings, app_name="x")
    state = tmp_path / "lake" / "_state"
    assert conf["spark.sql.warehouse.dir"] == str(state / "warehouse")
    assert (
        f"-Dlog4j2.configurationFile={(state / 'logs').as_uri()}/log4j2.properties"
        in (conf["spark.driver.extraJavaOptions"])
    )
    assert f"-Dderby.system.home={state}" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.ui.showConsoleProgress"] == "false"
    assert not state.exists()  # building the conf writes nothing


def test_s3_lake_state_is_in_the_cache(tmp_path) -> None:
    settings = _settings(tmp_path, LAKEHOUSE_LAKE_ROOT="s3a://bucket/lake")
    assert engine.log_file(settings).parent == tmp_path / "cache" / "logs"
    assert engine.default_warehouse_dir(settings) == str(tmp_path / "cache" / "warehouse")


def test_s3a_retries_are_bounded(tmp_path) -> None:
    conf = engine.s3a_conf(_settings(tmp_path))
    assert int(conf["spark.hadoop.fs.s3a.retry.limit"]) <= 3
    assert int(conf["spark.hadoop.fs.s3a.attempts.maximum"]) <= 3
    assert conf["spark.hadoop.fs.s3a.connection.establish.timeout"] == "5s"


def test_log4j2_config_sends_everything_to_the_file(tmp_path) -> None:
    settings = _settings(tmp_path)
    path = engine.write_log4j2(settings)
    text = path.read_text()
    assert f"appender.file.fileName = {engine.log_file(settings)}" in text
    assert "appenderRef.console" not in text
    assert engine.write_log4j2(settings) == path and path.read_text() == text
    engine.show_engine_logs(True)
    try:
        verbose = engine.write_log4j2(settings).read_text()
    finally:
        engine.show_engine_logs(False)
    assert "rootLogger.appenderRef.console.ref = console" in verbose


def test_concurrent_dbt_nodes_share_the_slots_fairly(tmp_path) -> None:
    """FAIR between jobs needs the default pool declared FAIR too (Spark's own default pool
    is FIFO inside): the session points at a pools file that says so."""
    from xml.etree import ElementTree

    settings = _settings(tmp_path)
    conf = engine.session_conf(settings, app_name="x")
    assert conf["spark.scheduler.mode"] == "FAIR"
    path = engine.write_fair_scheduler(settings)
    assert conf["spark.scheduler.allocation.file"] == path.as_uri()
    pool = ElementTree.parse(path).getroot().find("pool[@name='default']")
    assert pool is not None and pool.findtext("schedulingMode") == "FAIR"
    assert engine.write_fair_scheduler(settings).read_text() == path.read_text()


def test_a_child_started_inside_the_redirect_writes_to_the_log(tmp_path, capfd) -> None:
    log = tmp_path / "engine.log"
    with engine._jvm_output_to(log):
        subprocess.run(
            [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"],
            check=True,
        )
    print("after")
    captured = capfd.readouterr()
    assert log.read_text().split() == ["out", "err"]
    assert captured.out == "after\n" and captured.err == ""
