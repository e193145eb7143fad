"""The ingestion flows run for real on NiFi Stateless 2.3.0, and bronze loads what they land.

What runs (each flow's own JSON, with the production-only S3 branch pruned because
nifi-aws-nar is not available here, see nifi_flows.stateless.prune_bundles):

* ERP payments: QueryDatabaseTableRecord + DBCPConnectionPool against the real PostgreSQL
  fixture, twice, to prove the erp_seq watermark: the second run lands only the new rows.
* HR daily sync: ListFile (CRON_DRIVEN in the JSON; Stateless triggers it once) + FetchFile.
* CMS HTTP: the flow's ListenHTTP source cannot receive under trigger-once Stateless (the
  listener lives only for the ~0.3 s trigger, docs/nifi_flows.md), so the test swaps only that
  one source for GetFile + the Content-Type a client would send; routing by content type,
  tagging, hashing, naming and the sink are the shipped JSON.
* Score export: outbound files (scores, manifest, checksum) copied to the CMS drop.

Then ``ingest_landing`` takes the landed files into bronze and the records are checked there.
About 4 x 3-5 s of Stateless plus one bronze batch.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lakehouse.landing import FEEDS, feed_of
from lakehouse.settings import override_settings
from nifi_flows.stateless import (
    StatelessInstall,
    prune_bundles,
    run_flow,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FLOWS = Path(__file__).resolve().parents[3] / "nifi_flows" / "flows"
DRIVER = Path.home() / ".cache" / "customs-lakehouse" / "jars" / "spark" / "postgresql-42.7.14.jar"
NAME_RE = re.compile(
    r"^(?P<system>[a-z]+)_(?P<feed>[a-z]+)_\d{8}T\d{6}_(?P<sha12>[0-9a-f]{12})\.(?P<ext>\w+)$"
)

PAYMENTS_DDL = """
CREATE TABLE payments (
  erp_seq bigserial PRIMARY KEY, payment_id text NOT NULL, kind text NOT NULL,
  declaration_ref text, tax_type text, amount numeric(18,4) NOT NULL, currency char(3) NOT NULL,
  method text, payment_reference text, value_date date NOT NULL, recorded_at timestamptz,
  internal_note text)
