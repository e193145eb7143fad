"""Lineage gathered from NiFi flows, bronze parsers, dbt's manifest and declared runs.

No JVM: dbt's manifest comes from ``dbt parse`` (made once for the module's lake), and Atlas
is the v2 REST stand-in of ``tests/atlas_standin.py`` (Atlas cannot run here).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.lineage.collect import feed_tables, nifi_lineage
from governance.lineage.declare import cms_table, declare_run, model_version, outbound, table
from governance.lineage.store import LineageStore
from lakehouse.cli.main import main
from lakehouse.settings import override_settings
from tests.atlas_standin import serve

pytestmark = pytest.mark.unit
DAY = "2026-11-30"


@pytest.fixture(scope="module")
def lineage_lake(tmp_path_factory):
    """A lake with dbt's manifest parsed and one night's score and export runs declared."""
    root = tmp_path_factory.mktemp("lineage") / "lake"
    with override_settings(lake_root=root.resolve().as_uri()) as settings:
        declare_run(
            settings,
            job="score",
            run_id=f"score-{DAY}",
            inputs=[table("gold.ml_declaration_features"), model_version("risk", "3")],
            outputs=[table("scores.risk_scores")],
            attributes={"score_date": DAY},
        )
        declare_run(
            settings,
            job="export",
            run_id=f"export-{DAY}",
            inputs=[table("scores.risk_scores")],
            outputs=[outbound("scores", path=f"scores/{DAY}/scores.csv"), cms_table("risk_scores")],
            attributes={"export_date": DAY},
        )
        yield settings


def test_nifi_flows_link_source_systems_to_landing_feeds_and_exports_to_the_cms_drop() -> None:
    processes = {p.qualified_name: p for p in nifi_lineage() if hasattr(p, "inputs")}
    edifact = processes["nifi://cms_edifact_filedrop"]
    assert edifact.inputs == ("source://cms",)
    assert edifact.outputs == ("landing://cms/edifact",)
    assert processes["nifi://cms_http_ingest"].outputs == (
        "landing://cms/json",
        "landing://cms/xml",
    )
    export = processes["nifi://scores_export"]
    assert export.inputs == ("outbound://scores",)
    assert export.outputs == ("external://scores.cms.drop.directory",)
    # Every landing feed the parsers know writes at least one bronze table.
    assert all(feed_tables().values())
    assert feed_tables()["cms/edifact"] == (
        "cms_declarations",
        "cms_responses",
        "cms_cargo_reports",
    )


def test_trace_walks_an_export_back_to_its_flows_and_source_systems(lineage_lake, capsys) -> None:
    code = main(
        ["lineage", "trace", "--export-date", DAY, "--json", "--lake-root", lineage_lake.lake_root]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["runs"] == [f"export export-{DAY}"]
    assert {"CMS", "ECTS", "ERP"} <= set(out["source_systems"])
    assert {"CMS EDIFACT file drop", "ECTS MQTT events", "ERP payments"} <= set(out["flows"])
    assert "Score export to CMS" in out["flows"]  # forward: the outbound flow to the CMS
    assert {"bronze.cms_declarations", "gold.ml_declaration_features", "scores.risk_scores"} <= set(
        out["tables"]
    )


def test_show_prints_upstream_and_writes_svg_and_the_store_is_stable(
    lineage_lake, tmp_path, capsys
) -> None:
    image = tmp_path / "features.svg"
    args = ["lineage", "show", "gold.ml_declaration_features", "--up", "--svg", str(image)]
    assert main([*args, "--lake-root", lineage_lake.lake_root]) == 0
    text = capsys.readouterr().out
    assert "[nifi_flow CMS EDIFACT file drop]" in text
    assert "[dbt_model ml_declaration_features]  ->  gold.ml_declaration_features" in text
    assert "score" not in text  # --up: nothing downstream
    svg = image.read_text()
    assert svg.startswith("<svg") and "source_system: CMS" in svg
    store = LineageStore(lineage_lake)
    graph_file = Path(store.root.removeprefix("file://")) / "graph.json"
    before = graph_file.read_bytes()
    assert main([*args, "--lake-root", lineage_lake.lake_root]) == 0
    assert graph_file.read_bytes() == before
    # Declaring the same run again writes nothing.
    run = store.runs()[0]
    assert store.save_run(run) is False


def test_show_and_trace_reject_unknown_names_in_one_line(lineage_lake, capsys) -> None:
    root = ["--lake-root", lineage_lake.lake_root]
    assert main(["lineage", "show", "gold.nope", *root]) == 2
    assert main(["lineage", "trace", "--export-date", "1999-01-01", *root]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "gold.nope is not in the lineage graph" in err[0]
    assert "no export run for 1999-01-01" in err[1]


def test_publish_sends_valid_atlas_payloads_once(lineage_lake, capsys) -> None:
    server, _ = serve()
    url = f"http://127.0.0.1:{server.server_port}"
    args = [
        "lineage",
        "publish",
        "--atlas-url",
        url,
        "--json",
        "--lake-root",
        lineage_lake.lake_root,
    ]
    try:
        assert main(args) == 0
        first = json.loads(capsys.readouterr().out)
        standin = server.standin
        writes = [r for r in standin.requests if r[0] != "GET"]
        assert main(args) == 0
        second = json.loads(capsys.readouterr().out)
        again = [r for r in standin.requests if r[0] != "GET"][len(writes) :]
    finally:
        server.shutdown()
    assert "customs_lake_table" in first["types_created"] and first["entities_sent"] > 200
    assert second == {
        "types_created": [],
        "entities_sent": 0,
        "entities_unchanged": first["entities_sent"],
    }
    assert again == []  # a second publish changes nothing
    assert standin.types["customs_dbt_model"]["superTypes"] == ["Process"]
    assert standin.types["customs_lake_table"]["superTypes"] == ["DataSet"]
    export = standin.entities[("customs_spark_job", f"run://export/export-{DAY}")]["attributes"]
    assert export["inputs"] == [
        {
            "typeName": "customs_lake_table",
            "uniqueAttributes": {"qualifiedName": "lake://scores.risk_scores"},
        }
    ]
    column = standin.entities[("customs_lake_column", "lake://bronze.cms_declarations#lrn")]
    assert column["relationshipAttributes"]["table"]["uniqueAttributes"] == {
        "qualifiedName": "lake://bronze.cms_declarations"
    }


def test_publish_without_an_atlas_url_says_which_variable_to_set(
    lineage_lake, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("LAKEHOUSE_ATLAS_URL", raising=False)
    assert main(["lineage", "publish", "--lake-root", lineage_lake.lake_root]) == 2
    assert "set LAKEHOUSE_ATLAS_URL" in capsys.readouterr().err
