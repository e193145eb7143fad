"""The new bronze path on S3 (S3Proxy): killed at every step, compacted, replayed, raced.

The ingestion runs JVM-free (local parse, delta-rs commits); Spark only creates the lake once
(a template every test copies) and checks that delta-spark reads what delta-rs wrote.

A kill is real: a child process (:mod:`tests.integration.killed_ingest`) SIGKILLs itself at
the step, leaving its uploads, its open batch and its lease behind. After each kill a reader
sees each table with all of the batch or none of it, and the file log with none of it; the
next run then leaves the lake exactly as a run that was never killed (rows, ids, batch ids,
quarantine), with no data file on S3 that the log does not name, nor the other way round.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakehouse.ingest.bronze import TXN_DATA, ingest_landing, init_lake
from lakehouse.ingest.delta_commit import (
    committed_names,
    open_table,
    query,
    recorded,
)
from lakehouse.ingest.lease import hold_lease
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles
from tests.integration.killed_ingest import STEPS
from tests.integration.test_bronze_ingest import DAY, ndjson, payment
from tests.samples import HR_RECORDS

pytestmark = pytest.mark.integration

BUCKET = "lake"
REPO = Path(__file__).resolve().parents[2]
# Tables one batch below writes to, and the file log.
DATA_TABLES = ("erp_payments", "hr_officers", "hr_postings", "hr_shifts", "quarantine")
TABLES = (*DATA_TABLES, "ingest_file_log")
# Values that differ between two lakes holding the same data: run times, and the landed
# files' S3 modification times.
_PER_RUN = {"ingested_at", "quarantined_at", "committed_at", "modified_at", "received_at"}

HR = [
    *HR_RECORDS,
    {"record_type": "contractor", "officer_id": "OFF-9"},  # quarantined: no such record type
]


# -- the lake on S3 --------------------------------------------------------------------------


def _prefix(settings: Settings) -> str:
    return settings.lake_root.removeprefix(f"s3a://{BUCKET}/")


def keys(client: Any, settings: Settings, below: str) -> list[str]:
    """Object keys below a folder of the lake, relative to that folder."""
    base = f"{_prefix(settings)}/{below.rstrip('/')}/"
    found: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=base):
        found += [o["Key"][len(base) :] for o in page.get("Contents", [])]
    return found


def put(client: Any, settings: Settings, feed: str, name: str, body: bytes) -> None:
    """Land a file, as NiFi's PutS3Object would."""
    key = f"{_prefix(settings)}/landing/{feed}/{DAY}/{name}"
    client.put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture(scope="module")
def new_lake(spark, base_settings, s3proxy) -> Callable[[str], Settings]:
    """Makes an empty lake on S3Proxy by copying one made by ``init_lake`` (Spark) once."""
    client = s3proxy.client()
    template = dataclasses.replace(base_settings, lake_root=f"s3a://{BUCKET}/recovery/template")
    init_lake(spark, template)
    objects = keys(client, template, "bronze")

    def make(name: str) -> Settings:
        settings = dataclasses.replace(template, lake_root=f"s3a://{BUCKET}/recovery/{name}")
        assert not keys(client, settings, ""), f"lake {name} exists already"
        for key in objects:
            client.copy_object(
                Bucket=BUCKET,
                Key=f"{_prefix(settings)}/bronze/{key}",
                CopySource={"Bucket": BUCKET, "Key": f"{_prefix(template)}/bronze/{key}"},
            )
        return settings

    return make


def _plain(value: Any, root: str) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v, root) for k, v in value.items() if k not in _PER_RUN}
    if isinstance(value, list):
        return [_plain(v, root) for v in value]
    if isinstance(value, str):
        return value.replace(root, "<lake>")
    return value


def rows(settings: Settings, table: str) -> list[str]:
    """The table's rows as delta-rs reads them, lake-independent, in a stable order."""
    found = query(settings, table, "SELECT * FROM t").to_pylist()
    return sorted(repr(_plain(r, settings.lake_root)) for r in found)


def snapshot(settings: Settings) -> dict[str, list[str]]:
    return {table: rows(settings, table) for table in TABLES}


def data_files(client: Any, settings: Settings, table: str) -> list[str]:
    """Names of the Parquet files at the top of a table's folder (its data files) on S3."""
    found = keys(client, settings, f"bronze/{table}")
    return [k for k in found if k.endswith(".parquet") and "/" not in k]


