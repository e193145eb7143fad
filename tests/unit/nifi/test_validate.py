"""nifi_flows/validate.py: every shipped flow passes; broken flows fail with the fix named."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from nifi_flows import flowgen
from nifi_flows.stateless import prune_bundles
from nifi_flows.validate import (
    FLOWS_DIR,
    FlowValidationError,
    check_flow,
    load_environments,
    validate_all,
    validate_environment,
    validate_flow,
)

pytestmark = pytest.mark.unit

ENVS = load_environments()
SHIPPED = sorted(FLOWS_DIR.glob("*.json"))


def _flow(stem: str) -> dict:
    return json.loads((FLOWS_DIR / f"{stem}.json").read_text())


def _problems(flow: dict) -> str:
    return "\n".join(validate_flow(flow, name="x.json", environments=ENVS))


def _check(flow: dict) -> None:
    check_flow(flow, name="x.json", environments=ENVS)


def _erp_pool(flow: dict) -> dict:
    services = flow["flowContents"]["controllerServices"]
    return next(s for s in services if s["name"] == "ERP database")


def test_environments_are_local_test_prod() -> None:
    assert [e.name for e in ENVS] == ["local", "prod", "test"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_flow_is_valid(path: Path) -> None:
    assert validate_flow(json.loads(path.read_text()), name=path.name, environments=ENVS) == []


def test_whole_tree_is_valid() -> None:
    assert validate_all() == []


def test_generated_flows_are_committed_and_current() -> None:
    for stem, text in flowgen.build_all().items():
        assert (FLOWS_DIR / f"{stem}.json").read_text() == text, (
            f"{stem}.json is stale: run .venv/bin/python -m nifi_flows.flowgen"
        )


def test_missing_parameter_is_reported_with_fix() -> None:
    flow = _flow("erp_payments_db")
    ctx = flow["parameterContexts"]["ERP payments"]
    ctx["parameters"] = [p for p in ctx["parameters"] if p["name"] != "erp.db.url"]
    with pytest.raises(
        FlowValidationError, match=r"references parameter #\{erp\.db\.url\}.*add it to the context"
    ):
        _check(flow)


def test_parameter_missing_in_an_environment_file_is_reported() -> None:
    envs = copy.deepcopy(ENVS)
    del envs[1].parameters["erp.db.url"]  # prod
    problems = validate_flow(_flow("erp_payments_db"), name="erp.json", environments=envs)
    assert problems == [
        "erp.json: parameter #{erp.db.url} is not defined in prod.json: "
        'add "erp.db.url" to "parameters"'
    ]


def test_hard_coded_secret_is_reported() -> None:
    flow = _flow("erp_payments_db")
    _erp_pool(flow)["properties"]["Password"] = "Sup3rS3cret!"
    with pytest.raises(
        FlowValidationError,
        match=r"'ERP database' property 'Password' has a hard-coded value.*sensitive parameter",
    ):
        _check(flow)


def test_credential_looking_value_is_reported() -> None:
    flow = _flow("erp_payments_db")
    url = "jdbc:postgresql://db/erp?user=x&password=hunter2"
    _erp_pool(flow)["properties"]["Database Connection URL"] = url
    with pytest.raises(FlowValidationError, match="looks like a password in a URL"):
        _check(flow)


def test_secret_literal_in_environment_file_is_reported() -> None:
    env = copy.deepcopy(ENVS[0])
    env.parameters["erp.db.password"] = "hunter2"
    assert any("looks secret but has a literal value" in p for p in validate_environment(env))


def test_structure_problems_name_the_fix() -> None:
    flow = _flow("hr_daily_sync")
    contents = flow["flowContents"]
    contents["connections"][0]["destination"]["id"] = "nope"
    contents["processors"][1]["identifier"] = contents["processors"][0]["identifier"]
    put = next(p for p in contents["processors"] if p["name"] == "Write to landing directory")
    put["autoTerminatedRelationships"] = []
    contents["processors"][0]["bundle"]["version"] = "2.7.2"
    text = _problems(flow)
    assert "is not a processor, port or funnel of its group" in text
    assert "is used twice" in text
    assert "relationship 'success' is neither connected nor auto-terminated" in text
    assert "set the bundle version to 2.3.0" in text


def test_dangling_controller_service_reference_is_reported() -> None:
    flow = _flow("erp_payments_db")
    flow["flowContents"]["controllerServices"] = [
        s for s in flow["flowContents"]["controllerServices"] if s["name"] != "NDJSON writer"
    ]
    assert "neither in the flow nor in externalControllerServices" in _problems(flow)


def test_pruned_directory_variant_stays_valid() -> None:
    for stem in ("cms_http_ingest", "erp_payments_db", "hr_daily_sync"):
        pruned = prune_bundles(_flow(stem), ["nifi-aws-nar"])
        assert not any(
            p["bundle"]["artifact"] == "nifi-aws-nar" for p in pruned["flowContents"]["processors"]
        )
        assert validate_flow(pruned, name=stem, environments=ENVS) == []


def test_cli_validate_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import argparse

    import nifi_flows.validate as v
    from lakehouse.cli import flows

    parser = argparse.ArgumentParser(prog="lakehouse")
    flows.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["flows", "validate"])
    assert args.handler(args) == 0
    monkeypatch.setattr(
        v, "validate_all", lambda environment=None: ["x.json: something is wrong: fix it"]
    )
    assert args.handler(args) == 1
    assert "something is wrong" in capsys.readouterr().err
