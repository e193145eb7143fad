"""No secret on any command line while Spark works on S3 (real Spark, Delta, S3Proxy).

Every local user can read ``/proc/<pid>/cmdline`` of every process, so a secret there is a
leak. The S3Proxy of the test run checks request signatures against a secret made fresh for
this run, so finding that value anywhere is a leak of ours, and the Delta write below can only
succeed when the JVM got the keys some other way.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _command_lines() -> dict[int, str]:
    """pid -> command line (NUL-separated arguments joined by spaces) of every process."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # exited while we looked
            continue
        lines[int(entry.name)] = raw.replace(b"\0", b" ").decode("utf-8", "replace")
    return lines


def test_s3_keys_are_on_no_command_line_while_spark_writes_delta_to_s3(
    spark, s3proxy, base_settings
) -> None:
    uri = "s3a://lake/tests/no_secrets"
    spark.range(50).write.format("delta").mode("overwrite").save(uri)
    assert spark.read.format("delta").load(uri).count() == 50
    # Python workers too: a Python function makes Spark start its worker daemon.
    assert spark.sparkContext.parallelize(range(8), 2).map(lambda x: x * 2).sum() == 56

    lines = _command_lines()
    jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    # The options really are on the JVM's command line (so this test looks at the right
    # place), only the keys are not.
    assert "spark.hadoop.fs.s3a.endpoint" in lines[jvm_pid]
    assert "fs.s3a.secret.key" not in lines[jvm_pid]
    for secret in (s3proxy.secret_key, base_settings.s3.secret_key):
        leaks = {pid: line[:200] for pid, line in lines.items() if secret in line}
        assert leaks == {}, f"secret on the command line of {leaks}"

    # The keys are where the session put them, in the running JVM's Hadoop configuration.
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    assert hadoop.get("fs.s3a.secret.key") == s3proxy.secret_key

    # Python workers inherit the environment; /proc/<pid>/environ is readable by the owner only.
    workers = [pid for pid, line in lines.items() if "pyspark.daemon" in line]
    assert workers, "no Python worker daemon found"
    for pid in [jvm_pid, *workers]:
        mode = stat.S_IMODE(os.stat(f"/proc/{pid}/environ").st_mode)
        assert mode & 0o077 == 0, f"/proc/{pid}/environ is readable by others ({mode:o})"