"""
INSERT = (
    "INSERT INTO payments (payment_id, kind, declaration_ref, tax_type, amount, currency, method,"
    " payment_reference, value_date, recorded_at, internal_note) VALUES"
    " (%s, %s, %s, 'IMPORT_DUTY', %s, 'KES', 'EFT', %s, '2026-11-20', '2026-11-20T08:30:00Z', 'x')"
)


def _directory_variant(stem: str, tmp: Path, mutate: Any = None) -> Path:
    flow = prune_bundles(json.loads((FLOWS / f"{stem}.json").read_text()), ["nifi-aws-nar"])
    if mutate:
        # The CMS listener's TLS context goes with the listener the mutation swaps out.
        flow = prune_bundles(flow, ["nifi-ssl-context-service-nar"])
        mutate(flow)
    out = tmp / f"{stem}.stateless.json"
    out.write_text(json.dumps(flow))
    return out


def _landed(landing: Path, feed: str) -> list[Path]:
    return sorted(p for p in (landing / feed).rglob("*") if p.is_file())


def _swap_http_source_for_getfile(spool: Path) -> Any:
    """Replace ListenHTTP by GetFile -> UpdateAttribute(mime.type) (what a POST would carry)."""

    def mutate(flow: dict[str, Any]) -> None:
        contents = flow["flowContents"]
        listen = next(p for p in contents["processors"] if p["type"].endswith(".ListenHTTP"))
        set_mime = json.loads(json.dumps(listen))
        listen.update(
            type="org.apache.nifi.processors.standard.GetFile",
            name="Spool of posted bodies",
            properties={
                "Input Directory": str(spool),
                "Keep Source File": "false",
                "File Filter": "[^\\.].*",
            },
        )
        set_mime.update(
            identifier="6a0d3a43-0000-4000-8000-00000000c0de",
            instanceIdentifier="6a0d3a43-0000-4000-8000-00000000c0df",
            name="Content-Type of the post",
            type="org.apache.nifi.processors.attributes.UpdateAttribute",
            bundle={**listen["bundle"], "artifact": "nifi-update-attribute-nar"},
            properties={
                "mime.type": (
                    "${filename:endsWith('.xml'):ifElse('application/xml', 'application/x-ndjson')}"
                )
            },
        )
        contents["processors"].append(set_mime)
        conn = next(c for c in contents["connections"] if c["source"]["id"] == listen["identifier"])
        extra = json.loads(json.dumps(conn))
        conn["source"] = {**conn["source"], "id": set_mime["identifier"], "name": set_mime["name"]}
        extra.update(
            identifier="6a0d3a43-0000-4000-8000-0000000c0de1",
            instanceIdentifier="6a0d3a43-0000-4000-8000-0000000c0de2",
        )
        extra["destination"] = {
            **extra["destination"],
            "id": set_mime["identifier"],
            "name": set_mime["name"],
        }
        contents["connections"].append(extra)
        params = flow["parameterContexts"][contents["parameterContextName"]]["parameters"]
        flow["parameterContexts"][contents["parameterContextName"]]["parameters"] = [
            p for p in params if not p["name"].startswith("cms.http.")
        ]

    return mutate


def test_ingestion_flows_land_by_convention_and_load_into_bronze(
    install: StatelessInstall, postgres, spark, base_settings, tmp_path: Path
) -> None:
    import psycopg

    from lakehouse.ingest.bronze import ingest_landing, init_lake
    from lakehouse.simulator.engine import generate

    lake = tmp_path / "lake"
    landing = lake / "landing"
    sample = tmp_path / "sample"
    generate(str(sample), declarations=4, malformed_rate=0.0)
    sample_files = {feed_of(str(p)).key: p for p in (sample / "landing").rglob("*") if p.is_file()}
    common = {"landing.sink": "directory", "landing.directory": str(landing)}

    # --- ERP payments: two runs against PostgreSQL, the second lands only the new rows -------
    if not DRIVER.is_file():
        pytest.skip(f"PostgreSQL JDBC driver missing at {DRIVER}: run scripts/bootstrap.sh")
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS payments")
        conn.execute(PAYMENTS_DDL)
        conn.execute(INSERT, ("PAY-1", "payment", "DEC-1", "1234.5600", "R1"))
        conn.execute(INSERT, ("PAY-2", "refund", None, "-10.0100", "R2"))
    erp_flow = _directory_variant("erp_payments_db", tmp_path)
    erp_params = {
        **common,
        "erp.db.url": f"jdbc:postgresql://127.0.0.1:{postgres.port}/lakehouse",
        "erp.db.user": postgres.user,
        "erp.db.password": "trust-auth-ignores-it",
        "erp.db.driver.location": str(DRIVER),
        "erp.payments.table": "payments",
        "erp.poll.interval": "1 min",
    }
    state = tmp_path / "erp-state.properties"
    first = run_flow(
        erp_flow, erp_params, install=install, work_dir=tmp_path / "erp1", state_file=state
    )
    assert first.outputs.get("failure", 0) == 0
    assert len(_landed(landing, "erp/payments")) == 1
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(INSERT, ("PAY-3", "payment", "DEC-3", "0.0001", "R3"))
    run_flow(erp_flow, erp_params, install=install, work_dir=tmp_path / "erp2", state_file=state)
    erp_files = _landed(landing, "erp/payments")
    assert len(erp_files) == 2, erp_files
    lines = sorted(
        (json.loads(line) for f in erp_files for line in f.read_text().splitlines()),
        key=lambda r: r["erp_seq"],
    )
    assert [r["payment_id"] for r in lines] == ["PAY-1", "PAY-2", "PAY-3"], "each row exactly once"
    assert lines[0]["amount"] == "1234.5600" and lines[1]["declaration_ref"] is None
    assert "internal_note" not in lines[0]

    # --- HR daily sync ---------------------------------------------------------------------
    export = tmp_path / "hr-export"
    export.mkdir()
    hr_source = sample_files["hr/records"]
    shutil.copy(hr_source, export / "hr_20261125.ndjson")
    run_flow(
        _directory_variant("hr_daily_sync", tmp_path),
        {**common, "hr.export.directory": str(export), "hr.sync.cron": "0 30 2 * * ?"},
        install=install,
        work_dir=tmp_path / "hr",
    )
    assert list(export.iterdir()) == [], "FetchFile removes the export once landed"
    (hr_landed,) = _landed(landing, "hr/records")
    assert hr_landed.read_bytes() == hr_source.read_bytes()

    # --- CMS XML + JSON "posts" (HTTP source swapped, see module docstring) ------------------
    spool = tmp_path / "posted"
    spool.mkdir()
    shutil.copy(sample_files["cms/xml"], spool / "post-1.xml")
    shutil.copy(sample_files["cms/json"], spool / "post-2.json")
    run_flow(
        _directory_variant("cms_http_ingest", tmp_path, _swap_http_source_for_getfile(spool)),
        common,
        install=install,
        work_dir=tmp_path / "cms",
    )
    (xml_landed,) = _landed(landing, "cms/xml")
    (json_landed,) = _landed(landing, "cms/json")
    assert xml_landed.suffix == ".xml" and json_landed.suffix == ".ndjson"
    assert json_landed.read_bytes() == sample_files["cms/json"].read_bytes()

    # --- CMS EDIFACT file drop ----------------------------------------------------------------
    drop = tmp_path / "edifact-drop"
    drop.mkdir()
    shutil.copy(sample_files["cms/edifact"], drop / "KENTRADE_0001.edi")
    run_flow(
        FLOWS / "cms_edifact_filedrop.json",
        {"source.directory": str(drop), "landing.directory": str(landing)},
        install=install,
        work_dir=tmp_path / "edifact",
    )
    (edi_landed,) = _landed(landing, "cms/edifact")
    assert edi_landed.read_bytes() == sample_files["cms/edifact"].read_bytes()

    for path in [*erp_files, hr_landed, xml_landed, json_landed, edi_landed]:
        match = NAME_RE.match(path.name)
        assert match, path.name
        feed = feed_of(str(path))
        assert (match["system"], match["feed"], match["ext"]) == (
            feed.system,
            feed.name,
            feed.extension,
        )

        assert hashlib.sha256(path.read_bytes()).hexdigest()[:12] == match["sha12"]
        assert path.parent.parent == landing / feed.key

    # --- Bronze ------------------------------------------------------------------------------
    # NiFi just wrote these files, whole (it lands by rename): no settle time to wait for.
    with override_settings(
        lake_root=lake.resolve().as_uri(), landing_settle_seconds=0.0
    ) as settings:
        init_lake(spark, settings)
        report = ingest_landing(spark, settings)
        assert report.files_ingested or report.total_records
        bronze = lambda t: spark.read.format("delta").load(settings.table_uri("bronze", t))  # noqa: E731
        rejected = bronze("quarantine").select("system", "feed", "reason").collect()
        # The sample was simulated without malformed messages: nothing may be rejected.
        assert rejected == [], rejected
        payments = {r.payment_id: r.amount for r in bronze("erp_payments").collect()}
        assert payments == {
            "PAY-1": Decimal("1234.5600"),
            "PAY-2": Decimal("-10.0100"),
            "PAY-3": Decimal("0.0001"),
        }
        hr_lines = [line for line in hr_source.read_text().splitlines() if line.strip()]
        hr_rows = sum(bronze(t).count() for t in ("hr_officers", "hr_postings", "hr_shifts"))
        assert hr_rows + len(rejected) == len(hr_lines) and bronze("hr_officers").count() > 0
        feeds = {
            r.feed: r.n
            for r in bronze("cms_declarations")
            .groupBy("_ingest.feed")
            .count()
            .withColumnRenamed("count", "n")
            .collect()
        }
        json_lines = len(
            [x for x in sample_files["cms/json"].read_text().splitlines() if x.strip()]
        )
        assert feeds.get("json") == json_lines and feeds.get("xml", 0) >= 1, feeds
        edi_messages = edi_landed.read_bytes().count(b"UNH+")
        edi_rows = sum(
            bronze(t).where("_ingest.feed = 'edifact'").count()
            for t in ("cms_declarations", "cms_responses", "cms_cargo_reports")
        )
        assert edi_rows == edi_messages > 0
    assert FEEDS["erp/payments"].extension == "ndjson"


def test_score_export_copies_scores_manifest_and_checksums(
    install: StatelessInstall, tmp_path: Path
) -> None:
    outbound, sent, drop = tmp_path / "outbound", tmp_path / "sent", tmp_path / "cms-drop"
    outbound.mkdir()
    files = {
        "scores_2026-11-25.csv": b"declaration_ref,score\nDEC-1,0.91\n",
        "scores_2026-11-25.csv.sha256": b"abc  scores_2026-11-25.csv\n",
        "manifest_2026-11-25.json": b'{"files": ["scores_2026-11-25.csv"]}\n',
    }
    for name, data in files.items():
        (outbound / name).write_bytes(data)
    run_flow(
        _directory_variant("scores_export", tmp_path),
        {
            "scores.outbound.directory": str(outbound),
            "scores.sent.directory": str(sent),
            "scores.cms.drop.directory": str(drop),
            "scores.export.cron": "0 0 4 * * ?",
        },
        install=install,
        work_dir=tmp_path / "run",
    )
    assert {p.name: p.read_bytes() for p in drop.iterdir()} == files
    assert {p.name for p in sent.iterdir()} == set(files)
    assert list(outbound.iterdir()) == []