def uncommitted(client: Any, settings: Settings) -> dict[str, set[str]]:
    """Per table: data files on S3 the snapshot does not name, and named files not on S3."""
    out = {}
    for table in DATA_TABLES:
        stored = set(data_files(client, settings, table))
        named = committed_names(open_table(settings, table))
        out[table] = stored ^ named
    return out


# -- the batches -----------------------------------------------------------------------------


def land_first(client: Any, settings: Settings) -> None:
    put(client, settings, "erp/payments", "p1.ndjson", ndjson([payment(1), payment(2)]))


def land_second(client: Any, settings: Settings) -> None:
    """Three tables of HR, payments, two quarantined lines and a duplicate of a batch-1 file."""
    put(client, settings, "erp/payments", "a.ndjson", ndjson([payment(3), payment(4), "oops"]))
    put(client, settings, "hr/records", "h.ndjson", ndjson(HR))
    put(client, settings, "erp/payments", "p1-again.ndjson", ndjson([payment(1), payment(2)]))


@dataclasses.dataclass(frozen=True)
class Clean:
    """A lake's tables after a first batch and after the second, with no kill."""

    first: dict[str, list[str]]
    second: dict[str, list[str]]


@pytest.fixture(scope="module")
def clean(new_lake, s3proxy) -> Clean:
    settings = new_lake("clean")
    client = s3proxy.client()
    land_first(client, settings)
    ingest_landing(None, settings, engine="local")
    first = snapshot(settings)
    land_second(client, settings)
    report = ingest_landing(None, settings, engine="local")
    assert report.batches == [2] and report.files_duplicate == 1 and report.rejected == 2
    assert report.records == {"erp_payments": 2, "hr_officers": 1, "hr_postings": 1, "hr_shifts": 1}
    return Clean(first, snapshot(settings))


def run_killed(settings: Settings, step: str, workdir: Path) -> None:
    """Run the ingestion in a child process that SIGKILLs itself at ``step``."""
    handed = workdir / "settings.pickle"
    handed.touch(mode=0o600)  # it holds the S3 keys
    handed.write_bytes(pickle.dumps(settings))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.killed_ingest", str(handed), step],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


# -- kill at every step ----------------------------------------------------------------------

# step -> how many data tables hold batch 2 when the process dies
_HOLDING = {
    "mid_upload": 0,
    "before_plan": 0,
    "before_tables": 0,
    "mid_tables": 1,
    "before_log_commit": len(DATA_TABLES),
    "after_log_commit": len(DATA_TABLES),
}


def _batch_statuses(settings: Settings, batch: int) -> set[str]:
    found = query(settings, "ingest_file_log", f"SELECT status FROM t WHERE batch_id = {batch}")
    return set(found.column("status").to_pylist())


@pytest.mark.parametrize("step", list(STEPS))
def test_on_s3_a_run_killed_at_any_step_then_rerun_leaves_every_record_once(
    spark, s3proxy, new_lake, clean, step: str, tmp_path
) -> None:
    settings = new_lake(f"killed-{step.replace('_', '-')}")
    client = s3proxy.client()
    land_first(client, settings)
    ingest_landing(None, settings, engine="local")
    land_second(client, settings)

    run_killed(settings, step, tmp_path)
    assert keys(client, settings, "_lease") == ["bronze.json"]  # a real kill: never released
    # Nothing partial for a reader: each table holds all of batch 2 or none of it...
    holding = []
    for table in DATA_TABLES:
        now = rows(settings, table)
        assert now in (clean.first[table], clean.second[table]), table
        holding += [table] if now == clean.second[table] != clean.first[table] else []
    assert len(holding) == _HOLDING[step], holding
    # ...the file log names the batch committed only once every table holds it...
    statuses = _batch_statuses(settings, 2)
    logged = {
        "mid_upload": set(),
        "before_plan": set(),
        "after_log_commit": {"planned", "committed", "duplicate"},
    }
    assert statuses == logged.get(step, {"planned"})
    # ...and delta-spark reads only committed files, whatever the kill left in the folders.
    payments_uri = settings.table_uri("bronze", "erp_payments")
    expected = 4 if "erp_payments" in holding else 2
    assert spark.read.format("delta").load(payments_uri).count() == expected
    if _HOLDING[step] < len(DATA_TABLES):  # uploaded and never committed: what a kill leaves
        assert any(uncommitted(client, settings).values())

    said: list[str] = []
    report = ingest_landing(None, settings, engine="local", progress=said.append)
    assert any("took over the lake's lease" in line for line in said), said
    assert report.batches == ([] if step == "after_log_commit" else [2])
    assert snapshot(settings) == clean.second
    assert not any(uncommitted(client, settings).values())
    assert keys(client, settings, "bronze/_staging") == []
    assert keys(client, settings, "_lease") == []
    again = ingest_landing(None, settings, engine="local")
    assert again.batches == [] and again.files_ingested == 0
    ids = sorted(r.payment_id for r in spark.read.format("delta").load(payments_uri).collect())
    assert ids == ["PAY00001", "PAY00002", "PAY00003", "PAY00004"]


