"""Expected failures of the ``lakehouse`` command, each run as a real subprocess.

Every case must end in exit code 2 and exactly one line on stderr that names the problem and
the fix: no Python traceback, no Java stack trace. The S3 cases run against the real S3Proxy
of the test run (a wrong secret, a missing bucket) and a closed loopback port.

The last test checks the translator against real Java failures raised by the test run's Spark
session (the cases a pre-flight check cannot see).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakehouse.errors import LakeRootIsFileError, S3BucketMissingError, storage_context, translate
from tests.services import S3ProxyServer, free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def lakehouse(args: list[str], env: dict[str, str] | None = None, read_only: Path | None = None):
    """Run the console script (this checkout's code first on the path), capture its output.

    ``read_only``: run it in a mount namespace where that folder is a read-only bind mount
    (root may write anywhere a permission bit forbids, so a chmod proves nothing as root).
    """
    script = Path(sys.executable).with_name("lakehouse")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lakehouse.cli.main"]
    if read_only is not None:
        mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", mount, str(read_only), *command]
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")},
        "PYTHONPATH": str(REPO),
        **(env or {}),
    }
    started = time.monotonic()
    done = subprocess.run(
        command + args, capture_output=True, text=True, env=full_env, timeout=120, cwd="/tmp"
    )
    return done, time.monotonic() - started


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "at org." not in done.stderr and "Exception in" not in done.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def s3_env(server: S3ProxyServer, **changes: str) -> dict[str, str]:
    env = {
        "LAKEHOUSE_S3_ENDPOINT": server.endpoint,
        "LAKEHOUSE_S3_ACCESS_KEY": server.access_key,
        "LAKEHOUSE_S3_SECRET_KEY": server.secret_key,
    }
    env.update(changes)
    return env


def test_lake_root_is_a_file(tmp_path) -> None:
    (tmp_path / "lake").write_text("oops")
    done, _ = lakehouse(["ingest", "--lake-root", str(tmp_path / "lake")])
    assert_one_clear_line(done, "is (or lies under) a file", "point --lake-root")


def test_max_files_zero_is_refused_before_spark(tmp_path) -> None:
    done, _ = lakehouse(["ingest", "--max-files", "0", "--lake-root", str(tmp_path)])
    assert_one_clear_line(done, "--max-files is 0", "give 1 or more")
    assert not (tmp_path / "_state").exists()  # no JVM, no log, nothing written


def test_read_only_lake(tmp_path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    if os.geteuid() == 0:
        done, _ = lakehouse(
            ["simulate", "--declarations", "5", "--lake-root", str(lake)], read_only=lake
        )
    else:
        lake.chmod(0o555)
        done, _ = lakehouse(["simulate", "--declarations", "5", "--lake-root", str(lake)])
    assert_one_clear_line(done, "is not writable", "fix its permissions")
    assert list(lake.iterdir()) == []


def test_s3_endpoint_unreachable_fails_in_seconds() -> None:
    env = {
        "LAKEHOUSE_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "LAKEHOUSE_S3_ACCESS_KEY": "a",
        "LAKEHOUSE_S3_SECRET_KEY": "b",
    }
    done, seconds = lakehouse(["ingest", "--lake-root", "s3a://lake/x"], env)
    assert_one_clear_line(done, "is unreachable", "LAKEHOUSE_S3_ENDPOINT")
    # Seconds, not the ~50 s of default S3A retries; generous because the test machine is
    # shared (a bare `lakehouse --version` takes ~5 s under load here).
    assert seconds < 30


def test_wrong_s3_secret(s3proxy: S3ProxyServer) -> None:
    env = s3_env(s3proxy, LAKEHOUSE_S3_SECRET_KEY="not-the-secret")
    done, _ = lakehouse(["ingest", "--lake-root", "s3a://lake/wrong-secret"], env)
    assert_one_clear_line(done, "S3 refused access to bucket lake", "LAKEHOUSE_S3_SECRET_KEY")


def test_missing_bucket(s3proxy: S3ProxyServer) -> None:
    done, _ = lakehouse(["simulate", "--lake-root", "s3a://no-such-bucket/x"], s3_env(s3proxy))
    assert_one_clear_line(done, "bucket no-such-bucket does not exist", "create it")


def test_show_of_a_table_not_written_yet(tmp_path) -> None:
    done, _ = lakehouse(["show", "bronze.quarantine", "--lake-root", str(tmp_path)])
    assert_one_clear_line(done, "does not exist", "run `lakehouse ingest` first")


def test_debug_shows_the_trace(tmp_path) -> None:
    (tmp_path / "lake").write_text("oops")
    done, _ = lakehouse(["ingest", "--debug", "--lake-root", str(tmp_path / "lake")])
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("lakehouse ingest: error: lake root")


def test_real_java_failures_translate(spark, tmp_path, s3proxy: S3ProxyServer) -> None:
    from py4j.protocol import Py4JJavaError

    with pytest.raises(Py4JJavaError) as missing:
        spark.read.format("delta").load("s3a://no-such-bucket/t").count()
    context = storage_context("s3a://no-such-bucket/t", s3proxy.endpoint)
    assert isinstance(translate(missing.value, context), S3BucketMissingError)

    (tmp_path / "afile").write_text("x")
    target = f"file:{tmp_path}/afile/table"
    with pytest.raises(Py4JJavaError) as blocked:
        spark.range(1).write.format("delta").save(target)
    error = translate(blocked.value, storage_context(target, None))
    assert isinstance(error, LakeRootIsFileError), str(blocked.value)[:2000]


def test_show_reads_s3_and_names_a_wrong_secret(s3proxy: S3ProxyServer) -> None:
    """The JVM-free reader on S3Proxy: rows come back; a wrong secret is one clear line."""
    import pyarrow as pa
    from deltalake import write_deltalake

    options = {
        "AWS_ENDPOINT_URL": s3proxy.endpoint,
        "AWS_ACCESS_KEY_ID": s3proxy.access_key,
        "AWS_SECRET_ACCESS_KEY": s3proxy.secret_key,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",  # test set-up only: one writer, no lock
    }
    table = pa.table({"lrn": ["A1", "B2"], "error_code": ["SYNTAX", "SCHEMA"]})
    write_deltalake("s3://lake/show-test/bronze/quarantine", table, storage_options=options)
    root = ["--lake-root", "s3a://lake/show-test"]
    done, _ = lakehouse(
        ["show", "bronze.quarantine", "--where", "error_code = 'SCHEMA'", "--format", "csv", *root],
        s3_env(s3proxy),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["lrn,error_code", "B2,SCHEMA"]
    done, _ = lakehouse(
        ["show", "bronze.quarantine", *root], s3_env(s3proxy, LAKEHOUSE_S3_SECRET_KEY="wrong")
    )
    assert_one_clear_line(done, "S3 refused access to bucket lake", "LAKEHOUSE_S3_SECRET_KEY")
