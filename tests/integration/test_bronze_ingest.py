"""Bronze ingestion on a real Spark + Delta: exactly once, nothing lost, local and s3a://."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lakehouse.errors import IngestError
from lakehouse.ingest.bronze import ingest_landing, init_lake
from lakehouse.settings import Settings

pytestmark = pytest.mark.integration

DAY = "2026-11-24"


def payment(i: int, amount: str = "100.00") -> dict:
    return {
        "payment_id": f"PAY{i:05d}",
        "kind": "payment",
        "declaration_ref": f"LRN{i:05d}",
        "tax_type": "CUD",
        "amount": amount,
        "currency": "KES",
        "method": "EFT",
        "payment_reference": f"REF{i}",
        "value_date": DAY,
        "recorded_at": f"{DAY}T10:00:00Z",
    }


def land(root: Path, feed: str, name: str, data: bytes) -> Path:
    path = root / "landing" / feed / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ndjson(rows: list) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode() + b"\n"


def counts(spark, settings: Settings) -> dict[str, int]:
    out = {}
    for table in ("erp_payments", "quarantine", "ingest_file_log"):
        out[table] = spark.read.format("delta").load(settings.table_uri("bronze", table)).count()
    return out


def local_settings(spark, base: Settings, tmp_path: Path) -> Settings:
    """Settings of a fresh lake under tmp_path, created with ``init_lake``."""
    settings = dataclasses.replace(base, lake_root=(tmp_path / "lake").resolve().as_uri())
    init_lake(spark, settings)
    return settings


def test_valid_records_load_beside_bad_ones_and_replay_adds_nothing(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    land(
        root,
        "erp/payments",
        "a.ndjson",
        ndjson([payment(1), "{not json", payment(2, amount="12.5x")]),
    )
    land(root, "erp/payments", "b.ndjson", ndjson([payment(3), payment(4)]))
    first = ingest_landing(spark, settings)
    assert first.records == {"erp_payments": 3}
    assert first.rejected == 2
    q = spark.read.format("delta").load(settings.table_uri("bronze", "quarantine"))
    rows = sorted((r.message_index, r.error_code, r.raw_payload) for r in q.collect())
    assert [(i, code) for i, code, _ in rows] == [(1, "SYNTAX"), (2, "SCHEMA")]
    assert rows[0][2] == "{not json"
    payments = spark.read.format("delta").load(settings.table_uri("bronze", "erp_payments"))
    meta = payments.where("payment_id = 'PAY00003'").select("_ingest.*").first()
    assert meta.source_uri.endswith("/landing/erp/payments/2026-11-24/b.ndjson")
    assert meta.system == "erp" and meta.feed == "payments" and len(meta.file_sha256) == 64
    before = counts(spark, settings)
    second = ingest_landing(spark, settings)
    assert second.total_records == 0 and second.files_ingested == 0
    assert counts(spark, settings) == before


def test_same_content_under_a_new_name_is_recognised_as_duplicate(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    body = ndjson([payment(10), payment(11)])
    land(root, "erp/payments", "first.ndjson", body)
    ingest_landing(spark, settings)
    land(root, "erp/payments", "renamed.ndjson", body)
    land(root, "erp/payments", "renamed-again.ndjson", body)
    report = ingest_landing(spark, settings)
    assert report.files_duplicate == 2 and report.total_records == 0
    log = spark.read.format("delta").load(settings.table_uri("bronze", "ingest_file_log"))
    dups = log.where("status = 'duplicate'").collect()
    assert {Path(r.source_uri).name for r in dups} == {"renamed.ndjson", "renamed-again.ndjson"}
    assert all(r.duplicate_of.endswith("first.ndjson") for r in dups)
    assert counts(spark, settings)["erp_payments"] == 2


@pytest.mark.parametrize(
    ("fail_at", "engine"),
    [
        ("after_plan", "local"),
        ("after_table:erp_payments", "local"),
        ("after_table:quarantine", "local"),
        ("before_commit", "local"),
        # The Spark parse commits the same way: one kill is enough to show it resumes.
        ("after_table:erp_payments", "spark"),
    ],
)
def test_a_run_killed_at_any_step_then_rerun_leaves_every_record_once(
    spark, base_settings, tmp_path, fail_at: str, engine: str
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    land(root, "erp/payments", "a.ndjson", ndjson([payment(1), payment(2), "[]"]))
    land(root, "erp/payments", "b.ndjson", ndjson([payment(3)]))
    with pytest.raises(IngestError, match="stopped at"):
        ingest_landing(spark, settings, fail_at=fail_at, engine=engine)
    # A file that arrives after the crash waits for the next batch, and still loads once.
    land(root, "erp/payments", "c.ndjson", ndjson([payment(4)]))
    ingest_landing(spark, settings, engine=engine)
    ingest_landing(spark, settings, engine=engine)
    payments = spark.read.format("delta").load(settings.table_uri("bronze", "erp_payments"))
    ids = sorted(r.payment_id for r in payments.collect())
    assert ids == ["PAY00001", "PAY00002", "PAY00003", "PAY00004"]
    assert not (root / "bronze" / "_staging").exists()
    # Every data file in the table folder is committed: none was left behind by the kill.
    table = spark.read.format("delta").load(settings.table_uri("bronze", "erp_payments"))
    committed = {Path(f).name for f in table.inputFiles()}
    assert committed == {p.name for p in (root / "bronze" / "erp_payments").glob("*.parquet")}
    assert counts(spark, settings)["quarantine"] == 1
    log = spark.read.format("delta").load(settings.table_uri("bronze", "ingest_file_log"))
    committed = (
        log.where("status = 'committed'").select("source_uri", "records", "rejected").collect()
    )
    assert sorted((Path(r.source_uri).name, r.records, r.rejected) for r in committed) == [
        ("a.ndjson", 2, 1),
        ("b.ndjson", 1, 0),
        ("c.ndjson", 1, 0),
    ]


def test_parts_a_killed_run_staged_are_never_read_and_are_removed(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    land(root, "erp/payments", "a.ndjson", ndjson([payment(1)]))
    # What a run killed while parsing leaves: parts (one cut short) no summary names.
    stale = root / "bronze" / "_staging" / "batch-1" / "erp_payments"
    stale.mkdir(parents=True)
    (stale / "part-killed.parquet").write_bytes(b"PAR1 cut short")
    report = ingest_landing(spark, settings)
    assert report.records == {"erp_payments": 1} and report.rejected == 0
    assert counts(spark, settings)["erp_payments"] == 1
    assert [p for p in (root / "bronze" / "_staging").rglob("*") if p.is_file()] == []


def test_a_worker_stores_a_part_whenever_it_passes_the_size_limit(
    spark, base_settings, tmp_path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakehouse.ingest.bronze import _context
    from lakehouse.ingest.dispatch import ParseOptions
    from lakehouse.ingest.worker import make_parser

    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    paths = [
        land(root, "erp/payments", f"{n}.ndjson", ndjson([payment(2 * n), payment(2 * n + 1)]))
        for n in range(3)
    ]
    ctx = dataclasses.replace(_context(settings, 1, ParseOptions()), part_bytes=1)
    listing = pa.RecordBatch.from_pydict(
        {
            "path": [p.resolve().as_uri().replace("file:///", "file:/") for p in paths],
            "modificationTime": pa.array([None] * 3, pa.timestamp("us", tz="UTC")),
        }
    )
    summary = pa.Table.from_batches(list(make_parser(ctx)(iter([listing])))).to_pylist()
    parts = [r["part"] for r in summary if r["part"]]
    assert len(parts) == 3  # one per file: each file's rows pass the 1-byte limit
    ids = sorted(
        i
        for part in parts
        for i in pq.read_table(part.removeprefix("file:"))["payment_id"].to_pylist()
    )
    assert ids == [f"PAY{i:05d}" for i in range(6)]
    assert sorted(r["rows"] for r in summary if r["path"]) == [2, 2, 2]


def test_files_outside_the_convention_and_empty_files_are_quarantined(
    spark, base_settings, tmp_path
) -> None:
    settings = local_settings(spark, base_settings, tmp_path)
    root = tmp_path / "lake"
    stray = root / "landing" / "erp" / "unknown-feed" / DAY / "x.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\x00\xffpayload")
    land(root, "erp/payments", "empty.ndjson", b"")
    report = ingest_landing(spark, settings)
    assert report.rejected == 2
    q = {
        r.error_code: r
        for r in spark.read.format("delta")
        .load(settings.table_uri("bronze", "quarantine"))
        .collect()
    }
    assert set(q) == {"UNSUPPORTED", "EMPTY"}
    assert "landing-zone convention" in q["UNSUPPORTED"].reason
    assert q["UNSUPPORTED"].raw_payload == b"\x00\xffpayload".decode("latin-1")


def test_ingestion_reads_and_writes_through_s3a(spark, base_settings, s3proxy) -> None:
    settings = dataclasses.replace(base_settings, lake_root="s3a://lake/ingest-test")
    init_lake(spark, settings)
    client = s3proxy.client()
    key = f"ingest-test/landing/erp/payments/{DAY}/s3.ndjson"
    client.put_object(Bucket="lake", Key=key, Body=ndjson([payment(7), payment(8), "oops"]))
    report = ingest_landing(spark, settings)
    assert report.records == {"erp_payments": 2} and report.rejected == 1
    again = ingest_landing(spark, settings)
    assert again.files_ingested == 0
    assert counts(spark, settings) == {"erp_payments": 2, "quarantine": 1, "ingest_file_log": 2}
    staged = client.list_objects_v2(Bucket="lake", Prefix="ingest-test/bronze/_staging/")
    assert staged.get("KeyCount", 0) == 0