# -- compaction and replay on S3 -------------------------------------------------------------


def _log_versions(client: Any, settings: Settings, table: str) -> list[int]:
    """Versions of the commit files in the table's log on S3."""
    names = keys(client, settings, f"bronze/{table}/_delta_log")
    return sorted(int(n.split(".")[0]) for n in names if n.endswith(".json") and n[0].isdigit())


def test_compaction_on_s3_keeps_every_row_and_delta_spark_reads_the_result(
    spark, s3proxy, new_lake
) -> None:
    from lakehouse.ingest.compact import compact_bronze

    settings = new_lake("compact")
    client = s3proxy.client()
    for minute in range(3):  # three minute-increments: a small file per batch and table
        put(client, settings, "erp/payments", f"m{minute}.ndjson", ndjson([payment(minute), "{x"]))
        ingest_landing(None, settings, engine="local")
    uri = settings.table_uri("bronze", "erp_payments")
    # A checkpoint Spark wrote, which the compaction's delta-rs checkpoint supersedes.
    jvm = spark.sparkContext._jvm
    jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, uri).checkpoint()
    # Trimming the log needs commits older than the retention: none is 30 days old here.
    open_table(settings, "erp_payments").alter.set_table_properties(
        {"delta.logRetentionDuration": "interval 0 seconds"}
    )
    before = {table: rows(settings, table) for table in ("erp_payments", "quarantine")}
    log_before = rows(settings, "ingest_file_log")
    old_files = data_files(client, settings, "erp_payments")

    with hold_lease(settings, "test compact") as lease:
        done = {c.table: c for c in compact_bronze(settings, lease, vacuum_hours=0)}
        again = compact_bronze(settings, lease, vacuum_hours=0)
    assert not [c.table for c in again if c.changed]  # a re-run commits nothing
    payments = done["erp_payments"]
    version = open_table(settings, "erp_payments").version()
    assert (payments.files_removed, payments.files_added, payments.files_vacuumed) == (3, 1, 3)
    assert payments.checkpoint == version and payments.logs_removed > 0
    assert (done["quarantine"].files_removed, done["ingest_file_log"].files_removed) == (3, 6)
    # Same rows; on S3 only the one compacted file is left, and the log starts at the checkpoint.
    assert {t: rows(settings, t) for t in before} == before
    assert rows(settings, "ingest_file_log") == log_before
    assert not any(uncommitted(client, settings).values())
    (compacted,) = data_files(client, settings, "erp_payments")
    assert compacted not in old_files
    assert _log_versions(client, settings, "erp_payments") == [version]
    last = LakeFiles(settings).read(f"{uri}/_delta_log/_last_checkpoint")
    assert json.loads(last)["version"] == version
    # The batches' application transactions live on in the checkpoint.
    assert recorded(open_table(settings, "erp_payments"), TXN_DATA, 3)

    # delta-spark (whose cached log predates the trim) reads the compacted table right,
    # data skipping on the new file's statistics included.
    frame = spark.read.format("delta").load(uri)
    assert frame.count() == 3 and frame.where("_ingest.batch_id = 2").count() == 1
    assert frame.where("payment_id = 'PAY00002'").count() == 1
    quarantine = spark.read.format("delta").load(settings.table_uri("bronze", "quarantine"))
    assert quarantine.count() == 3
    # Exactly-once still holds: nothing is read again, a new file is the next batch.
    put(client, settings, "erp/payments", "late.ndjson", ndjson([payment(7)]))
    later = ingest_landing(None, settings, engine="local")
    assert later.batches == [4] and later.records == {"erp_payments": 1}
    assert ingest_landing(None, settings, engine="local").batches == []
    assert spark.read.format("delta").load(uri).count() == 4


def test_on_s3_a_replay_killed_after_its_commit_is_finished_once_by_the_next(
    spark, s3proxy, new_lake, tmp_path
) -> None:
    from lakehouse.ingest.replay import ReplayFilter, replay_quarantine
    from tests.integration.test_ingest_landing_rules import _CUSDEC

    strict = dataclasses.replace(new_lake("replay"), strict_control_counts=True)
    client = s3proxy.client()
    body = "\n".join(s + "'" for s in _CUSDEC)
    data = f"UNA:+.? '\nUNB+UNOC:3+SENDER1:ZZZ+KRA:ZZZ+240102:1530+IC-9'\n{body}\nUNZ+1+IC-9'\n"
    put(client, strict, "cms/edifact", "strict.edi", data.encode())
    first = ingest_landing(None, strict, engine="local")
    assert first.rejected == 1 and first.total_records == 0
    relaxed = dataclasses.replace(strict, strict_control_counts=False)

    run_killed(relaxed, "replay_before_log", tmp_path)
    assert len(rows(relaxed, "cms_declarations")) == 1  # committed; not logged, not marked
    quarantine_uri = relaxed.table_uri("bronze", "quarantine")
    assert spark.read.format("delta").load(quarantine_uri).where("replayed_at IS NULL").count() == 1
    # The next ingest takes over the dead replay's lease, takes the same batch id and keeps
    # the replay's committed file; the next replay marks what the killed one loaded.
    assert ingest_landing(None, relaxed, engine="local").batches == []
    with hold_lease(relaxed, "test replay") as lease:
        again = replay_quarantine(None, relaxed, lease, ReplayFilter(code="CONTROL_COUNT"))
    assert again.total_records == 0 and again.marked == 1
    declarations = spark.read.format("delta").load(relaxed.table_uri("bronze", "cms_declarations"))
    assert [(d.lrn, d._ingest.batch_id) for d in declarations.collect()] == [("LRN-REPLAY-1", 2)]
    (q,) = spark.read.format("delta").load(quarantine_uri).collect()  # delta-rs's MERGE
    assert q.replayed_at is not None and q.replay_batch_id == 2
    assert keys(client, relaxed, "bronze/_staging") == []
    assert set(data_files(client, relaxed, "cms_declarations")) == committed_names(
        open_table(relaxed, "cms_declarations")
    )


def test_on_s3proxy_a_delta_rs_commit_never_overwrites_a_concurrent_one(s3proxy, new_lake) -> None:
    """The lease keeps one writer; should two ever commit, the conditional PUT keeps both."""
    import pyarrow as pa
    from botocore.exceptions import ClientError
    from deltalake import write_deltalake

    from lakehouse.ingest.delta_commit import arrow_schema, without_checkpoint
    from lakehouse.tables import BRONZE

    settings = new_lake("race")
    client = s3proxy.client()
    log = f"{_prefix(settings)}/bronze/hr_postings/_delta_log/{0:020d}.json"
    with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
        client.put_object(Bucket=BUCKET, Key=log, Body=b"{}", IfNoneMatch="*")

    schema = arrow_schema(BRONZE["hr_postings"], with_ingest=True)

    def posting(posting_id: str) -> pa.Table:
        table = pa.table({f.name: pa.nulls(1, f.type) for f in schema}, schema=schema)
        return table.set_column(0, "posting_id", pa.array([posting_id]))

    first, second = (open_table(settings, "hr_postings") for _ in range(2))
    start = first.version()
    write_deltalake(first, posting("P-first"), mode="append", **without_checkpoint())
    # The second writer's snapshot is the old one: its commit meets version start+1 taken.
    write_deltalake(second, posting("P-second"), mode="append", **without_checkpoint())
    latest = open_table(settings, "hr_postings")
    assert latest.version() == start + 2
    ids = query(settings, "hr_postings", "SELECT posting_id FROM t").column(0).to_pylist()
    assert sorted(ids) == ["P-first", "P-second"]
